// The request record: what a parsed request head becomes for the application side (JS
// through src/native.ts today; any other consumer reads the same layout). Plain C++: no
// Node-API, no libuv, no Connection; unit-tested in native/unit/request_record_test.cc.
//
// Two parts. The head string (text): bytes, read as latin-1, one character per byte:
//
//   METHOD | TARGET (raw, as received) | PATH (percent-decoded) | REMOTE_ADDR |
//   per header: [environ key, only for names without a known id] VALUE |
//   per override: ENVIRON KEY VALUE |
//   trailer fields of a chunked body, "name:value\n" each (appended by the connection
//   once the body ended)
//
// The record (int32 array), positions being offsets into the head string:
//
//   [0]  kRecVersionMinor   0 or 1 (major is always 1)
//   [1]  kRecMethodEnd      REQUEST_METHOD = text[0, methodEnd)
//   [2]  kRecTargetEnd      REQUEST_URI    = text[methodEnd, targetEnd)
//   [3]  kRecQueryStart     QUERY_STRING   = text[queryStart, targetEnd), or none when -1
//   [4]  kRecPathEnd        PATH_INFO      = text[targetEnd, pathEnd): the path part of the
//                           target (absolute-form: after scheme and authority, "/" when
//                           empty), %XX decoded to bytes (an invalid escape stays as is)
//   [5]  kRecAddrEnd        REMOTE_ADDR    = text[pathEnd, addrEnd) (empty on Unix sockets)
//   [6]  kRecRemotePort     0 on Unix sockets
//   [7]  kRecLocalPort      the accepting listener's port (0 on Unix sockets)
//   [8]  kRecListener       that listener's index, in listen order
//   [9]  kRecFlags          kFlag* bits
//   [10] kRecHeaderCount    header entries that follow
//   [11] kRecTrailersStart  text[trailersStart, end): the trailer fields (chunked bodies)
//   [12] kRecOverrideCount  override entries after the header entries
//   [13..15]                unused
//   [16] kRecordHeaders     then 3 ints per header field, in arrival order:
//        id        known header id (known_headers.h) > 0; for another name, minus its
//                  key's code (header_name_codes.h: the same key text, the same code)
//                  when ctx.name_codes gives one, else 0
//        keyEnd    id <= 0: the environ key ("HTTP_" + name upper-cased, '-' as '_') is
//                  text[prevEnd, keyEnd); known ids: keyEnd == prevEnd
//        valueEnd  the value is text[keyEnd, valueEnd); prevEnd starts at addrEnd
//   Fields whose name holds '_' are left out (they would alias a '-' name's key).
//   Then 3 ints per override entry, the same way with id 0: environ keys the listener's
//   protocol sets outright instead of adding a header (EnvironEntry: from a PROXY
//   protocol header 'tsgi.proxy.<name>', HTTPS, wsgi.url_scheme; from a uwsgi packet
//   SERVER_NAME, SERVER_PORT, SERVER_PROTOCOL, HTTPS, wsgi.url_scheme, QUERY_STRING).
//
// A uwsgi request (build_uwsgi_request_record) has the same layout, from the packet's
// variables (uwsgi/uwsgi_parser.h): the target is REQUEST_URI (or PATH_INFO "?"
// QUERY_STRING), PATH is PATH_INFO as sent (nginx decoded it) or else REQUEST_URI's
// decoded path, REMOTE_ADDR/REMOTE_PORT are the packet's when it has them, header
// names are environ keys already (written as sent for id 0), kFlagUwsgi is set.
//
// The same constants are REC_* and FLAG_* in src/native.ts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "framing.h"
#include "header_name_codes.h"
#include "parser.h"
#include "uwsgi/uwsgi_parser.h"

namespace tsgi {

constexpr size_t kRecordHeaders = 16;  // REC_HEADERS
constexpr size_t kMaxOverrides = 32;   // override entries at most (more are left out)

enum RecordIndex : int {
  kRecVersionMinor = 0,
  kRecMethodEnd = 1,
  kRecTargetEnd = 2,
  kRecQueryStart = 3,
  kRecPathEnd = 4,
  kRecAddrEnd = 5,
  kRecRemotePort = 6,
  kRecLocalPort = 7,
  kRecListener = 8,
  kRecFlags = 9,
  kRecHeaderCount = 10,
  kRecTrailersStart = 11,
  kRecOverrideCount = 12,
};

// Bit 1 is unused: whether the connection persists is decided when the response starts
// (Connection::start_response), from the request, the response and the server's state.
enum RequestFlag : int32_t {
  kFlagHead = 2,         // REQUEST_METHOD is HEAD (information only: the core sends no body)
  kFlagChunkedBody = 4,  // the body arrived chunked
  kFlagUwsgi = 8,        // a uwsgi packet (never keep-alive: one request per connection)
  kFlagTls = 16,         // the connection is TLS (https): HTTPS=on, tsgi.tls
  kFlagPipelined = 32,   // more bytes of the same read follow: Connection::next_pipelined may have the next request
};

// An environ key set outright by the listener's protocol (an override entry).
struct EnvironEntry {
  std::string key;
  std::string value;
};

// What the record says beside the head itself.
struct RecordContext {
  const char* remote_addr = nullptr;  // printable address, empty on Unix sockets
  size_t remote_addr_len = 0;
  int remote_port = 0;
  int local_port = 0;
  int listener = 0;
  bool tls = false;         // kFlagTls
  // Override entries: the connection's (PROXY protocol), then the request's own (uwsgi).
  const std::vector<EnvironEntry>* connection_overrides = nullptr;
  const std::vector<EnvironEntry>* request_overrides = nullptr;
  // Codes for the keys of names without a known id (negative ids); none without it.
  HeaderNameCodes* name_codes = nullptr;
};

// True when the method is HEAD.
bool is_head_method(const RequestHead& h);

// Writes the head string into text and the record into rec (both cleared first; rec
// grows to kRecordHeaders + 3 * h.header_count when smaller). kRecTrailersStart is the
// end of the text: trailers appended later start there.
void build_request_record(const RequestHead& h, const RecordContext& ctx, ByteBuffer* text,
                          std::vector<int32_t>* rec);

// The same for a uwsgi request (the layout above); ctx.remote_addr and remote_port are
// used when the packet has no REMOTE_ADDR.
void build_uwsgi_request_record(const UwsgiRequest& u, const RecordContext& ctx, ByteBuffer* text,
                                std::vector<int32_t>* rec);

// Ints of rec in use: the fixed part, the header entries and the override entries.
inline size_t record_ints(const std::vector<int32_t>& rec) {
  return kRecordHeaders + 3 * static_cast<size_t>(rec[kRecHeaderCount] + rec[kRecOverrideCount]);
}

}  // namespace tsgi
