// What a listener speaks: the protocol of its requests (HTTP/1.1 or uwsgi packets) and
// whether a PROXY protocol header comes first, from whom. Set from JS (binding.cc) when
// the listener opens; each accepted connection copies what it needs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "proxy/allow_list.h"

namespace tsgi {

enum class ListenProtocol : uint8_t { Http, Uwsgi };

struct ListenOptions {
  ListenProtocol protocol = ListenProtocol::Http;
  size_t uwsgi_buffer_size = 4096;  // uwsgi: the largest packet (its variables), 1..65535
  bool proxy_protocol = false;      // every connection starts with a PROXY header
  std::vector<CidrRange> proxy_allow;  // who may send it (IP peers; Unix peers always may)
};

}  // namespace tsgi
