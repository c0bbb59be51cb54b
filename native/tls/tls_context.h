// A server TLS configuration: certificates, client-certificate policy, protocol floor,
// ciphers, ALPN, SNI and session resumption, built once into OpenSSL SSL_CTX objects.
// Plain C++ over OpenSSL (the OpenSSL inside the node binary when built as the addon;
// the headers are node's include/node/openssl). No Node-API, no libuv.
//
// Reload builds a new TlsContext; sessions hold a shared_ptr to the one they started
// with, so existing connections keep their certificates while new handshakes get the
// new ones.
#pragma once

#include <memory>
#include <string>
#include <vector>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct bio_st BIO;

namespace tsgi {
namespace tls {

// A certificate chain (leaf first, then intermediates) and its private key, PEM bytes.
// The names say where the bytes came from (a path, "sni example.com cert", ...) and are
// only used in error messages.
struct CertKey {
  std::string cert_pem;
  std::string key_pem;
  std::string passphrase;  // for an encrypted key; empty when the key is not encrypted
  std::string cert_name = "certificate";
  std::string key_name = "key";
};

enum class ClientCerts : unsigned char {
  None,      // no certificate is requested
  Optional,  // requested; a client without one is served, an invalid one is refused
  Required,  // a client without a valid certificate is refused
};

struct SniEntry {
  std::string host;  // "example.com" or "*.example.com" (matches one label)
  CertKey cert;
};

struct ContextOptions {
  CertKey cert;                   // the default certificate
  std::string ca_pem;             // CA certificates trusted for client certificates
  ClientCerts client_certs = ClientCerts::None;
  std::string ciphers;            // OpenSSL cipher list for TLS <= 1.2; empty = default
  std::string ciphersuites;       // TLS 1.3 suites; empty = default
  std::string min_version = "TLSv1.2";  // TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3
  std::vector<SniEntry> sni;
  long session_timeout = 300;     // seconds a session can be resumed
};

// The protocol number ("TLSv1.2" → TLS1_2_VERSION), or 0 when the name is unknown.
int protocol_version_from_name(const std::string& name);

class TlsContext {
 public:
  // Builds the contexts. On failure returns null and sets *error to a message naming
  // what was wrong ("key /etc/tls/key.pem does not match certificate /etc/tls/cert.pem").
  static std::shared_ptr<TlsContext> create(const ContextOptions& options, std::string* error);

  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // A new server-side SSL object on the default context (SNI may switch it during the
  // handshake). Null on allocation failure.
  SSL* new_ssl() const;

  ClientCerts client_certs() const { return client_certs_; }

  // The context serving a server name (exact name first, then "*.parent"), or null
  // when no SNI certificate matches (the default certificate is used).
  SSL_CTX* context_for_name(const char* name) const;

 private:
  TlsContext() = default;
  struct Named {
    std::string host;  // lower case; "*.example.com" for a wildcard
    SSL_CTX* ctx;
  };
  SSL_CTX* main_ = nullptr;
  std::vector<Named> named_;
  ClientCerts client_certs_ = ClientCerts::None;
};

// The text of OpenSSL's error queue (oldest first, "; "-separated), clearing it.
std::string drain_openssl_errors();

}  // namespace tls
}  // namespace tsgi
