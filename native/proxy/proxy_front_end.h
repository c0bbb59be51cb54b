// A listener with the PROXY protocol: the header that comes before anything else on a
// connection (before the TLS handshake on HTTPS), read from the connection's first bytes.
// What it says replaces the peer's address and port, and becomes environ entries every
// request of the connection carries (tsgi.proxy.*, HTTPS). Plain C++: no libuv, no
// Node-API (unit-tested in unit/front_ends_test.cc).
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "../peer_address.h"
#include "../request_record.h"

namespace tsgi {

enum class ProxyRead : uint8_t {
  Incomplete,  // more bytes are needed (*used 0)
  Malformed,   // not a PROXY header: the connection closes without a response
  Done,        // *used bytes were the header; peer and entries are set
};

// The PROXY header at data (len bytes). Done: a header with addresses replaces *peer
// (LOCAL and UNKNOWN leave it), and *entries (allocated on first use) holds its environ
// entries.
ProxyRead read_proxy_front(const char* data, size_t len, PeerAddress* peer,
                           std::unique_ptr<std::vector<EnvironEntry>>* entries, size_t* used);

}  // namespace tsgi
