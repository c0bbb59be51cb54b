// Unit tests of the request record builder (request_record.h): heads parsed by the real
// parser, then the record and head string checked field by field, as src/environ.ts
// reads them. No Node, no libuv; built and run with ASan + UBSan by
// test/native-request-record.test.ts.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "../known_headers.h"
#include "../parser.h"
#include "../request_record.h"
#include "../uwsgi/uwsgi_parser.h"
#include "check.h"
#include "uwsgi_packet.h"

using namespace tsgi;


// One request head through the parser and the builder.
struct Built {
  std::string input;  // the parsed spans point into it
  HeaderField fields[64];
  RequestHead head;
  ByteBuffer text;
  std::vector<int32_t> rec;
  bool ok = false;

  std::string slice(int32_t from, int32_t to) const {
    if (from < 0 || to < from || static_cast<size_t>(to) > text.size()) return "<bad slice>";
    return std::string(text.data() + from, static_cast<size_t>(to - from));
  }
  std::string method() const { return slice(0, rec[kRecMethodEnd]); }
  std::string uri() const { return slice(rec[kRecMethodEnd], rec[kRecTargetEnd]); }
  std::string path() const { return slice(rec[kRecTargetEnd], rec[kRecPathEnd]); }
  std::string query() const {
    return rec[kRecQueryStart] < 0 ? std::string("<none>") : slice(rec[kRecQueryStart], rec[kRecTargetEnd]);
  }
  std::string addr() const { return slice(rec[kRecPathEnd], rec[kRecAddrEnd]); }
  // Header i as "KEY=value" (known ids through kKnownHeaderKeys), in record order.
  std::string header(int i) const {
    const int32_t* h = rec.data() + kRecordHeaders + 3 * i;
    int32_t prev = i == 0 ? rec[kRecAddrEnd] : rec[kRecordHeaders + 3 * (i - 1) + 2];
    std::string key = h[0] > 0 ? std::string(kKnownHeaderKeys[h[0]]) : slice(prev, h[1]);
    if (h[0] > 0) CHECK(h[1] == prev);
    return key + "=" + slice(h[1], h[2]);
  }
};

static void build(Built* b, const std::string& req, const RecordContext& ctx) {
  b->input = req;
  b->head = RequestHead{};
  b->head.headers = b->fields;
  b->head.header_capacity = 64;
  size_t used = 0;
  ParseLimits limits;
  ParseStatus st = parse_request_head(b->input.data(), b->input.size(), limits, &b->head, &used);
  b->ok = st == ParseStatus::Complete;
  if (b->ok) build_request_record(b->head, ctx, &b->text, &b->rec);
}

static RecordContext tcp_context() {
  static const char addr[] = "192.0.2.7";
  RecordContext c;
  c.remote_addr = addr;
  c.remote_addr_len = sizeof addr - 1;
  c.remote_port = 51234;
  c.local_port = 8080;
  c.listener = 2;
  return c;
}

static void test_origin_form() {
  Built b;
  build(&b, "GET /a%20b/c%2Fd?x=1&y=%41 HTTP/1.1\r\nHost: example.org\r\nX-Thing: v1\r\nAccept: */*\r\n\r\n",
        tcp_context());
  CHECK(b.ok);
  CHECK(b.method() == "GET");
  CHECK(b.uri() == "/a%20b/c%2Fd?x=1&y=%41");
  CHECK(b.path() == "/a b/c/d");  // decoded to bytes, %2F included
  CHECK(b.query() == "x=1&y=%41");  // the query stays raw
  CHECK(b.addr() == "192.0.2.7");
  CHECK(b.rec[kRecVersionMinor] == 1);
  CHECK(b.rec[kRecRemotePort] == 51234);
  CHECK(b.rec[kRecLocalPort] == 8080);
  CHECK(b.rec[kRecListener] == 2);
  CHECK(b.rec[kRecFlags] == 0);
  CHECK(b.rec[kRecHeaderCount] == 3);
  CHECK(b.header(0) == "HTTP_HOST=example.org");
  CHECK(b.header(1) == "HTTP_X_THING=v1");
  CHECK(b.header(2) == "HTTP_ACCEPT=*/*");
  CHECK(b.rec[kRecTrailersStart] == static_cast<int32_t>(b.text.size()));
  CHECK(record_ints(b.rec) == kRecordHeaders + 9);
}

static void test_no_query_and_invalid_escapes() {
  Built b;
  build(&b, "GET /100%/%zz/%4 HTTP/1.0\r\n\r\n", tcp_context());
  CHECK(b.ok);
  CHECK(b.path() == "/100%/%zz/%4");  // invalid escapes are kept as they are
  CHECK(b.query() == "<none>");
  CHECK(b.rec[kRecVersionMinor] == 0);
  CHECK(b.rec[kRecFlags] == 0);
  CHECK(b.rec[kRecHeaderCount] == 0);

  Built e;
  build(&e, "GET /p? HTTP/1.1\r\nHost: h\r\n\r\n", tcp_context());
  CHECK(e.ok);
  CHECK(e.path() == "/p");
  CHECK(e.query() == "");  // present and empty
  CHECK(e.rec[kRecQueryStart] == e.rec[kRecTargetEnd]);

  Built z;
  build(&z, "GET /%00%ff HTTP/1.1\r\nHost: h\r\n\r\n", tcp_context());
  CHECK(z.ok);
  CHECK(z.path() == std::string("/\0\xff", 3));  // any byte, NUL included
}

static void test_absolute_form() {
  Built b;
  build(&b, "GET http://example.org:8080/x%2Fy?q=1 HTTP/1.1\r\nHost: example.org:8080\r\n\r\n", tcp_context());
  CHECK(b.ok);
  CHECK(b.uri() == "http://example.org:8080/x%2Fy?q=1");
  CHECK(b.path() == "/x/y");
  CHECK(b.query() == "q=1");

  Built empty;
  build(&empty, "GET http://example.org HTTP/1.1\r\nHost: example.org\r\n\r\n", tcp_context());
  CHECK(empty.ok);
  CHECK(empty.path() == "/");  // an empty path is "/"
  CHECK(empty.query() == "<none>");

  Built q;
  build(&q, "GET https://example.org?a=b HTTP/1.1\r\nHost: example.org\r\n\r\n", tcp_context());
  CHECK(q.ok);
  CHECK(q.path() == "/");
  CHECK(q.query() == "a=b");
}

static void test_asterisk_and_flags() {
  Built b;
  build(&b, "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n", tcp_context());
  CHECK(b.ok);
  CHECK(b.uri() == "*");
  CHECK(b.path() == "*");

  Built h;
  build(&h, "HEAD / HTTP/1.1\r\nHost: h\r\n\r\n", tcp_context());
  CHECK(h.ok);
  CHECK(is_head_method(h.head));
  CHECK(h.rec[kRecFlags] == kFlagHead);

  Built c;
  build(&c, "POST /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n",
        tcp_context());
  CHECK(c.ok);
  CHECK(!is_head_method(c.head));
  CHECK(c.rec[kRecFlags] == kFlagChunkedBody);
  CHECK(c.rec[kRecHeaderCount] == 3);
  CHECK(c.header(2) == "CONTENT_TYPE=text/plain");
}

static void test_underscore_names_and_unix_socket() {
  RecordContext unix_ctx;  // Unix socket: no address, no ports
  unix_ctx.listener = 0;
  Built b;
  build(&b, "GET / HTTP/1.1\r\nHost: h\r\nX_User: admin\r\nX-User: alice\r\n\r\n", unix_ctx);
  CHECK(b.ok);
  CHECK(b.addr() == "");
  CHECK(b.rec[kRecRemotePort] == 0);
  CHECK(b.rec[kRecLocalPort] == 0);
  CHECK(b.rec[kRecHeaderCount] == 2);  // X_User is left out: it would alias X-User
  CHECK(b.header(1) == "HTTP_X_USER=alice");
}

static void test_reuse_and_growth() {
  // The same buffers for a later, larger request: cleared and grown, nothing stale.
  Built b;
  build(&b, "GET /first?x HTTP/1.1\r\nHost: h\r\n\r\n", tcp_context());
  CHECK(b.ok);
  std::string req = "GET /second HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 40; i++) req += "X-H" + std::to_string(i) + ": v" + std::to_string(i) + "\r\n";
  req += "\r\n";
  Built big;
  big.text.append("stale", 5);
  big.rec.assign(4, 7);
  build(&big, req, tcp_context());
  CHECK(big.ok);
  CHECK(big.method() == "GET");
  CHECK(big.path() == "/second");
  CHECK(big.rec[kRecHeaderCount] == 41);
  CHECK(big.rec.size() >= kRecordHeaders + 3 * 41);
  CHECK(big.header(40) == "HTTP_X_H39=v39");
  for (size_t i = 12; i < kRecordHeaders; i++) CHECK(big.rec[i] == 0);
}

// Override entry i (after the headers) as "KEY=value".
static std::string override_entry(const Built& b, int i) {
  const int32_t n = b.rec[kRecHeaderCount];
  const int32_t* o = b.rec.data() + kRecordHeaders + 3 * (n + i);
  const int32_t prev = n + i == 0 ? b.rec[kRecAddrEnd] : o[-1];
  CHECK(o[0] == 0);
  return b.slice(prev, o[1]) + "=" + b.slice(o[1], o[2]);
}

static void test_overrides() {
  // The PROXY protocol's entries after the headers, then a request's own; counted in
  // record_ints, before the trailers.
  std::vector<EnvironEntry> conn = {{"tsgi.proxy.version", "2"}, {"HTTPS", "on"}};
  std::vector<EnvironEntry> own = {{"SERVER_NAME", std::string("n\0x", 3)}};
  RecordContext ctx = tcp_context();
  ctx.connection_overrides = &conn;
  ctx.request_overrides = &own;
  Built b;
  build(&b, "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\r\n", ctx);
  CHECK(b.ok);
  CHECK(b.rec[kRecHeaderCount] == 2);
  CHECK(b.rec[kRecOverrideCount] == 3);
  CHECK(record_ints(b.rec) == kRecordHeaders + 3 * 5);
  CHECK(b.header(1) == "HTTP_X_A=1");
  CHECK(override_entry(b, 0) == "tsgi.proxy.version=2");
  CHECK(override_entry(b, 1) == "HTTPS=on");
  CHECK(override_entry(b, 2) == std::string("SERVER_NAME=n\0x", 15));
  CHECK(b.rec[kRecTrailersStart] == static_cast<int32_t>(b.text.size()));

  // At most kMaxOverrides.
  std::vector<EnvironEntry> many(kMaxOverrides + 5, EnvironEntry{"K", "v"});
  RecordContext c2 = tcp_context();
  c2.connection_overrides = &many;
  Built m;
  build(&m, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", c2);
  CHECK(m.rec[kRecOverrideCount] == static_cast<int32_t>(kMaxOverrides));

  // None: the count is 0.
  Built z;
  build(&z, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", tcp_context());
  CHECK(z.rec[kRecOverrideCount] == 0);
}

// A uwsgi packet through the uwsgi parser and the uwsgi record builder.
struct BuiltUwsgi : Built {
  UwsgiRequest u;
};

static void build_uwsgi(BuiltUwsgi* b, const std::vector<std::pair<std::string, std::string>>& vars,
                        const RecordContext& ctx) {
  b->input = uwsgi_packet(vars);
  b->u = UwsgiRequest();
  b->u.head.headers = b->fields;
  b->u.head.header_capacity = 64;
  size_t used = 0;
  b->ok = parse_uwsgi_packet(b->input.data(), b->input.size(), UwsgiLimits{}, &b->u, &used) == UwsgiStatus::Complete;
  if (b->ok) build_uwsgi_request_record(b->u, ctx, &b->text, &b->rec);
}

static void test_uwsgi_record() {
  BuiltUwsgi a;
  build_uwsgi(&a, {{"REQUEST_METHOD", "POST"}, {"REQUEST_URI", "/a%20b?x=1"}, {"PATH_INFO", "/a b"},
                   {"QUERY_STRING", "x=1"}, {"REMOTE_ADDR", "203.0.113.5"}, {"REMOTE_PORT", "4444"},
                   {"HTTP_HOST", "h"}, {"HTTP_X_ODD_NAME", "v"}, {"CONTENT_LENGTH", "3"}},
              tcp_context());
  CHECK(a.ok);
  CHECK(a.method() == "POST");
  CHECK(a.uri() == "/a%20b?x=1");
  CHECK(a.query() == "x=1");
  CHECK(a.path() == "/a b");  // PATH_INFO as sent, not decoded again
  CHECK(a.addr() == "203.0.113.5");
  CHECK(a.rec[kRecRemotePort] == 4444);
  CHECK(a.rec[kRecLocalPort] == 8080);
  CHECK(a.rec[kRecListener] == 2);
  CHECK(a.rec[kRecFlags] == kFlagUwsgi);  // never keep-alive
  CHECK(a.rec[kRecHeaderCount] == 3);
  CHECK(a.header(0) == "HTTP_HOST=h");
  CHECK(a.header(1) == "HTTP_X_ODD_NAME=v");  // the variable's key as sent
  CHECK(a.header(2) == "CONTENT_LENGTH=3");
  CHECK(a.rec[kRecOverrideCount] == 0);

  // No REQUEST_URI, no PATH_INFO decoding needed; no REMOTE_ADDR: the connection's.
  BuiltUwsgi b;
  build_uwsgi(&b, {{"REQUEST_METHOD", "HEAD"}, {"PATH_INFO", "/p"}, {"QUERY_STRING", "q=2"}}, tcp_context());
  CHECK(b.ok);
  CHECK(b.uri() == "/p?q=2");
  CHECK(b.query() == "q=2");
  CHECK(b.path() == "/p");
  CHECK(b.addr() == "192.0.2.7");
  CHECK(b.rec[kRecRemotePort] == 51234);
  CHECK(b.rec[kRecFlags] == (kFlagUwsgi | kFlagHead));

  // No PATH_INFO: REQUEST_URI's path, percent-decoded; request overrides follow.
  std::vector<EnvironEntry> own = {{"SERVER_NAME", "www"}};
  RecordContext ctx = tcp_context();
  ctx.request_overrides = &own;
  BuiltUwsgi c;
  build_uwsgi(&c, {{"REQUEST_METHOD", "GET"}, {"REQUEST_URI", "/caf%C3%A9/%zz?k"}}, ctx);
  CHECK(c.ok);
  CHECK(c.path() == "/caf\xC3\xA9/%zz");
  CHECK(c.query() == "k");
  CHECK(c.rec[kRecOverrideCount] == 1);
  CHECK(override_entry(c, 0) == "SERVER_NAME=www");
}

// Names without a known id get their key's code (as a negative id) when the context has
// a table: the same key text, the same code, across records; others keep id 0.
static void test_name_codes() {
  HeaderNameCodes codes;
  RecordContext ctx = tcp_context();
  ctx.name_codes = &codes;
  Built a;
  build(&a, "GET / HTTP/1.1\r\nHost: h\r\nX-Trace-Token: t1\r\nX-Other: o\r\n\r\n", ctx);
  CHECK(a.ok);
  CHECK(a.rec[kRecHeaderCount] == 3);
  const int32_t* h = a.rec.data() + kRecordHeaders;
  CHECK(h[0] == kHeaderHost);
  CHECK(h[3] == -1);
  CHECK(h[6] == -2);
  CHECK(a.header(1) == "HTTP_X_TRACE_TOKEN=t1");  // the key text is still there
  CHECK(a.header(2) == "HTTP_X_OTHER=o");
  // Another record, another spelling of the same key: the same codes.
  Built b;
  build(&b, "GET / HTTP/1.1\r\nx-other: p\r\nx-trace-token: t2\r\nX-New: n\r\nHost: h\r\n\r\n", ctx);
  CHECK(b.ok);
  h = b.rec.data() + kRecordHeaders;
  CHECK(h[0] == -2);
  CHECK(h[3] == -1);
  CHECK(h[6] == -3);
  CHECK(h[9] == kHeaderHost);
  CHECK(b.header(1) == "HTTP_X_TRACE_TOKEN=t2");
  CHECK(codes.size() == 3);
  // Without a table: id 0, as always.
  Built c;
  build(&c, "GET / HTTP/1.1\r\nX-Other: o\r\nHost: h\r\n\r\n", tcp_context());
  CHECK(c.ok);
  CHECK(c.rec[kRecordHeaders] == 0);
  CHECK(c.header(0) == "HTTP_X_OTHER=o");
}

// The table itself: stable codes, exact bytes, bounded size.
static void test_name_code_table() {
  HeaderNameCodes codes;
  CHECK(codes.code("HTTP_A", 6) == 1);
  CHECK(codes.code("HTTP_B", 6) == 2);
  CHECK(codes.code("HTTP_A", 6) == 1);
  CHECK(codes.code("HTTP_a", 6) == 3);  // bytes, not case-folded
  CHECK(codes.code("HTTP_A", 5) == 4);  // a prefix is another key
  CHECK(codes.code("", 0) == 0);
  const std::string longest(HeaderNameCodes::kMaxKeyLength, 'K');
  CHECK(codes.code(longest.data(), longest.size()) == 5);
  const std::string too_long(HeaderNameCodes::kMaxKeyLength + 1, 'K');
  CHECK(codes.code(too_long.data(), too_long.size()) == 0);
  CHECK(codes.size() == 5);
  // Filled up: new keys get 0, keys already coded keep their codes.
  for (size_t i = 0; codes.size() < HeaderNameCodes::kMaxKeys; i++) {
    const std::string k = "HTTP_FILL_" + std::to_string(i);
    CHECK(codes.code(k.data(), k.size()) == static_cast<int32_t>(codes.size()));
  }
  CHECK(codes.code("HTTP_ONE_MORE", 13) == 0);
  CHECK(codes.code("HTTP_B", 6) == 2);
  CHECK(codes.code(longest.data(), longest.size()) == 5);
  for (size_t i = 0; i < HeaderNameCodes::kMaxKeys - 5; i++) {
    const std::string k = "HTTP_FILL_" + std::to_string(i);
    CHECK(codes.code(k.data(), k.size()) == static_cast<int32_t>(6 + i));
  }
  CHECK(codes.size() == HeaderNameCodes::kMaxKeys);
}

int main() {
  test_name_codes();
  test_name_code_table();
  test_overrides();
  test_uwsgi_record();
  test_origin_form();
  test_no_query_and_invalid_escapes();
  test_absolute_form();
  test_asterisk_and_flags();
  test_underscore_names_and_unix_socket();
  test_reuse_and_growth();
  return tsgi::unit::checks_result("request_record_test");
}
