// libFuzzer target for the request head parser. Beyond "no crash, no sanitizer report",
// it checks the parser's promises on every input: outputs are spans inside the head,
// fields hold only allowed bytes, statuses are from the documented set, and a prefix of
// the input never disagrees with the whole (Partial, or the same error, or the same head).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "../known_headers.h"
#include "../parser.h"

namespace {

using tsgi::BodyKind;
using tsgi::HeaderField;
using tsgi::ParseLimits;
using tsgi::ParseStatus;
using tsgi::RequestHead;

#define CHECK(cond)  \
  do {               \
    if (!(cond)) __builtin_trap(); \
  } while (0)

struct Run {
  ParseStatus status;
  RequestHead head;
  size_t consumed;
  HeaderField fields[128];
};

bool is_tchar(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c != 0 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr);
}

// Rebuilds the head from the parser's outputs and compares it with the bytes: no byte may
// be skipped or reinterpreted. Only SP/HTAB around values and leading CRLFs may differ.
void check_reconstruction(const char* data, size_t consumed, const RequestHead& h) {
  size_t p = 0;
  while (p + 1 < consumed && data[p] == '\r' && data[p + 1] == '\n') p += 2;
  CHECK(h.method.data == data + p);
  std::string line(h.method.data, h.method.len);
  line += ' ';
  line.append(h.target.data, h.target.len);
  line += h.version_minor == 1 ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n";
  CHECK(consumed - p >= line.size() && std::memcmp(data + p, line.data(), line.size()) == 0);
  p += line.size();
  for (size_t i = 0; i < h.header_count; ++i) {
    const HeaderField& f = h.headers[i];
    if (f.name.data < data || f.name.data >= data + consumed) {
      // The Host field an absolute-form target adds on HTTP/1.0: last, named "Host".
      CHECK(i + 1 == h.header_count && f.known == tsgi::kHeaderHost && h.version_minor == 0);
      CHECK(f.name.len == 4 && std::memcmp(f.name.data, "Host", 4) == 0);
      continue;
    }
    CHECK(f.name.data == data + p);
    p += f.name.len;
    CHECK(p < consumed && data[p] == ':');
    ++p;
    while (p < consumed && (data[p] == ' ' || data[p] == '\t')) ++p;
    const char* raw = data + p;
    while (p < consumed && data[p] != '\r') ++p;
    size_t raw_len = static_cast<size_t>(data + p - raw);
    while (raw_len > 0 && (raw[raw_len - 1] == ' ' || raw[raw_len - 1] == '\t')) --raw_len;
    if (f.known == tsgi::kHeaderContentLength) {
      // The canonical decimal of the body size (a part of the first Content-Length value).
      CHECK(f.value.data >= data && f.value.data + f.value.len <= data + consumed);
      CHECK(f.value.len > 0 && (f.value.len == 1 || f.value.data[0] != '0'));
      uint64_t v = 0;
      for (size_t j = 0; j < f.value.len; ++j) {
        CHECK(f.value.data[j] >= '0' && f.value.data[j] <= '9');
        v = v * 10 + static_cast<uint64_t>(f.value.data[j] - '0');
      }
      CHECK(v == h.content_length);
    } else if (f.known == tsgi::kHeaderHost && !(f.value.data == raw && f.value.len == raw_len)) {
      // An absolute-form target's authority.
      CHECK(f.value.data > h.target.data && f.value.data + f.value.len <= h.target.data + h.target.len);
    } else if (raw_len > 0) {
      CHECK(f.value.data == raw && f.value.len == raw_len);
    } else {
      CHECK(f.value.len == 0);
    }
    CHECK(p + 1 < consumed && data[p] == '\r' && data[p + 1] == '\n');
    p += 2;
  }
  CHECK(p + 2 == consumed && data[p] == '\r' && data[p + 1] == '\n');
}

bool ieq(const tsgi::Span& s, const char* lower) {
  const size_t n = std::strlen(lower);
  if (s.len != n) return false;
  for (size_t i = 0; i < n; ++i) {
    char c = s.data[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (c != lower[i]) return false;
  }
  return true;
}

// The framing facts of an accepted head, recomputed naively from its fields.
void check_semantics(const RequestHead& h) {
  size_t hosts = 0, te = 0, cl = 0, content_types = 0;
  for (size_t i = 0; i < h.header_count; ++i) {
    const HeaderField& f = h.headers[i];
    if (ieq(f.name, "host")) ++hosts;
    if (ieq(f.name, "transfer-encoding")) ++te;
    if (ieq(f.name, "content-type")) ++content_types;
    if (ieq(f.name, "content-length")) {
      ++cl;
      // every element is the same number as content_length
      uint64_t v = 0;
      bool digits = false;
      for (size_t j = 0; j <= f.value.len; ++j) {
        const char c = j < f.value.len ? f.value.data[j] : ',';
        if (c >= '0' && c <= '9') {
          v = v * 10 + static_cast<uint64_t>(c - '0');
          digits = true;
        } else if (c == ',') {
          CHECK(digits && v == h.content_length);
          v = 0;
          digits = false;
        } else {
          CHECK(c == ' ' || c == '\t');
        }
      }
    }
  }
  CHECK(hosts <= 1 && content_types <= 1);
  // Request-target forms: origin-form, `*` with OPTIONS, or http(s) absolute-form whose
  // authority is the Host value; never CONNECT.
  CHECK(!(h.method.len == 7 && std::memcmp(h.method.data, "CONNECT", 7) == 0));
  const tsgi::Span t = h.target;
  if (t.data[0] != '/') {
    if (t.len == 1 && t.data[0] == '*') {
      CHECK(h.method.len == 7 && std::memcmp(h.method.data, "OPTIONS", 7) == 0);
    } else {
      size_t s = 0;
      if (t.len >= 7 && ieq(tsgi::Span{t.data, 7}, "http://")) s = 7;
      else if (t.len >= 8 && ieq(tsgi::Span{t.data, 8}, "https://")) s = 8;
      CHECK(s != 0);
      size_t e = s;
      while (e < t.len && t.data[e] != '/' && t.data[e] != '?') ++e;
      CHECK(e > s);
      bool host_is_authority = false;
      for (size_t i = 0; i < h.header_count; ++i) {
        const HeaderField& f = h.headers[i];
        if (ieq(f.name, "host")) host_is_authority = f.value.data == t.data + s && f.value.len == e - s;
      }
      CHECK(host_is_authority);
    }
  }
  if (h.version_minor == 1) CHECK(hosts == 1);
  if (te > 0) CHECK(cl == 0 && h.version_minor == 1 && h.body_kind == BodyKind::Chunked);
  if (te == 0) CHECK(h.body_kind != BodyKind::Chunked);
  if (cl == 0 && te == 0) CHECK(h.body_kind == BodyKind::None);
}

// Parses a copy of the first len bytes in a buffer of exactly that size, so reading past
// them is a heap overflow that ASan reports.
void parse(const uint8_t* data, size_t len, const ParseLimits& limits, size_t capacity, Run* r) {
  char* copy = static_cast<char*>(std::malloc(len == 0 ? 1 : len));
  if (len != 0) std::memcpy(copy, data, len);
  r->head = RequestHead{};
  r->head.headers = r->fields;
  r->head.header_capacity = capacity;
  r->consumed = 777;
  r->status = tsgi::parse_request_head(copy, len, limits, &r->head, &r->consumed);

  const RequestHead& h = r->head;
  if (r->status == ParseStatus::Complete) {
    CHECK(r->consumed >= 16 && r->consumed <= len && r->consumed <= limits.max_header_size);
    CHECK(std::memcmp(copy + r->consumed - 4, "\r\n\r\n", 4) == 0);
    CHECK(h.method.len > 0 && h.method.data >= copy && h.method.data + h.method.len <= copy + r->consumed);
    for (size_t i = 0; i < h.method.len; ++i) CHECK(is_tchar(static_cast<unsigned char>(h.method.data[i])));
    CHECK(h.method.len + h.target.len + 10 <= limits.max_request_line);  // method SP target SP HTTP/1.x
    CHECK(h.target.len > 0 && h.target.data > h.method.data);
    for (size_t i = 0; i < h.target.len; ++i) {
      const unsigned char c = static_cast<unsigned char>(h.target.data[i]);
      CHECK(c > 0x20 && c != 0x7F);
    }
    CHECK(h.version_major == 1 && h.version_minor <= 1);
    CHECK(h.header_count <= capacity && h.header_count <= limits.max_headers);
    for (size_t i = 0; i < h.header_count; ++i) {
      const HeaderField& f = h.headers[i];
      const bool added_host = f.name.data < copy || f.name.data >= copy + r->consumed;  // see check_reconstruction
      CHECK(f.name.len > 0 && (added_host || f.name.data > h.target.data));
      CHECK(f.value.data >= copy && f.value.data + f.value.len <= copy + r->consumed);
      for (size_t j = 0; j < f.name.len; ++j) CHECK(is_tchar(static_cast<unsigned char>(f.name.data[j])));
      for (size_t j = 0; j < f.value.len; ++j) {
        const unsigned char c = static_cast<unsigned char>(f.value.data[j]);
        CHECK(c == '\t' || (c >= 0x20 && c != 0x7F));
      }
      if (f.value.len > 0) {
        CHECK(f.value.data[0] != ' ' && f.value.data[0] != '\t');
        CHECK(f.value.data[f.value.len - 1] != ' ' && f.value.data[f.value.len - 1] != '\t');
      }
      CHECK(f.known == tsgi::known_header_id(f.name.data, f.name.len));
    }
    check_reconstruction(copy, r->consumed, h);
    check_semantics(h);
    CHECK(h.body_kind != BodyKind::Length || h.content_length > 0);
    CHECK(h.body_kind == BodyKind::Length || h.content_length == 0);
    CHECK(!h.expect_continue || h.version_minor == 1);
    CHECK(h.error_status == 0);
  } else {
    CHECK(r->consumed == 0);
    if (r->status == ParseStatus::Error) {
      const uint16_t s = h.error_status;
      CHECK(s == 400 || s == 414 || s == 417 || s == 431 || s == 501 || s == 505);
      CHECK(h.error_reason != nullptr && h.error_reason[0] != '\0');
    } else {
      CHECK(h.error_status == 0);
    }
  }
  std::free(copy);
}

void check_prefix(const Run& whole, const Run& part, size_t part_len) {
  if (whole.status == ParseStatus::Complete) {
    if (part_len < whole.consumed) {
      CHECK(part.status == ParseStatus::Partial);
    } else {
      CHECK(part.status == ParseStatus::Complete && part.consumed == whole.consumed);
      CHECK(part.head.header_count == whole.head.header_count);
      CHECK(part.head.body_kind == whole.head.body_kind && part.head.content_length == whole.head.content_length);
      CHECK(part.head.keep_alive == whole.head.keep_alive);
    }
  } else if (whole.status == ParseStatus::Error) {
    CHECK(part.status == ParseStatus::Partial ||
          (part.status == ParseStatus::Error && part.head.error_status == whole.head.error_status));
  } else {
    CHECK(part.status == ParseStatus::Partial);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Default limits with a full field array, and small limits with a small one so the
  // 414 / 431 paths are reached by short inputs.
  ParseLimits small;
  small.max_request_line = 40;
  small.max_header_size = 160;
  small.max_headers = 6;
  const struct { ParseLimits limits; size_t capacity; } configs[] = {{ParseLimits{}, 128}, {small, 4}};

  static Run whole, part;
  for (const auto& cfg : configs) {
    parse(data, size, cfg.limits, cfg.capacity, &whole);
    // A few prefixes: the half, all but one byte, and the end of the head when complete.
    const size_t cuts[] = {size / 2, size == 0 ? 0 : size - 1, whole.status == ParseStatus::Complete ? whole.consumed : 0};
    for (size_t k : cuts) {
      parse(data, k, cfg.limits, cfg.capacity, &part);
      check_prefix(whole, part, k);
    }
  }
  return 0;
}
