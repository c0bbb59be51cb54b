// The gateway: a tsgi_native_app that calls the WSGI callable from C++ for each request,
// with start_response and write() implemented here (every PEP 3333 rule), and drives the
// returned iterable into the core's output queue: a list or tuple in one go, other
// iterables chunk by chunk, paused while the core's output is over its high-water mark
// and resumed on on_drain, wsgi.file_wrapper over a regular file sent with sendfile.
// close() of the iterable is called exactly once, in every outcome.
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <mutex>

#include "py.h"

namespace tsgi {
namespace py {

namespace {

struct App {
  tsgi_native_app base;  // first: the core sees this
  PyObject* callable;
  Config cfg;
  bool environ_ready = false;
};

struct Gateway;
struct ExchangeObject {
  PyObject_HEAD
  Gateway* gw;  // nullptr once the exchange is over
};

struct Gateway {
  App* app;
  const tsgi_core_ops* ops;   // the core's, or the proxy of a Python thread
  bool threaded = false;      // on a Python thread: the proxy blocks instead of pausing
  tsgi_exchange* ex;          // nullptr once ended; after the client left, the record the core kept (keep)
  ExchangeObject* obj;
  std::string request;        // "METHOD URI", for the error log
  uint64_t id = 0;            // for harakiri
  std::chrono::steady_clock::time_point started;
  int busy = 0;               // > 0 while this gateway calls Python or the core
  bool gone = false;          // the core's exchange is over (ended, aborted, or the client left)
  bool status_set = false;
  bool headers_sent = false;
  int status = 0;
  std::string head;           // status line and header lines, CRLF each
  int64_t content_length = -1;
  int32_t flags = 0;
  PyObject* environ = nullptr;  // kept for the access log's notes at the end
  PyObject* result = nullptr;
  PyObject* iter = nullptr;
  PyObject* write_fn = nullptr;
  bool closed = false;
  bool paused = false;
  bool file_wait = false;
  int64_t sent = 0;
  bool cut_logged = false;
  bool noted = false;         // the access log's values were given (note_request_end)
};

enum class Outcome { Wait, Complete, Fail, Gone };

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
PyTypeObject ExchangeType = {PyVarObject_HEAD_INIT(nullptr, 0) "tsgi.Exchange"};
#pragma GCC diagnostic pop

// Bytes handed to the core are released by it later, possibly without the GIL held: the
// references are dropped the next time the loop thread holds the GIL.
std::mutex g_released_mu;
std::vector<PyObject*> g_released;
void release_bytes(void* ctx) {
  std::lock_guard<std::mutex> lock(g_released_mu);
  g_released.push_back(static_cast<PyObject*>(ctx));
}

// The GIL for one call from the core, dropping released bytes before giving it back.
struct Section {
  Gil gil;
  ~Section() { drop_released(); }
};

const tsgi_core_ops* core_of(Gateway* g) { return g->ops; }

void log_error(Gateway* g, const std::string& msg) {
  const tsgi_core_ops* core = core_of(g);
  if (core && core->log) core->log(TSGI_LOG_ERROR, msg.data(), msg.size());
}

// ---- start_response and write ---------------------------------------------------------

// tchar (RFC 9110 §5.6.2), as a table.
struct TokenTable {
  bool ok[256] = {};
  TokenTable() {
    for (int c = '0'; c <= '9'; c++) ok[c] = true;
    for (int c = 'a'; c <= 'z'; c++) ok[c] = true;
    for (int c = 'A'; c <= 'Z'; c++) ok[c] = true;
    for (const char* p = "!#$%&'*+-.^_`|~"; *p; p++) ok[static_cast<unsigned char>(*p)] = true;
  }
};
const TokenTable kToken;

bool is_token_char(unsigned char c) { return kToken.ok[c]; }

// A field value may hold any byte but the control characters (HTAB is allowed).
bool has_control_char(const char* p, Py_ssize_t n) {
  for (Py_ssize_t j = 0; j < n; j++) {
    unsigned char c = static_cast<unsigned char>(p[j]);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return true;
  }
  return false;
}

// The latin-1 bytes of a str, or nullptr (with an exception) when it is not a str or has
// characters past U+00FF.
const char* latin1_of(PyObject* s, Py_ssize_t* n, const char* what) {
  if (!PyUnicode_Check(s)) {
    PyErr_Format(PyExc_TypeError, "%s must be str, not %.100s", what, Py_TYPE(s)->tp_name);
    return nullptr;
  }
  if (PyUnicode_KIND(s) != PyUnicode_1BYTE_KIND) {
    PyErr_Format(PyExc_ValueError, "%s %R has characters that are not latin-1", what, s);
    return nullptr;
  }
  *n = PyUnicode_GET_LENGTH(s);
  return reinterpret_cast<const char*>(PyUnicode_1BYTE_DATA(s));
}

bool is_hop_by_hop(const char* n, Py_ssize_t len) {
  struct Name {
    const char* text;
    Py_ssize_t len;
  };
  static const Name names[] = {{"connection", 10}, {"transfer-encoding", 17}, {"keep-alive", 10},
                               {"upgrade", 7},     {"te", 2},                 {"trailer", 7}};
  for (const Name& h : names) {
    if (len == h.len && strncasecmp(n, h.text, static_cast<size_t>(len)) == 0) return true;
  }
  return len >= 6 && strncasecmp(n, "proxy-", 6) == 0;
}

PyObject* gone_error(Gateway* g) {
  PyErr_SetString(PyExc_OSError, g ? "tsgi: the client went away; the response cannot be sent"
                                   : "tsgi: the response is already complete");
  return nullptr;
}

PyObject* write_impl(PyObject* self, PyObject* data);

// start_response(status, headers, exc_info=None): the arguments by position or keyword.
bool start_response_args(PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames, PyObject** out) {
  out[0] = out[1] = nullptr;
  out[2] = Py_None;
  if (nargs > 3) {
    PyErr_Format(PyExc_TypeError, "start_response() takes at most 3 arguments (%zd given)", nargs);
    return false;
  }
  for (Py_ssize_t i = 0; i < nargs; i++) out[i] = args[i];
  Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
  static const char* const names[] = {"status", "headers", "exc_info"};
  for (Py_ssize_t i = 0; i < nkw; i++) {
    PyObject* name = PyTuple_GET_ITEM(kwnames, i);
    int at = -1;
    for (int j = 0; j < 3; j++)
      if (PyUnicode_CompareWithASCIIString(name, names[j]) == 0) at = j;
    if (at < 0) {
      PyErr_Format(PyExc_TypeError, "start_response() got an unexpected keyword argument '%U'", name);
      return false;
    }
    if (at < nargs) {
      PyErr_Format(PyExc_TypeError, "start_response() got multiple values for argument '%s'", names[at]);
      return false;
    }
    out[at] = args[nargs + i];
  }
  if (!out[0] || !out[1]) {
    PyErr_Format(PyExc_TypeError, "start_response() missing required argument '%s'", out[0] ? "headers" : "status");
    return false;
  }
  return true;
}

PyObject* start_response_impl(PyObject* self, PyObject* const* args, Py_ssize_t nargs, PyObject* kwnames) {
  PyObject* argv[3];
  if (!start_response_args(args, nargs, kwnames, argv)) return nullptr;
  PyObject* status = argv[0];
  PyObject* headers = argv[1];
  PyObject* exc_info = argv[2];
  Gateway* g = reinterpret_cast<ExchangeObject*>(self)->gw;
  if (!g) return gone_error(g);
  if (exc_info != Py_None) {
    if (g->headers_sent) {
      // PEP 3333: too late to change the response: re-raise the application's exception.
      if (!PyTuple_Check(exc_info) || PyTuple_GET_SIZE(exc_info) != 3) {
        PyErr_SetString(PyExc_TypeError, "exc_info must be a (type, value, traceback) tuple");
        return nullptr;
      }
      PyObject* t = PyTuple_GET_ITEM(exc_info, 0);
      PyObject* v = PyTuple_GET_ITEM(exc_info, 1);
      PyObject* tb = PyTuple_GET_ITEM(exc_info, 2);
      Py_INCREF(t);
      Py_INCREF(v);
      Py_INCREF(tb);
      PyErr_Restore(t, v, tb == Py_None ? (Py_DECREF(tb), nullptr) : tb);
      return nullptr;
    }
  } else if (g->status_set) {
    PyErr_SetString(PyExc_AssertionError,
                    "start_response() called a second time without exc_info (PEP 3333)");
    return nullptr;
  }
  Py_ssize_t sn;
  const char* sp = latin1_of(status, &sn, "the status");
  if (!sp) return nullptr;
  if (sn < 4 || sp[0] < '1' || sp[0] > '5' || sp[1] < '0' || sp[1] > '9' || sp[2] < '0' || sp[2] > '9' ||
      sp[3] != ' ') {
    PyErr_Format(PyExc_ValueError, "the status %R is not 'NNN Reason' (e.g. '200 OK')", status);
    return nullptr;
  }
  if (has_control_char(sp, sn)) {
    PyErr_Format(PyExc_ValueError, "the status %R has a control character", status);
    return nullptr;
  }
  if (!PyList_Check(headers)) {
    PyErr_Format(PyExc_TypeError, "headers must be a list of (name, value) tuples, not %.100s",
                 Py_TYPE(headers)->tp_name);
    return nullptr;
  }
  std::string head;
  head.reserve(256);
  head.append(sp, static_cast<size_t>(sn));
  head.append("\r\n");
  int64_t content_length = -1;
  int32_t flags = 0;
  Py_ssize_t count = PyList_GET_SIZE(headers);
  for (Py_ssize_t i = 0; i < count; i++) {
    PyObject* item = PyList_GET_ITEM(headers, i);
    if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
      PyErr_Format(PyExc_TypeError, "header %zd must be a (name, value) tuple, not %R", i, item);
      return nullptr;
    }
    Py_ssize_t nn, vn;
    const char* np = latin1_of(PyTuple_GET_ITEM(item, 0), &nn, "a header name");
    if (!np) return nullptr;
    const char* vp = latin1_of(PyTuple_GET_ITEM(item, 1), &vn, "a header value");
    if (!vp) return nullptr;
    if (nn == 0) {
      PyErr_SetString(PyExc_ValueError, "a header name is empty");
      return nullptr;
    }
    for (Py_ssize_t j = 0; j < nn; j++) {
      if (!is_token_char(static_cast<unsigned char>(np[j]))) {
        PyErr_Format(PyExc_ValueError, "the header name %R is not an HTTP token", PyTuple_GET_ITEM(item, 0));
        return nullptr;
      }
    }
    if (has_control_char(vp, vn)) {
      PyErr_Format(PyExc_ValueError, "the value of header %R has a control character (CR, LF, NUL, ...)",
                   PyTuple_GET_ITEM(item, 0));
      return nullptr;
    }
    if (is_hop_by_hop(np, nn)) {
      PyErr_Format(PyExc_ValueError,
                   "the hop-by-hop header %R is the server's to send, not the application's (PEP 3333)",
                   PyTuple_GET_ITEM(item, 0));
      return nullptr;
    }
    if (nn == 14 && strncasecmp(np, "content-length", 14) == 0) {
      int64_t v = 0;
      bool ok = vn > 0 && vn <= 18;
      for (Py_ssize_t j = 0; ok && j < vn; j++) {
        if (vp[j] < '0' || vp[j] > '9') ok = false;
        else v = v * 10 + (vp[j] - '0');
      }
      if (!ok || (content_length >= 0 && content_length != v)) {
        PyErr_Format(PyExc_ValueError, "Content-Length %R is not one decimal number", PyTuple_GET_ITEM(item, 1));
        return nullptr;
      }
      content_length = v;
    } else if (nn == 4 && strncasecmp(np, "date", 4) == 0) {
      flags |= TSGI_RESP_HAS_DATE;
    }
    size_t at = head.size();
    head.resize(at + static_cast<size_t>(nn + vn) + 4);
    char* w = &head[at];
    memcpy(w, np, static_cast<size_t>(nn));
    w += nn;
    *w++ = ':';
    *w++ = ' ';
    memcpy(w, vp, static_cast<size_t>(vn));
    w += vn;
    *w++ = '\r';
    *w = '\n';
  }
  g->status_set = true;
  g->status = (sp[0] - '0') * 100 + (sp[1] - '0') * 10 + (sp[2] - '0');
  g->head.swap(head);
  g->content_length = content_length;
  g->flags = flags;
  if (!g->write_fn) {
    static PyMethodDef write_def = {"write", write_impl, METH_O,
                                    "write(data): PEP 3333's write callable (bytes, sent at once)"};
    g->write_fn = PyCFunction_NewEx(&write_def, self, nullptr);
    if (!g->write_fn) return nullptr;
  }
  Py_INCREF(g->write_fn);
  return g->write_fn;
}

// Sends the head once: content_length is the application's, else total (-1: streamed).
bool send_head(Gateway* g, int64_t total) {
  if (g->headers_sent) return !g->gone;
  if (g->gone) return false;
  g->headers_sent = true;
  int64_t cl = g->content_length;
  int32_t flags = g->flags;
  if (cl < 0 && total >= 0) {
    // The whole body is known: the core writes its Content-Length (none for 1xx, 204, 304).
    cl = total;
    flags |= TSGI_RESP_SET_LENGTH;
  }
  int r = core_of(g)->start(g->ex, g->status, g->head.data(), g->head.size(), cl, flags);
  if (r == TSGI_GONE) g->gone = true;
  return !g->gone;
}

// Queues one bytes object: 1 write more, 0 wait for on_drain, -1 gone.
int push(Gateway* g, PyObject* bytes) {
  Py_ssize_t n = PyBytes_GET_SIZE(bytes);
  if (n == 0) return 1;
  if (!send_head(g, -1)) return -1;
  if (g->content_length >= 0 && g->sent + n > g->content_length && !g->cut_logged) {
    g->cut_logged = true;
    log_error(g, "tsgi: the response to " + g->request + " is longer than its Content-Length (" +
                     std::to_string(g->content_length) + " bytes): the rest was not sent");
  }
  g->sent += n;
  Py_INCREF(bytes);
  int r = core_of(g)->write(g->ex, PyBytes_AS_STRING(bytes), static_cast<size_t>(n), release_bytes, bytes);
  if (r < 0) g->gone = true;
  return r;
}

PyObject* write_impl(PyObject* self, PyObject* data) {
  Gateway* g = reinterpret_cast<ExchangeObject*>(self)->gw;
  if (!g || g->gone) return gone_error(g);
  if (!g->status_set) {
    PyErr_SetString(PyExc_AssertionError, "write() called before start_response()");
    return nullptr;
  }
  if (!PyBytes_Check(data)) {
    PyErr_Format(PyExc_TypeError, "write() takes bytes, not %.100s", Py_TYPE(data)->tp_name);
    return nullptr;
  }
  g->busy++;
  int r = push(g, data);
  g->busy--;
  if (r < 0) return gone_error(g);
  Py_RETURN_NONE;
}

PyMethodDef start_response_def = {
    "start_response", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(start_response_impl)),
    METH_FASTCALL | METH_KEYWORDS, "start_response(status, headers, exc_info=None) (PEP 3333)"};

// ---- driving the response -------------------------------------------------------------

Outcome no_start_response() {
  PyErr_SetString(PyExc_RuntimeError, "the application returned a body without calling start_response()");
  return Outcome::Fail;
}

Outcome not_bytes(PyObject* item) {
  PyErr_Format(PyExc_TypeError, "the application's iterable yielded %.100s, not bytes", Py_TYPE(item)->tp_name);
  return Outcome::Fail;
}

Outcome send_sequence(Gateway* g) {
  PyObject** items = PySequence_Fast_ITEMS(g->result);
  Py_ssize_t n = PySequence_Fast_GET_SIZE(g->result);
  int64_t total = 0;
  for (Py_ssize_t i = 0; i < n; i++) {
    if (!PyBytes_Check(items[i])) return not_bytes(items[i]);
    total += PyBytes_GET_SIZE(items[i]);
  }
  if (!g->status_set) return no_start_response();
  if (!send_head(g, total)) return Outcome::Gone;
  for (Py_ssize_t i = 0; i < n; i++) {
    if (push(g, items[i]) < 0) return Outcome::Gone;
  }
  return Outcome::Complete;
}

Outcome drive(Gateway* g) {
  for (;;) {
    PyObject* item = PyIter_Next(g->iter);
    if (!item) return PyErr_Occurred() ? Outcome::Fail : Outcome::Complete;
    if (!PyBytes_Check(item)) {
      Outcome o = not_bytes(item);
      Py_DECREF(item);
      return o;
    }
    if (PyBytes_GET_SIZE(item) == 0) {
      Py_DECREF(item);
      if (g->gone) return Outcome::Gone;
      continue;
    }
    if (!g->status_set) {
      Py_DECREF(item);
      return no_start_response();
    }
    int r = push(g, item);
    Py_DECREF(item);
    if (r < 0) return Outcome::Gone;
    if (r == 0) {
      g->paused = true;
      return Outcome::Wait;
    }
  }
}

// wsgi.file_wrapper over a regular file: the head, then sendfile from the file's position.
// false: not such a file (the wrapper is iterated instead).
bool try_sendfile(Gateway* g, Outcome* out) {
  PyObject* filelike = file_wrapper_filelike(g->result);
  if (!filelike) return false;
  PyObject* fileno = PyObject_CallMethod(filelike, "fileno", nullptr);
  if (!fileno) {
    PyErr_Clear();
    return false;
  }
  long fd = PyLong_AsLong(fileno);
  Py_DECREF(fileno);
  struct stat st;
  if (fd < 0 || fstat(static_cast<int>(fd), &st) != 0 || !S_ISREG(st.st_mode)) {
    PyErr_Clear();
    return false;
  }
  int64_t offset = -1;
  PyObject* tell = PyObject_CallMethod(filelike, "tell", nullptr);
  if (tell) {
    offset = PyLong_AsLongLong(tell);
    Py_DECREF(tell);
  }
  if (offset < 0) {
    PyErr_Clear();
    offset = lseek(static_cast<int>(fd), 0, SEEK_CUR);
    if (offset < 0) offset = 0;
  }
  int64_t length = st.st_size > offset ? st.st_size - offset : 0;
  if (g->content_length >= 0 && g->content_length < length) length = g->content_length;
  if (!g->status_set) {
    *out = no_start_response();
    return true;
  }
  if (!send_head(g, length)) {
    *out = Outcome::Gone;
    return true;
  }
  if (length == 0) {
    *out = Outcome::Complete;
    return true;
  }
  if (core_of(g)->send_file(g->ex, static_cast<int>(fd), offset, length) == TSGI_GONE) {
    g->gone = true;
    *out = Outcome::Gone;
    return true;
  }
  g->sent += length;
  if (g->threaded) {
    *out = Outcome::Complete;  // the proxy returned once the file was sent
    return true;
  }
  g->file_wait = true;
  *out = Outcome::Wait;
  return true;
}

// The iterable's close(), once.
void close_result(Gateway* g) {
  if (!g->result || g->closed) return;
  g->closed = true;
  if (PyList_CheckExact(g->result) || PyTuple_CheckExact(g->result)) return;
  static PyObject* close_name = PyUnicode_InternFromString("close");
  PyObject* close = close_name ? PyObject_GetAttr(g->result, close_name) : nullptr;
  if (!close) {
    PyErr_Clear();
    return;
  }
  PyObject* r = PyObject_CallNoArgs(close);
  Py_DECREF(close);
  if (r) {
    Py_DECREF(r);
  } else {
    log_error(g, "tsgi: close() of the response to " + g->request + " raised:\n" + take_traceback());
  }
}

// The access log's values and the harakiri mark, once.
void note_end(Gateway* g, bool harakiri) {
  if (g->noted || !g->ex) return;
  g->noted = true;
  note_request_end(core_of(g), g->ex, g->environ, harakiri);
}

// The exchange is over for this side: close() and let go of everything. An exchange not
// ended yet (its client left while the application ran on) is ended here, with its values.
void done(Gateway* g) {
  g->busy++;
  if (g->ex) {
    note_end(g, false);
    core_of(g)->abort(g->ex);
    g->ex = nullptr;
  }
  close_result(g);
  g->busy--;
  g->obj->gw = nullptr;
  Py_CLEAR(g->iter);
  Py_CLEAR(g->result);
  Py_CLEAR(g->environ);
  Py_CLEAR(g->write_fn);
  Py_DECREF(reinterpret_cast<PyObject*>(g->obj));
  delete g;
}

void complete(Gateway* g) {
  g->busy++;
  if (!g->gone && send_head(g, 0)) {
    note_end(g, false);
    int r = core_of(g)->end(g->ex);
    g->gone = true;
    g->ex = nullptr;
    if (r == TSGI_SHORT) {
      log_error(g, "tsgi: the response to " + g->request + " is shorter than its Content-Length (" +
                       std::to_string(g->content_length) + " bytes): connection closed");
    }
  }
  g->busy--;
  done(g);
}

// (The core writes their Content-Length: TSGI_RESP_SET_LENGTH.)
const char kErrorHead[] = "500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\n";
const char kErrorBody[] = "Internal Server Error\n";
const char kTimeoutHead[] = "504 Gateway Timeout\r\nContent-Type: text/plain; charset=utf-8\r\n";
const char kTimeoutBody[] = "Gateway Timeout\n";

// The application failed (the Python exception is set): 500 before the head went out
// (504 when harakiri ended it), else the connection is closed; the traceback goes to the
// error log. A request whose client already left is counted and logged the same way
// (its record, kept by the core, gets the status and the harakiri mark).
void fail(Gateway* g) {
  g->busy++;
  bool timeout = harakiri_matches();
  log_error(g, (timeout ? "tsgi: HARAKIRI: the request ran too long; ended it: " : "tsgi: error handling ") +
                   g->request + ":\n" + take_traceback());
  if (g->ex) {
    const tsgi_core_ops* core = core_of(g);
    note_end(g, timeout);
    if (!g->headers_sent) {
      g->headers_sent = true;
      const char* head = timeout ? kTimeoutHead : kErrorHead;
      size_t head_len = timeout ? sizeof kTimeoutHead - 1 : sizeof kErrorHead - 1;
      const char* body = timeout ? kTimeoutBody : kErrorBody;
      size_t body_len = timeout ? sizeof kTimeoutBody - 1 : sizeof kErrorBody - 1;
      // g->ex is read again after each call: the client leaving inside one replaces it (on_abort).
      if (core->start(g->ex, timeout ? 504 : 500, head, head_len, static_cast<int64_t>(body_len),
                      TSGI_RESP_SET_LENGTH) != TSGI_GONE &&
          core->write(g->ex, body, body_len, nullptr, nullptr) >= 0) {
        core->end(g->ex);
        g->ex = nullptr;
      }
    }
    g->gone = true;  // done() aborts what is left: an answer cut short, or a kept record
  }
  g->busy--;
  done(g);
}

void settle(Gateway* g, Outcome o) {
  switch (o) {
    case Outcome::Wait:
      if (g->gone) done(g);
      break;
    case Outcome::Complete:
      complete(g);
      break;
    case Outcome::Fail:
      fail(g);
      break;
    case Outcome::Gone:
      done(g);
      break;
  }
}

Outcome call_app(Gateway* g, const tsgi_request_view* view) {
  PyObject* environ = build_environ(view);
  if (!environ) return Outcome::Fail;
  PyObject* sr = PyCFunction_NewEx(&start_response_def, reinterpret_cast<PyObject*>(g->obj), nullptr);
  if (!sr) {
    Py_DECREF(environ);
    return Outcome::Fail;
  }
  PyObject* result = PyObject_CallFunctionObjArgs(g->app->callable, environ, sr, nullptr);
  if (wants_environ_at_end(core_of(g))) g->environ = environ;
  else Py_DECREF(environ);
  Py_DECREF(sr);
  if (!result) return Outcome::Fail;
  g->result = result;
  if (g->gone) return Outcome::Gone;
  Outcome o;
  if (try_sendfile(g, &o)) return o;
  if (PyList_CheckExact(result) || PyTuple_CheckExact(result)) return send_sequence(g);
  g->iter = PyObject_GetIter(result);
  if (!g->iter) return Outcome::Fail;
  return drive(g);
}

}  // namespace

void drop_released() {
  std::vector<PyObject*> list;
  {
    std::lock_guard<std::mutex> lock(g_released_mu);
    list.swap(g_released);
  }
  for (PyObject* o : list) Py_DECREF(o);
}

bool prepare_app(tsgi_native_app* base, std::string* error) {
  App* app = reinterpret_cast<App*>(base);
  if (app->environ_ready) return true;
  if (!init_environ(app->cfg, base->core, error)) return false;
  app->environ_ready = true;
  return true;
}

const Config* app_config(tsgi_native_app* base) { return &reinterpret_cast<App*>(base)->cfg; }

void serve_exchange(tsgi_native_app* base, tsgi_exchange* ex, const tsgi_request_view* view,
                    const tsgi_core_ops* ops) {
  App* app = reinterpret_cast<App*>(base);
  std::string err;
  if (!prepare_app(base, &err)) {
    ops->log(TSGI_LOG_ERROR, err.data(), err.size());
    if (view->body_fd >= 0) ::close(view->body_fd);
    ops->abort(ex);
    return;
  }
  auto* obj = PyObject_New(ExchangeObject, &ExchangeType);
  if (!obj) {
    PyErr_Clear();
    if (view->body_fd >= 0) ::close(view->body_fd);
    ops->abort(ex);
    return;
  }
  auto* g = new Gateway();
  g->app = app;
  g->ops = ops;
  g->threaded = ops != base->core;
  g->ex = ex;
  g->obj = obj;
  obj->gw = g;
  const int32_t* rec = view->record;
  g->request.assign(view->head, static_cast<size_t>(rec[TSGI_REC_METHOD_END]));
  g->request.push_back(' ');
  g->request.append(view->head + rec[TSGI_REC_METHOD_END],
                    static_cast<size_t>(rec[TSGI_REC_TARGET_END] - rec[TSGI_REC_METHOD_END]));
  if (!g->threaded) ops->set_user(ex, g);
  static uint64_t next_id = 0;
  g->id = ++next_id;
  g->started = std::chrono::steady_clock::now();
  if (!g->threaded) harakiri_arm(g->id, g->started);
  else harakiri_thread_arm(g->id, g->started);
  g->busy++;
  Outcome o = call_app(g, view);
  g->busy--;
  settle(g, o);
  if (!g->threaded) harakiri_disarm();
  else harakiri_thread_disarm();
}

namespace {

void on_request(tsgi_native_app* base, tsgi_exchange* ex, const tsgi_request_view* view) {
  if (threads_enabled()) {
    submit(base, ex, view);
    return;
  }
  Section s;
  serve_exchange(base, ex, view, base->core);
}

void on_drain(tsgi_native_app*, tsgi_exchange*, void* user) {
  if (!user) return;
  if (threads_enabled()) return threaded_drain(user);
  auto* g = static_cast<Gateway*>(user);
  Section s;
  Outcome o = Outcome::Wait;
  g->busy++;
  if (g->file_wait) {
    g->file_wait = false;
    o = Outcome::Complete;
  } else if (g->paused) {
    g->paused = false;
    harakiri_arm(g->id, g->started);
    o = drive(g);
  }
  g->busy--;
  settle(g, o);
  harakiri_disarm();
}

// The client left. While the application still runs the request, the core keeps its
// record so that the end (harakiri included) is counted and logged; else the values are
// noted now and the core finishes the record.
void on_abort(tsgi_native_app* base, tsgi_exchange* ex, void* user) {
  if (!user) return;
  if (threads_enabled()) return threaded_abort(user);
  auto* g = static_cast<Gateway*>(user);
  Section s;
  g->gone = true;
  if (g->busy > 0) {
    g->ex = base->core->keep ? base->core->keep(ex) : nullptr;
    return;
  }
  note_end(g, false);
  g->ex = nullptr;
  done(g);
}

void exchange_dealloc(PyObject* self) { PyObject_Free(self); }

}  // namespace

bool init_gateway_types() {
  ExchangeType.tp_basicsize = sizeof(ExchangeObject);
  ExchangeType.tp_flags = Py_TPFLAGS_DEFAULT;
  ExchangeType.tp_dealloc = exchange_dealloc;
  ExchangeType.tp_doc = "one request being answered";
  return PyType_Ready(&ExchangeType) == 0;
}

void set_listeners(tsgi_native_app* base, std::vector<std::string> names, std::vector<std::string> ports) {
  App* app = reinterpret_cast<App*>(base);
  if (app->environ_ready) return;
  app->cfg.server_names = std::move(names);
  app->cfg.server_ports = std::move(ports);
}

void set_server_forwarded(tsgi_native_app* base, std::vector<std::string> allow) {
  App* app = reinterpret_cast<App*>(base);
  if (app->environ_ready || allow.empty()) return;
  app->cfg.forwarded_allow_ips = std::move(allow);
}

tsgi_native_app* make_app(PyObject* callable, const Config& cfg) {
  auto* app = new App();
  app->base.abi = TSGI_NATIVE_APP_ABI;
  app->base.size = sizeof(tsgi_native_app);
  app->base.data = app;
  app->base.core = nullptr;
  app->base.on_request = on_request;
  app->base.on_drain = on_drain;
  app->base.on_abort = on_abort;
  app->callable = callable;
  app->cfg = cfg;
  return &app->base;
}

}  // namespace py
}  // namespace tsgi
