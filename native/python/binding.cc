// The Python addon's only Node-API file: load(options) starts the embedded interpreter,
// imports the WSGI callable and returns the native application (an external the core's
// createServer takes in place of JavaScript handlers).
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>
#include <uv.h>

#include "py.h"

namespace {

using tsgi::py::Config;

std::string get_string(napi_env env, napi_value obj, const char* key) {
  napi_value v;
  napi_valuetype t;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok || napi_typeof(env, v, &t) != napi_ok ||
      t != napi_string)
    return std::string();
  size_t len = 0;
  napi_get_value_string_utf8(env, v, nullptr, 0, &len);
  std::string s(len, '\0');
  napi_get_value_string_utf8(env, v, &s[0], len + 1, &len);
  return s;
}

std::vector<std::string> get_strings(napi_env env, napi_value obj, const char* key) {
  std::vector<std::string> out;
  napi_value v;
  bool is_array = false;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok || napi_is_array(env, v, &is_array) != napi_ok ||
      !is_array)
    return out;
  uint32_t n = 0;
  napi_get_array_length(env, v, &n);
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    napi_get_element(env, v, i, &e);
    size_t len = 0;
    if (napi_get_value_string_utf8(env, e, nullptr, 0, &len) != napi_ok) {
      out.emplace_back();
      continue;
    }
    std::string s(len, '\0');
    napi_get_value_string_utf8(env, e, &s[0], len + 1, &len);
    out.push_back(std::move(s));
  }
  return out;
}

bool get_bool(napi_env env, napi_value obj, const char* key) {
  napi_value v;
  bool b = false;
  if (napi_get_named_property(env, obj, key, &v) == napi_ok) napi_get_value_bool(env, v, &b);
  return b;
}

napi_value throw_error(napi_env env, const char* code, const std::string& msg) {
  napi_value c, m, err;
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &c);
  napi_create_string_utf8(env, msg.data(), msg.size(), &m);
  napi_create_error(env, c, m, &err);
  napi_throw(env, err);
  return nullptr;
}

// load({ app, chdir, pythonpath, virtualenv, executable, scriptName, urlScheme,
//        multiprocess, harakiri, threads, forwardedAllowIps }) → external (tsgi_native_app*)
napi_value load(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value opts;
  napi_get_cb_info(env, info, &argc, &opts, nullptr, nullptr);
  napi_valuetype t = napi_undefined;
  if (argc < 1 || napi_typeof(env, opts, &t) != napi_ok || t != napi_object)
    return throw_error(env, "ERR_INVALID_ARG_TYPE", "load(options): options must be an object");
  Config cfg;
  cfg.app = get_string(env, opts, "app");
  cfg.chdir = get_string(env, opts, "chdir");
  cfg.pythonpath = get_strings(env, opts, "pythonpath");
  cfg.virtualenv = get_string(env, opts, "virtualenv");
  cfg.executable = get_string(env, opts, "executable");
  cfg.script_name = get_string(env, opts, "scriptName");
  std::string scheme = get_string(env, opts, "urlScheme");
  if (!scheme.empty()) cfg.url_scheme = scheme;
  cfg.multiprocess = get_bool(env, opts, "multiprocess");
  {
    napi_value v;
    double ms = 0;
    if (napi_get_named_property(env, opts, "harakiri", &v) == napi_ok && napi_get_value_double(env, v, &ms) == napi_ok &&
        ms > 0)
      cfg.harakiri_ms = static_cast<uint64_t>(ms);
    if (napi_get_named_property(env, opts, "threads", &v) == napi_ok && napi_get_value_double(env, v, &ms) == napi_ok &&
        ms > 1)
      cfg.threads = static_cast<int>(ms);
  }
  cfg.server_names = get_strings(env, opts, "serverNames");
  cfg.server_ports = get_strings(env, opts, "serverPorts");
  cfg.forwarded_allow_ips = get_strings(env, opts, "forwardedAllowIps");
  std::string error;
  PyObject* callable = tsgi::py::start_and_load(cfg, &error);
  if (!callable) return throw_error(env, "TSGI_PYTHON_LOAD", error);
  tsgi_native_app* app = tsgi::py::make_app(callable, cfg);
  napi_value ext;
  napi_create_external(env, app, nullptr, nullptr, &ext);
  return ext;
}

// configure(app, { serverNames, serverPorts, forwardedAllowIps }): the listeners, once the
// server listens, and the server's forwardedAllowIps (when not empty, it replaces load()'s).
napi_value configure(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  void* app = nullptr;
  napi_valuetype t = napi_undefined;
  if (argc < 2 || napi_get_value_external(env, argv[0], &app) != napi_ok || !app ||
      napi_typeof(env, argv[1], &t) != napi_ok || t != napi_object)
    return throw_error(env, "ERR_INVALID_ARG_TYPE", "configure(app, listeners): app must be what load() returned");
  auto* native = static_cast<tsgi_native_app*>(app);
  tsgi::py::set_listeners(native, get_strings(env, argv[1], "serverNames"), get_strings(env, argv[1], "serverPorts"));
  tsgi::py::set_server_forwarded(native, get_strings(env, argv[1], "forwardedAllowIps"));
  if (!native->core) return throw_error(env, "ERR_INVALID_STATE", "configure(app): the server has not taken the application yet");
  std::string error;
  bool ok;
  {
    tsgi::py::Gil gil;
    ok = tsgi::py::prepare_app(native, &error);
  }
  if (!ok) return throw_error(env, "TSGI_PYTHON_LOAD", error);
  int threads = tsgi::py::app_config(native)->threads;
  static uv_async_t* wake = nullptr;
  if (threads > 1 && !wake) {
    // Python threads hand their responses to the loop thread through this handle.
    uv_loop_t* loop = nullptr;
    napi_get_uv_event_loop(env, &loop);
    wake = new uv_async_t;
    uv_async_init(loop, wake, [](uv_async_t*) { tsgi::py::run_loop_ops(); });
    uv_unref(reinterpret_cast<uv_handle_t*>(wake));
    tsgi::py::start_threads(native, threads, [](void* a) { uv_async_send(static_cast<uv_async_t*>(a)); }, wake);
  }
  return nullptr;
}

napi_value init(napi_env env, napi_value exports) {
  napi_value fn, abi, version;
  napi_create_function(env, "load", NAPI_AUTO_LENGTH, load, nullptr, &fn);
  napi_set_named_property(env, exports, "load", fn);
  napi_create_function(env, "configure", NAPI_AUTO_LENGTH, configure, nullptr, &fn);
  napi_set_named_property(env, exports, "configure", fn);
  napi_create_uint32(env, TSGI_NATIVE_APP_ABI, &abi);
  napi_set_named_property(env, exports, "abi", abi);
  napi_create_string_utf8(env, PY_VERSION, NAPI_AUTO_LENGTH, &version);
  napi_set_named_property(env, exports, "pythonVersion", version);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
