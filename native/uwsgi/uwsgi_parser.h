// The uwsgi binary protocol's request packet (modifier1 0), as nginx's `uwsgi_pass` sends
// it: a pure function over a caller-owned byte span, like parse_request_head. No
// allocation, no Node; outputs are spans into the caller's buffer.
//
// Wire format (all integers little-endian):
//   header   modifier1 u8 (must be 0) | datasize u16 | modifier2 u8 (kept, not checked)
//   vars     datasize bytes of: key length u16, key, value length u16, value
//   body     CONTENT_LENGTH bytes follow the packet (not part of what is parsed here)
//
// The result fills the same RequestHead the HTTP parser fills, so the connection builds
// the request record the same way for both protocols, with these differences the record
// builder must apply for a uwsgi request (UwsgiRequest::head plus the fields beside it):
//   - header names are environ keys already ("HTTP_USER_AGENT", "CONTENT_LENGTH"): a
//     field whose `known` is 0 is written to the environ under its name as received
//     (no "HTTP_" prefix added, no upper-casing, underscores kept: nginx made the key);
//   - PATH_INFO is the PATH_INFO variable when the packet has one (nginx sends
//     $document_uri, already decoded and normalized), used as is, not decoded again;
//     otherwise the path of REQUEST_URI, decoded as an HTTP target's is;
//   - QUERY_STRING is the QUERY_STRING variable when present, otherwise the part of the
//     target after '?';
//   - REMOTE_ADDR, REMOTE_PORT, SERVER_NAME, SERVER_PORT, HTTPS and SERVER_PROTOCOL come
//     from the variables (see UwsgiRequest), not from the socket or the listener.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../parser.h"

namespace tsgi {

enum class UwsgiStatus : uint8_t {
  Complete,    // the whole packet was parsed; *consumed = 4 + datasize (the body follows)
  Incomplete,  // no error so far, but the packet is not complete: call again with more bytes
  Error,       // refused: head.error_status (400, or 431 over buffer_size) and error_reason
};

struct UwsgiLimits {
  // The largest datasize accepted (the vars block, the 4-byte header not counted), as
  // uWSGI's `buffer-size`; at most 65535 (the field is 16 bits).
  size_t buffer_size = 4096;
  // The most HTTP_* / CONTENT_* variables kept as header fields (also bounded by the
  // caller's capacity): more is 431, like too many header fields over HTTP.
  size_t max_headers = 100;
};

struct UwsgiRequest {
  // in/out: head.headers and head.header_capacity are caller storage, as for
  // parse_request_head. Out:
  //   head.method          REQUEST_METHOD (required, a token)
  //   head.target          REQUEST_URI when present, else PATH_INFO (see the note above:
  //                        with no REQUEST_URI the builder appends "?" QUERY_STRING to it
  //                        when the query is non-empty); never empty
  //   head.version_minor   0 for SERVER_PROTOCOL "HTTP/1.0", 1 otherwise (HTTP/1.1, and
  //                        HTTP/2.0 or HTTP/3.0 when nginx speaks those to the client)
  //   head.headers         the HTTP_* variables (minus HTTP_CONTENT_LENGTH and
  //                        HTTP_CONTENT_TYPE, which CONTENT_* supersede), then
  //                        CONTENT_TYPE and CONTENT_LENGTH when non-empty; names are the
  //                        variable keys, `known` the KnownHeader whose environ key the
  //                        name is (0 for others). CONTENT_LENGTH's value is its canonical
  //                        decimal (leading zeros skipped).
  //   head.body_kind       Length when CONTENT_LENGTH > 0, else None (never Chunked: nginx
  //                        sends the body whole, framed by CONTENT_LENGTH)
  //   head.content_length  that length
  //   head.keep_alive      true (whether the connection serves another packet after the
  //                        response is the connection's decision, not the packet's)
  UwsgiRequest() = default;
  RequestHead head;

  uint8_t modifier2 = 0;
  Span request_uri;      // REQUEST_URI
  bool has_request_uri = false;
  Span path_info;        // PATH_INFO
  bool has_path_info = false;
  Span query_string;     // QUERY_STRING
  bool has_query_string = false;
  Span protocol;         // SERVER_PROTOCOL as sent ("" when absent: read as HTTP/1.1)
  Span remote_addr;      // REMOTE_ADDR ("" when absent)
  uint16_t remote_port = 0;  // REMOTE_PORT (0 when absent or empty)
  Span server_name;      // SERVER_NAME ("" when absent)
  Span server_port;      // SERVER_PORT as sent (digits, "" when absent)
  Span scheme;           // UWSGI_SCHEME, else REQUEST_SCHEME ("" when neither)
  // HTTPS is "on" or "1" (any case), or the scheme above is "https".
  bool https = false;
  size_t var_count = 0;  // every variable in the packet, kept or not
};

// Parses the uwsgi request packet at the start of [data, data + len). Incomplete input
// is checked as far as it goes (modifier1 after one byte, datasize against buffer_size
// after three) and re-parsed from the start on the next call; *consumed is set only on
// Complete (0 otherwise).
//
// Refused (400 unless noted):
//   - modifier1 other than 0;
//   - datasize over limits.buffer_size (431);
//   - a variable whose key or value length runs past datasize, or a lone byte at the end;
//   - an empty key, or a key with bytes outside 0x21..0x7E;
//   - a missing or empty REQUEST_METHOD, or one that is not an HTTP token;
//   - neither REQUEST_URI nor PATH_INFO, or both empty; a REQUEST_URI or PATH_INFO with
//     bytes outside 0x21..0x7E and 0x80..0xFF (PATH_INFO is decoded: spaces and obs-text
//     are kept, CR, LF, NUL and other controls are not);
//   - CONTENT_LENGTH that is not plain decimal (empty means no body) or over 2^63-1;
//   - any of REQUEST_METHOD, REQUEST_URI, PATH_INFO, QUERY_STRING, CONTENT_LENGTH,
//     CONTENT_TYPE, HTTP_HOST, SERVER_PROTOCOL, REMOTE_ADDR, REMOTE_PORT, SERVER_NAME,
//     SERVER_PORT or HTTPS given twice;
//   - REMOTE_PORT or SERVER_PORT that is not a decimal 0..65535 (empty is absent);
//   - a header value (HTTP_*, CONTENT_*) with CR, LF, NUL or another control byte but
//     HTAB, or DEL (the HTTP parser's field-value rule);
//   - more header fields than limits.max_headers or the caller's capacity (431).
// Other variables (DOCUMENT_ROOT, REQUEST_SCHEME, UWSGI_*, ...) are walked and checked for
// structure only, and not passed on.
UwsgiStatus parse_uwsgi_packet(const char* data, size_t len, const UwsgiLimits& limits,
                               UwsgiRequest* req, size_t* consumed);

// The KnownHeader id whose environ key (kKnownHeaderKeys) is exactly [key, key + len),
// or 0: "HTTP_USER_AGENT" → kHeaderUserAgent, "CONTENT_TYPE" → kHeaderContentType.
uint16_t known_header_id_for_environ_key(const char* key, size_t len);

}  // namespace tsgi
