// A server: its limits, its JS handlers, its listeners and connections, the timeout
// tick, statistics, and closing (graceful or not).
#pragma once

#include <string>
#include <vector>

#include "loop_data.h"

namespace tsgi {

class Listener;

struct ServerLimits {
  ParseLimits parse;
  uint64_t max_body_bytes = 1 << 20;
  uint64_t body_memory_bytes = 1 << 20;
  std::string spool_dir;
  uint64_t header_timeout_ms = 60000;
  uint64_t body_timeout_ms = 60000;
  uint64_t keep_alive_timeout_ms = 5000;
  uint64_t write_timeout_ms = 60000;
  uint32_t max_connections = 10000;
  uint32_t max_keep_alive_requests = 0;
};

struct ServerStats {
  uint64_t requests = 0;
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
};

class Server {
 public:
  Server(LoopData* ld, int index, const ServerLimits& limits, napi_value handlers);
  ~Server();

  void listener_opened();
  void add_listener(Listener* l);
  // Closes every listener. accept_queued: connections already waiting in a listener's
  // kernel queue are accepted first rather than reset (Listener::close). refuse_fds: fd
  // listeners (by the caller's descriptor) whose shared socket stops listening for every
  // process, so that new clients are refused (Listener::close, refuse).
  void stop_listening(bool accept_queued, const std::vector<int>& refuse_fds = {});
  // graceful: see NativeBinding.close in src/native.ts.
  void close(bool graceful, napi_value done);

  void connection_opened(Connection* c);
  void connection_closed(Connection* c);
  void listener_closed(Listener* l);
  // Calls `done` once nothing is left open (from the loop, never from inside JS).
  void check_done();
  void finish_close();
  void teardown();

  // Handlers, as values in the current handle scope.
  napi_value handlers() const;
  napi_value on_request() const;
  napi_value on_drain() const;
  napi_value on_abort() const;

  LoopData* ld;
  int index;
  ServerLimits limits;
  ServerStats stats;
  uint32_t active_connections = 0;  // not counting refused ones (503)
  uint32_t open_connections = 0;    // every Connection object alive, refused ones included
  int open_listener_handles = 0;
  int listen_count = 0;             // listeners ever added: the next one's REC_LISTENER
  std::vector<Listener*> listeners;
  Connection* conn_head = nullptr;  // intrusive list of open connections
  bool closing = false;
  bool graceful = false;

 private:
  static void on_tick(uv_timer_t* t);
  void close_tick_timer();
  void tick();

  napi_ref handlers_ = nullptr;
  napi_ref on_request_ = nullptr;
  napi_ref on_drain_ = nullptr;
  napi_ref on_abort_ = nullptr;
  napi_ref done_ = nullptr;
  uv_timer_t* tick_timer_ = nullptr;
  uint64_t tick_period_ = 1000;
  uint64_t last_tick_ = 0;
  bool done_pending_ = false;
};

}  // namespace tsgi
