// The client's address as the request record carries it: printable text (empty on Unix
// sockets) and port. Set from the socket at accept, or from a PROXY header. Plain C++.
#pragma once

#include <cstdint>
#include <cstring>

namespace tsgi {

struct PeerAddress {
  char text[46];  // INET6_ADDRSTRLEN
  uint8_t len = 0;
  uint16_t port = 0;

  // text holds a NUL-terminated address: len from it; an IPv4 client given as an
  // IPv4-mapped IPv6 address ("::ffff:1.2.3.4", a dual-stack listener or a PROXY header
  // from one) reads as IPv4, as on an IPv4 socket.
  void text_written() {
    if (std::strncmp(text, "::ffff:", 7) == 0 && std::strchr(text + 7, '.'))
      std::memmove(text, text + 7, std::strlen(text + 7) + 1);
    len = static_cast<uint8_t>(std::strlen(text));
  }
  void clear() {
    text[0] = '\0';
    len = 0;
    port = 0;
  }
};

}  // namespace tsgi
