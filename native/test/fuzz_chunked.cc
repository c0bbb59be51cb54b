// libFuzzer target for the chunked decoder. The first input byte picks the limits and
// how the rest is cut into pieces; the rest is the body. Whole, cut and byte-by-byte
// feeding must agree on the status, the decoded bytes, the trailer fields and the bytes
// consumed, and every Data span must lie inside the piece just fed. Accepted trailer
// fields are never ones trailer_field_allowed() refuses.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "../parser.h"

namespace {

using tsgi::ChunkedDecoder;
using tsgi::ChunkedLimits;
using tsgi::ChunkStatus;
using tsgi::Span;

#define CHECK(cond)  \
  do {               \
    if (!(cond)) __builtin_trap(); \
  } while (0)

struct Outcome {
  ChunkStatus last = ChunkStatus::NeedMore;
  uint16_t status = 0;
  size_t consumed = 0;
  std::string body;
  std::string trailers;  // "name:value\n" per accepted trailer field
};

class StringSink final : public tsgi::TrailerSink {
 public:
  explicit StringSink(std::string* out) : out_(out) {}
  void field_bytes(const char* p, size_t n) override { out_->append(p, n); }
  void field_end(size_t trailing_ows) override {
    CHECK(trailing_ows <= out_->size());
    for (size_t i = out_->size() - trailing_ows; i < out_->size(); ++i) CHECK((*out_)[i] == ' ' || (*out_)[i] == '\t');
    out_->resize(out_->size() - trailing_ows);
    out_->push_back('\n');
  }

 private:
  std::string* out_;
};

// piece == 0: the whole input at once; otherwise pieces of `piece` bytes.
Outcome feed(const uint8_t* data, size_t size, const ChunkedLimits& limits, size_t piece) {
  Outcome o;
  StringSink sink(&o.trailers);
  ChunkedDecoder d(limits, &sink);
  size_t start = 0;
  do {
    const size_t n = piece == 0 ? size - start : (size - start < piece ? size - start : piece);
    char* copy = static_cast<char*>(std::malloc(n == 0 ? 1 : n));  // exact size: over-reads are caught
    if (n != 0) std::memcpy(copy, data + start, n);
    size_t off = 0;
    for (;;) {
      size_t k = 0;
      Span out;
      const ChunkStatus st = d.feed(copy + off, n - off, &k, &out);
      CHECK(k <= n - off);
      o.consumed += k;
      if (st == ChunkStatus::Data) {
        CHECK(out.len > 0 && out.data >= copy + off && out.data + out.len == copy + off + k);
        o.body.append(out.data, out.len);
        off += k;
        continue;
      }
      CHECK(out.len == 0);
      if (st == ChunkStatus::NeedMore) {
        CHECK(k == n - off);
        break;
      }
      o.last = st;
      if (st == ChunkStatus::Error) {
        o.status = d.error_status();
        CHECK(o.status == 400 || o.status == 413 || o.status == 431);
      }
      std::free(copy);
      return o;
    }
    std::free(copy);
    start += n;
  } while (start < size);
  return o;
}

// A naive, whole-buffer reading of an accepted chunked body: sizes, data, CRLFs, and
// trailer lines up to the empty one. The decoder must frame it exactly the same way.
void check_naive(const uint8_t* data, size_t size, const Outcome& o) {
  const char* p = reinterpret_cast<const char*>(data);
  size_t i = 0;
  std::string body;
  for (;;) {
    uint64_t n = 0;
    size_t digits = 0;
    for (; i < size; ++i, ++digits) {
      const char c = p[i];
      int d = -1;
      if (c >= '0' && c <= '9') d = c - '0';
      else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
      if (d < 0) break;
      n = n * 16 + static_cast<uint64_t>(d);
    }
    CHECK(digits >= 1 && digits <= 16);
    while (i < size && p[i] != '\r') {
      CHECK(p[i] != '\n');
      ++i;
    }
    CHECK(i + 1 < size && p[i + 1] == '\n');
    i += 2;
    if (n == 0) break;
    CHECK(n <= size - i && size - i - n >= 2);
    body.append(p + i, static_cast<size_t>(n));
    i += static_cast<size_t>(n);
    CHECK(p[i] == '\r' && p[i + 1] == '\n');
    i += 2;
  }
  for (;;) {  // trailer lines, then the empty line
    const size_t start = i;
    while (i < size && p[i] != '\r') {
      CHECK(p[i] != '\n');
      ++i;
    }
    CHECK(i + 1 < size && p[i + 1] == '\n');
    i += 2;
    if (i - start == 2) break;
  }
  CHECK(body == o.body && i == o.consumed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  ++data;
  --size;
  ChunkedLimits limits;
  if (mode & 0x80) {
    limits.max_extension_bytes = 12;
    limits.max_trailer_bytes = 24;
  }
  const size_t piece = static_cast<size_t>(mode & 0x0F) + 2;

  const Outcome whole = feed(data, size, limits, 0);
  const Outcome bytes = feed(data, size, limits, 1);
  const Outcome cut = feed(data, size, limits, piece);
  for (const Outcome* o : {&bytes, &cut}) {
    CHECK(o->last == whole.last && o->status == whole.status);
    CHECK(o->body == whole.body && o->consumed == whole.consumed);
    if (whole.last == ChunkStatus::Done) CHECK(o->trailers == whole.trailers);
  }
  if (whole.last != ChunkStatus::Error) CHECK(whole.body.size() < size || size == 0);
  if (whole.last == ChunkStatus::Done) {
    check_naive(data, size, whole);
    // Every accepted field is allowed in a trailer.
    size_t at = 0;
    while (at < whole.trailers.size()) {
      const size_t colon = whole.trailers.find(':', at);
      const size_t nl = whole.trailers.find('\n', at);
      CHECK(colon != std::string::npos && nl != std::string::npos && colon < nl);
      CHECK(tsgi::trailer_field_allowed(whole.trailers.data() + at, colon - at));
      at = nl + 1;
    }
  }
  return 0;
}
