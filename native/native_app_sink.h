// The core's side of native/native_app.h: a RequestSink that hands a server's requests to
// a native application (the embedded Python interpreter) and the tsgi_core_ops table it
// answers through, mapped onto Connection's response methods. No Node-API here
// (binding.cc's JsSink forwards to it and keeps the close notification).
//
// It also keeps, with no JavaScript per request, what the access log and the stats of a
// JavaScript application get from its requestEnd hook: running counters (requests
// finished, 5xx answers, body bytes, time) and, when asked to (record_access), one entry
// per finished request in a bounded ring that JavaScript drains in batches (take_access).
// A ring that fills up drops its oldest entries and counts them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "native_app.h"
#include "request_sink.h"

namespace tsgi {

// One finished request, for the access log.
struct AccessEntry {
  double start_ms = 0;     // wall clock, ms since the epoch
  double duration_ms = 0;
  int32_t status = 0;      // 0: the connection ended before a response started
  double bytes = 0;        // body bytes sent (at most the declared Content-Length)
  // Each field followed by a NUL: REQUEST_METHOD, REQUEST_URI, SERVER_PROTOCOL,
  // REMOTE_ADDR, PATH_INFO, QUERY_STRING, then the value of each key record_access named.
  std::string text;
};

struct NativeAppCounters {
  double finished = 0;
  double errors = 0;       // answered with a status >= 500
  double bytes = 0;
  double time_us = 0;
  double in_flight = 0;
  double dropped = 0;      // access entries dropped because the ring was full
  double harakiri = 0;     // requests harakiri ended (the application's TSGI_NOTE_HARAKIRI)
};

class NativeAppSink final : public RequestSink {
 public:
  explicit NativeAppSink(tsgi_native_app* app);
  // Whether app speaks this core's ABI; else *why says what is wrong.
  static bool compatible(const tsgi_native_app* app, std::string* why);
  // The error log of every native application of the process: a duplicate of fd is
  // written from now on (-1 or 2: standard error).
  static void set_error_log(int fd);

  void request(Connection* c, const DispatchedRequest& r) override;
  void drain(Connection* c) override;
  void aborted(Connection* c) override;
  void closed(bool) override {}

  // Keeps an access entry per finished request from now on, at most capacity of them
  // (0: stops); keys are the environ keys wanted besides the fixed fields: request
  // headers ("HTTP_USER_AGENT") are taken from the head, other keys ("REMOTE_USER") are
  // the application's to give (core->log_key, TSGI_NOTE_VALUE).
  void record_access(size_t capacity, std::vector<std::string> keys);
  bool recording() const { return !ring_.empty(); }
  const std::vector<std::string>& keys() const { return keys_; }
  // Moves the entries kept so far to *out (oldest first; its strings' buffers are reused).
  size_t take_access(std::vector<AccessEntry>* out);
  const NativeAppCounters& counters() const { return counters_; }

  // ---- for the core operations (native_app.cc) ----
  void finished(AccessEntry* e);
  void count_harakiri() { counters_.harakiri++; }

 private:
  tsgi_native_app* app_;
  std::vector<std::string> keys_;
  std::vector<AccessEntry> ring_;
  size_t head_ = 0;
  size_t count_ = 0;
  NativeAppCounters counters_;
};

}  // namespace tsgi
