// libFuzzer target for the uwsgi request packet parser. Beyond "no crash, no sanitizer
// report", it checks the parser's promises on every input: spans lie inside the packet,
// the kept values hold only allowed bytes, statuses are from the documented set, the
// framing facts agree with CONTENT_LENGTH, and a prefix never disagrees with the whole.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "../known_headers.h"
#include "../uwsgi/uwsgi_parser.h"

namespace {

using tsgi::BodyKind;
using tsgi::HeaderField;
using tsgi::Span;
using tsgi::UwsgiLimits;
using tsgi::UwsgiRequest;
using tsgi::UwsgiStatus;

#define CHECK(cond)                \
  do {                             \
    if (!(cond)) __builtin_trap(); \
  } while (0)

struct Run {
  UwsgiStatus status;
  UwsgiRequest req;
  size_t consumed;
  HeaderField fields[128];
};

bool inside(Span s, const char* base, size_t len) {
  return s.len == 0 || (s.data >= base && s.data + s.len <= base + len);
}

void parse(const uint8_t* data, size_t len, const UwsgiLimits& limits, size_t capacity, Run* r) {
  char* copy = static_cast<char*>(std::malloc(len == 0 ? 1 : len));
  if (len != 0) std::memcpy(copy, data, len);
  r->req = UwsgiRequest();
  r->req.head.headers = r->fields;
  r->req.head.header_capacity = capacity;
  r->consumed = 777;
  r->status = tsgi::parse_uwsgi_packet(copy, len, limits, &r->req, &r->consumed);
  const UwsgiRequest& q = r->req;
  const tsgi::RequestHead& h = q.head;
  if (r->status == UwsgiStatus::Complete) {
    CHECK(r->consumed >= 4 && r->consumed <= len);
    CHECK(copy[0] == 0);
    const size_t datasize = static_cast<uint8_t>(copy[1]) | (static_cast<size_t>(static_cast<uint8_t>(copy[2])) << 8);
    CHECK(r->consumed == 4 + datasize && datasize <= limits.buffer_size);
    for (Span s : {h.method, h.target, q.path_info, q.query_string, q.remote_addr, q.server_name, q.server_port,
                   q.scheme, q.protocol, q.request_uri}) {
      CHECK(inside(s, copy + 4, datasize));
    }
    CHECK(h.method.len > 0 && h.target.len > 0);
    for (size_t i = 0; i < h.target.len; ++i) {
      const unsigned char c = static_cast<unsigned char>(h.target.data[i]);
      CHECK(c >= 0x20 && c != 0x7F);
    }
    CHECK(h.header_count <= capacity && h.header_count <= limits.max_headers);
    size_t hosts = 0, lengths = 0;
    for (size_t i = 0; i < h.header_count; ++i) {
      const HeaderField& f = h.headers[i];
      CHECK(f.name.len > 0 && inside(f.name, copy + 4, datasize) && inside(f.value, copy + 4, datasize));
      CHECK(f.known == tsgi::known_header_id_for_environ_key(f.name.data, f.name.len));
      const bool http = f.name.len > 5 && std::memcmp(f.name.data, "HTTP_", 5) == 0;
      CHECK(http || f.known == tsgi::kHeaderContentLength || f.known == tsgi::kHeaderContentType);
      for (size_t j = 0; j < f.value.len; ++j) {
        const unsigned char c = static_cast<unsigned char>(f.value.data[j]);
        CHECK(c == '\t' || (c >= 0x20 && c != 0x7F));
      }
      if (f.known == tsgi::kHeaderHost) ++hosts;
      if (f.known == tsgi::kHeaderContentLength) {
        ++lengths;
        uint64_t v = 0;
        CHECK(f.value.len > 0 && (f.value.len == 1 || f.value.data[0] != '0'));
        for (size_t j = 0; j < f.value.len; ++j) {
          CHECK(f.value.data[j] >= '0' && f.value.data[j] <= '9');
          v = v * 10 + static_cast<uint64_t>(f.value.data[j] - '0');
        }
        CHECK(v == h.content_length);
      }
    }
    CHECK(hosts <= 1 && lengths <= 1);
    CHECK(h.body_kind != BodyKind::Chunked);
    CHECK((h.body_kind == BodyKind::Length) == (h.content_length > 0));
    CHECK(h.error_status == 0);
  } else {
    CHECK(r->consumed == 0);
    if (r->status == UwsgiStatus::Error) {
      CHECK(h.error_status == 400 || h.error_status == 431);
      CHECK(h.error_reason != nullptr && h.error_reason[0] != '\0');
    }
  }
  std::free(copy);
}

void check_prefix(const Run& whole, const Run& part, size_t part_len) {
  if (whole.status == UwsgiStatus::Complete) {
    if (part_len < whole.consumed) {
      CHECK(part.status == UwsgiStatus::Incomplete);
    } else {
      CHECK(part.status == UwsgiStatus::Complete && part.consumed == whole.consumed);
      CHECK(part.req.head.header_count == whole.req.head.header_count);
      CHECK(part.req.head.content_length == whole.req.head.content_length);
    }
  } else if (whole.status == UwsgiStatus::Error) {
    CHECK(part.status == UwsgiStatus::Incomplete ||
          (part.status == UwsgiStatus::Error && part.req.head.error_status == whole.req.head.error_status));
  } else {
    CHECK(part.status == UwsgiStatus::Incomplete);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  UwsgiLimits small;
  small.buffer_size = 200;
  small.max_headers = 4;
  UwsgiLimits big;
  big.buffer_size = 65535;
  const struct { UwsgiLimits limits; size_t capacity; } configs[] = {{UwsgiLimits{}, 128}, {small, 6}, {big, 3}};
  static Run whole, part;
  for (const auto& cfg : configs) {
    parse(data, size, cfg.limits, cfg.capacity, &whole);
    const size_t cuts[] = {size / 2, size == 0 ? 0 : size - 1, 3, whole.status == UwsgiStatus::Complete ? whole.consumed : 0};
    for (size_t k : cuts) {
      if (k > size) continue;
      parse(data, k, cfg.limits, cfg.capacity, &part);
      check_prefix(whole, part, k);
    }
  }
  return 0;
}
