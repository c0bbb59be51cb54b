// Who may send a PROXY protocol header: a list of IPv4/IPv6 addresses and CIDR ranges,
// matched against a connection's peer. Plain C++ (no Node), no allocation when matching.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tsgi {

struct CidrRange {
  bool any = false;      // "*": every address
  bool v6 = false;       // family of addr
  uint8_t addr[16] = {}; // network byte order, the bits past prefix cleared
  uint8_t prefix = 0;    // significant bits (32 or 128 for a single address)
};

// Parses "192.0.2.1", "10.0.0.0/8", "::1", "2001:db8::/32" or "*". Host bits past the
// prefix are allowed and cleared ("10.1.2.3/8" is 10.0.0.0/8). Refused (false): anything
// else, a prefix over 32 (IPv4) or 128 (IPv6), a prefix with leading zeros or a sign,
// an IPv6 zone ("fe80::1%eth0").
bool parse_cidr(const char* text, size_t len, CidrRange* out);

// True when the address (IPv4: 4 bytes, IPv6: 16) is in one of the ranges. An
// IPv4-mapped IPv6 address (::ffff:a.b.c.d) also matches the IPv4 ranges.
bool cidr_match(const std::vector<CidrRange>& ranges, const uint8_t* addr, bool v6);

// The same for a socket address (AF_INET, AF_INET6). Any other family (AF_UNIX: the
// peer is a local process that the socket file's permissions let in) is allowed.
bool cidr_match_peer(const std::vector<CidrRange>& ranges, const sockaddr* peer);

// True for an IPv4 or IPv6 peer on a loopback address: 127.0.0.0/8, ::1, ::ffff:127.x.y.z.
bool is_loopback_peer(const sockaddr* peer);

}  // namespace tsgi
