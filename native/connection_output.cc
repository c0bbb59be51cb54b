// A connection's side of its output queue: flushing, the queue's callbacks (write done
// or failed, a file sent or ended early, waiting for writability on the poll handle),
// onDrain, and shutting the write side down after the last response. Part of Connection
// (connection.h).
#include <unistd.h>

#include "connection.h"
#include "request_sink.h"
#include "server.h"

namespace tsgi {

// ---- output ---------------------------------------------------------------------------

void Connection::flush() {
  if (st_.closing) return;
  if (busy_ && busy_->out.flush() != OutputQueue::FlushResult::Empty) return;
  queue_emptied();
  check_output_resume();  // written at once: no write completion to resume from
  give_back_idle_memory();
}

void Connection::give_back_idle_memory() {
  if (st_.closing || st_.in_flight || has_input()) return;
  if (st_.phase != Phase::Idle && st_.phase != Phase::Linger) return;
  if (!busy_ || busy_->out.has_output()) return;
  give_back_busy();
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
  bool current = st_.in_flight && busy().resp.started && tag == served_;
  busy().out.drop();  // a File piece is only sent with no write in progress: nothing stays queued
  st_.no_more_requests = true;
  drop_input();
  if (!current) {
    close_now();
    return false;
  }
  busy().resp.short_file = true;
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
  if (c->busy_ && c->busy_->out.waiting_writable()) {
    if (!(events & UV_WRITABLE)) return;
    c->busy().out.writable();
    uv_poll_stop(p);
    c->flush();
    if (!c->st_.closing) c->check_output_resume();
    if (!c->st_.closing && c->st_.peer_eof && !c->busy_->out.waiting_writable()) c->watch_for_reset();
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

}  // namespace tsgi
