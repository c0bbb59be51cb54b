// The core's side of the native application ABI (native_app.h): requests from the
// connection state machine go to app->on_request with the same record and head string
// JavaScript gets; the application's answers (tsgi_core_ops) go straight to the
// connection's response methods, on the loop thread, with no JavaScript in between.
#include "native_app_sink.h"

#include <unistd.h>

#include <cstdio>
#include <unordered_map>

#include "connection.h"
#include "known_headers.h"
#include "output_queue.h"
#include "server.h"

namespace tsgi {

namespace {

Connection* conn_of(tsgi_exchange* ex) { return reinterpret_cast<Connection*>(ex); }

// The application's pointer per exchange (set_user), until the exchange ends. Connections
// belong to one loop thread, as this map does.
thread_local std::unordered_map<Connection*, void*> t_users;

void* user_of(Connection* c) {
  auto it = t_users.find(c);
  return it == t_users.end() ? nullptr : it->second;
}

// A write's bytes: copied by the output queue, or held (hold runs) and released once
// written or dropped; either way the application's release runs exactly once.
struct Held {
  tsgi_release_fn release;
  void* ctx;
  bool held;
};

void run_release(void* fn, void* ctx) { reinterpret_cast<tsgi_release_fn>(fn)(ctx); }

Release hold_bytes(void* held, void*) {
  Held* h = static_cast<Held*>(held);
  h->held = true;
  Release r;
  r.fn = run_release;
  r.ctx = reinterpret_cast<void*>(h->release);
  r.cookie = h->ctx;
  return r;
}

int op_start(tsgi_exchange* ex, int status, const char* head, size_t head_len, int64_t content_length,
             int32_t flags) {
  Bytes b;
  b.data = head;
  b.len = head_len;
  return conn_of(ex)->write_head(status, b, content_length, flags);
}

int op_write(tsgi_exchange* ex, const char* data, size_t len, tsgi_release_fn release, void* ctx) {
  Held h{release, ctx, false};
  Bytes b;
  b.data = data;
  b.len = len;
  if (release) {
    b.hold = hold_bytes;
    b.ctx = &h;
  }
  int r = conn_of(ex)->write(b);
  if (release && !h.held) release(ctx);
  return r;
}

int op_send_file(tsgi_exchange* ex, int fd, int64_t offset, int64_t length) {
  return conn_of(ex)->send_file(fd, offset, length);
}

int op_end(tsgi_exchange* ex) {
  Connection* c = conn_of(ex);
  t_users.erase(c);
  return c->end(Bytes());
}

void op_abort(tsgi_exchange* ex) {
  Connection* c = conn_of(ex);
  t_users.erase(c);
  c->abort();
}

void op_set_user(tsgi_exchange* ex, void* user) { t_users[conn_of(ex)] = user; }

const char* op_known_key(uint32_t id) {
  return id > 0 && id < kKnownHeaderCount ? kKnownHeaderKeys[id] : nullptr;
}

// The error log of a worker is its stderr (the process manager captures it as for
// JavaScript applications' wsgi.errors).
void op_log(int, const char* msg, size_t len) {
  std::string line(msg, len);
  if (line.empty() || line.back() != '\n') line.push_back('\n');
  size_t at = 0;
  while (at < line.size()) {
    ssize_t n = ::write(2, line.data() + at, line.size() - at);
    if (n <= 0) break;
    at += static_cast<size_t>(n);
  }
}

const tsgi_core_ops kOps = {
    TSGI_NATIVE_APP_ABI, sizeof(tsgi_core_ops), op_start, op_write, op_send_file, op_end,
    op_abort, op_set_user, op_known_key, op_log,
};

}  // namespace

NativeAppSink::NativeAppSink(tsgi_native_app* app) : app_(app) { app_->core = &kOps; }

bool NativeAppSink::compatible(const tsgi_native_app* app, std::string* why) {
  if (!app) {
    *why = "no native application";
    return false;
  }
  if (app->abi != TSGI_NATIVE_APP_ABI || app->size < sizeof(tsgi_native_app)) {
    *why = "the native application was built for ABI " + std::to_string(app->abi) + ", this core speaks " +
           std::to_string(TSGI_NATIVE_APP_ABI) + ": rebuild both addons from the same tsgi";
    return false;
  }
  return true;
}

void NativeAppSink::request(Connection* c, const DispatchedRequest& r) {
  tsgi_request_view v;
  v.abi = TSGI_NATIVE_APP_ABI;
  v.size = sizeof v;
  v.head = r.text;
  v.head_len = r.text_len;
  v.record = r.record;
  v.body = r.body;
  v.body_len = r.body_len;
  v.body_fd = r.body_fd;
  v.body_length = r.body_bytes;
  app_->on_request(app_, reinterpret_cast<tsgi_exchange*>(c), &v);
}

void NativeAppSink::drain(Connection* c) {
  if (app_->on_drain) app_->on_drain(app_, reinterpret_cast<tsgi_exchange*>(c), user_of(c));
}

void NativeAppSink::aborted(Connection* c) {
  void* user = user_of(c);
  t_users.erase(c);
  if (app_->on_abort) app_->on_abort(app_, reinterpret_cast<tsgi_exchange*>(c), user);
}

}  // namespace tsgi
