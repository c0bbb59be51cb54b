// What the access log and the stats of a Python application take from its environ when a
// request ends, told to the core (core->note): the values of the keys core->log_key names
// (REMOTE_ADDR for %(h)s, the client a trusted proxy named; REMOTE_USER for %(u)s; the
// KEY of %({KEY}e)s), as the application left them, and whether harakiri ended the
// request (the stats' harakiri count).
#include "py.h"

namespace tsgi {
namespace py {

namespace {

// The text of an environ value: a str's latin-1 bytes (UTF-8 past latin-1), else str(v).
bool text_of(PyObject* v, std::string* out) {
  PyObject* s = PyUnicode_Check(v) ? (Py_INCREF(v), v) : PyObject_Str(v);
  if (!s) {
    PyErr_Clear();
    return false;
  }
  bool ok = true;
  if (PyUnicode_KIND(s) == PyUnicode_1BYTE_KIND) {
    out->assign(reinterpret_cast<const char*>(PyUnicode_1BYTE_DATA(s)), static_cast<size_t>(PyUnicode_GET_LENGTH(s)));
  } else {
    Py_ssize_t n;
    const char* p = PyUnicode_AsUTF8AndSize(s, &n);
    if (p) out->assign(p, static_cast<size_t>(n));
    else PyErr_Clear(), ok = false;
  }
  Py_DECREF(s);
  return ok;
}

}  // namespace

bool wants_environ_at_end(const tsgi_core_ops* ops) { return ops->log_key && ops->log_key(0); }

void note_request_end(const tsgi_core_ops* ops, tsgi_exchange* ex, PyObject* environ, bool harakiri) {
  if (!ops->note) return;
  if (harakiri) ops->note(ex, TSGI_NOTE_HARAKIRI, nullptr, 0);
  if (!environ || !ops->log_key) return;
  // The current exception (a failing request's) is kept across the lookups.
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  std::string text;
  for (uint32_t i = 0;; i++) {
    const char* key = ops->log_key(i);
    if (!key) break;
    PyObject* v = PyDict_GetItemString(environ, key);
    if (v && text_of(v, &text)) ops->note(ex, TSGI_NOTE_VALUE + static_cast<int>(i), text.data(), text.size());
    else PyErr_Clear();
  }
  PyErr_Restore(type, value, tb);
}

}  // namespace py
}  // namespace tsgi
