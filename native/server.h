// A server: its limits, its RequestSink, its listeners and connections, the timeout
// tick, statistics, and closing (graceful or not).
#pragma once

#include <string>
#include <vector>

#include "loop_data.h"

namespace tsgi {

class Listener;
class RequestSink;

// Every value comes from createServer (binding.cc), which requires each one: the settings
// (src/settings/limits.ts) are the only place limits have defaults.
// When a file response goes out with sendfile(2) (the `sendfile` setting).
enum class SendfileUse : uint8_t {
  Auto,    // except to loopback clients: a loopback receiver pays more for a sendfile(2)'d file than for a copied one
  Always,
  Never,   // pread() and ordinary writes, block by block
};

struct ServerLimits {
  ParseLimits parse;
  uint64_t max_body_size = 0;
  uint64_t body_memory_size = 0;
  std::string spool_dir;
  // Requests for this path (as received, percent-decoded, without the query; '' none) are
  // answered by the core without the application: 200, or 503 and close while draining.
  std::string health_path;
  uint64_t header_timeout_ms = 0;       // from the head's first byte
  uint64_t first_byte_timeout_ms = 0;  // a new connection's wait for its first byte
  uint64_t min_body_rate = 0;           // bytes/s averaged over the body, 0: none
  uint64_t min_body_rate_grace_ms = 0;  // the rate is checked after this much of the body
  uint64_t body_timeout_ms = 0;
  uint64_t keep_alive_timeout_ms = 0;
  uint64_t write_timeout_ms = 0;
  uint64_t response_hold_us = 0;  // LoopData::hold
  SendfileUse sendfile = SendfileUse::Auto;
  uint32_t max_connections = 0;
  uint32_t max_keep_alive_requests = 0;
};

struct ServerStats {
  uint64_t requests = 0;
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
  uint64_t evicted = 0;        // connections closed to make room for new ones
  uint64_t accept_pauses = 0;  // accepting paused for lack of descriptors (EMFILE, ENFILE…)
};

// An intrusive list of connections in the order they joined it (Connection::wait_in).
struct ConnList {
  Connection* head = nullptr;
  Connection* tail = nullptr;
};

class Server {
 public:
  // sink: where requests go; the server owns it.
  Server(LoopData* ld, int index, const ServerLimits& limits, RequestSink* sink);
  ~Server();

  void listener_opened();
  void add_listener(Listener* l);
  // Closes every listener. accept_queued: connections already waiting in a listener's
  // kernel queue are accepted first rather than reset (Listener::close). refuse_fds: fd
  // listeners (by the caller's descriptor) whose shared socket stops listening for every
  // process, so that new clients are refused (Listener::close, refuse).
  void stop_listening(bool accept_queued, const std::vector<int>& refuse_fds = {});
  // graceful: see NativeBinding.close in src/native.ts. The sink hears closed() once
  // nothing is left open.
  void close(bool graceful);

  void connection_opened(Connection* c);
  // Near the connection limit, the connection to close so that `incoming` can be served:
  // the oldest that has not sent a complete request head (new or idle keep-alive), else
  // the oldest reading a body below the minimum data rate; null when every other
  // connection holds a real request (the newcomer is refused with 503).
  Connection* eviction_victim(Connection* incoming, uint64_t now);
  // 0 when the next connection may be accepted now; else how many ms to wait. Below
  // max_connections always 0; at the limit, where every new connection costs a close
  // (an eviction or a 503), at most max(16, max_connections / 100) per 100 ms.
  uint64_t admission_wait(uint64_t now);
  uint32_t admitted_at_limit = 0;  // in the current period
  void connection_closed(Connection* c);
  void listener_closed(Listener* l);
  // Calls `done` once nothing is left open (from the loop, never from inside JS).
  void check_done();
  void finish_close();
  void teardown();

  LoopData* ld;
  RequestSink* sink;  // where requests go (binding.cc: JavaScript), owned
  int index;
  ServerLimits limits;
  ServerStats stats;
  uint32_t active_connections = 0;  // not counting refused ones (503)
  uint32_t open_connections = 0;    // every Connection object alive, refused ones included
  int open_listener_handles = 0;
  int listen_count = 0;             // listeners ever added: the next one's REC_LISTENER
  std::vector<Listener*> listeners;
  Connection* conn_head = nullptr;  // intrusive list of open connections
  ConnList pre_head;                // waiting for a request head: new, or idle keep-alive
  ConnList in_body;                 // reading a request body
  bool closing = false;
  bool graceful = false;

 private:
  static void on_tick(uv_timer_t* t);
  void close_tick_timer();
  void tick();

  uv_timer_t* tick_timer_ = nullptr;
  uint64_t tick_period_ = 1000;
  uint64_t last_tick_ = 0;
  uint64_t admission_period_start_ = 0;
  bool done_pending_ = false;
};

}  // namespace tsgi
