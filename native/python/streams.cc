// wsgi.input (the request body the core already holds: a copy of the memory body, or the
// spooled file, read with pread), wsgi.errors (lines to the error log) and
// wsgi.file_wrapper (a file the gateway sends with sendfile when it can).
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "py.h"
#include <structmember.h>

namespace tsgi {
namespace py {

namespace {

// ---- wsgi.input -----------------------------------------------------------------------

struct InputObject {
  PyObject_HEAD
  char* mem;      // the body in memory (owned), or nullptr
  int fd;         // the spooled body (owned), or -1
  uint64_t len;   // body length
  uint64_t pos;   // bytes consumed
};

// size argument: absent, None or negative means "all".
bool size_arg(PyObject* const* args, Py_ssize_t nargs, int64_t* out) {
  *out = -1;
  if (nargs > 1) {
    PyErr_SetString(PyExc_TypeError, "expected at most one argument");
    return false;
  }
  if (nargs == 0 || args[0] == Py_None) return true;
  long long v = PyLong_AsLongLong(args[0]);
  if (v == -1 && PyErr_Occurred()) return false;
  *out = v;
  return true;
}

uint64_t remaining(InputObject* in) { return in->len - in->pos; }

// Reads n bytes at the position into out (the GIL released around the syscall).
bool read_at(InputObject* in, char* out, uint64_t n) {
  if (in->mem) {
    memcpy(out, in->mem + in->pos, n);
    return true;
  }
  uint64_t done = 0;
  bool ok = true;
  Py_BEGIN_ALLOW_THREADS
  while (done < n) {
    ssize_t r = pread(in->fd, out + done, n - done, static_cast<off_t>(in->pos + done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      ok = false;
      break;
    }
    done += static_cast<uint64_t>(r);
  }
  Py_END_ALLOW_THREADS
  if (!ok) PyErr_SetString(PyExc_OSError, "the spooled request body could not be read");
  return ok;
}

// The next n bytes of the body as bytes, the position moved past them.
PyObject* take_bytes(InputObject* in, uint64_t n) {
  PyObject* b = PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(n));
  if (!b) return nullptr;
  if (n && !read_at(in, PyBytes_AS_STRING(b), n)) {
    Py_DECREF(b);
    return nullptr;
  }
  in->pos += n;
  return b;
}

PyObject* input_read(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  auto* in = reinterpret_cast<InputObject*>(self);
  int64_t size;
  if (!size_arg(args, nargs, &size)) return nullptr;
  uint64_t n = remaining(in);
  if (size >= 0 && static_cast<uint64_t>(size) < n) n = static_cast<uint64_t>(size);
  return take_bytes(in, n);
}

// Length of the next line (through '\n'), at most limit bytes.
bool line_length(InputObject* in, uint64_t limit, uint64_t* out) {
  if (in->mem) {
    const char* p = in->mem + in->pos;
    const void* nl = memchr(p, '\n', limit);
    *out = nl ? static_cast<uint64_t>(static_cast<const char*>(nl) - p) + 1 : limit;
    return true;
  }
  char block[8192];
  uint64_t at = 0;
  while (at < limit) {
    uint64_t want = limit - at < sizeof block ? limit - at : sizeof block;
    ssize_t r;
    do r = pread(in->fd, block, want, static_cast<off_t>(in->pos + at));
    while (r < 0 && errno == EINTR);
    if (r <= 0) {
      PyErr_SetString(PyExc_OSError, "the spooled request body could not be read");
      return false;
    }
    const void* nl = memchr(block, '\n', static_cast<size_t>(r));
    if (nl) {
      *out = at + static_cast<uint64_t>(static_cast<const char*>(nl) - block) + 1;
      return true;
    }
    at += static_cast<uint64_t>(r);
  }
  *out = limit;
  return true;
}

PyObject* readline_limited(InputObject* in, int64_t size) {
  uint64_t limit = remaining(in);
  if (size >= 0 && static_cast<uint64_t>(size) < limit) limit = static_cast<uint64_t>(size);
  uint64_t n = 0;
  if (limit && !line_length(in, limit, &n)) return nullptr;
  return take_bytes(in, n);
}

PyObject* input_readline(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  int64_t size;
  if (!size_arg(args, nargs, &size)) return nullptr;
  return readline_limited(reinterpret_cast<InputObject*>(self), size);
}

PyObject* input_readlines(PyObject* self, PyObject* const* args, Py_ssize_t nargs) {
  int64_t hint;
  if (!size_arg(args, nargs, &hint)) return nullptr;
  PyObject* list = PyList_New(0);
  if (!list) return nullptr;
  int64_t total = 0;
  for (;;) {
    PyObject* line = readline_limited(reinterpret_cast<InputObject*>(self), -1);
    if (!line) {
      Py_DECREF(list);
      return nullptr;
    }
    Py_ssize_t n = PyBytes_GET_SIZE(line);
    if (n == 0) {
      Py_DECREF(line);
      break;
    }
    int rc = PyList_Append(list, line);
    Py_DECREF(line);
    if (rc) {
      Py_DECREF(list);
      return nullptr;
    }
    total += n;
    if (hint > 0 && total >= hint) break;
  }
  return list;
}

PyObject* input_next(PyObject* self) {
  PyObject* line = readline_limited(reinterpret_cast<InputObject*>(self), -1);
  if (line && PyBytes_GET_SIZE(line) == 0) {
    Py_DECREF(line);
    return nullptr;  // StopIteration
  }
  return line;
}

PyObject* input_true(PyObject*, PyObject*) { Py_RETURN_TRUE; }
PyObject* input_false(PyObject*, PyObject*) { Py_RETURN_FALSE; }
PyObject* input_none(PyObject*, PyObject*) { Py_RETURN_NONE; }

void input_dealloc(PyObject* self) {
  auto* in = reinterpret_cast<InputObject*>(self);
  std::free(in->mem);
  if (in->fd >= 0) ::close(in->fd);
  Py_TYPE(self)->tp_free(self);
}

PyMethodDef input_methods[] = {
    {"read", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(input_read)), METH_FASTCALL,
     "read(size=-1): up to size bytes of the body; b'' at its end"},
    {"readline", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(input_readline)), METH_FASTCALL,
     "readline(size=-1): the next line, through b'\\n'"},
    {"readlines", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(input_readlines)), METH_FASTCALL,
     "readlines(hint=-1): the remaining lines"},
    {"readable", input_true, METH_NOARGS, nullptr},
    {"seekable", input_false, METH_NOARGS, nullptr},
    {"close", input_none, METH_NOARGS, nullptr},
    {nullptr, nullptr, 0, nullptr}};

// ---- wsgi.errors ----------------------------------------------------------------------

struct ErrorsObject {
  PyObject_HEAD
  const tsgi_core_ops* core;
  std::string* pending;  // text not yet ended by a newline
};

void errors_emit(ErrorsObject* e, const char* p, size_t n) {
  if (e->core && e->core->log) e->core->log(TSGI_LOG_ERROR, p, n);
  else {
    ssize_t unused = ::write(2, p, n);
    unused = ::write(2, "\n", 1);
    (void)unused;
  }
}

bool errors_write_text(ErrorsObject* e, PyObject* s) {
  if (!PyUnicode_Check(s)) {
    PyErr_Format(PyExc_TypeError, "wsgi.errors.write() takes str, not %.100s", Py_TYPE(s)->tp_name);
    return false;
  }
  Py_ssize_t n;
  const char* u = PyUnicode_AsUTF8AndSize(s, &n);
  if (!u) return false;
  std::string& buf = *e->pending;
  buf.append(u, static_cast<size_t>(n));
  size_t start = 0;
  for (;;) {
    size_t nl = buf.find('\n', start);
    if (nl == std::string::npos) break;
    errors_emit(e, buf.data() + start, nl - start);
    start = nl + 1;
  }
  buf.erase(0, start);
  return true;
}

PyObject* errors_write(PyObject* self, PyObject* s) {
  if (!errors_write_text(reinterpret_cast<ErrorsObject*>(self), s)) return nullptr;
  Py_RETURN_NONE;
}

PyObject* errors_writelines(PyObject* self, PyObject* seq) {
  PyObject* it = PyObject_GetIter(seq);
  if (!it) return nullptr;
  PyObject* item;
  while ((item = PyIter_Next(it))) {
    bool ok = errors_write_text(reinterpret_cast<ErrorsObject*>(self), item);
    Py_DECREF(item);
    if (!ok) {
      Py_DECREF(it);
      return nullptr;
    }
  }
  Py_DECREF(it);
  if (PyErr_Occurred()) return nullptr;
  Py_RETURN_NONE;
}

PyObject* errors_flush(PyObject* self, PyObject*) {
  auto* e = reinterpret_cast<ErrorsObject*>(self);
  if (!e->pending->empty()) {
    errors_emit(e, e->pending->data(), e->pending->size());
    e->pending->clear();
  }
  Py_RETURN_NONE;
}

void errors_dealloc(PyObject* self) {
  delete reinterpret_cast<ErrorsObject*>(self)->pending;
  Py_TYPE(self)->tp_free(self);
}

PyMethodDef errors_methods[] = {
    {"write", errors_write, METH_O, "write(str): text for the error log"},
    {"writelines", errors_writelines, METH_O, "writelines(seq): each str for the error log"},
    {"flush", errors_flush, METH_NOARGS, "flush(): ends a partial line"},
    {nullptr, nullptr, 0, nullptr}};

// ---- wsgi.file_wrapper ----------------------------------------------------------------

struct FileWrapperObject {
  PyObject_HEAD
  PyObject* filelike;
  Py_ssize_t blksize;
};

int wrapper_init(PyObject* self, PyObject* args, PyObject* kwargs) {
  static const char* kw[] = {"filelike", "blksize", nullptr};
  PyObject* filelike;
  Py_ssize_t blksize = 8192;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|n:FileWrapper", const_cast<char**>(kw), &filelike,
                                   &blksize))
    return -1;
  auto* w = reinterpret_cast<FileWrapperObject*>(self);
  Py_INCREF(filelike);
  Py_XSETREF(w->filelike, filelike);
  w->blksize = blksize > 0 ? blksize : 8192;
  return 0;
}

PyObject* wrapper_next(PyObject* self) {
  auto* w = reinterpret_cast<FileWrapperObject*>(self);
  if (!w->filelike) return nullptr;
  PyObject* data = PyObject_CallMethod(w->filelike, "read", "n", w->blksize);
  if (!data) return nullptr;
  if (PyObject_Length(data) == 0) {
    Py_DECREF(data);
    return nullptr;
  }
  return data;
}

PyObject* wrapper_close(PyObject* self, PyObject*) {
  auto* w = reinterpret_cast<FileWrapperObject*>(self);
  if (w->filelike && PyObject_HasAttrString(w->filelike, "close")) {
    PyObject* r = PyObject_CallMethod(w->filelike, "close", nullptr);
    if (!r) return nullptr;
    Py_DECREF(r);
  }
  Py_RETURN_NONE;
}

void wrapper_dealloc(PyObject* self) {
  Py_CLEAR(reinterpret_cast<FileWrapperObject*>(self)->filelike);
  Py_TYPE(self)->tp_free(self);
}

PyMethodDef wrapper_methods[] = {
    {"close", wrapper_close, METH_NOARGS, "close(): closes the file"},
    {nullptr, nullptr, 0, nullptr}};

PyMemberDef wrapper_members[] = {
    {const_cast<char*>("filelike"), T_OBJECT, offsetof(FileWrapperObject, filelike), READONLY, nullptr},
    {const_cast<char*>("blksize"), T_PYSSIZET, offsetof(FileWrapperObject, blksize), READONLY, nullptr},
    {nullptr, 0, 0, 0, nullptr}};

}  // namespace

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
PyTypeObject InputType = {PyVarObject_HEAD_INIT(nullptr, 0) "tsgi.Input"};
#pragma GCC diagnostic pop
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
PyTypeObject ErrorsType = {PyVarObject_HEAD_INIT(nullptr, 0) "tsgi.Errors"};
#pragma GCC diagnostic pop
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
PyTypeObject FileWrapperType = {PyVarObject_HEAD_INIT(nullptr, 0) "tsgi.FileWrapper"};
#pragma GCC diagnostic pop

bool init_stream_types(PyObject*) {
  InputType.tp_basicsize = sizeof(InputObject);
  InputType.tp_flags = Py_TPFLAGS_DEFAULT;
  InputType.tp_doc = "wsgi.input: the request body";
  InputType.tp_dealloc = input_dealloc;
  InputType.tp_methods = input_methods;
  InputType.tp_iter = PyObject_SelfIter;
  InputType.tp_iternext = input_next;
  ErrorsType.tp_basicsize = sizeof(ErrorsObject);
  ErrorsType.tp_flags = Py_TPFLAGS_DEFAULT;
  ErrorsType.tp_doc = "wsgi.errors: text for the error log";
  ErrorsType.tp_dealloc = errors_dealloc;
  ErrorsType.tp_methods = errors_methods;
  FileWrapperType.tp_basicsize = sizeof(FileWrapperObject);
  FileWrapperType.tp_flags = Py_TPFLAGS_DEFAULT;
  FileWrapperType.tp_doc = "wsgi.file_wrapper(filelike, blksize=8192): sent with sendfile when possible";
  FileWrapperType.tp_init = wrapper_init;
  FileWrapperType.tp_new = PyType_GenericNew;
  FileWrapperType.tp_dealloc = wrapper_dealloc;
  FileWrapperType.tp_methods = wrapper_methods;
  FileWrapperType.tp_members = wrapper_members;
  FileWrapperType.tp_iter = PyObject_SelfIter;
  FileWrapperType.tp_iternext = wrapper_next;
  return PyType_Ready(&InputType) == 0 && PyType_Ready(&ErrorsType) == 0 &&
         PyType_Ready(&FileWrapperType) == 0;
}

PyObject* new_input(const tsgi_request_view* view) {
  auto* in = PyObject_New(InputObject, &InputType);
  if (!in) {
    if (view->body_fd >= 0) ::close(view->body_fd);
    return nullptr;
  }
  in->mem = nullptr;
  in->fd = view->body_fd;
  in->pos = 0;
  in->len = view->body_length;
  if (in->fd < 0) {
    in->len = view->body_len;
    if (view->body_len) {
      in->mem = static_cast<char*>(std::malloc(view->body_len));
      if (!in->mem) {
        Py_DECREF(in);
        return PyErr_NoMemory();
      }
      memcpy(in->mem, view->body, view->body_len);
    }
  }
  return reinterpret_cast<PyObject*>(in);
}

PyObject* file_wrapper_filelike(PyObject* wrapper) {
  if (Py_TYPE(wrapper) != &FileWrapperType) return nullptr;
  return reinterpret_cast<FileWrapperObject*>(wrapper)->filelike;
}

PyObject* new_errors(const tsgi_core_ops* core) {
  auto* e = PyObject_New(ErrorsObject, &ErrorsType);
  if (!e) return nullptr;
  e->core = core;
  e->pending = new std::string();
  return reinterpret_cast<PyObject*>(e);
}

}  // namespace py
}  // namespace tsgi
