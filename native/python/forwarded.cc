// forwardedAllowIps for Python applications: the trust walk of forwarded_trust.h applied
// to the environ dict as it is built, before the application sees it (the JavaScript
// gateway's src/forwarded-trust.ts, the same rule). A request without any forwarding
// header costs five dict lookups; with no trusted proxy configured, none.
#include "py.h"

#include "forwarded_trust.h"

namespace tsgi {
namespace py {

namespace {

ForwardedTrust g_trust;
bool g_enabled = false;

struct Keys {
  PyObject *forwarded, *x_for, *x_proto, *x_host, *x_port, *remote_addr, *scheme, *http_host, *server_name,
      *server_port;
};
Keys k;

// The bytes of a latin-1 native string (the environ's values are built that way); empty
// for anything else.
std::string_view bytes_of(PyObject* v) {
  if (!v || !PyUnicode_Check(v) || PyUnicode_KIND(v) != PyUnicode_1BYTE_KIND) return std::string_view();
  return std::string_view(reinterpret_cast<const char*>(PyUnicode_1BYTE_DATA(v)),
                          static_cast<size_t>(PyUnicode_GET_LENGTH(v)));
}

bool set(PyObject* d, PyObject* key, const std::string& value) {
  PyObject* v = PyUnicode_DecodeLatin1(value.data(), static_cast<Py_ssize_t>(value.size()), nullptr);
  if (!v) return false;
  int rc = PyDict_SetItem(d, key, v);
  Py_DECREF(v);
  return rc == 0;
}

}  // namespace

bool init_forwarded(const std::vector<std::string>& rules, std::string* error) {
  if (!g_trust.configure(rules, error)) return false;
  g_enabled = g_trust.enabled();
  if (!g_enabled || k.forwarded) return true;
  k.forwarded = PyUnicode_InternFromString("HTTP_FORWARDED");
  k.x_for = PyUnicode_InternFromString("HTTP_X_FORWARDED_FOR");
  k.x_proto = PyUnicode_InternFromString("HTTP_X_FORWARDED_PROTO");
  k.x_host = PyUnicode_InternFromString("HTTP_X_FORWARDED_HOST");
  k.x_port = PyUnicode_InternFromString("HTTP_X_FORWARDED_PORT");
  k.remote_addr = PyUnicode_InternFromString("REMOTE_ADDR");
  k.scheme = PyUnicode_InternFromString("wsgi.url_scheme");
  k.http_host = PyUnicode_InternFromString("HTTP_HOST");
  k.server_name = PyUnicode_InternFromString("SERVER_NAME");
  k.server_port = PyUnicode_InternFromString("SERVER_PORT");
  if (PyErr_Occurred()) {
    *error = take_traceback();
    return false;
  }
  return true;
}

bool apply_forwarded(PyObject* d) {
  if (!g_enabled) return true;
  // Borrowed references: the dict is not changed before they are read.
  ForwardedHeaders h;
  h.forwarded = bytes_of(PyDict_GetItem(d, k.forwarded));
  h.x_for = bytes_of(PyDict_GetItem(d, k.x_for));
  h.x_proto = bytes_of(PyDict_GetItem(d, k.x_proto));
  h.x_host = bytes_of(PyDict_GetItem(d, k.x_host));
  h.x_port = bytes_of(PyDict_GetItem(d, k.x_port));
  if (!h.any()) return true;
  ForwardedEnviron e;
  e.remote_addr = std::string(bytes_of(PyDict_GetItem(d, k.remote_addr)));
  if (!g_trust.trusts_peer(e.remote_addr)) return true;
  e.scheme = std::string(bytes_of(PyDict_GetItem(d, k.scheme)));
  PyObject* host = PyDict_GetItem(d, k.http_host);
  e.has_host = host != nullptr;
  e.http_host = std::string(bytes_of(host));
  e.server_name = std::string(bytes_of(PyDict_GetItem(d, k.server_name)));
  e.server_port = std::string(bytes_of(PyDict_GetItem(d, k.server_port)));
  if (!g_trust.apply(h, &e)) return true;
  // The header views point into the dict's strings: nothing is set until the walk is done.
  unsigned c = e.changed;
  return (!(c & ForwardedEnviron::kRemoteAddr) || set(d, k.remote_addr, e.remote_addr)) &&
         (!(c & ForwardedEnviron::kScheme) || set(d, k.scheme, e.scheme)) &&
         (!(c & ForwardedEnviron::kHttpHost) || set(d, k.http_host, e.http_host)) &&
         (!(c & ForwardedEnviron::kServerName) || set(d, k.server_name, e.server_name)) &&
         (!(c & ForwardedEnviron::kServerPort) || set(d, k.server_port, e.server_port));
}

}  // namespace py
}  // namespace tsgi
