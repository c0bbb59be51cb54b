// The health path's answer; see health_check.h.
#include "health_check.h"

#include <cstring>

#include "request_record.h"

namespace tsgi {

bool is_health_request(const int32_t* record, const char* text, const std::string& path) {
  size_t start = static_cast<size_t>(record[kRecTargetEnd]);
  size_t end = static_cast<size_t>(record[kRecPathEnd]);
  return end - start == path.size() && std::memcmp(text + start, path.data(), path.size()) == 0;
}

HealthAnswer health_answer(bool draining) {
  static const char kOkHead[] = "200 OK\r\nContent-Type: text/plain\r\nCache-Control: no-store\r\n";
  static const char kDrainingHead[] =
      "503 Service Unavailable\r\nContent-Type: text/plain\r\nCache-Control: no-store\r\nRetry-After: 1\r\n";
  static const char kOk[] = "OK\n";
  static const char kDraining[] = "draining\n";
  if (draining) return HealthAnswer{503, kDrainingHead, sizeof kDrainingHead - 1, kDraining, sizeof kDraining - 1, true};
  return HealthAnswer{200, kOkHead, sizeof kOkHead - 1, kOk, sizeof kOk - 1, false};
}

}  // namespace tsgi
