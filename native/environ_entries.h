// Environ entries a listener protocol sets outright (the request record's override
// entries, request_record.h): built once per connection (PROXY protocol) or per request
// (uwsgi). Plain C++, no Node.
#pragma once

#include <string>
#include <vector>

#include "proxy/proxy_protocol.h"
#include "request_record.h"
#include "uwsgi/uwsgi_parser.h"

namespace tsgi {

// The PROXY header as 'tsgi.proxy.<name>' entries (the environ gathers them into the
// tsgi.proxy object): version, command (PROXY, LOCAL), family (TCP4, TCP6, UNIX,
// UNKNOWN), sourceAddress, sourcePort, destinationAddress, destinationPort (TCP only),
// alpn, authority, uniqueId, and from an SSL record ssl ('1' when the client spoke TLS to
// the proxy), sslClient, sslVerify (decimal), sslVersion, sslCipher, sslCn, sslSigAlg,
// sslKeyAlg, each only when present. When the SSL record says the client used TLS, also
// HTTPS = 'on' and wsgi.url_scheme = 'https'.
void proxy_environ_entries(const ProxyHeader& h, std::vector<EnvironEntry>* out);

// The uwsgi variables that are not the request line, the headers or the peer, as
// entries: SERVER_NAME, SERVER_PORT, SERVER_PROTOCOL when the packet has them; HTTPS =
// 'on' and wsgi.url_scheme = 'https' when HTTPS or the scheme say so; QUERY_STRING when
// the variable differs from the query of REQUEST_URI (nginx rewrote $args).
void uwsgi_environ_entries(const UwsgiRequest& u, std::vector<EnvironEntry>* out);

}  // namespace tsgi
