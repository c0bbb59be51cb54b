// Listening sockets; see listener.h.
#include "listener.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "connection.h"
#include "server.h"

namespace tsgi {

namespace {
constexpr int kAcceptPerWakeup = 256;      // then other work runs; the watch fires again
constexpr uint64_t kFirstRetryMs = 50;     // first pause after running out of descriptors
constexpr uint64_t kLastRetryMs = 1000;    // pauses double up to this
}  // namespace

// Watching the listening socket through a dup of it, rather than with uv_listen, lets
// accepting pause (libuv's own accept loop has no pause: out of descriptors it accepts and
// closes every queued connection, and without its reserved descriptor it spins).
struct Listener::Watch {
  uv_poll_t poll;
  uv_timer_t timer;
  int fd = -1;
  int open = 0;  // handles not closed yet
  LoopData* ld = nullptr;
  Listener* owner = nullptr;
};

Listener::Listener(Server* s, bool pipe) : server(s), is_pipe(pipe) {}

int Listener::start_accepting(int backlog) {
  uv_os_fd_t fd;
  int r = uv_fileno(&h.handle, &fd);
  if (r != 0) return r;
  // uv_tcp_bind defers some bind errors (EADDRINUSE) to listen time; uv_listen would
  // report them from here.
  if (!is_pipe && h.stream.delayed_error) return h.stream.delayed_error;
  if (::listen(fd, backlog) != 0) return -errno;
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return -errno;
  LoopData* ld = server->ld;
  Watch* w = new Watch;
  r = uv_poll_init(ld->loop, &w->poll, copy);
  if (r != 0) {
    ::close(copy);
    delete w;
    return r;
  }
  w->fd = copy;
  w->ld = ld;
  w->owner = this;
  w->poll.data = w;
  uv_timer_init(ld->loop, &w->timer);
  w->timer.data = w;
  w->open = 2;
  ld->handle_opened();
  ld->handle_opened();
  watch_ = w;
  uv_poll_start(&w->poll, UV_READABLE, on_acceptable);
  return 0;
}

void Listener::on_acceptable(uv_poll_t* p, int status, int) {
  Watch* w = static_cast<Watch*>(p->data);
  Listener* l = w->owner;
  if (!l || l->closing) return;
  if (status < 0) {
    l->pause_accepting();
    return;
  }
  l->accept_pending();
}

void Listener::on_retry(uv_timer_t* t) {
  Watch* w = static_cast<Watch*>(t->data);
  if (!w->owner || w->owner->closing) return;
  uv_poll_start(&w->poll, UV_READABLE, on_acceptable);
}

void Listener::accept_pending() {
  for (int n = 0; n < kAcceptPerWakeup && !closing; n++) {
    uint64_t wait = server->admission_wait(uv_now(server->ld->loop));
    if (wait > 0) {
      pause_accepting_for(wait);
      return;
    }
    int sock = accept4(watch_->fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (sock < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINVAL) {
        // The socket no longer listens: another process sharing it stopped it (refuse_new).
        close();
        return;
      }
      // EMFILE, ENFILE, ENOBUFS, ENOMEM, or anything unexpected: retry later.
      pause_accepting();
      return;
    }
    retry_ms_ = 0;
    take(sock);
  }
}

void Listener::pause_accepting() {
  retry_ms_ = retry_ms_ == 0 ? kFirstRetryMs : std::min(retry_ms_ * 2, kLastRetryMs);
  server->stats.accept_pauses++;
  pause_accepting_for(retry_ms_);
}

void Listener::pause_accepting_for(uint64_t ms) {
  uv_poll_stop(&watch_->poll);
  uv_timer_start(&watch_->timer, on_retry, ms, 0);
}

void Listener::take(int sock) {
  Connection* c = server->ld->new_connection();
  if (c->accept_fd(this, sock)) admit(c);
}

void Listener::admit(Connection* c) {
  Server* s = server;
  if (s->active_connections <= s->limits.max_connections) return;
  s->admitted_at_limit++;
  Connection* victim = s->eviction_victim(c, uv_now(s->ld->loop));
  if (victim) {
    victim->evict();
  } else {
    s->active_connections--;
    c->refuse();
  }
}

bool Listener::socket_outlives_handle() const {
  if (origin_fd < 0) return false;
  struct stat st;
  return fstat(origin_fd, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == origin_dev &&
         st.st_ino == origin_ino;
}

// Connections the kernel completed but nobody accepted yet are reset when the last
// descriptor of a listening socket closes: their clients would send a request into a
// reset. When this handle is the socket's last descriptor in this process (listen_tcp,
// listen_unix, or listen_fd whose caller closed its own), they are accepted here and
// served like any other connection (under a graceful close: their first request is
// answered with Connection: close). A socket that outlives the handle (listen_fd with the
// caller's descriptor still open: the pre-fork master and the other workers share it)
// keeps its queue, and the other acceptors take those connections; closing this dup
// changes nothing for them. Connections that complete between this loop and close() are
// the only ones still reset (as by any server that stops listening).
//
// even_if_shared: the queue is taken even though the socket outlives the handle, because
// the socket is about to stop listening for everyone (refuse_new).
void Listener::accept_queued(bool even_if_shared) {
  if (!even_if_shared && socket_outlives_handle()) return;
  uv_os_fd_t fd;
  if (uv_fileno(&h.handle, &fd) != 0) return;
  // Bounded: the queue holds at most the backlog, but clients keep connecting meanwhile.
  for (int n = 0; n < 65536; n++) {
    int sock = accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (sock < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      return;  // EAGAIN: the queue is empty; anything else: nothing more to take
    }
    take(sock);
  }
}

// A server that stops for good (not one worker of several being replaced) refuses new
// clients at once, rather than leaving them in the queue of a socket that others still
// hold open (the pre-fork master, the other workers) but nobody will accept on again: they
// would wait and then be reset when the last descriptor closes. shutdown(2) on a
// listening TCP socket returns it to the closed state for every descriptor of it, so the
// kernel answers new connections with a reset (ECONNREFUSED); a Unix socket refuses new
// connections likewise. The queue was accepted just before (accept_queued), so only a
// connection completing in between is lost, as when any server stops listening. Other
// servers accepting on the socket close their listener when they notice (their tick, or
// accept() failing with EINVAL in accept_pending); a pre-fork server's workers all stop
// together anyway.
void Listener::refuse_new() {
  uv_os_fd_t fd;
  if (uv_fileno(&h.handle, &fd) == 0) shutdown(fd, SHUT_RD);
}

bool Listener::listening() const {
  uv_os_fd_t fd;
  if (uv_fileno(&h.handle, &fd) != 0) return false;
  // A TCP socket that stopped listening polls as hung up; a shut down Unix one as RDHUP.
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  return !(::poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR)));
}

void Listener::close(bool queued, bool refuse) {
  if (closing) return;
  refuse = refuse && queued && origin_fd >= 0;
  if (queued) accept_queued(refuse);
  if (refuse) refuse_new();
  closing = true;
  if (Watch* w = watch_) {
    watch_ = nullptr;
    w->owner = nullptr;
    auto closed = [](uv_handle_t* hd) {
      Watch* w = static_cast<Watch*>(hd->data);
      LoopData* ld = w->ld;
      if (--w->open == 0) delete w;
      ld->handle_closed();
    };
    uv_poll_stop(&w->poll);
    uv_timer_stop(&w->timer);
    uv_close(reinterpret_cast<uv_handle_t*>(&w->poll), closed);
    uv_close(reinterpret_cast<uv_handle_t*>(&w->timer), closed);
    // The poll no longer watches the dup (uv_close stopped it): close it now, with the
    // handle's own descriptor below, so that the socket stops listening at once.
    ::close(w->fd);
    w->fd = -1;
  }
  uv_close(&h.handle, on_close);
}

void Listener::on_close(uv_handle_t* hd) {
  Listener* l = static_cast<Listener*>(hd->data);
  if (!l->unlink_path.empty()) unlink(l->unlink_path.c_str());
  Server* s = l->server;
  LoopData* ld = s->ld;
  s->listener_closed(l);
  delete l;
  ld->handle_closed();
}

namespace {

void set_error(ListenError* err, int code, const char* what, const std::string& where) {
  err->code = code;
  err->message = std::string(what) + " " + uv_err_name(code) + ": " + uv_strerror(code) + " " + where;
}

std::string host_port(const std::string& host, int port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

void fill_address(const sockaddr_storage& ss, ListenAddress* out) {
  char name[64] = {0};
  if (ss.ss_family == AF_INET6) {
    const sockaddr_in6* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    uv_ip6_name(a, name, sizeof name);
    out->family = "IPv6";
    out->port = ntohs(a->sin6_port);
  } else {
    const sockaddr_in* a = reinterpret_cast<const sockaddr_in*>(&ss);
    uv_ip4_name(a, name, sizeof name);
    out->family = "IPv4";
    out->port = ntohs(a->sin_port);
  }
  out->address = name;
}

// Starts listening on an initialized, bound handle; on failure closes it.
Listener* start(Server* s, Listener* l, int backlog, ListenError* err, const std::string& where) {
  int r = l->start_accepting(backlog > 0 ? backlog : 511);
  if (r != 0) {
    set_error(err, r, "listen", where);
    l->unlink_path.clear();
    l->close();
    return nullptr;
  }
  s->add_listener(l);
  return l;
}

Listener* init_handle(Server* s, bool pipe, unsigned int family, ListenError* err) {
  Listener* l = new Listener(s, pipe);
  int r = pipe ? uv_pipe_init(s->ld->loop, &l->h.pipe, 0)
               : uv_tcp_init_ex(s->ld->loop, &l->h.tcp, family);
  if (r != 0) {
    set_error(err, r, "listen", "");
    delete l;
    return nullptr;
  }
  l->h.handle.data = l;
  s->ld->handle_opened();
  s->listener_opened();
  return l;
}

}  // namespace

// The address a TCP listener is bound to (the port the kernel picked for port 0).
static void read_tcp_address(Listener* l, ListenAddress* out) {
  sockaddr_storage bound;
  int len = sizeof bound;
  uv_tcp_getsockname(&l->h.tcp, reinterpret_cast<sockaddr*>(&bound), &len);
  fill_address(bound, out);
  l->port = out->port;
}

Listener* listen_tcp(Server* s, const std::string& host_in, int port, int backlog, ListenAddress* out,
                     ListenError* err) {
  std::string host = host_in.empty() ? "::" : host_in;
  sockaddr_storage ss;
  std::memset(&ss, 0, sizeof ss);
  if (uv_ip6_addr(host.c_str(), port, reinterpret_cast<sockaddr_in6*>(&ss)) != 0 &&
      uv_ip4_addr(host.c_str(), port, reinterpret_cast<sockaddr_in*>(&ss)) != 0) {
    // A name: resolve it (synchronously; listening happens at startup).
    uv_getaddrinfo_t req;
    addrinfo hints;
    std::memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    int r = uv_getaddrinfo(s->ld->loop, &req, nullptr, host.c_str(), nullptr, &hints);
    if (r != 0 || !req.addrinfo) {
      set_error(err, r ? r : UV_EAI_NONAME, "getaddrinfo", host);
      return nullptr;
    }
    std::memcpy(&ss, req.addrinfo->ai_addr, req.addrinfo->ai_addrlen);
    if (ss.ss_family == AF_INET6) reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port = htons(port);
    else reinterpret_cast<sockaddr_in*>(&ss)->sin_port = htons(port);
    uv_freeaddrinfo(req.addrinfo);
  }
  std::string where = host_port(host, port);
  Listener* l = init_handle(s, false, ss.ss_family, err);
  if (!l) return nullptr;
  int r = uv_tcp_bind(&l->h.tcp, reinterpret_cast<const sockaddr*>(&ss), 0);
  if (r == UV_EAFNOSUPPORT && host_in.empty()) {
    // No IPv6 on this host: '' falls back to every IPv4 address.
    l->close();
    return listen_tcp(s, "0.0.0.0", port, backlog, out, err);
  }
  if (r != 0) {
    set_error(err, r, "listen", where);
    l->close();
    return nullptr;
  }
  l = start(s, l, backlog, err, where);
  if (!l) return nullptr;
  read_tcp_address(l, out);
  return l;
}

Listener* listen_unix(Server* s, const std::string& path, int backlog, int mode, ListenAddress* out,
                      ListenError* err) {
  if (path.empty() || path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    // uv_pipe_bind would silently truncate the name
    set_error(err, UV_ENAMETOOLONG, "listen", path);
    return nullptr;
  }
  Listener* l = init_handle(s, true, AF_UNIX, err);
  if (!l) return nullptr;
  int r = uv_pipe_bind(&l->h.pipe, path.c_str());
  if (r != 0) {
    set_error(err, r, "listen", path);
    l->close();
    return nullptr;
  }
  l->unlink_path = path;
  if (mode >= 0 && chmod(path.c_str(), static_cast<mode_t>(mode)) != 0) {
    set_error(err, -errno, "chmod", path);
    l->close();
    return nullptr;
  }
  l = start(s, l, backlog, err, path);
  if (!l) return nullptr;
  out->address = path;
  out->family = "unix";
  out->port = 0;
  return l;
}

Listener* listen_fd(Server* s, int fd, int backlog, ListenAddress* out, ListenError* err) {
  std::string where = "fd " + std::to_string(fd);
  int domain = 0;
  socklen_t dlen = sizeof domain;
  struct stat st;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dlen) != 0 || fstat(fd, &st) != 0) {
    set_error(err, -errno, "listen", where);
    return nullptr;
  }
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) {
    set_error(err, -errno, "listen", where);
    return nullptr;
  }
  bool pipe = domain == AF_UNIX;
  Listener* l = init_handle(s, pipe, AF_UNSPEC, err);
  if (!l) {
    ::close(copy);
    return nullptr;
  }
  int r = pipe ? uv_pipe_open(&l->h.pipe, copy) : uv_tcp_open(&l->h.tcp, copy);
  if (r != 0) {
    ::close(copy);
    set_error(err, r, "listen", where);
    l->close();
    return nullptr;
  }
  l->origin_fd = fd;
  l->origin_dev = st.st_dev;
  l->origin_ino = st.st_ino;
  l = start(s, l, backlog, err, where);
  if (!l) return nullptr;
  if (pipe) {
    char name[512];
    size_t len = sizeof name;
    if (uv_pipe_getsockname(&l->h.pipe, name, &len) == 0) out->address.assign(name, len);
    out->family = "unix";
    out->port = 0;
  } else {
    read_tcp_address(l, out);
  }
  return l;
}

}  // namespace tsgi
