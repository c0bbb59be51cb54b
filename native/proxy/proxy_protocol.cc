// The PROXY protocol header parser (see proxy_protocol.h for the format and the rules).
#include "proxy_protocol.h"

#include <arpa/inet.h>

#include <cstring>

namespace tsgi {

namespace {

constexpr char kV2Signature[12] = {'\r', '\n', '\r', '\n', '\0', '\r', '\n', 'Q', 'U', 'I', 'T', '\n'};
constexpr char kV1Prefix[6] = {'P', 'R', 'O', 'X', 'Y', ' '};
constexpr size_t kV1Max = 107;  // the longest v1 line, CRLF included
constexpr size_t kV2Fixed = 16;
constexpr size_t kMaxUniqueId = 128;

ProxyStatus fail(ProxyHeader* h, const char* reason) {
  h->error_reason = reason;
  return ProxyStatus::Error;
}

inline uint16_t be16(const char* p) {
  return static_cast<uint16_t>((static_cast<unsigned>(static_cast<unsigned char>(p[0])) << 8) |
                               static_cast<unsigned char>(p[1]));
}

inline uint32_t be32(const char* p) {
  return (static_cast<uint32_t>(static_cast<unsigned char>(p[0])) << 24) |
         (static_cast<uint32_t>(static_cast<unsigned char>(p[1])) << 16) |
         (static_cast<uint32_t>(static_cast<unsigned char>(p[2])) << 8) |
         static_cast<uint32_t>(static_cast<unsigned char>(p[3]));
}

// ---- version 1 ------------------------------------------------------------------------

// A port: 1 to 5 decimal digits, at most 65535.
bool parse_port(const char* p, size_t n, uint16_t* out) {
  if (n == 0 || n > 5) return false;
  uint32_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    if (p[i] < '0' || p[i] > '9') return false;
    v = v * 10 + static_cast<uint32_t>(p[i] - '0');
  }
  if (v > 65535) return false;
  *out = static_cast<uint16_t>(v);
  return true;
}

bool parse_address(int af, const char* p, size_t n, uint8_t* out) {
  char buf[48];
  if (n == 0 || n >= sizeof buf) return false;
  std::memcpy(buf, p, n);
  buf[n] = '\0';
  return inet_pton(af, buf, out) == 1;
}

// The line [data, data + n) without its CRLF, after "PROXY ".
ProxyStatus parse_v1_fields(const char* p, size_t n, ProxyHeader* h) {
  // Split on single spaces: protocol, src, dst, sport, dport.
  const char* fields[5] = {};
  size_t lens[5] = {};
  size_t count = 0;
  size_t start = 0;
  for (size_t i = 0; i <= n; ++i) {
    if (i == n || p[i] == ' ') {
      if (count == 0 && i - start == 7 && std::memcmp(p + start, "UNKNOWN", 7) == 0) {
        // Whatever follows UNKNOWN is ignored (the specification's rule for receivers).
        h->family = ProxyFamily::Unspec;
        return ProxyStatus::Complete;
      }
      if (i == start) return fail(h, "PROXY v1: an empty field (two spaces, or a space at an end)");
      if (count == 5) return fail(h, "PROXY v1: more than five fields");
      fields[count] = p + start;
      lens[count] = i - start;
      ++count;
      start = i + 1;
    }
  }
  int af;
  if (lens[0] == 4 && std::memcmp(fields[0], "TCP4", 4) == 0) {
    h->family = ProxyFamily::Inet;
    af = AF_INET;
  } else if (lens[0] == 4 && std::memcmp(fields[0], "TCP6", 4) == 0) {
    h->family = ProxyFamily::Inet6;
    af = AF_INET6;
  } else {
    return fail(h, "PROXY v1: the protocol is not TCP4, TCP6 or UNKNOWN");
  }
  if (count != 5) return fail(h, "PROXY v1: fewer than five fields");
  if (!parse_address(af, fields[1], lens[1], h->src_addr)) return fail(h, "PROXY v1: the source address is not valid for the protocol");
  if (!parse_address(af, fields[2], lens[2], h->dst_addr)) return fail(h, "PROXY v1: the destination address is not valid for the protocol");
  if (!parse_port(fields[3], lens[3], &h->src_port)) return fail(h, "PROXY v1: the source port is not a port number");
  if (!parse_port(fields[4], lens[4], &h->dst_port)) return fail(h, "PROXY v1: the destination port is not a port number");
  return ProxyStatus::Complete;
}

ProxyStatus parse_v1(const char* data, size_t len, ProxyHeader* h, size_t* consumed) {
  h->version = 1;
  h->command = ProxyCommand::Proxy;
  h->transport = 1;
  const size_t scan = len < kV1Max ? len : kV1Max;
  for (size_t i = sizeof kV1Prefix; i < scan; ++i) {
    const unsigned char c = static_cast<unsigned char>(data[i]);
    if (c == '\r') {
      if (i + 1 >= kV1Max) return fail(h, "PROXY v1: no CRLF within 107 bytes");
      if (i + 1 == len) return ProxyStatus::Incomplete;
      if (data[i + 1] != '\n') return fail(h, "PROXY v1: CR without LF");
      ProxyStatus st = parse_v1_fields(data + sizeof kV1Prefix, i - sizeof kV1Prefix, h);
      if (st == ProxyStatus::Complete) *consumed = i + 2;
      return st;
    }
    if (c == '\n') return fail(h, "PROXY v1: LF without CR");
    if (c < 0x20 || c > 0x7E) return fail(h, "PROXY v1: a byte that is not printable ASCII");
  }
  if (len >= kV1Max) return fail(h, "PROXY v1: no CRLF within 107 bytes");
  return ProxyStatus::Incomplete;
}

// ---- version 2 ------------------------------------------------------------------------

// The SSL record's value: client, verify, then sub-records.
ProxyStatus parse_ssl(const char* p, size_t n, ProxyHeader* h) {
  if (n < 5) return fail(h, "PROXY v2: the SSL record is shorter than 5 bytes");
  ProxySsl& s = h->ssl;
  s.present = true;
  s.client = static_cast<uint8_t>(p[0]);
  s.verify = be32(p + 1);
  bool seen[6] = {};
  size_t at = 5;
  while (at < n) {
    if (n - at < 3) return fail(h, "PROXY v2: an SSL sub-record header runs past the SSL record");
    const uint8_t type = static_cast<uint8_t>(p[at]);
    const size_t vlen = be16(p + at + 1);
    at += 3;
    if (vlen > n - at) return fail(h, "PROXY v2: an SSL sub-record runs past the SSL record");
    const Span value{p + at, vlen};
    at += vlen;
    Span* field = nullptr;
    switch (type) {
      case kPp2SslVersion: field = &s.version; break;
      case kPp2SslCn: field = &s.cn; break;
      case kPp2SslCipher: field = &s.cipher; break;
      case kPp2SslSigAlg: field = &s.sig_alg; break;
      case kPp2SslKeyAlg: field = &s.key_alg; break;
      default: break;  // other sub-records are skipped
    }
    if (field != nullptr) {
      const size_t i = type - kPp2SslVersion + 1;
      if (seen[i]) return fail(h, "PROXY v2: an SSL sub-record is given twice");
      seen[i] = true;
      *field = value;
    }
  }
  return ProxyStatus::Complete;
}

ProxyStatus parse_tlvs(const char* header, size_t total, size_t at, ProxyHeader* h) {
  bool seen_alpn = false, seen_authority = false, seen_crc = false, seen_unique = false, seen_ssl = false,
       seen_netns = false;
  while (at < total) {
    if (total - at < 3) return fail(h, "PROXY v2: a TLV header runs past the PROXY header");
    const uint8_t type = static_cast<uint8_t>(header[at]);
    const size_t vlen = be16(header + at + 1);
    const size_t value_at = at + 3;
    if (vlen > total - value_at) return fail(h, "PROXY v2: a TLV runs past the PROXY header");
    const Span value{header + value_at, vlen};
    if (h->tlvs != nullptr) {
      if (h->tlv_count >= h->tlv_capacity) return fail(h, "PROXY v2: more TLVs than tsgi keeps");
      h->tlvs[h->tlv_count].type = type;
      h->tlvs[h->tlv_count].value = value;
      h->tlv_count++;
    }
    switch (type) {
      case kPp2Alpn:
        if (seen_alpn) return fail(h, "PROXY v2: ALPN is given twice");
        if (vlen == 0) return fail(h, "PROXY v2: ALPN is empty");
        seen_alpn = true;
        h->alpn = value;
        break;
      case kPp2Authority:
        if (seen_authority) return fail(h, "PROXY v2: AUTHORITY is given twice");
        if (vlen == 0) return fail(h, "PROXY v2: AUTHORITY is empty");
        seen_authority = true;
        h->authority = value;
        break;
      case kPp2Crc32c: {
        if (seen_crc) return fail(h, "PROXY v2: CRC32C is given twice");
        if (vlen != 4) return fail(h, "PROXY v2: CRC32C is not 4 bytes");
        seen_crc = true;
        // The checksum of the whole header with the checksum's own bytes as zeros.
        const uint8_t* u = reinterpret_cast<const uint8_t*>(header);
        static const uint8_t zeros[4] = {0, 0, 0, 0};
        uint32_t crc = crc32c(u, value_at);
        crc = crc32c(zeros, 4, crc);
        crc = crc32c(u + value_at + 4, total - value_at - 4, crc);
        if (crc != be32(value.data)) return fail(h, "PROXY v2: the CRC32C checksum does not match");
        h->crc_checked = true;
        break;
      }
      case kPp2UniqueId:
        if (seen_unique) return fail(h, "PROXY v2: UNIQUE_ID is given twice");
        if (vlen > kMaxUniqueId) return fail(h, "PROXY v2: UNIQUE_ID is longer than 128 bytes");
        seen_unique = true;
        h->unique_id = value;
        break;
      case kPp2Ssl: {
        if (seen_ssl) return fail(h, "PROXY v2: SSL is given twice");
        seen_ssl = true;
        ProxyStatus st = parse_ssl(value.data, vlen, h);
        if (st != ProxyStatus::Complete) return st;
        break;
      }
      case kPp2Netns:
        if (seen_netns) return fail(h, "PROXY v2: NETNS is given twice");
        seen_netns = true;
        h->netns = value;
        break;
      default:
        break;  // NOOP, custom and unknown types are skipped
    }
    at = value_at + vlen;
  }
  return ProxyStatus::Complete;
}

Span unix_path(const char* p) {
  const void* nul = std::memchr(p, '\0', 108);
  return Span{p, nul ? static_cast<size_t>(static_cast<const char*>(nul) - p) : 108};
}

ProxyStatus parse_v2(const char* data, size_t len, const ProxyLimits& limits, ProxyHeader* h, size_t* consumed) {
  h->version = 2;
  if (len < 13) return ProxyStatus::Incomplete;
  const uint8_t vc = static_cast<uint8_t>(data[12]);
  if ((vc >> 4) != 2) return fail(h, "PROXY v2: the version is not 2");
  if ((vc & 0xF) > 1) return fail(h, "PROXY v2: the command is neither LOCAL nor PROXY");
  h->command = (vc & 0xF) == 1 ? ProxyCommand::Proxy : ProxyCommand::Local;
  if (len < 14) return ProxyStatus::Incomplete;
  const uint8_t ft = static_cast<uint8_t>(data[13]);
  if ((ft >> 4) > 3) return fail(h, "PROXY v2: the address family is not UNSPEC, INET, INET6 or UNIX");
  if ((ft & 0xF) > 2) return fail(h, "PROXY v2: the transport is not UNSPEC, STREAM or DGRAM");
  h->transport = ft & 0xF;
  if (len < kV2Fixed) return ProxyStatus::Incomplete;
  const size_t total = kV2Fixed + be16(data + 14);
  if (total > limits.max_v2_bytes) return fail(h, "PROXY v2: the header is larger than tsgi accepts");
  if (len < total) return ProxyStatus::Incomplete;
  const ProxyFamily family = static_cast<ProxyFamily>(ft >> 4);
  if (h->command == ProxyCommand::Local || family == ProxyFamily::Unspec) {
    // The proxy's own connection, or addresses it cannot express: the block is skipped.
    h->family = ProxyFamily::Unspec;
    *consumed = total;
    return ProxyStatus::Complete;
  }
  h->family = family;
  const char* a = data + kV2Fixed;
  size_t at;
  switch (family) {
    case ProxyFamily::Inet:
    case ProxyFamily::Inet6: {
      // Source and destination address, then source and destination port.
      const bool v4 = family == ProxyFamily::Inet;
      const size_t n = v4 ? 4 : 16;
      if (total < kV2Fixed + 2 * n + 4) {
        return fail(h, v4 ? "PROXY v2: the length is too short for IPv4 addresses"
                          : "PROXY v2: the length is too short for IPv6 addresses");
      }
      std::memcpy(h->src_addr, a, n);
      std::memcpy(h->dst_addr, a + n, n);
      h->src_port = be16(a + 2 * n);
      h->dst_port = be16(a + 2 * n + 2);
      at = kV2Fixed + 2 * n + 4;
      break;
    }
    default:  // Unix
      if (total < kV2Fixed + 216) return fail(h, "PROXY v2: the length is too short for Unix addresses");
      h->src_unix = unix_path(a);
      h->dst_unix = unix_path(a + 108);
      at = kV2Fixed + 216;
      break;
  }
  ProxyStatus st = parse_tlvs(data, total, at, h);
  if (st == ProxyStatus::Complete) *consumed = total;
  return st;
}

// The CRC-32C table (reflected polynomial 0x82F63B78), built at compile time.
struct Crc32cTable {
  uint32_t t[256];
  constexpr Crc32cTable() : t() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[i] = c;
    }
  }
};
constexpr Crc32cTable kCrc32c;

}  // namespace

uint32_t crc32c(const uint8_t* data, size_t len, uint32_t crc) {
  crc = ~crc;
  for (size_t i = 0; i < len; ++i) crc = kCrc32c.t[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

ProxyStatus parse_proxy_header(const char* data, size_t len, const ProxyLimits& limits, ProxyHeader* out,
                               size_t* consumed) {
  *consumed = 0;
  {
    ProxyTlv* storage = out->tlvs;
    const size_t capacity = out->tlv_capacity;
    *out = ProxyHeader();
    out->tlvs = storage;
    out->tlv_capacity = capacity;
  }
  // The first bytes say which version, or that this is no PROXY header at all.
  const size_t n1 = len < sizeof kV1Prefix ? len : sizeof kV1Prefix;
  if (std::memcmp(data, kV1Prefix, n1) == 0) {
    if (len < sizeof kV1Prefix) return ProxyStatus::Incomplete;
    return parse_v1(data, len, out, consumed);
  }
  const size_t n2 = len < sizeof kV2Signature ? len : sizeof kV2Signature;
  if (std::memcmp(data, kV2Signature, n2) == 0) {
    if (len < sizeof kV2Signature) return ProxyStatus::Incomplete;
    return parse_v2(data, len, limits, out, consumed);
  }
  return fail(out, "no PROXY protocol header (neither \"PROXY \" nor the v2 signature)");
}

size_t format_proxy_address(const ProxyHeader& h, bool source, char* out, size_t cap) {
  const uint8_t* a = source ? h.src_addr : h.dst_addr;
  const int af = h.family == ProxyFamily::Inet ? AF_INET : h.family == ProxyFamily::Inet6 ? AF_INET6 : 0;
  if (af == 0 || cap < 46 || inet_ntop(af, a, out, static_cast<socklen_t>(cap)) == nullptr) {
    if (cap > 0) out[0] = '\0';
    return 0;
  }
  return std::strlen(out);
}

}  // namespace tsgi
