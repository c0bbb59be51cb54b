// Table tests of the chunked body decoder.
//
// Every case is fed whole, in every 2-way split, and byte by byte; each piece is placed
// right before a PROT_NONE page, so an over-read faults. The decoded body, the bytes
// consumed and the final status must be the same for every way of feeding. Data results
// must be spans inside the piece just fed (zero-copy). The trailer fields handed to the
// TrailerSink must be the same too. Prints "N passed, N failed".
#include <string>
#include <vector>

#include "../parser.h"
#include "test_support.h"

using tsgi::ChunkedDecoder;
using tsgi::ChunkedLimits;
using tsgi::ChunkStatus;
using tsgi::Span;
using tsgi::TrailerSink;
using tsgi_test::Case;
using tsgi_test::GuardedBuffer;
using tsgi_test::show;

namespace {

GuardedBuffer g_buf(1 << 20);

const char* status_name(ChunkStatus s) {
  switch (s) {
    case ChunkStatus::Data: return "Data";
    case ChunkStatus::NeedMore: return "NeedMore";
    case ChunkStatus::Done: return "Done";
    case ChunkStatus::Error: return "Error";
  }
  return "?";
}

struct ChunkCase {
  std::string name;
  std::string input;           // encoded body, then `rest`
  std::string body;            // decoded bytes (so far, for incomplete or invalid input)
  ChunkStatus end = ChunkStatus::Done;
  uint16_t status = 0;         // for Error
  std::string rest;            // bytes after the body: never consumed
  std::string trailers;        // for Done: the accepted trailer fields, "name:value\n" each
  ChunkedLimits limits;

  ChunkCase(std::string n, std::string in, std::string b) : name(std::move(n)), input(std::move(in)), body(std::move(b)) {}
  ChunkCase& error(uint16_t s) { end = ChunkStatus::Error; status = s; return *this; }
  ChunkCase& incomplete() { end = ChunkStatus::NeedMore; return *this; }
  ChunkCase& after(std::string r) { rest = std::move(r); input += rest; return *this; }
  ChunkCase& tr(std::string t) { trailers = std::move(t); return *this; }
  ChunkCase& lim(size_t ext, size_t trailer) {
    limits.max_extension_bytes = ext;
    limits.max_trailer_bytes = trailer;
    return *this;
  }
};

struct Outcome {
  ChunkStatus last = ChunkStatus::NeedMore;
  uint16_t status = 0;
  std::string body;
  size_t consumed = 0;
  std::string trailers;
};

// Collects trailer fields as "name:value\n".
class StringSink final : public TrailerSink {
 public:
  explicit StringSink(std::string* out) : out_(out) {}
  void field_bytes(const char* p, size_t n) override { out_->append(p, n); }
  void field_end(size_t trailing_ows) override {
    if (trailing_ows > out_->size()) trailing_ows = out_->size();
    out_->resize(out_->size() - trailing_ows);
    out_->push_back('\n');
  }

 private:
  std::string* out_;
};

// Feeds input cut at the given positions (ascending, inside (0, size)).
Outcome feed(const ChunkCase& cc, const std::vector<size_t>& cuts, Case* c, const char* mode) {
  Outcome o;
  StringSink sink(&o.trailers);
  ChunkedDecoder d(cc.limits, &sink);
  size_t start = 0;
  for (size_t piece = 0; piece <= cuts.size(); ++piece) {
    const size_t stop = piece < cuts.size() ? cuts[piece] : cc.input.size();
    const size_t n = stop - start;
    const char* p = g_buf.place(cc.input.data() + start, n);
    size_t off = 0;
    for (;;) {
      size_t k = 999999;
      Span out{reinterpret_cast<const char*>(1), 77};
      const ChunkStatus st = d.feed(p + off, n - off, &k, &out);
      if (k > n - off) {
        c->fail("%s: consumed %zu of %zu", mode, k, n - off);
        o.last = ChunkStatus::Error;
        return o;
      }
      o.consumed += k;
      if (st == ChunkStatus::Data) {
        if (out.len == 0) c->fail("%s: empty Data", mode);
        if (out.data < p + off || out.data + out.len > p + off + k) c->fail("%s: Data span outside the input", mode);
        if (out.len != 0 && out.data + out.len != p + off + k) c->fail("%s: consumed does not end at the span", mode);
        o.body.append(out.data, out.len);
        off += k;
        continue;
      }
      if (out.data != nullptr || out.len != 0) c->fail("%s: %s with a span", mode, status_name(st));
      if (st == ChunkStatus::NeedMore) {
        if (k != n - off) c->fail("%s: NeedMore consumed %zu of %zu", mode, k, n - off);
        break;
      }
      o.last = st;
      if (st == ChunkStatus::Error) {
        o.status = d.error_status();
        if (d.error_reason() == nullptr || d.error_reason()[0] == '\0') c->fail("%s: no error_reason", mode);
      }
      // Done and Error are final: another call says the same and consumes nothing.
      size_t k2 = 5;
      Span out2;
      if (d.feed(p, n, &k2, &out2) != st || k2 != 0) c->fail("%s: %s is not sticky", mode, status_name(st));
      return o;
    }
    start = stop;
  }
  o.last = ChunkStatus::NeedMore;
  return o;
}

void check(const ChunkCase& cc, const Outcome& o, Case* c, const std::string& mode) {
  if (o.last != cc.end) {
    c->fail("%s: ended %s %u, expected %s %u", mode.c_str(), status_name(o.last), o.status, status_name(cc.end),
            cc.status);
    return;
  }
  if (cc.end == ChunkStatus::Error) {
    if (o.status != cc.status) c->fail("%s: status %u, expected %u", mode.c_str(), o.status, cc.status);
    if (o.body.size() > cc.body.size() || cc.body.compare(0, o.body.size(), o.body) != 0) {
      c->fail("%s: body before the error [%s] is not a prefix of [%s]", mode.c_str(), show(o.body).c_str(),
              show(cc.body).c_str());
    }
    return;
  }
  if (o.body != cc.body) c->fail("%s: body [%s], expected [%s]", mode.c_str(), show(o.body).c_str(), show(cc.body).c_str());
  if (cc.end == ChunkStatus::Done && o.trailers != cc.trailers) {
    c->fail("%s: trailers [%s], expected [%s]", mode.c_str(), show(o.trailers).c_str(), show(cc.trailers).c_str());
  }
  const size_t expected_consumed = cc.end == ChunkStatus::Done ? cc.input.size() - cc.rest.size() : cc.input.size();
  if (o.consumed != expected_consumed) {
    c->fail("%s: consumed %zu, expected %zu", mode.c_str(), o.consumed, expected_consumed);
  }
}

void run(const ChunkCase& cc, tsgi_test::Tally* tally) {
  Case c("chunked: " + cc.name);
  check(cc, feed(cc, {}, &c, "whole"), &c, "whole");
  for (size_t k = 1; k < cc.input.size(); ++k) {
    check(cc, feed(cc, {k}, &c, "split"), &c, "split at " + std::to_string(k));
  }
  std::vector<size_t> every;
  for (size_t k = 1; k < cc.input.size(); ++k) every.push_back(k);
  check(cc, feed(cc, every, &c, "bytes"), &c, "byte by byte");
  tally->record(c);
}

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

std::vector<ChunkCase> cases() {
  std::vector<ChunkCase> v;
  // Valid bodies.
  v.push_back(ChunkCase("one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello"));
  v.push_back(ChunkCase("empty body", "0\r\n\r\n", ""));
  v.push_back(ChunkCase("many chunks", "1\r\na\r\n2\r\nbc\r\n3\r\ndef\r\n4\r\nghij\r\n0\r\n\r\n", "abcdefghij"));
  v.push_back(ChunkCase("upper-case hex", "A\r\n0123456789\r\n1F\r\n" + std::string(31, 'x') + "\r\n0\r\n\r\n",
                        "0123456789" + std::string(31, 'x')));
  v.push_back(ChunkCase("lower-case hex", "a\r\n0123456789\r\n0\r\n\r\n", "0123456789"));
  v.push_back(ChunkCase("leading zeros", "0005\r\nhello\r\n000\r\n\r\n", "hello"));
  v.push_back(ChunkCase("sixteen hex digits", "0000000000000005\r\nhello\r\n0000000000000000\r\n\r\n", "hello"));
  v.push_back(ChunkCase("large chunk", "3e8\r\n" + std::string(1000, 'z') + "\r\n0\r\n\r\n", std::string(1000, 'z')));
  v.push_back(ChunkCase("binary data with CRLF and NUL inside",
                        tsgi_test::bytes("6\r\n\r\n\0\xff\r\n\r\n0\r\n\r\n"), tsgi_test::bytes("\r\n\0\xff\r\n")));
  v.push_back(ChunkCase("extension without value", "5;foo\r\nhello\r\n0\r\n\r\n", "hello"));
  v.push_back(ChunkCase("extensions with token values", "5;a=1;b=two\r\nhello\r\n0;last=yes\r\n\r\n", "hello"));
  v.push_back(ChunkCase("extension with a quoted value", "5;a=\"x y;\\\"z\\\\\"\r\nhello\r\n0\r\n\r\n", "hello"));
  v.push_back(ChunkCase("extension with obs-text in quotes", "5;a=\"\xe9\"\r\nhello\r\n0\r\n\r\n", "hello"));
  v.push_back(ChunkCase("BWS around extension parts", "5 ; a = 1 ;b\t=\t\"q\" ; c\r\nhello\r\n0\r\n\r\n", "hello"));
  v.push_back(ChunkCase("trailer fields go to the sink, OWS trimmed",
                        "5\r\nhello\r\n0\r\nX-Sum: abc\r\nOther: \t x \t y \t\r\nEmpty:\r\nBlank:  \t \r\n\r\n", "hello")
                  .tr("X-Sum:abc\nOther:x \t y\nEmpty:\nBlank:\n"));
  v.push_back(ChunkCase("trailer with obs-text", "0\r\nX: \xe9t\xe9\r\n\r\n", "").tr("X:\xe9t\xe9\n"));
  v.push_back(ChunkCase("repeated trailer fields keep their order", "0\r\nA: 1\r\nb: 2\r\nA: 3\r\n\r\n", "")
                  .tr("A:1\nb:2\nA:3\n"));
  v.push_back(ChunkCase("allowed names that look like refused ones",
                        "0\r\nHosts: 1\r\nContent-MD5: 2\r\nIf: 3\r\nProxy: 4\r\nTEE: 5\r\nX-Content-Length: 6\r\n"
                        "Content-Lengthy: 7\r\nServer-Timing: 8\r\nDigest: 9\r\n\r\n", "")
                  .tr("Hosts:1\nContent-MD5:2\nIf:3\nProxy:4\nTEE:5\nX-Content-Length:6\nContent-Lengthy:7\nServer-Timing:8\nDigest:9\n"));
  v.push_back(ChunkCase("a long trailer name", "0\r\n" + std::string(40, 'n') + ": v\r\n\r\n", "")
                  .tr(std::string(40, 'n') + ":v\n"));
  v.push_back(ChunkCase("the next request is not consumed", "5\r\nhello\r\n0\r\n\r\n", "hello")
                  .after("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  v.push_back(ChunkCase("extensions exactly at the limit", "5;abcd\r\nhello\r\n3;ef\r\nxyz\r\n0;g\r\n\r\n", "helloxyz").lim(10, 8192));
  v.push_back(ChunkCase("trailer section exactly at the limit", "0\r\nX: 1\r\n\r\n", "").lim(4096, 8).tr("X:1\n"));
  // Incomplete input: everything fed, more needed.
  v.push_back(ChunkCase("incomplete: inside data", "5\r\nhel", "hel").incomplete());
  v.push_back(ChunkCase("incomplete: before the last chunk", "5\r\nhello\r\n", "hello").incomplete());
  v.push_back(ChunkCase("incomplete: in the trailer section", "5\r\nhello\r\n0\r\nX: y\r\n", "hello").incomplete());
  v.push_back(ChunkCase("incomplete: nothing", "", "").incomplete());
  // Chunk sizes.
  v.push_back(ChunkCase("non-hex size", "g\r\nhello\r\n0\r\n\r\n", "").error(400));
  v.push_back(ChunkCase("hex then junk", "5g\r\nhello\r\n0\r\n\r\n", "").error(400));
  v.push_back(ChunkCase("empty size", "\r\nhello\r\n0\r\n\r\n", "").error(400));
  v.push_back(ChunkCase("negative size", "-5\r\nhello\r\n0\r\n\r\n", "").error(400));
  v.push_back(ChunkCase("0x prefix", "0x5\r\nhello\r\n0\r\n\r\n", "").error(400));
  v.push_back(ChunkCase("plus sign", "+5\r\nhello\r\n0\r\n\r\n", "").error(400));
  v.push_back(ChunkCase("space before size", " 5\r\nhello\r\n0\r\n\r\n", "").error(400));
  v.push_back(ChunkCase("whitespace after size without extension", "5 \r\nhello\r\n0\r\n\r\n", "").error(400));
  v.push_back(ChunkCase("seventeen hex digits", "00000000000000005\r\nhello\r\n0\r\n\r\n", "").error(400));
  v.push_back(ChunkCase("size overflow", "FFFFFFFFFFFFFFFFF\r\n", "").error(400));
  v.push_back(ChunkCase("bare LF after size", "5\nhello\r\n0\r\n\r\n", "").error(400));
  v.push_back(ChunkCase("bare CR after size", "5\rhello\r\n0\r\n\r\n", "").error(400));
  // The CRLF after data.
  v.push_back(ChunkCase("data longer than its size", "5\r\nhelloX\r\n0\r\n\r\n", "hello").error(400));
  v.push_back(ChunkCase("bare LF after data", "5\r\nhello\n0\r\n\r\n", "hello").error(400));
  v.push_back(ChunkCase("bare CR after data", "5\r\nhello\rX0\r\n\r\n", "hello").error(400));
  v.push_back(ChunkCase("no CRLF after data", "5\r\nhello0\r\n\r\n", "hello").error(400));
  v.push_back(ChunkCase("data shorter than its size", "6\r\nhello\r\n0\r\n\r\n", "hello\r").error(400));
  // Extensions.
  v.push_back(ChunkCase("empty extension name", "5;\r\nhello\r\n0\r\n\r\n", "").error(400));
  v.push_back(ChunkCase("extension with empty value", "5;a=\r\nhello\r\n0\r\n\r\n", "").error(400));
  v.push_back(ChunkCase("extension name with a space inside", "5;a b\r\nhello\r\n0\r\n\r\n", "").error(400));
  v.push_back(ChunkCase("whitespace after extension value", "5;a=b \r\nhello\r\n0\r\n\r\n", "").error(400));
  v.push_back(ChunkCase("unterminated quoted value", "5;a=\"x\r\nhello\r\n0\r\n\r\n", "").error(400));
  v.push_back(ChunkCase("junk after a quoted value", "5;a=\"x\"y\r\nhello\r\n0\r\n\r\n", "").error(400));
  v.push_back(ChunkCase("control byte in a quoted value", "5;a=\"\x01\"\r\nhello\r\n0\r\n\r\n", "").error(400));
  v.push_back(ChunkCase("bare LF in an extension", "5;a\nhello\r\n0\r\n\r\n", "").error(400));
  v.push_back(ChunkCase("NUL in an extension", tsgi_test::bytes("5;a\0\r\nhello\r\n0\r\n\r\n"), "").error(400));
  v.push_back(ChunkCase("extension one byte over the limit", "5;abcd\r\nhello\r\n3;ef\r\nxyz\r\n0;gh\r\n\r\n", "helloxyz")
                  .lim(10, 8192).error(413));
  v.push_back(ChunkCase("one huge extension", "5;" + std::string(5000, 'e') + "\r\nhello\r\n0\r\n\r\n", "").error(413));
  v.push_back(ChunkCase("many small extensions over the default",
                        repeat("1;ext=value-of-some-length\r\nx\r\n", 200) + "0\r\n\r\n", repeat("x", 200))
                  .error(413));
  // Trailers.
  v.push_back(ChunkCase("whitespace before colon in a trailer", "0\r\nX : y\r\n\r\n", "").error(400));
  v.push_back(ChunkCase("obs-fold in the trailer section", "0\r\nX: y\r\n z\r\n\r\n", "").error(400));
  v.push_back(ChunkCase("control byte in a trailer value", "0\r\nX: a\x01\r\n\r\n", "").error(400));
  v.push_back(ChunkCase("DEL in a trailer value", "0\r\nX: a\x7f\r\n\r\n", "").error(400));
  v.push_back(ChunkCase("bare CR in a trailer value", "0\r\nX: a\rb\r\n\r\n", "").error(400));
  v.push_back(ChunkCase("bare LF ends a trailer line", "0\r\nX: a\nY: b\r\n\r\n", "").error(400));
  v.push_back(ChunkCase("trailer without colon", "0\r\nX\r\n\r\n", "").error(400));
  v.push_back(ChunkCase("trailer with empty name", "0\r\n: a\r\n\r\n", "").error(400));
  v.push_back(ChunkCase("bare LF ends the trailer section", "0\r\n\n", "").error(400));
  v.push_back(ChunkCase("bare CR ends the trailer section", "0\r\n\rX", "").error(400));
  v.push_back(ChunkCase("trailer section one byte over the limit", "0\r\nX: 12\r\n\r\n", "").lim(4096, 8).error(431));
  // Fields RFC 9110 §6.5.1 keeps out of a trailer section: refused at their colon.
  for (const char* name : {"Content-Length", "transfer-encoding", "HOST", "Trailer", "TE", "Connection", "Keep-Alive",
                           "Upgrade", "Content-Encoding", "Content-Range", "Content-Type", "Expect", "Cache-Control",
                           "Pragma", "Authorization", "Cookie", "Set-Cookie", "Max-Forwards", "Range", "If-Match",
                           "if-none-match", "If-Modified-Since", "If-X-Anything-Longer-Than-The-Kept-Name-Bytes",
                           "Proxy-Authorization", "proxy-connection"}) {
    const std::string n(name);
    v.push_back(ChunkCase("refused trailer field " + n, "3\r\nabc\r\n0\r\nX-Ok: 1\r\n" + n + ": v\r\n\r\n", "abc")
                    .error(400));
  }
  v.push_back(ChunkCase("endless trailers", "0\r\n" + repeat("X-Trailer: some value\r\n", 500), "").error(431));
  return v;
}

}  // namespace

int main() {
  tsgi_test::Tally tally;
  for (const ChunkCase& cc : cases()) run(cc, &tally);
  return tally.finish();
}
