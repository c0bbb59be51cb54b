#include "tls_context.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstring>

namespace tsgi {
namespace tls {

namespace {

const unsigned char kSessionIdContext[] = "tsgi";

std::string lower(const char* s, size_t n) {
  std::string out(s, n);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

BioPtr memory_bio(const std::string& bytes) {
  return BioPtr(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

// True when the last error on the queue is "no more PEM blocks" (the normal end of a
// bundle); the queue is cleared either way.
bool end_of_pem_bundle() {
  unsigned long e = ERR_peek_last_error();
  bool at_end = ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
  if (at_end) ERR_clear_error();
  return at_end;
}

struct Passphrase {
  const std::string* text;
  bool asked = false;
};

int passphrase_callback(char* buf, int size, int /*rwflag*/, void* user) {
  Passphrase* p = static_cast<Passphrase*>(user);
  p->asked = true;
  if (p->text->empty() || p->text->size() > static_cast<size_t>(size)) return -1;
  std::memcpy(buf, p->text->data(), p->text->size());
  return static_cast<int>(p->text->size());
}

bool fail(std::string* error, const std::string& what) {
  std::string detail = drain_openssl_errors();
  *error = detail.empty() ? what : what + " (" + detail + ")";
  return false;
}

bool load_cert_key(SSL_CTX* ctx, const CertKey& ck, std::string* error) {
  if (ck.cert_pem.empty()) return fail(error, ck.cert_name + " is empty");
  if (ck.key_pem.empty()) return fail(error, ck.key_name + " is empty");
  BioPtr cert_bio = memory_bio(ck.cert_pem);
  X509* leaf = PEM_read_bio_X509_AUX(cert_bio.get(), nullptr, nullptr, nullptr);
  if (leaf == nullptr) return fail(error, ck.cert_name + " holds no PEM certificate");
  int ok = SSL_CTX_use_certificate(ctx, leaf);
  X509_free(leaf);
  if (ok != 1) return fail(error, ck.cert_name + " cannot be used");
  SSL_CTX_clear_chain_certs(ctx);
  for (;;) {
    X509* extra = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr);
    if (extra == nullptr) {
      if (!end_of_pem_bundle())
        return fail(error, ck.cert_name + " holds a malformed certificate after the first one");
      break;
    }
    if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {
      X509_free(extra);
      return fail(error, ck.cert_name + ": an intermediate certificate cannot be used");
    }
  }

  BioPtr key_bio = memory_bio(ck.key_pem);
  Passphrase pass{&ck.passphrase};
  EVP_PKEY* key = PEM_read_bio_PrivateKey(key_bio.get(), nullptr, passphrase_callback, &pass);
  if (key == nullptr) {
    bool encrypted = ck.key_pem.find("ENCRYPTED") != std::string::npos;
    if (encrypted && ck.passphrase.empty())
      return fail(error, ck.key_name + " is encrypted and no passphrase was given");
    if (encrypted || (pass.asked && !ck.passphrase.empty()))
      return fail(error, ck.key_name + " cannot be decrypted: is the passphrase right?");
    return fail(error, ck.key_name + " holds no PEM private key");
  }
  ok = SSL_CTX_use_PrivateKey(ctx, key);
  EVP_PKEY_free(key);
  if (ok != 1) {
    int reason = ERR_GET_REASON(ERR_peek_last_error());
    if (reason == X509_R_KEY_VALUES_MISMATCH || reason == X509_R_KEY_TYPE_MISMATCH)
      return fail(error, ck.key_name + " does not match the certificate in " + ck.cert_name);
    return fail(error, ck.key_name + " cannot be used with " + ck.cert_name);
  }
  if (SSL_CTX_check_private_key(ctx) != 1)
    return fail(error, ck.key_name + " does not match the certificate in " + ck.cert_name);
  return true;
}

bool load_ca(SSL_CTX* ctx, const std::string& pem, std::string* error) {
  BioPtr bio = memory_bio(pem);
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  int count = 0;
  for (;;) {
    X509* ca = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (ca == nullptr) {
      if (!end_of_pem_bundle()) return fail(error, "the CA certificates hold a malformed certificate");
      break;
    }
    count++;
    bool added = X509_STORE_add_cert(store, ca) == 1 && SSL_CTX_add_client_CA(ctx, ca) == 1;
    X509_free(ca);
    if (!added) return fail(error, "a CA certificate cannot be used");
  }
  if (count == 0) return fail(error, "the CA certificates hold no PEM certificate");
  return true;
}

// ALPN: HTTP/1.1 (or 1.0) when the client offers it; a client offering only other
// protocols (h2 alone) is refused with no_application_protocol, as RFC 7301 says.
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void*) {
  static const char* const kAccepted[] = {"http/1.1", "http/1.0"};
  for (const char* want : kAccepted) {
    size_t want_len = std::strlen(want);
    for (unsigned int i = 0; i < inlen;) {
      unsigned int len = in[i];
      if (i + 1 + len > inlen) break;
      if (len == want_len && std::memcmp(in + i + 1, want, len) == 0) {
        *out = in + i + 1;
        *outlen = static_cast<unsigned char>(len);
        return SSL_TLSEXT_ERR_OK;
      }
      i += 1 + len;
    }
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

int select_certificate(SSL* ssl, int* /*alert*/, void* arg) {
  const TlsContext* self = static_cast<const TlsContext*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name == nullptr) return SSL_TLSEXT_ERR_NOACK;
  SSL_CTX* ctx = self->context_for_name(name);
  if (ctx != nullptr && SSL_set_SSL_CTX(ssl, ctx) == nullptr) return SSL_TLSEXT_ERR_ALERT_FATAL;
  return SSL_TLSEXT_ERR_OK;
}

// Everything but the certificate, the same for the default and the SNI contexts (the
// SNI switch keeps the SSL's verify mode but verifies with the new context's store).
bool configure(SSL_CTX* ctx, const ContextOptions& o, std::string* error) {
  int min = protocol_version_from_name(o.min_version);
  if (min == 0)
    return fail(error, "unknown minimum TLS version '" + o.min_version +
                           "' (use TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3)");
  if (SSL_CTX_set_min_proto_version(ctx, min) != 1) return fail(error, "minimum TLS version " + o.min_version + " refused");
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
  // No SSL_MODE_RELEASE_BUFFERS: it frees and allocates the record buffers (about 17 KB
  // each way) around every record, so twice per keep-alive request. A connection gives
  // them back when it is idle instead (TlsSession::release_buffers).
  if (!o.ciphers.empty() && SSL_CTX_set_cipher_list(ctx, o.ciphers.c_str()) != 1)
    return fail(error, "the cipher list '" + o.ciphers + "' selects no usable cipher");
  if (!o.ciphersuites.empty() && SSL_CTX_set_ciphersuites(ctx, o.ciphersuites.c_str()) != 1)
    return fail(error, "the TLS 1.3 cipher suites '" + o.ciphersuites + "' are not valid");
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
  SSL_CTX_set_session_id_context(ctx, kSessionIdContext, sizeof kSessionIdContext - 1);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  SSL_CTX_set_timeout(ctx, o.session_timeout);
  SSL_CTX_set_num_tickets(ctx, 1);
  if (o.client_certs != ClientCerts::None) {
    if (o.ca_pem.empty())
      return fail(error, "client certificates (optional or required) need CA certificates to verify them");
    if (!load_ca(ctx, o.ca_pem, error)) return false;
    int mode = SSL_VERIFY_PEER;
    if (o.client_certs == ClientCerts::Required) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, nullptr);
  } else if (!o.ca_pem.empty()) {
    if (!load_ca(ctx, o.ca_pem, error)) return false;
  }
  return true;
}

SSL_CTX* build(const ContextOptions& o, const CertKey& ck, std::string* error) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) {
    fail(error, "cannot create a TLS context");
    return nullptr;
  }
  if (!configure(ctx, o, error) || !load_cert_key(ctx, ck, error)) {
    SSL_CTX_free(ctx);
    return nullptr;
  }
  return ctx;
}

bool valid_sni_host(const std::string& h) {
  if (h.empty() || h.size() > 253) return false;
  size_t start = h.compare(0, 2, "*.") == 0 ? 2 : 0;
  if (start == h.size()) return false;
  for (size_t i = start; i < h.size(); i++) {
    char c = h[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

int protocol_version_from_name(const std::string& name) {
  if (name == "TLSv1" || name == "TLSv1.0") return TLS1_VERSION;
  if (name == "TLSv1.1") return TLS1_1_VERSION;
  if (name == "TLSv1.2") return TLS1_2_VERSION;
  if (name == "TLSv1.3") return TLS1_3_VERSION;
  return 0;
}

std::string drain_openssl_errors() {
  std::string out;
  const char* data = nullptr;
  int flags = 0;
  unsigned long e;
  while ((e = ERR_get_error_all(nullptr, nullptr, nullptr, &data, &flags)) != 0) {
    if (!out.empty()) out += "; ";
    const char* reason = ERR_reason_error_string(e);
    if (reason != nullptr) {
      out += reason;
    } else {
      char buf[256];
      ERR_error_string_n(e, buf, sizeof buf);
      out += buf;
    }
    if (data != nullptr && (flags & ERR_TXT_STRING) != 0 && *data != '\0') {
      out += ": ";
      out += data;
    }
  }
  return out;
}

std::shared_ptr<TlsContext> TlsContext::create(const ContextOptions& o, std::string* error) {
  ERR_clear_error();
  std::shared_ptr<TlsContext> self(new TlsContext());
  self->client_certs_ = o.client_certs;
  self->main_ = build(o, o.cert, error);
  if (self->main_ == nullptr) return nullptr;
  for (const SniEntry& entry : o.sni) {
    std::string host = lower(entry.host.data(), entry.host.size());
    if (!host.empty() && host.back() == '.') host.pop_back();
    if (!valid_sni_host(host)) {
      *error = "SNI host '" + entry.host + "' is not a host name or *.wildcard";
      return nullptr;
    }
    for (const Named& n : self->named_) {
      if (n.host == host) {
        *error = "SNI host '" + entry.host + "' is given twice";
        return nullptr;
      }
    }
    SSL_CTX* ctx = build(o, entry.cert, error);
    if (ctx == nullptr) {
      *error = "SNI " + entry.host + ": " + *error;
      return nullptr;
    }
    self->named_.push_back(Named{host, ctx});
  }
  if (!self->named_.empty()) {
    SSL_CTX_set_tlsext_servername_callback(self->main_, select_certificate);
    SSL_CTX_set_tlsext_servername_arg(self->main_, self.get());
  }
  return self;
}

TlsContext::~TlsContext() {
  for (Named& n : named_) SSL_CTX_free(n.ctx);
  if (main_ != nullptr) SSL_CTX_free(main_);
}

SSL* TlsContext::new_ssl() const {
  SSL* ssl = SSL_new(main_);
  if (ssl == nullptr) {
    ERR_clear_error();
    return nullptr;
  }
  SSL_set_accept_state(ssl);
  return ssl;
}

SSL_CTX* TlsContext::context_for_name(const char* name) const {
  size_t len = std::strlen(name);
  if (len > 0 && name[len - 1] == '.') len--;
  std::string host = lower(name, len);
  for (const Named& n : named_)
    if (n.host == host) return n.ctx;
  size_t dot = host.find('.');
  if (dot == std::string::npos || dot == 0) return nullptr;
  std::string wildcard = "*" + host.substr(dot);
  for (const Named& n : named_)
    if (n.host == wildcard) return n.ctx;
  return nullptr;
}

}  // namespace tls
}  // namespace tsgi
