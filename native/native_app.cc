// The core's side of the native application ABI (native_app.h): requests from the
// connection state machine go to app->on_request with the same record and head string
// JavaScript gets; the application's answers (tsgi_core_ops) go straight to the
// connection's response methods, on the loop thread, with no JavaScript in between.
#include "native_app_sink.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "connection.h"
#include "known_headers.h"
#include "output_queue.h"
#include "server.h"

namespace tsgi {

namespace {

Connection* conn_of(tsgi_exchange* ex) { return reinterpret_cast<Connection*>(ex); }

// One exchange in flight: the application's pointer (set_user) and what its access entry
// and the counters need. Connections belong to one loop thread, as this map does; its
// nodes are kept for reuse, so a request allocates nothing here once the map is warm.
struct Exchange {
  void* user = nullptr;
  NativeAppSink* sink = nullptr;
  std::chrono::steady_clock::time_point t0;
  int64_t declared = -1;  // the application's Content-Length, or -1
  uint64_t sent = 0;      // body bytes given to write and send_file
  AccessEntry entry;
  // The application's notes for the access entry (TSGI_NOTE_VALUE + i).
  std::vector<std::pair<int, std::string>> notes;
};

using ExchangeMap = std::unordered_map<Connection*, Exchange>;
thread_local ExchangeMap t_ex;
thread_local std::vector<ExchangeMap::node_type> t_spare;
constexpr size_t kMaxSpareNodes = 1024;

Exchange* exchange_of(Connection* c) {
  auto it = t_ex.find(c);
  return it == t_ex.end() ? nullptr : &it->second;
}

// A fresh exchange for c (a reused node keeps its text buffer's capacity only).
Exchange& begin_exchange(Connection* c) {
  Exchange* x;
  if (!t_spare.empty()) {
    ExchangeMap::node_type node = std::move(t_spare.back());
    t_spare.pop_back();
    node.key() = c;
    x = &t_ex.insert(std::move(node)).position->second;
  } else {
    x = &t_ex[c];
  }
  x->user = nullptr;
  x->sink = nullptr;
  x->declared = -1;
  x->sent = 0;
  x->entry.status = 0;
  x->entry.start_ms = 0;
  x->entry.text.clear();
  x->notes.clear();
  return *x;
}

// The environ keys of the access entry's fields that only the application knows (not
// request headers): their field index, and the keys for log_key. Set by record_access on
// the loop thread; log_key is also called from Python threads.
std::mutex g_keys_mu;
std::vector<std::string> g_log_keys;
std::vector<size_t> g_log_key_fields;

bool header_key(const std::string& k) {
  return k.compare(0, 5, "HTTP_") == 0 || k == "CONTENT_TYPE" || k == "CONTENT_LENGTH";
}

// Replaces field `index` of a NUL-separated access entry text.
void replace_field(std::string* text, size_t index, const std::string& value) {
  size_t at = 0;
  for (size_t i = 0; i < index; i++) {
    at = text->find('\0', at);
    if (at == std::string::npos) return;
    at++;
  }
  size_t end = text->find('\0', at);
  if (end == std::string::npos) return;
  text->replace(at, end - at, value);
}

void apply_notes(Exchange& x) {
  if (x.entry.text.empty()) return;
  std::lock_guard<std::mutex> lock(g_keys_mu);
  for (const auto& n : x.notes) {
    size_t i = static_cast<size_t>(n.first - TSGI_NOTE_VALUE);
    if (i < g_log_key_fields.size()) replace_field(&x.entry.text, g_log_key_fields[i], n.second);
  }
}

// A request's record is complete: counted, its access entry kept.
void finish_record(Exchange& x) {
  if (!x.sink) return;
  std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - x.t0;
  x.entry.duration_ms = took.count();
  uint64_t sent = x.sent;
  if (x.declared >= 0 && sent > static_cast<uint64_t>(x.declared)) sent = static_cast<uint64_t>(x.declared);
  x.entry.bytes = static_cast<double>(sent);
  if (!x.notes.empty()) apply_notes(x);
  x.sink->finished(&x.entry);
}

// The exchange of c is over (end, abort, or the connection went away): its record
// finished, its node put aside. Once only: later calls find nothing.
void finish_exchange(Connection* c) {
  auto it = t_ex.find(c);
  if (it == t_ex.end()) return;
  finish_record(it->second);
  ExchangeMap::node_type node = t_ex.extract(it);
  if (t_spare.size() < kMaxSpareNodes) t_spare.push_back(std::move(node));
}

// Records the application kept past its client's leaving (core->keep): the handle it got
// is the record's own address, which no live connection shares.
thread_local std::unordered_set<Exchange*> t_kept;

Exchange* kept_of(tsgi_exchange* ex) {
  if (t_kept.empty()) return nullptr;
  auto it = t_kept.find(reinterpret_cast<Exchange*>(ex));
  return it == t_kept.end() ? nullptr : *it;
}

void finish_kept(Exchange* k) {
  t_kept.erase(k);
  finish_record(*k);
  delete k;
}

void* user_of(Connection* c) {
  Exchange* x = exchange_of(c);
  return x ? x->user : nullptr;
}

double wall_ms() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// The access entry's text fields (AccessEntry::text) from the request's head string.
void capture(const DispatchedRequest& r, const std::vector<std::string>& keys, std::string* out) {
  const int32_t* rec = r.record;
  const char* t = r.text;
  const int32_t len = static_cast<int32_t>(r.text_len);
  auto span = [&](int32_t a, int32_t b) {
    if (a >= 0 && b >= a && b <= len) out->append(t + a, static_cast<size_t>(b - a));
    out->push_back('\0');
  };
  // Wanted header values and a SERVER_PROTOCOL override (a uwsgi request), in one pass.
  constexpr size_t kMaxKeys = 16;
  int32_t found[kMaxKeys][2];
  const size_t wanted = keys.size() < kMaxKeys ? keys.size() : kMaxKeys;
  for (size_t k = 0; k < wanted; k++) found[k][0] = found[k][1] = -1;
  int32_t proto[2] = {-1, -1};
  const int32_t headers = rec[TSGI_REC_HEADER_COUNT];
  const int32_t entries = headers + rec[TSGI_REC_OVERRIDE_COUNT];
  int32_t prev = rec[TSGI_REC_ADDR_END];
  for (int32_t i = 0; i < entries; i++) {
    const int32_t* e = rec + TSGI_REC_HEADERS + 3 * i;
    const uint32_t id = static_cast<uint32_t>(e[0]);
    const char* key;
    size_t key_len;
    if (id > 0 && id < kKnownHeaderCount) {
      key = kKnownHeaderKeys[id];
      key_len = std::strlen(key);
    } else {
      key = t + prev;
      key_len = static_cast<size_t>(e[1] - prev);
    }
    if (i >= headers) {
      if (key_len == 15 && std::memcmp(key, "SERVER_PROTOCOL", 15) == 0) proto[0] = e[1], proto[1] = e[2];
    } else {
      for (size_t k = 0; k < wanted; k++) {
        if (found[k][0] < 0 && keys[k].size() == key_len && std::memcmp(keys[k].data(), key, key_len) == 0) {
          found[k][0] = e[1];
          found[k][1] = e[2];
        }
      }
    }
    prev = e[2];
  }
  span(0, rec[TSGI_REC_METHOD_END]);
  span(rec[TSGI_REC_METHOD_END], rec[TSGI_REC_TARGET_END]);
  if (proto[0] >= 0) {
    span(proto[0], proto[1]);
  } else {
    out->append(rec[TSGI_REC_VERSION_MINOR] == 0 ? "HTTP/1.0" : "HTTP/1.1");
    out->push_back('\0');
  }
  span(rec[TSGI_REC_PATH_END], rec[TSGI_REC_ADDR_END]);
  span(rec[TSGI_REC_TARGET_END], rec[TSGI_REC_PATH_END]);
  if (rec[TSGI_REC_QUERY_START] >= 0) span(rec[TSGI_REC_QUERY_START], rec[TSGI_REC_TARGET_END]);
  else out->push_back('\0');
  for (size_t k = 0; k < keys.size(); k++) {
    if (k < wanted) span(found[k][0], found[k][1]);
    else out->push_back('\0');
  }
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

int op_start(tsgi_exchange* ex, int status, const char* head, size_t head_len, int64_t content_length, int32_t flags) {
  if (Exchange* k = kept_of(ex)) {
    k->entry.status = status;
    return TSGI_GONE;
  }
  if (Exchange* x = exchange_of(conn_of(ex))) {
    x->entry.status = status;
    x->declared = content_length;
  }
  Bytes b;
  b.data = head;
  b.len = head_len;
  return conn_of(ex)->write_head(status, b, content_length, flags);
}

int op_write(tsgi_exchange* ex, const char* data, size_t len, tsgi_release_fn release, void* ctx) {
  if (kept_of(ex)) {
    if (release) release(ctx);
    return -1;
  }
  if (Exchange* x = exchange_of(conn_of(ex))) x->sent += len;
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
  if (kept_of(ex)) return TSGI_GONE;
  if (Exchange* x = exchange_of(conn_of(ex))) x->sent += length > 0 ? static_cast<uint64_t>(length) : 0;
  return conn_of(ex)->send_file(fd, offset, length);
}

int op_end(tsgi_exchange* ex) {
  if (Exchange* k = kept_of(ex)) {
    finish_kept(k);
    return TSGI_GONE;
  }
  Connection* c = conn_of(ex);
  finish_exchange(c);
  return c->end(Bytes());
}

void op_abort(tsgi_exchange* ex) {
  if (Exchange* k = kept_of(ex)) return finish_kept(k);
  Connection* c = conn_of(ex);
  finish_exchange(c);
  c->cut();
}

void op_note(tsgi_exchange* ex, int what, const char* value, size_t len) {
  Exchange* x = kept_of(ex);
  if (!x) x = exchange_of(conn_of(ex));
  if (!x || !x->sink) return;
  if (what == TSGI_NOTE_HARAKIRI) {
    x->sink->count_harakiri();
    return;
  }
  if (x->entry.text.empty() || what < TSGI_NOTE_VALUE) return;
  x->notes.emplace_back(what, std::string(value ? value : "", value ? len : 0));
}

const char* op_log_key(uint32_t i) {
  std::lock_guard<std::mutex> lock(g_keys_mu);
  return i < g_log_keys.size() ? g_log_keys[i].c_str() : nullptr;
}

void op_set_user(tsgi_exchange* ex, void* user) {
  if (kept_of(ex)) return;
  Connection* c = conn_of(ex);
  if (Exchange* x = exchange_of(c)) x->user = user;
  else begin_exchange(c).user = user;
}

// The client of c left while the application still runs its request: the record moves
// out of the connection's map (the connection goes away) into one of its own.
tsgi_exchange* op_keep(tsgi_exchange* ex) {
  auto it = t_ex.find(conn_of(ex));
  if (it == t_ex.end() || !it->second.sink) return nullptr;
  auto* k = new Exchange(std::move(it->second));
  k->user = nullptr;
  ExchangeMap::node_type node = t_ex.extract(it);
  if (t_spare.size() < kMaxSpareNodes) t_spare.push_back(std::move(node));
  t_kept.insert(k);
  return reinterpret_cast<tsgi_exchange*>(k);
}

const char* op_known_key(uint32_t id) {
  return id > 0 && id < kKnownHeaderCount ? kKnownHeaderKeys[id] : nullptr;
}

// The error log: standard error, or the worker's --error-log file (set_error_log). Python
// threads log too, so the descriptor is guarded.
std::mutex g_log_mu;
int g_log_fd = 2;

void op_log(int, const char* msg, size_t len) {
  std::string line(msg, len);
  if (line.empty() || line.back() != '\n') line.push_back('\n');
  std::lock_guard<std::mutex> lock(g_log_mu);
  size_t at = 0;
  while (at < line.size()) {
    ssize_t n = ::write(g_log_fd, line.data() + at, line.size() - at);
    if (n <= 0) break;
    at += static_cast<size_t>(n);
  }
}

const tsgi_core_ops kOps = {
    TSGI_NATIVE_APP_ABI, sizeof(tsgi_core_ops), op_start, op_write, op_send_file, op_end,
    op_abort, op_set_user, op_known_key, op_log, op_note, op_log_key, op_keep,
};

}  // namespace

NativeAppSink::NativeAppSink(tsgi_native_app* app) : app_(app) { app_->core = &kOps; }

void NativeAppSink::set_error_log(int fd) {
  int own = fd < 0 || fd == 2 ? 2 : ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (own < 0) own = 2;
  std::lock_guard<std::mutex> lock(g_log_mu);
  if (g_log_fd != 2) ::close(g_log_fd);
  g_log_fd = own;
}

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
  Exchange& x = begin_exchange(c);
  x.sink = this;
  x.t0 = std::chrono::steady_clock::now();
  if (recording()) {
    x.entry.start_ms = wall_ms();
    capture(r, keys_, &x.entry.text);
  }
  counters_.in_flight++;
  app_->on_request(app_, reinterpret_cast<tsgi_exchange*>(c), &v);
}

void NativeAppSink::drain(Connection* c) {
  if (app_->on_drain) app_->on_drain(app_, reinterpret_cast<tsgi_exchange*>(c), user_of(c));
}

// The application hears it first: it may still note values, or keep the record (op_keep)
// while it runs on; what it did not keep is finished here.
void NativeAppSink::aborted(Connection* c) {
  void* user = user_of(c);
  if (app_->on_abort) app_->on_abort(app_, reinterpret_cast<tsgi_exchange*>(c), user);
  finish_exchange(c);
}

void NativeAppSink::finished(AccessEntry* e) {
  counters_.finished++;
  counters_.in_flight--;
  if (e->status >= 500) counters_.errors++;
  counters_.bytes += e->bytes;
  counters_.time_us += e->duration_ms * 1000;
  // Not recording, or the request arrived before recording began (nothing captured).
  if (ring_.empty() || e->text.empty()) return;
  size_t at = (head_ + count_) % ring_.size();
  if (count_ == ring_.size()) {
    head_ = (head_ + 1) % ring_.size();  // full: the oldest entry goes
    counters_.dropped++;
  } else {
    count_++;
  }
  AccessEntry& slot = ring_[at];
  slot.start_ms = e->start_ms;
  slot.duration_ms = e->duration_ms;
  slot.status = e->status;
  slot.bytes = e->bytes;
  slot.text.swap(e->text);  // the exchange gets the slot's old buffer to reuse
}

void NativeAppSink::record_access(size_t capacity, std::vector<std::string> keys) {
  keys_ = std::move(keys);
  {
    // log_key's strings stay valid while requests run: the list is replaced only here.
    std::lock_guard<std::mutex> lock(g_keys_mu);
    g_log_keys.clear();
    g_log_key_fields.clear();
    if (capacity > 0) {
      g_log_keys.push_back("REMOTE_ADDR");  // the fourth fixed field
      g_log_key_fields.push_back(3);
    }
    for (size_t k = 0; k < keys_.size() && capacity > 0; k++) {
      if (header_key(keys_[k])) continue;
      g_log_keys.push_back(keys_[k]);
      g_log_key_fields.push_back(6 + k);  // after the six fixed fields (AccessEntry::text)
    }
  }
  ring_.clear();
  ring_.resize(capacity);
  head_ = count_ = 0;
}

size_t NativeAppSink::take_access(std::vector<AccessEntry>* out) {
  size_t n = count_;
  if (out->size() < n) out->resize(n);
  for (size_t i = 0; i < n; i++) {
    AccessEntry& from = ring_[(head_ + i) % ring_.size()];
    AccessEntry& to = (*out)[i];
    to.start_ms = from.start_ms;
    to.duration_ms = from.duration_ms;
    to.status = from.status;
    to.bytes = from.bytes;
    to.text.swap(from.text);
  }
  head_ = count_ = 0;
  return n;
}

}  // namespace tsgi
