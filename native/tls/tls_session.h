// One server-side TLS connection over memory: ciphertext received from the socket is
// fed in, plaintext comes out to a sink; plaintext to send goes in, ciphertext comes
// out to the same sink. OpenSSL reads from the fed bytes and writes to the sink
// through a source/sink BIO of our own, so no byte is staged in an OpenSSL memory
// buffer on the way. Plain C++ over OpenSSL; no Node-API, no libuv, no socket.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "../parser.h"  // Span
#include "tls_context.h"

namespace tsgi {
namespace tls {

class TlsSink {
 public:
  virtual ~TlsSink() = default;
  // Decrypted application data, in order. The bytes are only valid during the call.
  virtual void tls_plaintext(const char* data, size_t len) = 0;
  // TLS records to send to the peer (handshake flights, alerts, session tickets,
  // encrypted data, close_notify), in order. Only valid during the call.
  virtual void tls_ciphertext(const char* data, size_t len) = 0;
  // Neither may destroy the session.
};

enum class TlsStatus : unsigned char {
  Ok,               // the input was consumed (the handshake may still be in progress)
  PeerClosed,       // the peer sent close_notify
  PlainHttp,        // the connection opened with an HTTP request in clear: answer a 400
                    // in clear and close (nothing was sent to the sink)
  HandshakeFailed,  // error() says why; an alert for the peer may have gone to the sink
  Renegotiation,    // the peer tried to renegotiate (TLS <= 1.2): close
  Error,            // a protocol error after the handshake (bad record, ...)
};

const char* tls_status_name(TlsStatus status);

class TlsSession {
 public:
  // The session keeps `context` alive (a reload replaces the listener's context, not
  // this one). `sink` must outlive the session.
  TlsSession(std::shared_ptr<const TlsContext> context, TlsSink* sink);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // False when OpenSSL could not allocate the connection (every call then fails).
  bool valid() const { return ssl_ != nullptr; }

  // Ciphertext from the socket: advances the handshake, then decrypts. Everything fed
  // is consumed (OpenSSL keeps a partial record). After a status other than Ok the
  // session is finished: later calls return the same status.
  TlsStatus feed(const char* data, size_t len);

  // Encrypts plaintext (small spans are gathered into full records). False before the
  // handshake is done or after a failure.
  bool write(const Span* spans, size_t count);
  bool write(const char* data, size_t len) {
    Span s{data, len};
    return write(&s, 1);
  }

  // Frees OpenSSL's record buffers when they hold nothing (an idle connection); they
  // are allocated again by the next record either way.
  void release_buffers();

  // Sends close_notify (once); no more writes after it.
  void close_notify();

  bool handshake_done() const { return handshake_done_; }
  const std::string& error() const { return error_; }
  const char* protocol() const;     // "TLSv1.3"; "" before the handshake
  const char* cipher() const;       // "TLS_AES_256_GCM_SHA384"; "" before the handshake
  std::string peer_subject() const; // RFC 2253 subject of the client certificate, or ""
  bool peer_verified() const;       // a client certificate was given and verified
  std::string alpn() const;         // "http/1.1", or "" when the client offered none
  std::string server_name() const;  // the SNI name the client sent, or ""
  bool session_reused() const;

 private:
  static int bio_write(BIO* bio, const char* data, int len);
  static int bio_read(BIO* bio, char* out, int len);
  static long bio_ctrl(BIO* bio, int cmd, long num, void* ptr);
  static void on_message(int write_p, int version, int content_type, const void* buf, size_t len,
                         SSL* ssl, void* arg);
  TlsStatus finish(TlsStatus status);
  TlsStatus fail(TlsStatus status, const char* what);
  bool encrypt(const char* data, size_t len);

  std::shared_ptr<const TlsContext> context_;
  TlsSink* sink_;
  SSL* ssl_ = nullptr;
  const char* in_ = nullptr;  // the bytes being fed, read by bio_read
  size_t in_len_ = 0;
  size_t fed_total_ = 0;
  std::string gather_;        // small spans gathered into one record
  std::string error_;
  TlsStatus status_ = TlsStatus::Ok;
  bool handshake_done_ = false;
  bool renegotiation_ = false;
  bool closed_ = false;
};

}  // namespace tls
}  // namespace tsgi
