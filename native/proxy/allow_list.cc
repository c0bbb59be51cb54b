// Address ranges for the PROXY protocol's allow list (see allow_list.h).
#include "allow_list.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace tsgi {

namespace {

bool prefix_match(const uint8_t* a, const uint8_t* range, unsigned bits) {
  const unsigned whole = bits / 8;
  if (std::memcmp(a, range, whole) != 0) return false;
  const unsigned rest = bits % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (a[whole] & mask) == range[whole];
}

constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};

}  // namespace

bool parse_cidr(const char* text, size_t len, CidrRange* out) {
  *out = CidrRange();
  if (len == 1 && text[0] == '*') {
    out->any = true;
    return true;
  }
  char buf[64];
  const char* slash = static_cast<const char*>(std::memchr(text, '/', len));
  const size_t alen = slash ? static_cast<size_t>(slash - text) : len;
  if (alen == 0 || alen >= sizeof buf) return false;
  std::memcpy(buf, text, alen);
  buf[alen] = '\0';
  if (inet_pton(AF_INET, buf, out->addr) == 1) {
    out->v6 = false;
  } else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
    out->v6 = true;
  } else {
    return false;
  }
  const unsigned max = out->v6 ? 128 : 32;
  unsigned prefix = max;
  if (slash) {
    const char* p = slash + 1;
    const size_t n = len - alen - 1;
    if (n == 0 || n > 3 || (n > 1 && p[0] == '0')) return false;
    prefix = 0;
    for (size_t i = 0; i < n; ++i) {
      if (p[i] < '0' || p[i] > '9') return false;
      prefix = prefix * 10 + static_cast<unsigned>(p[i] - '0');
    }
    if (prefix > max) return false;
  }
  out->prefix = static_cast<uint8_t>(prefix);
  // Clear the host bits.
  for (unsigned bit = prefix; bit < max; ++bit) out->addr[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
  return true;
}

bool cidr_match(const std::vector<CidrRange>& ranges, const uint8_t* addr, bool v6) {
  const bool mapped = v6 && std::memcmp(addr, kMappedPrefix, 12) == 0;
  for (const CidrRange& r : ranges) {
    if (r.any) return true;
    if (r.v6 == v6 && prefix_match(addr, r.addr, r.prefix)) return true;
    if (mapped && !r.v6 && prefix_match(addr + 12, r.addr, r.prefix)) return true;
  }
  return false;
}

bool cidr_match_peer(const std::vector<CidrRange>& ranges, const sockaddr* peer) {
  if (peer->sa_family == AF_INET) {
    const sockaddr_in* in = reinterpret_cast<const sockaddr_in*>(peer);
    return cidr_match(ranges, reinterpret_cast<const uint8_t*>(&in->sin_addr), false);
  }
  if (peer->sa_family == AF_INET6) {
    const sockaddr_in6* in6 = reinterpret_cast<const sockaddr_in6*>(peer);
    return cidr_match(ranges, reinterpret_cast<const uint8_t*>(&in6->sin6_addr), true);
  }
  return true;
}

bool is_loopback_peer(const sockaddr* peer) {
  static const std::vector<CidrRange> kLoopback = [] {
    std::vector<CidrRange> r(2);
    parse_cidr("127.0.0.0/8", 11, &r[0]);
    parse_cidr("::1", 3, &r[1]);
    return r;
  }();
  return (peer->sa_family == AF_INET || peer->sa_family == AF_INET6) && cidr_match_peer(kLoopback, peer);
}

}  // namespace tsgi
