// Listening sockets (TCP, Unix, or inherited fds) as libuv handles owned by the addon;
// accepting hands each socket to a new Connection.
#pragma once

#include <memory>
#include <string>
#include <sys/types.h>

#include "listen_options.h"
#include "loop_data.h"

namespace tsgi {

namespace tls {
class TlsContext;
}

class Server;
class Connection;

struct ListenAddress {
  std::string address;
  const char* family = "IPv4";  // "IPv4", "IPv6" or "unix"
  int port = 0;
};

struct ListenError {
  int code = 0;         // libuv error (negative errno)
  std::string message;  // names the address
};

class Listener {
 public:
  Listener(Server* server, bool is_pipe);
  // Closes the listening handle. accept_queued: first accept every connection already
  // waiting in the kernel's accept queue (see accept_queued()), so that closing the
  // socket does not reset them. refuse (listen_fd only, with accept_queued): the shared
  // socket itself stops listening, for every process holding it (see refuse_new()).
  void close(bool accept_queued = false, bool refuse = false);
  // False once the socket no longer listens (another process sharing it stopped it with
  // refuse): libuv then reports the listener readable on every loop turn and ignores
  // accept()'s EINVAL, so the server's tick closes such a listener.
  bool listening() const;

  Server* server;
  int index = 0;       // REC_LISTENER
  int port = 0;        // REC_LOCAL_PORT (0 for Unix sockets)
  bool is_pipe;
  bool closing = false;
  ListenOptions options;  // protocol, PROXY protocol (set before the first accept)
  std::string unlink_path;  // the socket file this listener created
  // HTTPS: the TLS configuration new connections take (replaced by a reload; open
  // connections keep the one they started with), and how long a handshake may take.
  std::shared_ptr<const tls::TlsContext> tls;
  uint64_t tls_handshake_timeout_ms = 10000;
  // listen_fd: the caller's descriptor and the socket's identity. While that descriptor
  // still names the same socket, closing this listener's dup leaves the socket listening
  // (and its queue to whoever else accepts on it).
  int origin_fd = -1;
  dev_t origin_dev = 0;
  ino_t origin_ino = 0;
  union {
    uv_tcp_t tcp;
    uv_pipe_t pipe;
    uv_stream_t stream;
    uv_handle_t handle;
  } h;

  // Starts accepting: listen(2) on the socket, and a watch for pending connections.
  // Returns 0 or a libuv error.
  int start_accepting(int backlog);
  static void on_close(uv_handle_t* h);

 private:
  struct Watch;  // a poll handle on a dup of the socket, and the retry timer
  static void on_acceptable(uv_poll_t* p, int status, int events);
  static void on_retry(uv_timer_t* t);
  // Accepts what is pending (bounded per wakeup). Out of descriptors (EMFILE, ENFILE) or
  // memory, accepting pauses: the watch stops and a timer retries later, backing off, so
  // the loop neither spins nor drops the connections waiting in the kernel's queue.
  void accept_pending();
  void pause_accepting();        // out of descriptors: backing off
  void pause_accepting_for(uint64_t ms);
  // A connection accepted from this listener's socket: a Connection for it, admitted.
  void take(int sock);
  // Hands an accepted connection to the server: above max_connections, a connection
  // with no request yet makes room (Server::eviction_victim), else the new one gets 503.
  // Both cost a close, and a client that reconnects at once would keep the server busy
  // doing only that: at the limit, admissions are rationed (Server::admission_wait) and
  // the rest wait in the kernel's queue.
  void admit(Connection* c);
  // True when the socket stays open after this handle closes (listen_fd, the caller's
  // descriptor still open): its queued connections are not lost, so they are left to it.
  bool socket_outlives_handle() const;
  void accept_queued(bool even_if_shared = false);
  void refuse_new();

  Watch* watch_ = nullptr;
  uint64_t retry_ms_ = 0;  // the next pause's length; 0 after an accept succeeded
};

// Each returns the listener (already listening) or null with *err set.
Listener* listen_tcp(Server* s, const std::string& host, int port, int backlog, ListenAddress* out,
                     ListenError* err);
Listener* listen_unix(Server* s, const std::string& path, int backlog, int mode, ListenAddress* out,
                      ListenError* err);
// fd: a socket bound (listening or not) by someone else; it is dup()ed and listen() is
// called on the dup with backlog (on Linux that also resizes an already listening
// socket's queue, for everyone sharing it).
Listener* listen_fd(Server* s, int fd, int backlog, ListenAddress* out, ListenError* err);

}  // namespace tsgi
