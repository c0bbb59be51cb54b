// The output queue of a connection; see output_queue.h.
#include "output_queue.h"

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace tsgi {

namespace {

constexpr size_t kMaxIov = 64;
constexpr size_t kFileBlock = 64 * 1024;  // pread path: bytes read at a time
constexpr size_t kMaxSendfile = 1u << 30;

}  // namespace

bool sendfile_disabled() {
  static const bool disabled = [] {
    const char* v = std::getenv("TSGI_NO_SENDFILE");
    return v != nullptr && *v != '\0' && std::strcmp(v, "0") != 0;
  }();
  return disabled;
}

// ---- SocketTransport ------------------------------------------------------------------

static_assert(sizeof(uv_buf_t) == sizeof(iovec) && offsetof(uv_buf_t, base) == offsetof(iovec, iov_base) &&
                  offsetof(uv_buf_t, len) == offsetof(iovec, iov_len),
              "uv_buf_t is an iovec on Unix");

void SocketTransport::attach(uv_stream_t* stream, bool sendfile) {
  stream_ = stream;
  sendfile_ = sendfile;
  uv_os_fd_t fd;
  fd_ = uv_fileno(reinterpret_cast<uv_handle_t*>(stream), &fd) == 0 ? fd : -1;
}

int SocketTransport::try_write(const uv_buf_t* bufs, unsigned n) {
  // What uv_try_write checks first: a write of libuv's still queued (bytes must stay in
  // order), or the write side shut down.
  if (fd_ >= 0 && stream_->write_queue_size == 0 && uv_is_writable(stream_)) {
    ssize_t r;
    do {
      if (n == 1) {
        r = ::send(fd_, bufs[0].base, bufs[0].len, MSG_DONTWAIT | MSG_NOSIGNAL);
      } else {
        msghdr m{};
        m.msg_iov = reinterpret_cast<iovec*>(const_cast<uv_buf_t*>(bufs));  // uv_buf_t is iovec's layout on Unix
        m.msg_iovlen = n;
        r = ::sendmsg(fd_, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
      }
    } while (r < 0 && errno == EINTR);
    if (r >= 0) return static_cast<int>(r);
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) return 0;
    if (errno != ENOTSOCK) return -errno;  // libuv's error codes are negated errno on Unix
    fd_ = -1;  // not a socket: libuv's write from now on
  }
  int r = uv_try_write(stream_, bufs, n);
  if (r == UV_EAGAIN || r == UV_ENOSYS) return 0;
  return r;
}

int SocketTransport::write(uv_write_t* req, const uv_buf_t* bufs, unsigned n, uv_write_cb cb) {
  return uv_write(req, stream_, bufs, n, cb);
}

long SocketTransport::send_file(int fd, int64_t* off, size_t n) {
  uv_os_fd_t sock;
  if (uv_fileno(reinterpret_cast<uv_handle_t*>(stream_), &sock) != 0) {
    errno = EBADF;
    return -1;
  }
  off_t o = static_cast<off_t>(*off);
  ssize_t r = sendfile(sock, fd, &o, n < kMaxSendfile ? n : kMaxSendfile);
  if (r > 0) *off += r;
  return static_cast<long>(r);
}

bool SocketTransport::can_send_file() const { return sendfile_ && !sendfile_disabled(); }

// ---- OutputQueue ----------------------------------------------------------------------

OutputQueue::~OutputQueue() { delete spare_req_; }

void OutputQueue::attach(Transport* t, Owner* owner, uv_loop_t* loop, uint64_t* bytes_sent) {
  transport_ = t;
  owner_ = owner;
  loop_ = loop;
  bytes_sent_ = bytes_sent;
}

void OutputQueue::reset() {
  stage_.clear();
  pieces_.clear();
  head_ = 0;
  stage_synced_ = 0;
  queued_ = 0;
  write_req_ = nullptr;
  file_buf_off_ = 0;
  waiting_writable_ = false;
  last_progress_ = loop_ ? uv_now(loop_) : 0;
}

void OutputQueue::account(size_t n, bool sent) {
  queued_ -= n;
  if (!sent || n == 0) return;
  *bytes_sent_ += n;
  last_progress_ = uv_now(loop_);
}

// The write timeout counts from when output became pending, not from the last write.
void OutputQueue::note_growth() {
  if (queued_ == 0 && !write_req_) last_progress_ = uv_now(loop_);
}

void OutputQueue::sync() {
  size_t size = stage_.size();
  if (size == stage_synced_) return;
  size_t n = size - stage_synced_;
  note_growth();
  if (pieces_.size() > head_) {
    Piece& last = pieces_.back();
    if (last.kind == Piece::Stage && last.off + last.len == stage_synced_) {
      last.len += n;
      queued_ += n;
      stage_synced_ = size;
      return;
    }
  }
  Piece pc{};
  pc.kind = Piece::Stage;
  pc.off = stage_synced_;
  pc.len = n;
  add_piece(pc);
  queued_ += n;
  stage_synced_ = size;
}

void OutputQueue::push(const Bytes& b, size_t take) {
  if (take == 0) return;
  ready_stage();
  if (b.fill) {
    char* p = stage_.reserve(b.len + 1);
    size_t wrote = b.fill(b.ctx, b.cookie, p, b.len + 1);
    stage_.commit(take < wrote ? take : wrote);
    return;
  }
  if (take < kCopyBelow || !b.hold) {
    stage_.append(b.data, take);
    return;
  }
  push_external(b.data, take, b.hold(b.ctx, b.cookie));
}

void OutputQueue::push_external(const char* p, size_t n, Release release) {
  if (n < kCopyBelow) {
    ready_stage();
    stage_.append(p, n);
    release.run();
    return;
  }
  sync();
  Piece pc{};
  pc.kind = Piece::External;
  pc.ptr = p;
  pc.len = n;
  pc.release = release;
  note_growth();
  add_piece(pc);
  queued_ += n;
}

void OutputQueue::push_file(int fd, int64_t off, size_t n, uint32_t tag) {
  sync();
  Piece pc{};
  pc.kind = Piece::File;
  pc.len = n;
  pc.fd = fd;
  pc.file_off = off;
  pc.tag = tag;
  pc.no_sendfile = !transport_->can_send_file();
  pc.buffered = 0;
  note_growth();
  add_piece(pc);
  queued_ += n;
}

void OutputQueue::consume_written(size_t n) {
  account(n, true);
  while (n > 0 && head_ < pieces_.size()) {
    Piece& p = pieces_[head_];
    size_t k = n < p.len ? n : p.len;
    p.len -= k;
    n -= k;
    if (p.kind == Piece::Stage) p.off += k;
    else p.ptr += k;
    if (p.len == 0) {
      p.release.run();
      head_++;
    }
  }
}

OutputQueue::FlushResult OutputQueue::flush() {
  sync();
  while (!write_req_ && !waiting_writable_ && head_ < pieces_.size()) {
    if (pieces_[head_].kind == Piece::File) {
      if (!send_file_piece()) return waiting_writable_ ? FlushResult::Pending : FlushResult::Stopped;
      continue;
    }
    uv_buf_t iov[kMaxIov];
    unsigned n = 0;
    size_t total = 0;
    for (size_t i = head_; i < pieces_.size() && n < kMaxIov; i++) {
      const Piece& p = pieces_[i];
      if (p.kind == Piece::File) break;
      const char* base = p.kind == Piece::Stage ? stage_.data() + p.off : p.ptr;
      iov[n++] = uv_buf_init(const_cast<char*>(base), static_cast<unsigned>(p.len));
      total += p.len;
    }
    int r = transport_->try_write(iov, n);
    if (r < 0) {
      owner_->output_failed();
      return FlushResult::Stopped;
    }
    consume_written(static_cast<size_t>(r));
    if (static_cast<size_t>(r) < total) {
      if (!start_async_write()) return FlushResult::Stopped;
      return FlushResult::Pending;
    }
  }
  if (write_req_ || waiting_writable_) return FlushResult::Pending;
  if (head_ < pieces_.size()) return FlushResult::Pending;
  pieces_.clear();
  head_ = 0;
  stage_.clear();
  stage_synced_ = 0;
  stage_.shrink_if_over(1 << 20);
  return FlushResult::Empty;
}

// The transport took part of the queue: the rest before the next file goes by an
// asynchronous write. False when that could not start (the owner was told).
bool OutputQueue::start_async_write() {
  WriteReq* w = spare_req_ ? spare_req_ : new WriteReq();
  spare_req_ = nullptr;
  w->queue = this;
  w->bufs.clear();
  w->releases.clear();
  w->storage.clear();
  w->bytes = 0;
  size_t end = head_;
  size_t stage_bytes = 0;
  while (end < pieces_.size() && pieces_[end].kind != Piece::File) {
    if (pieces_[end].kind == Piece::Stage) stage_bytes += pieces_[end].len;
    end++;
  }
  bool take_stage = end == pieces_.size();  // nothing after: the stage itself moves over
  if (take_stage) {
    w->storage.swap(stage_);
  } else {
    w->storage.reserve(stage_bytes);
  }
  // First pass places the bytes, second builds the buffers (storage no longer moves).
  std::vector<size_t> offs;
  for (size_t i = head_; i < end; i++) {
    Piece& p = pieces_[i];
    if (p.kind == Piece::Stage && !take_stage) {
      offs.push_back(w->storage.size());
      w->storage.append(stage_.data() + p.off, p.len);
    } else {
      offs.push_back(p.off);
    }
  }
  size_t k = 0;
  for (size_t i = head_; i < end; i++, k++) {
    Piece& p = pieces_[i];
    if (p.kind == Piece::Stage) {
      w->bufs.push_back(uv_buf_init(w->storage.data() + offs[k], static_cast<unsigned>(p.len)));
    } else {
      w->bufs.push_back(uv_buf_init(const_cast<char*>(p.ptr), static_cast<unsigned>(p.len)));
      w->releases.push_back(p.release);
      p.release = Release{};
    }
    w->bytes += p.len;
  }
  head_ = end;
  if (take_stage) {
    pieces_.clear();
    head_ = 0;
    stage_synced_ = 0;
  }
  // The bytes are still queued until the write completes.
  write_req_ = w;
  w->req.data = w;
  int r = transport_->write(&w->req, w->bufs.data(), static_cast<unsigned>(w->bufs.size()), on_write);
  if (r != 0) {
    write_req_ = nullptr;
    for (Release& rel : w->releases) rel.run();
    w->releases.clear();
    spare_req_ = w;
    owner_->output_failed();
    return false;
  }
  return true;
}

void OutputQueue::on_write(uv_write_t* req, int status) {
  WriteReq* w = static_cast<WriteReq*>(req->data);
  OutputQueue* q = w->queue;
  for (Release& rel : w->releases) rel.run();
  w->releases.clear();
  q->write_req_ = nullptr;
  q->account(w->bytes, status == 0);
  w->storage.clear();
  w->storage.shrink_if_over(1 << 20);
  if (q->spare_req_) delete w;
  else q->spare_req_ = w;
  if (status < 0) q->owner_->output_write_failed();
  else q->owner_->output_write_done();
}

// Sends the file at the queue's head: through the transport's sendfile, or pread() into
// file_buf_ and try_write when sendfile cannot be used for it (EINVAL, ENOSYS,
// EOPNOTSUPP: a file system or fd kind without support; a transport that transforms
// bytes; TSGI_NO_SENDFILE). Either way the socket's own buffer is the backpressure: a
// full socket waits for writability, so at most one block is held in memory.
bool OutputQueue::send_file_piece() {
  for (;;) {
    Piece& p = pieces_[head_];
    if (p.buffered > 0) {
      // pread path: a block read and not yet fully written. A File piece is only sent
      // when no asynchronous write is in progress.
      uv_buf_t b = uv_buf_init(file_buf_.data() + file_buf_off_, static_cast<unsigned>(p.buffered));
      int r = transport_->try_write(&b, 1);
      if (r == 0) {
        waiting_writable_ = owner_->output_wait_writable();
        return false;
      }
      if (r < 0) {
        owner_->output_failed();
        return false;
      }
      file_buf_off_ += static_cast<size_t>(r);
      p.buffered -= static_cast<size_t>(r);
      account(static_cast<size_t>(r), true);
      continue;
    }
    if (p.len == 0) break;
    if (p.no_sendfile) {
      size_t want = p.len < kFileBlock ? p.len : kFileBlock;
      char* dst = file_buf_.reserve(kFileBlock);  // size stays 0: only the capacity is used
      ssize_t n = pread(p.fd, dst, want, static_cast<off_t>(p.file_off));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        owner_->output_failed();  // the file cannot be read: the response cannot be completed
        return false;
      }
      if (n == 0) return owner_->output_file_done(true, p.tag);
      p.file_off += n;
      p.len -= static_cast<size_t>(n);
      p.buffered = static_cast<size_t>(n);
      file_buf_off_ = 0;
      continue;
    }
    long n = transport_->send_file(p.fd, &p.file_off, p.len);
    if (n > 0) {
      p.len -= static_cast<size_t>(n);
      account(static_cast<size_t>(n), true);
      continue;
    }
    if (n == 0) return owner_->output_file_done(true, p.tag);
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      waiting_writable_ = owner_->output_wait_writable();
      return false;
    }
    if (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) {
      p.no_sendfile = true;  // not for this file: read and write it instead
      continue;
    }
    owner_->output_failed();  // the socket failed (EPIPE, ECONNRESET…) or the file cannot be read
    return false;
  }
  uint32_t tag = pieces_[head_].tag;
  head_++;
  return owner_->output_file_done(false, tag);
}

void OutputQueue::drop() {
  for (size_t i = head_; i < pieces_.size(); i++) pieces_[i].release.run();
  pieces_.clear();
  head_ = 0;
  stage_.clear();
  stage_synced_ = 0;
  queued_ = write_req_ ? write_req_->bytes : 0;
}

void OutputQueue::give_back_memory() {
  if (has_output() || waiting_writable_) return;
  pieces_.clear();
  head_ = 0;
  stage_synced_ = 0;
  if (spares_) spares_->give(stage_);
  else spare_free(stage_);
  if (pieces_.capacity() > kPiecesKept) std::vector<Piece>().swap(pieces_);
  delete spare_req_;
  spare_req_ = nullptr;
  spare_free(file_buf_);
  file_buf_off_ = 0;
}

void OutputQueue::release_memory() {
  drop();
  give_back_memory();
  stage_.shrink_if_over(64 * 1024);
  file_buf_.shrink_if_over(0);
}

}  // namespace tsgi
