// One client connection: reading and parsing requests straight from the loop's receive
// buffer, collecting bodies (memory or spool file), dispatching to JS one request at a
// time, framing responses into an output queue that is written with as few syscalls as
// possible (corked per read), sendfile (or pread where sendfile cannot be used),
// keep-alive, half-closed clients (answered, then closed), timeouts and closing.
#pragma once

#include <string>
#include <vector>

#include "framing.h"
#include "loop_data.h"

namespace tsgi {

class Server;
class Listener;
struct ConnList;

// The accepted trailer fields of a chunked request body, "name:value\n" each: the
// decoder's TrailerSink. Appended to the head string once the body ends.
class TrailerText final : public TrailerSink {
 public:
  void field_bytes(const char* p, size_t n) override { text.append(p, n); }
  void field_end(size_t trailing_ows) override {
    text.resize(text.size() - (trailing_ows < text.size() ? trailing_ows : text.size()));
    text.push_back('\n');
  }
  std::string text;
};

enum class Phase : uint8_t {
  Head,     // reading a request head (possibly nothing yet)
  Body,     // reading a request body
  Request,  // the request is with JS
  Idle,     // keep-alive: waiting for the next request
  Flush,    // the client half-closed and everything it asked for is answered: writing
            // what is queued, then closing (bounded by the write timeout only)
  Linger,   // response sent, write side shut down: waiting for the client to close
};

// TSGI_NO_SENDFILE=1 in the environment when the addon loads: a diagnostic switch that
// sends files with pread() and ordinary writes instead of sendfile(2), the path taken
// anyway when sendfile is not supported for a file. Read once, on first use.
bool sendfile_disabled();

class Connection {
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

  // ---- called from JS (binding.cc); each returns a RESULT_* code unless noted ----
  int respond(napi_value head, napi_value body, int64_t content_length, int32_t flags);
  int write_head(napi_value head, int64_t content_length, int32_t flags);
  int write(napi_value chunk);  // 1: keep writing, 0: wait for onDrain, -1: gone
  int end(napi_value chunk);
  int send_file(int fd, int64_t offset, int64_t length);
  void abort();

  // ---- called by the server and the loop ----
  void close_now();  // closes the socket; an in-flight request gets onAbort
  void begin_graceful_close();
  void tick(uint64_t now);
  void resume();      // deferred: process what was buffered while a request was in flight
  void emit_drain();  // deferred onDrain
  bool in_flight() const { return in_flight_; }
  bool closing() const { return closing_; }

  double id = 0;
  uint32_t slot = 0;
  LoopData* ld = nullptr;
  Server* server = nullptr;
  Connection* next = nullptr;
  Connection* prev = nullptr;
  // Membership of one of the server's eviction lists (ConnList in server.h), oldest first.
  ConnList* wait_list = nullptr;
  Connection* wait_next = nullptr;
  Connection* wait_prev = nullptr;
  bool refused = false;  // not counted in active_connections: refused with 503, or evicted

 private:
  struct Piece {
    enum Kind : uint8_t { Stage, External, File } kind;
    size_t off;       // Stage: offset in stage_
    size_t len;       // bytes left
    const char* ptr;  // External: the bytes
    napi_ref ref;     // External: keeps the Buffer alive
    int fd;           // File: the file, and where its next unread byte is
    int64_t file_off;
    uint32_t seq;     // File: served_ when queued (which response it belongs to)
    bool no_sendfile; // File: pread() into file_buf_ and write, instead of sendfile(2)
    size_t buffered;  // File, pread path: bytes at file_buf_ + file_buf_off_ read but not yet written
  };
  struct WriteReq {
    uv_write_t req;
    Connection* conn;
    ByteBuffer storage;
    std::vector<napi_ref> refs;
    std::vector<uv_buf_t> bufs;
    size_t bytes = 0;
  };

  static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
  static void on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf);
  static void on_write(uv_write_t* req, int status);
  static void on_shutdown(uv_shutdown_t* req, int status);
  static void on_close(uv_handle_t* h);
  static void on_poll_close(uv_handle_t* h);
  static void on_poll(uv_poll_t* p, int status, int events);

  void reset();
  bool init_handle(Listener* l);
  void accepted();
  bool input_pending();
  void start_reading();
  void stop_reading();
  void handle_input(const char* data, size_t len);
  void on_peer_eof();
  void input_ended();
  size_t process(const char* data, size_t len);
  bool begin_request(const char* data, size_t pos, size_t len);
  void build_record(const RequestHead& h);
  bool store_body(const char* p, size_t n);
  void dispatch();
  void fail(uint16_t status);
  // Moves the connection to list (or out of every list: nullptr), at its tail.
  void wait_in(ConnList* list);

  // response
  int start_response(napi_value head, int64_t content_length, int32_t flags, bool streamed,
                     int64_t body_length);
  void finish_response();
  int64_t chunk_length(napi_value v, const char** bytes);
  void append_chunk(napi_value v, const char* bytes, int64_t len, int64_t take);
  void append_js_latin1(napi_value s);

  // output queue
  // Bytes written into stage_ since the last call become a Stage piece of the queue.
  void sync_stage();
  void note_queue_growth();
  void flush();
  void maybe_flush() {
    if (!corked_) flush();
  }
  void consume_written(size_t n);
  void start_async_write();
  bool send_file_piece();
  bool ensure_poll(uv_os_fd_t sock);
  bool wait_writable(uv_os_fd_t sock);
  void watch_for_reset();
  void file_ended_early();
  void queue_emptied();
  void check_drain();
  // Output not yet written: queued pieces and staged bytes not yet made one.
  uint64_t pending_output() const { return queued_ + (stage_.size() - stage_synced_); }
  // Anything of a response not written yet: queued pieces, a write in progress, staged bytes.
  bool output_pending() const { return piece_head_ < pieces_.size() || write_req_ || stage_.size() > stage_synced_; }
  // Reading and dispatching were paused for a full output queue: resume once it drained.
  void check_output_resume();
  void release_pieces();
  void drop_output();
  void begin_shutdown();
  void end_idle();

  union {
    uv_tcp_t tcp;
    uv_pipe_t pipe;
    uv_stream_t stream;
    uv_handle_t handle;
  } h_;
  bool is_pipe_ = false;
  int open_handles_ = 0;
  uv_shutdown_t shutdown_req_;
  uv_poll_t* poll_ = nullptr;  // on a dup of the socket: writability for files, resets after FIN
  int poll_fd_ = -1;

  int listener_index_ = 0;
  int local_port_ = 0;
  char remote_addr_[64];
  size_t remote_addr_len_ = 0;
  int remote_port_ = 0;

  Phase phase_ = Phase::Head;
  uint64_t phase_since_ = 0;
  uint64_t last_write_progress_ = 0;
  size_t last_write_queue_size_ = 0;
  bool bytes_seen_ = false;   // some bytes of the current request head arrived
  bool reading_ = false;
  bool closing_ = false;
  bool aborted_by_js_ = false;
  bool in_flight_ = false;
  bool in_dispatch_ = false;  // inside this connection's onRequest call
  bool corked_ = false;
  bool no_more_requests_ = false;
  bool close_after_flush_ = false;
  bool shutdown_started_ = false;
  bool need_drain_ = false;
  bool file_waiting_ = false;
  bool peer_eof_ = false;     // the client sent FIN: nothing more will be read
  bool output_paused_ = false; // queued output over the high-water mark: not read, not dispatched
  uint32_t served_ = 0;

  ByteBuffer inbuf_;  // bytes received but not yet consumed (partial head, pipelined)

  // the current request
  ByteBuffer req_text_;
  std::vector<int32_t> req_rec_;
  uint8_t req_minor_ = 1;
  bool req_keep_alive_ = true;
  bool req_head_method_ = false;
  BodyKind body_kind_ = BodyKind::None;
  uint64_t body_remaining_ = 0;
  uint64_t body_received_ = 0;
  uint64_t body_since_ = 0;   // when the body phase began (minimum data rate)
  uint64_t body_wire_ = 0;    // bytes of the body read so far, framing included
  ChunkedDecoder decoder_;
  TrailerText trailer_text_;  // the accepted trailer fields of a chunked body
  ByteBuffer body_mem_;
  int spool_fd_ = -1;

  // the current response
  bool resp_started_ = false;
  bool resp_chunked_ = false;
  bool resp_no_body_ = false;
  bool resp_keep_alive_ = true;
  int64_t resp_remaining_ = -1;  // declared Content-Length left to send, -1 none
  bool resp_short_ = false;      // a sendFile of this response hit the file's end early

  // output queue: pieces_[piece_head_..] in order; Stage pieces point into stage_
  ByteBuffer stage_;
  std::vector<Piece> pieces_;
  size_t piece_head_ = 0;
  size_t stage_synced_ = 0;  // stage_ bytes already covered by pieces
  uint64_t queued_ = 0;
  WriteReq* write_req_ = nullptr;
  WriteReq* spare_req_ = nullptr;
  ByteBuffer file_buf_;     // pread path of a File piece: one block (size 0, capacity used)
  size_t file_buf_off_ = 0;
};

}  // namespace tsgi
