// The Node-API surface of the addon (the contract is src/native.ts): registers the
// exports, converts JS values to the plain C++ types of the server, listener and
// connection code (chunks as Bytes, Buffers held by napi references through a Release
// hook), and delivers requests to JS (JsSink, the RequestSink of every server made here).
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <napi.h>

#include <cstring>
#include <memory>
#include <vector>

#include "connection.h"
#include "known_headers.h"
#include "listener.h"
#include "loop_data.h"
#include "output_queue.h"
#include "request_sink.h"
#include "native_app_sink.h"
#include "server.h"
#include "tls/tls_context.h"
#include "tls/tls_transport.h"

namespace tsgi {
namespace {

LoopData* data_of(const Napi::CallbackInfo& info) { return info.Env().GetInstanceData<LoopData>(); }

Napi::Value throw_error(Napi::Env env, const std::string& message, const char* code = nullptr) {
  Napi::Error e = Napi::Error::New(env, message);
  if (code) e.Set("code", Napi::String::New(env, code));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

Server* server_arg(const Napi::CallbackInfo& info) {
  Server* s = data_of(info)->server(info[0].As<Napi::Number>().DoubleValue());
  if (!s) throw_error(info.Env(), "tsgi: unknown server", "TSGI_ERR_SERVER");
  return s;
}

// The connection whose id is `id` (null when it is gone, or id is not a number), and its
// loop in *ld.
Connection* conn_of(napi_env env, napi_value id, LoopData** ld) {
  napi_get_instance_data(env, reinterpret_cast<void**>(ld));
  double v = -1;
  napi_get_value_double(env, id, &v);
  return (*ld)->find(v);
}

// The same for a node-addon-api callback whose first argument is the connection.
Connection* conn_arg(const Napi::CallbackInfo& info) {
  LoopData* ld = nullptr;
  return conn_of(info.Env(), info[0], &ld);
}

// A limit createServer must be given: the native core has no defaults of its own (the
// settings in src/settings/limits.ts are the one place they are declared). Missing or not
// a non-negative number: a JS exception naming the field, and false.
bool limit(const Napi::Object& o, const char* key, double* out) {
  Napi::Value v = o.Get(key);
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (d >= 0) {
      *out = d;
      return true;
    }
  }
  throw_error(o.Env(), std::string("tsgi: createServer: the limits need ") + key + " as a non-negative number",
              "TSGI_ERR_INVALID_LIMITS");
  return false;
}

Napi::Value address_object(Napi::Env env, const ListenAddress& a) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("address", a.address);
  o.Set("family", a.family);
  o.Set("port", a.port);
  return o;
}

// The listen options object (NativeListenOptions in src/native.ts) at v, or defaults when
// it is undefined. false: invalid (a JS exception is pending).
bool listen_options(Napi::Env env, Napi::Value v, ListenOptions* out) {
  *out = ListenOptions();
  if (v.IsUndefined() || v.IsNull()) return true;
  if (!v.IsObject()) {
    throw_error(env, "tsgi: listen options must be an object", "ERR_INVALID_ARG_TYPE");
    return false;
  }
  Napi::Object o = v.As<Napi::Object>();
  Napi::Value protocol = o.Get("protocol");
  if (!protocol.IsUndefined()) {
    std::string p = protocol.IsString() ? protocol.As<Napi::String>().Utf8Value() : std::string();
    if (p == "uwsgi") {
      out->protocol = ListenProtocol::Uwsgi;
    } else if (p != "http") {
      throw_error(env, "tsgi: listen option protocol must be 'http' or 'uwsgi'", "ERR_INVALID_ARG_VALUE");
      return false;
    }
  }
  Napi::Value size = o.Get("uwsgiBufferSize");
  if (!size.IsUndefined()) {
    double n = size.IsNumber() ? size.As<Napi::Number>().DoubleValue() : -1;
    if (!(n >= 1 && n <= 65535) || n != static_cast<double>(static_cast<int64_t>(n))) {
      throw_error(env, "tsgi: listen option uwsgiBufferSize must be an integer from 1 to 65535 (the uwsgi packet's size field is 16 bits)",
                  "ERR_INVALID_ARG_VALUE");
      return false;
    }
    out->uwsgi_buffer_size = static_cast<size_t>(n);
  }
  out->proxy_protocol = o.Get("proxyProtocol").ToBoolean().Value();
  Napi::Value allow = o.Get("proxyAllow");
  std::vector<std::string> ranges;
  if (allow.IsUndefined()) {
    ranges = {"127.0.0.1", "::1"};
  } else if (allow.IsArray()) {
    Napi::Array a = allow.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Value e = a.Get(i);
      ranges.push_back(e.IsString() ? e.As<Napi::String>().Utf8Value() : std::string());
    }
  } else {
    throw_error(env, "tsgi: listen option proxyAllow must be an array of addresses and CIDR ranges", "TSGI_ERR_PROXY_ALLOW");
    return false;
  }
  for (const std::string& r : ranges) {
    CidrRange c;
    if (!parse_cidr(r.data(), r.size(), &c)) {
      throw_error(env, "tsgi: proxyAllow entry \"" + r + "\" is not an IPv4/IPv6 address, a CIDR range (10.0.0.0/8, 2001:db8::/32) or *",
                  "TSGI_ERR_PROXY_ALLOW");
      return false;
    }
    out->proxy_allow.push_back(c);
  }
  return true;
}

Napi::Value listen_result(Napi::Env env, Listener* l, const ListenAddress& a, const ListenError& err,
                          ListenOptions* options) {
  if (!l) return throw_error(env, err.message, uv_err_name(err.code));
  l->options = std::move(*options);  // before the loop runs: no connection is accepted yet
  return address_object(env, a);
}

// ---- JS values as Bytes -----------------------------------------------------------------

void delete_ref(void* env, void* ref) {
  napi_delete_reference(static_cast<napi_env>(env), static_cast<napi_ref>(ref));
}

// Keeps a Buffer (cookie: its napi_value, valid during the call) alive until written.
Release hold_value(void* env, void* value) {
  napi_ref ref = nullptr;
  napi_create_reference(static_cast<napi_env>(env), static_cast<napi_value>(value), 1, &ref);
  Release r;
  r.fn = delete_ref;
  r.ctx = env;
  r.cookie = ref;
  return r;
}

size_t fill_utf8(void* env, void* value, char* out, size_t room) {
  size_t copied = 0;
  napi_get_value_string_utf8(static_cast<napi_env>(env), static_cast<napi_value>(value), out, room, &copied);
  return copied;
}

size_t fill_latin1(void* env, void* value, char* out, size_t room) {
  size_t copied = 0;
  napi_get_value_string_latin1(static_cast<napi_env>(env), static_cast<napi_value>(value), out, room, &copied);
  return copied;
}

// Strings up to this many UTF-16 units (in all, per call) are encoded once into a scratch
// buffer (at most 3 bytes a unit) and copied into the output; the others are measured and
// then encoded straight into the output (two passes, but the scratch stays small).
constexpr size_t kScratchUnits = 16 * 1024;

// Where short string chunks are encoded during one native call (over the loop's
// chunk_scratch memory): they are copied into the connection's output before the call
// returns.
class ChunkScratch {
 public:
  explicit ChunkScratch(std::vector<char>* buf) : buf_(*buf) {}
  // Room for `units` more UTF-16 units, asked for before begin(); spans stay valid until the next begin().
  void reserve(size_t units) { want_ += 3 * units + 1; }
  void begin() {
    if (buf_.size() < want_) buf_.resize(want_);
    used_ = 0;
    want_ = 0;
  }
  // Encodes the string v (units long) as UTF-8 into the scratch: the span in b.
  void encode(napi_env env, napi_value v, size_t units, Bytes* b) {
    char* out = buf_.data() + used_;
    size_t wrote = 0;
    napi_get_value_string_utf8(env, v, out, 3 * units + 1, &wrote);
    used_ += wrote;
    b->data = out;
    b->len = wrote;
  }
 private:
  std::vector<char>& buf_;
  size_t used_ = 0;
  size_t want_ = 0;
};

// A string chunk encoded straight into the output: measured now, encoded when queued.
void measure_utf8(napi_env env, napi_value v, Bytes* b) {
  napi_get_value_string_utf8(env, v, nullptr, 0, &b->len);
  b->fill = fill_utf8;
}

// The length of a string in UTF-16 units (O(1): no encoding).
size_t string_units(napi_env env, napi_value v) {
  size_t n = 0;
  napi_get_value_string_latin1(env, v, nullptr, 0, &n);
  return n;
}

// A chunk: a string (sent as UTF-8), a Buffer or a byte typed array (held while queued);
// anything else is empty. A short string is left for the scratch (*units set, the caller
// encodes it once with ChunkScratch); a long one is measured and encoded straight into
// the output.
Bytes chunk_bytes(napi_env env, napi_value v, size_t* units) {
  Bytes b;
  b.ctx = env;
  b.cookie = v;
  *units = 0;
  napi_valuetype type;
  if (napi_typeof(env, v, &type) != napi_ok) return b;
  if (type == napi_string) {
    size_t n = string_units(env, v);
    if (n <= kScratchUnits) {
      *units = n;
      return b;
    }
    measure_utf8(env, v, &b);
    return b;
  }
  if (type != napi_object) return b;
  void* data = nullptr;
  size_t len = 0;
  if (napi_get_buffer_info(env, v, &data, &len) != napi_ok) {
    napi_typedarray_type tt;
    napi_value ab;
    size_t off;
    if (napi_get_typedarray_info(env, v, &tt, &len, &data, &ab, &off) != napi_ok) return b;
    // len is in elements; only byte arrays are chunks
    if (tt != napi_uint8_array && tt != napi_int8_array && tt != napi_uint8_clamped_array) return b;
  }
  b.data = static_cast<const char*>(data);
  b.len = len;
  b.hold = hold_value;
  return b;
}

// One chunk argument as Bytes, a short string encoded once into the scratch (valid until
// the next call).
Bytes one_chunk(napi_env env, napi_value v, LoopData* ld) {
  size_t units = 0;
  Bytes b = chunk_bytes(env, v, &units);
  if (units > 0) {
    ChunkScratch scratch(&ld->chunk_scratch);
    scratch.reserve(units);
    scratch.begin();
    scratch.encode(env, v, units, &b);
  }
  return b;
}

// A response head string (latin-1), encoded straight into the output.
Bytes head_bytes(napi_env env, napi_value v) {
  Bytes b;
  b.ctx = env;
  b.cookie = v;
  napi_get_value_string_latin1(env, v, nullptr, 0, &b.len);
  b.fill = fill_latin1;
  return b;
}

// ---- TLS -----------------------------------------------------------------------------

std::string bytes_of(const Napi::Value& v) {
  if (v.IsBuffer()) {
    Napi::Buffer<char> b = v.As<Napi::Buffer<char>>();
    return std::string(b.Data(), b.Length());
  }
  if (v.IsString()) return v.As<Napi::String>().Utf8Value();
  return std::string();
}

std::string text_of(const Napi::Object& o, const char* key, const char* fallback) {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string(fallback);
}

// The TLS context of a listen options' tls object (NativeTlsOptions in src/native.ts),
// or null with *error saying what is wrong with it.
std::shared_ptr<tls::TlsContext> tls_context_of(const Napi::Object& t, std::string* error, uint64_t* handshake_ms) {
  tls::ContextOptions o;
  o.cert.cert_pem = bytes_of(t.Get("cert"));
  o.cert.key_pem = bytes_of(t.Get("key"));
  o.cert.passphrase = text_of(t, "passphrase", "");
  o.cert.cert_name = text_of(t, "certName", "tls.cert");
  o.cert.key_name = text_of(t, "keyName", "tls.key");
  o.ca_pem = bytes_of(t.Get("ca"));
  std::string reqs = text_of(t, "certReqs", "none");
  o.client_certs = reqs == "required" ? tls::ClientCerts::Required
                   : reqs == "optional" ? tls::ClientCerts::Optional : tls::ClientCerts::None;
  o.ciphers = text_of(t, "ciphers", "");
  o.min_version = text_of(t, "minVersion", "TLSv1.2");
  Napi::Value sni = t.Get("sni");
  if (sni.IsObject()) {
    Napi::Object hosts = sni.As<Napi::Object>();
    Napi::Array names = hosts.GetPropertyNames();
    for (uint32_t i = 0; i < names.Length(); i++) {
      std::string host = names.Get(i).As<Napi::String>().Utf8Value();
      Napi::Value e = hosts.Get(host);
      if (!e.IsObject()) continue;
      Napi::Object entry = e.As<Napi::Object>();
      tls::SniEntry se;
      se.host = host;
      se.cert.cert_pem = bytes_of(entry.Get("cert"));
      se.cert.key_pem = bytes_of(entry.Get("key"));
      se.cert.passphrase = o.cert.passphrase;
      se.cert.cert_name = text_of(entry, "certName", ("tls.sni[" + host + "].cert").c_str());
      se.cert.key_name = text_of(entry, "keyName", ("tls.sni[" + host + "].key").c_str());
      o.sni.push_back(std::move(se));
    }
  }
  Napi::Value hs = t.Get("tlsHandshakeTimeout");
  *handshake_ms = hs.IsNumber() && hs.As<Napi::Number>().DoubleValue() > 0
                      ? static_cast<uint64_t>(hs.As<Napi::Number>().DoubleValue())
                      : 10000;
  return tls::TlsContext::create(o, error);
}

// What a listen call's options ask of the listener (TLS so far), built before the
// socket is opened so that a bad certificate leaves nothing listening.
struct ListenSetup {
  std::shared_ptr<tls::TlsContext> tls;
  uint64_t handshake_ms = 10000;
  bool ok = true;
};

ListenSetup listen_setup(const Napi::CallbackInfo& info, size_t at) {
  ListenSetup setup;
  if (info.Length() <= at || !info[at].IsObject()) return setup;
  Napi::Value t = info[at].As<Napi::Object>().Get("tls");
  if (!t.IsObject()) return setup;
  std::string error;
  setup.tls = tls_context_of(t.As<Napi::Object>(), &error, &setup.handshake_ms);
  if (!setup.tls) {
    throw_error(info.Env(), "TLS: " + error, "ERR_TSGI_TLS");
    setup.ok = false;
  }
  return setup;
}

void apply_setup(Listener* l, const ListenSetup& setup) {
  if (!l || !setup.tls) return;
  l->tls = setup.tls;
  l->tls_handshake_timeout_ms = setup.handshake_ms;
}

// The tsgi.tls object of a connection: made at its first request, then reused.
napi_value tls_info(napi_env env, tls::TlsTransport* t) {
  napi_value v = nullptr;
  if (t->app_data && napi_get_reference_value(env, static_cast<napi_ref>(t->app_data), &v) == napi_ok && v) return v;
  const tls::TlsSession* s = t->session();
  Napi::Object o = Napi::Object::New(Napi::Env(env));
  o.Set("protocol", s->protocol());
  o.Set("cipher", s->cipher());
  o.Set("peerSubject", s->peer_subject());
  napi_object_freeze(env, o);
  napi_ref ref = nullptr;
  if (napi_create_reference(env, o, 1, &ref) == napi_ok) {
    t->app_data = ref;
    t->app_data_release = Release{delete_ref, env, ref};
  }
  return o;
}

// ---- requests to JS -------------------------------------------------------------------

// What a call into JS returned: a pending exception is reported as uncaught.
void report_uncaught(napi_env env, napi_status st) {
  if (st != napi_pending_exception) return;
  napi_value err;
  if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err);
}

// Calls fn as an event from the loop (a callback scope: microtasks and nextTicks run
// after it). An exception thrown by fn is reported as uncaught.
void call_js(LoopData* ld, napi_value recv, napi_value fn, size_t argc, const napi_value* argv) {
  napi_value result;
  report_uncaught(ld->env, napi_make_callback(ld->env, ld->async_ctx, recv, fn, argc, argv, &result));
}

napi_ref make_ref(napi_env env, napi_value v) {
  napi_ref r = nullptr;
  napi_create_reference(env, v, 1, &r);
  return r;
}

napi_value deref(napi_env env, napi_ref r) {
  napi_value v = nullptr;
  napi_get_reference_value(env, r, &v);
  return v;
}

// A server's JavaScript side: its handlers object (onRequest, onDrain, onAbort) and the
// callback of close().
class JsSink final : public RequestSink {
 public:
  JsSink(LoopData* ld, napi_value handlers) : ld_(ld) {
    napi_env env = ld->env;
    handlers_ = make_ref(env, handlers);
    on_request_ = make_ref(env, named(env, handlers, "onRequest"));
    on_drain_ = make_ref(env, named(env, handlers, "onDrain"));
    on_abort_ = make_ref(env, named(env, handlers, "onAbort"));
    napi_value queued = named(env, handlers, "onQueued");
    napi_valuetype t = napi_undefined;
    if (queued != nullptr && napi_typeof(env, queued, &t) == napi_ok && t == napi_function) on_queued_ = make_ref(env, queued);
  }
  ~JsSink() override {
    if (ld_->tearing_down) return;  // the env is going away with its references
    for (napi_ref* r : {&handlers_, &on_request_, &on_drain_, &on_abort_, &on_queued_, &done_})
      if (*r) napi_delete_reference(ld_->env, *r), *r = nullptr;
  }

  void set_done(napi_value fn) { done_ = make_ref(ld_->env, fn); }
  // A native application (native_app.h) answers this server's requests instead of JS;
  // the close notification stays here.
  void set_native(NativeAppSink* app) { native_.reset(app); }
  NativeAppSink* native_app() const { return native_.get(); }

  void request(Connection* c, const DispatchedRequest& r) override {
    if (native_) return native_->request(c, r);
    if (batch_depth_ == 0) {
      // A request outside a read (resumed after a pause) is a batch of one.
      batch_begin();
      request(c, r);
      batch_end();
      return;
    }
    napi_env env = ld_->env;
    if (!batch_scope_) {
      // The first request of a batch opens one callback scope for all of them, so
      // microtasks and nextTicks run once when it closes (for reads: after the poll
      // phase), not after each request. The handlers and the no-body arguments are
      // looked up once for the batch too.
      napi_open_handle_scope(env, &batch_handles_);
      batch_recv_ = deref(env, handlers_);
      batch_fn_ = deref(env, on_request_);
      napi_get_null(env, &batch_null_);
      napi_create_int32(env, -1, &batch_no_fd_);
      napi_create_double(env, 0, &batch_zero_);
      napi_get_undefined(env, &batch_undefined_);
      napi_open_callback_scope(env, batch_recv_, ld_->async_ctx, &batch_scope_);
    }
    if (queueable(c, r)) {
      // Read in libuv's poll phase, one request, no body: kept for onQueued, which takes
      // every request kept in the phase in one call from the core (takeQueued), after it.
      // The connection holds the record and head text until the response ends.
      queued_.push_back(c->id);
      return;
    }
    std::memcpy(ld_->record, r.record, r.record_ints * sizeof(int32_t));
    call_on_request(c, r);
  }
  // onRequest(conn, head, body, bodyFd, bodyLength, tls) for r, whose record is in the
  // shared record array.
  void call_on_request(Connection* c, const DispatchedRequest& r) {
    napi_env env = ld_->env;
    napi_handle_scope scope;
    napi_open_handle_scope(env, &scope);
    napi_value argv[6];
    napi_create_double(env, c->id, &argv[0]);
    napi_create_string_latin1(env, r.text, r.text_len, &argv[1]);
    if (r.body_len > 0) {
      void* unused;
      napi_create_buffer_copy(env, r.body_len, r.body, &unused, &argv[2]);
    } else {
      argv[2] = batch_null_;
    }
    if (r.body_fd == -1) argv[3] = batch_no_fd_;
    else napi_create_int32(env, r.body_fd, &argv[3]);
    if (r.body_bytes == 0) argv[4] = batch_zero_;
    else napi_create_double(env, static_cast<double>(r.body_bytes), &argv[4]);
    tls::TlsTransport* t = c->tls_transport();
    argv[5] = t != nullptr ? tls_info(env, t) : batch_undefined_;
    napi_value result;
    report_uncaught(env, napi_call_function(env, batch_recv_, batch_fn_, 6, argv, &result));
    napi_close_handle_scope(env, scope);
  }
  void batch_begin() override { batch_depth_++; }
  void set_hold(uint64_t ns) { hold_ns_ = ns; }
  // The requests kept in this batch go to onQueued, which takes them with takeQueued
  // (still inside the batch's callback scope); the responses it completes are held and
  // sent together when it returns (LoopData::hold). What it did not take (it threw) is
  // dispatched one call each, as usual.
  void run_queued() {
    napi_env env = ld_->env;
    void* before = ld_->queue_owner;
    ld_->queue_owner = this;
    const bool holding = ld_->holding_output;
    if (!holding && hold_ns_ > 0) ld_->begin_holding(hold_ns_);
    napi_value result;
    report_uncaught(env, napi_call_function(env, batch_recv_, deref(env, on_queued_), 0, nullptr, &result));
    if (!holding) ld_->end_holding();
    ld_->queue_owner = before;
    DispatchedRequest r;
    for (Connection* c; (c = take_queued(&r)) != nullptr;) call_on_request(c, r);
    queued_.clear();
    queued_next_ = 0;
  }
  void batch_end() override {
    if (--batch_depth_ > 0 || !batch_scope_ || batch_deferred_) return;
    if (ld_->in_poll_read()) {
      // A read in libuv's poll phase: the scope stays open for the other connections
      // read in this phase and closes once, after it (LoopData::at_poll_end).
      batch_deferred_ = true;
      ld_->at_poll_end(close_deferred, this);
      return;
    }
    close_batch();
  }
  // The next connection whose request was kept for onQueued, that request in *r and its
  // record in the shared record array; nullptr when none is left. Requests whose
  // connection closed meanwhile are skipped (one still in flight and not closing is the
  // kept one: nobody else has seen it).
  Connection* take_queued(DispatchedRequest* r) {
    while (queued_next_ < queued_.size()) {
      Connection* c = ld_->find(queued_[queued_next_++]);
      if (!c || c->closing() || !c->in_flight()) continue;
      *r = c->request_in_flight();
      std::memcpy(ld_->record, r->record, r->record_ints * sizeof(int32_t));
      return c;
    }
    return nullptr;
  }

  static void close_deferred(void* self) {
    JsSink* s = static_cast<JsSink*>(self);
    s->batch_deferred_ = false;
    if (s->batch_depth_ == 0) s->close_batch();
  }
  void close_batch() {
    if (!queued_.empty()) run_queued();
    napi_env env = ld_->env;
    napi_callback_scope cs = batch_scope_;
    batch_scope_ = nullptr;
    napi_close_callback_scope(env, cs);  // the batch's microtasks and nextTicks run here
    napi_close_handle_scope(env, batch_handles_);
    batch_handles_ = nullptr;
  }
  void drain(Connection* c) override {
    if (native_) return native_->drain(c);
    event(c, on_drain_);
  }
  void aborted(Connection* c) override {
    if (native_) return native_->aborted(c);
    event(c, on_abort_);
  }

  void closed(bool notify) override {
    napi_ref done = done_;
    done_ = nullptr;
    if (!done) return;
    napi_env env = ld_->env;
    if (!notify) {
      napi_delete_reference(env, done);
      return;
    }
    napi_handle_scope scope;
    napi_open_handle_scope(env, &scope);
    napi_value fn = deref(env, done);
    napi_value global;
    napi_get_global(env, &global);
    napi_delete_reference(env, done);
    call_js(ld_, global, fn, 0, nullptr);
    napi_close_handle_scope(env, scope);
  }

 private:
  // A request onQueued can take: read from a socket in the poll phase (its scope closes
  // after it), the only request of its read, no body, not TLS (no per-request TLS info).
  bool queueable(Connection* c, const DispatchedRequest& r) const {
    return on_queued_ != nullptr && ld_->in_poll_read() && r.body_len == 0 && r.body_fd == -1 &&
           r.body_bytes == 0 && (r.record[kRecFlags] & kFlagPipelined) == 0 && c->tls_transport() == nullptr;
  }
  static napi_value named(napi_env env, napi_value obj, const char* name) {
    napi_value v = nullptr;
    napi_get_named_property(env, obj, name, &v);
    return v;
  }
  void event(Connection* c, napi_ref handler) {
    napi_env env = ld_->env;
    napi_handle_scope scope;
    napi_open_handle_scope(env, &scope);
    napi_value arg;
    napi_create_double(env, c->id, &arg);
    call_js(ld_, deref(env, handlers_), deref(env, handler), 1, &arg);
    napi_close_handle_scope(env, scope);
  }

  LoopData* ld_;
  int batch_depth_ = 0;
  napi_callback_scope batch_scope_ = nullptr;   // open while a batch has called into JS
  bool batch_deferred_ = false;  // batch_scope_ closes at the end of the poll phase
  napi_handle_scope batch_handles_ = nullptr;
  napi_value batch_recv_ = nullptr;  // valid in batch_handles_
  napi_value batch_fn_ = nullptr;
  napi_value batch_null_ = nullptr;
  napi_value batch_no_fd_ = nullptr;
  napi_value batch_zero_ = nullptr;
  napi_value batch_undefined_ = nullptr;
  napi_ref handlers_ = nullptr;
  napi_ref on_request_ = nullptr;
  uint64_t hold_ns_ = 0;  // responseHold: see LoopData::hold
  napi_ref on_drain_ = nullptr;
  napi_ref on_abort_ = nullptr;
  napi_ref on_queued_ = nullptr;
  napi_ref done_ = nullptr;
  std::vector<double> queued_;  // connections whose request waits for onQueued
  size_t queued_next_ = 0;
  std::unique_ptr<NativeAppSink> native_;
};

Napi::Value KnownHeaders(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array a = Napi::Array::New(env, kKnownHeaderCount);
  for (size_t i = 0; i < kKnownHeaderCount; i++) a.Set(static_cast<uint32_t>(i), kKnownHeaderKeys[i]);
  return a;
}

Napi::Value CreateServer(const Napi::CallbackInfo& info) {
  LoopData* ld = data_of(info);
  Napi::Object o = info[0].As<Napi::Object>();
  ServerLimits l;
  double v[16];
  static const char* const keys[16] = {
      "maxRequestLine", "maxHeaderSize", "maxHeaders", "maxBodySize", "bodyMemorySize",
      "headerTimeout", "firstByteTimeout", "minBodyRate", "minBodyRateGrace", "bodyTimeout",
      "keepAliveTimeout", "writeTimeout", "maxConnections", "maxKeepAliveRequests", "responseHold", nullptr};
  for (int i = 0; keys[i]; i++) {
    if (!limit(o, keys[i], &v[i])) return info.Env().Undefined();
  }
  Napi::Value dir = o.Get("spoolDir");
  if (!dir.IsString()) {
    throw_error(info.Env(), "tsgi: createServer: the limits need spoolDir as a string", "TSGI_ERR_INVALID_LIMITS");
    return info.Env().Undefined();
  }
  Napi::Value sendfile = o.Get("sendfile");
  const std::string use = sendfile.IsString() ? sendfile.As<Napi::String>().Utf8Value() : std::string();
  if (use == "auto") l.sendfile = SendfileUse::Auto;
  else if (use == "always") l.sendfile = SendfileUse::Always;
  else if (use == "never") l.sendfile = SendfileUse::Never;
  else {
    throw_error(info.Env(), "tsgi: createServer: the limits need sendfile as 'auto', 'always' or 'never'", "TSGI_ERR_INVALID_LIMITS");
    return info.Env().Undefined();
  }
  Napi::Value health = o.Get("healthPath");  // optional: '' or absent, no health endpoint
  if (health.IsString()) l.health_path = health.As<Napi::String>().Utf8Value();
  l.parse.max_request_line = static_cast<size_t>(v[0]);
  l.parse.max_header_size = static_cast<size_t>(v[1]);
  l.parse.max_headers = static_cast<size_t>(v[2] > kMaxHeadersCap ? kMaxHeadersCap : v[2]);
  l.max_body_size = static_cast<uint64_t>(v[3]);
  l.body_memory_size = static_cast<uint64_t>(v[4]);
  l.spool_dir = dir.As<Napi::String>().Utf8Value();
  l.header_timeout_ms = static_cast<uint64_t>(v[5]);
  l.first_byte_timeout_ms = static_cast<uint64_t>(v[6]);
  l.min_body_rate = static_cast<uint64_t>(v[7]);
  l.min_body_rate_grace_ms = static_cast<uint64_t>(v[8]);
  l.body_timeout_ms = static_cast<uint64_t>(v[9]);
  l.keep_alive_timeout_ms = static_cast<uint64_t>(v[10]);
  l.write_timeout_ms = static_cast<uint64_t>(v[11]);
  l.max_connections = static_cast<uint32_t>(v[12]);
  l.max_keep_alive_requests = static_cast<uint32_t>(v[13]);
  l.response_hold_us = static_cast<uint64_t>(v[14]);
  // A native application (native_app.h) answers the requests itself, instead of JS.
  tsgi_native_app* native_app = nullptr;
  if (info.Length() > 2 && info[2].IsExternal()) {
    native_app = static_cast<tsgi_native_app*>(info[2].As<Napi::External<void>>().Data());
    std::string why;
    if (!NativeAppSink::compatible(native_app, &why)) {
      Napi::Error::New(info.Env(), why).ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
  }
  int index = static_cast<int>(ld->servers.size());
  JsSink* sink = new JsSink(ld, info[1]);
  sink->set_hold(l.response_hold_us * 1000);
  if (native_app) sink->set_native(new NativeAppSink(native_app));
  ld->servers.push_back(new Server(ld, index, l, sink));
  return Napi::Number::New(info.Env(), index);
}

Napi::Value ListenTcp(const Napi::CallbackInfo& info) {
  Server* s = server_arg(info);
  if (!s) return info.Env().Undefined();
  ListenOptions options;
  if (!listen_options(info.Env(), info[4], &options)) return info.Env().Undefined();
  ListenSetup setup = listen_setup(info, 4);
  if (!setup.ok) return info.Env().Undefined();
  ListenAddress a;
  ListenError err;
  Listener* l = listen_tcp(s, info[1].As<Napi::String>().Utf8Value(), info[2].As<Napi::Number>().Int32Value(),
                           info[3].As<Napi::Number>().Int32Value(), &a, &err);
  apply_setup(l, setup);
  return listen_result(info.Env(), l, a, err, &options);
}

Napi::Value ListenUnix(const Napi::CallbackInfo& info) {
  Server* s = server_arg(info);
  if (!s) return info.Env().Undefined();
  ListenOptions options;
  if (!listen_options(info.Env(), info[4], &options)) return info.Env().Undefined();
  ListenSetup setup = listen_setup(info, 4);
  if (!setup.ok) return info.Env().Undefined();
  ListenAddress a;
  ListenError err;
  Listener* l = listen_unix(s, info[1].As<Napi::String>().Utf8Value(), info[2].As<Napi::Number>().Int32Value(),
                            info[3].As<Napi::Number>().Int32Value(), &a, &err);
  apply_setup(l, setup);
  return listen_result(info.Env(), l, a, err, &options);
}

Napi::Value ListenFd(const Napi::CallbackInfo& info) {
  Server* s = server_arg(info);
  if (!s) return info.Env().Undefined();
  ListenOptions options;
  if (!listen_options(info.Env(), info[3], &options)) return info.Env().Undefined();
  ListenSetup setup = listen_setup(info, 3);
  if (!setup.ok) return info.Env().Undefined();
  ListenAddress a;
  ListenError err;
  int backlog = info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value() : 511;
  Listener* l = listen_fd(s, info[1].As<Napi::Number>().Int32Value(), backlog, &a, &err);
  apply_setup(l, setup);
  return listen_result(info.Env(), l, a, err, &options);
}

// reloadTls(server, tls): a new TLS configuration for every HTTPS listener of the server.
// New handshakes use it; open connections keep theirs. Throws (and changes nothing) when
// it is invalid. Returns how many listeners took it.
Napi::Value ReloadTls(const Napi::CallbackInfo& info) {
  Server* s = server_arg(info);
  if (!s) return info.Env().Undefined();
  if (!info[1].IsObject()) return throw_error(info.Env(), "tsgi: reloadTls() needs the TLS options", "ERR_INVALID_ARG_TYPE");
  std::string error;
  uint64_t handshake_ms = 10000;
  std::shared_ptr<tls::TlsContext> ctx = tls_context_of(info[1].As<Napi::Object>(), &error, &handshake_ms);
  if (!ctx) return throw_error(info.Env(), "TLS: " + error, "ERR_TSGI_TLS");
  int n = 0;
  for (Listener* l : s->listeners) {
    if (!l->tls) continue;
    l->tls = ctx;
    l->tls_handshake_timeout_ms = handshake_ms;
    n++;
  }
  return Napi::Number::New(info.Env(), n);
}

Napi::Value StopListening(const Napi::CallbackInfo& info) {
  Server* s = server_arg(info);
  if (!s) return info.Env().Undefined();
  std::vector<int> refuse;
  if (info.Length() > 1 && info[1].IsArray()) {
    Napi::Array a = info[1].As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) {
      Napi::Value v = a.Get(i);
      if (v.IsNumber()) refuse.push_back(v.As<Napi::Number>().Int32Value());
    }
  }
  s->stop_listening(true, refuse);
  return info.Env().Undefined();
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  Server* s = server_arg(info);
  if (!s) return info.Env().Undefined();
  JsCallScope scope(data_of(info));
  // The callback of the first close() only (a second one only hastens the first).
  if (!s->closing && info[2].IsFunction()) static_cast<JsSink*>(s->sink)->set_done(info[2]);
  s->close(info[1].ToBoolean().Value());
  return info.Env().Undefined();
}

Napi::Value Stats(const Napi::CallbackInfo& info) {
  Server* s = server_arg(info);
  if (!s) return info.Env().Undefined();
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("connections", static_cast<double>(s->active_connections));
  o.Set("requests", static_cast<double>(s->stats.requests));
  o.Set("bytesSent", static_cast<double>(s->stats.bytes_sent));
  o.Set("bytesReceived", static_cast<double>(s->stats.bytes_received));
  o.Set("listeners", static_cast<double>(s->listeners.size()));
  o.Set("evicted", static_cast<double>(s->stats.evicted));
  o.Set("acceptPauses", static_cast<double>(s->stats.accept_pauses));
  return o;
}

// The native application's sink of a server, or null (a JavaScript application).
NativeAppSink* native_sink(Server* s) { return s ? static_cast<JsSink*>(s->sink)->native_app() : nullptr; }

// nativeAppLog(server, capacity, keys): the native application's requests are kept for
// the access log from now on (see NativeAppSink::record_access). false: not one.
Napi::Value NativeAppLog(const Napi::CallbackInfo& info) {
  NativeAppSink* sink = native_sink(server_arg(info));
  if (!sink) return Napi::Boolean::New(info.Env(), false);
  double capacity = info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : 0;
  if (!(capacity >= 0) || capacity > 1 << 20) capacity = 1 << 20;
  std::vector<std::string> keys;
  if (info[2].IsArray()) {
    Napi::Array a = info[2].As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); i++) keys.push_back(a.Get(i).ToString().Utf8Value());
  }
  sink->record_access(static_cast<size_t>(capacity), std::move(keys));
  return Napi::Boolean::New(info.Env(), true);
}

// nativeAppDrain(server): the native application's counters and the access entries kept
// since the last call: { finished, errors, bytes, timeUs, inFlight, dropped, harakiri, count,
// numbers (start, duration, status, bytes per entry), text (the entries' fields, each
// followed by NUL) }; null for a JavaScript application.
Napi::Value NativeAppDrain(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  NativeAppSink* sink = native_sink(server_arg(info));
  if (!sink) return env.Null();
  thread_local std::vector<AccessEntry> entries;
  thread_local std::string text;
  const size_t n = sink->take_access(&entries);
  const NativeAppCounters& k = sink->counters();
  Napi::Object o = Napi::Object::New(env);
  o.Set("finished", k.finished);
  o.Set("errors", k.errors);
  o.Set("bytes", k.bytes);
  o.Set("timeUs", k.time_us);
  o.Set("inFlight", k.in_flight);
  o.Set("dropped", k.dropped);
  o.Set("harakiri", k.harakiri);
  o.Set("count", static_cast<double>(n));
  Napi::Float64Array numbers = Napi::Float64Array::New(env, 4 * n);
  text.clear();
  for (size_t i = 0; i < n; i++) {
    const AccessEntry& e = entries[i];
    numbers[4 * i] = e.start_ms;
    numbers[4 * i + 1] = e.duration_ms;
    numbers[4 * i + 2] = e.status;
    numbers[4 * i + 3] = e.bytes;
    text.append(e.text);
  }
  o.Set("numbers", numbers);
  napi_value str;
  napi_create_string_latin1(env, text.data(), text.size(), &str);
  o.Set("text", Napi::Value(env, str));
  return o;
}

// nativeAppErrorLog(fd): where native applications' error lines go (-1: standard error).
Napi::Value NativeAppErrorLog(const Napi::CallbackInfo& info) {
  NativeAppSink::set_error_log(info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : -1);
  return info.Env().Undefined();
}

// The status code argument of respond()/writeHead() (info[1]): 100..999, else false with
// a TypeError thrown.
bool status_arg(const Napi::CallbackInfo& info, const char* fn, int* status) {
  double v = info[1].IsNumber() ? info[1].As<Napi::Number>().DoubleValue() : 0;
  if (v >= 100 && v <= 999 && v == static_cast<int>(v)) {
    *status = static_cast<int>(v);
    return true;
  }
  throw_error(info.Env(), std::string("tsgi: ") + fn + "() status must be the response's status code (100..999)",
              "ERR_INVALID_ARG_TYPE");
  return false;
}

// nextRequest(conn): called by onRequest once the request it was given has been answered:
// the connection's next pipelined request of the same read (Connection::next_pipelined),
// its record in the shared record array, its head string returned; undefined: none (the
// core dispatches what is left as usual). A plain Node-API callback: one per request.
napi_value NextRequest(napi_env env, napi_callback_info cbinfo) {
  size_t argc = 1;
  napi_value argv[1];
  napi_value result = nullptr;
  napi_get_cb_info(env, cbinfo, &argc, argv, nullptr, nullptr);
  LoopData* ld = nullptr;
  Connection* c = conn_of(env, argv[0], &ld);
  DispatchedRequest r;
  bool taken = false;
  if (c) {
    JsCallScope scope(ld);
    taken = c->next_pipelined(&r);
  }
  if (!taken) {
    napi_get_undefined(env, &result);
    return result;
  }
  std::memcpy(ld->record, r.record, r.record_ints * sizeof(int32_t));
  napi_create_string_latin1(env, r.text, r.text_len, &result);
  return result;
}

// takeQueued(): called by onQueued: the next request the core kept for it (read in the
// poll phase just over), its record in the shared record array and its connection's id
// in current[0], its head string returned; undefined: none left.
napi_value take_next_queued(napi_env env, LoopData* ld) {
  // (Taking calls no JS and writes nothing: no JsCallScope needed.)
  DispatchedRequest r;
  Connection* c = ld->queue_owner ? static_cast<JsSink*>(ld->queue_owner)->take_queued(&r) : nullptr;
  if (!c) return nullptr;  // undefined
  *ld->current = c->id;
  napi_value result;
  napi_create_string_latin1(env, r.text, r.text_len, &result);
  return result;
}

napi_value TakeQueued(napi_env env, napi_callback_info) {
  LoopData* ld = nullptr;
  napi_get_instance_data(env, reinterpret_cast<void**>(&ld));
  return take_next_queued(env, ld);
}

// respond(conn, status, head, body, contentLength, flags) as a plain Node-API callback:
// the common small response is one call, so each argument is read with one Node-API
// call (the status and head checks come from the reads themselves). With `take` (the
// respondTake() of onQueued), a response that went out whole is followed by takeQueued():
// the next kept request's head string is returned in place of undefined, one call per
// request instead of two.
napi_value respond_call(napi_env env, napi_callback_info cbinfo, bool take) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, cbinfo, &argc, argv, nullptr, nullptr);
  napi_value result;
  double status = 0;
  if (napi_get_value_double(env, argv[1], &status) != napi_ok || !(status >= 100 && status <= 999) ||
      status != static_cast<int>(status)) {
    napi_throw_error(env, "ERR_INVALID_ARG_TYPE", "tsgi: respond() status must be the response's status code (100..999)");
    return nullptr;
  }
  Bytes head;
  head.ctx = env;
  head.cookie = argv[2];
  head.fill = fill_latin1;
  if (napi_get_value_string_latin1(env, argv[2], nullptr, 0, &head.len) != napi_ok) {
    napi_throw_error(env, "ERR_INVALID_ARG_TYPE", "tsgi: respond() head must be a string");
    return nullptr;
  }
  LoopData* ld = nullptr;
  Connection* c = conn_of(env, argv[0], &ld);
  if (!c) {
    napi_create_int32(env, kResultGone, &result);
    return result;
  }
  JsCallScope scope(c->ld);
  napi_value body = argv[3];
  // The body: one chunk, an array of chunks, or nothing.
  uint32_t count = 0;
  bool is_array = false;
  napi_valuetype type;
  napi_typeof(env, body, &type);
  if (type == napi_object) napi_is_array(env, body, &is_array);
  if (is_array) napi_get_array_length(env, body, &count);
  else if (type == napi_string || type == napi_object) count = 1;
  // Most bodies are one chunk or a few: those parts live on the stack (kept small, as
  // each is initialised on every call).
  constexpr uint32_t kInline = 4;
  Bytes parts_inline[kInline];
  std::vector<Bytes> parts_v;
  Bytes* parts = parts_inline;
  if (count > kInline) {
    parts_v.resize(count);
    parts = parts_v.data();
  }
  // Short strings are encoded once, into the scratch, after every part is known.
  bool strings = false;
  size_t budget = kScratchUnits;
  ChunkScratch scratch(&c->ld->chunk_scratch);
  for (uint32_t i = 0; i < count; i++) {
    napi_value v = body;
    if (is_array) napi_get_element(env, body, i, &v);
    size_t units = 0;
    parts[i] = chunk_bytes(env, v, &units);
    if (units > budget) {
      measure_utf8(env, v, &parts[i]);
    } else if (units > 0) {
      budget -= units;
      scratch.reserve(units);
      parts[i].cookie = v;
      parts[i].len = units;  // marks it for the pass below
      parts[i].ctx = nullptr;
      strings = true;
    }
  }
  if (strings) {
    scratch.begin();
    for (uint32_t i = 0; i < count; i++) {
      if (parts[i].ctx != nullptr) continue;
      parts[i].ctx = env;
      scratch.encode(env, static_cast<napi_value>(parts[i].cookie), parts[i].len, &parts[i]);
    }
  }
  double content_length = -1;
  int32_t flags = 0;
  napi_get_value_double(env, argv[4], &content_length);
  napi_get_value_int32(env, argv[5], &flags);
  int r = c->respond(static_cast<int>(status), head, parts, count, static_cast<int64_t>(content_length), flags);
  if (r == kResultOk) {
    // The common outcome returns undefined (no value to make), or the next kept request.
    return take ? take_next_queued(env, ld) : nullptr;
  }
  napi_create_int32(env, r, &result);
  return result;
}

napi_value Respond(napi_env env, napi_callback_info cbinfo) { return respond_call(env, cbinfo, false); }
napi_value RespondTake(napi_env env, napi_callback_info cbinfo) { return respond_call(env, cbinfo, true); }

Napi::Value WriteHead(const Napi::CallbackInfo& info) {
  int status;
  if (!status_arg(info, "writeHead", &status)) return info.Env().Undefined();
  if (!info[2].IsString()) return throw_error(info.Env(), "tsgi: writeHead() head must be a string", "ERR_INVALID_ARG_TYPE");
  Connection* c = conn_arg(info);
  if (!c) return Napi::Number::New(info.Env(), kResultGone);
  JsCallScope scope(c->ld);
  int r = c->write_head(status, head_bytes(info.Env(), info[2]),
                        static_cast<int64_t>(info[3].As<Napi::Number>().DoubleValue()),
                        info[4].As<Napi::Number>().Int32Value());
  return Napi::Number::New(info.Env(), r);
}

Napi::Value Write(const Napi::CallbackInfo& info) {
  Connection* c = conn_arg(info);
  if (!c) return Napi::Boolean::New(info.Env(), false);
  JsCallScope scope(c->ld);
  return Napi::Boolean::New(info.Env(), c->write(one_chunk(info.Env(), info[1], c->ld)) == 1);
}

Napi::Value End(const Napi::CallbackInfo& info) {
  Connection* c = conn_arg(info);
  if (!c) return Napi::Number::New(info.Env(), kResultGone);
  JsCallScope scope(c->ld);
  return Napi::Number::New(info.Env(), c->end(one_chunk(info.Env(), info[1], c->ld)));
}

Napi::Value SendFile(const Napi::CallbackInfo& info) {
  Connection* c = conn_arg(info);
  if (!c) return Napi::Number::New(info.Env(), kResultGone);
  JsCallScope scope(c->ld);
  int r = c->send_file(info[1].As<Napi::Number>().Int32Value(),
                       static_cast<int64_t>(info[2].As<Napi::Number>().DoubleValue()),
                       static_cast<int64_t>(info[3].As<Napi::Number>().DoubleValue()));
  return Napi::Number::New(info.Env(), r);
}

Napi::Value Abort(const Napi::CallbackInfo& info) {
  Connection* c = conn_arg(info);
  if (c) {
    JsCallScope scope(c->ld);
    c->cut();  // what the response queued still goes out, then the connection closes
  }
  return info.Env().Undefined();
}

void on_instance_finalize(Napi::Env, LoopData* d) { d->instance_finalized(); }

void remove_cleanup_hook(void* handle) {
  napi_remove_async_cleanup_hook(static_cast<napi_async_cleanup_hook_handle>(handle));
}

void on_env_cleanup(napi_async_cleanup_hook_handle handle, void* arg) {
  static_cast<LoopData*>(arg)->begin_teardown(remove_cleanup_hook, handle);
}

// A function made straight with Node-API (no node-addon-api wrapper): for the calls made
// once per request.
Napi::Value plain_function(Napi::Env env, const char* name, napi_callback cb) {
  napi_value fn = nullptr;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, nullptr, &fn);
  return Napi::Value(env, fn);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  sendfile_disabled();  // TSGI_NO_SENDFILE is read when the addon loads
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  LoopData* ld = new LoopData(env, loop);
  napi_async_init(env, Napi::Object::New(env), Napi::String::New(env, "tsgi"), &ld->async_ctx);
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, kRecordInts * sizeof(int32_t));
  ld->record = static_cast<int32_t*>(ab.Data());
  napi_create_reference(env, ab, 1, &ld->record_ref);
  env.SetInstanceData<LoopData, on_instance_finalize>(ld);
  napi_add_async_cleanup_hook(env, on_env_cleanup, ld, nullptr);

  exports.Set("record", Napi::Int32Array::New(env, kRecordInts, ab, 0));
  Napi::ArrayBuffer cur = Napi::ArrayBuffer::New(env, sizeof(double));
  ld->current = static_cast<double*>(cur.Data());
  napi_create_reference(env, cur, 1, &ld->current_ref);
  exports.Set("current", Napi::Float64Array::New(env, 1, cur, 0));
  // Listener features of this build beyond plain HTTP (src/native.ts NativeCapabilities).
  Napi::Object caps = Napi::Object::New(env);
  caps.Set("tls", true);
  caps.Set("uwsgi", true);
  caps.Set("proxyProtocol", true);
  exports.Set("capabilities", caps);
  exports.Set("knownHeaders", Napi::Function::New(env, KnownHeaders, "knownHeaders"));
  exports.Set("createServer", Napi::Function::New(env, CreateServer, "createServer"));
  exports.Set("listenTcp", Napi::Function::New(env, ListenTcp, "listenTcp"));
  exports.Set("listenUnix", Napi::Function::New(env, ListenUnix, "listenUnix"));
  exports.Set("listenFd", Napi::Function::New(env, ListenFd, "listenFd"));
  exports.Set("stopListening", Napi::Function::New(env, StopListening, "stopListening"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("stats", Napi::Function::New(env, Stats, "stats"));
  exports.Set("nativeAppLog", Napi::Function::New(env, NativeAppLog, "nativeAppLog"));
  exports.Set("nativeAppDrain", Napi::Function::New(env, NativeAppDrain, "nativeAppDrain"));
  exports.Set("nativeAppErrorLog", Napi::Function::New(env, NativeAppErrorLog, "nativeAppErrorLog"));
  exports.Set("respond", plain_function(env, "respond", Respond));
  exports.Set("respondTake", plain_function(env, "respondTake", RespondTake));
  exports.Set("nextRequest", plain_function(env, "nextRequest", NextRequest));
  exports.Set("takeQueued", plain_function(env, "takeQueued", TakeQueued));
  exports.Set("writeHead", Napi::Function::New(env, WriteHead, "writeHead"));
  exports.Set("write", Napi::Function::New(env, Write, "write"));
  exports.Set("end", Napi::Function::New(env, End, "end"));
  exports.Set("sendFile", Napi::Function::New(env, SendFile, "sendFile"));
  exports.Set("abort", Napi::Function::New(env, Abort, "abort"));
  exports.Set("reloadTls", Napi::Function::New(env, ReloadTls, "reloadTls"));
  return exports;
}

}  // namespace
}  // namespace tsgi

static Napi::Object InitTsgi(Napi::Env env, Napi::Object exports) { return tsgi::Init(env, exports); }

NODE_API_MODULE(tsgi, InitTsgi)
