// Where a server's requests go: the one hook between the connection state machine and
// the application side. binding.cc implements it for JavaScript (onRequest, onDrain,
// onAbort); a native application (an embedded interpreter) can implement it instead and
// answer through Connection's response methods (respond, write_head, write, end,
// send_file, abort).
#pragma once

#include <cstddef>
#include <cstdint>

namespace tsgi {

class Connection;

// A complete request: the head parsed and the body fully received. Valid during the
// call only.
struct DispatchedRequest {
  const int32_t* record = nullptr;  // layout: request_record.h
  size_t record_ints = 0;
  const char* text = nullptr;       // the head string the record indexes
  size_t text_len = 0;
  const char* body = nullptr;       // the body in memory (null when empty or spooled)
  size_t body_len = 0;
  int body_fd = -1;                 // or spooled: an unlinked file at offset 0, owned by the sink from now
  uint64_t body_bytes = 0;          // the body's length either way
};

class RequestSink {
 public:
  virtual ~RequestSink() = default;
  // At most one request per connection is in flight: the next is not dispatched before
  // this one's response ended (respond/end/abort), which may happen inside this call.
  virtual void request(Connection* c, const DispatchedRequest& r) = 0;
  // After write() returned 0 the queue fell below its low-water mark, or a send_file is
  // over. Never called from inside a response method.
  virtual void drain(Connection* c) = 0;
  // The connection closed while its request was in flight (not after abort()).
  virtual void aborted(Connection* c) = 0;
  // Around one pass of a connection's parse loop (the requests of one read, pipelined
  // ones included): request() calls between them may share one entry into the
  // application's runtime, its deferred work (JavaScript's microtasks and nextTicks) run
  // once at batch_end(). Nested pairs are allowed; only the outermost counts.
  virtual void batch_begin() {}
  virtual void batch_end() {}
  // The server closed (Server::close) and nothing of it is left open; never from inside
  // a call from JS. notify false: the environment is going away, only let go.
  virtual void closed(bool notify) = 0;
};

}  // namespace tsgi
