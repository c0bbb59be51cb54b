// The HTTP/1.1 request parser: a pure function over a caller-owned byte span.
// No allocation, no callbacks, no globals, no Node: it builds and is tested and
// fuzzed as plain C++. Fields are spans into the caller's buffer; nothing is copied.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tsgi {

struct Span {
  const char* data = nullptr;
  size_t len = 0;
};

enum class ParseStatus : uint8_t {
  Complete,  // a whole request head was parsed; *consumed = its size including the blank line
  Partial,   // no error so far, but the head is not complete: call again with more bytes
  Error,     // the request is refused: head->error_status says how (400, 414, 417, 431, 501, 505)
};

// Values are spans of the received bytes, with two rewrites (still spans into the input):
// every Content-Length value is the canonical decimal of the body size ("005, 5" → "5"),
// and with an absolute-form target the Host value is the target's authority (RFC 9112
// §3.2.2). An HTTP/1.0 absolute-form request without Host gets a Host field added last,
// whose name points at a static "Host" instead of into the input.
struct HeaderField {
  Span name;       // as received (case kept)
  Span value;      // leading and trailing SP/HTAB trimmed
  uint16_t known;  // KnownHeader id from known_headers.h, 0 for any other name
};

struct ParseLimits {
  size_t max_request_line = 8190;   // longer: 414
  size_t max_header_size = 16384;  // the whole head (request line + fields): 431
  size_t max_headers = 100;         // more fields: 431 (never more than the caller's capacity)
};

enum class BodyKind : uint8_t {
  None,     // no body (no Content-Length, no Transfer-Encoding, or Content-Length: 0)
  Length,   // content_length bytes follow the head
  Chunked,  // chunked transfer coding: feed the bytes after the head to ChunkedDecoder
};

struct RequestHead {
  // in: caller-owned storage for the header fields
  HeaderField* headers = nullptr;
  size_t header_capacity = 0;

  // out
  Span method;
  Span target;  // the raw request-target, as received (origin-form, http(s) absolute-form, or
                // "*" with OPTIONS: nothing else is Complete)
  uint8_t version_major = 1;
  uint8_t version_minor = 1;
  size_t header_count = 0;
  BodyKind body_kind = BodyKind::None;
  uint64_t content_length = 0;  // valid when body_kind == Length
  bool keep_alive = true;       // by version and the Connection header
  bool expect_continue = false; // "Expect: 100-continue" on HTTP/1.1
  uint16_t error_status = 0;    // set when ParseStatus::Error
  const char* error_reason = "";  // a short static description for logs
};

// Parses the request head at the start of [data, data + len). Leading empty lines (CRLF)
// before the request line are skipped and counted in *consumed (and toward
// max_header_size). Partial input is re-parsed from the start on the next call. A Partial
// result still enforces the limits (an over-long request line gives 414, an over-large head
// 431, before the end arrives). *consumed is set only on Complete (0 otherwise).
// max_request_line counts the request line without its CRLF; max_header_size counts the
// whole head, the final empty line included.
//
// Decisions beyond the RFC's MUSTs (all tested in native/test/parser_test.cc):
//   - versions: only HTTP/1.0 and HTTP/1.1; HTTP/<d>.<d> with another major is 505,
//     HTTP/1.2 and any other spelling 400;
//   - Host: more than one, or an invalid one, is 400 on any version; missing is 400 on
//     HTTP/1.1; an empty value is accepted (a target without authority);
//   - request-target (RFC 9112 §3.2): origin-form; absolute-form only with the http or
//     https scheme (any case), a non-empty host and no userinfo; "*" only with OPTIONS
//     (case-sensitive method); anything else 400. Origin-form is told by its first byte,
//     so the common request pays nothing more;
//   - CONNECT: 501 whatever its target (tsgi does not tunnel; 405 would need Allow);
//   - Content-Length: 1*DIGIT up to 2^63-1; a list or repeated fields fold only when every
//     element is identical; empty elements are 400; the values read as the canonical
//     decimal afterwards (see HeaderField);
//   - Content-Type: more than one field is 400 (the media type would be ambiguous);
//   - Transfer-Encoding: 400 for framing faults (with Content-Length, on HTTP/1.0, final
//     coding not chunked, chunked twice or with parameters, empty elements), then 501 for
//     any coding other than chunked;
//   - Expect: 100-continue (any case, repeated) or empty is accepted; anything else is 417,
//     on HTTP/1.0 too;
//   - status precedence when several apply: syntax and limits in byte order, then 400s
//     of the semantics (Host, Content-Type, the target form, Content-Length and
//     Transfer-Encoding), then 501 (transfer coding, CONNECT), then 417. The Host field
//     an HTTP/1.0 absolute-form request gets counts toward max_headers (431 past it).
ParseStatus parse_request_head(const char* data, size_t len, const ParseLimits& limits,
                               RequestHead* head, size_t* consumed);

enum class ChunkStatus : uint8_t {
  Data,      // *out is a run of body bytes inside the input; *consumed covers it
  NeedMore,  // all input consumed (*consumed == len), no data to hand out: wait for more
  Done,      // the last chunk and the trailer section ended; *consumed ends after them
  Error,     // malformed or over a limit: error_status() says which (400, also for a trailer
             // field that is not allowed there; 413 for chunk extensions over
             // max_extension_bytes; 431 for trailers over max_trailer_bytes)
};

struct ChunkedLimits {
  size_t max_extension_bytes = 4096;  // chunk extensions, in total per message
  size_t max_trailer_bytes = 8192;    // trailer section, in total (its final CRLF included)
};

// Receives the trailer fields a ChunkedDecoder accepts (RFC 9112 §7.1.2), as they are
// decoded: for each field, field_bytes() runs that together are "name:value" (the name as
// received, the value without its leading whitespace), then field_end(n), where the last
// n bytes given are whitespace that ends the value and is not part of it. A refused
// trailer section may leave a partial field behind; the request is refused then.
class TrailerSink {
 public:
  virtual void field_bytes(const char* p, size_t n) = 0;
  virtual void field_end(size_t trailing_ows) = 0;

 protected:
  ~TrailerSink() = default;
};

// True when a field of this name may be sent in a trailer section and handed to the
// application: RFC 9110 §6.5.1 leaves out the fields needed before the content can be
// processed. Refused (the decoder answers 400): framing (Content-Length,
// Transfer-Encoding, Trailer, TE, Connection, Keep-Alive, Upgrade), routing (Host),
// request modifiers (Expect, Max-Forwards, Range, Cache-Control, Pragma, If-*),
// authentication (Authorization, Cookie, Set-Cookie, Proxy-*) and the content's format
// (Content-Type, Content-Encoding, Content-Range). ASCII case-insensitive.
bool trailer_field_allowed(const char* name, size_t len);

// Incremental decoder of a chunked request body. Stateful across calls; zero-copy:
// data runs are spans into the caller's input. Trailer fields are validated, those not
// allowed in a trailer refused (400), and the others handed to the TrailerSink when one
// is given (dropped otherwise). No allocation.
class ChunkedDecoder {
 public:
  explicit ChunkedDecoder(ChunkedLimits limits = {}, TrailerSink* trailers = nullptr)
      : limits_(limits), trailers_(trailers) {}
  ChunkStatus feed(const char* data, size_t len, size_t* consumed, Span* out);
  uint16_t error_status() const { return error_status_; }
  const char* error_reason() const { return error_reason_; }

 private:
  static constexpr size_t kNameKept = 24;  // longer than every refused trailer name

  ChunkedLimits limits_;
  TrailerSink* trailers_;
  uint8_t state_ = 0;
  uint64_t remaining_ = 0;      // bytes left in the current chunk
  size_t size_digits_ = 0;
  size_t extension_bytes_ = 0;
  size_t trailer_bytes_ = 0;
  size_t name_len_ = 0;         // bytes of the current trailer field name
  size_t value_ows_ = 0;        // whitespace bytes at the current end of a trailer value
  char name_[kNameKept] = {};   // the first kNameKept bytes of that name
  uint16_t error_status_ = 0;
  const char* error_reason_ = "";
};

}  // namespace tsgi
