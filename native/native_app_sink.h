// The core's side of native/native_app.h: a RequestSink that hands a server's requests to
// a native application (the embedded Python interpreter) and the tsgi_core_ops table it
// answers through, mapped onto Connection's response methods. No Node-API here
// (binding.cc's JsSink forwards to it and keeps the close notification).
#pragma once

#include <string>

#include "native_app.h"
#include "request_sink.h"

namespace tsgi {

class NativeAppSink final : public RequestSink {
 public:
  explicit NativeAppSink(tsgi_native_app* app);
  // Whether app speaks this core's ABI; else *why says what is wrong.
  static bool compatible(const tsgi_native_app* app, std::string* why);

  void request(Connection* c, const DispatchedRequest& r) override;
  void drain(Connection* c) override;
  void aborted(Connection* c) override;
  void closed(bool) override {}

 private:
  tsgi_native_app* app_;
};

}  // namespace tsgi
