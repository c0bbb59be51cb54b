// The uwsgi request packet parser (see uwsgi_parser.h for the format and the rules).
#include "uwsgi_parser.h"

#include <cstring>

#include "../http_chars.h"
#include "../known_headers.h"

namespace tsgi {

namespace {

constexpr size_t kPacketHeader = 4;
constexpr uint64_t kMaxContentLength = 9223372036854775807ull;  // 2^63 - 1

// The variables the parser reads; everything else is walked over.
enum Var : uint8_t {
  kVarOther,
  kVarMethod,
  kVarRequestUri,
  kVarPathInfo,
  kVarQueryString,
  kVarContentLength,
  kVarContentType,
  kVarProtocol,
  kVarRemoteAddr,
  kVarRemotePort,
  kVarServerName,
  kVarServerPort,
  kVarHttps,
  kVarUwsgiScheme,
  kVarRequestScheme,
  kVarHttp,  // HTTP_*: a header field
  kVarCount
};

// Variables refused when given twice (HTTP_HOST is counted separately).
constexpr bool kSingleton[kVarCount] = {
    false,  // other
    true,   // REQUEST_METHOD
    true,   // REQUEST_URI
    true,   // PATH_INFO
    true,   // QUERY_STRING
    true,   // CONTENT_LENGTH
    true,   // CONTENT_TYPE
    true,   // SERVER_PROTOCOL
    true,   // REMOTE_ADDR
    true,   // REMOTE_PORT
    true,   // SERVER_NAME
    true,   // SERVER_PORT
    true,   // HTTPS
    false,  // UWSGI_SCHEME (the last one wins)
    false,  // REQUEST_SCHEME
    false,  // HTTP_*
};

inline bool key_is(const char* k, size_t n, const char* lit, size_t lit_len) {
  return n == lit_len && std::memcmp(k, lit, n) == 0;
}
#define KEY_IS(lit) key_is(k, n, lit, sizeof(lit) - 1)

Var classify(const char* k, size_t n) {
  if (n > 5 && std::memcmp(k, "HTTP_", 5) == 0) return kVarHttp;
  switch (n) {
    case 5:
      if (KEY_IS("HTTPS")) return kVarHttps;
      break;
    case 9:
      if (KEY_IS("PATH_INFO")) return kVarPathInfo;
      break;
    case 11:
      if (KEY_IS("REQUEST_URI")) return kVarRequestUri;
      if (KEY_IS("REMOTE_ADDR")) return kVarRemoteAddr;
      if (KEY_IS("REMOTE_PORT")) return kVarRemotePort;
      if (KEY_IS("SERVER_NAME")) return kVarServerName;
      if (KEY_IS("SERVER_PORT")) return kVarServerPort;
      break;
    case 12:
      if (KEY_IS("QUERY_STRING")) return kVarQueryString;
      if (KEY_IS("CONTENT_TYPE")) return kVarContentType;
      if (KEY_IS("UWSGI_SCHEME")) return kVarUwsgiScheme;
      break;
    case 14:
      if (KEY_IS("REQUEST_METHOD")) return kVarMethod;
      if (KEY_IS("CONTENT_LENGTH")) return kVarContentLength;
      if (KEY_IS("REQUEST_SCHEME")) return kVarRequestScheme;
      break;
    case 15:
      if (KEY_IS("SERVER_PROTOCOL")) return kVarProtocol;
      break;
  }
  return kVarOther;
}
#undef KEY_IS

inline uint16_t le16(const char* p) {
  return static_cast<uint16_t>(static_cast<unsigned char>(p[0]) |
                               (static_cast<unsigned>(static_cast<unsigned char>(p[1])) << 8));
}

// Bytes of a request target: visible ASCII and obs-text (no SP, no controls, no DEL).
bool target_bytes_ok(Span s) {
  for (size_t i = 0; i < s.len; ++i) {
    const unsigned char c = static_cast<unsigned char>(s.data[i]);
    if (c <= 0x20 || c == 0x7F) return false;
  }
  return true;
}

// Bytes of a decoded path: as a target's, plus SP.
bool path_bytes_ok(Span s) {
  for (size_t i = 0; i < s.len; ++i) {
    const unsigned char c = static_cast<unsigned char>(s.data[i]);
    if (c < 0x20 || c == 0x7F) return false;
  }
  return true;
}

bool value_bytes_ok(Span s) {
  for (size_t i = 0; i < s.len; ++i) {
    if (!is_field_value_byte(static_cast<unsigned char>(s.data[i]))) return false;
  }
  return true;
}

// A port: 1 to 5 decimal digits, at most 65535.
bool parse_port(Span s, uint16_t* out) {
  if (s.len == 0 || s.len > 5) return false;
  uint32_t v = 0;
  for (size_t i = 0; i < s.len; ++i) {
    const char c = s.data[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > 65535) return false;
  *out = static_cast<uint16_t>(v);
  return true;
}

UwsgiStatus fail(UwsgiRequest* req, uint16_t status, const char* reason) {
  req->head.error_status = status;
  req->head.error_reason = reason;
  return UwsgiStatus::Error;
}

}  // namespace

uint16_t known_header_id_for_environ_key(const char* key, size_t len) {
  // The environ key back to a header name ("HTTP_X_REAL_IP" → "x-real-ip"), looked up,
  // then the key of the id compared exactly (so "HTTP_host" is not HTTP_HOST).
  const char* name = key;
  size_t n = len;
  char buf[40];
  if (len > 5 && std::memcmp(key, "HTTP_", 5) == 0) {
    name = key + 5;
    n = len - 5;
  } else if (!(len == 12 && std::memcmp(key, "CONTENT_TYPE", 12) == 0) &&
             !(len == 14 && std::memcmp(key, "CONTENT_LENGTH", 14) == 0)) {
    return kHeaderOther;
  }
  if (n > sizeof buf) return kHeaderOther;  // longer than every known name
  for (size_t i = 0; i < n; ++i) buf[i] = name[i] == '_' ? '-' : name[i];
  const uint16_t id = known_header_id(buf, n);
  if (id == kHeaderOther) return kHeaderOther;
  const char* k = kKnownHeaderKeys[id];
  return std::strlen(k) == len && std::memcmp(k, key, len) == 0 ? id : static_cast<uint16_t>(kHeaderOther);
}

UwsgiStatus parse_uwsgi_packet(const char* data, size_t len, const UwsgiLimits& limits,
                               UwsgiRequest* req, size_t* consumed) {
  *consumed = 0;
  {
    HeaderField* storage = req->head.headers;
    const size_t capacity = req->head.header_capacity;
    *req = UwsgiRequest();
    req->head.headers = storage;
    req->head.header_capacity = capacity;
  }
  RequestHead& h = req->head;
  if (len >= 1 && data[0] != 0) return fail(req, 400, "uwsgi packet: modifier1 is not 0 (only WSGI requests are served)");
  if (len < 3) return UwsgiStatus::Incomplete;
  const size_t datasize = le16(data + 1);
  const size_t max_size = limits.buffer_size < 65535 ? limits.buffer_size : 65535;
  if (datasize > max_size) return fail(req, 431, "uwsgi packet: larger than uwsgi-buffer-size");
  if (len < 4 || len - kPacketHeader < datasize) return UwsgiStatus::Incomplete;
  req->modifier2 = static_cast<uint8_t>(data[3]);

  const size_t max_fields = limits.max_headers < h.header_capacity ? limits.max_headers : h.header_capacity;
  bool seen[kVarCount] = {};
  size_t hosts = 0;
  Span content_length, content_type, content_length_key, content_type_key, https, uwsgi_scheme, request_scheme;
  const char* p = data + kPacketHeader;
  const char* const end = p + datasize;
  while (p < end) {
    if (end - p < 2) return fail(req, 400, "uwsgi packet: a variable's key length is cut off");
    const size_t klen = le16(p);
    p += 2;
    if (klen == 0) return fail(req, 400, "uwsgi packet: a variable has an empty key");
    if (klen > static_cast<size_t>(end - p)) return fail(req, 400, "uwsgi packet: a key runs past the packet");
    const char* k = p;
    p += klen;
    for (size_t i = 0; i < klen; ++i) {
      const unsigned char c = static_cast<unsigned char>(k[i]);
      if (c < 0x21 || c > 0x7E) return fail(req, 400, "uwsgi packet: a key has a byte that is not visible ASCII");
    }
    if (end - p < 2) return fail(req, 400, "uwsgi packet: a variable's value length is cut off");
    const size_t vlen = le16(p);
    p += 2;
    if (vlen > static_cast<size_t>(end - p)) return fail(req, 400, "uwsgi packet: a value runs past the packet");
    const Span value{p, vlen};
    p += vlen;
    req->var_count++;

    const Var var = classify(k, klen);
    if (kSingleton[var]) {
      if (seen[var]) return fail(req, 400, "uwsgi packet: a CGI variable is given twice");
      seen[var] = true;
    }
    switch (var) {
      case kVarMethod: h.method = value; break;
      case kVarRequestUri: req->request_uri = value; break;
      case kVarPathInfo: req->path_info = value; break;
      case kVarQueryString: req->query_string = value; break;
      case kVarContentLength: content_length = value; content_length_key = Span{k, klen}; break;
      case kVarContentType: content_type = value; content_type_key = Span{k, klen}; break;
      case kVarProtocol: req->protocol = value; break;
      case kVarRemoteAddr: req->remote_addr = value; break;
      case kVarRemotePort:
        if (vlen != 0 && !parse_port(value, &req->remote_port)) {
          return fail(req, 400, "uwsgi packet: REMOTE_PORT is not a port number");
        }
        break;
      case kVarServerName: req->server_name = value; break;
      case kVarServerPort: {
        uint16_t unused;
        if (vlen != 0 && !parse_port(value, &unused)) {
          return fail(req, 400, "uwsgi packet: SERVER_PORT is not a port number");
        }
        req->server_port = value;
        break;
      }
      case kVarHttps: https = value; break;
      case kVarUwsgiScheme: uwsgi_scheme = value; break;
      case kVarRequestScheme: request_scheme = value; break;
      case kVarHttp: {
        const uint16_t id = known_header_id_for_environ_key(k, klen);
        // CONTENT_LENGTH and CONTENT_TYPE are the body's framing and type; nginx also
        // passes the client's fields as HTTP_CONTENT_*, which would only disagree.
        if (klen == 19 && std::memcmp(k, "HTTP_CONTENT_LENGTH", 19) == 0) break;
        if (klen == 17 && std::memcmp(k, "HTTP_CONTENT_TYPE", 17) == 0) break;
        if (id == kHeaderHost && ++hosts > 1) return fail(req, 400, "uwsgi packet: HTTP_HOST is given twice");
        if (!value_bytes_ok(value)) return fail(req, 400, "uwsgi packet: a header value has a control byte");
        if (h.header_count >= max_fields) return fail(req, 431, "uwsgi packet: too many header variables");
        HeaderField& f = h.headers[h.header_count++];
        f.name = Span{k, klen};
        f.value = value;
        f.known = id;
        break;
      }
      case kVarOther:
      case kVarCount:
        break;
    }
  }

  // REQUEST_METHOD: a token.
  if (h.method.len == 0) return fail(req, 400, "uwsgi packet: no REQUEST_METHOD");
  for (size_t i = 0; i < h.method.len; ++i) {
    if (!is_tchar_byte(static_cast<unsigned char>(h.method.data[i]))) {
      return fail(req, 400, "uwsgi packet: REQUEST_METHOD is not a token");
    }
  }
  // The target: REQUEST_URI, else PATH_INFO.
  req->has_request_uri = req->request_uri.len > 0;
  req->has_path_info = seen[kVarPathInfo];
  req->has_query_string = seen[kVarQueryString];
  if (req->has_request_uri && !target_bytes_ok(req->request_uri)) {
    return fail(req, 400, "uwsgi packet: REQUEST_URI has a space or a control byte");
  }
  if (!path_bytes_ok(req->path_info)) return fail(req, 400, "uwsgi packet: PATH_INFO has a control byte");
  if (!target_bytes_ok(req->query_string)) {
    return fail(req, 400, "uwsgi packet: QUERY_STRING has a space or a control byte");
  }
  if (req->has_request_uri) {
    h.target = req->request_uri;
  } else if (req->path_info.len > 0) {
    h.target = req->path_info;
  } else {
    return fail(req, 400, "uwsgi packet: neither REQUEST_URI nor PATH_INFO");
  }
  if (!value_bytes_ok(req->remote_addr) || !value_bytes_ok(req->server_name)) {
    return fail(req, 400, "uwsgi packet: REMOTE_ADDR or SERVER_NAME has a control byte");
  }
  h.version_minor = req->protocol.len == 8 && std::memcmp(req->protocol.data, "HTTP/1.0", 8) == 0 ? 0 : 1;
  h.version_major = 1;
  h.keep_alive = true;

  // HTTPS and the scheme.
  req->scheme = uwsgi_scheme.len > 0 ? uwsgi_scheme : request_scheme;
  if (!value_bytes_ok(req->scheme)) return fail(req, 400, "uwsgi packet: the scheme has a control byte");
  req->https = ieq(https.data, https.len, "on") || ieq(https.data, https.len, "1") ||
               ieq(req->scheme.data, req->scheme.len, "https");

  // CONTENT_TYPE and CONTENT_LENGTH close the header fields when non-empty.
  if (content_type.len > 0) {
    if (!value_bytes_ok(content_type)) return fail(req, 400, "uwsgi packet: CONTENT_TYPE has a control byte");
    if (h.header_count >= max_fields) return fail(req, 431, "uwsgi packet: too many header variables");
    HeaderField& f = h.headers[h.header_count++];
    f.name = content_type_key;
    f.value = content_type;
    f.known = kHeaderContentType;
  }
  if (content_length.len > 0) {
    uint64_t v = 0;
    for (size_t i = 0; i < content_length.len; ++i) {
      const char c = content_length.data[i];
      if (c < '0' || c > '9') return fail(req, 400, "uwsgi packet: CONTENT_LENGTH is not a decimal number");
      const uint64_t d = static_cast<uint64_t>(c - '0');
      if (v > (kMaxContentLength - d) / 10) return fail(req, 400, "uwsgi packet: CONTENT_LENGTH is too large");
      v = v * 10 + d;
    }
    size_t skip = 0;
    while (skip + 1 < content_length.len && content_length.data[skip] == '0') ++skip;
    if (h.header_count >= max_fields) return fail(req, 431, "uwsgi packet: too many header variables");
    HeaderField& f = h.headers[h.header_count++];
    f.name = content_length_key;
    f.value = Span{content_length.data + skip, content_length.len - skip};
    f.known = kHeaderContentLength;
    h.content_length = v;
    h.body_kind = v > 0 ? BodyKind::Length : BodyKind::None;
  }
  *consumed = kPacketHeader + datasize;
  return UwsgiStatus::Complete;
}

}  // namespace tsgi
