// One client connection, the state machine (see connection.h): accepting, reading and
// the parse loop, bodies, dispatch, the step back to idle, the busy state lent while
// busy, closing. The response methods are in connection_response.cc, the output side in
// connection_output.cc, the clocks and graceful close in connection_timeouts.cc.
#include "connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "errors.h"
#include "health_check.h"
#include "listener.h"
#include "proxy/proxy_front_end.h"
#include "request_sink.h"
#include "server.h"
#include "spool.h"
#include "uwsgi/uwsgi_front_end.h"

namespace tsgi {

// An idle keep-alive connection is this object and nothing else: its libuv handle plus
// about 220 bytes (see connection_busy.h for what is lent only while busy).
static_assert(sizeof(Connection) <= sizeof(uv_pipe_t) + 240, "per-request state belongs in BusyState");

Connection::Connection() {}

Connection::~Connection() {
  delete busy_;
  delete shutdown_req_;
}

void Connection::reset() {
  open_handles_ = 0;
  poll_ = nullptr;
  poll_fd_ = -1;
  st_ = {};
  served_ = 0;
  tls_on_ = tls_feeding_ = false;
  wait_list_ = 0;
  wait_next = wait_prev = nullptr;
  refused = false;
  next = prev = nullptr;
  proxy_pending_ = false;
  proxy_entries_.reset();
}

// ---- the busy state --------------------------------------------------------------------

// A request or output begins: the state for it comes from the loop's pool, set up for
// this connection's transport.
void Connection::take_busy() {
  BusyState* b = ld->busy.take();
  busy_ = b;
  b->req = {};
  b->resp = {};
  b->spool_fd = -1;
  b->last_write_queue_size = 0;
  b->transport.attach(&h_.stream, !st_.copy_files);
  b->out.reset();
  b->out.attach(active_transport(), this, ld->loop, &server->stats.bytes_sent);
  b->out.use_spares(&ld->buffers);
}

// Idle with nothing to write (or closed): the head text, record, body and the output
// queue's memory go back to the loop's spare pools, the chunked decoder is freed, and
// the state itself goes back to the loop's pool.
void Connection::give_back_busy() {
  BusyState* b = busy_;
  if (!b) return;
  busy_ = nullptr;
  ld->buffers.give(b->text);
  ld->records.give(b->rec);
  ld->buffers.give(b->body_mem);
  ld->buffers.give(b->inbuf);
  delete b->chunked;
  b->chunked = nullptr;
  b->out.give_back_memory();
  ld->busy.give(b);
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
  int r = is_pipe_ ? uv_pipe_init(ld->loop, &h_.pipe, 0) : uv_tcp_init(ld->loop, &h_.tcp);
  if (r != 0) {
    ld->release_connection(this);
    return false;
  }
  h_.handle.data = this;
  if (l->tls) {
    // HTTPS: the queue writes through the TLS transport. A session OpenSSL could not
    // allocate fails its first read, which closes the connection.
    if (!tls_) tls_.reset(new tls::TlsTransport());
    tls_->start(&h_.stream, l->tls, this);
    tls_on_ = true;
    tls_->handshake_deadline = uv_now(ld->loop) + l->tls_handshake_timeout_ms;
  }
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
  accepted(proxy_pending_ ? &l->options.proxy_allow : nullptr);
  return !st_.closing;  // a peer that may not send the PROXY header is closed at once
}

// The socket is open: the peer's address, the clocks, and reading.
void Connection::accepted(const std::vector<CidrRange>* allow) {
  peer_.clear();
  const SendfileUse sendfile = server->limits.sendfile;
  st_.copy_files = sendfile == SendfileUse::Never;
  if (!is_pipe_) {
    uv_tcp_nodelay(&h_.tcp, 1);
    sockaddr_storage ss;
    int len = sizeof ss;
    if (uv_tcp_getpeername(&h_.tcp, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
      // The PROXY protocol is taken only from the allowed addresses.
      if (allow && !cidr_match_peer(*allow, reinterpret_cast<const sockaddr*>(&ss))) {
        close_now();
        return;
      }
      if (sendfile == SendfileUse::Auto && is_loopback_peer(reinterpret_cast<const sockaddr*>(&ss))) st_.copy_files = true;
      if (ss.ss_family == AF_INET) {
        const sockaddr_in* a = reinterpret_cast<const sockaddr_in*>(&ss);
        uv_ip4_name(a, peer_.text, sizeof peer_.text);
        peer_.port = ntohs(a->sin_port);
      } else if (ss.ss_family == AF_INET6) {
        const sockaddr_in6* a = reinterpret_cast<const sockaddr_in6*>(&ss);
        uv_ip6_name(a, peer_.text, sizeof peer_.text);  // an IPv4 client of a dual-stack listener: see text_written
        peer_.port = ntohs(a->sin6_port);
      }
      peer_.text_written();
    }
  }
  if (allow && !is_pipe_ && peer_.len == 0) {
    close_now();  // the peer's address is unknown: it cannot be checked
    return;
  }
  st_.phase_since = uv_now(ld->loop);
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
  busy().out.stage().append(r.bytes, r.len);
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
  if (st_.closing || st_.in_flight) return false;
  return !busy_ || (!busy_->out.writing() && !busy_->out.waiting_writable() && busy_->out.pending() == 0);
}

void Connection::wait_in(ConnList* list) {
  ConnList* now = wait_list_ == 1 ? &server->pre_head : wait_list_ == 2 ? &server->in_body : nullptr;
  if (now == list) return;
  if (now) {
    if (wait_prev) wait_prev->wait_next = wait_next;
    else now->head = wait_next;
    if (wait_next) wait_next->wait_prev = wait_prev;
    else now->tail = wait_prev;
    wait_next = wait_prev = nullptr;
  }
  wait_list_ = !list ? 0 : list == &server->pre_head ? 1 : 2;
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

// libuv's read(2) is not used: the alloc callback hands out no buffer, so libuv reports
// readability as UV_ENOBUFS without reading, and on_read takes the bytes with recv(2)
// into the loop's receive buffer (a shorter kernel path than read(2) on a socket). The
// watch stays armed (level-triggered): what is left is reported again.
void Connection::on_alloc(uv_handle_t*, size_t, uv_buf_t* buf) {
  buf->base = nullptr;
  buf->len = 0;
}

void Connection::on_read(uv_stream_t* s, ssize_t nread, const uv_buf_t*) {
  Connection* c = static_cast<Connection*>(s->data);
  if (nread != UV_ENOBUFS) {  // libuv's own report of an error
    if (nread == UV_EOF) c->on_peer_eof();
    else if (nread < 0) c->close_now();
    return;
  }
  uv_os_fd_t fd;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(s), &fd) != 0) return;
  LoopData* ld = c->ld;
  ssize_t n;
  do n = ::recv(fd, ld->recv_buf, kReceiveBufferSize, 0);
  while (n < 0 && errno == EINTR);
  if (n <= 0) {
    if (n == 0) c->on_peer_eof();
    else if (errno != EAGAIN && errno != EWOULDBLOCK) c->close_now();  // a reset or a read error: the client is gone
    return;
  }
  c->server->stats.bytes_received += static_cast<uint64_t>(n);
  ld->in_read = true;
  if (!c->tls_on_) c->handle_input(ld->recv_buf, static_cast<size_t>(n));
  else if (c->proxy_pending_) c->read_proxy_then_tls(ld->recv_buf, static_cast<size_t>(n));
  else c->read_tls(ld->recv_buf, static_cast<size_t>(n));
  ld->in_read = false;
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
      busy().out.attach(&busy().transport, this, ld->loop, &server->stats.bytes_sent);
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
// partial header waits in the input buffer (empty until the first request).
void Connection::read_proxy_then_tls(const char* data, size_t len) {
  std::string joined;
  if (has_input()) {
    ByteBuffer& in = busy().inbuf;
    in.append(data, len);
    joined.assign(in.data(), in.size());
    in.clear();
    data = joined.data();
    len = joined.size();
  }
  size_t used = 0;
  if (!read_proxy_header(data, len, &used)) return;  // malformed: closed
  if (proxy_pending_) {
    take_input().append(data, len);
    return;
  }
  if (used < len) read_tls(data + used, len - used);
}

void Connection::tls_input(const char* data, size_t len) { handle_input(data, len); }

void Connection::tls_write_failed() { close_now(); }

void Connection::handle_input(const char* data, size_t len) {
  if (st_.closing || st_.phase == Phase::Linger || st_.no_more_requests) return;  // discarded
  bool from_inbuf = false;
  if (has_input() || st_.in_flight) {
    ByteBuffer& in = take_input();
    in.append(data, len);
    data = in.data();
    len = in.size();
    from_inbuf = true;
  }
  if (st_.in_flight || st_.output_paused) {
    if (input_size() > kMaxBuffered || st_.output_paused) stop_reading();
    return;
  }
  st_.corked = true;
  RequestSink* sink = server->sink;
  sink->batch_begin();
  size_t used = process(data, len);
  st_.corked = false;
  wait_for_head();
  if (!st_.closing && !st_.no_more_requests) {
    if (from_inbuf) {
      busy_->inbuf.consume_front(used);
    } else if (used < len) {
      take_input().append(data + used, len - used);
    }
    if ((st_.in_flight && input_size() > kMaxBuffered) || st_.output_paused) stop_reading();
  } else {
    drop_input();
  }
  sink->batch_end();  // may answer the request in flight (a resolved promise): see finish_response
  if (!tls_feeding_) flush();  // read_tls flushes once for the whole read
}

void Connection::resume() {
  if (st_.closing || st_.in_flight) return;
  bool paused = false;
  if (!st_.no_more_requests && has_input()) {
    st_.corked = true;
    RequestSink* sink = server->sink;
    sink->batch_begin();
    ByteBuffer& in = busy_->inbuf;
    size_t used = process(in.data(), in.size());
    st_.corked = false;
    wait_for_head();
    paused = st_.output_paused;
    if (st_.closing || st_.no_more_requests) in.clear();
    else in.consume_front(used);
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
  if (!st_.no_more_requests && (!st_.in_flight || input_size() <= kMaxBuffered)) start_reading();
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
  if (st_.closing || (busy_ && busy_->out.waiting_writable())) return;  // on_poll re-arms the watch after writability
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
  drop_input();
  wait_in(nullptr);
  st_.no_more_requests = true;
  st_.close_after_flush = true;
  st_.phase = Phase::Flush;
  st_.phase_since = uv_now(ld->loop);
  flush();  // closes once the queued responses are out (at once when nothing is queued)
}

// After the parse loop: a keep-alive connection waiting for its next head is on the
// eviction list of those (finish_response leaves that to here while the loop runs).
void Connection::wait_for_head() {
  if (st_.closing || st_.no_more_requests || st_.in_flight) return;
  if (st_.phase == Phase::Idle || st_.phase == Phase::Head) wait_in(&server->pre_head);
}

// The parse loop: head → body → dispatch, as long as JS answers synchronously.
size_t Connection::process(const char* data, size_t len) {
  // This read is the one next_pipelined() takes requests from (restored on the way out).
  struct ScanScope {
    LoopData* ld;
    LoopData::Scan saved;
    ~ScanScope() { ld->scan = saved; }
  } scope{ld, ld->scan};
  ld->scan = {this, data, len, 0};
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
        if (proxy_pending_) break;
        pos += used;
        continue;
      }
      head_begins();
      size_t used = 0;
      UwsgiFrontEnd* uw = nullptr;
      RequestHead http_head;
      if (protocol_ == ListenProtocol::Uwsgi) {
        BusyState& b = busy();
        if (!b.uwsgi) b.uwsgi.reset(new UwsgiFrontEnd());
        uw = b.uwsgi.get();
        UwsgiLimits lim;
        lim.buffer_size = uwsgi_buffer_size_;
        lim.max_headers = server->limits.parse.max_headers;
        UwsgiStatus st = uw->parse(data + pos, len - pos, lim, ld->headers, kMaxHeadersCap, &used);
        if (st == UwsgiStatus::Incomplete) break;
        if (st == UwsgiStatus::Error) {
          fail(uw->error_status());
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
      const RequestHead& head = uw ? uw->head() : http_head;
      pos += used;
      take_head(head);
      // The head's spans point into data: recorded before anything moves.
      if (uw) {
        busy().req.minor = UwsgiFrontEnd::kResponseMinor;
        busy().req.keep_alive = UwsgiFrontEnd::kKeepAlive;
        ld->buffers.take(busy().text);
        ld->records.take(busy().rec);
        uw->build_record(record_context(), &busy().text, &busy().rec);
      } else {
        build_record(head);
      }
      if (busy().req.body_kind == BodyKind::Length && head.content_length > server->limits.max_body_size) {
        fail(413);
        break;
      }
      if (busy().req.body_kind == BodyKind::None || (busy().req.body_kind == BodyKind::Length && busy().req.body_remaining == 0)) {
        busy().req.body_kind = BodyKind::None;
        dispatch_at(&pos);
        continue;
      }
      wait_in(&server->in_body);
      if (busy().req.body_kind == BodyKind::Chunked) {
        if (!busy().chunked) busy().chunked = new ChunkedBody();
        busy().chunked->trailers.text.clear();
        busy().chunked->decoder = ChunkedDecoder(ChunkedLimits{}, &busy().chunked->trailers);
      }
      if (busy().req.body_kind == BodyKind::Length && busy().req.body_remaining > server->limits.body_memory_size) {
        int fd = spool_open(server->limits.spool_dir);
        if (fd < 0) {
          fail(500);
          break;
        }
        busy().spool_fd = fd;
      }
      // 100 Continue: the body is wanted and the client is waiting for the word.
      if (head.expect_continue && pos == len) busy().out.stage().append(kContinueResponse, sizeof kContinueResponse - 1);
      st_.phase = Phase::Body;
      st_.phase_since = uv_now(ld->loop);
      busy().req.body_since = st_.phase_since;
      busy().req.body_wire = 0;
    }
    if (st_.phase == Phase::Body) {
      if (pos == len) break;
      st_.phase_since = uv_now(ld->loop);
      if (busy().req.body_kind == BodyKind::Length) {
        size_t take = len - pos;
        if (take > busy().req.body_remaining) take = static_cast<size_t>(busy().req.body_remaining);
        if (!store_body(data + pos, take)) break;
        pos += take;
        busy().req.body_wire += take;
        busy().req.body_remaining -= take;
        if (busy().req.body_remaining > 0) break;
        dispatch_at(&pos);
        continue;
      }
      bool done = false;
      while (pos < len) {
        size_t used = 0;
        Span out;
        ChunkStatus st = busy().chunked->decoder.feed(data + pos, len - pos, &used, &out);
        pos += used;
        busy().req.body_wire += used;
        if (st == ChunkStatus::Data) {
          if (busy().req.body_received + out.len > server->limits.max_body_size) {
            fail(413);
            return pos;
          }
          if (!store_body(out.data, out.len)) return pos;
        } else if (st == ChunkStatus::Done) {
          // The trailer fields end the head string, from rec[kRecTrailersStart].
          busy().text.append(busy().chunked->trailers.text.data(), busy().chunked->trailers.text.size());
          busy().chunked->trailers.text.clear();
          done = true;
          break;
        } else if (st == ChunkStatus::Error) {
          fail(busy().chunked->decoder.error_status() ? busy().chunked->decoder.error_status() : 400);
          return pos;
        } else {
          break;  // NeedMore
        }
      }
      if (!done) break;
      dispatch_at(&pos);
    }
  }
  return pos;
}

// The first byte of a head: the head deadline counts from it, and does not restart after it.
void Connection::head_begins() {
  if (st_.phase != Phase::Idle && st_.bytes_seen) return;
  st_.phase_since = uv_now(ld->loop);
  st_.phase = Phase::Head;
  st_.bytes_seen = true;
}

// The request state for a parsed head (its record is built by the caller).
void Connection::take_head(const RequestHead& head) {
  RequestState& q = busy().req;
  q = {};
  q.minor = head.version_minor;
  q.keep_alive = head.keep_alive;
  q.head_method = is_head_method(head);
  q.body_kind = head.body_kind;
  q.body_remaining = head.body_kind == BodyKind::Length ? head.content_length : 0;
}

bool Connection::store_body(const char* p, size_t n) {
  if (n == 0) return true;
  busy().req.body_received += n;
  if (busy().spool_fd < 0 && busy().body_mem.size() + n > server->limits.body_memory_size) {
    int fd = spool_open(server->limits.spool_dir);
    if (fd < 0 || spool_write(fd, busy().body_mem.data(), busy().body_mem.size()) != 0) {
      if (fd >= 0) ::close(fd);
      fail(500);
      return false;
    }
    busy().spool_fd = fd;
    busy().body_mem.clear();
  }
  if (busy().spool_fd >= 0) {
    if (spool_write(busy().spool_fd, p, n) != 0) {
      fail(500);
      return false;
    }
  } else {
    ld->buffers.take(busy().body_mem);
    busy().body_mem.append(p, n);
  }
  return true;
}

// What the record says beside the head: the peer (or the PROXY header's client), the
// listener, TLS, the PROXY header's environ entries.
RecordContext Connection::record_context() const {
  RecordContext ctx;
  ctx.remote_addr = peer_.text;
  ctx.remote_addr_len = peer_.len;
  ctx.remote_port = peer_.port;
  ctx.local_port = local_port_;
  ctx.listener = listener_index_;
  ctx.tls = tls_on_;
  ctx.name_codes = &ld->header_codes;
  if (proxy_entries_ && !proxy_entries_->empty()) ctx.connection_overrides = proxy_entries_.get();
  return ctx;
}

// The head string and record for the request (request_record.h).
void Connection::build_record(const RequestHead& h) {
  RecordContext ctx = record_context();
  ld->buffers.take(busy().text);
  ld->records.take(busy().rec);
  build_request_record(h, ctx, &busy().text, &busy().rec);
}

// The PROXY header (proxy/proxy_front_end.h): false when malformed (closed).
bool Connection::read_proxy_header(const char* data, size_t len, size_t* used) {
  ProxyRead r = read_proxy_front(data, len, &peer_, &proxy_entries_, used);
  if (r == ProxyRead::Incomplete) return true;
  if (r == ProxyRead::Malformed) {
    close_now();
    return false;
  }
  proxy_pending_ = false;
  st_.phase_since = uv_now(ld->loop);  // the first request byte gets its own window
  return true;
}

void Connection::dispatch_at(size_t* pos) {
  ld->scan.pos = *pos;
  dispatch();
  *pos = ld->scan.pos;
}

bool Connection::begin_dispatch(DispatchedRequest* r) {
  wait_in(nullptr);
  st_.phase = Phase::Request;
  st_.in_flight = true;
  busy().resp = {};
  const std::string& health = server->limits.health_path;
  if (!health.empty() && is_health_request(busy_->rec.data(), busy_->text.data(), health)) {
    answer_health();
    return false;
  }
  server->stats.requests++;
  if (ld->scan.conn == this && ld->scan.pos < ld->scan.len && protocol_ == ListenProtocol::Http) {
    busy().rec[kRecFlags] |= kFlagPipelined;
  }
  *r = request_in_flight();
  r->body_bytes = busy().req.body_received;
  if (busy().spool_fd >= 0) {
    spool_rewind(busy().spool_fd);
    r->body_fd = busy().spool_fd;
    busy().spool_fd = -1;  // the sink owns it now
  } else if (!busy().body_mem.empty()) {
    r->body = busy().body_mem.data();
    r->body_len = busy().body_mem.size();
  }
  return true;
}

DispatchedRequest Connection::request_in_flight() const {
  DispatchedRequest r;
  r.record = busy_->rec.data();
  r.record_ints = record_ints(busy_->rec);
  r.text = busy_->text.data();
  r.text_len = busy_->text.size();
  return r;
}

void Connection::dispatch() {
  DispatchedRequest r;
  if (!begin_dispatch(&r)) return;
  st_.in_dispatch = true;
  server->sink->request(this, r);
  st_.in_dispatch = false;
  if (busy_) {
    busy_->body_mem.clear();
    busy_->body_mem.shrink_if_over(1 << 20);
  }
}

// The parse loop's step for the common pipelined case, taken by the application side
// from inside the dispatch of the request before it (which has ended): a complete head
// with no body, nothing paused. Anything else is left where it is for the parse loop,
// which goes on from ld->scan.pos once the dispatch returns.
bool Connection::next_pipelined(DispatchedRequest* r) {
  LoopData::Scan& sc = ld->scan;
  while (sc.conn == this && st_.in_dispatch && !st_.closing && !st_.no_more_requests && !st_.in_flight &&
         st_.phase == Phase::Idle && protocol_ == ListenProtocol::Http && !proxy_pending_ && sc.pos < sc.len &&
         pending_output() <= kOutputPauseAbove) {
    RequestHead head;
    head.headers = ld->headers;
    head.header_capacity = kMaxHeadersCap;
    size_t used = 0;
    if (parse_request_head(sc.data + sc.pos, sc.len - sc.pos, server->limits.parse, &head, &used) != ParseStatus::Complete) {
      return false;
    }
    if (head.body_kind == BodyKind::Chunked || (head.body_kind == BodyKind::Length && head.content_length != 0)) {
      return false;
    }
    sc.pos += used;
    head_begins();
    take_head(head);
    busy().req.body_kind = BodyKind::None;  // as the parse loop has it for Content-Length: 0
    build_record(head);
    if (begin_dispatch(r)) return true;  // else answered here (the health path): on to the next
  }
  return false;
}

// The server's health path (health_check.h): answered here, the body dropped.
void Connection::answer_health() {
  if (busy().spool_fd >= 0) {
    ::close(busy().spool_fd);
    busy().spool_fd = -1;
  }
  busy().body_mem.clear();
  HealthAnswer a = health_answer(server->closing);
  Bytes head;
  Bytes body;
  head.data = a.head;
  head.len = a.head_len;
  body.data = a.body;
  body.len = a.body_len;
  respond(a.status, head, &body, 1, -1, a.close ? kRespClose : 0);
}

void Connection::fail(uint16_t status) {
  if (busy().spool_fd >= 0) {
    ::close(busy().spool_fd);
    busy().spool_fd = -1;
  }
  busy().body_mem.clear();
  wait_in(nullptr);
  st_.no_more_requests = true;
  st_.phase = Phase::Linger;
  st_.phase_since = uv_now(ld->loop);
  const CannedResponse& r = canned_response(status);
  busy().out.stage().append(r.bytes, r.len);
  st_.close_after_flush = true;
  maybe_flush();
}

void Connection::finish_response() {
  const bool keep_alive = busy().resp.keep_alive;
  st_.in_flight = false;
  busy().resp = {};
  st_.need_drain = false;  // an onDrain now would be taken for the next request's
  served_++;
  if (!keep_alive) {
    st_.no_more_requests = true;
    st_.close_after_flush = true;
  } else {
    st_.phase = Phase::Idle;
    st_.phase_since = uv_now(ld->loop);
    st_.bytes_seen = false;
    // Inside the parse loop the next pipelined request is usually dispatched at once:
    // the loop's end puts the connection on the list (wait_for_head), not each request.
    if (!st_.corked) wait_in(&server->pre_head);
  }
  if (st_.in_dispatch || st_.corked) return;  // the parse loop goes on and flushes
  if (ld->holding_output && ld->hold(this)) return;  // onQueued's batch: sent after it
  send_held();
}

void Connection::send_held() {
  flush();
  if (st_.closing || st_.no_more_requests) return;
  if (has_input() || st_.peer_eof) ld->defer(DeferredKind::Resume, id);
  else start_reading();
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
  if (busy_) {
    busy_->out.release_memory();
    if (busy_->spool_fd >= 0) {
      ::close(busy_->spool_fd);
      busy_->spool_fd = -1;
    }
    give_back_busy();
  }
  if (tls_) tls_->release_session();
  Server* s = server;
  s->connection_closed(this);
  ld->release_connection(this);
}

}  // namespace tsgi
