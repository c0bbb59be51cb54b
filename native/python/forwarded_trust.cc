// The forwarded-header trust walk (see forwarded_trust.h).
#include "forwarded_trust.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace tsgi {

namespace forwarded {

namespace {

// What JavaScript's String.prototype.trim removes, within latin-1.
bool space(unsigned char c) { return c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0xA0; }

std::string_view trim(std::string_view s) {
  size_t a = 0, b = s.size();
  while (a < b && space(static_cast<unsigned char>(s[a]))) a++;
  while (b > a && space(static_cast<unsigned char>(s[b - 1]))) b--;
  return s.substr(a, b - a);
}

bool digit(char c) { return c >= '0' && c <= '9'; }
bool alnum(char c) { return digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

bool tchar(char c) { return alnum(c) || (c != '\0' && std::strchr("!#$%&'*+.^_`|~-", c) != nullptr); }

bool digits(std::string_view s, size_t min, size_t max) {
  if (s.size() < min || s.size() > max) return false;
  for (char c : s)
    if (!digit(c)) return false;
  return true;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// The members of a comma-separated list, trimmed, empty ones skipped.
std::vector<std::string_view> split_list(std::string_view value) {
  std::vector<std::string_view> out;
  size_t at = 0;
  for (;;) {
    size_t comma = value.find(',', at);
    std::string_view member = trim(value.substr(at, comma == std::string_view::npos ? std::string_view::npos : comma - at));
    if (!member.empty()) out.push_back(member);
    if (comma == std::string_view::npos) return out;
    at = comma + 1;
  }
}

}  // namespace

const std::string* Element::get(std::string_view name) const {
  for (const auto& p : params)
    if (p.first == name) return &p.second;
  return nullptr;
}

bool parse_forwarded(std::string_view v, std::vector<Element>* out) {
  out->clear();
  size_t at = 0;
  const size_t n = v.size();
  auto ows = [&] {
    while (at < n && (v[at] == ' ' || v[at] == '\t')) at++;
  };
  ows();
  if (at == n) return false;
  Element el;
  for (;;) {
    ows();
    size_t start = at;
    while (at < n && tchar(v[at])) at++;
    if (at == start) return false;
    std::string name = lower(v.substr(start, at - start));
    if (at >= n || v[at] != '=') return false;
    at++;
    std::string value;
    if (at < n && v[at] == '"') {
      at++;
      for (;;) {
        if (at >= n) return false;
        const unsigned char c = static_cast<unsigned char>(v[at]);
        if (c == '"') {
          at++;
          break;
        }
        if (c == '\\') {
          if (at + 1 >= n) return false;
          const unsigned char d = static_cast<unsigned char>(v[at + 1]);
          if (!(d == 0x09 || (d >= 0x20 && d <= 0x7E) || d >= 0x80)) return false;
          value.push_back(static_cast<char>(d));
          at += 2;
          continue;
        }
        if (c <= 0x08 || (c >= 0x0A && c <= 0x1F) || c == 0x7F) return false;
        value.push_back(static_cast<char>(c));
        at++;
      }
    } else {
      start = at;
      while (at < n && tchar(v[at])) at++;
      if (at == start) return false;
      value.assign(v.data() + start, at - start);
    }
    if (el.get(name)) return false;  // a parameter given twice in one element
    el.params.emplace_back(std::move(name), std::move(value));
    ows();
    if (at == n) {
      out->push_back(std::move(el));
      return true;
    }
    if (v[at] == ';') {
      at++;
      continue;
    }
    if (v[at] == ',') {
      out->push_back(std::move(el));
      el = Element();
      at++;
      ows();
      if (at == n) return false;
      continue;
    }
    return false;
  }
}

bool parse_ip(std::string_view text, uint8_t out[16]) {
  std::string_view s = trim(text);
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') s = s.substr(1, s.size() - 2);
  size_t zone = s.find('%');
  if (zone != std::string_view::npos) s = s.substr(0, zone);
  char buf[64];
  if (s.empty() || s.size() >= sizeof buf) return false;
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  uint8_t v4[4];
  if (inet_pton(AF_INET, buf, v4) == 1) {
    std::memset(out, 0, 10);
    out[10] = out[11] = 0xFF;
    std::memcpy(out + 12, v4, 4);
    return true;
  }
  return inet_pton(AF_INET6, buf, out) == 1;
}

bool node_address(std::string_view node, std::string* out) {
  uint8_t ip[16];
  std::string_view s = trim(node);
  if (!s.empty() && s.front() == '[') {
    size_t end = s.find(']');
    if (end == std::string_view::npos) return false;
    std::string_view rest = s.substr(end + 1);
    if (!rest.empty() && !(rest[0] == ':' && digits(rest.substr(1), 1, 5))) return false;
    std::string_view inner = s.substr(1, end - 1);
    if (!parse_ip(inner, ip) || inner.find(':') == std::string_view::npos) return false;
    *out = lower(inner);
    return true;
  }
  // a.b.c.d, optionally with :port
  size_t colon = s.find(':');
  std::string_view addr = s.substr(0, colon);
  bool dotted = colon == std::string_view::npos || digits(s.substr(colon + 1), 1, 5);
  if (dotted) {
    size_t groups = 0, at = 0;
    for (;;) {
      size_t dot = addr.find('.', at);
      std::string_view g = addr.substr(at, dot == std::string_view::npos ? std::string_view::npos : dot - at);
      if (!digits(g, 1, 3)) {
        dotted = false;
        break;
      }
      groups++;
      if (dot == std::string_view::npos) break;
      at = dot + 1;
    }
    if (groups != 4) dotted = false;
  }
  if (dotted) {
    if (!parse_ip(addr, ip)) return false;
    *out = std::string(addr);
    return true;
  }
  // A bare IPv6 address (X-Forwarded-For carries them unbracketed).
  if (s.find(':') == std::string_view::npos || !parse_ip(s, ip)) return false;
  *out = lower(s);
  return true;
}

bool valid_port(std::string_view p) {
  if (!digits(p, 1, 5)) return false;
  unsigned n = 0;
  for (char c : p) n = n * 10 + static_cast<unsigned>(c - '0');
  return n >= 1 && n <= 65535;
}

bool split_host(std::string_view host, std::string* name, std::string* port) {
  std::string_view s = trim(host);
  std::string_view n, rest;
  if (!s.empty() && s.front() == '[') {
    size_t end = s.find(']');
    if (end == std::string_view::npos || end < 2) return false;
    for (size_t i = 1; i < end; i++) {
      char c = s[i];
      if (!(digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.')) return false;
    }
    n = s.substr(0, end + 1);
    uint8_t ip[16];
    if (!parse_ip(n, ip)) return false;
    rest = s.substr(end + 1);
  } else {
    size_t colon = s.find(':');
    n = s.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view() : s.substr(colon);
    if (n.empty() || n.size() > 254 || !alnum(n.front()) || !alnum(n.back())) return false;
    for (char c : n)
      if (!(alnum(c) || c == '.' || c == '-')) return false;
  }
  std::string_view p;
  if (!rest.empty()) {
    if (rest[0] != ':' || !digits(rest.substr(1), 1, 5)) return false;
    p = rest.substr(1);
    if (!valid_port(p)) return false;
  }
  name->assign(n.data(), n.size());
  port->assign(p.data(), p.size());
  return true;
}

}  // namespace forwarded

using namespace forwarded;

bool ForwardedTrust::configure(const std::vector<std::string>& rules, std::string* error) {
  any_ = unix_ = false;
  ranges_.clear();
  for (const std::string& rule : rules) {
    std::string_view r = forwarded::trim(rule);
    if (r.empty()) continue;
    if (r == "*") {
      any_ = true;
      continue;
    }
    if (r == "unix") {
      unix_ = true;
      continue;
    }
    CidrRange range;
    if (!parse_cidr(r.data(), r.size(), &range)) {
      *error = "forwardedAllowIps (--forwarded-allow-ips): \"" + std::string(r) +
               "\" is not an IP address or CIDR range (e.g. '10.0.0.1', '10.0.0.0/8', 'fd00::/8'), 'unix' or '*'";
      return false;
    }
    ranges_.push_back(range);
  }
  if (any_) unix_ = true;
  return true;
}

bool ForwardedTrust::trusts_hop(std::string_view address) const {
  if (any_) return true;
  uint8_t ip[16];
  return parse_ip(address, ip) && cidr_match(ranges_, ip, true);
}

bool ForwardedTrust::trusts_peer(std::string_view peer) const {
  if (any_) return true;
  if (peer.empty()) return unix_;
  return trusts_hop(peer);
}

namespace {

struct Hop {
  bool has_for = false;
  std::string for_;
  bool has_proto = false, has_host = false, has_port = false;
  std::string proto, host, port;
};

// The X-Forwarded-* member for the hop `used` places from the right.
bool pick(std::string_view value, size_t used, std::string* out) {
  std::vector<std::string_view> members = forwarded::split_list(value);
  if (members.empty()) return false;
  std::string_view m = members.size() >= used ? members[members.size() - used] : members[0];
  out->assign(m.data(), m.size());
  return true;
}

const char* default_port(const std::string& scheme) { return scheme == "https" ? "443" : "80"; }

}  // namespace

bool ForwardedTrust::apply(const ForwardedHeaders& h, ForwardedEnviron* env) const {
  if (!h.any() || !trusts_peer(env->remote_addr)) return false;
  std::vector<Hop> hops;
  bool have = false, from_x = false;
  if (!h.forwarded.empty()) {
    std::vector<Element> els;
    if (parse_forwarded(h.forwarded, &els)) {
      have = true;
      for (const Element& e : els) {
        Hop hop;
        if (const std::string* f = e.get("for")) hop.has_for = node_address(*f, &hop.for_);
        if (const std::string* p = e.get("proto")) hop.has_proto = true, hop.proto = *p;
        if (const std::string* x = e.get("host")) hop.has_host = true, hop.host = *x;
        hops.push_back(std::move(hop));
      }
    }
  }
  if (!have) {
    if (!h.x_for.empty()) {
      for (std::string_view a : forwarded::split_list(h.x_for)) {
        Hop hop;
        hop.has_for = node_address(a, &hop.for_);
        hops.push_back(std::move(hop));
      }
      have = from_x = true;
    } else if (!h.x_proto.empty() || !h.x_host.empty() || !h.x_port.empty()) {
      have = from_x = true;
    }
  }
  if (!have) return false;

  // The client's hop: the first untrusted address from the right.
  long sel = static_cast<long>(hops.size()) - 1;
  while (sel > 0) {
    const Hop& a = hops[static_cast<size_t>(sel)];
    if (!a.has_for || !trusts_hop(a.for_)) break;
    sel--;
  }
  const size_t used = static_cast<size_t>(static_cast<long>(hops.size()) - sel);  // proxies passed
  Hop hop = sel >= 0 ? hops[static_cast<size_t>(sel)] : Hop();
  if (from_x) {
    const size_t u = used < 1 ? 1 : used;
    hop.has_proto = !h.x_proto.empty() && pick(h.x_proto, u, &hop.proto);
    hop.has_host = !h.x_host.empty() && pick(h.x_host, u, &hop.host);
    hop.has_port = !h.x_port.empty() && pick(h.x_port, u, &hop.port);
  }

  if (hop.has_for && hop.for_ != env->remote_addr) {
    env->remote_addr = hop.for_;
    env->changed |= ForwardedEnviron::kRemoteAddr;
  }
  bool scheme_set = false;
  if (hop.has_proto) {
    std::string p = lower(forwarded::trim(hop.proto));
    if (p == "http" || p == "https") {
      if (p != env->scheme) env->changed |= ForwardedEnviron::kScheme;
      env->scheme = p;
      scheme_set = true;
    }
  }
  std::string port;
  bool has_port = false, host_set = false;
  std::string name, host_port;
  if (hop.has_host && split_host(hop.host, &name, &host_port)) {
    env->http_host = std::string(forwarded::trim(hop.host));
    env->has_host = true;
    env->server_name = name.front() == '[' ? name.substr(1, name.size() - 2) : name;
    env->changed |= ForwardedEnviron::kHttpHost | ForwardedEnviron::kServerName;
    if (!host_port.empty()) port = host_port, has_port = true;
    host_set = true;
  }
  if (hop.has_port) {
    std::string_view p = forwarded::trim(hop.port);
    if (valid_port(p)) {
      port = std::string(p);
      has_port = true;
      if (env->has_host && split_host(env->http_host, &name, &host_port)) {
        env->http_host = name + (port == default_port(env->scheme) ? "" : ":" + port);
        env->changed |= ForwardedEnviron::kHttpHost;
      }
    }
  }
  if (!has_port && (scheme_set || host_set)) {
    if (env->has_host && split_host(env->http_host, &name, &host_port) && !host_port.empty()) {
      port = host_port;
    } else {
      port = default_port(env->scheme);
    }
    has_port = true;
  }
  if (has_port && port != env->server_port) {
    env->server_port = port;
    env->changed |= ForwardedEnviron::kServerPort;
  }
  return env->changed != 0;
}

}  // namespace tsgi
