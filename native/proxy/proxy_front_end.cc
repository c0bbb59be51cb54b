// The PROXY protocol header of a connection; see proxy_front_end.h.
#include "proxy_front_end.h"

#include "../environ_entries.h"
#include "proxy_protocol.h"

namespace tsgi {

ProxyRead read_proxy_front(const char* data, size_t len, PeerAddress* peer,
                           std::unique_ptr<std::vector<EnvironEntry>>* entries, size_t* used) {
  *used = 0;
  ProxyHeader ph;
  ProxyStatus st = parse_proxy_header(data, len, ProxyLimits{}, &ph, used);
  if (st == ProxyStatus::Incomplete) return ProxyRead::Incomplete;
  // Nothing is answered to an error: the bytes are not a request, and the peer is a
  // proxy that sent something else than it was configured to.
  if (st == ProxyStatus::Error) return ProxyRead::Malformed;
  if (ph.has_addresses()) {
    format_proxy_address(ph, true, peer->text, sizeof peer->text);
    peer->text_written();
    peer->port = ph.src_port;
  }
  if (!*entries) entries->reset(new std::vector<EnvironEntry>());
  (*entries)->clear();
  proxy_environ_entries(ph, entries->get());
  return ProxyRead::Done;
}

}  // namespace tsgi
