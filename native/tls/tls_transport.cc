// The Transport of a TLS connection; see tls_transport.h.
#include "tls_transport.h"

#include <cerrno>

namespace tsgi {
namespace tls {

namespace {
// Ciphertext buffers larger than this (about one record) are freed once empty and no large write goes on:
// an idle keep-alive connection does not keep a large download's buffers.
constexpr size_t kKeepBuffer = 16 * 1024;
}  // namespace

TlsTransport::~TlsTransport() { stop(); }

bool TlsTransport::start(uv_stream_t* stream, std::shared_ptr<const TlsContext> context, Owner* owner) {
  stream_ = stream;
  owner_ = owner;
  out_.clear();
  out_off_ = 0;
  inflight_.clear();
  inflight_active_ = false;
  ahead_ = 0;
  user_req_ = nullptr;
  user_cb_ = nullptr;
  user_bufs_.clear();
  user_skip_ = user_total_ = 0;
  failed_ = stopped_ = false;
  session_.reset(new TlsSession(std::move(context), this));
  return session_->valid();
}

void TlsTransport::stop() {
  if (stopped_) return;
  stopped_ = true;
  owner_ = nullptr;
  app_data_release.run();
  app_data = nullptr;
}

void TlsTransport::tls_plaintext(const char* data, size_t len) {
  if (owner_ != nullptr) owner_->tls_input(data, len);
}

void TlsTransport::tls_ciphertext(const char* data, size_t len) {
  if (out_off_ == out_.size()) {
    out_.clear();
    out_off_ = 0;
  }
  out_.append(data, len);
}

TlsStatus TlsTransport::feed(const char* data, size_t len) {
  TlsStatus st = session_->feed(data, len);
  flush_output();
  return st;
}

void TlsTransport::close_notify() {
  if (stopped_ || failed_) return;
  session_->close_notify();
  flush_output();
}

void TlsTransport::flush_output() {
  if (stopped_ || failed_ || user_req_ != nullptr) return;  // a queue write carries it along
  pump();
}

bool TlsTransport::write_now() {
  while (out_off_ < out_.size()) {
    uv_buf_t b = uv_buf_init(out_.data() + out_off_, static_cast<unsigned>(out_.size() - out_off_));
    int r = uv_try_write(stream_, &b, 1);
    if (r == UV_EAGAIN || r == UV_ENOSYS) return true;
    if (r < 0) {
      failed_ = true;
      return false;
    }
    out_off_ += static_cast<size_t>(r);
  }
  out_.clear();
  out_off_ = 0;
  out_.shrink_if_over(kKeepBuffer);
  return true;
}

size_t TlsTransport::encrypt(const uv_buf_t* bufs, unsigned n, size_t skip, size_t limit) {
  Span spans[64];
  size_t count = 0;
  size_t taken = 0;
  for (unsigned i = 0; i < n && taken < limit && count < 64; i++) {
    size_t len = bufs[i].len;
    if (skip >= len) {
      skip -= len;
      continue;
    }
    size_t k = len - skip;
    if (k > limit - taken) k = limit - taken;
    spans[count++] = Span{bufs[i].base + skip, k};
    taken += k;
    skip = 0;
  }
  if (taken == 0) return 0;
  if (!session_->write(spans, count)) {
    failed_ = true;
    return 0;
  }
  return taken;
}

int TlsTransport::try_write(const uv_buf_t* bufs, unsigned n) {
  if (stopped_ || failed_) return UV_EPIPE;
  if (user_req_ != nullptr || inflight_active_) return 0;
  size_t total = 0;
  for (unsigned i = 0; i < n; i++) total += bufs[i].len;
  if (out_off_ < out_.size()) {
    if (!write_now()) return UV_EPIPE;
    if (out_off_ < out_.size()) return 0;
  }
  // The bytes encrypted ahead by the last call are on the wire now.
  size_t done = ahead_ < total ? ahead_ : total;
  ahead_ = 0;
  while (done < total) {
    size_t k = encrypt(bufs, n, done, kChunk);
    if (failed_) return UV_EPROTO;
    if (!write_now()) return UV_EPIPE;
    if (out_off_ < out_.size()) {
      ahead_ = k;  // encrypted, not all written: offered again next time, then skipped
      break;
    }
    done += k;
  }
  return static_cast<int>(done);
}

int TlsTransport::write(uv_write_t* req, const uv_buf_t* bufs, unsigned n, uv_write_cb cb) {
  if (stopped_ || failed_) return UV_EPIPE;
  user_req_ = req;
  user_cb_ = cb;
  user_bufs_.assign(bufs, bufs + n);
  user_total_ = 0;
  for (unsigned i = 0; i < n; i++) user_total_ += bufs[i].len;
  user_skip_ = ahead_ < user_total_ ? ahead_ : user_total_;
  ahead_ = 0;
  if (inflight_active_) return 0;  // on_write goes on with it
  if (out_off_ == out_.size() && user_skip_ < user_total_) {
    user_skip_ += encrypt(user_bufs_.data(), static_cast<unsigned>(user_bufs_.size()), user_skip_, kChunk);
    if (failed_) {
      user_req_ = nullptr;
      return UV_EPROTO;
    }
  }
  // The callback must come from the loop, never from inside this call: even with
  // nothing left to send, a write of nothing completes it.
  inflight_.clear();
  inflight_.swap(out_);
  size_t off = out_off_;
  out_off_ = 0;
  uv_buf_t b = uv_buf_init(inflight_.data() + off, static_cast<unsigned>(inflight_.size() - off));
  own_req_.data = this;
  int r = uv_write(&own_req_, stream_, &b, 1, on_write);
  if (r != 0) {
    user_req_ = nullptr;
    failed_ = true;
    return r;
  }
  inflight_active_ = true;
  return 0;
}

void TlsTransport::pump() {
  if (inflight_active_ || stopped_) return;
  if (user_req_ != nullptr && out_off_ == out_.size() && user_skip_ < user_total_) {
    user_skip_ += encrypt(user_bufs_.data(), static_cast<unsigned>(user_bufs_.size()), user_skip_, kChunk);
    if (failed_) {
      finish_user_write(UV_EPROTO);
      return;
    }
  }
  if (out_off_ < out_.size()) {
    if (user_req_ == nullptr) {
      // Handshake output and alerts: straight to the socket, the rest by uv_write.
      if (!write_now()) {
        if (owner_ != nullptr) owner_->tls_write_failed();
        return;
      }
      if (out_off_ == out_.size()) return;
    }
    inflight_.clear();
    inflight_.swap(out_);
    size_t off = out_off_;
    out_off_ = 0;
    uv_buf_t b = uv_buf_init(inflight_.data() + off, static_cast<unsigned>(inflight_.size() - off));
    own_req_.data = this;
    int r = uv_write(&own_req_, stream_, &b, 1, on_write);
    if (r != 0) {
      failed_ = true;
      if (user_req_ != nullptr) finish_user_write(r);
      else if (owner_ != nullptr) owner_->tls_write_failed();
      return;
    }
    inflight_active_ = true;
    return;
  }
  if (user_req_ != nullptr && user_skip_ >= user_total_) finish_user_write(0);
}

void TlsTransport::on_write(uv_write_t* req, int status) {
  TlsTransport* t = static_cast<TlsTransport*>(req->data);
  t->inflight_active_ = false;
  t->inflight_.clear();
  if (t->user_req_ == nullptr) t->inflight_.shrink_if_over(kKeepBuffer);
  if (status < 0) {
    t->failed_ = true;
    if (t->user_req_ != nullptr) t->finish_user_write(status);
    else if (!t->stopped_ && t->owner_ != nullptr) t->owner_->tls_write_failed();
    return;
  }
  if (t->stopped_) {
    if (t->user_req_ != nullptr) t->finish_user_write(UV_ECANCELED);
    return;
  }
  t->pump();
}

// Last thing done by whoever calls it: the queue's callback may start the next write.
void TlsTransport::finish_user_write(int status) {
  uv_write_t* req = user_req_;
  uv_write_cb cb = user_cb_;
  user_req_ = nullptr;
  user_cb_ = nullptr;
  user_bufs_.clear();
  user_skip_ = user_total_ = 0;
  inflight_.shrink_if_over(kKeepBuffer);
  if (out_off_ == out_.size()) {
    out_.clear();
    out_off_ = 0;
    out_.shrink_if_over(kKeepBuffer);
  }
  cb(req, status);
}

long TlsTransport::send_file(int, int64_t*, size_t) {
  errno = ENOSYS;  // never asked: can_send_file() is false
  return -1;
}

size_t TlsTransport::write_queue_size() const {
  return (stream_ != nullptr ? stream_->write_queue_size : 0) + (out_.size() - out_off_) + (user_total_ - user_skip_);
}

}  // namespace tls
}  // namespace tsgi
