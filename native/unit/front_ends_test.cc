// Unit tests of a connection's protocol front-ends, plain C++ with no Node and no libuv:
// the PROXY header read into the peer address and environ entries
// (proxy/proxy_front_end.h, peer_address.h), the uwsgi request parsed and built into a
// record (uwsgi/uwsgi_front_end.h), and the health path's match and answer
// (health_check.h). Built and run with ASan + UBSan by test/native-front-ends.test.ts.
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../health_check.h"
#include "../parser.h"
#include "../peer_address.h"
#include "../proxy/proxy_front_end.h"
#include "../request_record.h"
#include "../uwsgi/uwsgi_front_end.h"
#include "check.h"
#include "uwsgi_packet.h"

using namespace tsgi;


static std::string peer_text(const PeerAddress& p) { return std::string(p.text, p.len); }

static const EnvironEntry* find_entry(const std::vector<EnvironEntry>& v, const std::string& key) {
  for (const EnvironEntry& e : v)
    if (e.key == key) return &e;
  return nullptr;
}

static void test_peer_address() {
  PeerAddress p;
  std::strcpy(p.text, "::ffff:192.0.2.7");
  p.text_written();
  CHECK(peer_text(p) == "192.0.2.7");
  std::strcpy(p.text, "2001:db8::1");
  p.text_written();
  CHECK(peer_text(p) == "2001:db8::1");
  std::strcpy(p.text, "::ffff:abcd");  // not an IPv4-mapped address in dotted form: kept
  p.text_written();
  CHECK(peer_text(p) == "::ffff:abcd");
  p.port = 80;
  p.clear();
  CHECK(p.len == 0 && p.port == 0 && p.text[0] == '\0');
}

static void test_proxy_front_end() {
  // v1 with addresses: the peer becomes the client it names; the request bytes after the
  // header are not consumed.
  const std::string header = "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n";
  const std::string input = header + "GET / HTTP/1.1\r\n\r\n";
  PeerAddress peer;
  std::strcpy(peer.text, "127.0.0.1");
  peer.text_written();
  peer.port = 1000;
  std::unique_ptr<std::vector<EnvironEntry>> entries;
  size_t used = 99;
  CHECK(read_proxy_front(input.data(), input.size(), &peer, &entries, &used) == ProxyRead::Done);
  CHECK(used == header.size());
  CHECK(peer_text(peer) == "192.0.2.1");
  CHECK(peer.port == 56324);
  CHECK(entries != nullptr);
  if (entries) {
    const EnvironEntry* v = find_entry(*entries, "tsgi.proxy.version");
    CHECK(v && v->value == "1");
    const EnvironEntry* d = find_entry(*entries, "tsgi.proxy.destinationPort");
    CHECK(d && d->value == "443");
  }

  // Every prefix of the header is incomplete, and touches nothing.
  for (size_t n = 0; n < header.size(); n++) {
    PeerAddress p2;
    std::strcpy(p2.text, "10.0.0.1");
    p2.text_written();
    std::unique_ptr<std::vector<EnvironEntry>> e2;
    size_t u2 = 7;
    CHECK(read_proxy_front(header.data(), n, &p2, &e2, &u2) == ProxyRead::Incomplete);
    CHECK(u2 == 0);
    CHECK(peer_text(p2) == "10.0.0.1");
    CHECK(e2 == nullptr);
  }

  // An IPv4 client given as IPv4-mapped IPv6 reads as IPv4.
  const std::string v6 = "PROXY TCP6 ::ffff:203.0.113.9 ::1 4000 80\r\n";
  PeerAddress p3;
  p3.clear();
  CHECK(read_proxy_front(v6.data(), v6.size(), &p3, &entries, &used) == ProxyRead::Done);
  CHECK(peer_text(p3) == "203.0.113.9");
  CHECK(p3.port == 4000);

  // UNKNOWN: no addresses, the peer is kept; the entries are replaced, not appended to.
  const std::string unknown = "PROXY UNKNOWN\r\n";
  PeerAddress p4;
  std::strcpy(p4.text, "127.0.0.1");
  p4.text_written();
  p4.port = 5;
  CHECK(read_proxy_front(unknown.data(), unknown.size(), &p4, &entries, &used) == ProxyRead::Done);
  CHECK(used == unknown.size());
  CHECK(peer_text(p4) == "127.0.0.1" && p4.port == 5);
  CHECK(entries && !find_entry(*entries, "tsgi.proxy.sourceAddress"));
  const EnvironEntry* fam = entries ? find_entry(*entries, "tsgi.proxy.family") : nullptr;
  CHECK(fam && fam->value == "UNKNOWN");

  // Not a PROXY header.
  const std::string http = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  PeerAddress p5;
  p5.clear();
  CHECK(read_proxy_front(http.data(), http.size(), &p5, &entries, &used) == ProxyRead::Malformed);
  CHECK(p5.len == 0);
}

static std::string slice(const ByteBuffer& t, int32_t from, int32_t to) {
  if (from < 0 || to < from || static_cast<size_t>(to) > t.size()) return "<bad slice>";
  return std::string(t.data() + from, static_cast<size_t>(to - from));
}

static void test_uwsgi_front_end() {
  HeaderField fields[64];
  const std::string packet = uwsgi_packet({{"REQUEST_METHOD", "POST"},
                                           {"REQUEST_URI", "/p?x=1"},
                                           {"SERVER_PROTOCOL", "HTTP/1.1"},
                                           {"SERVER_NAME", "example.org"},
                                           {"HTTPS", "on"},
                                           {"HTTP_HOST", "example.org"},
                                           {"CONTENT_LENGTH", "4"}});
  const std::string input = packet + "body";
  UwsgiFrontEnd fe;
  size_t used = 0;
  CHECK(fe.parse(input.data(), input.size(), UwsgiLimits{}, fields, 64, &used) == UwsgiStatus::Complete);
  CHECK(used == packet.size());
  CHECK(fe.head().body_kind == BodyKind::Length && fe.head().content_length == 4);
  CHECK(std::string(fe.head().method.data, fe.head().method.len) == "POST");

  RecordContext ctx;
  ctx.remote_addr = "192.0.2.1";
  ctx.remote_addr_len = 9;
  ctx.remote_port = 4321;
  ctx.local_port = 8000;
  std::vector<EnvironEntry> conn = {{"tsgi.proxy.version", "2"}};
  ctx.connection_overrides = &conn;
  ByteBuffer text;
  std::vector<int32_t> rec;
  fe.build_record(ctx, &text, &rec);
  CHECK(slice(text, 0, rec[kRecMethodEnd]) == "POST");
  CHECK(slice(text, rec[kRecMethodEnd], rec[kRecTargetEnd]) == "/p?x=1");
  // The connection's overrides first, then the packet's own (SERVER_NAME, HTTPS, scheme…).
  const int32_t headers = rec[kRecHeaderCount];
  const int32_t overrides = rec[kRecOverrideCount];
  CHECK(overrides >= 3);
  std::vector<std::string> keys;
  for (int32_t i = 0; i < overrides; i++) {
    const int32_t* o = rec.data() + kRecordHeaders + 3 * (headers + i);
    const int32_t prev = headers + i == 0 ? rec[kRecAddrEnd] : o[-1];
    keys.push_back(slice(text, prev, o[1]) + "=" + slice(text, o[1], o[2]));
  }
  CHECK(!keys.empty() && keys[0] == "tsgi.proxy.version=2");
  bool server_name = false;
  bool https = false;
  for (const std::string& k : keys) {
    if (k == "SERVER_NAME=example.org") server_name = true;
    if (k == "HTTPS=on") https = true;
  }
  CHECK(server_name && https);

  // A second request through the same front-end: the previous entries are gone.
  const std::string plain = uwsgi_packet({{"REQUEST_METHOD", "GET"}, {"PATH_INFO", "/"}});
  CHECK(fe.parse(plain.data(), plain.size(), UwsgiLimits{}, fields, 64, &used) == UwsgiStatus::Complete);
  RecordContext ctx2;
  fe.build_record(ctx2, &text, &rec);
  CHECK(rec[kRecOverrideCount] == 0);

  // Incomplete at every prefix; refused over the packet limit (431).
  for (size_t n = 0; n < packet.size(); n++) {
    UwsgiFrontEnd f2;
    size_t u2 = 0;
    CHECK(f2.parse(packet.data(), n, UwsgiLimits{}, fields, 64, &u2) == UwsgiStatus::Incomplete);
  }
  UwsgiLimits small;
  small.buffer_size = 16;
  UwsgiFrontEnd f3;
  CHECK(f3.parse(packet.data(), packet.size(), small, fields, 64, &used) == UwsgiStatus::Error);
  CHECK(f3.error_status() == 431);
  CHECK(UwsgiFrontEnd::kResponseMinor == 0 && !UwsgiFrontEnd::kKeepAlive);
}

static void test_health_check() {
  HeaderField fields[16];
  auto record_of = [&](const std::string& req, ByteBuffer* text, std::vector<int32_t>* rec) {
    RequestHead h;
    h.headers = fields;
    h.header_capacity = 16;
    size_t used = 0;
    ParseStatus st = parse_request_head(req.data(), req.size(), ParseLimits{}, &h, &used);
    CHECK(st == ParseStatus::Complete);
    if (st == ParseStatus::Complete) build_request_record(h, RecordContext{}, text, rec);
  };
  ByteBuffer text;
  std::vector<int32_t> rec;
  record_of("GET /healthz?probe=1 HTTP/1.1\r\nHost: h\r\n\r\n", &text, &rec);
  CHECK(is_health_request(rec.data(), text.data(), "/healthz"));
  CHECK(!is_health_request(rec.data(), text.data(), "/health"));
  CHECK(!is_health_request(rec.data(), text.data(), "/healthz/"));
  // The path as received, percent-decoded.
  record_of("GET /health%7A HTTP/1.1\r\nHost: h\r\n\r\n", &text, &rec);
  CHECK(is_health_request(rec.data(), text.data(), "/healthz"));

  HealthAnswer ok = health_answer(false);
  CHECK(ok.status == 200 && !ok.close);
  CHECK(std::string(ok.body, ok.body_len) == "OK\n");
  CHECK(std::string(ok.head, ok.head_len).rfind("200 OK\r\n", 0) == 0);
  HealthAnswer draining = health_answer(true);
  CHECK(draining.status == 503 && draining.close);
  CHECK(std::string(draining.body, draining.body_len) == "draining\n");
  std::string dh(draining.head, draining.head_len);
  CHECK(dh.rfind("503 Service Unavailable\r\n", 0) == 0);
  CHECK(dh.find("Retry-After: 1\r\n") != std::string::npos);
  CHECK(dh.size() >= 2 && dh.compare(dh.size() - 2, 2, "\r\n") == 0);
}

int main() {
  test_peer_address();
  test_proxy_front_end();
  test_uwsgi_front_end();
  test_health_check();
  return tsgi::unit::checks_result("front_ends_test");
}
