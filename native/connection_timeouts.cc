// A connection's clocks: the timeouts checked by the server's tick (first byte, head,
// body and its minimum data rate, keep-alive, write, TLS handshake, linger) and graceful
// close (the drain grace, ending idle connections cleanly). Part of Connection
// (connection.h); the state machine itself is in connection.cc.
#include <sys/ioctl.h>

#include <algorithm>

#include "connection.h"
#include "server.h"

namespace tsgi {

namespace {

constexpr uint64_t kLingerMs = 2000;          // after a closing response: wait this long for the client's FIN
// Graceful close (draining): how long a connection with no request to answer stays open
// for one that may be on its way: a connection accepted that has sent nothing yet (from
// the accept), or an idle keep-alive connection (from the end of its last response).
// Capped by the header and keep-alive timeouts.
constexpr uint64_t kDrainGraceMs = 2000;

}  // namespace

bool Connection::body_below_rate(uint64_t now) const {
  uint64_t rate = server->limits.min_body_rate;
  if (rate == 0 || st_.phase != Phase::Body || !busy_) return false;
  return busy_->req.body_wire * 1000 < rate * (now - busy_->req.body_since);
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
  if (has_input()) return;  // a request: answered
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
  drop_input();
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
  const bool output_pending = this->output_pending();
  if (output_pending) {
    BusyState& b = *busy_;
    Transport* t = active_transport();
    if (b.out.writing() && t->write_queue_size() != b.last_write_queue_size) {
      b.last_write_queue_size = t->write_queue_size();
      b.out.set_progress(now);
    }
  }
  if (output_pending && now - busy_->out.last_progress() >= l.write_timeout_ms) {
    close_now();  // the client stopped reading
    return;
  }
  // TLS: the handshake has its own deadline from the accept (the first-byte timeout
  // counts from its end).
  const bool handshaking = tls_on_ && !tls_->handshake_done();
  if (handshaking && now >= tls_->handshake_deadline) {
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
          (now - busy_->req.body_since >= l.min_body_rate_grace_ms && body_below_rate(now))) {
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
