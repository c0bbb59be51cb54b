// The PEP 3333 environ as a Python dict, built in C++ from the core's request record and
// head string: interned keys made once, values decoded as latin-1 "native strings". Each
// environ is a copy of a per-listener template that already holds the values every
// request shares (wsgi.version, url scheme, SERVER_NAME/PORT, wsgi.errors,
// wsgi.file_wrapper), so a request only sets what is its own.
#include <cstring>

#include "py.h"

namespace tsgi {
namespace py {

namespace {

struct Keys {
  PyObject *request_method, *script_name, *path_info, *query_string, *content_type,
      *content_length, *server_name, *server_port, *server_protocol, *remote_addr, *remote_port,
      *request_uri, *wsgi_version, *wsgi_url_scheme, *wsgi_input, *wsgi_errors, *wsgi_multithread,
      *wsgi_multiprocess, *wsgi_run_once, *wsgi_file_wrapper, *wsgi_input_terminated, *http_cookie;
};

Keys k;
std::vector<PyObject*> known;        // environ key by known-header id
std::vector<PyObject*> server_names;  // by listener
std::vector<PyObject*> server_ports;
PyObject* script_name = nullptr;
std::string script_name_bytes;
PyObject* version = nullptr;
PyObject* url_scheme = nullptr;
PyObject* errors = nullptr;
PyObject* http10 = nullptr;
PyObject* http11 = nullptr;
PyObject* empty = nullptr;
PyObject* multiprocess = nullptr;
PyObject* multithread = nullptr;
std::vector<PyObject*> templates;  // by listener, then one for requests of no known listener
std::vector<PyObject*> methods;    // GET, HEAD, POST…
PyObject* last_remote_addr = nullptr;

PyObject* intern(const char* s) { return PyUnicode_InternFromString(s); }

PyObject* latin1(const char* p, size_t n) {
  return PyUnicode_DecodeLatin1(p, static_cast<Py_ssize_t>(n), nullptr);
}

// Sets d[key] = value, stealing value; false on error.
bool put(PyObject* d, PyObject* key, PyObject* value) {
  if (!value) return false;
  int rc = PyDict_SetItem(d, key, value);
  Py_DECREF(value);
  return rc == 0;
}

bool put_borrowed(PyObject* d, PyObject* key, PyObject* value) { return PyDict_SetItem(d, key, value) == 0; }

// The environ every request starts from, one per listener: the keys in PEP 3333 order
// with the values that do not change (SERVER_NAME/PORT, SCRIPT_NAME, empty CONTENT_TYPE
// and CONTENT_LENGTH, the wsgi.* entries) and placeholders for the rest, which every
// request overwrites. Copying it clones its hash table in one go (no per-key insertion,
// no growth), and the table has room left for the header fields.
PyObject* make_template(PyObject* name, PyObject* port) {
  PyObject* d = PyDict_New();
  if (!d) return nullptr;
  bool ok = put_borrowed(d, k.request_method, empty) && put_borrowed(d, k.script_name, script_name) &&
            put_borrowed(d, k.path_info, empty) && put_borrowed(d, k.query_string, empty) &&
            put_borrowed(d, k.content_type, empty) && put_borrowed(d, k.content_length, empty) &&
            put_borrowed(d, k.server_name, name) && put_borrowed(d, k.server_port, port) &&
            put_borrowed(d, k.server_protocol, http11) && put_borrowed(d, k.remote_addr, empty) &&
            put_borrowed(d, k.remote_port, empty) && put_borrowed(d, k.request_uri, empty) &&
            put_borrowed(d, k.wsgi_version, version) && put_borrowed(d, k.wsgi_url_scheme, url_scheme) &&
            put_borrowed(d, k.wsgi_input, Py_None) && put_borrowed(d, k.wsgi_errors, errors) &&
            put_borrowed(d, k.wsgi_multithread, multithread) && put_borrowed(d, k.wsgi_multiprocess, multiprocess) &&
            put_borrowed(d, k.wsgi_run_once, Py_False) &&
            put_borrowed(d, k.wsgi_file_wrapper, reinterpret_cast<PyObject*>(&FileWrapperType)) &&
            put_borrowed(d, k.wsgi_input_terminated, Py_True);
  // Grow the table once more while building (a key added and removed again), so that
  // the copies take the usual header fields without growing their own.
  PyObject* filler = ok ? PyUnicode_FromString("tsgi.room") : nullptr;
  ok = filler && PyDict_SetItem(d, filler, Py_None) == 0 && PyDict_DelItem(d, filler) == 0;
  Py_XDECREF(filler);
  if (!ok) Py_CLEAR(d);
  return d;
}

// Common request methods as shared strings (Python compares them by identity first).
PyObject* method_value(const char* p, size_t n) {
  for (PyObject* m : methods) {
    if (static_cast<size_t>(PyUnicode_GET_LENGTH(m)) == n && memcmp(PyUnicode_1BYTE_DATA(m), p, n) == 0) {
      Py_INCREF(m);
      return m;
    }
  }
  return latin1(p, n);
}

// REMOTE_ADDR: the last value is kept and given again while the client address repeats
// (keep-alive connections, a proxy in front).
PyObject* remote_addr_value(const char* p, size_t n) {
  if (last_remote_addr && static_cast<size_t>(PyUnicode_GET_LENGTH(last_remote_addr)) == n &&
      memcmp(PyUnicode_1BYTE_DATA(last_remote_addr), p, n) == 0) {
    Py_INCREF(last_remote_addr);
    return last_remote_addr;
  }
  PyObject* s = latin1(p, n);
  if (s && PyUnicode_KIND(s) == PyUnicode_1BYTE_KIND) {
    Py_XDECREF(last_remote_addr);
    Py_INCREF(s);
    last_remote_addr = s;
  }
  return s;
}

PyObject* port_value(int32_t port) {
  char buf[12];
  size_t n = 0;
  uint32_t v = static_cast<uint32_t>(port);
  do buf[sizeof buf - 1 - n++] = static_cast<char>('0' + v % 10);
  while ((v /= 10) != 0 && n < sizeof buf);
  return latin1(buf + sizeof buf - n, n);
}

}  // namespace

bool init_environ(const Config& cfg, const tsgi_core_ops* core, std::string* error) {
  k.request_method = intern("REQUEST_METHOD");
  k.script_name = intern("SCRIPT_NAME");
  k.path_info = intern("PATH_INFO");
  k.query_string = intern("QUERY_STRING");
  k.content_type = intern("CONTENT_TYPE");
  k.content_length = intern("CONTENT_LENGTH");
  k.server_name = intern("SERVER_NAME");
  k.server_port = intern("SERVER_PORT");
  k.server_protocol = intern("SERVER_PROTOCOL");
  k.remote_addr = intern("REMOTE_ADDR");
  k.remote_port = intern("REMOTE_PORT");
  k.request_uri = intern("REQUEST_URI");
  k.wsgi_version = intern("wsgi.version");
  k.wsgi_url_scheme = intern("wsgi.url_scheme");
  k.wsgi_input = intern("wsgi.input");
  k.wsgi_errors = intern("wsgi.errors");
  k.wsgi_multithread = intern("wsgi.multithread");
  k.wsgi_multiprocess = intern("wsgi.multiprocess");
  k.wsgi_run_once = intern("wsgi.run_once");
  k.wsgi_file_wrapper = intern("wsgi.file_wrapper");
  k.wsgi_input_terminated = intern("wsgi.input_terminated");
  k.http_cookie = intern("HTTP_COOKIE");
  known.clear();
  known.push_back(nullptr);
  for (uint32_t id = 1;; id++) {
    const char* key = core->known_key(id);
    if (!key) break;
    known.push_back(intern(key));
  }
  for (const std::string& s : cfg.server_names) server_names.push_back(latin1(s.data(), s.size()));
  for (const std::string& s : cfg.server_ports) server_ports.push_back(latin1(s.data(), s.size()));
  script_name_bytes = cfg.script_name;
  script_name = latin1(cfg.script_name.data(), cfg.script_name.size());
  version = Py_BuildValue("(ii)", 1, 0);
  url_scheme = intern(cfg.url_scheme.c_str());
  errors = new_errors(core);
  http10 = intern("HTTP/1.0");
  http11 = intern("HTTP/1.1");
  empty = intern("");
  multiprocess = cfg.multiprocess ? Py_True : Py_False;
  multithread = cfg.threads > 1 ? Py_True : Py_False;
  methods.clear();
  for (const char* m : {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"}) methods.push_back(intern(m));
  templates.clear();
  size_t listeners = server_names.size() > server_ports.size() ? server_names.size() : server_ports.size();
  for (size_t i = 0; i <= listeners && !PyErr_Occurred(); i++) {
    PyObject* t = make_template(i < server_names.size() ? server_names[i] : empty,
                                i < server_ports.size() ? server_ports[i] : empty);
    if (t) templates.push_back(t);
  }
  if (!init_forwarded(cfg.forwarded_allow_ips, error)) return false;
  if (PyErr_Occurred()) {
    *error = take_traceback();
    return false;
  }
  return true;
}

PyObject* build_environ(const tsgi_request_view* v) {
  const int32_t* rec = v->record;
  const char* head = v->head;
  int32_t method_end = rec[TSGI_REC_METHOD_END];
  int32_t target_end = rec[TSGI_REC_TARGET_END];
  int32_t query_start = rec[TSGI_REC_QUERY_START];
  int32_t path_end = rec[TSGI_REC_PATH_END];
  int32_t addr_end = rec[TSGI_REC_ADDR_END];
  int32_t listener = rec[TSGI_REC_LISTENER];
  int32_t remote_port = rec[TSGI_REC_REMOTE_PORT];

  size_t t = listener >= 0 && static_cast<size_t>(listener) < templates.size() ? static_cast<size_t>(listener)
                                                                                : templates.size() - 1;
  PyObject* d = PyDict_Copy(templates[t]);
  if (!d) return nullptr;
  // PATH_INFO without the SCRIPT_NAME prefix (when it starts with it at a segment boundary).
  const char* path = head + target_end;
  size_t path_len = static_cast<size_t>(path_end - target_end);
  const std::string& sn = script_name_bytes;
  if (!sn.empty() && path_len >= sn.size() && memcmp(path, sn.data(), sn.size()) == 0 &&
      (path_len == sn.size() || path[sn.size()] == '/')) {
    path += sn.size();
    path_len -= sn.size();
  }
  bool ok =
      put(d, k.request_method, method_value(head, static_cast<size_t>(method_end))) &&
      put(d, k.path_info, latin1(path, path_len)) &&
      (query_start < 0 || put(d, k.query_string, latin1(head + query_start, static_cast<size_t>(target_end - query_start)))) &&
      (rec[TSGI_REC_VERSION_MINOR] == 1 || put_borrowed(d, k.server_protocol, http10)) &&
      put(d, k.remote_addr, remote_addr_value(head + path_end, static_cast<size_t>(addr_end - path_end))) &&
      (remote_port == 0 || put(d, k.remote_port, port_value(remote_port))) &&
      put(d, k.request_uri, latin1(head + method_end, static_cast<size_t>(target_end - method_end))) &&
      put(d, k.wsgi_input, new_input(v));
  if (!ok) {
    Py_DECREF(d);
    return nullptr;
  }
  int32_t count = rec[TSGI_REC_HEADER_COUNT];
  int32_t prev_end = addr_end;
  const int32_t* hp = rec + TSGI_REC_HEADERS;
  for (int32_t i = 0; i < count; i++, hp += 3) {
    int32_t id = hp[0], key_end = hp[1], value_end = hp[2];
    PyObject* key;
    if (id > 0 && static_cast<size_t>(id) < known.size()) {
      key = known[id];
      Py_INCREF(key);
    } else {
      key = latin1(head + prev_end, static_cast<size_t>(key_end - prev_end));
    }
    const char* val = head + key_end;
    size_t val_len = static_cast<size_t>(value_end - key_end);
    prev_end = value_end;
    if (!key) {
      Py_DECREF(d);
      return nullptr;
    }
    PyObject* prev = PyDict_GetItemWithError(d, key);
    PyObject* value = nullptr;
    if (!prev) {
      value = latin1(val, val_len);
    } else if (key == k.content_length || key == k.content_type) {
      // The parser refuses differing repeated Content-Length and a second Content-Type.
      if (PyUnicode_GET_LENGTH(prev) == 0) value = latin1(val, val_len);
    } else {
      // Repeated fields joined as one (RFC 9110 §5.3); cookies with "; ".
      std::string joined;
      Py_ssize_t n = PyUnicode_GET_LENGTH(prev);
      joined.reserve(static_cast<size_t>(n) + val_len + 2);
      for (Py_ssize_t j = 0; j < n; j++) joined.push_back(static_cast<char>(PyUnicode_READ_CHAR(prev, j)));
      joined.append(key == k.http_cookie ? "; " : ",");
      joined.append(val, val_len);
      value = latin1(joined.data(), joined.size());
    }
    if (value) {
      int rc = PyDict_SetItem(d, key, value);
      Py_DECREF(value);
      if (rc) {
        Py_DECREF(key);
        Py_DECREF(d);
        return nullptr;
      }
    } else if (PyErr_Occurred()) {
      Py_DECREF(key);
      Py_DECREF(d);
      return nullptr;
    }
    Py_DECREF(key);
  }
  // Override entries (a uwsgi packet's SERVER_NAME, HTTPS…, a PROXY protocol header's
  // tsgi.proxy.<name>): keys set outright, key text then value, like unknown headers.
  int32_t overrides = rec[TSGI_REC_OVERRIDE_COUNT];
  for (int32_t i = 0; i < overrides; i++, hp += 3) {
    int32_t key_end = hp[1], value_end = hp[2];
    PyObject* key = latin1(head + prev_end, static_cast<size_t>(key_end - prev_end));
    PyObject* value = key ? latin1(head + key_end, static_cast<size_t>(value_end - key_end)) : nullptr;
    prev_end = value_end;
    int rc = value ? PyDict_SetItem(d, key, value) : -1;
    Py_XDECREF(key);
    Py_XDECREF(value);
    if (rc) {
      Py_DECREF(d);
      return nullptr;
    }
  }
  if (rec[TSGI_REC_FLAGS] & TSGI_FLAG_CHUNKED_BODY) {
    PyObject* cl = PyUnicode_FromFormat("%llu", static_cast<unsigned long long>(v->body_length));
    if (!put(d, k.content_length, cl)) {
      Py_DECREF(d);
      return nullptr;
    }
  }
  if (!apply_forwarded(d)) {
    Py_DECREF(d);
    return nullptr;
  }
  return d;
}

}  // namespace py
}  // namespace tsgi
