// Table tests of the request head parser and the known-header table.
//
// Every valid case is parsed whole (with and without the bytes that follow the head) and
// at every prefix, which must all be Partial. Every invalid case is parsed whole, which
// must give its status, and at every prefix, which must give Partial or that same status.
// Inputs end right before a PROT_NONE page, so an over-read faults; the build uses
// -fsanitize=address,undefined. Prints "N passed, N failed"; exits non-zero on failure.
#include <string>
#include <utility>
#include <vector>

#include "../known_headers.h"
#include "../parser.h"
#include "test_support.h"

using tsgi::BodyKind;
using tsgi::HeaderField;
using tsgi::ParseLimits;
using tsgi::ParseStatus;
using tsgi::RequestHead;
using tsgi_test::Case;
using tsgi_test::GuardedBuffer;
using tsgi_test::show;

namespace {

GuardedBuffer g_buf(1 << 20);

const char* status_name(ParseStatus s) {
  switch (s) {
    case ParseStatus::Complete: return "Complete";
    case ParseStatus::Partial: return "Partial";
    case ParseStatus::Error: return "Error";
  }
  return "?";
}

struct Result {
  ParseStatus status;
  RequestHead head;
  size_t consumed;
  const char* data;
  std::vector<HeaderField> fields;  // exactly `capacity` long: ASan catches a write past it
};

Result parse(const std::string& input, const ParseLimits& limits, size_t capacity) {
  Result r{};
  r.data = g_buf.place(input);
  r.fields.resize(capacity);
  r.head.headers = r.fields.data();
  r.head.header_capacity = capacity;
  r.consumed = 12345;  // must be overwritten
  r.status = tsgi::parse_request_head(r.data, input.size(), limits, &r.head, &r.consumed);
  return r;
}

std::string span(tsgi::Span s) { return std::string(s.data, s.len); }

bool within(tsgi::Span s, const char* base, size_t len) {
  return s.data >= base && s.data + s.len <= base + len;
}

// ---- valid requests ------------------------------------------------------------------

struct Valid {
  std::string name;
  std::string head;  // through the empty line
  std::string rest;  // what follows the head: not consumed
  std::string method = "GET";
  std::string target = "/";
  int minor = 1;
  std::vector<std::pair<std::string, std::string>> headers;
  BodyKind body = BodyKind::None;
  uint64_t length = 0;
  bool keep_alive = true;
  bool expect_continue = false;
  ParseLimits limits;
  size_t capacity = 128;

  Valid(std::string n, std::string h) : name(std::move(n)), head(std::move(h)) {}
  Valid& m(std::string v) { method = std::move(v); return *this; }
  Valid& t(std::string v) { target = std::move(v); return *this; }
  Valid& v10() { minor = 0; keep_alive = false; return *this; }
  Valid& h(std::string n, std::string v) { headers.emplace_back(std::move(n), std::move(v)); return *this; }
  Valid& len(uint64_t n) { body = BodyKind::Length; length = n; return *this; }
  Valid& chunked() { body = BodyKind::Chunked; return *this; }
  Valid& ka(bool v) { keep_alive = v; return *this; }
  Valid& expect() { expect_continue = true; return *this; }
  Valid& after(std::string v) { rest = std::move(v); return *this; }
  Valid& lim(size_t line, size_t bytes, size_t count) {
    limits.max_request_line = line;
    limits.max_header_size = bytes;
    limits.max_headers = count;
    return *this;
  }
  Valid& cap(size_t c) { capacity = c; return *this; }
};

void check_complete(const Valid& v, const Result& r, size_t input_len, Case* c) {
  if (r.status != ParseStatus::Complete) {
    c->fail("expected Complete, got %s %u (%s)", status_name(r.status), r.head.error_status,
            r.head.error_reason);
    return;
  }
  const RequestHead& h = r.head;
  if (r.consumed != v.head.size()) c->fail("consumed %zu, expected %zu", r.consumed, v.head.size());
  if (span(h.method) != v.method) c->fail("method [%s]", show(span(h.method)).c_str());
  if (span(h.target) != v.target) c->fail("target [%s]", show(span(h.target)).c_str());
  if (!within(h.method, r.data, input_len) || !within(h.target, r.data, input_len)) {
    c->fail("method/target span outside the input");
  }
  if (h.version_major != 1 || h.version_minor != v.minor) {
    c->fail("version %u.%u", h.version_major, h.version_minor);
  }
  if (h.header_count != v.headers.size()) {
    c->fail("header_count %zu, expected %zu", h.header_count, v.headers.size());
  } else {
    for (size_t i = 0; i < h.header_count; ++i) {
      const HeaderField& f = h.headers[i];
      if (span(f.name) != v.headers[i].first || span(f.value) != v.headers[i].second) {
        c->fail("header %zu is [%s]=[%s], expected [%s]=[%s]", i, show(span(f.name)).c_str(),
                show(span(f.value)).c_str(), show(v.headers[i].first).c_str(),
                show(v.headers[i].second).c_str());
      }
      // The Host field an absolute-form target adds on HTTP/1.0 names a static "Host".
      const bool added_host = f.known == tsgi::kHeaderHost && !within(f.name, r.data, r.consumed) &&
                              span(f.name) == "Host";
      if ((!added_host && !within(f.name, r.data, r.consumed)) || !within(f.value, r.data, r.consumed)) {
        c->fail("header %zu span outside the head", i);
      }
      const uint16_t id = tsgi::known_header_id(f.name.data, f.name.len);
      if (f.known != id) c->fail("header %zu known id %u, expected %u", i, f.known, id);
    }
  }
  if (h.body_kind != v.body) c->fail("body kind %d, expected %d", int(h.body_kind), int(v.body));
  if (v.body == BodyKind::Length && h.content_length != v.length) {
    c->fail("content_length %llu, expected %llu", (unsigned long long)h.content_length,
            (unsigned long long)v.length);
  }
  if (h.keep_alive != v.keep_alive) c->fail("keep_alive %d", h.keep_alive);
  if (h.expect_continue != v.expect_continue) c->fail("expect_continue %d", h.expect_continue);
  if (h.error_status != 0) c->fail("error_status %u on success", h.error_status);
}

void run_valid(const Valid& v, tsgi_test::Tally* tally) {
  Case c("valid: " + v.name);
  const std::string whole = v.head + v.rest;
  check_complete(v, parse(whole, v.limits, v.capacity), whole.size(), &c);
  if (!v.rest.empty()) check_complete(v, parse(v.head, v.limits, v.capacity), v.head.size(), &c);
  // The caller's capacity can be exactly the number of fields.
  if (v.headers.size() <= v.limits.max_headers) {
    check_complete(v, parse(v.head, v.limits, v.headers.size()), v.head.size(), &c);
  }
  for (size_t k = 0; k < v.head.size(); ++k) {
    Result r = parse(v.head.substr(0, k), v.limits, v.capacity);
    if (r.status != ParseStatus::Partial) {
      c.fail("prefix of %zu bytes gave %s %u (%s)", k, status_name(r.status), r.head.error_status,
             r.head.error_reason);
    } else if (r.consumed != 0) {
      c.fail("prefix of %zu bytes: consumed %zu on Partial", k, r.consumed);
    }
  }
  tally->record(c);
}

const std::string kHost = "Host: example.com\r\n";

std::vector<Valid> valid_cases() {
  std::vector<Valid> v;
  v.push_back(Valid("minimal GET", "GET / HTTP/1.1\r\nHost: a\r\n\r\n").h("Host", "a"));
  v.push_back(Valid("typical browser request",
                    "GET /wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg HTTP/1.1\r\n"
                    "Host: www.kittyhell.com\r\n"
                    "User-Agent: Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10_6_6; ja-JP-mac; rv:1.9.2.3)\r\n"
                    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
                    "Accept-Language: ja,en-us;q=0.7,en;q=0.3\r\n"
                    "Accept-Encoding: gzip,deflate\r\n"
                    "Cookie: wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=xxxxxxxxxx\r\n"
                    "\r\n")
                  .t("/wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg")
                  .h("Host", "www.kittyhell.com")
                  .h("User-Agent", "Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10_6_6; ja-JP-mac; rv:1.9.2.3)")
                  .h("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
                  .h("Accept-Language", "ja,en-us;q=0.7,en;q=0.3")
                  .h("Accept-Encoding", "gzip,deflate")
                  .h("Cookie", "wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=xxxxxxxxxx"));
  v.push_back(Valid("POST with Content-Length and body",
                    "POST /submit HTTP/1.1\r\nHost: a\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n")
                  .m("POST").t("/submit").h("Host", "a").h("Content-Type", "text/plain")
                  .h("Content-Length", "5").len(5).after("hello"));
  v.push_back(Valid("pipelined: the next request is not consumed",
                    "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n")
                  .t("/1").h("Host", "a").after("GET /2 HTTP/1.1\r\nHost: a\r\n\r\n"));
  v.push_back(Valid("chunked POST", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
                  .m("POST").h("Host", "a").h("Transfer-Encoding", "chunked").chunked()
                  .after("5\r\nhello\r\n0\r\n\r\n"));
  v.push_back(Valid("Transfer-Encoding is case-insensitive",
                    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ChUnKeD\r\n\r\n")
                  .m("POST").h("Host", "a").h("Transfer-Encoding", "ChUnKeD").chunked());
  v.push_back(Valid("Content-Length: 0 is no body",
                    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n")
                  .m("POST").h("Host", "a").h("Content-Length", "0"));
  v.push_back(Valid("Content-Length with leading zeros", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 007\r\n\r\n")
                  .m("POST").h("Host", "a").h("Content-Length", "7").len(7));
  v.push_back(Valid("identical Content-Length list folds", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 42 , 42,42\r\n\r\n")
                  .m("POST").h("Host", "a").h("Content-Length", "42").len(42));
  v.push_back(Valid("identical Content-Length fields fold",
                    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\n")
                  .m("POST").h("Host", "a").h("Content-Length", "3").h("content-length", "3").len(3));
  v.push_back(Valid("Content-Length list with leading zeros reads as its decimal",
                    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 005,5\r\n\r\n")
                  .m("POST").h("Host", "a").h("Content-Length", "5").len(5));
  v.push_back(Valid("Content-Length fields 05 and 5 both read 5",
                    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 05\r\nX: y\r\nContent-Length: 5\r\n\r\n")
                  .m("POST").h("Host", "a").h("Content-Length", "5").h("X", "y").h("Content-Length", "5").len(5));
  v.push_back(Valid("Content-Length: 000 reads 0", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 000\r\n\r\n")
                  .m("POST").h("Host", "a").h("Content-Length", "0"));
  v.push_back(Valid("largest Content-Length", "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9223372036854775807\r\n\r\n")
                  .m("POST").h("Host", "a").h("Content-Length", "9223372036854775807").len(9223372036854775807ull));
  v.push_back(Valid("HTTP/1.0 closes by default", "GET / HTTP/1.0\r\n\r\n").v10());
  v.push_back(Valid("shortest request", "A / HTTP/1.0\r\n\r\n").m("A").v10());
  v.push_back(Valid("HTTP/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
                  .v10().h("Connection", "Keep-Alive").ka(true));
  v.push_back(Valid("HTTP/1.0 keep-alive among other tokens", "GET / HTTP/1.0\r\nConnection: foo, keep-alive ,bar\r\n\r\n")
                  .v10().h("Connection", "foo, keep-alive ,bar").ka(true));
  v.push_back(Valid("HTTP/1.0 close wins over keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n")
                  .v10().h("Connection", "keep-alive, close"));
  v.push_back(Valid("HTTP/1.0 with a Host and Content-Length", "POST / HTTP/1.0\r\nHost: a\r\nContent-Length: 2\r\n\r\n")
                  .m("POST").v10().h("Host", "a").h("Content-Length", "2").len(2));
  v.push_back(Valid("HTTP/1.1 Connection: close", "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
                  .h("Host", "a").h("Connection", "close").ka(false));
  v.push_back(Valid("HTTP/1.1 close token among others", "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, CLOSE\r\n\r\n")
                  .h("Host", "a").h("Connection", "Upgrade, CLOSE").ka(false));
  v.push_back(Valid("HTTP/1.1 close in a second Connection field",
                    "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n")
                  .h("Host", "a").h("Connection", "keep-alive").h("Connection", "close").ka(false));
  v.push_back(Valid("unrelated Connection token keeps 1.1 alive", "GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n")
                  .h("Host", "a").h("Connection", "closed"));
  v.push_back(Valid("Expect: 100-continue", "PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n")
                  .m("PUT").t("/x").h("Host", "a").h("Content-Length", "10").h("Expect", "100-continue").len(10).expect());
  v.push_back(Valid("Expect is case-insensitive", "PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nexpect: 100-Continue\r\n\r\n")
                  .m("PUT").t("/x").h("Host", "a").h("Content-Length", "1").h("expect", "100-Continue").len(1).expect());
  v.push_back(Valid("Expect: 100-continue ignored on HTTP/1.0", "PUT /x HTTP/1.0\r\nContent-Length: 1\r\nExpect: 100-continue\r\n\r\n")
                  .m("PUT").t("/x").v10().h("Content-Length", "1").h("Expect", "100-continue").len(1));
  v.push_back(Valid("Expect: 100-continue in two fields", "PUT /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nExpect: 100-continue\r\nExpect: 100-continue\r\n\r\n")
                  .m("PUT").t("/x").h("Host", "a").h("Content-Length", "1").h("Expect", "100-continue")
                  .h("Expect", "100-continue").len(1).expect());
  v.push_back(Valid("HTTP/1.1 keep-alive token changes nothing", "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n")
                  .h("Host", "a").h("Connection", "keep-alive"));
  v.push_back(Valid("Content-Length on a GET", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n")
                  .h("Host", "a").h("Content-Length", "3").len(3).after("abc"));
  v.push_back(Valid("Transfer-Encoding list ending in chunked with OWS", "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:  chunked \t\r\n\r\n")
                  .m("POST").h("Host", "a").h("Transfer-Encoding", "chunked").chunked());
  v.push_back(Valid("empty Expect is ignored", "GET / HTTP/1.1\r\nHost: a\r\nExpect:\r\n\r\n")
                  .h("Host", "a").h("Expect", ""));
  v.push_back(Valid("leading empty lines are skipped", "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n").h("Host", "a"));
  v.push_back(Valid("OWS around values is trimmed, inner kept",
                    "GET / HTTP/1.1\r\nHost:a\r\nX-A: \t a \t b\t \r\nX-B:   \r\nX-C:\r\n\r\n")
                  .h("Host", "a").h("X-A", "a \t b").h("X-B", "").h("X-C", ""));
  v.push_back(Valid("obs-text passes through target and values",
                    "GET /caf\xc3\xa9/\xff?q=\x80 HTTP/1.1\r\nHost: a\r\nX-Name: \xe9t\xe9 \xff\r\n\r\n")
                  .t("/caf\xc3\xa9/\xff?q=\x80").h("Host", "a").h("X-Name", "\xe9t\xe9 \xff"));
  v.push_back(Valid("all VCHAR in a value",
                    "GET / HTTP/1.1\r\nHost: a\r\nX: !\"#$%&'()*+,-./0123456789:;<=>?@AZ[\\]^_`az{|}~\r\n\r\n")
                  .h("Host", "a").h("X", "!\"#$%&'()*+,-./0123456789:;<=>?@AZ[\\]^_`az{|}~"));
  v.push_back(Valid("all tchar in a name and a method",
                    "!#$%&'*+-.^_`|~09azAZ / HTTP/1.1\r\nHost: a\r\n!#$%&'*+-.^_`|~09azAZ: v\r\n\r\n")
                  .m("!#$%&'*+-.^_`|~09azAZ").h("Host", "a").h("!#$%&'*+-.^_`|~09azAZ", "v"));
  v.push_back(Valid("extension methods", "M-SEARCH / HTTP/1.1\r\nHost: 239.255.255.250:1900\r\n\r\n")
                  .m("M-SEARCH").h("Host", "239.255.255.250:1900"));
  v.push_back(Valid("OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n").m("OPTIONS").t("*").h("Host", "a"));
  v.push_back(Valid("absolute-form target", "GET http://a.example:8080/p?q#f HTTP/1.1\r\nHost: a.example:8080\r\n\r\n")
                  .t("http://a.example:8080/p?q#f").h("Host", "a.example:8080"));
  // RFC 9112 §3.2.2: the authority of an absolute-form target replaces the Host value.
  v.push_back(Valid("absolute-form authority replaces Host", "GET http://evil.example/adm HTTP/1.1\r\nHost: x\r\n\r\n")
                  .t("http://evil.example/adm").h("Host", "evil.example"));
  v.push_back(Valid("absolute-form scheme is case-insensitive, https, empty path",
                    "GET HTTPS://A.example:443?q=1 HTTP/1.1\r\nHost: a\r\n\r\n")
                  .t("HTTPS://A.example:443?q=1").h("Host", "A.example:443"));
  v.push_back(Valid("absolute-form with an IPv6 authority", "GET http://[::1]:81/ HTTP/1.1\r\nX: y\r\nHost: a\r\n\r\n")
                  .t("http://[::1]:81/").h("X", "y").h("Host", "[::1]:81"));
  v.push_back(Valid("absolute-form on HTTP/1.0 without Host adds one", "GET http://h.example/p HTTP/1.0\r\nX: y\r\n\r\n")
                  .t("http://h.example/p").v10().h("X", "y").h("Host", "h.example"));
  v.push_back(Valid("OPTIONS * on HTTP/1.0", "OPTIONS * HTTP/1.0\r\n\r\n").m("OPTIONS").t("*").v10());
  v.push_back(Valid("double slash origin-form", "GET //a//b HTTP/1.1\r\nHost: a\r\n\r\n").t("//a//b").h("Host", "a"));
  v.push_back(Valid("IPv6 Host", "GET / HTTP/1.1\r\nHost: [2001:db8::1]:8080\r\n\r\n").h("Host", "[2001:db8::1]:8080"));
  v.push_back(Valid("IPv6 Host with zone id", "GET / HTTP/1.1\r\nHost: [fe80::1%25eth0]\r\n\r\n").h("Host", "[fe80::1%25eth0]"));
  v.push_back(Valid("IPv4 Host", "GET / HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n").h("Host", "127.0.0.1:80"));
  v.push_back(Valid("empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n").h("Host", ""));
  v.push_back(Valid("Host with empty port", "GET / HTTP/1.1\r\nHost: a:\r\n\r\n").h("Host", "a:"));
  v.push_back(Valid("Host reg-name characters", "GET / HTTP/1.1\r\nHost: xn--bcher-kva.a_b~c!$&'()*+,;=%41\r\n\r\n")
                  .h("Host", "xn--bcher-kva.a_b~c!$&'()*+,;=%41"));
  v.push_back(Valid("lower-case host name", "GET / HTTP/1.1\r\nhOST: a\r\n\r\n").h("hOST", "a"));
  v.push_back(Valid("names with underscores are parsed (the caller drops them)",
                    "GET / HTTP/1.1\r\nHost: a\r\nX_User: x\r\n\r\n").h("Host", "a").h("X_User", "x"));
  v.push_back(Valid("unknown and known headers",
                    "GET / HTTP/1.1\r\nHost: a\r\nX-Custom: 1\r\nTE: trailers\r\nDNT: 1\r\nUpgrade-Insecure-Requests: 1\r\n\r\n")
                  .h("Host", "a").h("X-Custom", "1").h("TE", "trailers").h("DNT", "1").h("Upgrade-Insecure-Requests", "1"));

  // Limits, at their edge.
  {
    // Request line of exactly max_request_line bytes (CRLF excluded).
    const std::string line = "GET /" + std::string(64 - 5 - 9, 'a') + " HTTP/1.1";
    v.push_back(Valid("request line exactly at the limit", line + "\r\nHost: a\r\n\r\n")
                    .t("/" + std::string(64 - 5 - 9, 'a')).h("Host", "a").lim(64, 4096, 100));
  }
  {
    const std::string line = "GET /" + std::string(64 - 5 - 9, 'a') + " HTTP/1.1";
    v.push_back(Valid("leading empty lines do not count toward max_request_line", "\r\n\r\n" + line + "\r\nHost: a\r\n\r\n")
                    .t("/" + std::string(64 - 5 - 9, 'a')).h("Host", "a").lim(64, 4096, 100));
  }
  {
    const std::string target = "/" + std::string(8190 - 14, 'x');
    v.push_back(Valid("request line of 8190 bytes with the default limits",
                      "GET " + target + " HTTP/1.1\r\nHost: a\r\n\r\n")
                    .t(target).h("Host", "a"));
  }
  {
    std::string head = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
    const size_t fill = 100 - head.size() - 4;
    head += std::string(fill, 'v') + "\r\n\r\n";
    v.push_back(Valid("head exactly at max_header_size", head)
                    .h("Host", "a").h("X", std::string(fill, 'v')).lim(100, 100, 100));
    // Bytes after a head that fits do not count toward the limit.
    v.push_back(Valid("head at max_header_size followed by a pipelined request", head)
                    .h("Host", "a").h("X", std::string(fill, 'v')).lim(100, 100, 100)
                    .after("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  }
  {
    std::string head = "GET / HTTP/1.1\r\nHost: a\r\n";
    Valid c("exactly max_headers fields", "");
    c.h("Host", "a");
    for (int i = 1; i < 10; ++i) {
      head += "X" + std::to_string(i) + ": v\r\n";
      c.h("X" + std::to_string(i), "v");
    }
    c.head = head + "\r\n";
    c.lim(8190, 16384, 10);
    v.push_back(c);
  }
  {
    Valid c("100 fields with the default limits", "");
    std::string head = "GET / HTTP/1.1\r\nHost: a\r\n";
    c.h("Host", "a");
    for (int i = 1; i < 100; ++i) {
      head += "Field-" + std::to_string(i) + ": value " + std::to_string(i) + "\r\n";
      c.h("Field-" + std::to_string(i), "value " + std::to_string(i));
    }
    c.head = head + "\r\n";
    v.push_back(c);
  }
  return v;
}

// ---- invalid requests ----------------------------------------------------------------

struct Invalid {
  std::string name;
  std::string input;
  uint16_t status;
  size_t detect_at = 0;  // when set: the prefix of this many bytes already gives the error
  ParseLimits limits;
  size_t capacity = 128;

  Invalid(std::string n, std::string in, uint16_t s) : name(std::move(n)), input(std::move(in)), status(s) {}
  Invalid& at(size_t k) { detect_at = k; return *this; }
  Invalid& lim(size_t line, size_t bytes, size_t count) {
    limits.max_request_line = line;
    limits.max_header_size = bytes;
    limits.max_headers = count;
    return *this;
  }
  Invalid& cap(size_t c) { capacity = c; return *this; }
};

void run_invalid(const Invalid& v, tsgi_test::Tally* tally) {
  Case c("invalid: " + v.name);
  Result r = parse(v.input, v.limits, v.capacity);
  if (r.status != ParseStatus::Error || r.head.error_status != v.status) {
    c.fail("whole input gave %s %u (%s), expected Error %u", status_name(r.status), r.head.error_status,
           r.head.error_reason, v.status);
  } else {
    if (r.head.error_reason == nullptr || r.head.error_reason[0] == '\0') c.fail("no error_reason");
    if (r.consumed != 0) c.fail("consumed %zu on Error", r.consumed);
  }
  for (size_t k = 0; k < v.input.size(); ++k) {
    Result p = parse(v.input.substr(0, k), v.limits, v.capacity);
    const bool same_error = p.status == ParseStatus::Error && p.head.error_status == v.status;
    if (p.status != ParseStatus::Partial && !same_error) {
      c.fail("prefix of %zu bytes gave %s %u (%s)", k, status_name(p.status), p.head.error_status,
             p.head.error_reason);
    }
    if (v.detect_at != 0 && k >= v.detect_at && !same_error) {
      c.fail("prefix of %zu bytes gave %s, expected the error from %zu bytes on", k,
             status_name(p.status), v.detect_at);
    }
  }
  tally->record(c);
}

std::string req(const std::string& fields) { return "GET / HTTP/1.1\r\n" + fields + "\r\n"; }
std::string post(const std::string& fields) { return "POST / HTTP/1.1\r\nHost: a\r\n" + fields + "\r\n"; }

std::vector<Invalid> invalid_cases() {
  std::vector<Invalid> v;
  // Line endings.
  v.push_back(Invalid("bare LF ends the request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400).at(15));
  v.push_back(Invalid("bare CR ends the request line", "GET / HTTP/1.1\rHost: a\r\n\r\n", 400).at(16));
  v.push_back(Invalid("bare LF ends a field line", "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", 400).at(24));
  v.push_back(Invalid("bare CR inside a field value", "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400).at(25));
  v.push_back(Invalid("bare LF ends the head", "GET / HTTP/1.1\r\nHost: a\r\n\n", 400).at(26));
  v.push_back(Invalid("bare CR ends the head", "GET / HTTP/1.1\r\nHost: a\r\n\rX", 400).at(27));
  v.push_back(Invalid("bare LF before the request line", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400).at(1));
  v.push_back(Invalid("bare CR before the request line", "\r\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400).at(2));
  v.push_back(Invalid("LF-only request", "GET / HTTP/1.1\nHost: a\n\n", 400));
  // Request line syntax.
  v.push_back(Invalid("empty method", " / HTTP/1.1\r\nHost: a\r\n\r\n", 400).at(1));
  v.push_back(Invalid("separator in method", "GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400).at(3));
  v.push_back(Invalid("non-ASCII in method", "G\xc3\x89T / HTTP/1.1\r\nHost: a\r\n\r\n", 400).at(2));
  v.push_back(Invalid("HTAB after method", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400).at(4));
  v.push_back(Invalid("two spaces after method", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400).at(5));
  v.push_back(Invalid("two spaces before version", "GET /  HTTP/1.1\r\nHost: a\r\n\r\n", 400).at(7));
  v.push_back(Invalid("control byte in target", "GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400).at(7));
  v.push_back(Invalid("NUL in target", tsgi_test::bytes("GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n"), 400).at(7));
  v.push_back(Invalid("DEL in target", "GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400).at(7));
  v.push_back(Invalid("HTAB in target", "GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", 400).at(7));
  v.push_back(Invalid("request line without version (HTTP/0.9)", "GET /\r\n\r\n", 400).at(6));
  v.push_back(Invalid("method only", "GET\r\n\r\n", 400).at(4));
  v.push_back(Invalid("lower-case http", "GET / http/1.1\r\nHost: a\r\n\r\n", 400).at(7));
  v.push_back(Invalid("HTTP/1.2 is not a version tsgi speaks", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 400).at(16));
  v.push_back(Invalid("HTTP/1.10", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400).at(15));
  v.push_back(Invalid("HTTP/11", "GET / HTTP/11\r\nHost: a\r\n\r\n", 400).at(13));
  v.push_back(Invalid("HTTP/1.", "GET / HTTP/1.\r\nHost: a\r\n\r\n", 400).at(14));
  v.push_back(Invalid("space after version", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400).at(15));
  v.push_back(Invalid("HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505).at(16));
  v.push_back(Invalid("HTTP/3.0", "GET / HTTP/3.0\r\n\r\n", 505).at(16));
  v.push_back(Invalid("HTTP/0.9 spelled out", "GET / HTTP/0.9\r\n\r\n", 505).at(16));
  v.push_back(Invalid("HTTP/2.0 followed by garbage is malformed, not 505", "GET / HTTP/2.0x\r\n\r\n", 400).at(15));
  v.push_back(Invalid("binary garbage", tsgi_test::bytes("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"), 400).at(1));
  // Field syntax.
  v.push_back(Invalid("whitespace between request line and first field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400).at(17));
  v.push_back(Invalid("HTAB between request line and first field", "GET / HTTP/1.1\r\n\tHost: a\r\n\r\n", 400).at(17));
  v.push_back(Invalid("obs-fold", "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n", 400).at(33));
  v.push_back(Invalid("obs-fold with HTAB", "GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n\tc\r\n\r\n", 400).at(33));
  v.push_back(Invalid("space before colon", req("Host : a\r\n"), 400).at(21));
  v.push_back(Invalid("HTAB before colon", req("Host\t: a\r\n"), 400).at(21));
  v.push_back(Invalid("empty field name", req("Host: a\r\n: b\r\n"), 400).at(26));
  v.push_back(Invalid("separator in field name", req("Host: a\r\nX(y): b\r\n"), 400).at(27));
  v.push_back(Invalid("non-ASCII in field name", req("Host: a\r\nX\xe9: b\r\n"), 400).at(27));
  v.push_back(Invalid("field line without colon", req("Host: a\r\nNoColon\r\n"), 400).at(33));
  v.push_back(Invalid("NUL in field value", req(tsgi_test::bytes("Host: a\r\nX: a\0b\r\n")), 400).at(30));
  v.push_back(Invalid("SOH in field value", req("Host: a\r\nX: a\x01\r\n"), 400).at(30));
  v.push_back(Invalid("US in field value", req("Host: a\r\nX: \x1f\r\n"), 400).at(29));
  v.push_back(Invalid("DEL in field value", req("Host: a\r\nX: a\x7f\r\n"), 400).at(30));
  v.push_back(Invalid("VT in field value", req("Host: a\r\nX: a\x0b\r\n"), 400).at(30));
  v.push_back(Invalid("ESC in leading OWS", req("Host: a\r\nX: \x1b\r\n"), 400).at(29));
  // Host.
  v.push_back(Invalid("HTTP/1.1 without Host", "GET / HTTP/1.1\r\nX: y\r\n\r\n", 400));
  v.push_back(Invalid("HTTP/1.1 without any field", "GET / HTTP/1.1\r\n\r\n", 400));
  v.push_back(Invalid("two Hosts", req("Host: a\r\nHost: a\r\n"), 400));
  v.push_back(Invalid("two Hosts on HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", 400));
  v.push_back(Invalid("Host with a space", req("Host: a b\r\n"), 400));
  v.push_back(Invalid("Host with a slash", req("Host: a/b\r\n"), 400));
  v.push_back(Invalid("Host with userinfo", req("Host: u@a\r\n"), 400));
  v.push_back(Invalid("Host with a bad port", req("Host: a:8o\r\n"), 400));
  v.push_back(Invalid("Host with two colons", req("Host: a:1:2\r\n"), 400));
  v.push_back(Invalid("Host with a six-digit port", req("Host: a:123456\r\n"), 400));
  v.push_back(Invalid("Host with an open IP literal", req("Host: [::1\r\n"), 400));
  v.push_back(Invalid("Host with an empty IP literal", req("Host: []\r\n"), 400));
  v.push_back(Invalid("Host with junk after an IP literal", req("Host: [::1]x\r\n"), 400));
  v.push_back(Invalid("Host with a bad percent-encoding", req("Host: a%4\r\n"), 400));
  v.push_back(Invalid("Host with non-ASCII", req("Host: b\xc3\xbc" "cher.example\r\n"), 400));
  v.push_back(Invalid("invalid Host on HTTP/1.0", "GET / HTTP/1.0\r\nHost: a b\r\n\r\n", 400));
  // Request-target forms (RFC 9112 §3.2).
  v.push_back(Invalid("relative reference target", "GET foo/bar HTTP/1.1\r\nHost: a\r\n\r\n", 400));
  v.push_back(Invalid("authority-form on GET", "GET example.com:443 HTTP/1.1\r\nHost: a\r\n\r\n", 400));
  v.push_back(Invalid("asterisk-form on GET", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400));
  v.push_back(Invalid("asterisk-form on an extension method", "M-SEARCH * HTTP/1.1\r\nHost: a\r\n\r\n", 400));
  v.push_back(Invalid("asterisk-form on lower-case options", "options * HTTP/1.1\r\nHost: a\r\n\r\n", 400));
  v.push_back(Invalid("asterisk followed by more", "OPTIONS *x HTTP/1.1\r\nHost: a\r\n\r\n", 400));
  v.push_back(Invalid("query-only target", "GET ?x=1 HTTP/1.1\r\nHost: a\r\n\r\n", 400));
  v.push_back(Invalid("absolute-form with the ftp scheme", "GET ftp://x/y HTTP/1.1\r\nHost: a\r\n\r\n", 400));
  v.push_back(Invalid("absolute-form with a scheme that starts like http", "GET httpx://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400));
  v.push_back(Invalid("absolute-form without //", "GET http:/a/b HTTP/1.1\r\nHost: a\r\n\r\n", 400));
  v.push_back(Invalid("absolute-form with an empty host", "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", 400));
  v.push_back(Invalid("absolute-form with only a port", "GET http://:80/x HTTP/1.1\r\nHost: a\r\n\r\n", 400));
  v.push_back(Invalid("absolute-form with userinfo", "GET http://u@evil/x HTTP/1.1\r\nHost: a\r\n\r\n", 400));
  v.push_back(Invalid("absolute-form with a bad port", "GET http://a:x/ HTTP/1.1\r\nHost: a\r\n\r\n", 400));
  v.push_back(Invalid("absolute-form still needs Host on HTTP/1.1", "GET http://a/ HTTP/1.1\r\n\r\n", 400));
  v.push_back(Invalid("absolute-form with two Hosts", "GET http://a/ HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400));
  v.push_back(Invalid("absolute-form on HTTP/1.0 with no room for Host", "GET http://a/ HTTP/1.0\r\n\r\n", 431).cap(0));
  v.push_back(Invalid("CONNECT is not implemented", "CONNECT evil:443 HTTP/1.1\r\nHost: evil:443\r\n\r\n", 501));
  v.push_back(Invalid("CONNECT with an origin-form target", "CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n", 501));
  v.push_back(Invalid("CONNECT without Host is 400 first", "CONNECT evil:443 HTTP/1.1\r\n\r\n", 400));
  // Singleton fields.
  v.push_back(Invalid("two Content-Type fields", req("Host: a\r\nContent-Type: text/plain\r\ncontent-type: text/html\r\n"), 400));
  v.push_back(Invalid("two identical Content-Type fields", req("Content-Type: a/b\r\nHost: a\r\nContent-Type: a/b\r\n"), 400));
  // Content-Length.
  v.push_back(Invalid("Content-Length not a number", post("Content-Length: abc\r\n"), 400));
  v.push_back(Invalid("Content-Length negative", post("Content-Length: -1\r\n"), 400));
  v.push_back(Invalid("Content-Length with a plus sign", post("Content-Length: +1\r\n"), 400));
  v.push_back(Invalid("Content-Length with a space inside", post("Content-Length: 1 2\r\n"), 400));
  v.push_back(Invalid("Content-Length empty", post("Content-Length:\r\n"), 400));
  v.push_back(Invalid("Content-Length hexadecimal", post("Content-Length: 0x10\r\n"), 400));
  v.push_back(Invalid("Content-Length decimal point", post("Content-Length: 1.0\r\n"), 400));
  v.push_back(Invalid("Content-Length list that differs", post("Content-Length: 5, 6\r\n"), 400));
  v.push_back(Invalid("Content-Length list with an empty element", post("Content-Length: 5,,5\r\n"), 400));
  v.push_back(Invalid("Content-Length list with a trailing comma", post("Content-Length: 5,\r\n"), 400));
  v.push_back(Invalid("Content-Length fields that differ", post("Content-Length: 5\r\nContent-Length: 6\r\n"), 400));
  v.push_back(Invalid("Content-Length over int64", post("Content-Length: 9223372036854775808\r\n"), 400));
  v.push_back(Invalid("Content-Length over uint64", post("Content-Length: 99999999999999999999999\r\n"), 400));
  // Transfer-Encoding.
  v.push_back(Invalid("Transfer-Encoding with Content-Length", post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"), 400));
  v.push_back(Invalid("Content-Length then Transfer-Encoding", post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), 400));
  v.push_back(Invalid("Transfer-Encoding on HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400));
  v.push_back(Invalid("final coding not chunked", post("Transfer-Encoding: gzip\r\n"), 400));
  v.push_back(Invalid("chunked not last", post("Transfer-Encoding: chunked, gzip\r\n"), 400));
  v.push_back(Invalid("chunked twice", post("Transfer-Encoding: chunked, chunked\r\n"), 400));
  v.push_back(Invalid("chunked twice in two fields", post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), 400));
  v.push_back(Invalid("chunked with a parameter", post("Transfer-Encoding: chunked;q=1\r\n"), 400));
  v.push_back(Invalid("empty Transfer-Encoding", post("Transfer-Encoding:\r\n"), 400));
  v.push_back(Invalid("empty coding in the list", post("Transfer-Encoding: , chunked\r\n"), 400));
  v.push_back(Invalid("coding that is not a token", post("Transfer-Encoding: \"chunked\"\r\n"), 400));
  v.push_back(Invalid("chunked spelled with junk", post("Transfer-Encoding: chunked x\r\n"), 400));
  v.push_back(Invalid("gzip then chunked is not implemented", post("Transfer-Encoding: gzip, chunked\r\n"), 501));
  v.push_back(Invalid("identity then chunked is not implemented", post("Transfer-Encoding: identity, chunked\r\n"), 501));
  v.push_back(Invalid("gzip and chunked in two fields", post("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"), 501));
  v.push_back(Invalid("coding with parameters then chunked", post("Transfer-Encoding: foo;a=b, chunked\r\n"), 501));
  // Expect.
  v.push_back(Invalid("unknown expectation", req("Host: a\r\nExpect: 200-ok\r\n"), 417));
  v.push_back(Invalid("100-continue with a parameter", req("Host: a\r\nExpect: 100-continue=1\r\n"), 417));
  v.push_back(Invalid("100-continue and another expectation", req("Host: a\r\nExpect: 100-continue, x\r\n"), 417));
  v.push_back(Invalid("unknown expectation on HTTP/1.0", "GET / HTTP/1.0\r\nExpect: x\r\n\r\n", 417));
  // Limits.
  v.push_back(Invalid("request line one byte over the limit",
                      "GET /" + std::string(64 - 5 - 9 + 1, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n", 414)
                  .lim(64, 4096, 100).at(65));
  v.push_back(Invalid("long method gives 414 before its end", std::string(100, 'G'), 414).lim(64, 4096, 100).at(65));
  v.push_back(Invalid("long target gives 414 before its end", "GET /" + std::string(100, 'a'), 414).lim(64, 4096, 100).at(65));
  v.push_back(Invalid("long version part gives 414", "GET /" + std::string(52, 'a') + " HTTP/1.1", 414).lim(64, 4096, 100).at(65));
  v.push_back(Invalid("leading empty lines do not count toward the line",
                      "\r\n\r\nGET /" + std::string(60, 'a'), 414).lim(64, 4096, 100).at(69));
  v.push_back(Invalid("request line over the default limit", "GET /" + std::string(8200, 'a'), 414).at(8191));
  {
    const std::string start = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
    v.push_back(Invalid("head one byte over max_header_size",
                        start + std::string(100 - start.size() - 4 + 1, 'v') + "\r\n\r\n", 431)
                    .lim(100, 100, 100).at(101));
  }
  v.push_back(Invalid("unterminated head gives 431 before its end",
                      "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(200, 'v'), 431).lim(100, 100, 100).at(101));
  {
    std::string crlfs;
    for (int i = 0; i < 150; ++i) crlfs += "\r\n";
    v.push_back(Invalid("endless empty lines give 431", crlfs, 431).lim(100, 100, 100).at(101));
  }
  {
    std::string many = "GET / HTTP/1.1\r\nHost: a\r\n";
    for (int i = 0; i < 10; ++i) many += "X" + std::to_string(i) + ": v\r\n";
    v.push_back(Invalid("one field over max_headers", many + "\r\n", 431).lim(8190, 16384, 10).at(many.size() - 6));
    v.push_back(Invalid("one field over the caller's capacity", many + "\r\n", 431).cap(10).at(many.size() - 6));
  }
  {
    std::string many = "GET / HTTP/1.1\r\nHost: a\r\n";
    for (int i = 0; i < 100; ++i) many += "F" + std::to_string(i) + ": v\r\n";
    v.push_back(Invalid("101 fields with the default limits", many + "\r\n", 431));
    v.push_back(Invalid("max_headers 0 refuses any field", "GET / HTTP/1.0\r\nX: y\r\n\r\n", 431).lim(8190, 16384, 0).at(17));
  }
  {
    std::string big = "GET / HTTP/1.1\r\nHost: a\r\nCookie: " + std::string(16384, 'c') + "\r\n\r\n";
    v.push_back(Invalid("head over the default 16 KiB", big, 431).at(16385));
  }
  return v;
}

// ---- the known-header table ----------------------------------------------------------

std::string upper(std::string s) {
  for (char& c : s) if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  return s;
}
std::string lower(std::string s) {
  for (char& c : s) if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return s;
}
std::string key_of(const std::string& name) {
  std::string out(tsgi::environ_key_size(name.size()), '?');
  const size_t n = tsgi::environ_key_for(name.data(), name.size(), &out[0]);
  out.resize(n);
  return out;
}
uint16_t id_of(const std::string& name) {
  const char* p = g_buf.place(name);
  return tsgi::known_header_id(p, name.size());
}

void run_known_headers(tsgi_test::Tally* tally) {
  {
    Case c("known headers: every name maps to its id in any case");
    if (tsgi::kKnownHeaderCount < 30) c.fail("only %zu known headers", tsgi::kKnownHeaderCount);
    if (std::string(tsgi::kKnownHeaderKeys[0]) != "" || std::string(tsgi::kKnownHeaderNames[0]) != "") {
      c.fail("index 0 is not empty");
    }
    for (size_t id = 1; id < tsgi::kKnownHeaderCount; ++id) {
      const std::string name = tsgi::kKnownHeaderNames[id];
      for (const std::string& spelled : {name, lower(name), upper(name)}) {
        if (id_of(spelled) != id) c.fail("%s -> %u, expected %zu", spelled.c_str(), id_of(spelled), id);
      }
    }
    tally->record(c);
  }
  {
    Case c("known headers: near misses are unknown");
    for (size_t id = 1; id < tsgi::kKnownHeaderCount; ++id) {
      const std::string name = tsgi::kKnownHeaderNames[id];
      if (id_of(name + "x") != 0) c.fail("%sx is known", name.c_str());
      if (id_of(name.substr(0, name.size() - 1)) != 0 && name.size() > 1) {
        // a prefix may itself be another known name (none is today)
        c.fail("prefix of %s is known", name.c_str());
      }
      for (size_t i = 0; i < name.size(); ++i) {
        for (char repl : {'\r', '\0', '_', 'q', '\x80', static_cast<char>(name[i] ^ 0x20)}) {
          if (repl == name[i] || (((name[i] | 0x20) >= 'a' && (name[i] | 0x20) <= 'z') && (repl == static_cast<char>(name[i] ^ 0x20))))
            continue;  // same letter in the other case is the same name
          std::string m = name;
          m[i] = repl;
          if (id_of(m) != 0) c.fail("[%s] is known as %u", show(m).c_str(), id_of(m));
        }
      }
    }
    if (id_of("") != 0) c.fail("empty name is known");
    if (id_of("Content\rLength") != 0) c.fail("CR folded to '-'");
    if (id_of("Content\x0dType") != 0) c.fail("CR folded to '-'");
    tally->record(c);
  }
  {
    Case c("known headers: environ keys follow CGI naming");
    for (size_t id = 1; id < tsgi::kKnownHeaderCount; ++id) {
      const std::string name = tsgi::kKnownHeaderNames[id];
      std::string expected = key_of(name);
      if (name == "Content-Length") expected = "CONTENT_LENGTH";
      if (name == "Content-Type") expected = "CONTENT_TYPE";
      if (expected != tsgi::kKnownHeaderKeys[id]) {
        c.fail("%s has key %s, expected %s", name.c_str(), tsgi::kKnownHeaderKeys[id], expected.c_str());
      }
      for (size_t j = 1; j < id; ++j) {
        if (lower(tsgi::kKnownHeaderNames[j]) == lower(name)) c.fail("%s listed twice", name.c_str());
      }
    }
    const uint16_t parser_ids[] = {tsgi::kHeaderHost, tsgi::kHeaderContentLength, tsgi::kHeaderTransferEncoding,
                                   tsgi::kHeaderConnection, tsgi::kHeaderExpect};
    const char* parser_names[] = {"host", "content-length", "transfer-encoding", "connection", "expect"};
    for (size_t i = 0; i < 5; ++i) {
      if (id_of(parser_names[i]) != parser_ids[i]) c.fail("%s has id %u", parser_names[i], id_of(parser_names[i]));
    }
    const char* required[] = {"HTTP_HOST", "CONTENT_LENGTH", "CONTENT_TYPE", "HTTP_CONNECTION", "HTTP_TRANSFER_ENCODING",
                              "HTTP_EXPECT", "HTTP_ACCEPT", "HTTP_ACCEPT_ENCODING", "HTTP_ACCEPT_LANGUAGE",
                              "HTTP_USER_AGENT", "HTTP_COOKIE", "HTTP_REFERER", "HTTP_AUTHORIZATION",
                              "HTTP_CACHE_CONTROL", "HTTP_ORIGIN", "HTTP_UPGRADE", "HTTP_IF_NONE_MATCH",
                              "HTTP_IF_MODIFIED_SINCE", "HTTP_PRAGMA", "HTTP_X_FORWARDED_FOR",
                              "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST", "HTTP_X_REAL_IP",
                              "HTTP_X_REQUEST_ID", "HTTP_RANGE", "HTTP_DNT", "HTTP_SEC_FETCH_SITE",
                              "HTTP_SEC_FETCH_MODE", "HTTP_SEC_FETCH_DEST", "HTTP_UPGRADE_INSECURE_REQUESTS",
                              "HTTP_KEEP_ALIVE", "HTTP_TE"};
    for (const char* k : required) {
      bool found = false;
      for (size_t id = 1; id < tsgi::kKnownHeaderCount; ++id) found = found || std::string(tsgi::kKnownHeaderKeys[id]) == k;
      if (!found) c.fail("no known header with key %s", k);
    }
    tally->record(c);
  }
  {
    Case c("environ_key_for and underscores");
    if (key_of("x-Custom-header") != "HTTP_X_CUSTOM_HEADER") c.fail("%s", key_of("x-Custom-header").c_str());
    if (key_of("a") != "HTTP_A") c.fail("%s", key_of("a").c_str());
    if (key_of("a.b!c~9") != "HTTP_A.B!C~9") c.fail("%s", key_of("a.b!c~9").c_str());
    if (key_of("") != "HTTP_") c.fail("empty name");
    if (tsgi::environ_key_size(7) != 12) c.fail("environ_key_size");
    if (!tsgi::header_name_has_underscore("X_User", 6)) c.fail("X_User");
    if (!tsgi::header_name_has_underscore("_", 1)) c.fail("_");
    if (tsgi::header_name_has_underscore("X-User", 6)) c.fail("X-User");
    if (tsgi::header_name_has_underscore("X_User", 1)) c.fail("reads past len");
    if (tsgi::header_name_has_underscore(nullptr, 0)) c.fail("empty");
    tally->record(c);
  }
}

// The parser must not read the fields array beyond the header count it reports, and must
// leave consumed and the outputs in a clean state on errors and Partial.
void run_output_hygiene(tsgi_test::Tally* tally) {
  Case c("outputs are reset between calls");
  ParseLimits limits;
  Result ok = parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n", limits, 128);
  if (ok.status != ParseStatus::Complete || !ok.head.expect_continue) c.fail("setup failed");
  RequestHead h = ok.head;  // reuse the same struct for a Partial and an Error
  size_t consumed = 99;
  const std::string partial = "GET / HTTP/1.0\r\n";
  const char* p = g_buf.place(partial);
  if (tsgi::parse_request_head(p, partial.size(), limits, &h, &consumed) != ParseStatus::Partial) c.fail("not Partial");
  if (consumed != 0) c.fail("consumed %zu on Partial", consumed);
  if (h.expect_continue || h.body_kind != BodyKind::None || h.content_length != 0 || h.error_status != 0) {
    c.fail("stale outputs after Partial");
  }
  const std::string bad = "GET / HTTP/9.9\r\n\r\n";
  p = g_buf.place(bad);
  if (tsgi::parse_request_head(p, bad.size(), limits, &h, &consumed) != ParseStatus::Error || h.error_status != 505) {
    c.fail("not 505");
  }
  p = g_buf.place(partial);
  tsgi::parse_request_head(p, partial.size(), limits, &h, &consumed);
  if (h.error_status != 0 || h.error_reason == nullptr || h.error_reason[0] != '\0') c.fail("stale error after Partial");
  // Zero capacity: a request without fields still parses; one with a field is 431.
  RequestHead z;
  const std::string nofields = "GET / HTTP/1.0\r\n\r\n";
  p = g_buf.place(nofields);
  if (tsgi::parse_request_head(p, nofields.size(), limits, &z, &consumed) != ParseStatus::Complete) c.fail("no fields");
  const std::string onefield = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
  p = g_buf.place(onefield);
  if (tsgi::parse_request_head(p, onefield.size(), limits, &z, &consumed) != ParseStatus::Error || z.error_status != 431) {
    c.fail("zero capacity did not give 431");
  }
  // Empty input.
  if (tsgi::parse_request_head(g_buf.place("", 0), 0, limits, &z, &consumed) != ParseStatus::Partial) c.fail("empty input");
  tally->record(c);
}

}  // namespace

int main() {
  tsgi_test::Tally tally;
  for (const Valid& v : valid_cases()) run_valid(v, &tally);
  for (const Invalid& v : invalid_cases()) run_invalid(v, &tally);
  run_known_headers(&tally);
  run_output_hygiene(&tally);
  return tally.finish();
}
