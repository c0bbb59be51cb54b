// Micro-benchmark of the request head parser: parses a typical browser request (about
// 300 bytes, 7 fields) N times and prints the time per request. Not run by the tests.
//   bench_parser [iterations]   (default 2,000,000)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "../parser.h"

namespace {

const char kRequest[] =
    "GET /images/2010/03/kitty-vader.jpg HTTP/1.1\r\n"
    "Host: www.kittyhell.com\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n"
    "Accept: image/avif,image/webp,*/*\r\n"
    "Accept-Language: ja,en-us;q=0.7,en;q=0.3\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Cookie: wp_ozh_wsa_visits=2; lasttime=1700000000\r\n"
    "Connection: keep-alive\r\n"
    "\r\n";

}  // namespace

int main(int argc, char** argv) {
  const long iterations = argc > 1 ? std::atol(argv[1]) : 2000000;
  const size_t len = sizeof(kRequest) - 1;
  tsgi::HeaderField fields[100];
  tsgi::ParseLimits limits;
  size_t total = 0;

  const auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < iterations; ++i) {
    tsgi::RequestHead head;
    head.headers = fields;
    head.header_capacity = 100;
    size_t consumed = 0;
    if (tsgi::parse_request_head(kRequest, len, limits, &head, &consumed) != tsgi::ParseStatus::Complete) {
      std::fprintf(stderr, "parse failed: %u %s\n", head.error_status, head.error_reason);
      return 1;
    }
    total += consumed + head.header_count;
    asm volatile("" : : "r"(total) : "memory");  // keep the loop from being folded away
  }
  const auto end = std::chrono::steady_clock::now();
  const double ns = std::chrono::duration<double, std::nano>(end - start).count();
  std::printf("%zu-byte request, %ld iterations: %.1f ns/request (%.2f GB/s)\n", len, iterations,
              ns / static_cast<double>(iterations), static_cast<double>(len) * static_cast<double>(iterations) / ns);
  return total == 0;
}
