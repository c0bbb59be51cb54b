// The PROXY protocol header (HAProxy's, versions 1 and 2) that a load balancer sends
// before the client's bytes: a pure function over a caller-owned span, like
// parse_request_head. No allocation, no Node; TLV values are spans into the buffer.
//
// Version 1: one text line of at most 107 bytes, CRLF included:
//   "PROXY TCP4 <src> <dst> <sport> <dport>\r\n", "PROXY TCP6 ...", "PROXY UNKNOWN ...\r\n"
// Version 2: the 12-byte signature "\r\n\r\n\0\r\nQUIT\n", version/command (0x20 LOCAL,
// 0x21 PROXY), family/transport, a 16-bit big-endian length, the addresses (AF_INET 12
// bytes, AF_INET6 36, AF_UNIX 216), then type-length-value records.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../parser.h"

namespace tsgi {

enum class ProxyStatus : uint8_t {
  Complete,    // a whole header was parsed; *consumed = its size (the client's bytes follow)
  Incomplete,  // no error so far, but the header is not complete: call again with more bytes
  Error,       // not a PROXY header, or a malformed one: error_reason says what
};

enum class ProxyCommand : uint8_t {
  Local,  // v2 LOCAL (a health check from the proxy itself): use the real addresses
  Proxy,  // v1, or v2 PROXY: the addresses below are the client's (unless family Unspec)
};

enum class ProxyFamily : uint8_t {
  Unspec,  // v1 UNKNOWN, v2 AF_UNSPEC or LOCAL: no addresses, use the connection's
  Inet,    // IPv4: the first 4 bytes of src_addr / dst_addr
  Inet6,   // IPv6: 16 bytes
  Unix,    // v2 AF_UNIX: src_unix / dst_unix
};

// PP2_TYPE_* and PP2_SUBTYPE_SSL_* record types.
enum ProxyTlvType : uint8_t {
  kPp2Alpn = 0x01,
  kPp2Authority = 0x02,
  kPp2Crc32c = 0x03,
  kPp2Noop = 0x04,
  kPp2UniqueId = 0x05,
  kPp2Ssl = 0x20,
  kPp2SslVersion = 0x21,
  kPp2SslCn = 0x22,
  kPp2SslCipher = 0x23,
  kPp2SslSigAlg = 0x24,
  kPp2SslKeyAlg = 0x25,
  kPp2Netns = 0x30,
};

// PP2_CLIENT_* bits of ProxySsl::client.
enum ProxySslClient : uint8_t { kPp2ClientSsl = 0x01, kPp2ClientCertConn = 0x02, kPp2ClientCertSess = 0x04 };

struct ProxyTlv {
  uint8_t type = 0;
  Span value;
};

// The PP2_TYPE_SSL record: how the client reached the proxy.
struct ProxySsl {
  bool present = false;
  uint8_t client = 0;   // PP2_CLIENT_* bits
  uint32_t verify = 0;  // 0 when the client presented a certificate that verified
  Span version;         // PP2_SUBTYPE_SSL_VERSION, e.g. "TLSv1.3"
  Span cipher;          // PP2_SUBTYPE_SSL_CIPHER, e.g. "TLS_AES_128_GCM_SHA256"
  Span cn;              // PP2_SUBTYPE_SSL_CN: the client certificate's Common Name
  Span sig_alg;         // PP2_SUBTYPE_SSL_SIG_ALG
  Span key_alg;         // PP2_SUBTYPE_SSL_KEY_ALG
};

struct ProxyLimits {
  // The largest v2 header accepted, its 16 fixed bytes included (the length field
  // allows 16 + 65535). Version 1 is always at most 107 bytes.
  size_t max_v2_bytes = 4096;
};

struct ProxyHeader {
  // in: optional caller storage for every TLV of a v2 PROXY header in arrival order (SSL
  // sub-records not included). nullptr: TLVs are read into the fields below only.
  ProxyTlv* tlvs = nullptr;
  size_t tlv_capacity = 0;

  // out
  uint8_t version = 0;  // 1 or 2
  ProxyCommand command = ProxyCommand::Local;
  ProxyFamily family = ProxyFamily::Unspec;
  uint8_t transport = 0;      // v2: 0 unspecified, 1 stream, 2 datagram; v1: 1
  uint8_t src_addr[16] = {};  // network byte order (4 bytes used for Inet)
  uint8_t dst_addr[16] = {};
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  Span src_unix;  // AF_UNIX paths, up to the first NUL
  Span dst_unix;
  Span alpn;       // PP2_TYPE_ALPN, e.g. "h2"
  Span authority;  // PP2_TYPE_AUTHORITY: the host name the client asked for (SNI)
  Span unique_id;  // PP2_TYPE_UNIQUE_ID (at most 128 bytes)
  Span netns;      // PP2_TYPE_NETNS
  bool crc_checked = false;  // a PP2_TYPE_CRC32C record was present and matched
  ProxySsl ssl;
  size_t tlv_count = 0;  // TLVs stored in tlvs
  const char* error_reason = "";

  // True when the header carries the client's address (use it instead of the peer's).
  bool has_addresses() const {
    return command == ProxyCommand::Proxy && (family == ProxyFamily::Inet || family == ProxyFamily::Inet6);
  }
};

// Parses the PROXY header at the start of [data, data + len). Incomplete input is checked
// as far as it goes (the signature byte by byte, a v1 line's length, a v2 length against
// the limit) and re-parsed from the start on the next call; *consumed is set only on
// Complete (0 otherwise).
//
// Refused (Error):
//   - input that is neither "PROXY " nor the v2 signature;
//   - v1: no CRLF within 107 bytes, a LF without CR, bytes outside printable ASCII;
//     a protocol other than TCP4, TCP6 or UNKNOWN; not exactly one SP between fields;
//     an address that is not the protocol's (dotted-quad IPv4 with no leading zeros, or
//     IPv6 text); a port that is not 1 to 5 digits up to 65535;
//   - v2: a version other than 2, a command other than LOCAL or PROXY, a family above
//     AF_UNIX or a transport above DGRAM; a header over limits.max_v2_bytes; a length
//     too short for the family's addresses (PROXY command);
//   - v2 TLVs (PROXY command with an address family): a record running past the header;
//     PP2_TYPE_ALPN, AUTHORITY, CRC32C, UNIQUE_ID, SSL or NETNS given twice; a CRC32C
//     record that is not 4 bytes or does not match; an empty AUTHORITY or ALPN; a
//     UNIQUE_ID over 128 bytes; an SSL record under 5 bytes, or a sub-record running
//     past it, or a sub-record type given twice; more TLVs than tlv_capacity (when tlvs
//     is given).
// A LOCAL header, and a PROXY header with AF_UNSPEC, is accepted whatever follows its 16
// fixed bytes (the specification says to skip it); a v1 UNKNOWN line likewise.
ProxyStatus parse_proxy_header(const char* data, size_t len, const ProxyLimits& limits, ProxyHeader* out,
                               size_t* consumed);

// Writes the text form of the source (or destination) address of an Inet / Inet6 header
// into out ("192.0.2.1", "2001:db8::1"), NUL-terminated; returns its length, 0 for other
// families. cap must be at least 46.
size_t format_proxy_address(const ProxyHeader& h, bool source, char* out, size_t cap);

// CRC-32C (Castagnoli) of a byte run, as PP2_TYPE_CRC32C uses.
uint32_t crc32c(const uint8_t* data, size_t len, uint32_t crc = 0);

}  // namespace tsgi
