// The output queue of a connection: the bytes of its responses in order, written with as
// few syscalls as possible. Framing is staged into one buffer (the stage); large external
// buffers are queued without a copy and given back through their Release hook once
// written (or dropped); files are sent with sendfile(2), or read with pread() and written
// where sendfile cannot be used. Every byte leaves through the Transport, so a transport
// that transforms bytes (TLS) can sit between the queue and the socket. No Node-API here.
#pragma once

#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "framing.h"
#include "spare_pool.h"

namespace tsgi {

// How the holder of external bytes gets them back: fn(ctx, cookie) runs once, when the
// bytes are written or dropped. binding.cc's hook deletes a napi reference to a Buffer;
// another caller (an embedded interpreter handing over its own objects) brings its own.
struct Release {
  void (*fn)(void* ctx, void* cookie) = nullptr;
  void* ctx = nullptr;
  void* cookie = nullptr;
  void run() {
    if (!fn) return;
    void (*f)(void*, void*) = fn;
    fn = nullptr;
    f(ctx, cookie);
  }
};

// Bytes offered to a connection's output (a response head, a body chunk). Either a span
// (data, len) or, with fill, bytes produced straight into the output (a JS string encoded
// in place): fill writes the len bytes at out, which has room for len + 1, and returns
// how many it wrote. A span is copied unless it is large and hold is set: then
// hold(ctx, cookie) runs (during the call that offered the bytes) and returns the Release
// that gives them back once written or dropped.
struct Bytes {
  const char* data = nullptr;
  size_t len = 0;
  Release (*hold)(void* ctx, void* cookie) = nullptr;
  size_t (*fill)(void* ctx, void* cookie, char* out, size_t room) = nullptr;
  void* ctx = nullptr;
  void* cookie = nullptr;
};

// Where the queue's bytes go. The plain socket is SocketTransport; a TLS transport would
// encrypt in try_write/write and answer can_send_file() false, so that files are read
// with pread() and go through try_write too.
class Transport {
 public:
  virtual ~Transport() = default;
  // Writes what can be written now without blocking: bytes taken (0: would block), or a
  // negative libuv error.
  virtual int try_write(const uv_buf_t* bufs, unsigned n) = 0;
  // Queues the buffers (kept alive by the caller until cb); 0 or a negative libuv error.
  virtual int write(uv_write_t* req, const uv_buf_t* bufs, unsigned n, uv_write_cb cb) = 0;
  // sendfile(2) from fd at *off: bytes sent (*off advanced), 0 at the file's end, or -1
  // with errno (EAGAIN: full; EINVAL, ENOSYS, EOPNOTSUPP: not for this file).
  virtual long send_file(int fd, int64_t* off, size_t n) = 0;
  virtual bool can_send_file() const = 0;
  // Bytes accepted by write() and not yet written (progress of a large write).
  virtual size_t write_queue_size() const = 0;
};

// The plain socket: libuv's stream writes, and sendfile on its descriptor. try_write
// sends on the descriptor itself (send/sendmsg: the socket layer without the file layer
// that write/writev go through) when libuv has nothing queued, as uv_try_write would.
class SocketTransport final : public Transport {
 public:
  // stream is open (its descriptor is read once, here); sendfile: files may go by
  // sendfile(2) (else pread() and writes, as on a transport that cannot).
  void attach(uv_stream_t* stream, bool sendfile);
  int try_write(const uv_buf_t* bufs, unsigned n) override;
  int write(uv_write_t* req, const uv_buf_t* bufs, unsigned n, uv_write_cb cb) override;
  long send_file(int fd, int64_t* off, size_t n) override;
  bool can_send_file() const override;
  size_t write_queue_size() const override { return stream_->write_queue_size; }

 private:
  uv_stream_t* stream_ = nullptr;
  int fd_ = -1;  // the socket (-1: not known, libuv writes)
  bool sendfile_ = true;
};

// TSGI_NO_SENDFILE=1 in the environment when the addon loads: a diagnostic switch that
// sends files with pread() and ordinary writes instead of sendfile(2), the path taken
// anyway when sendfile is not supported for a file. Read once, on first use.
bool sendfile_disabled();

class OutputQueue {
 public:
  // What the queue reports to the connection that owns it.
  class Owner {
   public:
    // The transport failed (EPIPE, ECONNRESET…) or a file could not be read: the
    // connection closes. The queue stops at once.
    virtual void output_failed() = 0;
    // The transport is full while a file is sent: call writable() once it can take
    // bytes again. False when that cannot be watched (the connection closed).
    virtual bool output_wait_writable() = 0;
    // A file piece is sent, or ended_early: the file ended before its length (tag is the
    // one given to push_file; the owner decides, usually drop() and close). False when
    // the connection closed meanwhile.
    virtual bool output_file_done(bool ended_early, uint32_t tag) = 0;
    // An asynchronous write completed and was accounted for (status 0).
    virtual void output_write_done() = 0;
    // An asynchronous write failed.
    virtual void output_write_failed() = 0;

   protected:
    ~Owner() = default;
  };

  // External buffers smaller than this are copied into the stage (the hook runs at once).
  static constexpr size_t kCopyBelow = 16 * 1024;

  OutputQueue() = default;
  OutputQueue(const OutputQueue&) = delete;
  OutputQueue& operator=(const OutputQueue&) = delete;
  ~OutputQueue();

  // For a new connection: where bytes go, who hears of it, the loop's clock, and the
  // counter every written byte is added to.
  void attach(Transport* t, Owner* owner, uv_loop_t* loop, uint64_t* bytes_sent);
  void reset();
  // The loop's spare buffers: the stage is taken from there when output begins, and
  // given back by give_back_memory().
  void use_spares(SparePool<ByteBuffer>* spares) { spares_ = spares; }
  // Nothing is queued (has_output() false): the stage goes back to the spares, the
  // spare write request and the file block are freed, and the piece list is emptied
  // (kept when small). An idle connection holds no output memory: the queue goes back
  // to the loop's pool with its busy state.
  void give_back_memory();

  // Framing and small copies go here; sync() or any push makes them part of the queue.
  ByteBuffer& stage() {
    ready_stage();
    return stage_;
  }
  // Bytes written into the stage since the last call become a piece of the queue.
  void sync();
  // The first take bytes of b (take <= b.len): copied into the stage, or queued without
  // a copy and held (see Bytes).
  void push(const Bytes& b, size_t take);
  // n bytes at p, held by release until written or dropped (copied when small).
  void push_external(const char* p, size_t n, Release release);
  // n bytes of fd from off; tag comes back in output_file_done.
  void push_file(int fd, int64_t off, size_t n, uint32_t tag);

  enum class FlushResult : uint8_t {
    Empty,    // everything is written
    Pending,  // an asynchronous write or writability is awaited
    Stopped,  // the connection closed (output_failed, or from a callback)
  };
  FlushResult flush();
  // After output_wait_writable(): the transport takes bytes again (call flush() next).
  void writable() { waiting_writable_ = false; }

  // Forgets every queued piece and the staged bytes, running their release hooks.
  void drop();
  // At close: drop() and give back memory held for a busy connection.
  void release_memory();

  // Bytes in pieces of the queue (synced), written or not.
  uint64_t queued() const { return queued_; }
  // Output not yet written: queued pieces and staged bytes not yet made one.
  uint64_t pending() const { return queued_ + (stage_.size() - stage_synced_); }
  // Anything not written yet: queued pieces, a write in progress, staged bytes.
  bool has_output() const { return head_ < pieces_.size() || write_req_ || stage_.size() > stage_synced_; }
  bool writing() const { return write_req_ != nullptr; }
  bool waiting_writable() const { return waiting_writable_; }
  // When bytes last left (or output became pending after none was): the write timeout.
  uint64_t last_progress() const { return last_progress_; }
  void set_progress(uint64_t now) { last_progress_ = now; }

 private:
  struct Piece {
    enum Kind : uint8_t { Stage, External, File } kind;
    size_t off;        // Stage: offset in stage_
    size_t len;        // bytes left
    const char* ptr;   // External: the bytes
    Release release;   // External: gives the bytes back
    int fd;            // File: the file, and where its next unread byte is
    int64_t file_off;
    uint32_t tag;      // File: reported back in output_file_done
    bool no_sendfile;  // File: pread() into file_buf_ and write, instead of sendfile(2)
    size_t buffered;   // File, pread path: bytes at file_buf_ + file_buf_off_ not yet written
  };
  struct WriteReq {
    uv_write_t req;
    OutputQueue* queue;
    ByteBuffer storage;
    std::vector<Release> releases;
    std::vector<uv_buf_t> bufs;
    size_t bytes = 0;
  };

  static void on_write(uv_write_t* req, int status);
  void ready_stage() {
    if (spares_ && stage_.capacity() == 0) spares_->take(stage_);
  }
  // Queues a piece. The list keeps its memory while the queue is idle (the queue lives
  // in a busy state, which the loop pools), up to kPiecesKept pieces.
  void add_piece(const Piece& pc) { pieces_.push_back(pc); }
  static constexpr size_t kPiecesKept = 32;
  // The one place bytes written are accounted for: queue size, counter, progress clock.
  void account(size_t n, bool sent);
  void note_growth();
  void consume_written(size_t n);
  bool start_async_write();
  // False while waiting for writability (waiting_writable_) or when stopped.
  bool send_file_piece();

  Transport* transport_ = nullptr;
  Owner* owner_ = nullptr;
  uv_loop_t* loop_ = nullptr;
  uint64_t* bytes_sent_ = nullptr;

  ByteBuffer stage_;
  std::vector<Piece> pieces_;  // pieces_[head_..] in order; Stage pieces point into stage_
  size_t head_ = 0;
  size_t stage_synced_ = 0;    // stage_ bytes already covered by pieces
  uint64_t queued_ = 0;
  uint64_t last_progress_ = 0;
  WriteReq* write_req_ = nullptr;
  WriteReq* spare_req_ = nullptr;
  ByteBuffer file_buf_;        // pread path of a File piece: one block (size 0, capacity used)
  size_t file_buf_off_ = 0;
  bool waiting_writable_ = false;
  SparePool<ByteBuffer>* spares_ = nullptr;
};

}  // namespace tsgi
