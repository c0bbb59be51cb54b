// Listening sockets (TCP, Unix, or inherited fds) as libuv handles owned by the addon;
// accepting hands each socket to a new Connection.
#pragma once

#include <string>

#include "loop_data.h"

namespace tsgi {

class Server;

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
  void close();

  Server* server;
  int index = 0;       // REC_LISTENER
  int port = 0;        // REC_LOCAL_PORT (0 for Unix sockets)
  bool is_pipe;
  bool closing = false;
  std::string unlink_path;  // the socket file this listener created
  union {
    uv_tcp_t tcp;
    uv_pipe_t pipe;
    uv_stream_t stream;
    uv_handle_t handle;
  } h;

  static void on_connection(uv_stream_t* s, int status);
  static void on_close(uv_handle_t* h);
};

// Each returns the listener (already listening) or null with *err set.
Listener* listen_tcp(Server* s, const std::string& host, int port, int backlog, ListenAddress* out,
                     ListenError* err);
Listener* listen_unix(Server* s, const std::string& path, int backlog, int mode, ListenAddress* out,
                      ListenError* err);
Listener* listen_fd(Server* s, int fd, ListenAddress* out, ListenError* err);

}  // namespace tsgi
