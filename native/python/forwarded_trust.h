// forwardedAllowIps for applications served inside the native core: X-Forwarded-For,
// -Proto, -Host, -Port and RFC 7239 Forwarded set REMOTE_ADDR, wsgi.url_scheme and
// HTTP_HOST (SERVER_NAME/SERVER_PORT with it) when the connection's peer is a trusted
// proxy. The rule is the JavaScript gateway's (src/forwarded-trust.ts, proxyFix's walk in
// src/middleware/proxy-fix.ts): walk the forwarded-for list from the right, skipping
// trusted proxies; the first untrusted address is the client (every address trusted: the
// leftmost). Forwarded is preferred when present and well-formed; X-Forwarded-Proto/-Host/
// -Port take the member as many places from the right as the proxies passed (or the only
// member). Anything malformed is ignored. Plain C++ (no Python, no Node): tested by
// native/unit/forwarded_trust_test.cc.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "../proxy/allow_list.h"

namespace tsgi {

// The request's forwarding headers ('' when absent; repeated fields joined with ',').
struct ForwardedHeaders {
  std::string_view forwarded;
  std::string_view x_for;
  std::string_view x_proto;
  std::string_view x_host;
  std::string_view x_port;
  bool any() const {
    return !forwarded.empty() || !x_for.empty() || !x_proto.empty() || !x_host.empty() || !x_port.empty();
  }
};

// The environ values the walk reads and may replace; `changed` says which it replaced.
struct ForwardedEnviron {
  enum : unsigned { kRemoteAddr = 1, kScheme = 2, kHttpHost = 4, kServerName = 8, kServerPort = 16 };
  std::string remote_addr;  // '' on a Unix socket
  std::string scheme;       // wsgi.url_scheme
  bool has_host = false;    // HTTP_HOST present
  std::string http_host;
  std::string server_name;
  std::string server_port;
  unsigned changed = 0;
};

class ForwardedTrust {
 public:
  // rules: addresses, CIDR ranges, "unix" (Unix-socket peers), "*" (anyone); blank
  // entries are skipped. False with *error naming the first bad rule.
  bool configure(const std::vector<std::string>& rules, std::string* error);
  // Whether anyone is trusted at all.
  bool enabled() const { return any_ || unix_ || !ranges_.empty(); }
  // Whether the connection's peer (REMOTE_ADDR; '' on a Unix socket) is trusted.
  bool trusts_peer(std::string_view peer) const;
  // Whether a forwarded hop's address is trusted.
  bool trusts_hop(std::string_view address) const;
  // The walk, for a request whose peer is trusted (checks it): rewrites *env from the
  // headers. Returns env->changed != 0.
  bool apply(const ForwardedHeaders& headers, ForwardedEnviron* env) const;

 private:
  bool any_ = false;
  bool unix_ = false;
  std::vector<CidrRange> ranges_;
};

// The parsing pieces, exposed for the unit tests.
namespace forwarded {
struct Element {
  std::vector<std::pair<std::string, std::string>> params;  // names lower-cased
  const std::string* get(std::string_view name) const;
};
// The elements of a Forwarded value; false when malformed.
bool parse_forwarded(std::string_view value, std::vector<Element>* out);
// The address of a node ("192.0.2.1", "[2001:db8::1]:4711", "1.2.3.4:80"); false for
// "unknown", obfuscated and malformed nodes.
bool node_address(std::string_view node, std::string* out);
// A Host value as hostname (brackets kept) and port ('' when absent); false when invalid.
bool split_host(std::string_view host, std::string* name, std::string* port);
bool valid_port(std::string_view p);
// A parsed IP address as 16 bytes (IPv4 as IPv4-mapped IPv6); false when not one.
bool parse_ip(std::string_view text, uint8_t out[16]);
}  // namespace forwarded

}  // namespace tsgi
