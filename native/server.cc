// A server; see server.h.
#include "server.h"

#include <algorithm>

#include "connection.h"
#include "listener.h"
#include "request_sink.h"

namespace tsgi {

namespace {
constexpr uint64_t kDrainTickMs = 100;  // tick period while closing gracefully

// Oldest entries of an eviction list looked at for a victim (bounded: accepting stays O(1)).
constexpr int kEvictionScan = 64;
// At max_connections, admissions (each evicting or refusing someone) are counted per period.
constexpr uint64_t kAdmissionPeriodMs = 100;
}  // namespace

Server::Server(LoopData* l, int idx, const ServerLimits& lim, RequestSink* s)
    : ld(l), sink(s), index(idx), limits(lim) {
  // The tick's period follows the shortest timeout, at most a second.
  uint64_t shortest = limits.header_timeout_ms;
  for (uint64_t t : {limits.body_timeout_ms, limits.keep_alive_timeout_ms, limits.write_timeout_ms,
                     limits.first_byte_timeout_ms})
    if (t < shortest) shortest = t;
  if (limits.min_body_rate > 0 && limits.min_body_rate_grace_ms < shortest) shortest = limits.min_body_rate_grace_ms;
  uint64_t period = shortest / 4;
  if (period > 1000) period = 1000;
  if (period < 10) period = 10;
  tick_timer_ = new uv_timer_t;
  uv_timer_init(ld->loop, tick_timer_);
  ld->handle_opened();
  tick_timer_->data = this;
  tick_period_ = period;
  uv_timer_start(tick_timer_, on_tick, period, period);
  uv_unref(reinterpret_cast<uv_handle_t*>(tick_timer_));
}

Server::~Server() { delete sink; }

void Server::listener_opened() { open_listener_handles++; }

void Server::add_listener(Listener* l) {
  l->index = listen_count++;
  listeners.push_back(l);
}

void Server::stop_listening(bool accept_queued, const std::vector<int>& refuse_fds) {
  std::vector<Listener*> ls;
  ls.swap(listeners);
  for (Listener* l : ls) {
    bool refuse = l->origin_fd >= 0 &&
                  std::find(refuse_fds.begin(), refuse_fds.end(), l->origin_fd) != refuse_fds.end();
    l->close(accept_queued, refuse);
  }
}

void Server::listener_closed(Listener* l) {
  for (size_t i = 0; i < listeners.size(); i++)
    if (listeners[i] == l) listeners.erase(listeners.begin() + static_cast<long>(i));
  open_listener_handles--;
  check_done();
}

void Server::connection_opened(Connection* c) {
  open_connections++;
  active_connections++;
  c->prev = nullptr;
  c->next = conn_head;
  if (conn_head) conn_head->prev = c;
  conn_head = c;
}

Connection* Server::eviction_victim(Connection* incoming, uint64_t now) {
  int budget = kEvictionScan;
  for (Connection* c = pre_head.head; c && budget > 0; c = c->wait_next, budget--)
    if (c != incoming && c->evictable()) return c;
  budget = kEvictionScan;
  for (Connection* c = in_body.head; c && budget > 0; c = c->wait_next, budget--)
    if (c != incoming && c->body_below_rate(now)) return c;
  return nullptr;
}

uint64_t Server::admission_wait(uint64_t now) {
  if (active_connections < limits.max_connections) return 0;
  if (now - admission_period_start_ >= kAdmissionPeriodMs) {
    admission_period_start_ = now;
    admitted_at_limit = 0;
  }
  uint32_t budget = limits.max_connections / 100;
  if (budget < 16) budget = 16;
  if (admitted_at_limit < budget) return 0;
  return admission_period_start_ + kAdmissionPeriodMs - now;
}

void Server::connection_closed(Connection* c) {
  open_connections--;
  if (!c->refused) active_connections--;
  if (c->prev) c->prev->next = c->next;
  else conn_head = c->next;
  if (c->next) c->next->prev = c->prev;
  c->next = c->prev = nullptr;
  check_done();
}

void Server::close(bool grace) {
  if (closing) {
    // A second close: a non-graceful one still closes what is left.
    if (!grace) {
      for (Connection* c = conn_head; c; c = c->next) c->close_now();
    }
    return;
  }
  closing = true;
  graceful = grace;
  // Graceful: connections waiting in the accept queue are accepted and get their first
  // request answered, like those accepted a moment ago (begin_graceful_close below).
  // (Listeners the caller asked to refuse on were closed by stop_listening already.)
  stop_listening(grace);
  // Draining: the grace and linger deadlines of the connections are short, so the tick
  // runs often enough to keep them (and done) prompt.
  if (grace && tick_timer_ && tick_period_ > kDrainTickMs) {
    tick_period_ = kDrainTickMs;
    last_tick_ = 0;
    uv_timer_start(tick_timer_, on_tick, kDrainTickMs, kDrainTickMs);
  }
  // Closing may unlink the node from the list inside close callbacks only (later), so
  // walking it here is safe.
  for (Connection* c = conn_head; c; c = c->next) {
    if (grace) c->begin_graceful_close();
    else c->close_now();
  }
  done_pending_ = true;
  ld->defer(DeferredKind::ServerDone, index);
}

void Server::check_done() {
  if (!closing || !done_pending_ || open_connections > 0 || open_listener_handles > 0) return;
  if (ld->js_depth > 0) {
    ld->defer(DeferredKind::ServerDone, index);
    return;
  }
  finish_close();
}

void Server::finish_close() {
  if (!done_pending_ || open_connections > 0 || open_listener_handles > 0) return;
  done_pending_ = false;
  close_tick_timer();
  sink->closed(!ld->tearing_down);
}

void Server::teardown() {
  closing = true;
  done_pending_ = false;
  stop_listening(false);
  for (Connection* c = conn_head; c; c = c->next) c->close_now();
  close_tick_timer();
}

void Server::close_tick_timer() {
  if (!tick_timer_) return;
  uv_timer_stop(tick_timer_);
  tick_timer_->data = ld;
  uv_close(reinterpret_cast<uv_handle_t*>(tick_timer_), [](uv_handle_t* h) {
    LoopData* ld = static_cast<LoopData*>(h->data);
    delete reinterpret_cast<uv_timer_t*>(h);
    ld->handle_closed();
  });
  tick_timer_ = nullptr;
}

void Server::on_tick(uv_timer_t* t) { static_cast<Server*>(t->data)->tick(); }

void Server::tick() {
  uint64_t now = uv_now(ld->loop);
  // After the loop was blocked (long synchronous JS, a debugger), timers run before the
  // I/O that piled up meanwhile: skip one round rather than time out connections whose
  // bytes are waiting in the kernel.
  bool stalled = last_tick_ != 0 && now - last_tick_ > 2 * tick_period_ + 250;
  last_tick_ = now;
  if (stalled) return;
  if (!listeners.empty()) {
    std::vector<Listener*> ls = listeners;  // closing one erases it, later (listener_closed)
    for (Listener* l : ls)
      if (!l->closing && l->origin_fd >= 0 && !l->listening()) l->close();
  }
  Connection* c = conn_head;
  while (c) {
    Connection* next = c->next;  // tick may close c, but it stays listed until its close callback
    c->tick(now);
    c = next;
  }
}

}  // namespace tsgi
