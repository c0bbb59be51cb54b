// Per-environment state; see loop_data.h.
#include "loop_data.h"

#include <cstdint>
#include <cstdlib>
#include <ctime>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include "connection.h"
#include "server.h"

namespace tsgi {

namespace {
constexpr uint32_t kSlotBits = 20;
constexpr double kSlotSpan = static_cast<double>(1u << kSlotBits);
}  // namespace

LoopData::LoopData(napi_env e, uv_loop_t* l) : env(e), loop(l) {
  recv_buf = static_cast<char*>(std::malloc(kReceiveBufferSize + 1));
  date.update(std::time(nullptr));
  uv_timer_init(loop, &date_timer_);
  date_timer_.data = this;
  handle_opened();
  uv_timer_start(&date_timer_, on_date_timer, 1000, 1000);
  uv_unref(reinterpret_cast<uv_handle_t*>(&date_timer_));
  uv_idle_init(loop, &idle_);
  idle_.data = this;
  handle_opened();
  uv_check_init(loop, &poll_end_);
  poll_end_.data = this;
  handle_opened();
  uv_unref(reinterpret_cast<uv_handle_t*>(&poll_end_));
  slots_.push_back(nullptr);  // slot 0 unused: no connection has id 0
  generations_.push_back(0);
}

LoopData::~LoopData() {
  for (Server* s : servers) delete s;
  for (Connection* c : pool_) delete c;
  for (Connection* c : slots_) delete c;
  std::free(recv_buf);
}

void LoopData::on_date_timer(uv_timer_t* t) {
  static_cast<LoopData*>(t->data)->date.update(std::time(nullptr));
}

Connection* LoopData::find(double id) const {
  if (!(id > 0) || id >= 9007199254740992.0) return nullptr;
  uint64_t v = static_cast<uint64_t>(id);
  uint32_t slot = static_cast<uint32_t>(v & ((1u << kSlotBits) - 1));
  if (slot >= slots_.size()) return nullptr;
  Connection* c = slots_[slot];
  return c && c->id == id ? c : nullptr;
}

#if defined(__x86_64__) || defined(__i386__)
#define TSGI_HOLD_TSC 1
#endif

uint64_t LoopData::hold_now() const {
#ifdef TSGI_HOLD_TSC
  if (tsc_ == Tsc::Ready) return __rdtsc();
#endif
  return uv_hrtime();
}

// The counter's rate against uv_hrtime(), from two readings at least 10 ms apart (taken
// at the start of batches). A rate outside 0.1 to 20 GHz (a counter that stops or is not
// synchronised), or no counter, leaves uv_hrtime() in use for good.
void LoopData::calibrate_tsc() {
#ifdef TSGI_HOLD_TSC
  const uint64_t ns = uv_hrtime();
  const uint64_t tsc = __rdtsc();
  if (tsc_base_ns_ == 0) {
    tsc_base_ns_ = ns;
    tsc_base_ = tsc;
    return;
  }
  if (ns - tsc_base_ns_ < 10 * 1000 * 1000) return;
  const double rate = tsc > tsc_base_ ? static_cast<double>(tsc - tsc_base_) / static_cast<double>(ns - tsc_base_ns_) : 0;
  tsc_ = rate >= 0.1 && rate <= 20 ? Tsc::Ready : Tsc::Unusable;
  tsc_per_ns_ = rate;
#else
  tsc_ = Tsc::Unusable;
#endif
}

void LoopData::begin_holding(uint64_t limit_ns) {
  holding_output = true;
  if (tsc_ == Tsc::Calibrating) calibrate_tsc();
  hold_limit_ = tsc_ == Tsc::Ready ? static_cast<uint64_t>(static_cast<double>(limit_ns) * tsc_per_ns_) : limit_ns;
  hold_mark_ = hold_now();
}

void LoopData::end_holding() {
  holding_output = false;
  release_held();
}

bool LoopData::hold(Connection* c) {
  const uint64_t now = hold_now();
  const bool quick = now - hold_mark_ <= hold_limit_;
  hold_mark_ = now;
  if (!quick) {
    release_held();  // a slow application: nothing waits on the next one
    return false;
  }
  held_.push_back(c->id);
  return true;
}

void LoopData::release_held() {
  // (Sending calls no JS and holds nothing more: the list does not change meanwhile.)
  for (double id : held_) {
    Connection* c = find(id);  // nullptr: closed and released meanwhile
    if (c) c->send_held();
  }
  held_.clear();
}

Connection* LoopData::new_connection() {
  Connection* c;
  if (!pool_.empty()) {
    c = pool_.back();
    pool_.pop_back();
  } else {
    c = new Connection();
  }
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    if (slot >= (1u << kSlotBits)) std::abort();  // a million open connections on one thread
    slots_.push_back(nullptr);
    generations_.push_back(0);
  }
  generations_[slot]++;
  slots_[slot] = c;
  c->slot = slot;
  c->ld = this;
  c->id = static_cast<double>(generations_[slot]) * kSlotSpan + slot;
  return c;
}

void LoopData::release_connection(Connection* c) {
  slots_[c->slot] = nullptr;
  free_slots_.push_back(c->slot);
  c->id = 0;
  if (pool_.size() < 256) pool_.push_back(c);
  else delete c;
}

Server* LoopData::server(double index) const {
  if (!(index >= 0) || index >= static_cast<double>(servers.size())) return nullptr;
  return servers[static_cast<size_t>(index)];
}

void LoopData::defer(DeferredKind kind, double id) {
  deferred_.push_back(Deferred{kind, id});
  if (!idle_active_ && !tearing_down) {
    idle_active_ = true;
    uv_idle_start(&idle_, on_idle);
  }
}

void LoopData::on_idle(uv_idle_t* h) {
  LoopData* ld = static_cast<LoopData*>(h->data);
  ld->running_.clear();
  ld->running_.swap(ld->deferred_);
  for (const Deferred& d : ld->running_) {
    if (ld->tearing_down) break;
    if (d.kind == DeferredKind::ServerDone) {
      Server* s = ld->server(d.id);
      if (s) s->finish_close();
      continue;
    }
    Connection* c = ld->find(d.id);
    if (!c) continue;
    if (d.kind == DeferredKind::Resume) c->resume();
    else c->emit_drain();
  }
  if (ld->deferred_.empty()) {
    uv_idle_stop(&ld->idle_);
    ld->idle_active_ = false;
  }
}

void LoopData::at_poll_end(void (*fn)(void*), void* arg) {
  if (poll_end_work_.empty() && !tearing_down) uv_check_start(&poll_end_, on_poll_end);
  poll_end_work_.push_back(PollEndWork{fn, arg});
}

void LoopData::on_poll_end(uv_check_t* h) {
  LoopData* ld = static_cast<LoopData*>(h->data);
  uv_check_stop(h);
  // Last registered, first run: the scopes nest in the order they were opened.
  while (!ld->poll_end_work_.empty() && !ld->tearing_down) {
    PollEndWork w = ld->poll_end_work_.back();
    ld->poll_end_work_.pop_back();
    w.fn(w.arg);
  }
}

void LoopData::handle_closed() {
  live_handles_--;
  if (tearing_down && live_handles_ == 0 && !teardown_done_) {
    teardown_done_ = true;
    if (teardown_done_fn_) teardown_done_fn_(teardown_done_arg_);
    teardown_done_fn_ = nullptr;
    maybe_free();
  }
}

void LoopData::begin_teardown(void (*done)(void* arg), void* arg) {
  teardown_done_fn_ = done;
  teardown_done_arg_ = arg;
  tearing_down = true;
  for (Server* s : servers) s->teardown();
  uv_timer_stop(&date_timer_);
  uv_close(reinterpret_cast<uv_handle_t*>(&date_timer_),
           [](uv_handle_t* h) { static_cast<LoopData*>(h->data)->handle_closed(); });
  uv_idle_stop(&idle_);
  uv_close(reinterpret_cast<uv_handle_t*>(&idle_),
           [](uv_handle_t* h) { static_cast<LoopData*>(h->data)->handle_closed(); });
  uv_check_stop(&poll_end_);
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_end_),
           [](uv_handle_t* h) { static_cast<LoopData*>(h->data)->handle_closed(); });
}

void LoopData::instance_finalized() {
  instance_finalized_ = true;
  maybe_free();
}

void LoopData::maybe_free() {
  if (instance_finalized_ && teardown_done_) delete this;
}

}  // namespace tsgi
