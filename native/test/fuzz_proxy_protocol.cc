// libFuzzer target for the PROXY protocol header parser. Beyond "no crash, no sanitizer
// report", it checks the parser's promises on every input: TLV spans lie inside the
// header, a v1 header is at most 107 bytes and ends in CRLF, a v2 header is as long as
// its length field says, addresses format, and a prefix never disagrees with the whole.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "../proxy/proxy_protocol.h"

namespace {

using tsgi::ProxyFamily;
using tsgi::ProxyHeader;
using tsgi::ProxyLimits;
using tsgi::ProxyStatus;
using tsgi::ProxyTlv;
using tsgi::Span;

#define CHECK(cond)                \
  do {                             \
    if (!(cond)) __builtin_trap(); \
  } while (0)

struct Run {
  ProxyStatus status;
  ProxyHeader h;
  size_t consumed;
  ProxyTlv tlvs[32];
};

bool inside(Span s, const char* base, size_t len) {
  return s.len == 0 || (s.data >= base && s.data + s.len <= base + len);
}

void parse(const uint8_t* data, size_t len, const ProxyLimits& limits, size_t capacity, Run* r) {
  char* copy = static_cast<char*>(std::malloc(len == 0 ? 1 : len));
  if (len != 0) std::memcpy(copy, data, len);
  r->h = ProxyHeader();
  if (capacity > 0) {
    r->h.tlvs = r->tlvs;
    r->h.tlv_capacity = capacity;
  }
  r->consumed = 777;
  r->status = tsgi::parse_proxy_header(copy, len, limits, &r->h, &r->consumed);
  const ProxyHeader& h = r->h;
  if (r->status == ProxyStatus::Complete) {
    CHECK(r->consumed > 0 && r->consumed <= len);
    if (h.version == 1) {
      CHECK(r->consumed <= 107 && r->consumed >= 15);
      CHECK(std::memcmp(copy, "PROXY ", 6) == 0);
      CHECK(copy[r->consumed - 2] == '\r' && copy[r->consumed - 1] == '\n');
      CHECK(std::memchr(copy, '\n', r->consumed - 1) == nullptr);
    } else {
      CHECK(h.version == 2);
      const size_t total = 16 + ((static_cast<size_t>(static_cast<uint8_t>(copy[14])) << 8) | static_cast<uint8_t>(copy[15]));
      CHECK(r->consumed == total && total <= limits.max_v2_bytes);
    }
    CHECK(h.tlv_count <= capacity);
    for (size_t i = 0; i < h.tlv_count; ++i) CHECK(inside(h.tlvs[i].value, copy, r->consumed));
    for (Span s : {h.alpn, h.authority, h.unique_id, h.netns, h.src_unix, h.dst_unix, h.ssl.version, h.ssl.cipher,
                   h.ssl.cn, h.ssl.sig_alg, h.ssl.key_alg}) {
      CHECK(inside(s, copy, r->consumed));
    }
    CHECK(h.unique_id.len <= 128 && h.src_unix.len <= 108 && h.dst_unix.len <= 108);
    char text[64];
    const size_t n = tsgi::format_proxy_address(h, true, text, sizeof text);
    CHECK((n > 0) == (h.family == ProxyFamily::Inet || h.family == ProxyFamily::Inet6));
    CHECK(n < 46 && std::strlen(text) == n);
  } else {
    CHECK(r->consumed == 0);
    if (r->status == ProxyStatus::Error) CHECK(h.error_reason != nullptr && h.error_reason[0] != '\0');
  }
  std::free(copy);
}

void check_prefix(const Run& whole, const Run& part, size_t part_len) {
  if (whole.status == ProxyStatus::Complete) {
    if (part_len < whole.consumed) {
      CHECK(part.status == ProxyStatus::Incomplete);
    } else {
      CHECK(part.status == ProxyStatus::Complete && part.consumed == whole.consumed);
      CHECK(part.h.family == whole.h.family && part.h.src_port == whole.h.src_port);
      CHECK(part.h.tlv_count == whole.h.tlv_count);
    }
  } else {
    CHECK(part.status != ProxyStatus::Complete);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ProxyLimits small;
  small.max_v2_bytes = 64;
  ProxyLimits big;
  big.max_v2_bytes = 16 + 65535;
  const struct { ProxyLimits limits; size_t capacity; } configs[] = {{ProxyLimits{}, 32}, {small, 2}, {big, 0}};
  static Run whole, part;
  for (const auto& cfg : configs) {
    parse(data, size, cfg.limits, cfg.capacity, &whole);
    const size_t cuts[] = {size / 2, size == 0 ? 0 : size - 1, size < 13 ? size : 13,
                           whole.status == ProxyStatus::Complete ? whole.consumed : 0};
    for (size_t k : cuts) {
      parse(data, k, cfg.limits, cfg.capacity, &part);
      check_prefix(whole, part, k);
    }
  }
  return 0;
}
