// Response framing into a ByteBuffer; see framing.h.
#include "framing.h"

namespace tsgi {

size_t format_decimal(char* out, uint64_t v) {
  char tmp[20];
  size_t n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  for (size_t i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
  return n;
}

void append_head_end(ByteBuffer& out, const HeadFraming& f) {
  // Enough for every server header at once: one reserve, then plain stores.
  char* p = out.reserve(f.date_line_len + 128);
  char* start = p;
  if (f.date_line) {
    std::memcpy(p, f.date_line, f.date_line_len);
    p += f.date_line_len;
  }
  if (f.content_length >= 0) {
    std::memcpy(p, "Content-Length: ", 16);
    p += 16;
    p += format_decimal(p, static_cast<uint64_t>(f.content_length));
    *p++ = '\r';
    *p++ = '\n';
  } else if (f.chunked) {
    std::memcpy(p, "Transfer-Encoding: chunked\r\n", 28);
    p += 28;
  }
  if (f.connection == ConnectionToken::Close) {
    std::memcpy(p, "Connection: close\r\n", 19);
    p += 19;
  } else if (f.connection == ConnectionToken::KeepAlive) {
    std::memcpy(p, "Connection: keep-alive\r\n", 24);
    p += 24;
  }
  *p++ = '\r';
  *p++ = '\n';
  out.commit(static_cast<size_t>(p - start));
}

void append_chunk_header(ByteBuffer& out, uint64_t n) {
  static const char kHex[] = "0123456789abcdef";
  char tmp[16];
  size_t len = 0;
  do {
    tmp[len++] = kHex[n & 15];
    n >>= 4;
  } while (n);
  char* p = out.reserve(len + 2);
  for (size_t i = 0; i < len; i++) p[i] = tmp[len - 1 - i];
  p[len] = '\r';
  p[len + 1] = '\n';
  out.commit(len + 2);
}

}  // namespace tsgi
