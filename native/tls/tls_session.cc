#include "tls_session.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstring>

namespace tsgi {
namespace tls {

namespace {

// TLS's largest plaintext record: gathering small spans up to it makes one record.
constexpr size_t kRecordPayload = 16384;

// The BIO method shared by every session: reads come from the span being fed, writes
// go straight to the session's sink. Created once per process, never freed.
BIO_METHOD* session_bio_method() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "tsgi session");
    return m;
  }();
  return method;
}

// SSL_get_error() and the error text read the thread's error queue, so it must be empty
// before a call. It almost always is: peeking costs less than clearing all its slots.
void clear_errors() {
  if (ERR_peek_error() != 0) ERR_clear_error();
}

// First byte of a TLS handshake record.
constexpr unsigned char kHandshakeRecord = 0x16;

}  // namespace

const char* tls_status_name(TlsStatus status) {
  switch (status) {
    case TlsStatus::Ok: return "ok";
    case TlsStatus::PeerClosed: return "peer closed";
    case TlsStatus::PlainHttp: return "plain HTTP on a TLS port";
    case TlsStatus::HandshakeFailed: return "handshake failed";
    case TlsStatus::Renegotiation: return "renegotiation refused";
    case TlsStatus::Error: return "TLS error";
  }
  return "?";
}

int TlsSession::bio_write(BIO* bio, const char* data, int len) {
  TlsSession* self = static_cast<TlsSession*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  if (len > 0) self->sink_->tls_ciphertext(data, static_cast<size_t>(len));
  return len;
}

int TlsSession::bio_read(BIO* bio, char* out, int len) {
  TlsSession* self = static_cast<TlsSession*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  if (self->in_len_ == 0) {
    BIO_set_retry_read(bio);
    return -1;
  }
  size_t n = self->in_len_ < static_cast<size_t>(len) ? self->in_len_ : static_cast<size_t>(len);
  std::memcpy(out, self->in_, n);
  self->in_ += n;
  self->in_len_ -= n;
  return static_cast<int>(n);
}

long TlsSession::bio_ctrl(BIO* bio, int cmd, long, void*) {
  TlsSession* self = static_cast<TlsSession*>(BIO_get_data(bio));
  switch (cmd) {
    case BIO_CTRL_FLUSH: return 1;
    case BIO_CTRL_PENDING: return self != nullptr ? static_cast<long>(self->in_len_) : 0;
    case BIO_CTRL_WPENDING: return 0;
    default: return 0;
  }
}

// Every record header read is seen here before OpenSSL processes the record. After
// the handshake a TLS <= 1.2 peer has no business sending a handshake record but to
// renegotiate (TLS 1.3 hides record types after the handshake).
void TlsSession::on_message(int write_p, int, int content_type, const void* buf, size_t len,
                            SSL* ssl, void* arg) {
  if (write_p != 0 || content_type != SSL3_RT_HEADER || len < 1) return;
  if (static_cast<const unsigned char*>(buf)[0] != kHandshakeRecord) return;
  if (!SSL_is_init_finished(ssl) || SSL_version(ssl) >= TLS1_3_VERSION) return;
  static_cast<TlsSession*>(arg)->renegotiation_ = true;
}

TlsSession::TlsSession(std::shared_ptr<const TlsContext> context, TlsSink* sink)
    : context_(std::move(context)), sink_(sink) {
  BIO_METHOD* method = session_bio_method();
  if (method == nullptr) return;
  static bool method_ready = [method] {
    return BIO_meth_set_write(method, bio_write) == 1 && BIO_meth_set_read(method, bio_read) == 1 &&
           BIO_meth_set_ctrl(method, bio_ctrl) == 1;
  }();
  if (!method_ready) return;
  ssl_ = context_->new_ssl();
  if (ssl_ == nullptr) return;
  BIO* bio = BIO_new(method);
  if (bio == nullptr) {
    SSL_free(ssl_);
    ssl_ = nullptr;
    ERR_clear_error();
    return;
  }
  BIO_set_data(bio, this);
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl_, bio, bio);  // one reference, used for both directions
  SSL_set_msg_callback(ssl_, on_message);
  SSL_set_msg_callback_arg(ssl_, this);
}

TlsSession::~TlsSession() {
  if (ssl_ == nullptr) return;
  // OpenSSL drops a session from the cache when its connection ends without
  // close_notify; a connection that ended cleanly on our side (keep-alive timeout,
  // peer gone) keeps its session resumable.
  if (handshake_done_ && (status_ == TlsStatus::Ok || status_ == TlsStatus::PeerClosed))
    SSL_set_shutdown(ssl_, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  SSL_free(ssl_);
}

TlsStatus TlsSession::finish(TlsStatus status) {
  status_ = status;
  in_ = nullptr;
  in_len_ = 0;
  return status;
}

TlsStatus TlsSession::fail(TlsStatus status, const char* what) {
  std::string detail = drain_openssl_errors();
  error_ = detail.empty() ? what : std::string(what) + ": " + detail;
  return finish(status);
}

TlsStatus TlsSession::feed(const char* data, size_t len) {
  if (status_ != TlsStatus::Ok) return status_;
  if (ssl_ == nullptr) {
    error_ = "out of memory for a TLS connection";
    return finish(TlsStatus::Error);
  }
  if (len == 0) return TlsStatus::Ok;
  if (fed_total_ == 0 && static_cast<unsigned char>(data[0]) != kHandshakeRecord) {
    // An upper-case letter opens an HTTP method ("GET /", "POST", "CONNECT"): a client
    // speaking plain HTTP to this port. Anything else is not TLS at all.
    if (data[0] >= 'A' && data[0] <= 'Z') {
      error_ = "an HTTP request in clear on a TLS port";
      return finish(TlsStatus::PlainHttp);
    }
    error_ = "the first bytes are not a TLS handshake";
    return finish(TlsStatus::HandshakeFailed);
  }
  fed_total_ += len;
  in_ = data;
  in_len_ = len;
  clear_errors();
  while (!handshake_done_) {
    int r = SSL_do_handshake(ssl_);
    if (r == 1) {
      handshake_done_ = true;
      break;
    }
    if (SSL_get_error(ssl_, r) != SSL_ERROR_WANT_READ)
      return fail(TlsStatus::HandshakeFailed, "TLS handshake failed");
    if (in_len_ == 0) {
      in_ = nullptr;
      return TlsStatus::Ok;
    }
  }
  char buf[kRecordPayload];
  for (;;) {
    size_t got = 0;
    int r = SSL_read_ex(ssl_, buf, sizeof buf, &got);
    if (renegotiation_) {
      error_ = "the client tried to renegotiate";
      ERR_clear_error();
      return finish(TlsStatus::Renegotiation);
    }
    if (r == 1) {
      sink_->tls_plaintext(buf, got);
      // Everything fed was taken and OpenSSL holds no record or plaintext: another
      // SSL_read would only find the input empty (a whole call per request).
      if (in_len_ == 0 && SSL_has_pending(ssl_) == 0) break;
      continue;
    }
    int e = SSL_get_error(ssl_, 0);
    if (e == SSL_ERROR_WANT_READ) {
      if (in_len_ == 0) break;
      continue;  // a record that produced no data (a ticket, a key update); more follows
    }
    if (e == SSL_ERROR_ZERO_RETURN) {
      ERR_clear_error();
      return finish(TlsStatus::PeerClosed);
    }
    return fail(TlsStatus::Error, "TLS error");
  }
  in_ = nullptr;
  return TlsStatus::Ok;
}

bool TlsSession::encrypt(const char* data, size_t len) {
  size_t written = 0;
  if (SSL_write_ex(ssl_, data, len, &written) == 1 && written == len) return true;
  fail(TlsStatus::Error, "TLS write failed");
  return false;
}

bool TlsSession::write(const Span* spans, size_t count) {
  if (!handshake_done_ || closed_ || status_ != TlsStatus::Ok || ssl_ == nullptr) return false;
  clear_errors();
  gather_.clear();
  for (size_t i = 0; i < count; i++) {
    const char* p = spans[i].data;
    size_t n = spans[i].len;
    if (!gather_.empty()) {
      // Fill the gathered record first so the records stay full.
      size_t take = kRecordPayload - gather_.size();
      if (take > n) take = n;
      gather_.append(p, take);
      p += take;
      n -= take;
      if (gather_.size() < kRecordPayload) continue;
      if (!encrypt(gather_.data(), gather_.size())) return false;
      gather_.clear();
    }
    if (n == 0) continue;
    size_t whole = n - n % kRecordPayload;  // full records straight from the caller's memory
    if (whole > 0 && !encrypt(p, whole)) return false;
    gather_.append(p + whole, n - whole);
  }
  if (!gather_.empty() && !encrypt(gather_.data(), gather_.size())) return false;
  gather_.clear();
  return true;
}

void TlsSession::release_buffers() {
  if (ssl_ == nullptr) return;
  SSL_free_buffers(ssl_);  // refuses (and keeps them) while a partial record is held
}

void TlsSession::close_notify() {
  if (closed_ || ssl_ == nullptr) return;
  closed_ = true;
  if (!handshake_done_ || status_ != TlsStatus::Ok) return;
  ERR_clear_error();
  SSL_shutdown(ssl_);
  ERR_clear_error();
}

const char* TlsSession::protocol() const {
  return handshake_done_ ? SSL_get_version(ssl_) : "";
}

const char* TlsSession::cipher() const {
  if (!handshake_done_) return "";
  const char* name = SSL_get_cipher_name(ssl_);
  return name != nullptr ? name : "";
}

std::string TlsSession::peer_subject() const {
  if (!handshake_done_) return "";
  X509* peer = SSL_get0_peer_certificate(ssl_);
  if (peer == nullptr) return "";
  BIO* out = BIO_new(BIO_s_mem());
  if (out == nullptr) return "";
  std::string subject;
  if (X509_NAME_print_ex(out, X509_get_subject_name(peer), 0, XN_FLAG_RFC2253) >= 0) {
    char* text = nullptr;
    long n = BIO_get_mem_data(out, &text);
    if (n > 0) subject.assign(text, static_cast<size_t>(n));
  }
  BIO_free(out);
  ERR_clear_error();
  return subject;
}

bool TlsSession::peer_verified() const {
  return handshake_done_ && SSL_get0_peer_certificate(ssl_) != nullptr &&
         SSL_get_verify_result(ssl_) == X509_V_OK;
}

std::string TlsSession::alpn() const {
  const unsigned char* p = nullptr;
  unsigned int n = 0;
  if (ssl_ != nullptr) SSL_get0_alpn_selected(ssl_, &p, &n);
  return p != nullptr ? std::string(reinterpret_cast<const char*>(p), n) : std::string();
}

std::string TlsSession::server_name() const {
  const char* name = ssl_ != nullptr ? SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name) : nullptr;
  return name != nullptr ? name : "";
}

bool TlsSession::session_reused() const {
  return handshake_done_ && SSL_session_reused(ssl_) == 1;
}

}  // namespace tls
}  // namespace tsgi
