// One client connection; see connection.h.
#include "connection.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "errors.h"
#include "known_headers.h"
#include "listener.h"
#include "server.h"
#include "spool.h"

namespace tsgi {

namespace {

constexpr uint64_t kHighWater = 128 * 1024;   // write() returns false above this
constexpr uint64_t kLowWater = 32 * 1024;     // onDrain below this
constexpr size_t kCopyBelow = 16 * 1024;      // smaller Buffers are copied into the stage
constexpr size_t kMaxBuffered = 256 * 1024;   // stop reading above this while a request is in flight
// Queued output above which a connection is neither read nor dispatched (a client that
// pipelines requests and does not read the responses), and below which that resumes.
constexpr uint64_t kOutputPauseAbove = 256 * 1024;
constexpr uint64_t kOutputResumeBelow = 64 * 1024;
constexpr uint64_t kLingerMs = 2000;          // after a closing response: wait this long for the client's FIN
// Graceful close (draining): how long a connection with no request to answer stays open
// for one that may be on its way: a connection accepted that has sent nothing yet (from
// the accept), or an idle keep-alive connection (from the end of its last response).
// Capped by the header and keep-alive timeouts.
constexpr uint64_t kDrainGraceMs = 2000;
constexpr size_t kMaxIov = 64;
constexpr size_t kFileBlock = 64 * 1024;      // pread path of sendFile: bytes read at a time

inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool sendfile_disabled() {
  static const bool disabled = [] {
    const char* v = std::getenv("TSGI_NO_SENDFILE");
    return v != nullptr && *v != '\0' && std::strcmp(v, "0") != 0;
  }();
  return disabled;
}

Connection::Connection() { req_rec_.resize(kRecordHeaders + 3 * 32); }

Connection::~Connection() {
  if (spare_req_) delete spare_req_;
}

void Connection::reset() {
  open_handles_ = 0;
  poll_ = nullptr;
  poll_fd_ = -1;
  phase_ = Phase::Head;
  bytes_seen_ = reading_ = closing_ = aborted_by_js_ = in_flight_ = in_dispatch_ = corked_ = false;
  no_more_requests_ = close_after_flush_ = shutdown_started_ = need_drain_ = file_waiting_ = false;
  peer_eof_ = resp_short_ = output_paused_ = false;
  wait_list = nullptr;
  wait_next = wait_prev = nullptr;
  file_buf_off_ = 0;
  served_ = 0;
  refused = false;
  inbuf_.clear();
  body_mem_.clear();
  spool_fd_ = -1;
  resp_started_ = false;
  stage_.clear();
  pieces_.clear();
  piece_head_ = 0;
  queued_ = 0;
  write_req_ = nullptr;
  next = prev = nullptr;
}

// ---- accepting ------------------------------------------------------------------------

// Initializes the handle for a connection of l and registers it with the server; false
// when that failed (the object is released).
bool Connection::init_handle(Listener* l) {
  reset();
  server = l->server;
  listener_index_ = l->index;
  local_port_ = l->port;
  is_pipe_ = l->is_pipe;
  int r = is_pipe_ ? uv_pipe_init(ld->loop, &h_.pipe, 0) : uv_tcp_init(ld->loop, &h_.tcp);
  if (r != 0) {
    ld->release_connection(this);
    return false;
  }
  h_.handle.data = this;
  open_handles_ = 1;
  ld->handle_opened();
  server->connection_opened(this);
  return true;
}

bool Connection::accept_fd(Listener* l, int sock) {
  if (!init_handle(l)) {
    ::close(sock);
    return false;
  }
  int r = is_pipe_ ? uv_pipe_open(&h_.pipe, sock) : uv_tcp_open(&h_.tcp, sock);
  if (r != 0) {
    ::close(sock);
    close_now();
    return false;
  }
  accepted();
  return true;
}

// The socket is open: the peer's address, the clocks, and reading.
void Connection::accepted() {
  remote_addr_len_ = 0;
  remote_port_ = 0;
  if (!is_pipe_) {
    uv_tcp_nodelay(&h_.tcp, 1);
    sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getpeername(&h_.tcp, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
      if (ss.ss_family == AF_INET) {
        const sockaddr_in* a = reinterpret_cast<const sockaddr_in*>(&ss);
        uv_ip4_name(a, remote_addr_, sizeof remote_addr_);
        remote_port_ = ntohs(a->sin_port);
      } else if (ss.ss_family == AF_INET6) {
        const sockaddr_in6* a = reinterpret_cast<const sockaddr_in6*>(&ss);
        uv_ip6_name(a, remote_addr_, sizeof remote_addr_);
        remote_port_ = ntohs(a->sin6_port);
        // An IPv4 client of a dual-stack listener: report the IPv4 address.
        if (std::strncmp(remote_addr_, "::ffff:", 7) == 0 && std::strchr(remote_addr_ + 7, '.'))
          std::memmove(remote_addr_, remote_addr_ + 7, std::strlen(remote_addr_ + 7) + 1);
      }
      remote_addr_len_ = std::strlen(remote_addr_);
    }
  }
  phase_since_ = uv_now(ld->loop);
  last_write_progress_ = phase_since_;
  wait_in(&server->pre_head);
  start_reading();
}

void Connection::refuse() {
  wait_in(nullptr);
  refused = true;
  no_more_requests_ = true;
  phase_ = Phase::Linger;
  const CannedResponse& r = canned_response(503);
  stage_.append(r.bytes, r.len);
  close_after_flush_ = true;
  flush();
}

void Connection::evict() {
  if (closing_) return;
  refused = true;
  server->active_connections--;
  server->stats.evicted++;
  close_now();
}

bool Connection::evictable() const {
  return !closing_ && !in_flight_ && !write_req_ && !file_waiting_ && pending_output() == 0;
}

bool Connection::body_below_rate(uint64_t now) const {
  uint64_t rate = server->limits.min_body_rate;
  return rate > 0 && phase_ == Phase::Body && body_wire_ * 1000 < rate * (now - body_since_);
}

void Connection::wait_in(ConnList* list) {
  if (wait_list == list) return;
  if (wait_list) {
    if (wait_prev) wait_prev->wait_next = wait_next;
    else wait_list->head = wait_next;
    if (wait_next) wait_next->wait_prev = wait_prev;
    else wait_list->tail = wait_prev;
    wait_next = wait_prev = nullptr;
  }
  wait_list = list;
  if (!list) return;
  wait_prev = list->tail;
  if (list->tail) list->tail->wait_next = this;
  else list->head = this;
  list->tail = this;
}

// ---- reading --------------------------------------------------------------------------

void Connection::start_reading() {
  if (reading_ || closing_ || peer_eof_) return;
  if (uv_read_start(&h_.stream, on_alloc, on_read) == 0) reading_ = true;
}

void Connection::stop_reading() {
  if (!reading_) return;
  uv_read_stop(&h_.stream);
  reading_ = false;
}

void Connection::on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  Connection* c = static_cast<Connection*>(h->data);
  LoopData* ld = c->ld;
  if (ld->recv_buf_busy) {  // cannot happen with libuv's read loop, but never hand it out twice
    buf->base = nullptr;
    buf->len = 0;
    return;
  }
  ld->recv_buf_busy = true;
  buf->base = ld->recv_buf;
  buf->len = kReceiveBufferSize;
}

void Connection::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
  Connection* c = static_cast<Connection*>(s->data);
  if (buf->base == c->ld->recv_buf) c->ld->recv_buf_busy = false;
  if (nread == 0) return;
  if (nread < 0) {
    if (nread == UV_EOF) c->on_peer_eof();
    else c->close_now();  // a reset or a read error: the client is gone
    return;
  }
  c->server->stats.bytes_received += static_cast<uint64_t>(nread);
  c->handle_input(buf->base, static_cast<size_t>(nread));
}

void Connection::handle_input(const char* data, size_t len) {
  if (closing_ || phase_ == Phase::Linger || no_more_requests_) return;  // discarded
  bool from_inbuf = false;
  if (!inbuf_.empty() || in_flight_) {
    inbuf_.append(data, len);
    data = inbuf_.data();
    len = inbuf_.size();
    from_inbuf = true;
  }
  if (in_flight_ || output_paused_) {
    if (inbuf_.size() > kMaxBuffered || output_paused_) stop_reading();
    return;
  }
  corked_ = true;
  size_t used = process(data, len);
  corked_ = false;
  if (!closing_ && !no_more_requests_) {
    if (from_inbuf) {
      inbuf_.consume_front(used);
    } else if (used < len) {
      inbuf_.append(data + used, len - used);
    }
    if ((in_flight_ && inbuf_.size() > kMaxBuffered) || output_paused_) stop_reading();
  } else {
    inbuf_.clear();
  }
  flush();
}

void Connection::resume() {
  if (closing_ || in_flight_) return;
  bool paused = false;
  if (!no_more_requests_ && !inbuf_.empty()) {
    corked_ = true;
    size_t used = process(inbuf_.data(), inbuf_.size());
    corked_ = false;
    paused = output_paused_;
    if (closing_ || no_more_requests_) inbuf_.clear();
    else inbuf_.consume_front(used);
    flush();
  }
  // Paused for output: requests are still buffered, and check_output_resume() comes back
  // here once the queue drained (already on its way when flush() just wrote it all).
  if (closing_ || paused || output_paused_) return;
  if (peer_eof_) {
    if (!in_flight_) input_ended();
    return;
  }
  if (!no_more_requests_ && (!in_flight_ || inbuf_.size() <= kMaxBuffered)) start_reading();
}

// The output queue drained below the resume mark: requests buffered meanwhile are
// dispatched (in order) and reading starts again, on the next loop turn.
void Connection::check_output_resume() {
  if (!output_paused_ || closing_ || pending_output() > kOutputResumeBelow) return;
  output_paused_ = false;
  ld->defer(DeferredKind::Resume, id);
}

// The client sent FIN (shutdown(SHUT_WR), an HTTP/1.0-style client, `nc -N`): it sends
// nothing more but may still read. As node:http and nginx do, every complete request it
// sent is answered, in order, and then the connection closes: the request in flight
// finishes (no onAbort), requests already buffered are dispatched after it, the last
// response says Connection: close when it is known to be the last. A client that closed
// its socket completely looks the same on the wire until a write to it fails (EPIPE,
// ECONNRESET): that closes the connection and reports onAbort for a request in flight,
// as any disconnect does. A half-closed client that stops reading is dropped by the
// write timeout.
void Connection::on_peer_eof() {
  if (closing_) return;
  peer_eof_ = true;
  stop_reading();  // libuv stopped at EOF already; keep reading_ in step
  if (shutdown_started_) {
    close_now();  // lingering after our last response: this FIN is what it waited for
    return;
  }
  if (!in_flight_) resume();  // else finish_response() resumes, and resume() ends the input
  if (!closing_) watch_for_reset();
}

// A half-closed connection is no longer read, so a reset from the client would only be
// seen by a failing write. After the client's FIN nothing more can arrive, so the poll
// watches for out-of-band data only: epoll reports an error or hang-up regardless, and
// on_poll closes the connection then (onAbort for a request in flight).
void Connection::watch_for_reset() {
  if (closing_ || file_waiting_) return;  // on_poll re-arms the watch after writability
  uv_os_fd_t sock;
  if (uv_fileno(&h_.handle, &sock) != 0 || !ensure_poll(sock)) return;
  uv_poll_start(poll_, UV_PRIORITIZED, on_poll);
}

// FIN seen and no request in flight: every complete request was answered. What is left
// in the buffer cannot become a request any more.
// - Nothing, or part of a head: there is no request to answer (RFC 9112 §9.6, §8: an
//   incomplete message is not processed); the connection closes without a response.
// - A complete head with part of its body (Content-Length not reached, or no last
//   chunk): RFC 9112 §6.3 and §8 make the message incomplete, to be closed, and allow an
//   error response first. The head named a request the client is presumably waiting
//   for, so it gets 400 (as a body timeout gets 408) and then the connection closes;
//   the application never sees the request.
void Connection::input_ended() {
  if (closing_ || in_flight_ || close_after_flush_) return;
  if (!no_more_requests_ && phase_ == Phase::Body) {
    fail(400);
    return;
  }
  inbuf_.clear();
  wait_in(nullptr);
  no_more_requests_ = true;
  close_after_flush_ = true;
  phase_ = Phase::Flush;
  phase_since_ = uv_now(ld->loop);
  flush();  // closes once the queued responses are out (at once when nothing is queued)
}

// The parse loop: head → body → dispatch, as long as JS answers synchronously.
size_t Connection::process(const char* data, size_t len) {
  size_t pos = 0;
  while (!closing_ && !no_more_requests_ && !in_flight_) {
    if (phase_ == Phase::Idle || phase_ == Phase::Head) {
      if (pos == len) break;
      // A client that sends requests without reading the responses: nothing more is
      // dispatched, nor read, until the queued output drains (check_output_resume).
      if (pending_output() > kOutputPauseAbove) {
        output_paused_ = true;
        break;
      }
      if (phase_ == Phase::Idle || !bytes_seen_) {
        // The head deadline counts from the first byte, and does not restart after it.
        phase_since_ = uv_now(ld->loop);
        phase_ = Phase::Head;
        bytes_seen_ = true;
      }
      RequestHead head;
      head.headers = ld->headers;
      head.header_capacity = kMaxHeadersCap;
      size_t used = 0;
      ParseStatus st = parse_request_head(data + pos, len - pos, server->limits.parse, &head, &used);
      if (st == ParseStatus::Partial) break;
      if (st == ParseStatus::Error) {
        fail(head.error_status ? head.error_status : 400);
        break;
      }
      pos += used;
      req_minor_ = head.version_minor;
      req_keep_alive_ = head.keep_alive;
      req_head_method_ = head.method.len == 4 && std::memcmp(head.method.data, "HEAD", 4) == 0;
      body_kind_ = head.body_kind;
      body_received_ = 0;
      body_remaining_ = head.body_kind == BodyKind::Length ? head.content_length : 0;
      build_record(head);
      if (body_kind_ == BodyKind::Length && head.content_length > server->limits.max_body_bytes) {
        fail(413);
        break;
      }
      if (body_kind_ == BodyKind::None || (body_kind_ == BodyKind::Length && body_remaining_ == 0)) {
        body_kind_ = BodyKind::None;
        dispatch();
        continue;
      }
      wait_in(&server->in_body);
      if (body_kind_ == BodyKind::Chunked) {
        trailer_text_.text.clear();
        decoder_ = ChunkedDecoder(ChunkedLimits{}, &trailer_text_);
      }
      if (body_kind_ == BodyKind::Length && body_remaining_ > server->limits.body_memory_bytes) {
        int fd = spool_open(server->limits.spool_dir);
        if (fd < 0) {
          fail(500);
          break;
        }
        spool_fd_ = fd;
      }
      // 100 Continue: the body is wanted and the client is waiting for the word.
      if (head.expect_continue && pos == len) stage_.append(kContinueResponse, sizeof kContinueResponse - 1);
      phase_ = Phase::Body;
      phase_since_ = uv_now(ld->loop);
      body_since_ = phase_since_;
      body_wire_ = 0;
    }
    if (phase_ == Phase::Body) {
      if (pos == len) break;
      phase_since_ = uv_now(ld->loop);
      if (body_kind_ == BodyKind::Length) {
        size_t take = len - pos;
        if (take > body_remaining_) take = static_cast<size_t>(body_remaining_);
        if (!store_body(data + pos, take)) break;
        pos += take;
        body_wire_ += take;
        body_remaining_ -= take;
        if (body_remaining_ > 0) break;
        dispatch();
        continue;
      }
      bool done = false;
      while (pos < len) {
        size_t used = 0;
        Span out;
        ChunkStatus st = decoder_.feed(data + pos, len - pos, &used, &out);
        pos += used;
        body_wire_ += used;
        if (st == ChunkStatus::Data) {
          if (body_received_ + out.len > server->limits.max_body_bytes) {
            fail(413);
            return pos;
          }
          if (!store_body(out.data, out.len)) return pos;
        } else if (st == ChunkStatus::Done) {
          // The trailer fields end the head string, from rec[kRecTrailersStart].
          req_text_.append(trailer_text_.text.data(), trailer_text_.text.size());
          trailer_text_.text.clear();
          done = true;
          break;
        } else if (st == ChunkStatus::Error) {
          fail(decoder_.error_status() ? decoder_.error_status() : 400);
          return pos;
        } else {
          break;  // NeedMore
        }
      }
      if (!done) break;
      dispatch();
    }
  }
  return pos;
}

// The head string and record for the request: method, target, decoded path, remote
// address, then per header the environ key (unknown names only) and the value; the
// trailer fields of a chunked body are appended at its end once they arrived.
void Connection::build_record(const RequestHead& h) {
  size_t need = kRecordHeaders + 3 * h.header_count;
  if (req_rec_.size() < need) req_rec_.resize(need);
  int32_t* rec = req_rec_.data();
  ByteBuffer& t = req_text_;
  t.clear();
  t.append(h.method.data, h.method.len);
  rec[kRecMethodEnd] = static_cast<int32_t>(t.size());
  t.append(h.target.data, h.target.len);
  int32_t target_start = rec[kRecMethodEnd];
  rec[kRecTargetEnd] = static_cast<int32_t>(t.size());
  // The path part: origin-form starts at '/', absolute-form drops scheme and authority
  // (the parser accepts only those, `*` with OPTIONS, and http(s)://authority targets).
  const char* tp = h.target.data;
  size_t tl = h.target.len;
  size_t ps = 0;
  if (tp && tl >= 3 && tp[0] != '/') {
    const char* sep = static_cast<const char*>(memmem(tp, tl, "://", 3));
    if (sep) {
      ps = static_cast<size_t>(sep - tp) + 3;
      while (ps < tl && tp[ps] != '/' && tp[ps] != '?') ps++;
    }
  }
  const char* q = static_cast<const char*>(std::memchr(tp + ps, '?', tl - ps));
  size_t pe = q ? static_cast<size_t>(q - tp) : tl;
  rec[kRecQueryStart] = q ? target_start + static_cast<int32_t>(pe + 1) : -1;
  char* out = t.reserve(pe - ps + 1);  // + 1: the "/" of an absolute-form target with an empty path
  size_t n = 0;
  for (size_t i = ps; i < pe; i++) {
    char c = tp[i];
    if (c == '%' && i + 2 < pe) {  // an invalid escape is kept as it is
      int hi = hex_value(tp[i + 1]);
      int lo = hex_value(tp[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out[n++] = static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out[n++] = c;
  }
  if (n == 0 && ps != 0) out[n++] = '/';  // http://host or http://host?q: the path is "/"
  t.commit(n);
  rec[kRecPathEnd] = static_cast<int32_t>(t.size());
  t.append(remote_addr_, remote_addr_len_);
  rec[kRecAddrEnd] = static_cast<int32_t>(t.size());
  rec[kRecVersionMinor] = h.version_minor;
  rec[kRecRemotePort] = remote_port_;
  rec[kRecLocalPort] = local_port_;
  rec[kRecListener] = listener_index_;
  int32_t flags = 0;
  uint32_t max_ka = server->limits.max_keep_alive_requests;
  if (h.keep_alive && !server->closing && (max_ka == 0 || served_ + 1 < max_ka)) flags |= kFlagKeepAlive;
  if (req_head_method_) flags |= kFlagHead;
  if (h.body_kind == BodyKind::Chunked) flags |= kFlagChunkedBody;
  rec[kRecFlags] = flags;
  int32_t count = 0;
  int32_t* hp = rec + kRecordHeaders;
  for (size_t i = 0; i < h.header_count; i++) {
    const HeaderField& f = h.headers[i];
    if (f.known) {
      hp[0] = f.known;
      hp[1] = static_cast<int32_t>(t.size());
    } else {
      if (header_name_has_underscore(f.name.data, f.name.len)) continue;
      char* k = t.reserve(environ_key_size(f.name.len));
      t.commit(environ_key_for(f.name.data, f.name.len, k));
      hp[0] = 0;
      hp[1] = static_cast<int32_t>(t.size());
    }
    t.append(f.value.data, f.value.len);
    hp[2] = static_cast<int32_t>(t.size());
    hp += 3;
    count++;
  }
  rec[kRecHeaderCount] = count;
  rec[kRecTrailersStart] = static_cast<int32_t>(t.size());
}

bool Connection::store_body(const char* p, size_t n) {
  if (n == 0) return true;
  body_received_ += n;
  if (spool_fd_ < 0 && body_mem_.size() + n > server->limits.body_memory_bytes) {
    int fd = spool_open(server->limits.spool_dir);
    if (fd < 0 || spool_write(fd, body_mem_.data(), body_mem_.size()) != 0) {
      if (fd >= 0) ::close(fd);
      fail(500);
      return false;
    }
    spool_fd_ = fd;
    body_mem_.clear();
  }
  if (spool_fd_ >= 0) {
    if (spool_write(spool_fd_, p, n) != 0) {
      fail(500);
      return false;
    }
  } else {
    body_mem_.append(p, n);
  }
  return true;
}

void Connection::dispatch() {
  wait_in(nullptr);
  phase_ = Phase::Request;
  in_flight_ = true;
  resp_started_ = false;
  server->stats.requests++;
  napi_env env = ld->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value argv[5];
  napi_create_double(env, id, &argv[0]);
  napi_create_string_latin1(env, req_text_.data(), req_text_.size(), &argv[1]);
  int fd = -1;
  if (spool_fd_ >= 0) {
    spool_rewind(spool_fd_);
    fd = spool_fd_;
    spool_fd_ = -1;  // JS owns it now
    napi_get_null(env, &argv[2]);
  } else if (body_mem_.empty()) {
    napi_get_null(env, &argv[2]);
  } else {
    void* unused;
    napi_create_buffer_copy(env, body_mem_.size(), body_mem_.data(), &unused, &argv[2]);
    body_mem_.clear();
    body_mem_.shrink_if_over(1 << 20);
  }
  napi_create_int32(env, fd, &argv[3]);
  napi_create_double(env, static_cast<double>(body_received_), &argv[4]);
  std::memcpy(ld->record, req_rec_.data(),
              (kRecordHeaders + 3 * static_cast<size_t>(req_rec_[kRecHeaderCount])) * sizeof(int32_t));
  in_dispatch_ = true;
  ld->call(server->handlers(), server->on_request(), 5, argv);
  in_dispatch_ = false;
  napi_close_handle_scope(env, scope);
}

void Connection::fail(uint16_t status) {
  if (spool_fd_ >= 0) {
    ::close(spool_fd_);
    spool_fd_ = -1;
  }
  body_mem_.clear();
  wait_in(nullptr);
  no_more_requests_ = true;
  phase_ = Phase::Linger;
  phase_since_ = uv_now(ld->loop);
  const CannedResponse& r = canned_response(status);
  stage_.append(r.bytes, r.len);
  close_after_flush_ = true;
  maybe_flush();
}

// ---- responses ------------------------------------------------------------------------

void Connection::append_js_latin1(napi_value s) {
  size_t len = 0;
  napi_get_value_string_latin1(ld->env, s, nullptr, 0, &len);
  char* p = stage_.reserve(len + 1);
  size_t copied = 0;
  napi_get_value_string_latin1(ld->env, s, p, len + 1, &copied);
  stage_.commit(copied);
}

// Byte length of a chunk (Buffer, typed array or string); *bytes is set for binary ones.
int64_t Connection::chunk_length(napi_value v, const char** bytes) {
  *bytes = nullptr;
  napi_env env = ld->env;
  napi_valuetype type;
  napi_typeof(env, v, &type);
  if (type == napi_string) {
    size_t len = 0;
    napi_get_value_string_utf8(env, v, nullptr, 0, &len);
    return static_cast<int64_t>(len);
  }
  if (type != napi_object) return 0;
  void* data = nullptr;
  size_t len = 0;
  if (napi_get_buffer_info(env, v, &data, &len) != napi_ok) {
    napi_typedarray_type tt;
    napi_value ab;
    size_t off;
    if (napi_get_typedarray_info(env, v, &tt, &len, &data, &ab, &off) != napi_ok) return 0;
    // len is in elements; only byte arrays are chunks
    if (tt != napi_uint8_array && tt != napi_int8_array && tt != napi_uint8_clamped_array) return 0;
  }
  *bytes = static_cast<const char*>(data);
  return static_cast<int64_t>(len);
}

// Appends the first take bytes of chunk v (of len bytes) to the output queue.
void Connection::append_chunk(napi_value v, const char* bytes, int64_t len, int64_t take) {
  if (take <= 0) return;
  if (bytes == nullptr) {  // string: encoded straight into the stage
    char* p = stage_.reserve(static_cast<size_t>(len) + 1);
    size_t copied = 0;
    napi_get_value_string_utf8(ld->env, v, p, static_cast<size_t>(len) + 1, &copied);
    stage_.commit(static_cast<size_t>(take) < copied ? static_cast<size_t>(take) : copied);
    return;
  }
  if (static_cast<size_t>(take) < kCopyBelow) {
    stage_.append(bytes, static_cast<size_t>(take));
    return;
  }
  sync_stage();
  Piece pc{};
  pc.kind = Piece::External;
  pc.ptr = bytes;
  pc.len = static_cast<size_t>(take);
  napi_create_reference(ld->env, v, 1, &pc.ref);
  note_queue_growth();
  pieces_.push_back(pc);
  queued_ += pc.len;
}

int Connection::start_response(napi_value head, int64_t content_length, int32_t flags, bool streamed,
                               int64_t body_length) {
  size_t start = stage_.size();
  append_status_prefix(stage_);
  append_js_latin1(head);
  int status = status_code_of(stage_.data() + start + 9, stage_.size() - start - 9);
  resp_no_body_ = req_head_method_ || status_forbids_body(status);
  uint32_t max_ka = server->limits.max_keep_alive_requests;
  // After the client's FIN with nothing more buffered, this response is the last one.
  bool keep = req_keep_alive_ && !(flags & kRespClose) && !server->closing && !no_more_requests_ &&
              (max_ka == 0 || served_ + 1 < max_ka) && !(peer_eof_ && inbuf_.empty());
  HeadFraming f;
  if (!(flags & kRespHasDate)) {
    f.date_line = ld->date.line();
    f.date_line_len = ld->date.line_len();
  }
  resp_chunked_ = false;
  resp_remaining_ = -1;
  int result = kResultOk;
  if (content_length >= 0) {
    resp_remaining_ = resp_no_body_ ? 0 : content_length;
    if (!streamed && !resp_no_body_) {
      if (body_length < content_length) {
        result = kResultShort;
        keep = false;
      } else if (body_length > content_length) {
        result = kResultTruncated;
      }
    }
  } else if (streamed) {
    if (!resp_no_body_) {
      if (req_minor_ >= 1) resp_chunked_ = true;
      else keep = false;  // close-delimited
    }
  } else if (!(status >= 100 && status < 200) && status != 204 && status != 304) {
    if (!req_head_method_ || body_length > 0) f.content_length = body_length;
  }
  f.chunked = resp_chunked_;
  f.connection = !keep ? ConnectionToken::Close
                       : (req_minor_ == 0 ? ConnectionToken::KeepAlive : ConnectionToken::None);
  resp_keep_alive_ = keep;
  append_head_end(stage_, f);
  return result;
}

int Connection::respond(napi_value head, napi_value body, int64_t content_length, int32_t flags) {
  if (closing_ || !in_flight_ || resp_started_) return kResultGone;
  napi_env env = ld->env;
  // Gather the body parts and their total length first: Content-Length goes in the head.
  napi_value single = body;
  uint32_t count = 0;
  bool is_array = false;
  napi_valuetype type;
  napi_typeof(env, body, &type);
  if (type == napi_object) napi_is_array(env, body, &is_array);
  if (is_array) napi_get_array_length(env, body, &count);
  else if (type == napi_string || type == napi_object) count = 1;
  int64_t total = 0;
  constexpr uint32_t kInline = 16;
  napi_value parts_inline[kInline];
  const char* bytes_inline[kInline];
  int64_t lens_inline[kInline];
  std::vector<napi_value> parts_v;
  std::vector<const char*> bytes_v;
  std::vector<int64_t> lens_v;
  napi_value* parts = parts_inline;
  const char** bytes = bytes_inline;
  int64_t* lens = lens_inline;
  if (count > kInline) {
    parts_v.resize(count);
    bytes_v.resize(count);
    lens_v.resize(count);
    parts = parts_v.data();
    bytes = bytes_v.data();
    lens = lens_v.data();
  }
  for (uint32_t i = 0; i < count; i++) {
    if (is_array) napi_get_element(env, body, i, &parts[i]);
    else parts[i] = single;
    lens[i] = chunk_length(parts[i], &bytes[i]);
    total += lens[i];
  }
  int result = start_response(head, content_length, flags, false, total);
  if (!resp_no_body_) {
    int64_t budget = content_length >= 0 ? content_length : total;
    for (uint32_t i = 0; i < count && budget > 0; i++) {
      int64_t take = lens[i] < budget ? lens[i] : budget;
      append_chunk(parts[i], bytes[i], lens[i], take);
      budget -= take;
    }
  }
  finish_response();
  return result;
}

int Connection::write_head(napi_value head, int64_t content_length, int32_t flags) {
  if (closing_ || !in_flight_ || resp_started_) return kResultGone;
  int r = start_response(head, content_length, flags, true, 0);
  resp_started_ = true;
  return r;
}

int Connection::write(napi_value chunk) {
  if (closing_ || !in_flight_ || !resp_started_) return -1;
  const char* bytes;
  int64_t len = chunk_length(chunk, &bytes);
  if (!resp_no_body_ && !resp_short_ && len > 0) {
    int64_t take = len;
    if (resp_remaining_ >= 0) {
      if (take > resp_remaining_) take = resp_remaining_;
      resp_remaining_ -= take;
    }
    if (take > 0) {
      if (resp_chunked_) append_chunk_header(stage_, static_cast<uint64_t>(take));
      append_chunk(chunk, bytes, len, take);
      if (resp_chunked_) append_chunk_end(stage_);
    }
  }
  maybe_flush();
  if (closing_) return -1;
  sync_stage();
  if (queued_ > kHighWater) {
    need_drain_ = true;
    return 0;
  }
  return 1;
}

int Connection::end(napi_value chunk) {
  if (closing_ || !in_flight_ || !resp_started_) return kResultGone;
  int result = kResultOk;
  napi_valuetype type;
  napi_typeof(ld->env, chunk, &type);
  if (resp_short_) {
    // A sendFile of this response ended early: the response cannot be completed and
    // nothing more of it is sent; the connection closes.
    resp_keep_alive_ = false;
    finish_response();
    return kResultShort;
  }
  if (type == napi_string || type == napi_object) {
    const char* bytes;
    int64_t len = chunk_length(chunk, &bytes);
    if (!resp_no_body_ && len > 0) {
      int64_t take = len;
      if (resp_remaining_ >= 0) {
        if (take > resp_remaining_) {
          take = resp_remaining_;
          result = kResultTruncated;
        }
        resp_remaining_ -= take;
      }
      if (take > 0) {
        if (resp_chunked_) append_chunk_header(stage_, static_cast<uint64_t>(take));
        append_chunk(chunk, bytes, len, take);
        if (resp_chunked_) append_chunk_end(stage_);
      }
    }
  }
  if (resp_chunked_) append_last_chunk(stage_);
  if (resp_remaining_ > 0) {
    result = kResultShort;
    resp_keep_alive_ = false;
  }
  finish_response();
  return result;
}

int Connection::send_file(int fd, int64_t offset, int64_t length) {
  if (closing_ || !in_flight_ || !resp_started_) return kResultGone;
  int result = kResultOk;
  int64_t take = resp_no_body_ || resp_short_ ? 0 : length;
  if (resp_remaining_ >= 0 && take > resp_remaining_) {
    take = resp_remaining_;
    result = kResultTruncated;
  }
  if (resp_remaining_ >= 0) resp_remaining_ -= take;
  if (take > 0) {
    if (resp_chunked_) append_chunk_header(stage_, static_cast<uint64_t>(take));
    sync_stage();
    Piece pc{};
    pc.kind = Piece::File;
    pc.len = static_cast<size_t>(take);
    pc.fd = fd;
    pc.file_off = offset;
    pc.seq = served_;
    pc.no_sendfile = sendfile_disabled();
    pc.buffered = 0;
    note_queue_growth();
    pieces_.push_back(pc);
    queued_ += pc.len;
    if (resp_chunked_) append_chunk_end(stage_);
  } else {
    // Nothing to send: "done" right away, on the next loop turn.
    ld->defer(DeferredKind::Drain, id);
  }
  maybe_flush();
  return result;
}

void Connection::abort() {
  if (closing_) return;
  aborted_by_js_ = true;
  close_now();
}

void Connection::finish_response() {
  in_flight_ = false;
  resp_started_ = false;
  resp_short_ = false;
  need_drain_ = false;  // an onDrain now would be taken for the next request's
  served_++;
  if (!resp_keep_alive_) {
    no_more_requests_ = true;
    close_after_flush_ = true;
  } else {
    phase_ = Phase::Idle;
    phase_since_ = uv_now(ld->loop);
    bytes_seen_ = false;
    wait_in(&server->pre_head);
  }
  if (in_dispatch_ || corked_) return;  // the parse loop goes on and flushes
  flush();
  if (closing_ || no_more_requests_) return;
  if (!inbuf_.empty() || peer_eof_) ld->defer(DeferredKind::Resume, id);
  else start_reading();
}

// ---- the output queue -----------------------------------------------------------------

// The write timeout counts from when output became pending, not from the last write.
void Connection::note_queue_growth() {
  if (queued_ == 0 && !write_req_) last_write_progress_ = uv_now(ld->loop);
}

void Connection::sync_stage() {
  size_t size = stage_.size();
  if (size == stage_synced_) return;
  size_t n = size - stage_synced_;
  note_queue_growth();
  if (pieces_.size() > piece_head_) {
    Piece& last = pieces_.back();
    if (last.kind == Piece::Stage && last.off + last.len == stage_synced_) {
      last.len += n;
      queued_ += n;
      stage_synced_ = size;
      return;
    }
  }
  Piece pc{};
  pc.kind = Piece::Stage;
  pc.off = stage_synced_;
  pc.len = n;
  pieces_.push_back(pc);
  queued_ += n;
  stage_synced_ = size;
}

void Connection::consume_written(size_t n) {
  queued_ -= n;
  server->stats.bytes_sent += n;
  if (n) last_write_progress_ = uv_now(ld->loop);
  while (n > 0 && piece_head_ < pieces_.size()) {
    Piece& p = pieces_[piece_head_];
    size_t k = n < p.len ? n : p.len;
    p.len -= k;
    n -= k;
    if (p.kind == Piece::Stage) p.off += k;
    else p.ptr += k;
    if (p.len == 0) {
      if (p.kind == Piece::External && p.ref) napi_delete_reference(ld->env, p.ref);
      piece_head_++;
    }
  }
}

void Connection::flush() {
  if (closing_) return;
  sync_stage();
  while (!write_req_ && !file_waiting_ && piece_head_ < pieces_.size()) {
    Piece& first = pieces_[piece_head_];
    if (first.kind == Piece::File) {
      if (!send_file_piece()) return;
      continue;
    }
    uv_buf_t iov[kMaxIov];
    unsigned n = 0;
    size_t total = 0;
    for (size_t i = piece_head_; i < pieces_.size() && n < kMaxIov; i++) {
      const Piece& p = pieces_[i];
      if (p.kind == Piece::File) break;
      const char* base = p.kind == Piece::Stage ? stage_.data() + p.off : p.ptr;
      iov[n++] = uv_buf_init(const_cast<char*>(base), static_cast<unsigned>(p.len));
      total += p.len;
    }
    int r = uv_try_write(&h_.stream, iov, n);
    if (r == UV_EAGAIN || r == UV_ENOSYS) r = 0;
    if (r < 0) {
      close_now();
      return;
    }
    consume_written(static_cast<size_t>(r));
    if (static_cast<size_t>(r) < total) {
      start_async_write();
      return;
    }
  }
  if (write_req_ || file_waiting_) return;
  if (piece_head_ >= pieces_.size()) {
    pieces_.clear();
    piece_head_ = 0;
    stage_.clear();
    stage_synced_ = 0;
    stage_.shrink_if_over(1 << 20);
    queue_emptied();
    check_output_resume();  // written at once: no on_write to resume from
  }
}

// The kernel took part of the queue: the rest before the next file goes by uv_write.
void Connection::start_async_write() {
  WriteReq* w = spare_req_ ? spare_req_ : new WriteReq();
  spare_req_ = nullptr;
  w->conn = this;
  w->bufs.clear();
  w->refs.clear();
  w->storage.clear();
  w->bytes = 0;
  size_t end = piece_head_;
  size_t stage_bytes = 0;
  while (end < pieces_.size() && pieces_[end].kind != Piece::File) {
    if (pieces_[end].kind == Piece::Stage) stage_bytes += pieces_[end].len;
    end++;
  }
  bool take_stage = end == pieces_.size();  // nothing after: the stage itself moves over
  if (take_stage) {
    w->storage.swap(stage_);
  } else {
    w->storage.reserve(stage_bytes);
  }
  // First pass places the bytes, second builds the buffers (storage no longer moves).
  std::vector<size_t> offs;
  for (size_t i = piece_head_; i < end; i++) {
    Piece& p = pieces_[i];
    if (p.kind == Piece::Stage && !take_stage) {
      offs.push_back(w->storage.size());
      w->storage.append(stage_.data() + p.off, p.len);
    } else {
      offs.push_back(p.off);
    }
  }
  size_t k = 0;
  for (size_t i = piece_head_; i < end; i++, k++) {
    Piece& p = pieces_[i];
    if (p.kind == Piece::Stage) {
      w->bufs.push_back(uv_buf_init(w->storage.data() + offs[k], static_cast<unsigned>(p.len)));
    } else {
      w->bufs.push_back(uv_buf_init(const_cast<char*>(p.ptr), static_cast<unsigned>(p.len)));
      if (p.ref) w->refs.push_back(p.ref);
      p.ref = nullptr;
    }
    w->bytes += p.len;
  }
  piece_head_ = end;
  if (take_stage) {
    pieces_.clear();
    piece_head_ = 0;
    stage_synced_ = 0;
  }
  // The bytes are still queued until the write completes.
  write_req_ = w;
  w->req.data = w;
  int r = uv_write(&w->req, &h_.stream, w->bufs.data(), static_cast<unsigned>(w->bufs.size()), on_write);
  if (r != 0) {
    write_req_ = nullptr;
    for (napi_ref ref : w->refs) napi_delete_reference(ld->env, ref);
    w->refs.clear();
    spare_req_ = w;
    close_now();
  }
}

void Connection::on_write(uv_write_t* req, int status) {
  WriteReq* w = static_cast<WriteReq*>(req->data);
  Connection* c = w->conn;
  for (napi_ref ref : w->refs) napi_delete_reference(c->ld->env, ref);
  w->refs.clear();
  c->write_req_ = nullptr;
  c->queued_ -= w->bytes;
  if (status == 0) {
    c->server->stats.bytes_sent += w->bytes;
    c->last_write_progress_ = uv_now(c->ld->loop);
  }
  w->storage.clear();
  w->storage.shrink_if_over(1 << 20);
  if (c->spare_req_) delete w;
  else c->spare_req_ = w;
  if (status < 0) {
    c->close_now();
    return;
  }
  if (c->closing_) return;
  c->flush();
  if (!c->closing_) c->check_drain();
  if (!c->closing_) c->check_output_resume();
}

// Sends the file at the queue's head: sendfile(2), or pread() into file_buf_ and writes
// when sendfile cannot be used for it (EINVAL, ENOSYS, EOPNOTSUPP: a file system or fd
// kind without support) or TSGI_NO_SENDFILE is set. Either way the socket's own buffer
// is the backpressure: a full socket waits for writability, so at most one block is held
// in memory. False while waiting for writability (or when the connection closed).
bool Connection::send_file_piece() {
  uv_os_fd_t sock;
  if (uv_fileno(&h_.handle, &sock) != 0) {
    close_now();
    return false;
  }
  for (;;) {
    Piece& p = pieces_[piece_head_];
    if (p.buffered > 0) {
      // pread path: a block read and not yet fully written. Like sendfile, straight to
      // the socket: a File piece is only sent when no libuv write is in progress.
      ssize_t r = ::write(sock, file_buf_.data() + file_buf_off_, p.buffered);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return wait_writable(sock);
      if (r <= 0) {
        close_now();  // the socket failed (EPIPE, ECONNRESET…)
        return false;
      }
      file_buf_off_ += static_cast<size_t>(r);
      p.buffered -= static_cast<size_t>(r);
      queued_ -= static_cast<size_t>(r);
      server->stats.bytes_sent += static_cast<uint64_t>(r);
      last_write_progress_ = uv_now(ld->loop);
      continue;
    }
    if (p.len == 0) break;
    if (p.no_sendfile) {
      size_t want = p.len < kFileBlock ? p.len : kFileBlock;
      char* dst = file_buf_.reserve(kFileBlock);  // size stays 0: only the capacity is used
      ssize_t n = pread(p.fd, dst, want, static_cast<off_t>(p.file_off));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        close_now();  // the file cannot be read: the response cannot be completed
        return false;
      }
      if (n == 0) {
        file_ended_early();
        return !closing_;
      }
      p.file_off += n;
      p.len -= static_cast<size_t>(n);
      p.buffered = static_cast<size_t>(n);
      file_buf_off_ = 0;
      continue;
    }
    off_t off = static_cast<off_t>(p.file_off);
    size_t want = p.len < (1u << 30) ? p.len : (1u << 30);
    ssize_t n = sendfile(sock, p.fd, &off, want);
    if (n > 0) {
      p.file_off += n;
      p.len -= static_cast<size_t>(n);
      queued_ -= static_cast<size_t>(n);
      server->stats.bytes_sent += static_cast<uint64_t>(n);
      last_write_progress_ = uv_now(ld->loop);
      continue;
    }
    if (n == 0) {
      file_ended_early();
      return !closing_;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return wait_writable(sock);
    if (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) {
      p.no_sendfile = true;  // not for this file: read and write it instead
      continue;
    }
    close_now();  // the socket failed (EPIPE, ECONNRESET…) or the file cannot be read
    return false;
  }
  piece_head_++;
  // "onDrain when done": never from inside the JS call that queued it.
  if (ld->js_depth > 0 || in_dispatch_) ld->defer(DeferredKind::Drain, id);
  else emit_drain();
  return !closing_;
}

// The poll handle on a dup of the socket (libuv watches the socket itself for the
// stream); false when it could not be made (the connection is closed then).
bool Connection::ensure_poll(uv_os_fd_t sock) {
  if (poll_) return true;
  int dupfd = dup(sock);
  if (dupfd < 0) {
    close_now();
    return false;
  }
  poll_ = new uv_poll_t;
  if (uv_poll_init(ld->loop, poll_, dupfd) != 0) {
    ::close(dupfd);
    delete poll_;
    poll_ = nullptr;
    close_now();
    return false;
  }
  poll_fd_ = dupfd;
  poll_->data = this;
  open_handles_++;
  ld->handle_opened();
  return true;
}

// The socket is full: flush() again once it is writable. Always false.
bool Connection::wait_writable(uv_os_fd_t sock) {
  if (!ensure_poll(sock)) return false;
  uv_poll_start(poll_, UV_WRITABLE, on_poll);
  file_waiting_ = true;
  return false;
}

// The file at the queue's head ended before the length given to sendFile (it is
// shorter than it was said to be, or was truncated meanwhile). The response cannot be
// completed: nothing queued after the file is sent (its framing would be wrong) and the
// connection closes, never waits for bytes that will not come. When the file belongs to
// the response in flight, this is reported as for a body shorter than its
// Content-Length: onDrain still comes (the sendFile is over), end() returns
// RESULT_SHORT and the connection closes after it. Otherwise (the response already
// ended) the connection closes now; a later request in flight gets onAbort.
void Connection::file_ended_early() {
  bool current = in_flight_ && resp_started_ && pieces_[piece_head_].seq == served_;
  drop_output();
  queued_ = 0;  // a File piece is only sent with no write in progress: nothing else is queued
  no_more_requests_ = true;
  inbuf_.clear();
  if (!current) {
    close_now();
    return;
  }
  resp_short_ = true;
  if (ld->js_depth > 0 || in_dispatch_) ld->defer(DeferredKind::Drain, id);
  else emit_drain();
}

void Connection::on_poll(uv_poll_t* p, int status, int events) {
  Connection* c = static_cast<Connection*>(p->data);
  if (c->closing_) return;
  if (status < 0) {
    c->close_now();
    return;
  }
  if (c->file_waiting_) {
    if (!(events & UV_WRITABLE)) return;
    c->file_waiting_ = false;
    uv_poll_stop(p);
    c->flush();
    if (!c->closing_) c->check_output_resume();
    if (!c->closing_ && c->peer_eof_ && !c->file_waiting_) c->watch_for_reset();
    return;
  }
  // Watching a half-closed connection (watch_for_reset): an error or hang-up.
  c->close_now();
}

void Connection::queue_emptied() {
  if (close_after_flush_) {
    begin_shutdown();
    return;
  }
  check_drain();
}

void Connection::check_drain() {
  if (!need_drain_ || queued_ > kLowWater) return;
  need_drain_ = false;
  if (ld->js_depth > 0 || in_dispatch_) ld->defer(DeferredKind::Drain, id);
  else emit_drain();
}

void Connection::emit_drain() {
  if (closing_ || ld->tearing_down) return;
  napi_env env = ld->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value arg;
  napi_create_double(env, id, &arg);
  ld->call(server->handlers(), server->on_drain(), 1, &arg);
  napi_close_handle_scope(env, scope);
}

void Connection::begin_shutdown() {
  if (shutdown_started_ || closing_) return;
  if (peer_eof_) {
    // The client's FIN was read, so nothing unread is left to make close() send a reset:
    // closing sends our FIN after the queued bytes, and there is nothing to linger for.
    close_now();
    return;
  }
  shutdown_started_ = true;
  phase_ = Phase::Linger;
  phase_since_ = uv_now(ld->loop);
  shutdown_req_.data = this;
  if (uv_shutdown(&shutdown_req_, &h_.stream, on_shutdown) != 0) {
    close_now();
    return;
  }
  start_reading();  // to see the client's FIN
}

void Connection::on_shutdown(uv_shutdown_t* req, int status) {
  Connection* c = static_cast<Connection*>(req->data);
  if (status < 0) c->close_now();
}

// ---- closing --------------------------------------------------------------------------

void Connection::close_now() {
  if (closing_) return;
  closing_ = true;
  wait_in(nullptr);
  stop_reading();
  if (poll_) {
    uv_poll_stop(poll_);
    uv_close(reinterpret_cast<uv_handle_t*>(poll_), on_poll_close);
  }
  uv_close(&h_.handle, on_close);
}

void Connection::on_poll_close(uv_handle_t* h) {
  Connection* c = static_cast<Connection*>(h->data);
  ::close(c->poll_fd_);
  c->poll_fd_ = -1;
  delete reinterpret_cast<uv_poll_t*>(h);
  c->poll_ = nullptr;
  c->ld->handle_closed();
  if (--c->open_handles_ == 0) c->release_pieces();
}

void Connection::on_close(uv_handle_t* h) {
  Connection* c = static_cast<Connection*>(h->data);
  LoopData* ld = c->ld;
  if (c->in_flight_ && !c->aborted_by_js_ && !ld->tearing_down) {
    c->in_flight_ = false;
    napi_env env = ld->env;
    napi_handle_scope scope;
    napi_open_handle_scope(env, &scope);
    napi_value arg;
    napi_create_double(env, c->id, &arg);
    ld->call(c->server->handlers(), c->server->on_abort(), 1, &arg);
    napi_close_handle_scope(env, scope);
  }
  c->in_flight_ = false;
  ld->handle_closed();
  if (--c->open_handles_ == 0) c->release_pieces();
}

// Forgets every queued output piece and the staged bytes, releasing the Buffers held for
// them.
void Connection::drop_output() {
  for (size_t i = piece_head_; i < pieces_.size(); i++)
    if (pieces_[i].kind == Piece::External && pieces_[i].ref) napi_delete_reference(ld->env, pieces_[i].ref);
  pieces_.clear();
  piece_head_ = 0;
  stage_.clear();
  stage_synced_ = 0;
}

// The last handle closed: free what the connection holds and return it to the pool.
void Connection::release_pieces() {
  drop_output();
  stage_.shrink_if_over(64 * 1024);
  inbuf_.clear();
  inbuf_.shrink_if_over(64 * 1024);
  file_buf_.shrink_if_over(0);
  body_mem_.clear();
  body_mem_.shrink_if_over(64 * 1024);
  if (spool_fd_ >= 0) {
    ::close(spool_fd_);
    spool_fd_ = -1;
  }
  Server* s = server;
  s->connection_closed(this);
  ld->release_connection(this);
}

// Graceful close (reload, recycling, stop): no request the client has started to send,
// or may be sending right now, is dropped, and no connection is reset.
// - A request in flight, a body or a partial head being read: the request completes and
//   its response carries Connection: close (the server is closing: build_record and
//   start_response say so). A streamed response whose head went out before the close
//   began could not say so: after it the connection is idle, as below.
// - Accepted, first request not arrived yet (Head with no byte seen): the client opened
//   this connection to send a request, which may already be on its way. Its first request
//   is answered with Connection: close; a client that sends nothing for the drain grace
//   (from the accept) gets end_idle() (tick).
// - Requests received and buffered behind the one in flight (pipelined): the response in
//   flight says Connection: close; the client sees a clean close after it and resends the
//   others (RFC 9112 §9.3.1).
// - Idle keep-alive: a client in the middle of a series of requests sends its next one
//   right after the last response, and it may be on the wire now. Closing at once would
//   race it: the request would meet a reset and fail. So the connection stays open for the
//   drain grace, counted from the end of its last response: its next request is answered
//   with Connection: close, and a connection still idle then gets end_idle(). A connection
//   already idle that long when the close begins gets end_idle() now, unless request bytes
//   already wait in its socket (that is a request, answered as above). What remains is a
//   client that sends a request exactly as a long-idle connection closes: the race every
//   HTTP server has with its keep-alive timeout, and end_idle() makes it a clean close.
// - Answered and lingering (write side shut down, waiting for the client's FIN): the
//   linger runs its course (kLingerMs), so bytes the client still sends are read, not
//   left to make close() send a reset.
void Connection::begin_graceful_close() {
  if (closing_) return;
  if (in_flight_ || phase_ == Phase::Body || phase_ == Phase::Head) return;
  if (phase_ != Phase::Idle || close_after_flush_ || no_more_requests_) return;  // on its way out
  if (!inbuf_.empty()) return;  // a request: answered
  if (output_pending()) return;  // the grace counts once the last response is out (tick)
  uint64_t grace = std::min<uint64_t>(server->limits.keep_alive_timeout_ms, kDrainGraceMs);
  if (uv_now(ld->loop) - phase_since_ >= grace) end_idle();
}

// A connection with no request to answer, while the server drains: nothing more is read
// as a request; our FIN goes out after anything queued, then the connection lingers for
// the client's FIN (kLingerMs at most), reading and discarding. A request that crossed
// our FIN meets a clean close the client can retry on, never a reset.
void Connection::end_idle() {
  if (closing_ || close_after_flush_) return;
  // Bytes that arrived since the loop last read (timers run before reading): a request,
  // read and answered next.
  if (!peer_eof_ && input_pending()) return;
  no_more_requests_ = true;
  close_after_flush_ = true;
  inbuf_.clear();
  phase_ = Phase::Flush;
  phase_since_ = uv_now(ld->loop);
  flush();  // queue empty: begin_shutdown() at once
}

// Bytes waiting in the socket's receive queue, not read yet.
bool Connection::input_pending() {
  uv_os_fd_t sock;
  int n = 0;
  if (uv_fileno(&h_.handle, &sock) != 0 || ioctl(sock, FIONREAD, &n) != 0) return false;
  return n > 0;
}

void Connection::tick(uint64_t now) {
  if (closing_) return;
  const ServerLimits& l = server->limits;
  // A large uv_write completes in one callback: libuv's own queue shows partial progress.
  if (write_req_ && h_.stream.write_queue_size != last_write_queue_size_) {
    last_write_queue_size_ = h_.stream.write_queue_size;
    last_write_progress_ = now;
  }
  const bool output_pending = this->output_pending();
  if (output_pending && now - last_write_progress_ >= l.write_timeout_ms) {
    close_now();  // the client stopped reading
    return;
  }
  uint64_t age = now - phase_since_;
  switch (phase_) {
    case Phase::Head:
      // While the server closes gracefully, a connection that has sent nothing yet gets the
      // drain grace for its first bytes rather than the whole header timeout: a request
      // racing the close is answered, a pre-opened idle connection does not hold a
      // reloading worker until its graceful timeout.
      if (!bytes_seen_ && server->closing && age >= std::min<uint64_t>(l.header_timeout_ms, kDrainGraceMs)) {
        end_idle();
      } else if (!bytes_seen_) {
        if (age >= l.first_byte_timeout_ms) close_now();  // sent nothing at all
      } else if (age >= l.header_timeout_ms) {
        fail(408);  // the head's deadline, counted from its first byte
        flush();
      }
      break;
    case Phase::Body:
      // Bytes every few seconds reset the pause clock but not the average: after the
      // grace, a body arriving slower than the minimum data rate gets 408 as well.
      if (age >= l.body_timeout_ms ||
          (now - body_since_ >= l.min_body_rate_grace_ms && body_below_rate(now))) {
        fail(408);
        flush();
      }
      break;
    case Phase::Idle:
      // Idle means nothing to do either way: while the last response is still being
      // written the write timeout is the bound, and the keep-alive clock starts after.
      if (output_pending) phase_since_ = now;
      else if (server->closing && age >= std::min<uint64_t>(l.keep_alive_timeout_ms, kDrainGraceMs)) end_idle();
      else if (age >= l.keep_alive_timeout_ms) close_now();
      break;
    case Phase::Linger:
      if (age >= kLingerMs) close_now();
      break;
    case Phase::Request:
    case Phase::Flush:  // bounded by the write timeout above
      break;
  }
}

}  // namespace tsgi
