// The server's health path (ServerLimits::health_path), answered by the core: a load
// balancer's or Kubernetes probe's view of this worker, without the application. 200
// while serving; 503 with Connection: close once it drains for a stop or reload. Not
// counted as a request, never seen by the application, the access log or the stats.
// Plain C++ (unit-tested in unit/front_ends_test.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace tsgi {

// The request in (record, text) is for path: its path (percent-decoded, without the
// query) is exactly path. path is not empty.
bool is_health_request(const int32_t* record, const char* text, const std::string& path);

struct HealthAnswer {
  int status;
  const char* head;  // the status line without "HTTP/1.1 " and the header lines (CRLF each)
  size_t head_len;
  const char* body;
  size_t body_len;
  bool close;        // the connection closes after it
};

HealthAnswer health_answer(bool draining);

}  // namespace tsgi
