// One client connection, the state machine: reading and parsing requests straight from
// the loop's receive buffer, collecting bodies (memory or spool file), dispatching one
// request at a time to the server's RequestSink (request_sink.h), framing responses
// into its OutputQueue (output_queue.h; flushed once per read while corked, so that
// pipelined responses leave in one write), keep-alive, half-closed clients (answered,
// then closed), timeouts and closing. No Node-API here: binding.cc converts JS values.
//
// An idle connection holds only its socket handle, its peer and its clocks: what a busy
// one needs (the request and response, the input and output buffers, the transport, a
// uwsgi listener's parse state) is a BusyState (connection_busy.h) lent by the loop while
// busy. The methods are spread over connection.cc (the state machine),
// connection_response.cc, connection_output.cc and connection_timeouts.cc.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "connection_busy.h"
#include "environ_entries.h"
#include "framing.h"
#include "listen_options.h"
#include "loop_data.h"
#include "output_queue.h"
#include "peer_address.h"
#include "tls/tls_transport.h"

namespace tsgi {

class Server;
class Listener;
struct ConnList;
struct DispatchedRequest;

enum class Phase : uint8_t {
  Head,     // reading a request head (possibly nothing yet)
  Body,     // reading a request body
  Request,  // the request is with JS
  Idle,     // keep-alive: waiting for the next request
  Flush,    // the client half-closed and everything it asked for is answered: writing
            // what is queued, then closing (bounded by the write timeout only)
  Linger,   // response sent, write side shut down: waiting for the client to close
};

class Connection final : private OutputQueue::Owner, private tls::TlsTransport::Owner {
 public:
  Connection();
  ~Connection();

  // Takes sock, a connection accepted from l's socket (accept4 on the listener's watch, or
  // its queue drained at close); false when that failed (sock is closed, the object released).
  bool accept_fd(Listener* l, int sock);
  // Sends the canned 503 and closes: the server has too many connections.
  void refuse();
  // Closes a connection to make room for a new one (see Server::eviction_victim); it no
  // longer counts against max_connections from now on.
  void evict();
  // May be evicted to make room: it holds no request and no response being written.
  bool evictable() const;
  // Reading a body slower than the minimum data rate so far (grace not counted).
  bool body_below_rate(uint64_t now) const;

  // ---- the response to the request in flight (binding.cc converts JS values; a native
  // application can call these directly). status: the status code of head, the one the
  // core goes by (no body for HEAD, 1xx, 204 and 304); head: the status line without
  // "HTTP/1.1 " and the application's header lines, each ending in CRLF; the server adds
  // its own headers (Date, Content-Length or Transfer-Encoding, Connection) and the blank
  // line. flags: kResp* (loop_data.h). Each returns a RESULT_* code unless noted. ----
  // The whole response at once: the head and the body parts (Content-Length from their
  // total unless content_length >= 0 says otherwise).
  int respond(int status, const Bytes& head, const Bytes* parts, size_t count, int64_t content_length,
              int32_t flags);
  // A streamed response: the head now, then write()/send_file() and end().
  int write_head(int status, const Bytes& head, int64_t content_length, int32_t flags);
  int write(const Bytes& chunk);  // 1: keep writing, 0: wait for onDrain, -1: gone
  int end(const Bytes& chunk);    // chunk.len 0: no last chunk
  // A response without a body (HEAD, 1xx/204/304) queues nothing: the send counts as done
  // (onDrain on the next loop turn), as does one of length 0.
  int send_file(int fd, int64_t offset, int64_t length);
  void abort();
  // Ends the response in flight incomplete: what is queued still goes out, then the
  // connection closes (no last chunk). Before the response started: abort().
  void cut();
  // Called while this connection's request is being dispatched, once it has ended: the
  // next request of the same read, when it is complete and has no body (pipelined GETs),
  // dispatched as the parse loop would (the request record says kFlagPipelined when more
  // bytes follow). false: none, or it needs the parse loop (a body, an error, a pause).
  bool next_pipelined(DispatchedRequest* r);
  // The record and head text of the request in flight (no body), valid until its
  // response ends. Only while in_flight().
  DispatchedRequest request_in_flight() const;

  // ---- called by the server and the loop ----
  void close_now();  // closes the socket; an in-flight request gets onAbort
  void begin_graceful_close();
  void tick(uint64_t now);
  void resume();      // deferred: process what was buffered while a request was in flight
  void emit_drain();  // deferred onDrain
  bool in_flight() const { return st_.in_flight; }
  bool closing() const { return st_.closing; }
  // The response finish_response held (LoopData::hold) goes out now, and the connection
  // reads its next request.
  void send_held();
  // The TLS side of an HTTPS connection (its session's state), or null.
  tls::TlsTransport* tls_transport() const { return tls_on_ ? tls_.get() : nullptr; }

  double id = 0;
  LoopData* ld = nullptr;
  Server* server = nullptr;
  Connection* next = nullptr;
  Connection* prev = nullptr;
  // Membership of one of the server's eviction lists (ConnList in server.h), oldest first.
  Connection* wait_next = nullptr;
  Connection* wait_prev = nullptr;
  uint32_t slot = 0;
  bool refused = false;  // not counted in active_connections: refused with 503, or evicted

 private:
  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_shutdown(uv_shutdown_t* req, int status);
  static void on_close(uv_handle_t* h);
  static void on_poll_close(uv_handle_t* h);
  static void on_poll(uv_poll_t* p, int status, int events);

  void reset();
  bool init_handle(Listener* l);
  // allow: who may send a PROXY header (null: no PROXY protocol on this listener).
  void accepted(const std::vector<CidrRange>* allow);
  bool input_pending();
  void start_reading();
  void stop_reading();
  void handle_input(const char* data, size_t len);
  void on_peer_eof();
  void input_ended();
  size_t process(const char* data, size_t len);
  void wait_for_head();
  // The PROXY protocol header at data (a listener with proxy_protocol): incomplete, it
  // stays buffered (*used 0); complete, the client's address is taken from it (*used its
  // size). false: malformed, the connection is closed without a response.
  bool read_proxy_header(const char* data, size_t len, size_t* used);
  RecordContext record_context() const;
  void head_begins();
  void take_head(const RequestHead& head);
  void build_record(const RequestHead& h);
  bool store_body(const char* p, size_t n);
  void dispatch();
  // dispatch() from the parse loop at *pos, which a pulled request (next_pipelined) moves on.
  void dispatch_at(size_t* pos);
  // What dispatch() does before the sink sees the request; false: answered here (health).
  bool begin_dispatch(DispatchedRequest* r);
  void answer_health();
  void fail(uint16_t status);
  // Moves the connection to list (or out of every list: nullptr), at its tail.
  void wait_in(ConnList* list);

  // response
  int start_response(int status, const Bytes& head, int64_t content_length, int32_t flags, bool streamed,
                     int64_t body_length);
  void finish_response();
  int64_t body_allowance(int64_t len, bool* clamped);
  void chunk_open(int64_t take);
  void chunk_close();
  void queue_body(const Bytes& b, int64_t take);

  // output (the queue is out_; these are the connection's side of it)
  void flush();
  void maybe_flush() {
    if (!st_.corked) flush();
  }
  void output_failed() override;
  bool output_wait_writable() override;
  bool output_file_done(bool ended_early, uint32_t tag) override;
  void output_write_done() override;
  void output_write_failed() override;
  bool ensure_poll(uv_os_fd_t sock);
  void watch_for_reset();
  void queue_emptied();
  void check_drain();
  // onDrain now, or on the next loop turn when inside a call from JS or a dispatch.
  void drain_soon();
  uint64_t pending_output() const { return busy_ ? busy_->out.pending() : 0; }
  bool output_pending() const { return busy_ && busy_->out.has_output(); }
  // Reading and dispatching were paused for a full output queue: resume once it drained.
  void check_output_resume();
  void release_pieces();
  void begin_shutdown();
  void end_idle();
  // Nothing to read or write right now (idle keep-alive, lingering): the memory used
  // only by a busy connection goes back to the loop's spares (see spare_pool.h).
  void give_back_idle_memory();

  // TLS (tls_on_): ciphertext read is fed to the transport, its plaintext is the input
  Transport* active_transport() { return tls_on_ ? static_cast<Transport*>(tls_.get()) : &busy().transport; }
  void read_tls(const char* data, size_t len);
  void read_proxy_then_tls(const char* data, size_t len);
  void tls_input(const char* data, size_t len) override;
  void tls_write_failed() override;

  static constexpr uint64_t kHighWater = 128 * 1024;  // write() returns 0 (wait for onDrain) above this
  static constexpr uint64_t kLowWater = 32 * 1024;    // onDrain below this
  static constexpr size_t kMaxBuffered = 256 * 1024;  // stop reading above this while a request is in flight
  // Queued output above which a connection is neither read nor dispatched (a client that
  // pipelines requests and does not read the responses), and below which that resumes.
  static constexpr uint64_t kOutputPauseAbove = 256 * 1024;
  static constexpr uint64_t kOutputResumeBelow = 64 * 1024;

  // The busy state (connection_busy.h): taken from the loop's pool on first use, given
  // back by give_back_idle_memory().
  BusyState& busy() {
    if (!busy_) take_busy();
    return *busy_;
  }
  void take_busy();
  void give_back_busy();
  // Bytes received and not yet consumed (a partial head, pipelined requests): in the
  // busy state, its buffer from the loop's spares.
  bool has_input() const { return busy_ && !busy_->inbuf.empty(); }
  size_t input_size() const { return busy_ ? busy_->inbuf.size() : 0; }
  ByteBuffer& take_input() {
    ByteBuffer& in = busy().inbuf;
    ld->buffers.take(in);
    return in;
  }
  void drop_input() {
    if (busy_) busy_->inbuf.clear();
  }

  // Small fields first: they fill the space after the public ones.
  uint8_t wait_list_ = 0;  // the eviction list it is in: 0 none, 1 server->pre_head, 2 server->in_body
  ListenProtocol protocol_ = ListenProtocol::Http;  // what the listener speaks (copied at accept)
  bool is_pipe_ = false;
  bool proxy_pending_ = false;  // a PROXY protocol header must come first, and has not yet
  bool tls_on_ = false;         // this connection is TLS
  bool tls_feeding_ = false;    // inside read_tls: one flush after the whole read

  union {
    uv_tcp_t tcp;
    uv_pipe_t pipe;
    uv_stream_t stream;
    uv_handle_t handle;
  } h_;
  uv_shutdown_t* shutdown_req_ = nullptr;  // while our FIN is on its way (linger)
  uv_poll_t* poll_ = nullptr;  // on a dup of the socket: writability for files, resets after FIN
  BusyState* busy_ = nullptr;  // while busy (see busy())
  // What the PROXY header said: every request's overrides (null without one).
  std::unique_ptr<std::vector<EnvironEntry>> proxy_entries_;
  std::unique_ptr<tls::TlsTransport> tls_;  // made on the first HTTPS connection, then reused
  int poll_fd_ = -1;
  int open_handles_ = 0;
  int listener_index_ = 0;
  uint32_t uwsgi_buffer_size_ = 4096;
  uint16_t local_port_ = 0;
  PeerAddress peer_;      // the client (or the one a PROXY header names)
  uint32_t served_ = 0;   // responses finished

  // The connection's own state, reset with st_ = {} for each new connection.
  struct State {
    uint64_t phase_since = 0;
    Phase phase = Phase::Head;
    bool bytes_seen = false;        // some bytes of the current request head arrived
    bool reading = false;
    bool closing = false;
    bool aborted_by_js = false;
    bool in_flight = false;
    bool in_dispatch = false;       // inside this connection's RequestSink::request call
    bool corked = false;            // reading: the parse loop flushes once at its end
    bool no_more_requests = false;
    bool close_after_flush = false;
    bool shutdown_started = false;
    bool need_drain = false;
    bool peer_eof = false;          // the client sent FIN: nothing more will be read
    bool output_paused = false;     // queued output over the pause mark: not read, not dispatched
    bool copy_files = false;        // files by pread() and writes, not sendfile(2): the sendfile setting and the socket's peer
  } st_;
};

}  // namespace tsgi
