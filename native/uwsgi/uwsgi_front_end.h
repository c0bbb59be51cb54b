// A uwsgi listener's requests (what nginx's uwsgi_pass sends): the packet parsed into a
// RequestHead, its own environ overrides (SERVER_*, HTTPS, scheme, a rewritten query),
// and the request record built from both. The parse's working state lives here, so a
// connection of an HTTP listener carries none of it. Plain C++: no libuv, no Node-API
// (unit-tested in unit/front_ends_test.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "../framing.h"
#include "../request_record.h"
#include "uwsgi_parser.h"

namespace tsgi {

class UwsgiFrontEnd {
 public:
  // nginx reads a uwsgi response to its Content-Length or to the close and sends one
  // request per connection: responses are framed as for HTTP/1.0 (a streamed body of
  // unknown length ends with the close), with Connection: close.
  static constexpr uint8_t kResponseMinor = 0;
  static constexpr bool kKeepAlive = false;

  // The packet at data (len bytes), its fields in headers[0..capacity). Complete: head()
  // is valid (spans into data) and *used is the packet's size; Error: error_status().
  UwsgiStatus parse(const char* data, size_t len, const UwsgiLimits& limits, HeaderField* headers,
                    size_t capacity, size_t* used);
  const RequestHead& head() const { return req_.head; }
  uint16_t error_status() const { return req_.head.error_status ? req_.head.error_status : 400; }
  // The head string and record of the packet just parsed (data still valid), with its
  // override entries after ctx's connection overrides.
  void build_record(RecordContext ctx, ByteBuffer* text, std::vector<int32_t>* record);

 private:
  UwsgiRequest req_;
  std::vector<EnvironEntry> entries_;
};

}  // namespace tsgi
