// One client connection; see connection.h.
#include "connection.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sys/ioctl.h>
#include <unistd.h>

#include "errors.h"
#include "request_sink.h"
#include "listener.h"
#include "proxy/proxy_protocol.h"
#include "uwsgi/uwsgi_parser.h"
#include "server.h"
#include "spool.h"

namespace tsgi {

namespace {

constexpr uint64_t kHighWater = 128 * 1024;   // write() returns false above this
constexpr uint64_t kLowWater = 32 * 1024;     // onDrain below this
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

}  // namespace

Connection::Connection() {}

Connection::~Connection() {
  delete chunked_;
  delete shutdown_req_;
}

void Connection::reset() {
  open_handles_ = 0;
  poll_ = nullptr;
  poll_fd_ = -1;
  st_ = {};
  tls_on_ = tls_feeding_ = false;
  wait_list = nullptr;
  wait_next = wait_prev = nullptr;
  refused = false;
  inbuf_.clear();
  body_mem_.clear();
  spool_fd_ = -1;
  req_ = {};
  resp_ = {};
  out_.reset();
  next = prev = nullptr;
  proxy_pending_ = false;
  accept_allow_ = nullptr;
  proxy_entries_.clear();
  uwsgi_entries_.clear();
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
  protocol_ = l->options.protocol;
  uwsgi_buffer_size_ = l->options.uwsgi_buffer_size;
  proxy_pending_ = l->options.proxy_protocol;
  accept_allow_ = proxy_pending_ ? &l->options.proxy_allow : nullptr;
  int r = is_pipe_ ? uv_pipe_init(ld->loop, &h_.pipe, 0) : uv_tcp_init(ld->loop, &h_.tcp);
  if (r != 0) {
    ld->release_connection(this);
    return false;
  }
  h_.handle.data = this;
  transport_.attach(&h_.stream);
  if (l->tls) {
    // HTTPS: the queue writes through the TLS transport. A session OpenSSL could not
    // allocate fails its first read, which closes the connection.
    if (!tls_) tls_.reset(new tls::TlsTransport());
    tls_->start(&h_.stream, l->tls, this);
    tls_on_ = true;
    tls_handshake_timeout_ms_ = l->tls_handshake_timeout_ms;
  }
  out_.attach(active_transport(), this, ld->loop, &server->stats.bytes_sent);
  out_.use_spares(&ld->buffers);
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
  return !st_.closing;  // a peer that may not send the PROXY header is closed at once
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
      // The PROXY protocol is taken only from the allowed addresses.
      if (accept_allow_ && !cidr_match_peer(*accept_allow_, reinterpret_cast<const sockaddr*>(&ss))) {
        accept_allow_ = nullptr;
        close_now();
        return;
      }
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
  if (accept_allow_ && !is_pipe_ && remote_addr_len_ == 0) {
    close_now();  // the peer's address is unknown: it cannot be checked
    return;
  }
  accept_allow_ = nullptr;
  st_.phase_since = uv_now(ld->loop);
  accepted_at_ = st_.phase_since;
  out_.set_progress(st_.phase_since);
  wait_in(&server->pre_head);
  start_reading();
}

void Connection::refuse() {
  wait_in(nullptr);
  refused = true;
  if (tls_on_) {
    close_now();  // no 503 can be said before a handshake
    return;
  }
  st_.no_more_requests = true;
  st_.phase = Phase::Linger;
  const CannedResponse& r = canned_response(503);
  out_.stage().append(r.bytes, r.len);
  st_.close_after_flush = true;
  flush();
}

void Connection::evict() {
  if (st_.closing) return;
  refused = true;
  server->active_connections--;
  server->stats.evicted++;
  close_now();
}

bool Connection::evictable() const {
  return !st_.closing && !st_.in_flight && !out_.writing() && !out_.waiting_writable() && pending_output() == 0;
}

bool Connection::body_below_rate(uint64_t now) const {
  uint64_t rate = server->limits.min_body_rate;
  return rate > 0 && st_.phase == Phase::Body && req_.body_wire * 1000 < rate * (now - req_.body_since);
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
  if (st_.reading || st_.closing || st_.peer_eof) return;
  if (uv_read_start(&h_.stream, on_alloc, on_read) == 0) st_.reading = true;
}

void Connection::stop_reading() {
  if (!st_.reading) return;
  uv_read_stop(&h_.stream);
  st_.reading = false;
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
  if (!c->tls_on_) c->handle_input(buf->base, static_cast<size_t>(nread));
  else if (c->proxy_pending_) c->read_proxy_then_tls(buf->base, static_cast<size_t>(nread));
  else c->read_tls(buf->base, static_cast<size_t>(nread));
}

// ---- TLS ------------------------------------------------------------------------------

// Ciphertext from the socket: the handshake advances, decrypted bytes go through
// handle_input (tls_input), and everything they produced is flushed once at the end.
void Connection::read_tls(const char* data, size_t len) {
  bool was_done = tls_->handshake_done();
  tls_feeding_ = true;
  tls::TlsStatus st = tls_->feed(data, len);
  tls_feeding_ = false;
  if (st_.closing) return;
  // The handshake had its own deadline; the first request's starts now.
  if (!was_done && tls_->handshake_done() && st_.phase == Phase::Head && !st_.bytes_seen) st_.phase_since = uv_now(ld->loop);
  switch (st) {
    case tls::TlsStatus::Ok:
      flush();
      return;
    case tls::TlsStatus::PeerClosed:  // close_notify: the client sends nothing more
      flush();
      if (!st_.closing) on_peer_eof();
      return;
    case tls::TlsStatus::PlainHttp:
      // A client speaking plain HTTP to the TLS port: a 400 in clear, then close (as
      // nginx does). Nothing was sent in TLS yet.
      tls_->stop();
      tls_on_ = false;
      out_.attach(&transport_, this, ld->loop, &server->stats.bytes_sent);
      st_.bytes_seen = true;
      fail(400);
      flush();
      return;
    case tls::TlsStatus::HandshakeFailed:  // its alert is written already
    case tls::TlsStatus::Renegotiation:
    case tls::TlsStatus::Error:
      close_now();
      return;
  }
}

// PROXY protocol on a TLS listener: the header comes in clear before the handshake. A
// partial header waits in inbuf_ (empty until the first request).
void Connection::read_proxy_then_tls(const char* data, size_t len) {
  std::string joined;
  if (!inbuf_.empty()) {
    inbuf_.append(data, len);
    joined.assign(inbuf_.data(), inbuf_.size());
    inbuf_.clear();
    data = joined.data();
    len = joined.size();
  }
  size_t used = 0;
  if (!read_proxy_header(data, len, &used)) return;  // malformed: closed
  if (proxy_pending_) {
    inbuf_.append(data, len);
    return;
  }
  if (used < len) read_tls(data + used, len - used);
}

void Connection::tls_input(const char* data, size_t len) { handle_input(data, len); }

void Connection::tls_write_failed() { close_now(); }

void Connection::handle_input(const char* data, size_t len) {
  if (st_.closing || st_.phase == Phase::Linger || st_.no_more_requests) return;  // discarded
  bool from_inbuf = false;
  if (!inbuf_.empty() || st_.in_flight) {
    ld->buffers.take(inbuf_);
    inbuf_.append(data, len);
    data = inbuf_.data();
    len = inbuf_.size();
    from_inbuf = true;
  }
  if (st_.in_flight || st_.output_paused) {
    if (inbuf_.size() > kMaxBuffered || st_.output_paused) stop_reading();
    return;
  }
  st_.corked = true;
  RequestSink* sink = server->sink;
  sink->batch_begin();
  size_t used = process(data, len);
  st_.corked = false;
  if (!st_.closing && !st_.no_more_requests) {
    if (from_inbuf) {
      inbuf_.consume_front(used);
    } else if (used < len) {
      ld->buffers.take(inbuf_);
      inbuf_.append(data + used, len - used);
    }
    if ((st_.in_flight && inbuf_.size() > kMaxBuffered) || st_.output_paused) stop_reading();
  } else {
    inbuf_.clear();
  }
  sink->batch_end();  // may answer the request in flight (a resolved promise): see finish_response
  if (!tls_feeding_) flush();  // read_tls flushes once for the whole read
}

void Connection::resume() {
  if (st_.closing || st_.in_flight) return;
  bool paused = false;
  if (!st_.no_more_requests && !inbuf_.empty()) {
    st_.corked = true;
    RequestSink* sink = server->sink;
    sink->batch_begin();
    size_t used = process(inbuf_.data(), inbuf_.size());
    st_.corked = false;
    paused = st_.output_paused;
    if (st_.closing || st_.no_more_requests) inbuf_.clear();
    else inbuf_.consume_front(used);
    sink->batch_end();
    flush();
  }
  // Paused for output: requests are still buffered, and check_output_resume() comes back
  // here once the queue drained (already on its way when flush() just wrote it all).
  if (st_.closing || paused || st_.output_paused) return;
  if (st_.peer_eof) {
    if (!st_.in_flight) input_ended();
    return;
  }
  if (!st_.no_more_requests && (!st_.in_flight || inbuf_.size() <= kMaxBuffered)) start_reading();
}

// The output queue drained below the resume mark: requests buffered meanwhile are
// dispatched (in order) and reading starts again, on the next loop turn.
void Connection::check_output_resume() {
  if (!st_.output_paused || st_.closing || pending_output() > kOutputResumeBelow) return;
  st_.output_paused = false;
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
  if (st_.closing) return;
  st_.peer_eof = true;
  stop_reading();  // libuv stopped at EOF already; keep st_.reading in step
  if (st_.shutdown_started) {
    close_now();  // lingering after our last response: this FIN is what it waited for
    return;
  }
  if (!st_.in_flight) resume();  // else finish_response() resumes, and resume() ends the input
  if (!st_.closing) watch_for_reset();
}

// A half-closed connection is no longer read, so a reset from the client would only be
// seen by a failing write. After the client's FIN nothing more can arrive, so the poll
// watches for out-of-band data only: epoll reports an error or hang-up regardless, and
// on_poll closes the connection then (onAbort for a request in flight).
void Connection::watch_for_reset() {
  if (st_.closing || out_.waiting_writable()) return;  // on_poll re-arms the watch after writability
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
  if (st_.closing || st_.in_flight || st_.close_after_flush) return;
  if (!st_.no_more_requests && st_.phase == Phase::Body) {
    fail(400);
    return;
  }
  inbuf_.clear();
  wait_in(nullptr);
  st_.no_more_requests = true;
  st_.close_after_flush = true;
  st_.phase = Phase::Flush;
  st_.phase_since = uv_now(ld->loop);
  flush();  // closes once the queued responses are out (at once when nothing is queued)
}

// The parse loop: head → body → dispatch, as long as JS answers synchronously.
size_t Connection::process(const char* data, size_t len) {
  size_t pos = 0;
  while (!st_.closing && !st_.no_more_requests && !st_.in_flight) {
    if (st_.phase == Phase::Idle || st_.phase == Phase::Head) {
      if (pos == len) break;
      // A client that sends requests without reading the responses: nothing more is
      // dispatched, nor read, until the queued output drains (check_output_resume).
      if (pending_output() > kOutputPauseAbove) {
        st_.output_paused = true;
        break;
      }
      if (proxy_pending_) {
        // The PROXY header comes before the first request, within the first-byte timeout
        // from the accept (st_.bytes_seen stays false until a request byte).
        size_t used = 0;
        if (!read_proxy_header(data + pos, len - pos, &used)) return pos;
        if (used == 0) break;
        pos += used;
        continue;
      }
      if (st_.phase == Phase::Idle || !st_.bytes_seen) {
        // The head deadline counts from the first byte, and does not restart after it.
        st_.phase_since = uv_now(ld->loop);
        st_.phase = Phase::Head;
        st_.bytes_seen = true;
      }
      size_t used = 0;
      UwsgiRequest* uw = nullptr;
      RequestHead http_head;
      if (protocol_ == ListenProtocol::Uwsgi) {
        uw = &uwsgi_req_;
        uw->head.headers = ld->headers;
        uw->head.header_capacity = kMaxHeadersCap;
        UwsgiLimits lim;
        lim.buffer_size = uwsgi_buffer_size_;
        lim.max_headers = server->limits.parse.max_headers;
        UwsgiStatus st = parse_uwsgi_packet(data + pos, len - pos, lim, uw, &used);
        if (st == UwsgiStatus::Incomplete) break;
        if (st == UwsgiStatus::Error) {
          fail(uw->head.error_status ? uw->head.error_status : 400);
          break;
        }
      } else {
        http_head.headers = ld->headers;
        http_head.header_capacity = kMaxHeadersCap;
        ParseStatus st = parse_request_head(data + pos, len - pos, server->limits.parse, &http_head, &used);
        if (st == ParseStatus::Partial) break;
        if (st == ParseStatus::Error) {
          fail(http_head.error_status ? http_head.error_status : 400);
          break;
        }
      }
      const RequestHead& head = uw ? uw->head : http_head;
      pos += used;
      req_ = {};
      req_.minor = head.version_minor;
      req_.keep_alive = head.keep_alive;
      req_.head_method = is_head_method(head);
      req_.body_kind = head.body_kind;
      req_.body_remaining = head.body_kind == BodyKind::Length ? head.content_length : 0;
      // The head's spans point into data: recorded before anything moves.
      if (uw) {
        // nginx reads a uwsgi response to its Content-Length or to the close and sends
        // one request per connection: framed as for HTTP/1.0 (a streamed body of unknown
        // length ends with the close), with Connection: close.
        req_.minor = 0;
        req_.keep_alive = false;
        uwsgi_entries_.clear();
        uwsgi_environ_entries(*uw, &uwsgi_entries_);
        RecordContext ctx = record_context();
        ctx.request_overrides = &uwsgi_entries_;
        build_uwsgi_request_record(*uw, ctx, &req_text_, &req_rec_);
      } else {
        build_record(head);
      }
      if (req_.body_kind == BodyKind::Length && head.content_length > server->limits.max_body_size) {
        fail(413);
        break;
      }
      if (req_.body_kind == BodyKind::None || (req_.body_kind == BodyKind::Length && req_.body_remaining == 0)) {
        req_.body_kind = BodyKind::None;
        dispatch();
        continue;
      }
      wait_in(&server->in_body);
      if (req_.body_kind == BodyKind::Chunked) {
        if (!chunked_) chunked_ = new ChunkedBody();
        chunked_->trailers.text.clear();
        chunked_->decoder = ChunkedDecoder(ChunkedLimits{}, &chunked_->trailers);
      }
      if (req_.body_kind == BodyKind::Length && req_.body_remaining > server->limits.body_memory_size) {
        int fd = spool_open(server->limits.spool_dir);
        if (fd < 0) {
          fail(500);
          break;
        }
        spool_fd_ = fd;
      }
      // 100 Continue: the body is wanted and the client is waiting for the word.
      if (head.expect_continue && pos == len) out_.stage().append(kContinueResponse, sizeof kContinueResponse - 1);
      st_.phase = Phase::Body;
      st_.phase_since = uv_now(ld->loop);
      req_.body_since = st_.phase_since;
      req_.body_wire = 0;
    }
    if (st_.phase == Phase::Body) {
      if (pos == len) break;
      st_.phase_since = uv_now(ld->loop);
      if (req_.body_kind == BodyKind::Length) {
        size_t take = len - pos;
        if (take > req_.body_remaining) take = static_cast<size_t>(req_.body_remaining);
        if (!store_body(data + pos, take)) break;
        pos += take;
        req_.body_wire += take;
        req_.body_remaining -= take;
        if (req_.body_remaining > 0) break;
        dispatch();
        continue;
      }
      bool done = false;
      while (pos < len) {
        size_t used = 0;
        Span out;
        ChunkStatus st = chunked_->decoder.feed(data + pos, len - pos, &used, &out);
        pos += used;
        req_.body_wire += used;
        if (st == ChunkStatus::Data) {
          if (req_.body_received + out.len > server->limits.max_body_size) {
            fail(413);
            return pos;
          }
          if (!store_body(out.data, out.len)) return pos;
        } else if (st == ChunkStatus::Done) {
          // The trailer fields end the head string, from rec[kRecTrailersStart].
          req_text_.append(chunked_->trailers.text.data(), chunked_->trailers.text.size());
          chunked_->trailers.text.clear();
          done = true;
          break;
        } else if (st == ChunkStatus::Error) {
          fail(chunked_->decoder.error_status() ? chunked_->decoder.error_status() : 400);
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

bool Connection::store_body(const char* p, size_t n) {
  if (n == 0) return true;
  req_.body_received += n;
  if (spool_fd_ < 0 && body_mem_.size() + n > server->limits.body_memory_size) {
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
    ld->buffers.take(body_mem_);
    body_mem_.append(p, n);
  }
  return true;
}

// What the record says beside the head: the peer (or the PROXY header's client), the
// listener, TLS, the PROXY header's environ entries.
RecordContext Connection::record_context() const {
  RecordContext ctx;
  ctx.remote_addr = remote_addr_;
  ctx.remote_addr_len = remote_addr_len_;
  ctx.remote_port = remote_port_;
  ctx.local_port = local_port_;
  ctx.listener = listener_index_;
  ctx.tls = tls_on_;
  if (!proxy_entries_.empty()) ctx.connection_overrides = &proxy_entries_;
  return ctx;
}

// The head string and record for the request (request_record.h).
void Connection::build_record(const RequestHead& h) {
  RecordContext ctx = record_context();
  ld->buffers.take(req_text_);
  ld->records.take(req_rec_);
  build_request_record(h, ctx, &req_text_, &req_rec_);
}

bool Connection::read_proxy_header(const char* data, size_t len, size_t* used) {
  *used = 0;
  ProxyHeader ph;
  ProxyStatus st = parse_proxy_header(data, len, ProxyLimits{}, &ph, used);
  if (st == ProxyStatus::Incomplete) return true;
  if (st == ProxyStatus::Error) {
    // Nothing is answered: the bytes are not a request, and the peer is a proxy that
    // sent something else than it was configured to.
    close_now();
    return false;
  }
  if (ph.has_addresses()) {
    remote_addr_len_ = format_proxy_address(ph, true, remote_addr_, sizeof remote_addr_);
    // An IPv4 client given as an IPv4-mapped IPv6 address reads as IPv4, as on a socket.
    if (std::strncmp(remote_addr_, "::ffff:", 7) == 0 && std::strchr(remote_addr_ + 7, '.')) {
      std::memmove(remote_addr_, remote_addr_ + 7, std::strlen(remote_addr_ + 7) + 1);
      remote_addr_len_ = std::strlen(remote_addr_);
    }
    remote_port_ = ph.src_port;
  }
  proxy_entries_.clear();
  proxy_environ_entries(ph, &proxy_entries_);
  proxy_pending_ = false;
  st_.phase_since = uv_now(ld->loop);  // the first request byte gets its own window
  return true;
}

void Connection::dispatch() {
  wait_in(nullptr);
  st_.phase = Phase::Request;
  st_.in_flight = true;
  resp_ = {};
  if (!server->limits.health_path.empty() && is_health_check()) return answer_health();
  server->stats.requests++;
  DispatchedRequest r;
  r.record = req_rec_.data();
  r.record_ints = record_ints(req_rec_);
  r.text = req_text_.data();
  r.text_len = req_text_.size();
  r.body_bytes = req_.body_received;
  if (spool_fd_ >= 0) {
    spool_rewind(spool_fd_);
    r.body_fd = spool_fd_;
    spool_fd_ = -1;  // the sink owns it now
  } else if (!body_mem_.empty()) {
    r.body = body_mem_.data();
    r.body_len = body_mem_.size();
  }
  st_.in_dispatch = true;
  server->sink->request(this, r);
  st_.in_dispatch = false;
  body_mem_.clear();
  body_mem_.shrink_if_over(1 << 20);
}

bool Connection::is_health_check() const {
  const std::string& want = server->limits.health_path;
  size_t start = static_cast<size_t>(req_rec_[kRecTargetEnd]);
  size_t end = static_cast<size_t>(req_rec_[kRecPathEnd]);
  return end - start == want.size() && std::memcmp(req_text_.data() + start, want.data(), want.size()) == 0;
}

// A load balancer's or Kubernetes probe's view of this worker, without the application:
// 200 while serving, 503 and the connection closed once it drains for a stop or reload.
// Not counted as a request, never seen by the application, the access log or the stats.
void Connection::answer_health() {
  static const char kOkHead[] = "200 OK\r\nContent-Type: text/plain\r\nCache-Control: no-store\r\n";
  static const char kDrainingHead[] =
      "503 Service Unavailable\r\nContent-Type: text/plain\r\nCache-Control: no-store\r\nRetry-After: 1\r\n";
  if (spool_fd_ >= 0) {
    ::close(spool_fd_);
    spool_fd_ = -1;
  }
  body_mem_.clear();
  bool draining = server->closing;
  Bytes head;
  Bytes body;
  head.data = draining ? kDrainingHead : kOkHead;
  head.len = draining ? sizeof(kDrainingHead) - 1 : sizeof(kOkHead) - 1;
  body.data = draining ? "draining\n" : "OK\n";
  body.len = draining ? 9 : 3;
  respond(draining ? 503 : 200, head, &body, 1, -1, draining ? kRespClose : 0);
}

void Connection::fail(uint16_t status) {
  if (spool_fd_ >= 0) {
    ::close(spool_fd_);
    spool_fd_ = -1;
  }
  body_mem_.clear();
  wait_in(nullptr);
  st_.no_more_requests = true;
  st_.phase = Phase::Linger;
  st_.phase_since = uv_now(ld->loop);
  const CannedResponse& r = canned_response(status);
  out_.stage().append(r.bytes, r.len);
  st_.close_after_flush = true;
  maybe_flush();
}

// ---- responses ------------------------------------------------------------------------

// The body rule, once: of len bytes offered, how many go out. None for HEAD, 1xx/204/304
// or after a short file; never more than the declared Content-Length left (*clamped
// says that cut the offer).
int64_t Connection::body_allowance(int64_t len, bool* clamped) {
  *clamped = false;
  if (resp_.no_body || resp_.short_file || len <= 0) return 0;
  int64_t take = len;
  if (resp_.remaining >= 0) {
    if (take > resp_.remaining) {
      take = resp_.remaining;
      *clamped = true;
    }
    resp_.remaining -= take;
  }
  return take;
}

// Chunk framing around take bytes of a streamed body, when the response is chunked.
void Connection::chunk_open(int64_t take) {
  if (resp_.chunked) append_chunk_header(out_.stage(), static_cast<uint64_t>(take));
}

void Connection::chunk_close() {
  if (resp_.chunked) append_chunk_end(out_.stage());
}

void Connection::queue_body(const Bytes& b, int64_t take) {
  if (take <= 0) return;
  chunk_open(take);
  out_.push(b, static_cast<size_t>(take));
  chunk_close();
}

// The head and the server's headers into the stage; what the response may carry
// (resp_): the one place that decides a body's absence, its framing and keep-alive.
int Connection::start_response(int status, const Bytes& head, int64_t content_length, int32_t flags,
                               bool streamed, int64_t body_length) {
  ByteBuffer& st = out_.stage();
  append_status_prefix(st);
  Bytes h = head;
  h.hold = nullptr;  // always copied: the server's headers follow it in the stage
  out_.push(h, h.len);
  const bool forbids_body = status_forbids_body(status);
  resp_.no_body = req_.head_method || forbids_body;
  uint32_t max_ka = server->limits.max_keep_alive_requests;
  // After the client's FIN with nothing more buffered, this response is the last one.
  bool keep = req_.keep_alive && !(flags & kRespClose) && !server->closing && !st_.no_more_requests &&
              (max_ka == 0 || st_.served + 1 < max_ka) && !(st_.peer_eof && inbuf_.empty());
  HeadFraming f;
  if (!(flags & kRespHasDate)) {
    f.date_line = ld->date.line();
    f.date_line_len = ld->date.line_len();
  }
  resp_.chunked = false;
  resp_.remaining = -1;
  int result = kResultOk;
  if (content_length >= 0) {
    resp_.remaining = resp_.no_body ? 0 : content_length;
    // The server measured it (a file's size): its header, as for a body given whole.
    if ((flags & kRespSetLength) && !forbids_body) f.content_length = content_length;
    if (!streamed && !resp_.no_body) {
      if (body_length < content_length) {
        result = kResultShort;
        keep = false;
      } else if (body_length > content_length) {
        result = kResultTruncated;
      }
    }
  } else if (streamed) {
    if (!resp_.no_body) {
      if (req_.minor >= 1) resp_.chunked = true;
      else keep = false;  // close-delimited
    }
  } else if (!forbids_body) {
    if (!req_.head_method || body_length > 0) f.content_length = body_length;
  }
  f.chunked = resp_.chunked;
  f.connection = !keep ? ConnectionToken::Close
                       : (req_.minor == 0 ? ConnectionToken::KeepAlive : ConnectionToken::None);
  resp_.keep_alive = keep;
  append_head_end(st, f);
  return result;
}

int Connection::respond(int status, const Bytes& head, const Bytes* parts, size_t count,
                        int64_t content_length, int32_t flags) {
  if (st_.closing || !st_.in_flight || resp_.started) return kResultGone;
  // Content-Length goes in the head: the total of the parts.
  int64_t total = 0;
  for (size_t i = 0; i < count; i++) total += static_cast<int64_t>(parts[i].len);
  int result = start_response(status, head, content_length, flags, false, total);
  bool clamped;
  for (size_t i = 0; i < count; i++) {
    int64_t take = body_allowance(static_cast<int64_t>(parts[i].len), &clamped);
    if (take > 0) out_.push(parts[i], static_cast<size_t>(take));
  }
  finish_response();
  return result;
}

int Connection::write_head(int status, const Bytes& head, int64_t content_length, int32_t flags) {
  if (st_.closing || !st_.in_flight || resp_.started) return kResultGone;
  int r = start_response(status, head, content_length, flags, true, 0);
  resp_.started = true;
  return r;
}

int Connection::write(const Bytes& chunk) {
  if (st_.closing || !st_.in_flight || !resp_.started) return -1;
  bool clamped;
  queue_body(chunk, body_allowance(static_cast<int64_t>(chunk.len), &clamped));
  maybe_flush();
  if (st_.closing) return -1;
  out_.sync();
  if (out_.queued() > kHighWater) {
    st_.need_drain = true;
    return 0;
  }
  return 1;
}

int Connection::end(const Bytes& chunk) {
  if (st_.closing || !st_.in_flight || !resp_.started) return kResultGone;
  if (resp_.short_file) {
    // A sendFile of this response ended early: the response cannot be completed and
    // nothing more of it is sent; the connection closes.
    resp_.keep_alive = false;
    finish_response();
    return kResultShort;
  }
  int result = kResultOk;
  bool clamped;
  queue_body(chunk, body_allowance(static_cast<int64_t>(chunk.len), &clamped));
  if (clamped) result = kResultTruncated;
  if (resp_.chunked) append_last_chunk(out_.stage());
  if (resp_.remaining > 0) {
    result = kResultShort;
    resp_.keep_alive = false;
  }
  finish_response();
  return result;
}

int Connection::send_file(int fd, int64_t offset, int64_t length) {
  if (st_.closing || !st_.in_flight || !resp_.started) return kResultGone;
  bool clamped;
  int64_t take = body_allowance(length, &clamped);
  if (take > 0) {
    chunk_open(take);
    out_.push_file(fd, offset, static_cast<size_t>(take), st_.served);
    chunk_close();
  } else {
    // Nothing to send (HEAD, a status without a body, length 0, after a short file):
    // "done" right away, on the next loop turn.
    ld->defer(DeferredKind::Drain, id);
  }
  maybe_flush();
  return clamped ? kResultTruncated : kResultOk;
}

void Connection::abort() {
  if (st_.closing) return;
  st_.aborted_by_js = true;
  close_now();
}

void Connection::cut() {
  if (st_.closing || !st_.in_flight || !resp_.started) return abort();
  resp_.keep_alive = false;
  finish_response();
}

void Connection::finish_response() {
  const bool keep_alive = resp_.keep_alive;
  st_.in_flight = false;
  resp_ = {};
  st_.need_drain = false;  // an onDrain now would be taken for the next request's
  st_.served++;
  if (!keep_alive) {
    st_.no_more_requests = true;
    st_.close_after_flush = true;
  } else {
    st_.phase = Phase::Idle;
    st_.phase_since = uv_now(ld->loop);
    st_.bytes_seen = false;
    wait_in(&server->pre_head);
  }
  if (st_.in_dispatch || st_.corked) return;  // the parse loop goes on and flushes
  flush();
  if (st_.closing || st_.no_more_requests) return;
  if (!inbuf_.empty() || st_.peer_eof) ld->defer(DeferredKind::Resume, id);
  else start_reading();
}

// ---- output ---------------------------------------------------------------------------

void Connection::flush() {
  if (st_.closing) return;
  if (out_.flush() != OutputQueue::FlushResult::Empty) return;
  queue_emptied();
  check_output_resume();  // written at once: no write completion to resume from
  give_back_idle_memory();
}

void Connection::give_back_idle_memory() {
  if (st_.closing || st_.in_flight || !inbuf_.empty()) return;
  if (st_.phase != Phase::Idle && st_.phase != Phase::Linger) return;
  if (out_.has_output()) return;
  give_back_request_buffers();
  out_.give_back_memory();
}

// The head text, record, body and partial input go back to the loop's spare pool; the
// chunked decoder is freed.
void Connection::give_back_request_buffers() {
  ld->buffers.give(req_text_);
  ld->records.give(req_rec_);
  ld->buffers.give(body_mem_);
  ld->buffers.give(inbuf_);
  delete chunked_;
  chunked_ = nullptr;
}

void Connection::output_failed() { close_now(); }

void Connection::output_write_failed() { close_now(); }

void Connection::output_write_done() {
  if (st_.closing) return;
  flush();
  if (!st_.closing) check_drain();
  if (!st_.closing) check_output_resume();
}

// A file piece is over. Sent: "onDrain when done", never from inside the JS call that
// queued it. Ended early: below.
bool Connection::output_file_done(bool ended_early, uint32_t tag) {
  if (!ended_early) {
    drain_soon();
    return !st_.closing;
  }
  // The file at the queue's head ended before the length given to sendFile (it is
  // shorter than it was said to be, or was truncated meanwhile). The response cannot be
  // completed: nothing queued after the file is sent (its framing would be wrong) and the
  // connection closes, never waits for bytes that will not come. When the file belongs to
  // the response in flight, this is reported as for a body shorter than its
  // Content-Length: onDrain still comes (the sendFile is over), end() returns
  // RESULT_SHORT and the connection closes after it. Otherwise (the response already
  // ended) the connection closes now; a later request in flight gets onAbort.
  bool current = st_.in_flight && resp_.started && tag == st_.served;
  out_.drop();  // a File piece is only sent with no write in progress: nothing stays queued
  st_.no_more_requests = true;
  inbuf_.clear();
  if (!current) {
    close_now();
    return false;
  }
  resp_.short_file = true;
  drain_soon();
  return !st_.closing;
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

// The socket is full while a file is sent: flush() again once it is writable.
bool Connection::output_wait_writable() {
  uv_os_fd_t sock;
  if (uv_fileno(&h_.handle, &sock) != 0) {
    close_now();
    return false;
  }
  if (!ensure_poll(sock)) return false;
  uv_poll_start(poll_, UV_WRITABLE, on_poll);
  return true;
}

void Connection::on_poll(uv_poll_t* p, int status, int events) {
  Connection* c = static_cast<Connection*>(p->data);
  if (c->st_.closing) return;
  if (status < 0) {
    c->close_now();
    return;
  }
  if (c->out_.waiting_writable()) {
    if (!(events & UV_WRITABLE)) return;
    c->out_.writable();
    uv_poll_stop(p);
    c->flush();
    if (!c->st_.closing) c->check_output_resume();
    if (!c->st_.closing && c->st_.peer_eof && !c->out_.waiting_writable()) c->watch_for_reset();
    return;
  }
  // Watching a half-closed connection (watch_for_reset): an error or hang-up.
  c->close_now();
}

void Connection::queue_emptied() {
  if (st_.close_after_flush) {
    begin_shutdown();
    return;
  }
  check_drain();
}

void Connection::check_drain() {
  if (!st_.need_drain || pending_output() > kLowWater) return;
  st_.need_drain = false;
  drain_soon();
}

void Connection::drain_soon() {
  if (ld->js_depth > 0 || st_.in_dispatch) ld->defer(DeferredKind::Drain, id);
  else emit_drain();
}

void Connection::emit_drain() {
  if (st_.closing || ld->tearing_down) return;
  server->sink->drain(this);
}

void Connection::begin_shutdown() {
  if (st_.shutdown_started || st_.closing) return;
  if (st_.peer_eof) {
    // The client's FIN was read, so nothing unread is left to make close() send a reset:
    // closing sends our FIN after the queued bytes, and there is nothing to linger for.
    close_now();
    return;
  }
  st_.shutdown_started = true;
  st_.phase = Phase::Linger;
  st_.phase_since = uv_now(ld->loop);
  if (tls_on_) tls_->close_notify();  // written before the FIN (libuv shuts down after pending writes)
  shutdown_req_ = new uv_shutdown_t;
  shutdown_req_->data = this;
  if (uv_shutdown(shutdown_req_, &h_.stream, on_shutdown) != 0) {
    delete shutdown_req_;
    shutdown_req_ = nullptr;
    close_now();
    return;
  }
  start_reading();  // to see the client's FIN
}

void Connection::on_shutdown(uv_shutdown_t* req, int status) {
  Connection* c = static_cast<Connection*>(req->data);
  // Called before the handle's close callback, even when the close cancelled it.
  c->shutdown_req_ = nullptr;
  delete req;
  if (status < 0) c->close_now();
}

// ---- closing --------------------------------------------------------------------------

void Connection::close_now() {
  if (st_.closing) return;
  st_.closing = true;
  wait_in(nullptr);
  stop_reading();
  if (tls_on_) tls_->stop();
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
  if (c->st_.in_flight && !c->st_.aborted_by_js && !ld->tearing_down) {
    c->st_.in_flight = false;
    c->server->sink->aborted(c);
  }
  c->st_.in_flight = false;
  ld->handle_closed();
  if (--c->open_handles_ == 0) c->release_pieces();
}

// The last handle closed: free what the connection holds and return it to the pool.
void Connection::release_pieces() {
  out_.release_memory();
  if (tls_) tls_->release_session();
  give_back_request_buffers();
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
  if (st_.closing) return;
  if (st_.in_flight || st_.phase == Phase::Body || st_.phase == Phase::Head) return;
  if (st_.phase != Phase::Idle || st_.close_after_flush || st_.no_more_requests) return;  // on its way out
  if (!inbuf_.empty()) return;  // a request: answered
  if (output_pending()) return;  // the grace counts once the last response is out (tick)
  uint64_t grace = std::min<uint64_t>(server->limits.keep_alive_timeout_ms, kDrainGraceMs);
  if (uv_now(ld->loop) - st_.phase_since >= grace) end_idle();
}

// A connection with no request to answer, while the server drains: nothing more is read
// as a request; our FIN goes out after anything queued, then the connection lingers for
// the client's FIN (kLingerMs at most), reading and discarding. A request that crossed
// our FIN meets a clean close the client can retry on, never a reset.
void Connection::end_idle() {
  if (st_.closing || st_.close_after_flush) return;
  // Bytes that arrived since the loop last read (timers run before reading): a request,
  // read and answered next.
  if (!st_.peer_eof && input_pending()) return;
  st_.no_more_requests = true;
  st_.close_after_flush = true;
  inbuf_.clear();
  st_.phase = Phase::Flush;
  st_.phase_since = uv_now(ld->loop);
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
  if (st_.closing) return;
  const ServerLimits& l = server->limits;
  // A large uv_write completes in one callback: libuv's own queue shows partial progress.
  Transport* t = active_transport();
  if (out_.writing() && t->write_queue_size() != last_write_queue_size_) {
    last_write_queue_size_ = t->write_queue_size();
    out_.set_progress(now);
  }
  const bool output_pending = this->output_pending();
  if (output_pending && now - out_.last_progress() >= l.write_timeout_ms) {
    close_now();  // the client stopped reading
    return;
  }
  // TLS: the handshake has its own deadline from the accept (the first-byte timeout
  // counts from its end).
  const bool handshaking = tls_on_ && !tls_->handshake_done();
  if (handshaking && now - accepted_at_ >= tls_handshake_timeout_ms_) {
    close_now();
    return;
  }
  uint64_t age = now - st_.phase_since;
  switch (st_.phase) {
    case Phase::Head:
      // While the server closes gracefully, a connection that has sent nothing yet gets the
      // drain grace for its first bytes rather than the whole header timeout: a request
      // racing the close is answered, a pre-opened idle connection does not hold a
      // reloading worker until its graceful timeout.
      if (!st_.bytes_seen && server->closing && age >= std::min<uint64_t>(l.header_timeout_ms, kDrainGraceMs)) {
        end_idle();
      } else if (!st_.bytes_seen) {
        if (!handshaking && age >= l.first_byte_timeout_ms) close_now();  // sent nothing at all
      } else if (age >= l.header_timeout_ms) {
        fail(408);  // the head's deadline, counted from its first byte
        flush();
      }
      break;
    case Phase::Body:
      // Bytes every few seconds reset the pause clock but not the average: after the
      // grace, a body arriving slower than the minimum data rate gets 408 as well.
      if (age >= l.body_timeout_ms ||
          (now - req_.body_since >= l.min_body_rate_grace_ms && body_below_rate(now))) {
        fail(408);
        flush();
      }
      break;
    case Phase::Idle:
      // Idle means nothing to do either way: while the last response is still being
      // written the write timeout is the bound, and the keep-alive clock starts after.
      // An idle TLS connection holds no record buffers (allocated again by the next
      // request; at most once a tick, not around every record).
      if (tls_on_ && !output_pending) tls_->release_idle_buffers();
      if (output_pending) st_.phase_since = now;
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
