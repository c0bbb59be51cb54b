// Table tests of the uwsgi request packet parser (native/uwsgi/uwsgi_parser.h).
//
// Every valid packet is parsed whole (with and without the body bytes that follow it) and
// at every prefix, which must all be Incomplete; every invalid packet is parsed whole,
// which must give its status, and at every prefix, which must give Incomplete or that
// same status. Inputs end right before a PROT_NONE page, so an over-read faults; the
// build uses -fsanitize=address,undefined. Prints "N passed, N failed".
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "../known_headers.h"
#include "../uwsgi/uwsgi_parser.h"
#include "test_support.h"

using tsgi::BodyKind;
using tsgi::HeaderField;
using tsgi::UwsgiLimits;
using tsgi::UwsgiRequest;
using tsgi::UwsgiStatus;
using tsgi_test::Case;
using tsgi_test::GuardedBuffer;
using tsgi_test::show;

namespace {

GuardedBuffer g_buf(1 << 18);

using Vars = std::vector<std::pair<std::string, std::string>>;

std::string le16(size_t n) {
  std::string s;
  s += static_cast<char>(n & 0xFF);
  s += static_cast<char>((n >> 8) & 0xFF);
  return s;
}

std::string vars_block(const Vars& vars) {
  std::string b;
  for (const auto& kv : vars) {
    b += le16(kv.first.size()) + kv.first + le16(kv.second.size()) + kv.second;
  }
  return b;
}

// A packet: header (modifier1, datasize, modifier2) and the vars.
std::string packet(const Vars& vars, unsigned char mod1 = 0, unsigned char mod2 = 0) {
  const std::string b = vars_block(vars);
  std::string p;
  p += static_cast<char>(mod1);
  p += le16(b.size());
  p += static_cast<char>(mod2);
  return p + b;
}

// A packet whose vars block is given raw (for malformed layouts).
std::string raw_packet(const std::string& block) {
  return std::string(1, '\0') + le16(block.size()) + std::string(1, '\0') + block;
}

const char* status_name(UwsgiStatus s) {
  switch (s) {
    case UwsgiStatus::Complete: return "Complete";
    case UwsgiStatus::Incomplete: return "Incomplete";
    case UwsgiStatus::Error: return "Error";
  }
  return "?";
}

struct Result {
  UwsgiStatus status;
  UwsgiRequest req;
  size_t consumed;
  const char* data;
  std::vector<HeaderField> fields;
};

Result parse(const std::string& input, const UwsgiLimits& limits, size_t capacity) {
  Result r{};
  r.data = g_buf.place(input);
  r.fields.resize(capacity);
  r.req.head.headers = r.fields.data();
  r.req.head.header_capacity = capacity;
  r.consumed = 12345;
  r.status = tsgi::parse_uwsgi_packet(r.data, input.size(), limits, &r.req, &r.consumed);
  return r;
}

std::string span(tsgi::Span s) { return std::string(s.data, s.len); }

bool within(tsgi::Span s, const char* base, size_t len) {
  return s.len == 0 || (s.data >= base && s.data + s.len <= base + len);
}

// The common nginx uwsgi_params, as nginx sends them for "GET /a%20b?x=1".
Vars nginx_get() {
  return {
      {"QUERY_STRING", "x=1"},
      {"REQUEST_METHOD", "GET"},
      {"CONTENT_TYPE", ""},
      {"CONTENT_LENGTH", ""},
      {"REQUEST_URI", "/a%20b?x=1"},
      {"PATH_INFO", "/a b"},
      {"DOCUMENT_ROOT", "/usr/share/nginx/html"},
      {"SERVER_PROTOCOL", "HTTP/1.1"},
      {"REQUEST_SCHEME", "http"},
      {"REMOTE_ADDR", "192.0.2.7"},
      {"REMOTE_PORT", "54321"},
      {"SERVER_PORT", "8080"},
      {"SERVER_NAME", "example.com"},
      {"HTTP_HOST", "example.com:8080"},
      {"HTTP_USER_AGENT", "curl/8.0"},
      {"HTTP_ACCEPT", "*/*"},
      {"HTTP_X_CUSTOM_THING", "v"},
  };
}

Vars with(Vars v, const std::string& key, const std::string& value) {
  for (auto& kv : v) {
    if (kv.first == key) {
      kv.second = value;
      return v;
    }
  }
  v.emplace_back(key, value);
  return v;
}

Vars without(Vars v, const std::string& key) {
  Vars out;
  for (auto& kv : v) {
    if (kv.first != key) out.push_back(kv);
  }
  return out;
}

Vars plus(Vars v, const std::string& key, const std::string& value) {
  v.emplace_back(key, value);
  return v;
}

// ---- valid packets ---------------------------------------------------------------------

struct Valid {
  std::string name;
  std::string pkt;
  std::string body;  // follows the packet: never consumed
  std::string method = "GET";
  std::string target = "/a%20b?x=1";
  std::string path_info = "/a b";
  bool has_path_info = true;
  std::string query = "x=1";
  bool has_query = true;
  int minor = 1;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<uint16_t> known;
  BodyKind body_kind = BodyKind::None;
  uint64_t length = 0;
  std::string remote_addr = "192.0.2.7";
  uint16_t remote_port = 54321;
  std::string server_name = "example.com";
  std::string server_port = "8080";
  std::string scheme = "http";
  bool https = false;
  UwsgiLimits limits;
  size_t capacity = 64;

  Valid(std::string n, std::string p) : name(std::move(n)), pkt(std::move(p)) {}
  Valid& h(std::string n, std::string v, uint16_t id) {
    headers.emplace_back(std::move(n), std::move(v));
    known.push_back(id);
    return *this;
  }
  Valid& nginx_headers() {
    return h("HTTP_HOST", "example.com:8080", tsgi::kHeaderHost)
        .h("HTTP_USER_AGENT", "curl/8.0", tsgi::kHeaderUserAgent)
        .h("HTTP_ACCEPT", "*/*", tsgi::kHeaderAccept)
        .h("HTTP_X_CUSTOM_THING", "v", 0);
  }
};

void check_complete(const Valid& v, const Result& r, Case* c) {
  if (r.status != UwsgiStatus::Complete) {
    c->fail("expected Complete, got %s %u (%s)", status_name(r.status), r.req.head.error_status,
            r.req.head.error_reason);
    return;
  }
  const UwsgiRequest& q = r.req;
  const tsgi::RequestHead& h = q.head;
  if (r.consumed != v.pkt.size()) c->fail("consumed %zu, expected %zu", r.consumed, v.pkt.size());
  if (span(h.method) != v.method) c->fail("method [%s]", show(span(h.method)).c_str());
  if (span(h.target) != v.target) c->fail("target [%s]", show(span(h.target)).c_str());
  if (q.has_path_info != v.has_path_info || span(q.path_info) != v.path_info) {
    c->fail("path_info %d [%s]", q.has_path_info, show(span(q.path_info)).c_str());
  }
  if (q.has_query_string != v.has_query || span(q.query_string) != v.query) {
    c->fail("query %d [%s]", q.has_query_string, show(span(q.query_string)).c_str());
  }
  if (h.version_major != 1 || h.version_minor != v.minor) c->fail("version %u.%u", h.version_major, h.version_minor);
  if (h.header_count != v.headers.size()) {
    c->fail("header_count %zu, expected %zu", h.header_count, v.headers.size());
  } else {
    for (size_t i = 0; i < h.header_count; ++i) {
      const HeaderField& f = h.headers[i];
      if (span(f.name) != v.headers[i].first || span(f.value) != v.headers[i].second) {
        c->fail("header %zu is [%s]=[%s], expected [%s]=[%s]", i, show(span(f.name)).c_str(),
                show(span(f.value)).c_str(), show(v.headers[i].first).c_str(), show(v.headers[i].second).c_str());
      }
      if (f.known != v.known[i]) c->fail("header %zu known %u, expected %u", i, f.known, v.known[i]);
      if (!within(f.name, r.data, r.consumed) || !within(f.value, r.data, r.consumed)) {
        c->fail("header %zu span outside the packet", i);
      }
    }
  }
  for (tsgi::Span s : {h.method, h.target, q.path_info, q.query_string, q.remote_addr, q.server_name,
                       q.server_port, q.scheme, q.protocol, q.request_uri}) {
    if (!within(s, r.data, r.consumed)) c->fail("a span lies outside the packet");
  }
  if (h.body_kind != v.body_kind) c->fail("body kind %d, expected %d", int(h.body_kind), int(v.body_kind));
  if (h.content_length != v.length) c->fail("content_length %llu", (unsigned long long)h.content_length);
  if (span(q.remote_addr) != v.remote_addr) c->fail("remote_addr [%s]", show(span(q.remote_addr)).c_str());
  if (q.remote_port != v.remote_port) c->fail("remote_port %u", q.remote_port);
  if (span(q.server_name) != v.server_name) c->fail("server_name [%s]", show(span(q.server_name)).c_str());
  if (span(q.server_port) != v.server_port) c->fail("server_port [%s]", show(span(q.server_port)).c_str());
  if (span(q.scheme) != v.scheme) c->fail("scheme [%s]", show(span(q.scheme)).c_str());
  if (q.https != v.https) c->fail("https %d", q.https);
  if (!h.keep_alive) c->fail("keep_alive false");
  if (h.error_status != 0) c->fail("error_status %u on success", h.error_status);
}

void run_valid(const Valid& v, tsgi_test::Tally* tally) {
  Case c("valid: " + v.name);
  check_complete(v, parse(v.pkt, v.limits, v.capacity), &c);
  const std::string body = v.body.empty() ? std::string("\x00\x01GET / HTTP/1.1\r\n", 18) : v.body;
  check_complete(v, parse(v.pkt + body, v.limits, v.capacity), &c);
  // Exactly as many fields as the caller can hold.
  if (!v.headers.empty()) check_complete(v, parse(v.pkt, v.limits, v.headers.size()), &c);
  for (size_t k = 0; k < v.pkt.size(); ++k) {
    // Large packets: the first and last 64 prefixes and every 61st between.
    if (v.pkt.size() > 4096 && k > 64 && k + 64 < v.pkt.size() && k % 61 != 0) continue;
    Result r = parse(v.pkt.substr(0, k), v.limits, v.capacity);
    if (r.status != UwsgiStatus::Incomplete) {
      c.fail("prefix of %zu bytes gave %s %u (%s)", k, status_name(r.status), r.req.head.error_status,
             r.req.head.error_reason);
    } else if (r.consumed != 0) {
      c.fail("prefix of %zu bytes: consumed %zu", k, r.consumed);
    }
  }
  tally->record(c);
}

std::vector<Valid> valid_cases() {
  std::vector<Valid> v;
  v.push_back(Valid("nginx uwsgi_params GET", packet(nginx_get())).nginx_headers());
  {
    Valid x("nginx POST with a body", packet(with(with(nginx_get(), "CONTENT_LENGTH", "11"), "CONTENT_TYPE",
                                                 "application/x-www-form-urlencoded")));
    x.nginx_headers()
        .h("CONTENT_TYPE", "application/x-www-form-urlencoded", tsgi::kHeaderContentType)
        .h("CONTENT_LENGTH", "11", tsgi::kHeaderContentLength);
    x.body_kind = BodyKind::Length;
    x.length = 11;
    x.body = "hello=world";
    v.push_back(x);
  }
  {
    Valid x("CONTENT_LENGTH with leading zeros reads as its decimal", packet(with(nginx_get(), "CONTENT_LENGTH", "0042")));
    x.nginx_headers().h("CONTENT_LENGTH", "42", tsgi::kHeaderContentLength);
    x.body_kind = BodyKind::Length;
    x.length = 42;
    v.push_back(x);
  }
  {
    Valid x("CONTENT_LENGTH 0 is no body", packet(with(nginx_get(), "CONTENT_LENGTH", "000")));
    x.nginx_headers().h("CONTENT_LENGTH", "0", tsgi::kHeaderContentLength);
    v.push_back(x);
  }
  {
    Valid x("largest CONTENT_LENGTH", packet(with(nginx_get(), "CONTENT_LENGTH", "9223372036854775807")));
    x.nginx_headers().h("CONTENT_LENGTH", "9223372036854775807", tsgi::kHeaderContentLength);
    x.body_kind = BodyKind::Length;
    x.length = 9223372036854775807ull;
    v.push_back(x);
  }
  {
    Valid x("HTTPS on", packet(with(nginx_get(), "HTTPS", "on")));
    x.nginx_headers().https = true;
    v.push_back(x);
  }
  {
    Valid x("HTTPS 1 in capitals is https too", packet(plus(nginx_get(), "HTTPS", "1")));
    x.nginx_headers().https = true;
    v.push_back(x);
  }
  {
    Valid x("HTTPS off is not https", packet(plus(nginx_get(), "HTTPS", "off")));
    x.nginx_headers();
    v.push_back(x);
  }
  {
    Valid x("UWSGI_SCHEME https wins over REQUEST_SCHEME", packet(plus(nginx_get(), "UWSGI_SCHEME", "HTTPS")));
    x.nginx_headers().scheme = "HTTPS";
    x.https = true;
    v.push_back(x);
  }
  {
    Valid x("HTTP/1.0", packet(with(nginx_get(), "SERVER_PROTOCOL", "HTTP/1.0")));
    x.nginx_headers().minor = 0;
    v.push_back(x);
  }
  {
    Valid x("HTTP/2.0 reads as 1.1", packet(with(nginx_get(), "SERVER_PROTOCOL", "HTTP/2.0")));
    x.nginx_headers();
    v.push_back(x);
  }
  {
    Valid x("no REQUEST_URI: the target is PATH_INFO", packet(without(nginx_get(), "REQUEST_URI")));
    x.nginx_headers().target = "/a b";
    v.push_back(x);
  }
  {
    Valid x("empty REQUEST_URI: the target is PATH_INFO", packet(with(nginx_get(), "REQUEST_URI", "")));
    x.nginx_headers().target = "/a b";
    v.push_back(x);
  }
  {
    Valid x("no PATH_INFO, no QUERY_STRING", packet(without(without(nginx_get(), "PATH_INFO"), "QUERY_STRING")));
    x.nginx_headers();
    x.has_path_info = false;
    x.path_info = "";
    x.has_query = false;
    x.query = "";
    v.push_back(x);
  }
  {
    Valid x("minimal: a method and a URI", packet({{"REQUEST_METHOD", "DELETE"}, {"REQUEST_URI", "/x"}}));
    x.method = "DELETE";
    x.target = "/x";
    x.has_path_info = false;
    x.path_info = "";
    x.has_query = false;
    x.query = "";
    x.remote_addr = x.server_name = x.server_port = x.scheme = "";
    x.remote_port = 0;
    v.push_back(x);
  }
  {
    Valid x("repeated HTTP_COOKIE fields are all kept",
            packet(plus(plus(nginx_get(), "HTTP_COOKIE", "a=1"), "HTTP_COOKIE", "b=2")));
    x.nginx_headers().h("HTTP_COOKIE", "a=1", tsgi::kHeaderCookie).h("HTTP_COOKIE", "b=2", tsgi::kHeaderCookie);
    v.push_back(x);
  }
  {
    Valid x("HTTP_CONTENT_LENGTH and HTTP_CONTENT_TYPE are dropped",
            packet(plus(plus(with(nginx_get(), "CONTENT_LENGTH", "3"), "HTTP_CONTENT_LENGTH", "99"),
                        "HTTP_CONTENT_TYPE", "x/y")));
    x.nginx_headers().h("CONTENT_LENGTH", "3", tsgi::kHeaderContentLength);
    x.body_kind = BodyKind::Length;
    x.length = 3;
    v.push_back(x);
  }
  {
    Valid x("header values keep HTAB, SP and obs-text", packet(plus(nginx_get(), "HTTP_X_V", "a\tb c\xe9")));
    x.nginx_headers().h("HTTP_X_V", "a\tb c\xe9", 0);
    v.push_back(x);
  }
  {
    Valid x("empty values and unknown variables", packet(plus(plus(nginx_get(), "HTTP_X_EMPTY", ""), "UWSGI_APPID", "")));
    x.nginx_headers().h("HTTP_X_EMPTY", "", 0);
    v.push_back(x);
  }
  {
    Valid x("lower-case HTTP_ key is not a known header", packet(plus(nginx_get(), "HTTP_user_agent", "z")));
    x.nginx_headers().h("HTTP_user_agent", "z", 0);
    v.push_back(x);
  }
  {
    Valid x("HTTP_ alone is not a header", packet(plus(nginx_get(), "HTTP_", "z")));
    x.nginx_headers();
    v.push_back(x);
  }
  {
    Valid x("modifier2 is kept and not checked", packet(nginx_get(), 0, 7));
    x.nginx_headers();
    v.push_back(x);
  }
  {
    Valid x("empty REMOTE_PORT and SERVER_PORT", packet(with(with(nginx_get(), "REMOTE_PORT", ""), "SERVER_PORT", "")));
    x.nginx_headers().remote_port = 0;
    x.server_port = "";
    v.push_back(x);
  }
  {
    Valid x("ports 0 and 65535", packet(with(with(nginx_get(), "REMOTE_PORT", "65535"), "SERVER_PORT", "0")));
    x.nginx_headers().remote_port = 65535;
    x.server_port = "0";
    v.push_back(x);
  }
  {
    // A packet of exactly buffer_size bytes of vars.
    Vars vars = {{"REQUEST_METHOD", "GET"}, {"REQUEST_URI", "/"}};
    const std::string pad(256 - vars_block(vars).size() - 12, 'p');
    Vars full = plus(vars, "HTTP_PAD", pad);
    Valid x("a packet of exactly uwsgi-buffer-size", packet(full));
    x.limits.buffer_size = 256;
    x.method = "GET";
    x.target = "/";
    x.has_path_info = x.has_query = false;
    x.path_info = x.query = x.remote_addr = x.server_name = x.server_port = x.scheme = "";
    x.remote_port = 0;
    x.h("HTTP_PAD", pad, 0);
    if (vars_block(full).size() != 256) std::abort();
    v.push_back(x);
  }
  {
    // buffer_size over 65535 reads as 65535: the largest packet the field can describe.
    Vars vars = {{"REQUEST_METHOD", "GET"}, {"REQUEST_URI", "/"}};
    const std::string pad(65535 - vars_block(vars).size() - 12, 'p');
    Vars full = plus(vars, "HTTP_PAD", pad);
    Valid x("a 65535-byte packet", packet(full));
    x.limits.buffer_size = 1 << 20;
    x.target = "/";
    x.has_path_info = x.has_query = false;
    x.path_info = x.query = x.remote_addr = x.server_name = x.server_port = x.scheme = "";
    x.remote_port = 0;
    x.h("HTTP_PAD", pad, 0);
    if (vars_block(full).size() != 65535) std::abort();
    v.push_back(x);
  }
  return v;
}

// ---- invalid packets -------------------------------------------------------------------

struct Invalid {
  Invalid(std::string n, std::string p, uint16_t s) : name(std::move(n)), pkt(std::move(p)), status(s) {}
  std::string name;
  std::string pkt;
  uint16_t status;
  UwsgiLimits limits;
  size_t capacity = 64;
};

void run_invalid(const Invalid& v, tsgi_test::Tally* tally) {
  Case c("invalid: " + v.name);
  Result r = parse(v.pkt, v.limits, v.capacity);
  if (r.status != UwsgiStatus::Error || r.req.head.error_status != v.status) {
    c.fail("expected Error %u, got %s %u (%s)", v.status, status_name(r.status), r.req.head.error_status,
           r.req.head.error_reason);
  } else if (r.req.head.error_reason == nullptr || r.req.head.error_reason[0] == '\0') {
    c.fail("no error reason");
  }
  if (r.consumed != 0) c.fail("consumed %zu on Error", r.consumed);
  for (size_t k = 0; k < v.pkt.size(); ++k) {
    Result p = parse(v.pkt.substr(0, k), v.limits, v.capacity);
    if (p.status == UwsgiStatus::Complete ||
        (p.status == UwsgiStatus::Error && p.req.head.error_status != v.status)) {
      c.fail("prefix of %zu bytes gave %s %u (%s)", k, status_name(p.status), p.req.head.error_status,
             p.req.head.error_reason);
    }
  }
  tally->record(c);
}

std::vector<Invalid> invalid_cases() {
  std::vector<Invalid> v;
  const Vars get = nginx_get();
  v.push_back({"modifier1 5 (PSGI)", packet(get, 5), 400});
  v.push_back({"modifier1 72 ('H': plain HTTP on a uwsgi port)", "HTTP/1.1 GET /\r\n", 400});
  v.push_back({"GET request line on a uwsgi port", "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400});
  {
    Invalid x{"datasize over uwsgi-buffer-size", packet(get), 431};
    x.limits.buffer_size = packet(get).size() - 5;
    v.push_back(x);
  }
  v.push_back({"datasize over the default 4096 (seen from the header alone)", std::string("\0\x01\x10\0", 4), 431});
  v.push_back({"a lone byte at the end of the vars", raw_packet(vars_block(get) + "x"), 400});
  v.push_back({"a key length past the packet", raw_packet(vars_block(get) + le16(5) + "abc"), 400});
  v.push_back({"a value length past the packet", raw_packet(vars_block(get) + le16(3) + "KEY" + le16(9) + "ab"), 400});
  v.push_back({"a value length cut off", raw_packet(vars_block(get) + le16(3) + "KEY" + "a"), 400});
  v.push_back({"an empty key", raw_packet(vars_block(get) + le16(0) + le16(1) + "v"), 400});
  v.push_back({"a key with a space", packet(plus(get, "HTTP_X Y", "v")), 400});
  v.push_back({"a key with NUL", packet(plus(get, std::string("HTTP_X\0Y", 8), "v")), 400});
  v.push_back({"a key with obs-text", packet(plus(get, "HTTP_\xe9", "v")), 400});
  v.push_back({"no REQUEST_METHOD", packet(without(get, "REQUEST_METHOD")), 400});
  v.push_back({"empty REQUEST_METHOD", packet(with(get, "REQUEST_METHOD", "")), 400});
  v.push_back({"REQUEST_METHOD not a token", packet(with(get, "REQUEST_METHOD", "G T")), 400});
  v.push_back({"REQUEST_METHOD twice", packet(plus(get, "REQUEST_METHOD", "GET")), 400});
  v.push_back({"neither REQUEST_URI nor PATH_INFO", packet(without(without(get, "REQUEST_URI"), "PATH_INFO")), 400});
  v.push_back({"empty REQUEST_URI and empty PATH_INFO", packet(with(with(get, "REQUEST_URI", ""), "PATH_INFO", "")), 400});
  v.push_back({"REQUEST_URI with a space", packet(with(get, "REQUEST_URI", "/a b")), 400});
  v.push_back({"REQUEST_URI with CR LF", packet(with(get, "REQUEST_URI", "/a\r\nX: y")), 400});
  v.push_back({"PATH_INFO with NUL", packet(with(get, "PATH_INFO", std::string("/a\0b", 4))), 400});
  v.push_back({"PATH_INFO with LF", packet(with(get, "PATH_INFO", "/a\nb")), 400});
  v.push_back({"QUERY_STRING with a control byte", packet(with(get, "QUERY_STRING", "a=\x01")), 400});
  v.push_back({"REQUEST_URI twice", packet(plus(get, "REQUEST_URI", "/b")), 400});
  v.push_back({"PATH_INFO twice", packet(plus(get, "PATH_INFO", "/b")), 400});
  v.push_back({"QUERY_STRING twice", packet(plus(get, "QUERY_STRING", "")), 400});
  v.push_back({"CONTENT_LENGTH twice", packet(plus(with(get, "CONTENT_LENGTH", "1"), "CONTENT_LENGTH", "1")), 400});
  v.push_back({"CONTENT_LENGTH twice, once empty", packet(plus(get, "CONTENT_LENGTH", "1")), 400});
  v.push_back({"CONTENT_TYPE twice", packet(plus(get, "CONTENT_TYPE", "a/b")), 400});
  v.push_back({"CONTENT_LENGTH not numeric", packet(with(get, "CONTENT_LENGTH", "12a")), 400});
  v.push_back({"CONTENT_LENGTH negative", packet(with(get, "CONTENT_LENGTH", "-1")), 400});
  v.push_back({"CONTENT_LENGTH with a space", packet(with(get, "CONTENT_LENGTH", " 1")), 400});
  v.push_back({"CONTENT_LENGTH a list", packet(with(get, "CONTENT_LENGTH", "1,1")), 400});
  v.push_back({"CONTENT_LENGTH hexadecimal", packet(with(get, "CONTENT_LENGTH", "0x10")), 400});
  v.push_back({"CONTENT_LENGTH 2^63", packet(with(get, "CONTENT_LENGTH", "9223372036854775808")), 400});
  v.push_back({"CONTENT_LENGTH 2^64", packet(with(get, "CONTENT_LENGTH", "18446744073709551616")), 400});
  v.push_back({"CONTENT_TYPE with LF", packet(with(get, "CONTENT_TYPE", "a/b\nX: y")), 400});
  v.push_back({"HTTP_HOST twice", packet(plus(get, "HTTP_HOST", "evil")), 400});
  v.push_back({"a header value with CR", packet(plus(get, "HTTP_X_A", "a\rb")), 400});
  v.push_back({"a header value with NUL", packet(plus(get, "HTTP_X_A", std::string("a\0b", 3))), 400});
  v.push_back({"a header value with DEL", packet(plus(get, "HTTP_X_A", "a\x7f")), 400});
  v.push_back({"REMOTE_PORT not a number", packet(with(get, "REMOTE_PORT", "8o")), 400});
  v.push_back({"REMOTE_PORT over 65535", packet(with(get, "REMOTE_PORT", "65536")), 400});
  v.push_back({"REMOTE_PORT six digits", packet(with(get, "REMOTE_PORT", "000080")), 400});
  v.push_back({"SERVER_PORT not a number", packet(with(get, "SERVER_PORT", "http")), 400});
  v.push_back({"REMOTE_ADDR twice", packet(plus(get, "REMOTE_ADDR", "10.0.0.1")), 400});
  v.push_back({"REMOTE_ADDR with LF", packet(with(get, "REMOTE_ADDR", "1.2.3.4\n")), 400});
  v.push_back({"SERVER_NAME with CR", packet(with(get, "SERVER_NAME", "a\rb")), 400});
  v.push_back({"HTTPS twice", packet(plus(plus(get, "HTTPS", "on"), "HTTPS", "off")), 400});
  v.push_back({"SERVER_PROTOCOL twice", packet(plus(get, "SERVER_PROTOCOL", "HTTP/1.0")), 400});
  v.push_back({"SERVER_NAME twice", packet(plus(get, "SERVER_NAME", "b")), 400});
  v.push_back({"SERVER_PORT twice", packet(plus(get, "SERVER_PORT", "1")), 400});
  v.push_back({"REMOTE_PORT twice", packet(plus(get, "REMOTE_PORT", "1")), 400});
  v.push_back({"an empty packet", packet({}), 400});
  {
    Invalid x{"more header variables than max_headers", packet(get), 431};
    x.limits.max_headers = 3;
    v.push_back(x);
  }
  {
    Invalid x{"more header variables than the caller's capacity", packet(get), 431};
    x.capacity = 2;
    v.push_back(x);
  }
  {
    Invalid x{"CONTENT_TYPE and CONTENT_LENGTH count toward max_headers",
              packet(with(with(get, "CONTENT_LENGTH", "1"), "CONTENT_TYPE", "a/b")), 431};
    x.limits.max_headers = 5;
    v.push_back(x);
  }
  return v;
}

void run_known_keys(tsgi_test::Tally* tally) {
  Case c("known_header_id_for_environ_key: every known key maps back to its id");
  for (uint16_t id = 1; id < tsgi::kKnownHeaderCount; ++id) {
    const std::string k = tsgi::kKnownHeaderKeys[id];
    if (tsgi::known_header_id_for_environ_key(k.data(), k.size()) != id) c.fail("key %s", k.c_str());
  }
  for (const char* k : {"", "HTTP_", "HTTP_X_UNKNOWN", "HTTP_host", "HOST", "CONTENT-TYPE", "HTTP_CONTENT_TYPE",
                        "HTTP_CONTENT_LENGTH", "REQUEST_METHOD", "HTTP_HOST_", "HTTP_A_VERY_LONG_NAME_THAT_IS_NOT_KNOWN_AT_ALL_X"}) {
    if (tsgi::known_header_id_for_environ_key(k, std::strlen(k)) != 0) c.fail("key [%s] is known", k);
  }
  tally->record(c);
}

}  // namespace

int main() {
  tsgi_test::Tally tally;
  for (const Valid& v : valid_cases()) run_valid(v, &tally);
  for (const Invalid& v : invalid_cases()) run_invalid(v, &tally);
  run_known_keys(&tally);
  return tally.finish();
}
