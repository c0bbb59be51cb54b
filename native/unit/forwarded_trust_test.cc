// Unit tests of the forwarded-header trust walk (native/python/forwarded_trust.h): the
// cases test/forwarded-allow-ips.test.ts and test/middleware-proxy-fix.test.ts prove for
// the JavaScript gateway, on the plain C++ walk. No Node, no Python; built and run with
// ASan + UBSan by test/native-forwarded-trust.test.ts.
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "../python/forwarded_trust.h"
#include "check.h"

using namespace tsgi;


static ForwardedTrust trust(std::vector<std::string> rules) {
  ForwardedTrust t;
  std::string error;
  CHECK(t.configure(rules, &error));
  return t;
}

// A request from peer on http://localhost:8000 (Host: localhost).
static ForwardedEnviron env(const char* peer = "127.0.0.1") {
  ForwardedEnviron e;
  e.remote_addr = peer;
  e.scheme = "http";
  e.has_host = true;
  e.http_host = "localhost";
  e.server_name = "localhost";
  e.server_port = "8000";
  return e;
}

static ForwardedHeaders forged() {
  ForwardedHeaders h;
  h.x_for = "203.0.113.7";
  h.x_proto = "https";
  h.x_host = "www.example.com";
  return h;
}

static void trusted_peer() {
  ForwardedTrust t = trust({"127.0.0.1"});
  ForwardedEnviron e = env();
  CHECK(t.apply(forged(), &e));
  CHECK_EQ(e.remote_addr, "203.0.113.7");
  CHECK_EQ(e.scheme, "https");
  CHECK_EQ(e.http_host, "www.example.com");
  CHECK_EQ(e.server_name, "www.example.com");
  CHECK_EQ(e.server_port, "443");
}

static void ranges_and_untrusted() {
  ForwardedEnviron e = env();
  CHECK(trust({"10.0.0.0/8", "127.0.0.0/8"}).apply(forged(), &e));
  CHECK_EQ(e.remote_addr, "203.0.113.7");
  // Not trusted: nothing changes, Forwarded included.
  ForwardedHeaders h = forged();
  h.forwarded = "for=198.51.100.1;proto=https;host=evil.example";
  e = env();
  CHECK(!trust({"10.0.0.0/8", "::1"}).apply(h, &e));
  CHECK_EQ(e.remote_addr, "127.0.0.1");
  CHECK_EQ(e.scheme, "http");
  CHECK_EQ(e.http_host, "localhost");
  CHECK(e.changed == 0);
  // No one trusted.
  ForwardedTrust none = trust({});
  CHECK(!none.enabled());
  e = env();
  CHECK(!none.apply(forged(), &e));
  // '*': anyone.
  e = env("192.0.2.200");
  CHECK(trust({"*"}).apply(forged(), &e));
  CHECK_EQ(e.remote_addr, "203.0.113.7");
}

static void forwarded_preferred() {
  ForwardedHeaders h;
  h.forwarded = "for=\"[2001:db8::7]:4711\";proto=https;host=api.example";
  h.x_for = "192.0.2.1";
  ForwardedEnviron e = env();
  CHECK(trust({"127.0.0.1"}).apply(h, &e));
  CHECK_EQ(e.remote_addr, "2001:db8::7");
  CHECK_EQ(e.scheme, "https");
  CHECK_EQ(e.http_host, "api.example");
  CHECK_EQ(e.server_port, "443");
  // A malformed Forwarded falls back to X-Forwarded-For.
  h.forwarded = "for=1.2.3.4;for=5.6.7.8";
  e = env();
  CHECK(trust({"127.0.0.1"}).apply(h, &e));
  CHECK_EQ(e.remote_addr, "192.0.2.1");
  CHECK_EQ(e.scheme, "http");
  // Several elements: the walk skips trusted proxies from the right.
  h = ForwardedHeaders();
  h.forwarded = "for=203.0.113.1;proto=https, for=10.0.0.5;proto=http";
  e = env();
  CHECK(trust({"127.0.0.1", "10.0.0.0/8"}).apply(h, &e));
  CHECK_EQ(e.remote_addr, "203.0.113.1");
  CHECK_EQ(e.scheme, "https");
}

static void walk() {
  ForwardedHeaders h;
  h.x_for = "6.6.6.6, 203.0.113.9, 10.1.1.1";
  ForwardedEnviron e = env();
  CHECK(trust({"127.0.0.1", "10.0.0.0/8"}).apply(h, &e));
  CHECK_EQ(e.remote_addr, "203.0.113.9");
  // The X-Forwarded-Proto member for the same hop (two proxies passed).
  h.x_proto = "http, https";
  h.x_for = "203.0.113.9, 10.1.1.1";
  e = env();
  CHECK(trust({"127.0.0.1", "10.0.0.0/8"}).apply(h, &e));
  CHECK_EQ(e.scheme, "http");
  // Every address trusted: the leftmost.
  h = ForwardedHeaders();
  h.x_for = "10.0.0.1, 10.0.0.2";
  e = env();
  CHECK(trust({"127.0.0.1", "10.0.0.0/8"}).apply(h, &e));
  CHECK_EQ(e.remote_addr, "10.0.0.1");
  // IPv6 hops, bare and bracketed; IPv4 ranges match IPv4-mapped addresses.
  h.x_for = "2001:DB8::9, ::ffff:10.0.0.3";
  e = env();
  CHECK(trust({"127.0.0.1", "10.0.0.0/8"}).apply(h, &e));
  CHECK_EQ(e.remote_addr, "2001:db8::9");
}

static void malformed() {
  ForwardedHeaders h;
  h.x_for = "not-an-ip";
  h.x_proto = "javascript";
  h.x_host = "evil host/x";
  ForwardedEnviron e = env();
  CHECK(!trust({"127.0.0.1"}).apply(h, &e));
  CHECK_EQ(e.remote_addr, "127.0.0.1");
  CHECK_EQ(e.scheme, "http");
  CHECK_EQ(e.http_host, "localhost");
  CHECK_EQ(e.server_port, "8000");
  std::vector<forwarded::Element> els;
  CHECK(!forwarded::parse_forwarded("", &els));
  CHECK(!forwarded::parse_forwarded("for=1.2.3.4,", &els));
  CHECK(!forwarded::parse_forwarded("for=\"1.2.3.4", &els));
  CHECK(!forwarded::parse_forwarded("for = 1.2.3.4", &els));
  CHECK(forwarded::parse_forwarded("For=\"\\[::1\\]\" ; proto=https ,for=unknown", &els));
  CHECK(els.size() == 2 && *els[0].get("for") == "[::1]" && *els[0].get("proto") == "https");
  std::string a;
  CHECK(!forwarded::node_address("unknown", &a));
  CHECK(!forwarded::node_address("_hidden", &a));
  CHECK(!forwarded::node_address("[1.2.3.4]", &a));
  CHECK(!forwarded::node_address("1.2.3.256", &a));
  CHECK(forwarded::node_address(" 1.2.3.4:80 ", &a) && a == "1.2.3.4");
  CHECK(forwarded::node_address("[::1]:8080", &a) && a == "::1");
  std::string n, p;
  CHECK(forwarded::split_host("Example.com:8080", &n, &p) && n == "Example.com" && p == "8080");
  CHECK(forwarded::split_host("[::1]", &n, &p) && n == "[::1]" && p.empty());
  CHECK(!forwarded::split_host("example.com:0", &n, &p));
  CHECK(!forwarded::split_host("example.com:", &n, &p));
  CHECK(!forwarded::split_host("-example.com", &n, &p));
  CHECK(!forwarded::split_host("[zz]", &n, &p));
  ForwardedTrust t;
  std::string error;
  CHECK(!t.configure({"10.0.0.0/33"}, &error));
  CHECK(error.find("10.0.0.0/33") != std::string::npos);
  CHECK(!t.configure({"proxy.local"}, &error));
}

static void ports_and_prefix() {
  // X-Forwarded-Port rewrites HTTP_HOST's port (none for the scheme's default).
  ForwardedHeaders h;
  h.x_proto = "https";
  h.x_port = "8443";
  ForwardedEnviron e = env();
  CHECK(trust({"127.0.0.1"}).apply(h, &e));
  CHECK_EQ(e.http_host, "localhost:8443");
  CHECK_EQ(e.server_port, "8443");
  h.x_port = "443";
  e = env();
  CHECK(trust({"127.0.0.1"}).apply(h, &e));
  CHECK_EQ(e.http_host, "localhost");
  CHECK_EQ(e.server_port, "443");
  // A forwarded host's own port.
  h = ForwardedHeaders();
  h.x_host = "[2001:db8::1]:9000";
  e = env();
  CHECK(trust({"127.0.0.1"}).apply(h, &e));
  CHECK_EQ(e.server_name, "2001:db8::1");
  CHECK_EQ(e.server_port, "9000");
}

static void unix_peers() {
  ForwardedHeaders h = forged();
  ForwardedEnviron e = env("");
  CHECK(trust({"unix"}).apply(h, &e));
  CHECK_EQ(e.remote_addr, "203.0.113.7");
  e = env("");
  CHECK(!trust({"127.0.0.1", "::1"}).apply(h, &e));
  CHECK_EQ(e.remote_addr, "");
  // ::1 is not 127.0.0.1.
  e = env("::1");
  CHECK(!trust({"127.0.0.1"}).apply(h, &e));
  e = env("::1");
  CHECK(trust({"::1"}).apply(h, &e));
}

static std::vector<std::string> split(const std::string& s, char d) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == d) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

// --cases: one request a line on stdin, tab-separated (rules joined with ',', peer,
// Forwarded, X-Forwarded-For, -Proto, -Host, -Port, Host or <none>), the environ after the
// walk a line on stdout (REMOTE_ADDR, scheme, HTTP_HOST or <none>, SERVER_NAME,
// SERVER_PORT; SERVER_NAME 'srv' and SERVER_PORT '8000' before it): the JavaScript walk
// is compared with it on the same lines.
static int cases() {
  std::string line;
  while (std::getline(std::cin, line)) {
    std::vector<std::string> f = split(line, '\t');
    if (f.size() != 8) return 2;
    ForwardedTrust t;
    std::string error;
    t.configure(split(f[0], ','), &error);
    ForwardedEnviron e;
    e.remote_addr = f[1];
    e.scheme = "http";
    e.has_host = f[7] != "<none>";
    if (e.has_host) e.http_host = f[7];
    e.server_name = "srv";
    e.server_port = "8000";
    ForwardedHeaders h;
    h.forwarded = f[2];
    h.x_for = f[3];
    h.x_proto = f[4];
    h.x_host = f[5];
    h.x_port = f[6];
    t.apply(h, &e);
    std::cout << e.remote_addr << '\t' << e.scheme << '\t' << (e.has_host ? e.http_host : "<none>") << '\t'
              << e.server_name << '\t' << e.server_port << '\n';
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--cases") == 0) return cases();
  trusted_peer();
  ranges_and_untrusted();
  forwarded_preferred();
  walk();
  malformed();
  ports_and_prefix();
  unix_peers();
  return tsgi::unit::checks_result("forwarded_trust_test");
}
