// The Transport of a TLS connection: the output queue's plaintext is encrypted by the
// connection's TlsSession and the records are written to the socket; ciphertext read
// from the socket is fed to the session and its plaintext handed to the owner. Files
// cannot be sent with sendfile (the bytes must be encrypted): the queue reads them with
// pread() and writes them through try_write like any other bytes.
//
// At most kChunk bytes of ciphertext are held at a time: a large write is encrypted a
// chunk at a time as the socket takes the previous one, and its callback runs once the
// last record is written. No Node-API here.
#pragma once

#include <uv.h>

#include <memory>
#include <vector>

#include "../framing.h"
#include "../output_queue.h"
#include "tls_session.h"

namespace tsgi {
namespace tls {

class TlsTransport final : public Transport, private TlsSink {
 public:
  class Owner {
   public:
    // Decrypted bytes from the peer, in order (valid during the call).
    virtual void tls_input(const char* data, size_t len) = 0;
    // Writing ciphertext that no queue write waits for (handshake, alerts) failed.
    virtual void tls_write_failed() = 0;

   protected:
    ~Owner() = default;
  };

  // Plaintext encrypted per step of a large write (and ciphertext held at most).
  static constexpr size_t kChunk = 256 * 1024;

  TlsTransport() = default;
  TlsTransport(const TlsTransport&) = delete;
  TlsTransport& operator=(const TlsTransport&) = delete;
  ~TlsTransport() override;

  // A new connection on stream with the listener's current context. False when OpenSSL
  // could not allocate the connection.
  bool start(uv_stream_t* stream, std::shared_ptr<const TlsContext> context, Owner* owner);
  // The connection is closing: no more callbacks to the owner; a queue write in progress
  // is not completed (the stream's close cancels it).
  void stop();

  // Ciphertext from the socket. The handshake's own output is written before returning.
  TlsStatus feed(const char* data, size_t len);
  // Queues close_notify (when the handshake is done) and writes it.
  void close_notify();
  // Writes pending ciphertext that no queue write covers (after feed, close_notify).
  void flush_output();

  // Frees the session (the connection is back in the pool).
  void release_session() {
    stop();
    session_.reset();
    out_.clear();
    out_off_ = 0;
    out_.shrink_if_over(0);
    inflight_.shrink_if_over(0);
    user_bufs_.clear();
    user_bufs_.shrink_to_fit();
  }

  // The connection is idle: OpenSSL's record buffers and empty ciphertext buffers go.
  void release_idle_buffers() {
    if (session_) session_->release_buffers();
    if (!inflight_active_ && user_req_ == nullptr && out_off_ == out_.size()) {
      out_.clear();
      out_off_ = 0;
      out_.shrink_if_over(0);
      inflight_.shrink_if_over(0);
    }
  }

  const TlsSession* session() const { return session_.get(); }
  bool handshake_done() const { return session_ && session_->handshake_done(); }

  // Transport
  int try_write(const uv_buf_t* bufs, unsigned n) override;
  int write(uv_write_t* req, const uv_buf_t* bufs, unsigned n, uv_write_cb cb) override;
  long send_file(int fd, int64_t* off, size_t n) override;
  bool can_send_file() const override { return false; }
  size_t write_queue_size() const override;

  // Somewhere for the application side to keep what it derived from this connection's
  // TLS state (binding.cc: the tsgi.tls object); run when the transport stops.
  void* app_data = nullptr;
  Release app_data_release;
  // Loop time by which the handshake must be done (set by the connection at accept).
  uint64_t handshake_deadline = 0;

 private:
  void tls_plaintext(const char* data, size_t len) override;
  void tls_ciphertext(const char* data, size_t len) override;
  static void on_write(uv_write_t* req, int status);
  // Encrypts up to kChunk bytes of bufs[from..], skipping `skip` bytes first; returns
  // the plaintext bytes encrypted (0 on a failure: failed_).
  size_t encrypt(const uv_buf_t* bufs, unsigned n, size_t skip, size_t limit);
  // Writes out_ without blocking: false on a socket error (failed_ set).
  bool write_now();
  // Moves the queue write on: writes ciphertext, encrypts more, completes it.
  void pump();
  void finish_user_write(int status);

  uv_stream_t* stream_ = nullptr;
  Owner* owner_ = nullptr;
  std::unique_ptr<TlsSession> session_;
  ByteBuffer out_;             // ciphertext not yet given to the socket
  size_t out_off_ = 0;         // out_ bytes already written
  ByteBuffer inflight_;        // ciphertext given to uv_write (own_req_)
  bool inflight_active_ = false;
  uv_write_t own_req_;
  // Plaintext at the head of the queue's unwritten bytes already encrypted (in out_):
  // the queue offers the same bytes again, and they are skipped.
  size_t ahead_ = 0;
  // The queue's asynchronous write: its buffers, position and callback.
  uv_write_t* user_req_ = nullptr;
  uv_write_cb user_cb_ = nullptr;
  std::vector<uv_buf_t> user_bufs_;
  size_t user_skip_ = 0;       // plaintext of it encrypted so far (or already before)
  size_t user_total_ = 0;
  bool failed_ = false;
  bool stopped_ = false;
  bool in_pump_ = false;
};

}  // namespace tls
}  // namespace tsgi
