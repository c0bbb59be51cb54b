// Unit tests of the TLS context and session: an OpenSSL client and the server session
// run against each other purely in memory. The certificates are made by the test
// runner (test/native-tls.test.ts with test/helpers/tls-certs.ts); their directory is
// argv[1]. Plain C++; built with node's OpenSSL headers, linked with -lssl -lcrypto.
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../tls/tls_context.h"
#include "../tls/tls_session.h"
#include "check.h"

using namespace tsgi;
using namespace tsgi::tls;

static std::string cert_dir;

static std::string read_file(const std::string& name) {
  std::ifstream in(cert_dir + "/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

static CertKey cert_key(const std::string& name) {
  CertKey ck;
  ck.cert_pem = read_file(name + ".pem");
  ck.key_pem = read_file(name + ".key");
  ck.cert_name = name + ".pem";
  ck.key_name = name + ".key";
  return ck;
}

static ContextOptions default_options() {
  ContextOptions o;
  o.cert = cert_key("server");
  return o;
}

static std::shared_ptr<TlsContext> make_context(const ContextOptions& o) {
  std::string error;
  std::shared_ptr<TlsContext> ctx = TlsContext::create(o, &error);
  if (!ctx) std::fprintf(stderr, "context error: %s\n", error.c_str());
  return ctx;
}

static std::string context_error(const ContextOptions& o) {
  std::string error;
  std::shared_ptr<TlsContext> ctx = TlsContext::create(o, &error);
  CHECK(ctx == nullptr);
  return error;
}

static std::string pattern(size_t n, unsigned seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i++) s[i] = static_cast<char>((i * 31 + seed) % 251);
  return s;
}

struct Sink : TlsSink {
  std::string plain;
  std::string cipher;
  void tls_plaintext(const char* d, size_t n) override { plain.append(d, n); }
  void tls_ciphertext(const char* d, size_t n) override { cipher.append(d, n); }
};

struct ClientOptions {
  int min_version = 0;
  int max_version = 0;
  const char* sni = nullptr;
  std::string alpn;  // wire format
  bool client_cert = false;
  SSL_SESSION* session = nullptr;
  const char* cipher_list = nullptr;
  bool no_ticket = false;
};

// An OpenSSL client over two memory BIOs.
struct Client {
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  BIO* from_server = nullptr;
  BIO* to_server = nullptr;
  std::string plain;
  bool failed = false;
  bool closed = false;
  std::string error;

  explicit Client(const ClientOptions& o = ClientOptions()) {
    ctx = SSL_CTX_new(TLS_client_method());
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    std::string ca = read_file("ca.pem");
    BIO* b = BIO_new_mem_buf(ca.data(), static_cast<int>(ca.size()));
    X509* x = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
    X509_STORE_add_cert(store, x);
    X509_free(x);
    BIO_free(b);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (o.min_version) SSL_CTX_set_min_proto_version(ctx, o.min_version);
    if (o.max_version) SSL_CTX_set_max_proto_version(ctx, o.max_version);
    if (o.cipher_list) SSL_CTX_set_cipher_list(ctx, o.cipher_list);
    if (o.no_ticket) SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    if (o.client_cert) {
      SSL_CTX_use_certificate_file(ctx, (cert_dir + "/client.pem").c_str(), SSL_FILETYPE_PEM);
      SSL_CTX_use_PrivateKey_file(ctx, (cert_dir + "/client.key").c_str(), SSL_FILETYPE_PEM);
    }
    ssl = SSL_new(ctx);
    from_server = BIO_new(BIO_s_mem());
    to_server = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(from_server, -1);
    SSL_set_bio(ssl, from_server, to_server);
    SSL_set_connect_state(ssl);
    if (o.sni) SSL_set_tlsext_host_name(ssl, o.sni);
    if (!o.alpn.empty())
      SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(o.alpn.data()),
                          static_cast<unsigned>(o.alpn.size()));
    if (o.session) SSL_set_session(ssl, o.session);
    ERR_clear_error();
  }
  ~Client() {
    SSL_free(ssl);
    SSL_CTX_free(ctx);
  }

  // Drives the handshake and reads whatever plaintext arrived.
  void step() {
    if (failed || closed) return;
    char buf[16384];
    for (;;) {
      size_t n = 0;
      if (SSL_read_ex(ssl, buf, sizeof buf, &n) == 1) {
        plain.append(buf, n);
        continue;
      }
      int e = SSL_get_error(ssl, 0);
      if (e == SSL_ERROR_ZERO_RETURN) closed = true;
      else if (e != SSL_ERROR_WANT_READ) {
        failed = true;
        error = drain_openssl_errors();
      }
      ERR_clear_error();
      return;
    }
  }

  void send(const std::string& data, size_t piece) {
    for (size_t off = 0; off < data.size(); off += piece) {
      size_t n = data.size() - off < piece ? data.size() - off : piece;
      size_t w = 0;
      CHECK(SSL_write_ex(ssl, data.data() + off, n, &w) == 1 && w == n);
    }
  }

  std::string peer_cn() {
    X509* peer = SSL_get1_peer_certificate(ssl);
    if (!peer) return "";
    char cn[256] = "";
    X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
    X509_free(peer);
    return cn;
  }
};

// Moves bytes both ways until neither side makes progress. The server is fed in
// pieces whose sizes cycle through `pieces` (empty: all at once). Returns the last
// status of the server session.
static TlsStatus pump(Client& c, TlsSession& s, Sink& sink, const std::vector<size_t>& pieces = {}) {
  TlsStatus status = TlsStatus::Ok;
  size_t k = 0;
  for (int round = 0; round < 10000; round++) {
    bool progress = false;
    c.step();
    size_t pending = BIO_ctrl_pending(c.to_server);
    if (pending > 0 && status == TlsStatus::Ok) {
      std::string bytes(pending, '\0');
      BIO_read(c.to_server, &bytes[0], static_cast<int>(pending));
      for (size_t off = 0; off < bytes.size() && status == TlsStatus::Ok;) {
        size_t n = pieces.empty() ? bytes.size() : pieces[k++ % pieces.size()];
        if (n > bytes.size() - off) n = bytes.size() - off;
        status = s.feed(bytes.data() + off, n);
        off += n;
      }
      progress = true;
    }
    if (!sink.cipher.empty()) {
      BIO_write(c.from_server, sink.cipher.data(), static_cast<int>(sink.cipher.size()));
      sink.cipher.clear();
      progress = true;
    }
    if (!progress) break;
  }
  return status;
}

static void test_handshake_and_data() {
  auto ctx = make_context(default_options());
  CHECK(ctx != nullptr);
  if (!ctx) return;
  Sink sink;
  TlsSession s(ctx, &sink);
  CHECK(s.valid());
  CHECK(!s.handshake_done());
  CHECK(std::strcmp(s.protocol(), "") == 0);
  ClientOptions co;
  co.alpn = std::string("\x02h2\x08http/1.1", 12);
  co.sni = "localhost";
  Client c(co);
  CHECK(pump(c, s, sink) == TlsStatus::Ok);
  CHECK(s.handshake_done());
  CHECK(!c.failed);
  CHECK(SSL_is_init_finished(c.ssl));
  CHECK(SSL_get_verify_result(c.ssl) == X509_V_OK);
  CHECK(std::string(s.protocol()) == "TLSv1.3");
  CHECK(std::string(s.cipher()).size() > 0);
  CHECK(std::string(s.cipher()) == SSL_get_cipher_name(c.ssl));
  CHECK(s.alpn() == "http/1.1");
  CHECK(s.server_name() == "localhost");
  CHECK(s.peer_subject().empty());
  CHECK(!s.peer_verified());
  CHECK(!s.session_reused());
  CHECK(c.peer_cn() == "localhost");

  c.send("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", 1000);
  CHECK(pump(c, s, sink) == TlsStatus::Ok);
  CHECK(sink.plain == "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
  Span parts[3] = {{"HTTP/1.1 200 OK\r\n", 17}, {"Content-Length: 2\r\n\r\n", 21}, {"hi", 2}};
  CHECK(s.write(parts, 3));
  // three small spans are gathered into one record: 5 header bytes + payload + tag
  CHECK(sink.cipher.size() < 17 + 21 + 2 + 5 + 64);
  pump(c, s, sink);
  CHECK(c.plain == "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");

  // close_notify from the server reaches the client; from the client ends the session
  s.close_notify();
  CHECK(!s.write("x", 1));
  pump(c, s, sink);
  CHECK(c.closed);
  SSL_shutdown(c.ssl);
  CHECK(pump(c, s, sink) == TlsStatus::PeerClosed);
  CHECK(s.feed("x", 1) == TlsStatus::PeerClosed);
}

static void test_megabyte_both_ways_at_odd_sizes() {
  auto ctx = make_context(default_options());
  if (!ctx) return;
  Sink sink;
  TlsSession s(ctx, &sink);
  Client c;
  CHECK(pump(c, s, sink, {1, 3, 2, 17}) == TlsStatus::Ok);
  CHECK(s.handshake_done());
  std::string up = pattern(1 << 20, 7);
  c.send(up, 70001);
  CHECK(pump(c, s, sink, {1, 3, 17, 1000, 4093, 16389, 5, 100003}) == TlsStatus::Ok);
  CHECK(sink.plain.size() == up.size());
  CHECK(sink.plain == up);

  std::string down = pattern(1 << 20, 11);
  std::vector<Span> spans;
  const size_t sizes[] = {1, 13, 16383, 16385, 70001, 2, 16384, 7};
  for (size_t off = 0, k = 0; off < down.size(); k++) {
    size_t n = sizes[k % 8];
    if (n > down.size() - off) n = down.size() - off;
    spans.push_back(Span{down.data() + off, n});
    off += n;
  }
  CHECK(s.write(spans.data(), spans.size()));
  pump(c, s, sink);
  CHECK(c.plain.size() == down.size());
  CHECK(c.plain == down);
}

// An idle connection frees OpenSSL's record buffers; the next request and response
// work as before, and a partial record held at that moment is kept.
static void test_release_buffers_between_requests() {
  auto ctx = make_context(default_options());
  if (!ctx) return;
  Sink sink;
  TlsSession s(ctx, &sink);
  Client c;
  s.release_buffers();  // before the handshake: nothing to free, nothing breaks
  CHECK(pump(c, s, sink) == TlsStatus::Ok);
  CHECK(s.handshake_done());
  for (int round = 0; round < 3; round++) {
    std::string req = "GET /" + std::to_string(round) + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
    sink.plain.clear();
    c.send(req, 1000);
    // the record in two feeds with the buffers released in between
    size_t pending = BIO_ctrl_pending(c.to_server);
    std::string bytes(pending, '\0');
    BIO_read(c.to_server, &bytes[0], static_cast<int>(pending));
    size_t half = bytes.size() / 2;
    CHECK(s.feed(bytes.data(), half) == TlsStatus::Ok);
    CHECK(sink.plain.empty());
    s.release_buffers();
    CHECK(s.feed(bytes.data() + half, bytes.size() - half) == TlsStatus::Ok);
    CHECK(sink.plain == req);
    s.release_buffers();
    std::string resp = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n" + std::to_string(round);
    c.plain.clear();
    CHECK(s.write(resp.data(), resp.size()));
    s.release_buffers();
    pump(c, s, sink);
    CHECK(c.plain == resp);
  }
  std::string big = pattern(100000, 3);
  c.plain.clear();
  CHECK(s.write(big.data(), big.size()));
  s.release_buffers();
  pump(c, s, sink);
  CHECK(c.plain == big);
}

static void test_alpn() {
  auto ctx = make_context(default_options());
  if (!ctx) return;
  {
    Sink sink;
    TlsSession s(ctx, &sink);
    Client c;  // no ALPN offered
    CHECK(pump(c, s, sink) == TlsStatus::Ok);
    CHECK(s.handshake_done());
    CHECK(s.alpn().empty());
  }
  {
    Sink sink;
    TlsSession s(ctx, &sink);
    ClientOptions co;
    co.alpn = std::string("\x02h2", 3);
    Client c(co);
    TlsStatus st = pump(c, s, sink);
    CHECK(st == TlsStatus::HandshakeFailed);
    CHECK_CONTAINS(s.error(), "no application protocol");
    CHECK(c.failed);
  }
}

static void test_sni_picks_the_certificate() {
  ContextOptions o = default_options();
  o.sni.push_back(SniEntry{"other.test", cert_key("other")});
  o.sni.push_back(SniEntry{"*.wild.test", cert_key("wild")});
  auto ctx = make_context(o);
  CHECK(ctx != nullptr);
  if (!ctx) return;
  struct Case {
    const char* sni;
    const char* cn;
  } cases[] = {{"other.test", "other.test"}, {"OTHER.test", "other.test"}, {"a.wild.test", "*.wild.test"},
               {"b.a.wild.test", "localhost"}, {"unknown.test", "localhost"}, {nullptr, "localhost"}};
  for (const Case& k : cases) {
    Sink sink;
    TlsSession s(ctx, &sink);
    ClientOptions co;
    co.sni = k.sni;
    Client c(co);
    CHECK(pump(c, s, sink) == TlsStatus::Ok);
    CHECK(s.handshake_done());
    CHECK(c.peer_cn() == k.cn);
    if (c.peer_cn() != k.cn) std::fprintf(stderr, "  sni %s got %s\n", k.sni ? k.sni : "-", c.peer_cn().c_str());
  }
}

static void test_client_certificates() {
  ContextOptions o = default_options();
  o.ca_pem = read_file("ca.pem");
  o.client_certs = ClientCerts::Required;
  auto required = make_context(o);
  o.client_certs = ClientCerts::Optional;
  auto optional = make_context(o);
  CHECK(required && optional);
  if (!required || !optional) return;
  {
    Sink sink;
    TlsSession s(required, &sink);
    Client c;
    CHECK(pump(c, s, sink) == TlsStatus::HandshakeFailed);
    CHECK_CONTAINS(s.error(), "certificate");
  }
  {
    Sink sink;
    TlsSession s(required, &sink);
    ClientOptions co;
    co.client_cert = true;
    Client c(co);
    CHECK(pump(c, s, sink) == TlsStatus::Ok);
    CHECK(s.handshake_done());
    CHECK(s.peer_verified());
    CHECK_CONTAINS(s.peer_subject(), "CN=tsgi client");
    CHECK_CONTAINS(s.peer_subject(), "O=tsgi tests");
  }
  {
    Sink sink;
    TlsSession s(optional, &sink);
    Client c;
    CHECK(pump(c, s, sink) == TlsStatus::Ok);
    CHECK(s.handshake_done());
    CHECK(!s.peer_verified());
    CHECK(s.peer_subject().empty());
  }
  {
    // a client certificate the CA did not sign (the server's own) is refused
    Sink sink;
    TlsSession s(optional, &sink);
    Client c;
    SSL_use_certificate_file(c.ssl, (cert_dir + "/other.pem").c_str(), SSL_FILETYPE_PEM);
    SSL_use_PrivateKey_file(c.ssl, (cert_dir + "/other.key").c_str(), SSL_FILETYPE_PEM);
    CHECK(pump(c, s, sink) == TlsStatus::HandshakeFailed);
    CHECK_CONTAINS(s.error(), "certificate");
  }
}

static void test_old_protocols_refused() {
  auto ctx = make_context(default_options());
  if (!ctx) return;
  {
    Sink sink;
    TlsSession s(ctx, &sink);
    ClientOptions co;
    co.min_version = TLS1_VERSION;
    co.max_version = TLS1_1_VERSION;
    co.cipher_list = "DEFAULT:@SECLEVEL=0";
    Client c(co);
    CHECK(pump(c, s, sink) == TlsStatus::HandshakeFailed);
    CHECK_CONTAINS(s.error(), "unsupported protocol");
    CHECK(c.failed);
  }
  {
    // TLS 1.2 is served by default; a TLSv1.3 floor refuses it
    Sink sink;
    TlsSession s(ctx, &sink);
    ClientOptions co;
    co.max_version = TLS1_2_VERSION;
    Client c(co);
    CHECK(pump(c, s, sink) == TlsStatus::Ok);
    CHECK(std::string(s.protocol()) == "TLSv1.2");
    ContextOptions o = default_options();
    o.min_version = "TLSv1.3";
    auto strict = make_context(o);
    if (!strict) return;
    Sink sink2;
    TlsSession s2(strict, &sink2);
    Client c2(co);
    CHECK(pump(c2, s2, sink2) == TlsStatus::HandshakeFailed);
    CHECK_CONTAINS(s2.error(), "unsupported protocol");
  }
}

static void test_ciphers() {
  ContextOptions o = default_options();
  o.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256";
  auto ctx = make_context(o);
  if (!ctx) return;
  Sink sink;
  TlsSession s(ctx, &sink);
  ClientOptions co;
  co.max_version = TLS1_2_VERSION;
  Client c(co);
  CHECK(pump(c, s, sink) == TlsStatus::Ok);
  CHECK(std::string(s.cipher()) == "ECDHE-ECDSA-AES128-GCM-SHA256");
}

// A full handshake, then a second one offering the first's session.
static void check_resumption(const std::shared_ptr<TlsContext>& ctx, ClientOptions co, const char* what) {
  SSL_SESSION* saved = nullptr;
  {
    Sink sink;
    TlsSession s(ctx, &sink);
    Client c(co);
    CHECK(pump(c, s, sink) == TlsStatus::Ok);
    CHECK(!s.session_reused());
    saved = SSL_get1_session(c.ssl);
    CHECK(saved != nullptr && SSL_SESSION_is_resumable(saved));
    // the client ends cleanly (OpenSSL forgets a session whose connection did not);
    // the server's side ends without close_notify, as when a keep-alive times out
    SSL_shutdown(c.ssl);
  }
  if (saved == nullptr) return;
  co.session = saved;
  Sink sink;
  TlsSession s(ctx, &sink);
  Client c(co);
  CHECK(pump(c, s, sink) == TlsStatus::Ok);
  CHECK(s.handshake_done());
  if (!s.session_reused()) std::fprintf(stderr, "  %s: session not reused\n", what);
  CHECK(s.session_reused());
  CHECK(SSL_session_reused(c.ssl) == 1);
  c.send("ping", 4);
  pump(c, s, sink);
  CHECK(sink.plain == "ping");
  SSL_SESSION_free(saved);
}

static void test_session_resumption() {
  auto ctx = make_context(default_options());
  if (!ctx) return;
  check_resumption(ctx, ClientOptions(), "TLS 1.3 ticket");
  ClientOptions tls12;
  tls12.max_version = TLS1_2_VERSION;
  check_resumption(ctx, tls12, "TLS 1.2 ticket");
  tls12.no_ticket = true;
  check_resumption(ctx, tls12, "TLS 1.2 session cache");
  // with SNI the session stays resumable (the cache is the default context's)
  ContextOptions o = default_options();
  o.sni.push_back(SniEntry{"other.test", cert_key("other")});
  auto sni = make_context(o);
  if (!sni) return;
  ClientOptions named;
  named.sni = "other.test";
  check_resumption(sni, named, "TLS 1.3 ticket with SNI");
  named.max_version = TLS1_2_VERSION;
  named.no_ticket = true;
  check_resumption(sni, named, "TLS 1.2 session cache with SNI");
}

static void test_plain_http_and_garbage() {
  auto ctx = make_context(default_options());
  if (!ctx) return;
  {
    Sink sink;
    TlsSession s(ctx, &sink);
    CHECK(s.feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27) == TlsStatus::PlainHttp);
    CHECK(sink.cipher.empty());
    CHECK(s.feed("\x16", 1) == TlsStatus::PlainHttp);
  }
  {
    Sink sink;
    TlsSession s(ctx, &sink);
    CHECK(s.feed("P", 1) == TlsStatus::PlainHttp);
  }
  {
    Sink sink;
    TlsSession s(ctx, &sink);
    CHECK(s.feed("\x00\x01\x02", 3) == TlsStatus::HandshakeFailed);
    CHECK_CONTAINS(s.error(), "not a TLS handshake");
  }
  {
    // a TLS record header, then garbage
    Sink sink;
    TlsSession s(ctx, &sink);
    CHECK(s.feed("\x16\x03\x01\x00\x05hello", 10) == TlsStatus::HandshakeFailed);
    CHECK(!s.error().empty());
  }
}

static void test_renegotiation_refused() {
  auto ctx = make_context(default_options());
  if (!ctx) return;
  Sink sink;
  TlsSession s(ctx, &sink);
  ClientOptions co;
  co.max_version = TLS1_2_VERSION;
  Client c(co);
  CHECK(pump(c, s, sink) == TlsStatus::Ok);
  c.send("before", 6);
  CHECK(pump(c, s, sink) == TlsStatus::Ok);
  CHECK(sink.plain == "before");
  CHECK(SSL_renegotiate(c.ssl) == 1);
  SSL_do_handshake(c.ssl);
  ERR_clear_error();
  CHECK(pump(c, s, sink) == TlsStatus::Renegotiation);
  CHECK_CONTAINS(s.error(), "renegotiate");
}

static void test_reload_keeps_existing_sessions() {
  auto first = make_context(default_options());
  if (!first) return;
  Sink old_sink;
  auto old_session = std::make_unique<TlsSession>(first, &old_sink);
  Client old_client;
  CHECK(pump(old_client, *old_session, old_sink) == TlsStatus::Ok);
  CHECK(old_client.peer_cn() == "localhost");

  // the reload: a new context replaces the old one for new handshakes
  ContextOptions o = default_options();
  o.cert = cert_key("server2");
  std::shared_ptr<TlsContext> current = make_context(o);
  first.reset();
  if (!current) return;
  Sink sink;
  TlsSession s(current, &sink);
  Client c;
  CHECK(pump(c, s, sink) == TlsStatus::Ok);
  CHECK(c.peer_cn() == "localhost-2");

  // the old connection still works on its own context
  old_client.send("still here", 3);
  CHECK(pump(old_client, *old_session, old_sink) == TlsStatus::Ok);
  CHECK(old_sink.plain == "still here");
  CHECK(old_session->write("yes", 3));
  pump(old_client, *old_session, old_sink);
  CHECK(old_client.plain == "yes");
  old_session.reset();
}

static void test_context_errors() {
  {
    ContextOptions o = default_options();
    o.cert.key_pem = read_file("other.key");
    o.cert.key_name = "/etc/tls/other.key";
    std::string e = context_error(o);
    CHECK_CONTAINS(e, "/etc/tls/other.key does not match the certificate in server.pem");
  }
  {
    ContextOptions o = default_options();
    o.cert.key_pem = read_file("server-enc.key");
    CHECK_CONTAINS(context_error(o), "is encrypted and no passphrase was given");
    o.cert.passphrase = "wrong";
    CHECK_CONTAINS(context_error(o), "cannot be decrypted: is the passphrase right?");
    o.cert.passphrase = "tsgi-secret";
    auto ctx = make_context(o);
    CHECK(ctx != nullptr);
    if (ctx) {
      Sink sink;
      TlsSession s(ctx, &sink);
      Client c;
      CHECK(pump(c, s, sink) == TlsStatus::Ok);
    }
  }
  {
    ContextOptions o = default_options();
    o.cert.cert_pem = "hello";
    CHECK_CONTAINS(context_error(o), "server.pem holds no PEM certificate");
    o.cert.cert_pem = "";
    CHECK_CONTAINS(context_error(o), "server.pem is empty");
  }
  {
    ContextOptions o = default_options();
    o.cert.key_pem = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
    CHECK_CONTAINS(context_error(o), "server.key holds no PEM private key");
  }
  {
    ContextOptions o = default_options();
    o.min_version = "TLSv9";
    CHECK_CONTAINS(context_error(o), "unknown minimum TLS version 'TLSv9'");
    o.min_version = "TLSv1.3";
    CHECK(make_context(o) != nullptr);
  }
  {
    ContextOptions o = default_options();
    o.client_certs = ClientCerts::Required;
    CHECK_CONTAINS(context_error(o), "need CA certificates");
    o.ca_pem = "nothing";
    CHECK_CONTAINS(context_error(o), "CA certificates hold no PEM certificate");
  }
  {
    ContextOptions o = default_options();
    o.ciphers = "NO-SUCH-CIPHER";
    CHECK_CONTAINS(context_error(o), "'NO-SUCH-CIPHER' selects no usable cipher");
  }
  {
    ContextOptions o = default_options();
    o.sni.push_back(SniEntry{"other.test", cert_key("other")});
    o.sni.push_back(SniEntry{"Other.Test", cert_key("other")});
    CHECK_CONTAINS(context_error(o), "SNI host 'Other.Test' is given twice");
    o.sni.pop_back();
    o.sni.push_back(SniEntry{"bad host", cert_key("other")});
    CHECK_CONTAINS(context_error(o), "is not a host name");
    o.sni.pop_back();
    CertKey wrong = cert_key("other");
    wrong.key_pem = read_file("wild.key");
    wrong.key_name = "wild.key";
    o.sni.push_back(SniEntry{"x.test", wrong});
    CHECK_CONTAINS(context_error(o), "SNI x.test: wild.key does not match");
  }
  CHECK(ERR_peek_error() == 0);  // nothing left on OpenSSL's error queue
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: tls_test CERT_DIR\n");
    return 2;
  }
  cert_dir = argv[1];
  test_handshake_and_data();
  test_megabyte_both_ways_at_odd_sizes();
  test_release_buffers_between_requests();
  test_alpn();
  test_sni_picks_the_certificate();
  test_client_certificates();
  test_old_protocols_refused();
  test_ciphers();
  test_session_resumption();
  test_plain_http_and_garbage();
  test_renegotiation_refused();
  test_reload_keeps_existing_sessions();
  test_context_errors();
  return tsgi::unit::checks_result("tls_test");
}
