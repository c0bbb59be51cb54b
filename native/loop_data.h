// Per-environment state of the addon: one per thread (main or worker) that loads it.
// Holds what every server on that thread's loop shares: the receive buffer, the
// header array the parser fills, the Date line, the request record JS reads (its
// layout: request_record.h), the connection table and the queue of work deferred out
// of JS-called methods.
#pragma once

#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>
#include <uv.h>

#include <cstdint>
#include <vector>

#include "connection_busy.h"
#include "date_cache.h"
#include "parser.h"
#include "request_record.h"
#include "spare_pool.h"

namespace tsgi {

class Server;
class Connection;

constexpr size_t kReceiveBufferSize = 64 * 1024;
constexpr size_t kMaxHeadersCap = 1024;       // MAX_HEADERS_CAP in src/native.ts
constexpr size_t kRecordInts = kRecordHeaders + 3 * (kMaxHeadersCap + kMaxOverrides);

// RESP_* in src/native.ts, TSGI_RESP_* in native_app.h.
enum ResponseFlag : int32_t {
  kRespHasDate = 1,    // the application sent Date itself
  kRespClose = 2,      // close the connection after this response
  kRespSetLength = 4,  // content_length is the body's size measured by the server: the core
                       // writes the Content-Length header (the application declared none)
};
enum ResultCode : int32_t { kResultOk = 0, kResultShort = 1, kResultTruncated = 2, kResultGone = -1 };

enum class DeferredKind : uint8_t { Resume, Drain, ServerDone };
struct Deferred {
  DeferredKind kind;
  double id;  // connection id, or server index
};

class LoopData {
 public:
  LoopData(napi_env env, uv_loop_t* loop);
  ~LoopData();

  // Connection ids: slot in the low 20 bits, the slot's generation above (a stale id
  // from a closed connection never finds the slot's next occupant).
  Connection* find(double id) const;
  Connection* new_connection();
  void release_connection(Connection* c);

  Server* server(double index) const;

  // Runs work on the next loop turn: used when a JS-called method would otherwise
  // call back into JS re-entrantly.
  void defer(DeferredKind kind, double id);

  // A libuv handle owned by the addon was initialized / finished closing.
  void handle_opened() { live_handles_++; }
  void handle_closed();

  // Env teardown: closes everything, then calls done(arg) once every handle closed
  // (binding.cc removes its cleanup hook there).
  void begin_teardown(void (*done)(void* arg), void* arg);
  void instance_finalized();

  napi_env env;
  uv_loop_t* loop;
  char* recv_buf;
  // Where binding.cc encodes short string chunks during one native call (its ChunkScratch).
  std::vector<char> chunk_scratch;
  // Codes for the keys of header names without a known id, for every connection's records.
  HeaderNameCodes header_codes;
  HeaderField headers[kMaxHeadersCap];
  DateCache date;
  int32_t* record = nullptr;
  napi_ref record_ref = nullptr;
  double* current = nullptr;  // current[0]: the connection of the request takeQueued returned
  napi_ref current_ref = nullptr;
  void* queue_owner = nullptr;  // the JsSink whose onQueued runs (binding.cc)
  // While onQueued runs (binding.cc: begin_holding, end_holding), a response that went
  // out whole is held (hold) and sent with the others when onQueued returns: the batch's
  // JavaScript runs without a system call between its requests, and the sends follow one
  // another. Only quick answers are held: a response that came more than limit_ns after
  // the previous one (or the batch's start) goes at once, with what is held.
  bool holding_output = false;
  void begin_holding(uint64_t limit_ns);
  void end_holding();
  bool hold(Connection* c);
  napi_async_context async_ctx = nullptr;
  // Spare memory lent to busy connections (spare_pool.h): byte buffers (head strings,
  // output stages, bodies, partial input) and request records.
  SparePool<ByteBuffer> buffers;
  SparePool<std::vector<int32_t>> records;
  // The per-request state of busy connections (connection_busy.h).
  BusyPool busy;
  int js_depth = 0;  // > 0 while a method called from JS runs
  // True while Connection::on_read runs: libuv's poll phase, no JavaScript below it.
  bool in_read = false;
  // A read from a socket with no JS-called method running: what is opened for it may
  // stay open until the poll phase ends (at_poll_end).
  bool in_poll_read() const { return in_read && js_depth == 0; }
  // Runs fn(arg) once libuv's poll phase is over (a check handle, ahead of Node's
  // setImmediate queue). The JavaScript side closes there the callback scope it opened
  // for the requests read in the phase, so microtasks and nextTicks run once per loop
  // turn rather than once per connection read.
  void at_poll_end(void (*fn)(void*), void* arg);
  // The read a connection's parse loop is going through (Connection::process), so that
  // the application side can take the next pipelined request of it at once
  // (Connection::next_pipelined) instead of the core calling it once per request.
  struct Scan {
    const Connection* conn = nullptr;
    const char* data = nullptr;
    size_t len = 0;
    size_t pos = 0;  // the next request's first byte
  };
  Scan scan;
  bool tearing_down = false;
  std::vector<Server*> servers;

 private:
  static void on_date_timer(uv_timer_t* t);
  static void on_idle(uv_idle_t* h);
  static void on_poll_end(uv_check_t* h);
  void maybe_free();

  uv_timer_t date_timer_;
  uv_idle_t idle_;
  bool idle_active_ = false;
  uv_check_t poll_end_;
  struct PollEndWork {
    void (*fn)(void*);
    void* arg;
  };
  std::vector<PollEndWork> poll_end_work_;
  std::vector<Deferred> deferred_;
  std::vector<Deferred> running_;
  std::vector<Connection*> slots_;
  std::vector<uint32_t> generations_;
  std::vector<uint32_t> free_slots_;
  std::vector<Connection*> pool_;
  void release_held();
  std::vector<double> held_;  // ids of the connections whose response is held
  // The hold's clock: the CPU's time-stamp counter once its rate is known (a few ns a
  // reading, where clock_gettime takes tens under a hypervisor), uv_hrtime() until then
  // and where there is none.
  uint64_t hold_now() const;
  void calibrate_tsc();
  uint64_t hold_mark_ = 0;   // hold_now() at the last answer (or the batch's start)
  uint64_t hold_limit_ = 0;  // responseHold in hold_now() units
  enum class Tsc : uint8_t { Calibrating, Ready, Unusable } tsc_ = Tsc::Calibrating;
  double tsc_per_ns_ = 0;    // Ready: counter ticks per ns
  uint64_t tsc_base_ = 0;    // Calibrating: the first reading's counter
  uint64_t tsc_base_ns_ = 0; // and its uv_hrtime() (0: none yet)
  int live_handles_ = 0;
  void (*teardown_done_fn_)(void* arg) = nullptr;
  void* teardown_done_arg_ = nullptr;
  bool instance_finalized_ = false;
  bool teardown_done_ = false;
};

// RAII marker for a native method entered from JS (see LoopData::js_depth).
struct JsCallScope {
  explicit JsCallScope(LoopData* ld) : ld_(ld) { ld_->js_depth++; }
  ~JsCallScope() { ld_->js_depth--; }
  LoopData* ld_;
};

}  // namespace tsgi
