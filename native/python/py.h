// Shared declarations of the embedded Python WSGI gateway (the optional Python addon).
// Everything here but binding.cc is plain C++ over the Python C API and native_app.h:
// no Node-API, so a C++ driver can run it without node.
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <chrono>
#include <string>
#include <vector>

#include "../native_app.h"

namespace tsgi {
namespace py {

// What the Python application is and how the interpreter is set up; given once per process.
struct Config {
  std::string app;                      // "package.module:callable" or "path/file.py:callable"
  std::string chdir;                    // directory to change to and put first on sys.path ('' none)
  std::vector<std::string> pythonpath;  // directories put first on sys.path, in order
  std::string virtualenv;               // a virtualenv whose bin/python the interpreter stands for
  std::string executable;               // the interpreter otherwise ('' : the build's python3.x)
  std::string script_name;              // SCRIPT_NAME
  std::string url_scheme = "http";      // wsgi.url_scheme
  bool multiprocess = false;            // wsgi.multiprocess
  std::vector<std::string> server_names;  // SERVER_NAME by listener index
  std::vector<std::string> server_ports;  // SERVER_PORT by listener index
  std::vector<std::string> forwarded_allow_ips;  // proxies whose forwarded headers are believed
  uint64_t harakiri_ms = 0;             // a request's Python code running longer is interrupted (0: never)
  int threads = 1;                      // Python threads serving requests (1: on the loop thread)
};

// interpreter.cc: starts the interpreter once per process (libpython made global first so
// that C extension modules resolve its symbols), then imports the application. On failure
// returns nullptr with *error set (a traceback for an exception in the module). On success
// the GIL is released; the returned callable is a new reference.
PyObject* start_and_load(const Config& cfg, std::string* error);

// The thread state of the loop thread, taken while the interpreter is idle.
class Gil {
 public:
  Gil();
  ~Gil();
};

// The traceback of the current exception as text (clears it). Needs the GIL.
std::string take_traceback();

// harakiri.cc: the deadline of the request running Python on the loop thread.
bool init_harakiri(uint64_t limit_ms, bool threaded, std::string* error);
void harakiri_arm(uint64_t request_id, std::chrono::steady_clock::time_point started);
void harakiri_disarm();
// With --threads N: the deadline of the request the calling Python thread runs (the GIL
// held), and pauses while it waits on its client (the GIL released).
void harakiri_thread_arm(uint64_t request_id, std::chrono::steady_clock::time_point started);
void harakiri_thread_disarm();
void harakiri_thread_pause(bool pause);
// The current exception is the HarakiriTimeout raised into a request that ran too long.
bool harakiri_matches();

// streams.cc: wsgi.input, wsgi.errors and wsgi.file_wrapper.
bool init_stream_types(PyObject* module);
extern PyTypeObject InputType;
extern PyTypeObject ErrorsType;
extern PyTypeObject FileWrapperType;
// A new wsgi.input over a copy of the memory body, or owning body_fd.
PyObject* new_input(const tsgi_request_view* view);
// The shared wsgi.errors object; writes go to the core's error log (stderr when none).
PyObject* new_errors(const tsgi_core_ops* core);
// The file-like object of a wsgi.file_wrapper instance (borrowed), or nullptr.
PyObject* file_wrapper_filelike(PyObject* wrapper);

// environ.cc
bool init_environ(const Config& cfg, const tsgi_core_ops* core, std::string* error);
const Config* app_config(tsgi_native_app* app);
PyObject* build_environ(const tsgi_request_view* view);

// forwarded.cc: forwardedAllowIps (forwarded_trust.h) applied to a built environ.
bool init_forwarded(const std::vector<std::string>& rules, std::string* error);
// Rewrites REMOTE_ADDR, wsgi.url_scheme, HTTP_HOST, SERVER_NAME, SERVER_PORT from a trusted
// proxy's forwarding headers; false with a Python error set.
bool apply_forwarded(PyObject* environ);

// access_notes.cc: what the access log and the stats take from a request that ends (the
// GIL held, before ops->end/abort): the values of core->log_key's keys in its environ, and
// whether harakiri ended it. The environ is needed at the end only when an access log
// records (wants_environ_at_end).
bool wants_environ_at_end(const tsgi_core_ops* ops);
void note_request_end(const tsgi_core_ops* ops, tsgi_exchange* ex, PyObject* environ, bool harakiri);

// gateway.cc: the tsgi_native_app serving the callable.
// Runs one request through the gateway (the GIL held) answering through ops: the core's
// own on the loop thread, or threads.cc's proxy on a Python thread.
void serve_exchange(tsgi_native_app* app, tsgi_exchange* ex, const tsgi_request_view* view,
                    const tsgi_core_ops* ops);
// Drops the bytes objects the core has released (the GIL held).
void drop_released();
// Builds what every environ shares (the GIL held, the core attached); idempotent.
bool prepare_app(tsgi_native_app* app, std::string* error);

// threads.cc: --threads N.
void start_threads(tsgi_native_app* app, int threads, void (*wake)(void*), void* arg);
bool threads_enabled();
void submit(tsgi_native_app* app, tsgi_exchange* ex, const tsgi_request_view* view);
void run_loop_ops();  // on the loop thread, when woken
void threaded_drain(void* user);
void threaded_abort(void* user);
// Takes the callable (a new reference); the config is copied.
tsgi_native_app* make_app(PyObject* callable, const Config& cfg);
bool init_gateway_types();
// SERVER_NAME and SERVER_PORT by listener, known once the server listens (before the first
// request; later calls are ignored).
void set_listeners(tsgi_native_app* app, std::vector<std::string> names, std::vector<std::string> ports);
// The server's forwardedAllowIps, at the same time: when not empty it replaces the list
// the application was loaded with (the server's option wins).
void set_server_forwarded(tsgi_native_app* app, std::vector<std::string> allow);

}  // namespace py
}  // namespace tsgi
