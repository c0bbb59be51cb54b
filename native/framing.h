// Response framing: the status line, the headers the server owns (Date,
// Content-Length, Transfer-Encoding, Connection) and chunk framing, written into a
// byte buffer. Plain C++: no Node-API, no libuv, unit-testable on its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace tsgi {

// A growable byte buffer that keeps its capacity across clear(); the output staging
// area of a connection and the scratch space for request heads.
class ByteBuffer {
 public:
  ByteBuffer() = default;
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;
  ~ByteBuffer() { std::free(data_); }

  char* data() { return data_; }
  const char* data() const { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return cap_; }
  bool empty() const { return size_ == 0; }
  void clear() { size_ = 0; }

  // Room for n more bytes at the end; returns where they go (commit() them after).
  char* reserve(size_t n) {
    if (cap_ - size_ < n) grow(size_ + n);
    return data_ + size_;
  }
  void commit(size_t n) { size_ += n; }
  void append(const void* p, size_t n) {
    if (n == 0) return;
    std::memcpy(reserve(n), p, n);
    size_ += n;
  }
  void append(char c) {
    *reserve(1) = c;
    size_ += 1;
  }
  template <size_t N>
  void append_literal(const char (&s)[N]) { append(s, N - 1); }

  // Drops the first n bytes (the rest moves to the front).
  void consume_front(size_t n) {
    if (n >= size_) {
      size_ = 0;
      return;
    }
    std::memmove(data_, data_ + n, size_ - n);
    size_ -= n;
  }
  void swap(ByteBuffer& other) {
    char* d = data_; data_ = other.data_; other.data_ = d;
    size_t s = size_; size_ = other.size_; other.size_ = s;
    size_t c = cap_; cap_ = other.cap_; other.cap_ = c;
  }
  // Frees the memory when it grew past keep bytes (a big upload must not pin it).
  void shrink_if_over(size_t keep) {
    if (size_ == 0 && cap_ > keep) {
      std::free(data_);
      data_ = nullptr;
      cap_ = 0;
    }
  }

 private:
  void grow(size_t need) {
    size_t cap = cap_ ? cap_ : 256;
    while (cap < need) cap *= 2;
    char* d = static_cast<char*>(std::realloc(data_, cap));
    if (!d) std::abort();
    data_ = d;
    cap_ = cap;
  }
  char* data_ = nullptr;
  size_t size_ = 0;
  size_t cap_ = 0;
};

enum class ConnectionToken : uint8_t {
  None,       // HTTP/1.1 keep-alive: nothing to say
  KeepAlive,  // HTTP/1.0 keep-alive: "Connection: keep-alive"
  Close,      // "Connection: close"
};

struct HeadFraming {
  const char* date_line = nullptr;  // "Date: ...\r\n", or null to omit
  size_t date_line_len = 0;
  int64_t content_length = -1;      // >= 0: add "Content-Length: N"
  bool chunked = false;             // add "Transfer-Encoding: chunked"
  ConnectionToken connection = ConnectionToken::None;
};

// 1xx, 204 and 304 responses never carry a body (RFC 9110 §6.4.1).
inline bool status_forbids_body(int status) {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

inline void append_status_prefix(ByteBuffer& out) { out.append_literal("HTTP/1.1 "); }

// After the application's header lines: the server's headers and the blank line.
void append_head_end(ByteBuffer& out, const HeadFraming& framing);

// "<hex size>\r\n" before a chunk of n > 0 bytes.
void append_chunk_header(ByteBuffer& out, uint64_t n);
inline void append_chunk_end(ByteBuffer& out) { out.append_literal("\r\n"); }
// The last chunk and the empty trailer section.
inline void append_last_chunk(ByteBuffer& out) { out.append_literal("0\r\n\r\n"); }

// Decimal digits of v at out (room for 20), returns how many.
size_t format_decimal(char* out, uint64_t v);

}  // namespace tsgi
