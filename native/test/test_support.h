// Shared helpers of the native parser tests: inputs placed right before an inaccessible
// page (so any read past the end faults), and the pass/fail tally.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace tsgi_test {

// A region of read-write memory followed by a PROT_NONE page. place() copies bytes so
// they end exactly at the guard page: reading one byte past them crashes.
class GuardedBuffer {
 public:
  explicit GuardedBuffer(size_t capacity) {
    page_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    size_ = (capacity + page_ - 1) / page_ * page_;
    void* m = mmap(nullptr, size_ + page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) {
      std::perror("mmap");
      std::exit(2);
    }
    base_ = static_cast<char*>(m);
    if (mprotect(base_ + size_, page_, PROT_NONE) != 0) {
      std::perror("mprotect");
      std::exit(2);
    }
  }
  ~GuardedBuffer() { munmap(base_, size_ + page_); }
  GuardedBuffer(const GuardedBuffer&) = delete;
  GuardedBuffer& operator=(const GuardedBuffer&) = delete;

  const char* place(const char* data, size_t len) {
    if (len > size_) {
      std::fprintf(stderr, "input of %zu bytes does not fit the guarded buffer\n", len);
      std::exit(2);
    }
    char* dst = base_ + size_ - len;
    if (len != 0) std::memcpy(dst, data, len);
    return dst;
  }
  const char* place(const std::string& s) { return place(s.data(), s.size()); }

 private:
  char* base_ = nullptr;
  size_t size_ = 0;
  size_t page_ = 0;
};

// One test case's verdict: the first failure is kept, later ones are counted.
class Case {
 public:
  explicit Case(std::string name) : name_(std::move(name)) {}
  bool ok() const { return failures_ == 0; }
  void fail(const char* fmt, ...) __attribute__((format(printf, 2, 3))) {
    if (failures_++ == 0) {
      char buf[512];
      va_list ap;
      va_start(ap, fmt);
      std::vsnprintf(buf, sizeof buf, fmt, ap);
      va_end(ap);
      first_ = buf;
    }
  }
  const std::string& name() const { return name_; }
  const std::string& first_failure() const { return first_; }
  int failures() const { return failures_; }

 private:
  std::string name_;
  std::string first_;
  int failures_ = 0;
};

class Tally {
 public:
  void record(const Case& c) {
    if (c.ok()) {
      ++passed_;
    } else {
      ++failed_;
      std::printf("FAIL %s: %s", c.name().c_str(), c.first_failure().c_str());
      if (c.failures() > 1) std::printf(" (and %d more)", c.failures() - 1);
      std::printf("\n");
    }
  }
  int finish() const {
    std::printf("%d passed, %d failed\n", passed_, failed_);
    return failed_ == 0 && passed_ > 0 ? 0 : 1;
  }

 private:
  int passed_ = 0;
  int failed_ = 0;
};

// A string literal as bytes, embedded NULs included.
template <size_t N>
std::string bytes(const char (&literal)[N]) {
  return std::string(literal, N - 1);
}

// Printable form of bytes for failure messages.
inline std::string show(const std::string& s, size_t max = 60) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\r') out += "\\r";
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c >= 0x7F) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      out += b;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

}  // namespace tsgi_test
