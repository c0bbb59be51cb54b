// What a connection holds only while it is busy: the request being read or answered (its
// head string, record, body), the response being written, the output queue and the
// transport it writes through. A connection takes one from its loop's BusyPool when a
// request begins (or output is queued) and gives it back once it is idle again with
// nothing left to write, so that an idle keep-alive connection is only its socket
// handle, its address and its clocks. Plain C++ (no Node-API).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "framing.h"
#include "output_queue.h"
#include "parser.h"
#include "request_record.h"
#include "uwsgi/uwsgi_front_end.h"

namespace tsgi {

// The accepted trailer fields of a chunked request body, "name:value\n" each: the
// decoder's TrailerSink. Appended to the head string once the body ends.
class TrailerText final : public TrailerSink {
 public:
  void field_bytes(const char* p, size_t n) override { text.append(p, n); }
  void field_end(size_t trailing_ows) override {
    text.resize(text.size() - (trailing_ows < text.size() ? trailing_ows : text.size()));
    text.push_back('\n');
  }
  std::string text;
};

// A chunked request body's decoder and the trailer fields it accepted: allocated for such
// a body only, freed once the connection is idle again.
struct ChunkedBody {
  TrailerText trailers;
  ChunkedDecoder decoder{ChunkedLimits{}, &trailers};
};

// The request being read or answered (reset with = {} for each head).
struct RequestState {
  uint8_t minor = 1;
  bool keep_alive = true;
  bool head_method = false;
  BodyKind body_kind = BodyKind::None;
  uint64_t body_remaining = 0;
  uint64_t body_received = 0;
  uint64_t body_since = 0;  // when the body phase began (minimum data rate)
  uint64_t body_wire = 0;   // bytes of the body read so far, framing included
};

// The response being written (reset with = {} when it ends).
struct ResponseState {
  bool started = false;     // streamed: the head is queued
  bool chunked = false;
  bool no_body = false;     // HEAD, or a status without a body
  bool keep_alive = true;
  bool short_file = false;  // a sendFile of this response hit the file's end early
  int64_t remaining = -1;   // declared Content-Length left to send, -1 none
};

struct BusyState {
  BusyState() = default;
  BusyState(const BusyState&) = delete;
  BusyState& operator=(const BusyState&) = delete;
  ~BusyState() { delete chunked; }

  RequestState req;
  ResponseState resp;
  ByteBuffer inbuf;                 // bytes received, not yet consumed (partial head, pipelined)
  ByteBuffer text;                  // the head string
  std::vector<int32_t> rec;         // the request record
  ByteBuffer body_mem;              // a body under the memory threshold
  int spool_fd = -1;                // a body over it
  ChunkedBody* chunked = nullptr;   // a chunked body's decoder and trailer fields
  std::unique_ptr<UwsgiFrontEnd> uwsgi;  // a uwsgi listener's parse state (made on first use)
  size_t last_write_queue_size = 0;  // the transport's queue at the last tick (write progress)
  SocketTransport transport;
  OutputQueue out;
};

// A loop's spare BusyStates (bounded: more are deleted). They come back with no buffers
// of their own (those go to the loop's SparePools), so a spare costs only its struct.
class BusyPool {
 public:
  static constexpr size_t kKept = 256;

  BusyPool() = default;
  BusyPool(const BusyPool&) = delete;
  BusyPool& operator=(const BusyPool&) = delete;
  ~BusyPool() {
    for (BusyState* b : spares_) delete b;
  }

  BusyState* take() {
    if (spares_.empty()) return new BusyState();
    BusyState* b = spares_.back();
    spares_.pop_back();
    return b;
  }
  void give(BusyState* b) {
    if (spares_.size() < kKept) spares_.push_back(b);
    else delete b;
  }
  size_t count() const { return spares_.size(); }

 private:
  std::vector<BusyState*> spares_;
};

}  // namespace tsgi
