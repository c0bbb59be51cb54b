// Table tests of the PROXY protocol header parser (native/proxy/proxy_protocol.h) and of
// the allow list's address ranges (native/proxy/allow_list.h).
//
// Every valid header is parsed whole (alone and followed by the client's first bytes) and
// at every prefix, which must all be Incomplete; every invalid header is parsed whole,
// which must be an Error, and at every prefix, which must be Incomplete or an Error.
// Inputs end right before a PROT_NONE page, so an over-read faults; the build uses
// -fsanitize=address,undefined. Prints "N passed, N failed".
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "../proxy/allow_list.h"
#include "../proxy/proxy_protocol.h"
#include "test_support.h"

using tsgi::ProxyCommand;
using tsgi::ProxyFamily;
using tsgi::ProxyHeader;
using tsgi::ProxyLimits;
using tsgi::ProxyStatus;
using tsgi::ProxyTlv;
using tsgi_test::Case;
using tsgi_test::GuardedBuffer;
using tsgi_test::show;

namespace {

GuardedBuffer g_buf(1 << 18);

const std::string kSig("\r\n\r\n\0\r\nQUIT\n", 12);

std::string be16(size_t n) { return std::string{static_cast<char>((n >> 8) & 0xFF), static_cast<char>(n & 0xFF)}; }
std::string be32(uint32_t n) { return be16(n >> 16) + be16(n & 0xFFFF); }

std::string tlv(uint8_t type, const std::string& value) {
  return std::string(1, static_cast<char>(type)) + be16(value.size()) + value;
}

std::string ipv4(const char* text) {
  uint8_t a[4];
  if (inet_pton(AF_INET, text, a) != 1) std::abort();
  return std::string(reinterpret_cast<char*>(a), 4);
}

std::string ipv6(const char* text) {
  uint8_t a[16];
  if (inet_pton(AF_INET6, text, a) != 1) std::abort();
  return std::string(reinterpret_cast<char*>(a), 16);
}

// A v2 header: version/command byte, family/transport byte, then the block.
std::string v2(uint8_t ver_cmd, uint8_t fam, const std::string& block) {
  return kSig + std::string(1, static_cast<char>(ver_cmd)) + std::string(1, static_cast<char>(fam)) +
         be16(block.size()) + block;
}

std::string inet_block(const char* src, const char* dst, uint16_t sp, uint16_t dp) {
  return ipv4(src) + ipv4(dst) + be16(sp) + be16(dp);
}

std::string inet6_block(const char* src, const char* dst, uint16_t sp, uint16_t dp) {
  return ipv6(src) + ipv6(dst) + be16(sp) + be16(dp);
}

std::string unix_block(const std::string& src, const std::string& dst) {
  std::string a = src, b = dst;
  a.resize(108, '\0');
  b.resize(108, '\0');
  return a + b;
}

// A v2 PROXY TCP4 header with a correct CRC32C record placed after the given TLVs.
std::string with_crc(const std::string& tlvs_before) {
  std::string h = v2(0x21, 0x11, inet_block("192.0.2.1", "198.51.100.2", 1000, 443) + tlvs_before +
                                     tlv(tsgi::kPp2Crc32c, std::string(4, '\0')));
  const uint32_t crc = tsgi::crc32c(reinterpret_cast<const uint8_t*>(h.data()), h.size());
  return h.substr(0, h.size() - 4) + be32(crc);
}

const char* status_name(ProxyStatus s) {
  switch (s) {
    case ProxyStatus::Complete: return "Complete";
    case ProxyStatus::Incomplete: return "Incomplete";
    case ProxyStatus::Error: return "Error";
  }
  return "?";
}

struct Result {
  ProxyStatus status;
  ProxyHeader h;
  size_t consumed;
  const char* data;
  std::vector<ProxyTlv> tlvs;
};

Result parse(const std::string& input, const ProxyLimits& limits, size_t capacity, bool collect = true) {
  Result r{};
  r.data = g_buf.place(input);
  r.tlvs.resize(capacity);
  if (collect) {
    r.h.tlvs = r.tlvs.data();
    r.h.tlv_capacity = capacity;
  }
  r.consumed = 12345;
  r.status = tsgi::parse_proxy_header(r.data, input.size(), limits, &r.h, &r.consumed);
  return r;
}

std::string span(tsgi::Span s) { return std::string(s.data, s.len); }

struct Valid {
  std::string name;
  std::string header;
  int version = 2;
  ProxyCommand command = ProxyCommand::Proxy;
  ProxyFamily family = ProxyFamily::Inet;
  std::string src, dst;  // text
  uint16_t sport = 0, dport = 0;
  std::string src_unix, dst_unix;
  std::vector<uint8_t> tlv_types;
  std::string alpn, authority, unique_id;
  bool ssl = false;
  uint8_t ssl_client = 0;
  uint32_t ssl_verify = 0;
  std::string ssl_version, ssl_cipher, ssl_cn;
  bool crc = false;
  ProxyLimits limits;

  Valid(std::string n, std::string h) : name(std::move(n)), header(std::move(h)) {}
  Valid& addrs(std::string s, std::string d, uint16_t sp, uint16_t dp) {
    src = std::move(s);
    dst = std::move(d);
    sport = sp;
    dport = dp;
    return *this;
  }
  Valid& v1() { version = 1; return *this; }
  Valid& fam(ProxyFamily f) { family = f; return *this; }
  Valid& cmd(ProxyCommand c) { command = c; return *this; }
  Valid& types(std::vector<uint8_t> t) { tlv_types = std::move(t); return *this; }
};

void check_complete(const Valid& v, const Result& r, Case* c) {
  if (r.status != ProxyStatus::Complete) {
    c->fail("expected Complete, got %s (%s)", status_name(r.status), r.h.error_reason);
    return;
  }
  const ProxyHeader& h = r.h;
  if (r.consumed != v.header.size()) c->fail("consumed %zu, expected %zu", r.consumed, v.header.size());
  if (h.version != v.version) c->fail("version %u", h.version);
  if (h.command != v.command) c->fail("command %d", int(h.command));
  if (h.family != v.family) c->fail("family %d, expected %d", int(h.family), int(v.family));
  char text[64];
  tsgi::format_proxy_address(h, true, text, sizeof text);
  if (text != v.src) c->fail("source [%s], expected [%s]", text, v.src.c_str());
  tsgi::format_proxy_address(h, false, text, sizeof text);
  if (text != v.dst) c->fail("destination [%s], expected [%s]", text, v.dst.c_str());
  if (h.src_port != v.sport || h.dst_port != v.dport) c->fail("ports %u %u", h.src_port, h.dst_port);
  if (h.has_addresses() != (v.family == ProxyFamily::Inet || v.family == ProxyFamily::Inet6)) {
    c->fail("has_addresses %d", h.has_addresses());
  }
  if (span(h.src_unix) != v.src_unix || span(h.dst_unix) != v.dst_unix) {
    c->fail("unix paths [%s] [%s]", show(span(h.src_unix)).c_str(), show(span(h.dst_unix)).c_str());
  }
  if (h.tlv_count != v.tlv_types.size()) {
    c->fail("tlv_count %zu, expected %zu", h.tlv_count, v.tlv_types.size());
  } else {
    for (size_t i = 0; i < h.tlv_count; ++i) {
      if (h.tlvs[i].type != v.tlv_types[i]) c->fail("tlv %zu type %u", i, h.tlvs[i].type);
      const tsgi::Span s = h.tlvs[i].value;
      if (s.len != 0 && (s.data < r.data || s.data + s.len > r.data + r.consumed)) c->fail("tlv %zu outside", i);
    }
  }
  if (span(h.alpn) != v.alpn) c->fail("alpn [%s]", show(span(h.alpn)).c_str());
  if (span(h.authority) != v.authority) c->fail("authority [%s]", show(span(h.authority)).c_str());
  if (span(h.unique_id) != v.unique_id) c->fail("unique_id [%s]", show(span(h.unique_id)).c_str());
  if (h.ssl.present != v.ssl) c->fail("ssl %d", h.ssl.present);
  if (h.ssl.client != v.ssl_client || h.ssl.verify != v.ssl_verify) c->fail("ssl client %u verify %u", h.ssl.client, h.ssl.verify);
  if (span(h.ssl.version) != v.ssl_version) c->fail("ssl version [%s]", show(span(h.ssl.version)).c_str());
  if (span(h.ssl.cipher) != v.ssl_cipher) c->fail("ssl cipher [%s]", show(span(h.ssl.cipher)).c_str());
  if (span(h.ssl.cn) != v.ssl_cn) c->fail("ssl cn [%s]", show(span(h.ssl.cn)).c_str());
  if (h.crc_checked != v.crc) c->fail("crc_checked %d", h.crc_checked);
}

void run_valid(const Valid& v, tsgi_test::Tally* tally) {
  Case c("valid: " + v.name);
  check_complete(v, parse(v.header, v.limits, 16), &c);
  check_complete(v, parse(v.header + "GET / HTTP/1.1\r\n", v.limits, 16), &c);
  if (!v.tlv_types.empty()) check_complete(v, parse(v.header, v.limits, v.tlv_types.size()), &c);
  {
    // Without TLV storage: the named records are still read.
    Result r = parse(v.header, v.limits, 0, false);
    if (r.status != ProxyStatus::Complete || r.h.tlv_count != 0 || span(r.h.authority) != v.authority ||
        span(r.h.ssl.cn) != v.ssl_cn) {
      c.fail("without TLV storage: %s (%s)", status_name(r.status), r.h.error_reason);
    }
  }
  for (size_t k = 0; k < v.header.size(); ++k) {
    Result r = parse(v.header.substr(0, k), v.limits, 16);
    if (r.status != ProxyStatus::Incomplete) {
      c.fail("prefix of %zu bytes gave %s (%s)", k, status_name(r.status), r.h.error_reason);
    } else if (r.consumed != 0) {
      c.fail("prefix of %zu bytes: consumed %zu", k, r.consumed);
    }
  }
  tally->record(c);
}

std::vector<Valid> valid_cases() {
  std::vector<Valid> v;
  // Version 1.
  v.push_back(Valid("v1 TCP4", "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n").v1()
                  .addrs("192.0.2.1", "198.51.100.2", 56324, 443));
  v.push_back(Valid("v1 TCP6", "PROXY TCP6 2001:db8::1 ::1 1 65535\r\n").v1().fam(ProxyFamily::Inet6)
                  .addrs("2001:db8::1", "::1", 1, 65535));
  v.push_back(Valid("v1 TCP6 with an IPv4-mapped address", "PROXY TCP6 ::ffff:192.0.2.9 ::1 80 81\r\n").v1()
                  .fam(ProxyFamily::Inet6).addrs("::ffff:192.0.2.9", "::1", 80, 81));
  v.push_back(Valid("v1 TCP6 with the longest addresses",
                    "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n")
                  .v1().fam(ProxyFamily::Inet6)
                  .addrs("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535, 65535));
  v.push_back(Valid("v1 UNKNOWN", "PROXY UNKNOWN\r\n").v1().fam(ProxyFamily::Unspec));
  v.push_back(Valid("v1 line of exactly 107 bytes", "PROXY UNKNOWN " + std::string(91, 'x') + "\r\n").v1()
                  .fam(ProxyFamily::Unspec));
  v.push_back(Valid("v1 UNKNOWN with addresses that are ignored", "PROXY UNKNOWN ffff:f::1 whatever 1 2\r\n").v1()
                  .fam(ProxyFamily::Unspec));
  v.push_back(Valid("v1 port 0", "PROXY TCP4 10.0.0.1 10.0.0.2 0 0\r\n").v1().addrs("10.0.0.1", "10.0.0.2", 0, 0));
  // Version 2.
  v.push_back(Valid("v2 PROXY TCP4", v2(0x21, 0x11, inet_block("192.0.2.1", "198.51.100.2", 56324, 443)))
                  .addrs("192.0.2.1", "198.51.100.2", 56324, 443));
  v.push_back(Valid("v2 PROXY TCP6", v2(0x21, 0x21, inet6_block("2001:db8::7", "2001:db8::8", 5, 6)))
                  .fam(ProxyFamily::Inet6).addrs("2001:db8::7", "2001:db8::8", 5, 6));
  v.push_back(Valid("v2 PROXY with transport UNSPEC", v2(0x21, 0x10, inet_block("1.2.3.4", "5.6.7.8", 1, 2)))
                  .addrs("1.2.3.4", "5.6.7.8", 1, 2));
  {
    Valid x("v2 PROXY AF_UNIX", v2(0x21, 0x31, unix_block("/run/client.sock", "/run/lb.sock")));
    x.fam(ProxyFamily::Unix).src_unix = "/run/client.sock";
    x.dst_unix = "/run/lb.sock";
    v.push_back(x);
  }
  v.push_back(Valid("v2 LOCAL (a health check)", v2(0x20, 0x00, "")).cmd(ProxyCommand::Local).fam(ProxyFamily::Unspec));
  v.push_back(Valid("v2 LOCAL skips whatever its block holds", v2(0x20, 0x11, "\x01\x02garbage"))
                  .cmd(ProxyCommand::Local).fam(ProxyFamily::Unspec));
  v.push_back(Valid("v2 PROXY AF_UNSPEC skips its block", v2(0x21, 0x00, "\xff\xff")).fam(ProxyFamily::Unspec));
  {
    Valid x("v2 TLVs: ALPN, AUTHORITY, UNIQUE_ID, NOOP, a custom type",
            v2(0x21, 0x11, inet_block("192.0.2.1", "198.51.100.2", 1000, 443) + tlv(0x01, "h2") +
                               tlv(0x02, "example.com") + tlv(0x04, "") + tlv(0x05, std::string(128, 'u')) +
                               tlv(0xE0, "custom")));
    x.addrs("192.0.2.1", "198.51.100.2", 1000, 443).types({0x01, 0x02, 0x04, 0x05, 0xE0});
    x.alpn = "h2";
    x.authority = "example.com";
    x.unique_id = std::string(128, 'u');
    v.push_back(x);
  }
  {
    const std::string ssl = std::string(1, '\x07') + be32(0) + tlv(0x21, "TLSv1.3") +
                            tlv(0x23, "TLS_AES_128_GCM_SHA256") + tlv(0x22, "client.example") +
                            tlv(0x24, "RSA-SHA256") + tlv(0x25, "RSA2048") + tlv(0x2F, "unknown sub");
    Valid x("v2 SSL with version, cipher, CN, sig and key algorithms",
            v2(0x21, 0x11, inet_block("192.0.2.1", "198.51.100.2", 1000, 443) + tlv(0x20, ssl) + tlv(0x02, "a.example")));
    x.addrs("192.0.2.1", "198.51.100.2", 1000, 443).types({0x20, 0x02});
    x.ssl = true;
    x.ssl_client = 7;
    x.ssl_version = "TLSv1.3";
    x.ssl_cipher = "TLS_AES_128_GCM_SHA256";
    x.ssl_cn = "client.example";
    x.authority = "a.example";
    v.push_back(x);
  }
  {
    Valid x("v2 SSL without sub-records, verify failed",
            v2(0x21, 0x21, inet6_block("::1", "::2", 1, 2) + tlv(0x20, std::string(1, '\x01') + be32(1))));
    x.fam(ProxyFamily::Inet6).addrs("::1", "::2", 1, 2).types({0x20});
    x.ssl = true;
    x.ssl_client = 1;
    x.ssl_verify = 1;
    v.push_back(x);
  }
  {
    Valid x("v2 CRC32C that matches", with_crc(tlv(0x02, "h.example")));
    x.addrs("192.0.2.1", "198.51.100.2", 1000, 443).types({0x02, 0x03});
    x.authority = "h.example";
    x.crc = true;
    v.push_back(x);
  }
  {
    const std::string block = inet_block("192.0.2.1", "198.51.100.2", 1, 2) + tlv(0xEE, std::string(4096 - 16 - 12 - 3, 'z'));
    Valid x("v2 header of exactly max_v2_bytes", v2(0x21, 0x11, block));
    x.addrs("192.0.2.1", "198.51.100.2", 1, 2).types({0xEE});
    v.push_back(x);
  }
  return v;
}

struct Invalid {
  std::string name;
  std::string header;
  size_t capacity = 16;
};

void run_invalid(const Invalid& v, tsgi_test::Tally* tally) {
  Case c("invalid: " + v.name);
  ProxyLimits limits;
  Result r = parse(v.header, limits, v.capacity);
  if (r.status != ProxyStatus::Error) c.fail("expected Error, got %s", status_name(r.status));
  else if (r.h.error_reason == nullptr || r.h.error_reason[0] == '\0') c.fail("no error reason");
  if (r.consumed != 0) c.fail("consumed %zu on Error", r.consumed);
  for (size_t k = 0; k < v.header.size(); ++k) {
    Result p = parse(v.header.substr(0, k), limits, v.capacity);
    if (p.status == ProxyStatus::Complete) c.fail("prefix of %zu bytes is Complete", k);
  }
  tally->record(c);
}

std::vector<Invalid> invalid_cases() {
  const std::string in4 = inet_block("192.0.2.1", "198.51.100.2", 1, 2);
  std::vector<Invalid> v = {
      {"an HTTP request", "GET / HTTP/1.1\r\nHost: a\r\n\r\n"},
      {"lower-case proxy", "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n"},
      {"PROXY without a space", "PROXYTCP4 1.2.3.4 5.6.7.8 1 2\r\n"},
      {"v1 over 107 bytes", "PROXY UNKNOWN " + std::string(100, 'x') + "\r\n"},
      {"v1 108 bytes with the CR at 107", "PROXY UNKNOWN " + std::string(92, 'x') + "\r\n"},
      {"v1 LF without CR", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"},
      {"v1 CR without LF", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX\n"},
      {"v1 TCP5", "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n"},
      {"v1 UDP4", "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"},
      {"v1 two spaces", "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n"},
      {"v1 trailing space", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n"},
      {"v1 tab separator", "PROXY TCP4\t1.2.3.4 5.6.7.8 1 2\r\n"},
      {"v1 four fields", "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"},
      {"v1 six fields", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"},
      {"v1 IPv6 address on TCP4", "PROXY TCP4 ::1 5.6.7.8 1 2\r\n"},
      {"v1 IPv4 address on TCP6", "PROXY TCP6 1.2.3.4 ::1 1 2\r\n"},
      {"v1 IPv4 octet over 255", "PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n"},
      {"v1 IPv4 with a leading zero", "PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n"},
      {"v1 IPv4 with three parts", "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n"},
      {"v1 IPv6 zone", "PROXY TCP6 fe80::1%eth0 ::1 1 2\r\n"},
      {"v1 port over 65535", "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"},
      {"v1 port with a sign", "PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n"},
      {"v1 port six digits", "PROXY TCP4 1.2.3.4 5.6.7.8 1 000002\r\n"},
      {"v1 empty line", "PROXY \r\n"},
      {"v1 NUL in the line", std::string("PROXY TCP4 1.2.3.4\0 5.6.7.8 1 2\r\n", 33)},
      {"v1 obs-text in the line", "PROXY TCP4 1.2.3.4 5.6.7.\xe8 1 2\r\n"},
      {"v2 signature with one wrong byte", std::string("\r\n\r\n\0\r\nQUIt\n\x21\x11\x00\x0c", 16) + in4},
      {"v2 version 1", v2(0x11, 0x11, in4)},
      {"v2 version 3", v2(0x31, 0x11, in4)},
      {"v2 command 2", v2(0x22, 0x11, in4)},
      {"v2 family 4", v2(0x21, 0x41, in4)},
      {"v2 transport 3", v2(0x21, 0x13, in4)},
      {"v2 INET block too short", v2(0x21, 0x11, in4.substr(0, 11))},
      {"v2 INET6 block too short", v2(0x21, 0x21, in4 + in4 + in4.substr(0, 11))},
      {"v2 UNIX block too short", v2(0x21, 0x31, std::string(215, 'a'))},
      {"v2 over max_v2_bytes", v2(0x21, 0x11, in4 + tlv(0xEE, std::string(4096 - 16 - 12 - 3 + 1, 'z')))},
      {"v2 length 65535 over the default limit", kSig + std::string("\x21\x11\xff\xff", 4)},
      {"v2 a TLV header cut off", v2(0x21, 0x11, in4 + "\x01\x00")},
      {"v2 a TLV value past the header", v2(0x21, 0x11, in4 + std::string("\x02\x00\x05" "abc", 6))},
      {"v2 ALPN twice", v2(0x21, 0x11, in4 + tlv(0x01, "h2") + tlv(0x01, "h2"))},
      {"v2 empty ALPN", v2(0x21, 0x11, in4 + tlv(0x01, ""))},
      {"v2 AUTHORITY twice", v2(0x21, 0x11, in4 + tlv(0x02, "a") + tlv(0x02, "b"))},
      {"v2 empty AUTHORITY", v2(0x21, 0x11, in4 + tlv(0x02, ""))},
      {"v2 UNIQUE_ID over 128 bytes", v2(0x21, 0x11, in4 + tlv(0x05, std::string(129, 'u')))},
      {"v2 UNIQUE_ID twice", v2(0x21, 0x11, in4 + tlv(0x05, "a") + tlv(0x05, "a"))},
      {"v2 NETNS twice", v2(0x21, 0x11, in4 + tlv(0x30, "a") + tlv(0x30, "a"))},
      {"v2 CRC32C not 4 bytes", v2(0x21, 0x11, in4 + tlv(0x03, "abc"))},
      {"v2 CRC32C wrong", v2(0x21, 0x11, in4 + tlv(0x03, "\x01\x02\x03\x04"))},
      {"v2 CRC32C twice", with_crc(tlv(0x03, std::string(4, '\0')))},
      {"v2 SSL under 5 bytes", v2(0x21, 0x11, in4 + tlv(0x20, "\x01\x00\x00\x00"))},
      {"v2 SSL twice", v2(0x21, 0x11, in4 + tlv(0x20, std::string("\x01\0\0\0\0", 5)) + tlv(0x20, std::string("\x01\0\0\0\0", 5)))},
      {"v2 SSL sub-record header cut off", v2(0x21, 0x11, in4 + tlv(0x20, std::string("\x01\0\0\0\0\x21\x00", 7)))},
      {"v2 SSL sub-record past the record", v2(0x21, 0x11, in4 + tlv(0x20, std::string("\x01\0\0\0\0\x21\x00\x09TLS", 11)))},
      {"v2 SSL CN twice", v2(0x21, 0x11, in4 + tlv(0x20, std::string("\x01\0\0\0\0", 5) + tlv(0x22, "a") + tlv(0x22, "b")))},
      {"v2 more TLVs than the caller keeps", v2(0x21, 0x11, in4 + tlv(0x04, "") + tlv(0x04, "") + tlv(0x04, "")), 2},
  };
  return v;
}

// ---- allow list ------------------------------------------------------------------------

void run_allow_list(tsgi_test::Tally* tally) {
  auto ranges = [](std::vector<const char*> texts, Case* c) {
    std::vector<tsgi::CidrRange> out;
    for (const char* t : texts) {
      tsgi::CidrRange r;
      if (!tsgi::parse_cidr(t, std::strlen(t), &r)) c->fail("[%s] refused", t);
      out.push_back(r);
    }
    return out;
  };
  auto match4 = [](const std::vector<tsgi::CidrRange>& rs, const char* ip) {
    uint8_t a[4];
    inet_pton(AF_INET, ip, a);
    return tsgi::cidr_match(rs, a, false);
  };
  auto match6 = [](const std::vector<tsgi::CidrRange>& rs, const char* ip) {
    uint8_t a[16];
    inet_pton(AF_INET6, ip, a);
    return tsgi::cidr_match(rs, a, true);
  };
  {
    Case c("allow list: addresses and ranges match what they cover, and nothing else");
    auto rs = ranges({"127.0.0.1", "10.0.0.0/8", "192.168.1.77/24", "2001:db8::/32", "::1", "172.16.0.0/12"}, &c);
    const char* in4[] = {"127.0.0.1", "10.0.0.0", "10.255.255.255", "192.168.1.1", "192.168.1.255", "172.31.0.1"};
    const char* out4[] = {"127.0.0.2", "11.0.0.0", "9.255.255.255", "192.168.2.1", "172.32.0.1", "0.0.0.0"};
    for (const char* ip : in4) if (!match4(rs, ip)) c.fail("%s not matched", ip);
    for (const char* ip : out4) if (match4(rs, ip)) c.fail("%s matched", ip);
    const char* in6[] = {"::1", "2001:db8::1", "2001:db8:ffff::", "::ffff:127.0.0.1", "::ffff:10.9.8.7"};
    const char* out6[] = {"::2", "2001:db9::", "::", "::ffff:127.0.0.2", "::127.0.0.1", "fe80::1"};
    for (const char* ip : in6) if (!match6(rs, ip)) c.fail("%s not matched", ip);
    for (const char* ip : out6) if (match6(rs, ip)) c.fail("%s matched", ip);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    inet_pton(AF_INET, "10.1.1.1", &sa.sin_addr);
    if (!tsgi::cidr_match_peer(rs, reinterpret_cast<sockaddr*>(&sa))) c.fail("sockaddr_in 10.1.1.1 not matched");
    inet_pton(AF_INET, "8.8.8.8", &sa.sin_addr);
    if (tsgi::cidr_match_peer(rs, reinterpret_cast<sockaddr*>(&sa))) c.fail("sockaddr_in 8.8.8.8 matched");
    sockaddr_in6 sa6{};
    sa6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::ffff:8.8.8.8", &sa6.sin6_addr);
    if (tsgi::cidr_match_peer(rs, reinterpret_cast<sockaddr*>(&sa6))) c.fail("sockaddr_in6 ::ffff:8.8.8.8 matched");
    inet_pton(AF_INET6, "::1", &sa6.sin6_addr);
    if (!tsgi::cidr_match_peer(rs, reinterpret_cast<sockaddr*>(&sa6))) c.fail("sockaddr_in6 ::1 not matched");
    sockaddr un{};
    un.sa_family = AF_UNIX;
    if (!tsgi::cidr_match_peer({}, &un)) c.fail("a Unix peer is refused");
    tally->record(c);
  }
  {
    Case c("loopback peers: 127.0.0.0/8, ::1 and ::ffff:127.x.y.z, nothing else");
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    for (const char* ip : {"127.0.0.1", "127.255.0.9"}) {
      inet_pton(AF_INET, ip, &sa.sin_addr);
      if (!tsgi::is_loopback_peer(reinterpret_cast<sockaddr*>(&sa))) c.fail("%s not loopback", ip);
    }
    for (const char* ip : {"128.0.0.1", "10.0.0.1", "0.0.0.0"}) {
      inet_pton(AF_INET, ip, &sa.sin_addr);
      if (tsgi::is_loopback_peer(reinterpret_cast<sockaddr*>(&sa))) c.fail("%s loopback", ip);
    }
    sockaddr_in6 sa6{};
    sa6.sin6_family = AF_INET6;
    for (const char* ip : {"::1", "::ffff:127.0.0.1", "::ffff:127.1.2.3"}) {
      inet_pton(AF_INET6, ip, &sa6.sin6_addr);
      if (!tsgi::is_loopback_peer(reinterpret_cast<sockaddr*>(&sa6))) c.fail("%s not loopback", ip);
    }
    for (const char* ip : {"::2", "::", "::ffff:10.0.0.1", "::127.0.0.1", "fe80::1"}) {
      inet_pton(AF_INET6, ip, &sa6.sin6_addr);
      if (tsgi::is_loopback_peer(reinterpret_cast<sockaddr*>(&sa6))) c.fail("%s loopback", ip);
    }
    sockaddr un{};
    un.sa_family = AF_UNIX;
    if (tsgi::is_loopback_peer(&un)) c.fail("a Unix peer is loopback");
    tally->record(c);
  }
  {
    Case c("allow list: /0, /32, /128 and *");
    auto all4 = ranges({"0.0.0.0/0"}, &c);
    if (!match4(all4, "203.0.113.5") || match6(all4, "2001:db8::1")) c.fail("0.0.0.0/0");
    if (!match6(all4, "::ffff:203.0.113.5")) c.fail("0.0.0.0/0 and a mapped address");
    auto all6 = ranges({"::/0"}, &c);
    if (!match6(all6, "2001:db8::1") || match4(all6, "1.2.3.4")) c.fail("::/0");
    auto one = ranges({"1.2.3.4/32", "::5/128"}, &c);
    if (!match4(one, "1.2.3.4") || match4(one, "1.2.3.5") || !match6(one, "::5") || match6(one, "::4")) c.fail("/32 /128");
    auto any = ranges({"*"}, &c);
    if (!match4(any, "1.2.3.4") || !match6(any, "fe80::1")) c.fail("*");
    auto odd = ranges({"10.1.2.3/9"}, &c);  // host bits cleared: 10.0.0.0/9
    if (!match4(odd, "10.127.0.1") || match4(odd, "10.128.0.1")) c.fail("/9 with host bits");
    if (match4({}, "1.2.3.4")) c.fail("an empty list matches");
    tally->record(c);
  }
  {
    Case c("allow list: malformed entries are refused");
    for (const char* t : {"", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/08", "10.0.0.0/-1", "10.0.0.0/+8",
                          "10.0.0", "10.0.0.0.0", "localhost", "fe80::1%eth0", "1.2.3.4/8/8", " 1.2.3.4", "**",
                          "10.0.0.0/1000"}) {
      tsgi::CidrRange r;
      if (tsgi::parse_cidr(t, std::strlen(t), &r)) c.fail("[%s] accepted", t);
    }
    tally->record(c);
  }
  {
    Case c("crc32c: the check value of \"123456789\" is 0xE3069283");
    if (tsgi::crc32c(reinterpret_cast<const uint8_t*>("123456789"), 9) != 0xE3069283u) c.fail("wrong value");
    // In two pieces: the same.
    uint32_t part = tsgi::crc32c(reinterpret_cast<const uint8_t*>("1234"), 4);
    if (tsgi::crc32c(reinterpret_cast<const uint8_t*>("56789"), 5, part) != 0xE3069283u) c.fail("wrong chained value");
    tally->record(c);
  }
}

}  // namespace

int main() {
  tsgi_test::Tally tally;
  for (const Valid& v : valid_cases()) run_valid(v, &tally);
  for (const Invalid& v : invalid_cases()) run_invalid(v, &tally);
  run_allow_list(&tally);
  return tally.finish();
}
