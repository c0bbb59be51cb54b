// Environ entries set by the PROXY protocol and the uwsgi protocol (see environ_entries.h).
#include "environ_entries.h"

#include <cstring>

namespace tsgi {

namespace {

void add(std::vector<EnvironEntry>* out, const char* key, const char* value, size_t len) {
  out->push_back(EnvironEntry{key, std::string(value, len)});
}
void add(std::vector<EnvironEntry>* out, const char* key, const std::string& value) {
  out->push_back(EnvironEntry{key, value});
}
void add(std::vector<EnvironEntry>* out, const char* key, Span s) {
  if (s.len > 0) add(out, key, s.data, s.len);
}

}  // namespace

void proxy_environ_entries(const ProxyHeader& h, std::vector<EnvironEntry>* out) {
  add(out, "tsgi.proxy.version", h.version == 1 ? "1" : "2");
  add(out, "tsgi.proxy.command", h.command == ProxyCommand::Proxy ? "PROXY" : "LOCAL");
  const char* family = h.family == ProxyFamily::Inet ? "TCP4"
                       : h.family == ProxyFamily::Inet6 ? "TCP6"
                       : h.family == ProxyFamily::Unix ? "UNIX"
                                                       : "UNKNOWN";
  add(out, "tsgi.proxy.family", family);
  if (h.has_addresses()) {
    char text[64];
    size_t n = format_proxy_address(h, true, text, sizeof text);
    add(out, "tsgi.proxy.sourceAddress", text, n);
    add(out, "tsgi.proxy.sourcePort", std::to_string(h.src_port));
    n = format_proxy_address(h, false, text, sizeof text);
    add(out, "tsgi.proxy.destinationAddress", text, n);
    add(out, "tsgi.proxy.destinationPort", std::to_string(h.dst_port));
  }
  add(out, "tsgi.proxy.alpn", h.alpn);
  add(out, "tsgi.proxy.authority", h.authority);
  add(out, "tsgi.proxy.uniqueId", h.unique_id);
  if (h.ssl.present) {
    const bool tls = (h.ssl.client & kPp2ClientSsl) != 0;
    add(out, "tsgi.proxy.ssl", tls ? "1" : "0");
    add(out, "tsgi.proxy.sslClient", std::to_string(h.ssl.client));
    add(out, "tsgi.proxy.sslVerify", std::to_string(h.ssl.verify));
    add(out, "tsgi.proxy.sslVersion", h.ssl.version);
    add(out, "tsgi.proxy.sslCipher", h.ssl.cipher);
    add(out, "tsgi.proxy.sslCn", h.ssl.cn);
    add(out, "tsgi.proxy.sslSigAlg", h.ssl.sig_alg);
    add(out, "tsgi.proxy.sslKeyAlg", h.ssl.key_alg);
    if (tls) {
      add(out, "HTTPS", "on");
      add(out, "wsgi.url_scheme", "https");
    }
  }
}

void uwsgi_environ_entries(const UwsgiRequest& u, std::vector<EnvironEntry>* out) {
  add(out, "SERVER_NAME", u.server_name);
  add(out, "SERVER_PORT", u.server_port);
  add(out, "SERVER_PROTOCOL", u.protocol);
  if (u.https) {
    add(out, "HTTPS", "on");
    add(out, "wsgi.url_scheme", "https");
  }
  if (u.has_query_string) {
    // The query the record carries is the target's, after '?'.
    const Span t = u.head.target;
    const char* q = static_cast<const char*>(std::memchr(t.data, '?', t.len));
    const bool target_query = u.has_request_uri && q != nullptr;
    const size_t qlen = target_query ? static_cast<size_t>(t.data + t.len - q - 1) : 0;
    const bool same = target_query ? (qlen == u.query_string.len && std::memcmp(q + 1, u.query_string.data, qlen) == 0)
                                   : u.query_string.len == 0;
    if (!same) out->push_back(EnvironEntry{"QUERY_STRING", std::string(u.query_string.data, u.query_string.len)});
  }
}

}  // namespace tsgi
