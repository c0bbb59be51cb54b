// The HTTP/1.1 request head parser (RFC 9112 §2-§3, §5-§6; RFC 9110 for the semantics of
// Host, Content-Length, Transfer-Encoding, Connection and Expect). Strict, server side.
//
// One pass over the bytes, left to right, deciding every syntax error at the first byte
// that makes it certain. Because of that, a prefix of any input either gives Partial or
// the same error the whole input gives, which the table tests check for every prefix.
// The semantic checks run once the head is complete, over the known-header ids.
#include "parser.h"

#include <cstring>

#if defined(__SSE2__) && !defined(TSGI_PARSER_NO_SIMD)
#include <emmintrin.h>
#endif

#include "http_chars.h"
#include "known_headers.h"

namespace tsgi {
namespace {

// ---- character classes -------------------------------------------------------------

enum : uint8_t {
  kTchar = 1,   // token: RFC 9110 §5.6.2
  kTarget = 2,  // request-target bytes: VCHAR and obs-text (raw non-ASCII passes through)
  kValue = 4,   // field-value bytes: HTAB, SP, VCHAR, obs-text (RFC 9110 §5.5)
  kHex = 8,
  kHost = 16,   // reg-name bytes other than '%': unreserved and sub-delims (RFC 3986 §3.2.2)
};

struct CharTable {
  uint8_t bits[256];
};

constexpr CharTable make_char_table() {
  CharTable t{};
  for (unsigned c = 0; c < 256; ++c) {
    uint8_t b = 0;
    if (is_tchar_byte(c)) b |= kTchar;
    const bool vchar = c >= 0x21 && c <= 0x7E;
    const bool obs_text = c >= 0x80;
    if (vchar || obs_text) b |= kTarget;
    if (vchar || obs_text || c == ' ' || c == '\t') b |= kValue;
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) b |= kHex;
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) b |= kHost;
    switch (c) {
      case '-': case '.': case '_': case '~':                                  // unreserved
      case '!': case '$': case '&': case '\'': case '(': case ')': case '*':   // sub-delims
      case '+': case ',': case ';': case '=':
        b |= kHost;
        break;
      default:
        break;
    }
    t.bits[c] = b;
  }
  return t;
}

constexpr CharTable kChars = make_char_table();

inline bool has(char c, uint8_t cls) { return (kChars.bits[static_cast<unsigned char>(c)] & cls) != 0; }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }

// ---- word-at-a-time scanning --------------------------------------------------------
// Names, values and targets are nearly all of a head's bytes. Eight bytes are classified
// at once with exact per-byte masks (0x80 in each byte that stops the run; the adds work
// on 7-bit bytes so no carry crosses into a neighbour); the first stop is found with a
// count of trailing zeros. Big-endian machines look at a stopping word byte by byte.
// With SSE2, values and targets go sixteen bytes at a time first. TSGI_PARSER_NO_SIMD
// turns that off (the tests build both ways).

constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHighs = 0x8080808080808080ull;
constexpr uint64_t kLows = 0x7F7F7F7F7F7F7F7Full;

inline uint64_t load8(const char* p) {
  uint64_t x;
  std::memcpy(&x, p, 8);
  return x;
}
// Bytes below n (n <= 0x80).
inline uint64_t bytes_below(uint64_t x, uint64_t n) {
  return ~((x & kLows) + kOnes * (0x80 - n)) & ~x & kHighs;
}
// Bytes equal to c.
inline uint64_t bytes_equal(uint64_t x, uint64_t c) {
  const uint64_t y = x ^ (kOnes * c);
  return ~(((y & kLows) + kLows) | y) & kHighs;
}
// ASCII bytes in [lo, hi].
inline uint64_t bytes_in(uint64_t x, uint64_t lo, uint64_t hi) {
  const uint64_t x7 = x & kLows;
  return (x7 + kOnes * (0x80 - lo)) & ~(x7 + kOnes * (0x7F - hi)) & ~x & kHighs;
}

// Each run kind says which bytes may stop it: `word` for eight bytes, `vec` (when SSE2
// is there, as on every x86-64) for sixteen. Both may flag a byte that is inside the
// class (HTAB in a value); the byte check then lets it through.
struct NameRun {  // the common field-name bytes: letters, digits, '-'
  static uint64_t word(uint64_t x) {
    const uint64_t ok = bytes_in(x | (kOnes * 0x20), 'a', 'z') | bytes_in(x, '0', '9') | bytes_equal(x, '-');
    return ~ok & kHighs;
  }
  static constexpr bool kVec = false;
};
struct ValueRun {  // a value stops at a CTL (HTAB too) or DEL
  static constexpr char kMaxCtl = 0x1F;
  static uint64_t word(uint64_t x) { return bytes_below(x, kMaxCtl + 1) | bytes_equal(x, 0x7F); }
  static constexpr bool kVec = true;
};
struct TargetRun {  // a target stops at a CTL, SP or DEL
  static constexpr char kMaxCtl = 0x20;
  static uint64_t word(uint64_t x) { return bytes_below(x, kMaxCtl + 1) | bytes_equal(x, 0x7F); }
  static constexpr bool kVec = true;
};

#if defined(__SSE2__) && !defined(TSGI_PARSER_NO_SIMD)
// Bytes <= max_ctl (unsigned) or DEL, as a 16-bit mask.
inline unsigned vec_stops(const char* p, char max_ctl) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i ctl = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(max_ctl)), v);
  const __m128i del = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7F));
  return static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(ctl, del)));
}
#endif

// Advances p over bytes of class cls, up to end.
template <typename Run>
inline const char* scan(const char* p, const char* end, uint8_t cls) {
  if constexpr (Run::kVec) {
#if defined(__SSE2__) && !defined(TSGI_PARSER_NO_SIMD)
    while (end - p >= 16) {
      const unsigned stop = vec_stops(p, Run::kMaxCtl);
      if (stop == 0) {
        p += 16;
        continue;
      }
      p += __builtin_ctz(stop);
      if (!has(*p, cls)) return p;
      ++p;
    }
#endif
  }
  while (end - p >= 8) {
    const uint64_t stop = Run::word(load8(p));
    if (stop == 0) {
      p += 8;
      continue;
    }
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    p += __builtin_ctzll(stop) >> 3;
    if (!has(*p, cls)) return p;
    ++p;
#else
    const char* w = p + 8;
    while (p < w && has(*p, cls)) ++p;
    if (p < w) return p;
#endif
  }
  while (p < end && has(*p, cls)) ++p;
  return p;
}

inline ParseStatus fail(RequestHead* head, uint16_t status, const char* reason) {
  head->error_status = status;
  head->error_reason = reason;
  return ParseStatus::Error;
}

// Calls fn(begin, len) for each element of a comma-separated list value, OWS trimmed.
// Empty elements are passed too (len 0); the caller decides what they mean.
template <typename Fn>
inline bool for_each_element(Span value, Fn&& fn) {
  const char* p = value.data;
  const char* end = p + value.len;
  for (;;) {
    const char* comma = p;
    while (comma < end && *comma != ',') ++comma;
    const char* b = p;
    const char* e = comma;
    while (b < e && is_ows(*b)) ++b;
    while (e > b && is_ows(e[-1])) --e;
    if (!fn(b, static_cast<size_t>(e - b))) return false;
    if (comma == end) return true;
    p = comma + 1;
  }
}

// ---- Host (RFC 9110 §7.2, RFC 3986 §3.2.2-§3.2.3) --------------------------------------

inline bool is_unreserved_or_sub_delim(char c) { return has(c, kHost); }

// uri-host [ ":" port ], where uri-host is an IP-literal ("[" ... "]") or a reg-name
// (IPv4 addresses are reg-name spellings). Empty is valid: a request whose target has
// no authority sends an empty Host.
bool valid_host(Span v) {
  const char* p = v.data;
  const char* end = p + v.len;
  if (p < end && *p == '[') {
    ++p;
    const char* start = p;
    // IPv6address / IPvFuture, and a "%25" zone id (RFC 6874): hex, ':', '.', 'v', and
    // the unreserved / sub-delims / '%' that IPvFuture and zone ids allow.
    while (p < end && *p != ']') {
      if (!is_unreserved_or_sub_delim(*p) && *p != ':' && *p != '%') return false;
      ++p;
    }
    if (p == end || p == start) return false;
    ++p;  // ']'
  } else {
    while (p < end && *p != ':') {
      if (*p == '%') {
        if (end - p < 3 || !has(p[1], kHex) || !has(p[2], kHex)) return false;
        p += 3;
        continue;
      }
      if (!is_unreserved_or_sub_delim(*p)) return false;
      ++p;
    }
  }
  if (p == end) return true;
  if (*p != ':') return false;
  ++p;
  if (end - p > 5) return false;  // port = *DIGIT; more than 5 digits is never a port
  for (; p < end; ++p) {
    if (!is_digit(*p)) return false;
  }
  return true;
}

// ---- Content-Length (RFC 9110 §8.6) ---------------------------------------------------

// Largest accepted length: it must fit in int64 (and so survive signed arithmetic and
// off_t downstream); the connection's body limit refuses anything near it with 413.
constexpr uint64_t kMaxContentLength = 0x7FFFFFFFFFFFFFFFull;

// Parses one Content-Length field value into *seen / *out, folding identical repeated
// elements ("5, 5") and values of earlier fields. Returns false when malformed or differing.
bool fold_content_length(Span value, bool* seen, uint64_t* out) {
  return for_each_element(value, [&](const char* b, size_t n) {
    if (n == 0) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) {
      if (!is_digit(b[i])) return false;
      const uint64_t d = static_cast<uint64_t>(b[i] - '0');
      if (v > (kMaxContentLength - d) / 10) return false;
      v = v * 10 + d;
    }
    if (*seen && v != *out) return false;
    *seen = true;
    *out = v;
    return true;
  });
}

// ---- Transfer-Encoding (RFC 9112 §6.1, §6.3) --------------------------------------------

struct Codings {
  bool malformed = false;   // empty element, or a coding that is not a token
  bool other = false;       // some coding other than chunked
  bool last_chunked = false;
  unsigned chunked = 0;     // times chunked appears
};

void scan_codings(Span value, Codings* c) {
  for_each_element(value, [&](const char* b, size_t n) {
    if (n == 0) {
      c->malformed = true;
      return true;
    }
    // transfer-coding = token *( OWS ";" OWS transfer-parameter ): the name ends at OWS or ';'
    size_t name_len = 0;
    while (name_len < n && has(b[name_len], kTchar)) ++name_len;
    if (name_len == 0) {
      c->malformed = true;
      return true;
    }
    const bool params = name_len < n;
    if (params) {
      size_t i = name_len;
      while (i < n && is_ows(b[i])) ++i;
      if (i == n || b[i] != ';') c->malformed = true;
    }
    if (ieq(b, name_len, "chunked")) {
      if (params) c->malformed = true;  // chunked takes no parameters
      ++c->chunked;
      c->last_chunked = true;
    } else {
      c->other = true;
      c->last_chunked = false;
    }
    return true;
  });
}

// ---- the head ------------------------------------------------------------------------------

// Checks "HTTP/" DIGIT "." DIGIT, byte by byte as far as the input goes.
inline bool version_byte_ok(size_t i, char c) {
  static constexpr char kPrefix[] = "HTTP/";
  if (i < 5) return c == kPrefix[i];
  if (i == 6) return c == '.';
  return is_digit(c);  // 5 and 7
}

// ---- request-target forms (RFC 9112 §3.2) ---------------------------------------------------

// The Host field an absolute-form target adds on an HTTP/1.0 request that sent none: its
// name points at this static spelling rather than into the input.
constexpr char kHostName[] = "Host";

// Checks a target that does not start with '/' (origin-form is decided by its first
// byte). Accepted: `*` with OPTIONS, and an http or https absolute-form URI, whose
// authority then replaces the Host field value (RFC 9112 §3.2.2). Everything else is
// 400: relative references (`foo/bar`), authority-form (only CONNECT uses it, and CONNECT
// is refused before this), other schemes, an empty host, userinfo (RFC 9110 §4.2.4).
// max_fields bounds the header count, the added Host field included.
ParseStatus other_target_form(RequestHead* head, HeaderField* host_field, size_t max_fields) {
  const Span t = head->target;
  if (t.len == 1 && t.data[0] == '*') {
    if (head->method.len == 7 && std::memcmp(head->method.data, "OPTIONS", 7) == 0) {
      return ParseStatus::Complete;
    }
    return fail(head, 400, "asterisk-form target on a method other than OPTIONS");
  }
  size_t scheme = 0;  // length of "http" or "https"
  if (t.len >= 7 && ieq(t.data, 4, "http")) {
    scheme = 4;
    if ((t.data[4] | 0x20) == 's') scheme = 5;
  }
  if (scheme == 0 || t.len < scheme + 3 || std::memcmp(t.data + scheme, "://", 3) != 0) {
    return fail(head, 400, "request target is not origin-form or an http(s) absolute-form");
  }
  const char* a = t.data + scheme + 3;
  const char* end = t.data + t.len;
  const char* a_end = a;
  while (a_end < end && *a_end != '/' && *a_end != '?') ++a_end;
  const Span authority{a, static_cast<size_t>(a_end - a)};
  if (authority.len == 0 || *a == ':' || !valid_host(authority)) {
    return fail(head, 400, "invalid authority in an absolute-form target");
  }
  if (host_field == nullptr) {  // HTTP/1.0 without Host: the target names the host
    if (head->header_count >= max_fields) return fail(head, 431, "too many header fields");
    host_field = &head->headers[head->header_count++];
    host_field->name = Span{kHostName, sizeof kHostName - 1};
    host_field->known = kHeaderHost;
  }
  host_field->value = authority;
  return ParseStatus::Complete;
}

// The canonical decimal of a validated Content-Length value: its first element without
// leading zeros ("005, 5" → "5", "000" → "0"), a span inside the value.
Span canonical_content_length(Span v) {
  const char* p = v.data;
  const char* e = p;
  const char* end = p + v.len;
  while (e < end && is_digit(*e)) ++e;
  while (e - p > 1 && *p == '0') ++p;
  return Span{p, static_cast<size_t>(e - p)};
}

bool is_connect(Span method) { return method.len == 7 && std::memcmp(method.data, "CONNECT", 7) == 0; }

ParseStatus semantics(RequestHead* head, size_t max_fields) {
  const bool http11 = head->version_minor == 1;
  unsigned hosts = 0;
  HeaderField* host_field = nullptr;
  unsigned content_types = 0;
  unsigned cl_fields = 0;
  HeaderField* first_cl = nullptr;
  bool cl_seen = false;
  uint64_t cl = 0;
  bool te_seen = false;
  Codings codings;
  bool conn_close = false;
  bool conn_keep_alive = false;
  bool expect_continue = false;
  bool expect_other = false;

  for (size_t i = 0; i < head->header_count; ++i) {
    HeaderField& f = head->headers[i];
    switch (f.known) {
      case kHeaderHost:
        ++hosts;
        host_field = &f;
        break;
      case kHeaderContentType:
        ++content_types;
        break;
      case kHeaderContentLength:
        if (!fold_content_length(f.value, &cl_seen, &cl)) {
          return fail(head, 400, "invalid or conflicting Content-Length");
        }
        if (cl_fields++ == 0) first_cl = &f;
        break;
      case kHeaderTransferEncoding:
        te_seen = true;
        scan_codings(f.value, &codings);
        break;
      case kHeaderConnection:
        for_each_element(f.value, [&](const char* b, size_t n) {
          if (ieq(b, n, "close")) conn_close = true;
          else if (ieq(b, n, "keep-alive")) conn_keep_alive = true;
          return true;
        });
        break;
      case kHeaderExpect:
        for_each_element(f.value, [&](const char* b, size_t n) {
          if (n == 0) return true;  // empty list elements are ignored (RFC 9110 §5.6.1.2)
          if (ieq(b, n, "100-continue")) expect_continue = true;
          else expect_other = true;
          return true;
        });
        break;
      default:
        break;
    }
  }

  if (hosts > 1) return fail(head, 400, "more than one Host");
  if (hosts == 0 && http11) return fail(head, 400, "missing Host");
  if (hosts == 1 && !valid_host(host_field->value)) return fail(head, 400, "invalid Host");
  if (content_types > 1) return fail(head, 400, "more than one Content-Type");

  // Origin-form is the common case and costs one byte compare; CONNECT is refused below
  // whatever its target, so its authority-form is never checked here.
  const bool connect = is_connect(head->method);
  if (head->target.data[0] != '/' && !connect) {
    const ParseStatus st = other_target_form(head, hosts == 1 ? host_field : nullptr, max_fields);
    if (st != ParseStatus::Complete) return st;
  }

  if (te_seen) {
    if (cl_seen) return fail(head, 400, "both Transfer-Encoding and Content-Length");
    if (!http11) return fail(head, 400, "Transfer-Encoding on HTTP/1.0");
    if (codings.malformed) return fail(head, 400, "malformed Transfer-Encoding");
    if (!codings.last_chunked) return fail(head, 400, "final transfer coding is not chunked");
    if (codings.chunked > 1) return fail(head, 400, "chunked applied more than once");
    if (codings.other) return fail(head, 501, "unsupported transfer coding");
    head->body_kind = BodyKind::Chunked;
  } else if (cl_seen) {
    // Every Content-Length field reads as the body size in plain decimal.
    const Span canonical = canonical_content_length(first_cl->value);
    first_cl->value = canonical;
    if (cl_fields > 1) {
      for (size_t i = 0; i < head->header_count; ++i) {
        if (head->headers[i].known == kHeaderContentLength) head->headers[i].value = canonical;
      }
    }
    if (cl > 0) {
      head->body_kind = BodyKind::Length;
      head->content_length = cl;
    }
  }

  if (connect) return fail(head, 501, "CONNECT is not supported");
  if (expect_other) return fail(head, 417, "unsupported expectation");
  head->expect_continue = expect_continue && http11;
  head->keep_alive = http11 ? !conn_close : (conn_keep_alive && !conn_close);
  return ParseStatus::Complete;
}

// Parses [data, data + len), len already capped at max_header_size.
ParseStatus parse_head(const char* data, size_t len, const ParseLimits& limits,
                       RequestHead* head, size_t* consumed) {
  const char* p = data;
  const char* const end = data + len;

  // Empty lines before the request line (RFC 9112 §2.2).
  for (;;) {
    if (p == end) return ParseStatus::Partial;
    if (*p == '\r') {
      if (p + 1 == end) return ParseStatus::Partial;
      if (p[1] != '\n') return fail(head, 400, "bare CR");
      p += 2;
      continue;
    }
    if (*p == '\n') return fail(head, 400, "bare LF");
    break;
  }

  // Request line: method SP request-target SP HTTP-version CRLF. Every byte of it before
  // the CRLF counts toward max_request_line; a byte past the limit gives 414 at once.
  const char* const line = p;
  const size_t room = static_cast<size_t>(end - line);
  const char* const line_max = line + (limits.max_request_line < room ? limits.max_request_line : room);
  const bool line_cut = limits.max_request_line < room;  // bytes exist past the limit

  const char* q = p;
  while (q < line_max && has(*q, kTchar)) ++q;
  if (q == line_max) {
    return line_cut ? fail(head, 414, "request line too long") : ParseStatus::Partial;
  }
  if (*q != ' ') {
    if (*q == '\r' || *q == '\n') return fail(head, 400, "malformed request line");
    return fail(head, 400, q == p ? "invalid method" : "invalid character in method");
  }
  if (q == p) return fail(head, 400, "empty method");
  head->method = Span{p, static_cast<size_t>(q - p)};
  p = q + 1;

  q = scan<TargetRun>(p, line_max, kTarget);
  if (q == line_max) {
    return line_cut ? fail(head, 414, "request line too long") : ParseStatus::Partial;
  }
  if (*q != ' ') return fail(head, 400, q == p ? "empty request target" : "invalid character in request target");
  if (q == p) return fail(head, 400, "empty request target");
  head->target = Span{p, static_cast<size_t>(q - p)};
  p = q + 1;

  for (size_t i = 0; i < 8; ++i, ++p) {
    if (p == end) return ParseStatus::Partial;
    if (p >= line_max) return fail(head, 414, "request line too long");
    if (!version_byte_ok(i, *p)) return fail(head, 400, "malformed HTTP version");
  }
  if (p == end) return ParseStatus::Partial;
  if (*p != '\r') return fail(head, 400, "malformed HTTP version");
  if (p + 1 == end) return ParseStatus::Partial;
  if (p[1] != '\n') return fail(head, 400, "bare CR");
  {
    const unsigned major = static_cast<unsigned>(p[-3] - '0');
    const unsigned minor = static_cast<unsigned>(p[-1] - '0');
    if (major != 1) return fail(head, 505, "HTTP version not supported");
    if (minor > 1) return fail(head, 400, "unknown HTTP/1 minor version");
    head->version_major = 1;
    head->version_minor = static_cast<uint8_t>(minor);
  }
  p += 2;

  // Header fields (RFC 9112 §5): field-name ":" OWS field-value OWS CRLF.
  size_t max_fields = limits.max_headers < head->header_capacity ? limits.max_headers : head->header_capacity;
  size_t n = 0;
  for (;;) {
    if (p == end) return ParseStatus::Partial;
    const char c = *p;
    if (c == '\r') {
      if (p + 1 == end) return ParseStatus::Partial;
      if (p[1] != '\n') return fail(head, 400, "bare CR");
      p += 2;
      break;
    }
    if (c == '\n') return fail(head, 400, "bare LF");
    if (is_ows(c)) {
      return fail(head, 400, n == 0 ? "whitespace after request line" : "obs-fold");
    }
    if (n == max_fields) return fail(head, 431, "too many header fields");

    const char* name = p;
    p = scan<NameRun>(p, end, kTchar);
    if (p == end) return ParseStatus::Partial;
    if (*p != ':') {
      if (is_ows(*p)) return fail(head, 400, "whitespace before colon");
      return fail(head, 400, "invalid character in field name");
    }
    if (p == name) return fail(head, 400, "empty field name");
    const size_t name_len = static_cast<size_t>(p - name);
    ++p;

    while (p < end && is_ows(*p)) ++p;
    const char* value = p;
    p = scan<ValueRun>(p, end, kValue);
    if (p == end) return ParseStatus::Partial;
    if (*p != '\r') {
      if (*p == '\n') return fail(head, 400, "bare LF");
      return fail(head, 400, "invalid character in field value");
    }
    if (p + 1 == end) return ParseStatus::Partial;
    if (p[1] != '\n') return fail(head, 400, "bare CR");
    const char* value_end = p;
    while (value_end > value && is_ows(value_end[-1])) --value_end;

    HeaderField& f = head->headers[n++];
    f.name = Span{name, name_len};
    f.value = Span{value, static_cast<size_t>(value_end - value)};
    f.known = known_header_id(name, name_len);
    head->header_count = n;
    p += 2;
  }

  *consumed = static_cast<size_t>(p - data);
  return semantics(head, max_fields);
}

}  // namespace

ParseStatus parse_request_head(const char* data, size_t len, const ParseLimits& limits,
                               RequestHead* head, size_t* consumed) {
  head->method = Span{};
  head->target = Span{};
  head->version_major = 1;
  head->version_minor = 1;
  head->header_count = 0;
  head->body_kind = BodyKind::None;
  head->content_length = 0;
  head->keep_alive = true;
  head->expect_continue = false;
  head->error_status = 0;
  head->error_reason = "";
  *consumed = 0;

  // Only the first max_header_size bytes can hold the head. Parsing just those keeps an
  // error inside them ahead of the size limit, so a prefix never disagrees with the whole.
  const bool cut = len > limits.max_header_size;
  ParseStatus st = parse_head(data, cut ? limits.max_header_size : len, limits, head, consumed);
  if (st == ParseStatus::Partial && cut) return fail(head, 431, "request head too large");
  if (st != ParseStatus::Complete) *consumed = 0;
  return st;
}

}  // namespace tsgi
