// Canned error responses, one table: every refusal the native core sends on its own
// (parse errors, limits, timeouts, overload). Each closes the connection.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tsgi {

struct CannedResponse {
  uint16_t status;
  const char* bytes;  // the whole response, status line to body
  size_t len;
};

namespace detail {
template <size_t N>
constexpr size_t literal_len(const char (&)[N]) { return N - 1; }
}  // namespace detail

// The table is written out in full so each entry's Content-Length is visible.
inline constexpr CannedResponse kCannedResponses[] = {
#define E(code, text) {code, text, detail::literal_len(text)}
    E(400, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 11\r\nConnection: close\r\n\r\nBad Request"),
    E(408, "HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain\r\nContent-Length: 15\r\nConnection: close\r\n\r\nRequest Timeout"),
    E(413, "HTTP/1.1 413 Content Too Large\r\nContent-Type: text/plain\r\nContent-Length: 17\r\nConnection: close\r\n\r\nContent Too Large"),
    E(414, "HTTP/1.1 414 URI Too Long\r\nContent-Type: text/plain\r\nContent-Length: 12\r\nConnection: close\r\n\r\nURI Too Long"),
    E(417, "HTTP/1.1 417 Expectation Failed\r\nContent-Type: text/plain\r\nContent-Length: 18\r\nConnection: close\r\n\r\nExpectation Failed"),
    E(431, "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain\r\nContent-Length: 31\r\nConnection: close\r\n\r\nRequest Header Fields Too Large"),
    E(500, "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: 21\r\nConnection: close\r\n\r\nInternal Server Error"),
    E(501, "HTTP/1.1 501 Not Implemented\r\nContent-Type: text/plain\r\nContent-Length: 15\r\nConnection: close\r\n\r\nNot Implemented"),
    E(503, "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 19\r\nConnection: close\r\n\r\nService Unavailable"),
    E(505, "HTTP/1.1 505 HTTP Version Not Supported\r\nContent-Type: text/plain\r\nContent-Length: 26\r\nConnection: close\r\n\r\nHTTP Version Not Supported"),
#undef E
};

// The canned response for status, or the 400 one for a status not in the table.
inline const CannedResponse& canned_response(uint16_t status) {
  for (const CannedResponse& r : kCannedResponses)
    if (r.status == status) return r;
  return kCannedResponses[0];
}

inline constexpr char kContinueResponse[] = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace tsgi
