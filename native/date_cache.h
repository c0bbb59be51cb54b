// The Date header line, formatted once per second (a timer in the server refreshes
// it) instead of once per response. Plain C++.
#pragma once

#include <cstddef>
#include <ctime>

namespace tsgi {

class DateCache {
 public:
  DateCache() { update(std::time(nullptr)); }
  // Reformats the line when the second changed.
  void update(std::time_t now);
  // "Date: Tue, 24 Nov 2026 16:44:54 GMT\r\n"
  const char* line() const { return line_; }
  size_t line_len() const { return kLineLen; }

  static constexpr size_t kLineLen = 37;

 private:
  std::time_t last_ = -1;
  char line_[kLineLen + 1] = {};
};

// IMF-fixdate (RFC 9110 §5.6.7) of t into out: exactly 29 bytes, no terminator.
void format_http_date(std::time_t t, char* out);

}  // namespace tsgi
