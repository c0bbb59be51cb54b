// Harakiri for Python applications: a request whose Python code runs past the deadline
// is interrupted where it stands (a loop, a sleep, a blocking read) by a HarakiriTimeout
// raised into it, and answered 504 by the gateway. A watchdog thread sends SIGALRM to
// the loop thread at the deadline; the handler (installed through Python's signal module,
// so that blocking calls return EINTR and Python runs it at once) raises only when the
// request that ran out is still the one running.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "py.h"

namespace tsgi {
namespace py {

namespace {

using Clock = std::chrono::steady_clock;

// Never destroyed: the watchdog waits on them until the process exits (destroying a
// condition variable that has a waiter blocks exit() for ever).
std::mutex& g_mu = *new std::mutex;
std::condition_variable& g_cv = *new std::condition_variable;
uint64_t g_limit_ms = 0;
uint64_t g_armed_id = 0;             // the request running Python now (0: none)
Clock::time_point g_deadline;
std::atomic<uint64_t> g_fired_id{0};  // the request the watchdog ran out for
pthread_t g_loop_thread;
PyObject* g_exception = nullptr;      // tsgi.HarakiriTimeout

void watchdog() {
  std::unique_lock<std::mutex> lock(g_mu);
  for (;;) {
    if (g_armed_id == 0) {
      g_cv.wait(lock);
      continue;
    }
    uint64_t id = g_armed_id;
    if (g_cv.wait_until(lock, g_deadline) == std::cv_status::timeout && g_armed_id == id &&
        Clock::now() >= g_deadline) {
      g_fired_id.store(id);
      pthread_kill(g_loop_thread, SIGALRM);
      // Again after another period if the application swallowed it.
      g_deadline = Clock::now() + std::chrono::milliseconds(g_limit_ms);
    }
  }
}

// The Python-level SIGALRM handler.
PyObject* on_alarm(PyObject*, PyObject*) {
  uint64_t fired = g_fired_id.load();
  bool current;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    current = fired != 0 && fired == g_armed_id;
  }
  if (!current) Py_RETURN_NONE;
  PyErr_Format(g_exception, "the request ran longer than harakiri (%llu ms)",
               static_cast<unsigned long long>(g_limit_ms));
  return nullptr;
}

PyMethodDef on_alarm_def = {"_tsgi_harakiri", on_alarm, METH_VARARGS, nullptr};

}  // namespace

bool init_harakiri(uint64_t limit_ms, std::string* error) {
  g_exception = PyErr_NewExceptionWithDoc(
      "tsgi.HarakiriTimeout", "The request ran longer than harakiri (a BaseException, like KeyboardInterrupt).",
      PyExc_BaseException, nullptr);
  if (!g_exception) {
    *error = take_traceback();
    return false;
  }
  if (limit_ms == 0) return true;
  PyObject* signal = PyImport_ImportModule("signal");
  PyObject* handler = PyCFunction_New(&on_alarm_def, nullptr);
  PyObject* r = signal && handler ? PyObject_CallMethod(signal, "signal", "iO", SIGALRM, handler) : nullptr;
  Py_XDECREF(handler);
  Py_XDECREF(signal);
  if (!r) {
    *error = "cannot install the harakiri handler: " + take_traceback();
    return false;
  }
  Py_DECREF(r);
  g_limit_ms = limit_ms;
  g_loop_thread = pthread_self();
  std::thread(watchdog).detach();
  return true;
}

void harakiri_arm(uint64_t request_id, std::chrono::steady_clock::time_point started) {
  if (g_limit_ms == 0) return;
  std::lock_guard<std::mutex> lock(g_mu);
  g_armed_id = request_id;
  g_deadline = started + std::chrono::milliseconds(g_limit_ms);
  g_cv.notify_one();
}

void harakiri_disarm() {
  if (g_limit_ms == 0) return;
  std::lock_guard<std::mutex> lock(g_mu);
  g_armed_id = 0;
}

bool harakiri_matches() { return g_exception && PyErr_ExceptionMatches(g_exception); }

}  // namespace py
}  // namespace tsgi
