// The embedded interpreter: libpython made global, Py_InitializeFromConfig once per
// process, sys.path from --chdir / --pythonpath / the virtualenv, and the import of the
// application callable.
#include <dlfcn.h>
#include <unistd.h>

#include "py.h"

#ifndef TSGI_PYTHON_EXE
#define TSGI_PYTHON_EXE ""
#endif

namespace tsgi {
namespace py {

namespace {

PyThreadState* g_loop_state = nullptr;
bool g_started = false;

// Node loads an addon with RTLD_LOCAL, so the libpython it links is not visible to the
// C extension modules Python loads later (they do not link libpython themselves):
// reopen the very library Py_Initialize came from with RTLD_GLOBAL.
bool make_libpython_global(std::string* error) {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&Py_InitializeFromConfig), &info) == 0 || !info.dli_fname) {
    *error = "cannot find the loaded libpython (dladdr failed)";
    return false;
  }
  if (!dlopen(info.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD) &&
      !dlopen(info.dli_fname, RTLD_NOW | RTLD_GLOBAL)) {
    const char* e = dlerror();
    *error = std::string("cannot load ") + info.dli_fname + " with global symbols: " + (e ? e : "");
    return false;
  }
  return true;
}

bool status_ok(PyStatus st, std::string* error) {
  if (!PyStatus_Exception(st)) return true;
  *error = std::string("Python initialization failed: ") + (st.func ? st.func : "") +
           (st.func ? ": " : "") + (st.err_msg ? st.err_msg : "unknown error");
  return false;
}

bool initialize(const Config& cfg, std::string* error) {
  if (!make_libpython_global(error)) return false;
  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  config.install_signal_handlers = 0;  // node owns the signals
  config.parse_argv = 0;
  std::string exe = cfg.executable.empty() ? TSGI_PYTHON_EXE : cfg.executable;
  if (!cfg.virtualenv.empty()) {
    // The virtualenv's bin/python: its pyvenv.cfg gives sys.prefix and site-packages.
    std::string venv_python = cfg.virtualenv + "/bin/python";
    if (access(venv_python.c_str(), F_OK) == 0) exe = venv_python;
  }
  bool ok = true;
  if (!exe.empty()) ok = status_ok(PyConfig_SetBytesString(&config, &config.program_name, exe.c_str()), error);
  char arg0[] = "tsgi";
  char* argv[] = {arg0};
  if (ok) ok = status_ok(PyConfig_SetBytesArgv(&config, 1, argv), error);
  if (ok) ok = status_ok(Py_InitializeFromConfig(&config), error);
  PyConfig_Clear(&config);
  return ok;
}

// Runs a few lines of Python with the given globals; false with the traceback on error.
bool run_python(const char* code, PyObject* globals, std::string* error) {
  PyObject* r = PyRun_String(code, Py_file_input, globals, globals);
  if (!r) {
    *error = take_traceback();
    return false;
  }
  Py_DECREF(r);
  return true;
}

PyObject* str_list(const std::vector<std::string>& v) {
  PyObject* list = PyList_New(static_cast<Py_ssize_t>(v.size()));
  if (!list) return nullptr;
  for (size_t i = 0; i < v.size(); i++) {
    PyObject* s = PyUnicode_DecodeFSDefault(v[i].c_str());
    if (!s) {
      Py_DECREF(list);
      return nullptr;
    }
    PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i), s);
  }
  return list;
}

// The loader, in Python because it is run once at start: sys.path, then the module
// (a dotted name, or a .py file whose directory goes first on sys.path), then the
// callable (a dotted attribute path).
const char* kLoader = R"PY(
import os, sys, importlib, importlib.util, traceback, types
def _tsgi_trimmed(e):
    # The traceback without the loader's and importlib's own frames, as text.
    keep = []
    tb = e.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if not (name.startswith('<frozen importlib') or name == '<string>' or
                name.endswith(os.path.join('importlib', '__init__.py'))):
            keep.append(tb)
        tb = tb.tb_next
    new = None
    for t in reversed(keep):
        new = types.TracebackType(new, t.tb_frame, t.tb_lasti, t.tb_lineno)
    return ''.join(traceback.format_exception(type(e), e, new)).rstrip('\n')
def _tsgi_load(spec, chdir, pythonpath):
    if chdir:
        os.chdir(chdir)
    cwd = os.getcwd()
    for d in reversed([cwd] + list(pythonpath)):
        d = os.path.abspath(d)
        if d in sys.path:
            sys.path.remove(d)
        sys.path.insert(0, d)
    module_part, sep, attr = spec.rpartition(':')
    if not sep:
        module_part, attr = spec, 'application'
    if not module_part or not attr:
        raise LookupError(f"'{spec}' is not MODULE:CALLABLE (e.g. myproject.wsgi:application or app.py:app)")
    path = None
    if module_part.endswith('.py') or os.sep in module_part:
        path = os.path.abspath(module_part)
        if not os.path.isfile(path):
            raise LookupError(f"{module_part}: no such file")
        d, name = os.path.split(path)
        name = name[:-3] if name.endswith('.py') else name
        if d in sys.path:
            sys.path.remove(d)
        sys.path.insert(0, d)
        module_part = name
    try:
        existing = sys.modules.get(module_part) if path else None
        if existing is not None and os.path.abspath(getattr(existing, '__file__', None) or '') != path:
            # The file's name is taken by a module already loaded (e.g. site.py): load the
            # file itself, without replacing that module.
            spec_ = importlib.util.spec_from_file_location(module_part, path)
            module = importlib.util.module_from_spec(spec_)
            spec_.loader.exec_module(module)
        else:
            module = importlib.import_module(module_part)
    except ModuleNotFoundError as e:
        if e.name and (module_part == e.name or module_part.startswith(e.name + '.')):
            raise LookupError(f"No module named '{e.name}' (sys.path starts with {sys.path[:3]}; "
                              "see --chdir and --pythonpath)") from None
        return _tsgi_trimmed(e)
    except BaseException as e:
        return _tsgi_trimmed(e)
    obj = module
    for part in attr.split('.'):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise LookupError(f"module '{module_part}' has no attribute '{attr}'") from None
    if not callable(obj):
        raise LookupError(f"'{attr}' in module '{module_part}' is not callable (it is {type(obj).__name__})")
    return obj
)PY";

}  // namespace

std::string take_traceback() {
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  if (!type) return "(no exception)";
  PyErr_NormalizeException(&type, &value, &tb);
  if (tb && value) PyException_SetTraceback(value, tb);
  std::string out;
  PyObject* mod = PyImport_ImportModule("traceback");
  PyObject* lines = mod ? PyObject_CallMethod(mod, "format_exception", "OOO", type,
                                              value ? value : Py_None, tb ? tb : Py_None)
                        : nullptr;
  PyObject* text = nullptr;
  if (lines) {
    PyObject* empty = PyUnicode_FromString("");
    text = empty ? PyUnicode_Join(empty, lines) : nullptr;
    Py_XDECREF(empty);
  }
  const char* utf8 = text ? PyUnicode_AsUTF8(text) : nullptr;
  if (utf8) {
    out = utf8;
  } else {
    PyErr_Clear();
    PyObject* s = value ? PyObject_Str(value) : nullptr;
    const char* u = s ? PyUnicode_AsUTF8(s) : nullptr;
    out = std::string(reinterpret_cast<PyTypeObject*>(type)->tp_name) + ": " + (u ? u : "?");
    Py_XDECREF(s);
    PyErr_Clear();
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  Py_XDECREF(text);
  Py_XDECREF(lines);
  Py_XDECREF(mod);
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(tb);
  return out;
}

PyObject* start_and_load(const Config& cfg, std::string* error) {
  if (g_started) {
    *error = "the Python interpreter is already running in this process (one application per process)";
    return nullptr;
  }
  if (!Py_IsInitialized() && !initialize(cfg, error)) return nullptr;
  g_started = true;
  PyObject* callable = nullptr;
  PyObject* globals = PyDict_New();
  PyObject* mod = nullptr;
  if (globals && PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) == 0 &&
      run_python(kLoader, globals, error) && init_stream_types(nullptr) && init_gateway_types() &&
      init_harakiri(cfg.harakiri_ms, cfg.threads > 1, error)) {
    PyObject* load = PyDict_GetItemString(globals, "_tsgi_load");
    PyObject* path = str_list(cfg.pythonpath);
    PyObject* chdir = PyUnicode_DecodeFSDefault(cfg.chdir.c_str());
    PyObject* spec = PyUnicode_DecodeFSDefault(cfg.app.c_str());
    if (load && path && chdir && spec) callable = PyObject_CallFunctionObjArgs(load, spec, chdir, path, nullptr);
    if (callable && PyUnicode_Check(callable)) {  // the loader's formatted traceback
      const char* u = PyUnicode_AsUTF8(callable);
      *error = u ? u : "cannot load the application";
      Py_CLEAR(callable);
      PyErr_Clear();
    }
    if (!callable) {
      // A LookupError from the loader is a plain message; anything else (SyntaxError,
      // ImportError, an exception at import time) keeps its traceback.
      if (PyErr_ExceptionMatches(PyExc_LookupError)) {
        PyObject *t, *v, *tb;
        PyErr_Fetch(&t, &v, &tb);
        PyObject* s = v ? PyObject_Str(v) : nullptr;
        const char* u = s ? PyUnicode_AsUTF8(s) : nullptr;
        *error = u ? u : "cannot load the application";
        Py_XDECREF(s);
        Py_XDECREF(t);
        Py_XDECREF(v);
        Py_XDECREF(tb);
        PyErr_Clear();
      } else if (error->empty()) {
        *error = take_traceback();
      }
    }
    Py_XDECREF(path);
    Py_XDECREF(chdir);
    Py_XDECREF(spec);
  } else if (error->empty()) {
    *error = PyErr_Occurred() ? take_traceback() : "cannot set up the Python gateway";
  }
  Py_XDECREF(mod);
  Py_XDECREF(globals);
  g_loop_state = PyEval_SaveThread();
  return callable;
}

Gil::Gil() { PyEval_RestoreThread(g_loop_state); }
Gil::~Gil() { g_loop_state = PyEval_SaveThread(); }

}  // namespace py
}  // namespace tsgi
