// A test harness, not the product: runs the Python gateway without node, through a fake
// core that prints what the real one would frame. Build and run (from the repository root):
//   g++ -std=c++17 -g -Wall -Inative $(/usr/bin/python3.11-config --includes) -o /tmp/tsgi-py-driver
//     native/python/test/driver.cc native/python/{interpreter,environ,streams,gateway,harakiri,threads}.cc
//     native/known_headers.cc $(/usr/bin/python3.11-config --ldflags --embed)
//   /tmp/tsgi-py-driver test/fixtures/python/hello.py:app GET /path?x=1 [body]
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "../py.h"
#include "known_headers.h"

struct tsgi_exchange {
  void* user = nullptr;
  bool ended = false;
};

namespace {

int g_stall = 0;  // writes answer 0 (output full) this many times

int start(tsgi_exchange*, int status, const char* head, size_t len, int64_t cl, int32_t flags) {
  printf("[start %d cl=%lld flags=%d]\n%.*s\n", status, static_cast<long long>(cl), flags,
         static_cast<int>(len), head);
  return TSGI_OK;
}
int write(tsgi_exchange*, const char* p, size_t n, tsgi_release_fn rel, void* ctx) {
  printf("[write %zu] %.*s\n", n, static_cast<int>(n), p);
  if (rel) rel(ctx);
  if (g_stall > 0) {
    g_stall--;
    return 0;
  }
  return 1;
}
int send_file(tsgi_exchange*, int fd, int64_t off, int64_t len) {
  printf("[send_file fd=%d off=%lld len=%lld]\n", fd, static_cast<long long>(off), static_cast<long long>(len));
  return TSGI_OK;
}
int end(tsgi_exchange* ex) {
  ex->ended = true;
  printf("[end]\n");
  return TSGI_OK;
}
void abort_(tsgi_exchange* ex) {
  ex->ended = true;
  printf("[abort]\n");
}
void set_user(tsgi_exchange* ex, void* u) { ex->user = u; }
const char* known_key(uint32_t id) { return id < tsgi::kKnownHeaderCount ? tsgi::kKnownHeaderKeys[id] : nullptr; }
void log(int level, const char* m, size_t n) { fprintf(stderr, "[log %d] %.*s\n", level, static_cast<int>(n), m); }

tsgi_core_ops ops = {TSGI_NATIVE_APP_ABI, sizeof(tsgi_core_ops), start, write, send_file, end, abort_,
                     set_user, known_key, log};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: driver APP METHOD TARGET [BODY] [STALLS]\n");
    return 2;
  }
  tsgi::py::Config cfg;
  cfg.app = argv[1];
  cfg.server_names = {"localhost"};
  cfg.server_ports = {"8000"};
  std::string error;
  PyObject* callable = tsgi::py::start_and_load(cfg, &error);
  if (!callable) {
    fprintf(stderr, "load failed: %s\n", error.c_str());
    return 1;
  }
  tsgi_native_app* app = tsgi::py::make_app(callable, cfg);
  app->core = &ops;
  std::string body = argc > 4 ? argv[4] : "";
  g_stall = argc > 5 ? atoi(argv[5]) : 0;
  // The head string and record as the core builds them.
  std::string head;
  std::vector<int32_t> rec(TSGI_REC_HEADERS + 9, 0);
  head += argv[2];
  rec[TSGI_REC_METHOD_END] = static_cast<int32_t>(head.size());
  std::string target = argv[3];
  head += target;
  rec[TSGI_REC_TARGET_END] = static_cast<int32_t>(head.size());
  size_t q = target.find('?');
  rec[TSGI_REC_QUERY_START] = q == std::string::npos ? -1 : rec[TSGI_REC_METHOD_END] + static_cast<int32_t>(q) + 1;
  head += target.substr(0, q);
  rec[TSGI_REC_PATH_END] = static_cast<int32_t>(head.size());
  head += "127.0.0.1";
  rec[TSGI_REC_ADDR_END] = static_cast<int32_t>(head.size());
  rec[TSGI_REC_VERSION_MINOR] = 1;
  rec[TSGI_REC_REMOTE_PORT] = 54321;
  rec[TSGI_REC_LOCAL_PORT] = 8000;
  int32_t* hp = rec.data() + TSGI_REC_HEADERS;
  hp[0] = tsgi::kHeaderHost;
  hp[1] = static_cast<int32_t>(head.size());
  head += "localhost:8000";
  hp[2] = static_cast<int32_t>(head.size());
  hp[3] = tsgi::kHeaderCookie;
  hp[4] = static_cast<int32_t>(head.size());
  head += "a=1";
  hp[5] = static_cast<int32_t>(head.size());
  hp[6] = 0;
  head += "HTTP_X_TEST";
  hp[7] = static_cast<int32_t>(head.size());
  head += "yes";
  hp[8] = static_cast<int32_t>(head.size());
  rec[TSGI_REC_HEADER_COUNT] = 3;
  rec[TSGI_REC_TRAILERS_START] = static_cast<int32_t>(head.size());
  tsgi_request_view view = {TSGI_NATIVE_APP_ABI, sizeof view, head.data(), head.size(), rec.data(),
                            body.empty() ? nullptr : body.data(), body.size(), -1, body.size()};
  tsgi_exchange ex;
  app->on_request(app, &ex, &view);
  for (int i = 0; i < 100 && !ex.ended; i++) app->on_drain(app, &ex, ex.user);
  return ex.ended ? 0 : 3;
}
