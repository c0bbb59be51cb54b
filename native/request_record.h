// The request record: what a parsed request head becomes for the application side (JS
// through src/native.ts today; any other consumer reads the same layout). Plain C++: no
// Node-API, no libuv, no Connection; unit-tested in native/unit/request_record_test.cc.
//
// Two parts. The head string (text): bytes, read as latin-1, one character per byte:
//
//   METHOD | TARGET (raw, as received) | PATH (percent-decoded) | REMOTE_ADDR |
//   per header: [environ key, only for names without a known id] VALUE |
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
//   [12..15]                unused
//   [16] kRecordHeaders     then 3 ints per header field, in arrival order:
//        id        known header id (known_headers.h), or 0
//        keyEnd    id 0: the environ key ("HTTP_" + name upper-cased, '-' as '_') is
//                  text[prevEnd, keyEnd); known ids: keyEnd == prevEnd
//        valueEnd  the value is text[keyEnd, valueEnd); prevEnd starts at addrEnd
//   Fields whose name holds '_' are left out (they would alias a '-' name's key).
//
// The same constants are REC_* and FLAG_* in src/native.ts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "framing.h"
#include "parser.h"

namespace tsgi {

constexpr size_t kRecordHeaders = 16;  // REC_HEADERS

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
};

enum RequestFlag : int32_t {
  kFlagKeepAlive = 1,    // the connection persists after this response (unless it says otherwise)
  kFlagHead = 2,         // REQUEST_METHOD is HEAD: no response body is sent
  kFlagChunkedBody = 4,  // the body arrived chunked
  kFlagTls = 8,          // the connection is TLS (https): HTTPS=on, tsgi.tls
};

// What the record says beside the head itself.
struct RecordContext {
  const char* remote_addr = nullptr;  // printable address, empty on Unix sockets
  size_t remote_addr_len = 0;
  int remote_port = 0;
  int local_port = 0;
  int listener = 0;
  bool keep_alive = false;  // the server's decision: kFlagKeepAlive
  bool tls = false;         // kFlagTls
};

// True when the method is HEAD.
bool is_head_method(const RequestHead& h);

// Writes the head string into text and the record into rec (both cleared first; rec
// grows to kRecordHeaders + 3 * h.header_count when smaller). kRecTrailersStart is the
// end of the text: trailers appended later start there.
void build_request_record(const RequestHead& h, const RecordContext& ctx, ByteBuffer* text,
                          std::vector<int32_t>* rec);

// Ints of rec in use: the fixed part and the header entries.
inline size_t record_ints(const std::vector<int32_t>& rec) {
  return kRecordHeaders + 3 * static_cast<size_t>(rec[kRecHeaderCount]);
}

}  // namespace tsgi
