// Unit tests of the plain C++ parts of the server core: response framing, the Date
// cache, the canned error table, body spooling and the spare-buffer pool. No Node, no libuv; built and run
// with ASan + UBSan by test/native-framing.test.ts.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "../date_cache.h"
#include "../errors.h"
#include "../framing.h"
#include "../spool.h"
#include "../spare_pool.h"
#include "check.h"

using namespace tsgi;


static std::string str(const ByteBuffer& b) { return std::string(b.data() ? b.data() : "", b.size()); }

static void test_byte_buffer() {
  ByteBuffer b;
  CHECK(b.empty());
  for (int i = 0; i < 1000; i++) b.append("0123456789", 10);
  CHECK(b.size() == 10000);
  CHECK(std::memcmp(b.data() + 9990, "0123456789", 10) == 0);
  b.consume_front(9995);
  CHECK(str(b) == "56789");
  ByteBuffer c;
  c.append_literal("xy");
  b.swap(c);
  CHECK(str(b) == "xy");
  CHECK(str(c) == "56789");
  b.clear();
  b.shrink_if_over(16);
  CHECK(b.capacity() == 0);
}

static void test_status_and_decimal() {
  CHECK(status_forbids_body(100) && status_forbids_body(204) && status_forbids_body(304));
  CHECK(!status_forbids_body(200) && !status_forbids_body(205) && !status_forbids_body(404));
  char d[24];
  CHECK(std::string(d, format_decimal(d, 0)) == "0");
  CHECK(std::string(d, format_decimal(d, 18446744073709551615ull)) == "18446744073709551615");
}

static void test_head_end() {
  const char* date = "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n";
  {
    ByteBuffer b;
    append_status_prefix(b);
    b.append_literal("200 OK\r\nX: y\r\n");
    HeadFraming f;
    f.date_line = date;
    f.date_line_len = std::strlen(date);
    f.content_length = 13;
    append_head_end(b, f);
    CHECK(str(b) == "HTTP/1.1 200 OK\r\nX: y\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 13\r\n\r\n");
  }
  {
    ByteBuffer b;
    HeadFraming f;
    f.chunked = true;
    f.connection = ConnectionToken::Close;
    append_head_end(b, f);
    CHECK(str(b) == "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
  }
  {
    ByteBuffer b;
    HeadFraming f;
    f.content_length = 0;
    f.connection = ConnectionToken::KeepAlive;
    append_head_end(b, f);
    CHECK(str(b) == "Content-Length: 0\r\nConnection: keep-alive\r\n\r\n");
  }
}

static void test_chunks() {
  ByteBuffer b;
  append_chunk_header(b, 1);
  append_chunk_header(b, 255);
  append_chunk_header(b, 0x10000);
  append_chunk_end(b);
  append_last_chunk(b);
  CHECK(str(b) == "1\r\nff\r\n10000\r\n\r\n0\r\n\r\n");
}

static void test_date() {
  char out[30] = {0};
  format_http_date(784111777, out);
  CHECK(std::string(out, 29) == "Sun, 06 Nov 1994 08:49:37 GMT");
  format_http_date(0, out);
  CHECK(std::string(out, 29) == "Thu, 01 Jan 1970 00:00:00 GMT");
  format_http_date(951782400, out);  // a leap day
  CHECK(std::string(out, 29) == "Tue, 29 Feb 2000 00:00:00 GMT");
  DateCache c;
  c.update(784111777);
  CHECK(std::string(c.line(), c.line_len()) == "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n");
  c.update(784111778);
  CHECK(std::string(c.line(), c.line_len()) == "Date: Sun, 06 Nov 1994 08:49:38 GMT\r\n");
}

static void test_canned() {
  for (const CannedResponse& r : kCannedResponses) {
    std::string s(r.bytes, r.len);
    char prefix[32];
    std::snprintf(prefix, sizeof prefix, "HTTP/1.1 %u ", r.status);
    CHECK(s.rfind(prefix, 0) == 0);
    CHECK(s.find("\r\nConnection: close\r\n") != std::string::npos);
    size_t cl = s.find("Content-Length: ");
    size_t end = s.find("\r\n\r\n");
    CHECK(cl != std::string::npos && end != std::string::npos);
    size_t n = std::strtoul(s.c_str() + cl + 16, nullptr, 10);
    CHECK(n == s.size() - end - 4);
  }
  CHECK(canned_response(431).status == 431);
  CHECK(canned_response(999).status == 400);
  CHECK(std::string(kContinueResponse) == "HTTP/1.1 100 Continue\r\n\r\n");
}

static void test_spool() {
  int fd = spool_open("/tmp");
  CHECK(fd >= 0);
  if (fd < 0) return;
  struct stat st;
  CHECK(fstat(fd, &st) == 0 && st.st_nlink == 0);  // unlinked: gone with its last fd
  std::string data(100000, 'z');
  data[0] = 'a';
  CHECK(spool_write(fd, data.data(), data.size()) == 0);
  CHECK(spool_rewind(fd) == 0);
  std::string back(data.size(), '\0');
  CHECK(read(fd, &back[0], back.size()) == static_cast<ssize_t>(back.size()));
  CHECK(back == data);
  close(fd);
  CHECK(spool_open("/nonexistent-dir-for-tsgi") < 0);
}

// The loop's spare buffers: memory lent and given back, bounded in count and size.
static void test_spare_pool() {
  SparePool<ByteBuffer> pool;
  ByteBuffer a;
  pool.take(a);  // nothing spare yet: a stays without memory
  CHECK(a.capacity() == 0);
  a.append("hello", 5);
  const char* mem = a.data();
  size_t cap = a.capacity();
  pool.give(a);
  CHECK(a.capacity() == 0 && a.empty());
  CHECK(pool.count() == 1);
  ByteBuffer b;
  pool.take(b);  // the same memory, emptied
  CHECK(b.data() == mem && b.capacity() == cap && b.empty());
  CHECK(pool.count() == 0);
  pool.take(b);  // has memory already: nothing taken
  CHECK(b.data() == mem);
  // Too large to keep: freed, not pooled.
  ByteBuffer big;
  big.reserve(SparePool<ByteBuffer>::kMaxKept + 1);
  pool.give(big);
  CHECK(big.capacity() == 0 && pool.count() == 0);
  // At most kSlots are kept.
  static ByteBuffer many[SparePool<ByteBuffer>::kSlots + 3];
  for (ByteBuffer& m : many) {
    m.append("x", 1);
    pool.give(m);
    CHECK(m.capacity() == 0);
  }
  CHECK(pool.count() == SparePool<ByteBuffer>::kSlots);
  // Records keep their elements (the builder overwrites them).
  SparePool<std::vector<int32_t>> records;
  std::vector<int32_t> r(40, 7);
  records.give(r);
  CHECK(r.capacity() == 0);
  std::vector<int32_t> s;
  records.take(s);
  CHECK(s.size() == 40 && s[39] == 7);
}

int main() {
  test_spare_pool();
  test_byte_buffer();
  test_status_and_decimal();
  test_head_end();
  test_chunks();
  test_date();
  test_canned();
  test_spool();
  return tsgi::unit::checks_result("framing_test");
}
