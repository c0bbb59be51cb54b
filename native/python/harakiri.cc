// Harakiri for Python applications: a request whose Python code runs past the deadline
// is interrupted where it stands (a loop, a sleep, a blocking read) by a HarakiriTimeout
// raised into it, and answered 504 by the gateway. A watchdog thread sends SIGALRM to
// the loop thread at the deadline; the handler (installed through Python's signal module,
// so that blocking calls return EINTR and Python runs it at once) raises only when the
// request that ran out is still the one running.
//
// With --threads N each Python thread has a slot with its own deadline. Past it, the
// watchdog has HarakiriTimeout raised into that thread (PyThreadState_SetAsyncExc, from a
// thread of its own that takes the GIL) and wakes its time.sleep (replaced by one that
// waits on the slot), so the gateway answers 504 and the thread takes the next request.
// A thread stuck in C code never sees the exception: when one stays past the deadline
// plus a grace (the harakiri period again, at least 5 s) the process exits, and the
// process manager replaces the worker.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <deque>
#include <vector>

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

// ---- one deadline per Python thread (--threads N) ------------------------------------

struct Slot {
  unsigned long tid = 0;   // PyThread_get_thread_ident of its thread
  uint64_t armed = 0;      // the request its thread runs (0: none); guarded by g_mu
  int paused = 0;          // waiting on the client (the GIL released): not counted
  Clock::time_point deadline;
  Clock::time_point overdue;  // past this while armed: the process exits
  uint64_t fired = 0;      // the request HarakiriTimeout was raised into
  bool sleeping = false;   // in time.sleep, which raises it itself
  std::condition_variable cv;  // wakes its time.sleep
};

std::vector<Slot*>& g_slots = *new std::vector<Slot*>;
std::deque<std::pair<unsigned long, uint64_t>>& g_inject = *new std::deque<std::pair<unsigned long, uint64_t>>;
std::condition_variable& g_inject_cv = *new std::condition_variable;
bool g_threaded = false;
PyObject* g_sleep = nullptr;  // the original time.sleep
thread_local Slot* t_slot = nullptr;

std::chrono::milliseconds grace() {
  return std::chrono::milliseconds(g_limit_ms > 5000 ? g_limit_ms : 5000);
}

void thread_watchdog() {
  std::unique_lock<std::mutex> lock(g_mu);
  for (;;) {
    Clock::time_point now = Clock::now();
    Clock::time_point next = now + std::chrono::seconds(1);
    for (Slot* s : g_slots) {
      if (s->armed == 0 || s->paused) continue;
      if (now >= s->overdue && s->fired == s->armed) {
        std::fprintf(stderr,
                     "tsgi: HARAKIRI: a Python thread is still running a request %llu ms past harakiri "
                     "(stuck in C code, where it cannot be interrupted): exiting so that the worker is replaced\n",
                     static_cast<unsigned long long>(grace().count()));
        std::fflush(stderr);
        _exit(1);
      }
      if (now >= s->deadline) {
        if (s->fired != s->armed) s->overdue = now + grace();
        s->fired = s->armed;
        g_inject.emplace_back(s->tid, s->armed);
        g_inject_cv.notify_one();
        s->cv.notify_all();
        // Again after another period if the application swallowed it.
        s->deadline = now + std::chrono::milliseconds(g_limit_ms);
      }
      if (s->deadline < next) next = s->deadline;
      if (s->fired == s->armed && s->overdue < next) next = s->overdue;
    }
    g_cv.wait_until(lock, next);
  }
}

// Raises HarakiriTimeout into the threads that ran out (with the GIL, which a thread
// stuck in C code may hold for ever: that is why the watchdog does not do it itself).
void injector() {
  for (;;) {
    std::pair<unsigned long, uint64_t> job;
    {
      std::unique_lock<std::mutex> lock(g_mu);
      g_inject_cv.wait(lock, [] { return !g_inject.empty(); });
      job = g_inject.front();
      g_inject.pop_front();
    }
    PyGILState_STATE st = PyGILState_Ensure();
    bool current = false;
    {
      std::lock_guard<std::mutex> lock(g_mu);
      for (Slot* s : g_slots)
        if (s->tid == job.first) current = s->armed == job.second && !s->sleeping;
    }
    if (current) PyThreadState_SetAsyncExc(job.first, g_exception);
    PyGILState_Release(st);
  }
}

// time.sleep for Python threads: waits on the thread's slot so that harakiri can end it.
PyObject* slot_sleep(PyObject*, PyObject* arg) {
  Slot* s = t_slot;
  double secs = PyFloat_Check(arg) || PyLong_Check(arg) ? PyFloat_AsDouble(arg) : -1;
  if (PyErr_Occurred()) PyErr_Clear();
  if (!s || !(secs >= 0) || secs > 1e9) return PyObject_CallOneArg(g_sleep, arg);
  Clock::time_point end = Clock::now() + std::chrono::microseconds(static_cast<int64_t>(secs * 1e6));
  bool fired = false;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    s->sleeping = true;
  }
  Py_BEGIN_ALLOW_THREADS
  {
    std::unique_lock<std::mutex> lock(g_mu);
    uint64_t id = s->armed;
    s->cv.wait_until(lock, end, [&] { return id != 0 && s->fired == id; });
    fired = id != 0 && s->fired == id;
  }
  Py_END_ALLOW_THREADS
  {
    std::lock_guard<std::mutex> lock(g_mu);
    s->sleeping = false;
  }
  if (fired) {
    PyErr_Format(g_exception, "the request ran longer than harakiri (%llu ms)",
                 static_cast<unsigned long long>(g_limit_ms));
    return nullptr;
  }
  Py_RETURN_NONE;
}

PyMethodDef slot_sleep_def = {"sleep", slot_sleep, METH_O,
                              "sleep(seconds): time.sleep that harakiri can interrupt (tsgi --threads)."};

}  // namespace

bool init_harakiri(uint64_t limit_ms, bool threaded, std::string* error) {
  g_exception = PyErr_NewExceptionWithDoc(
      "tsgi.HarakiriTimeout", "The request ran longer than harakiri (a BaseException, like KeyboardInterrupt).",
      PyExc_BaseException, nullptr);
  if (!g_exception) {
    *error = take_traceback();
    return false;
  }
  if (limit_ms == 0) return true;
  if (threaded) {
    PyObject* time = PyImport_ImportModule("time");
    g_sleep = time ? PyObject_GetAttrString(time, "sleep") : nullptr;
    PyObject* sleep = g_sleep ? PyCFunction_New(&slot_sleep_def, nullptr) : nullptr;
    bool ok = sleep && PyObject_SetAttrString(time, "sleep", sleep) == 0;
    Py_XDECREF(sleep);
    Py_XDECREF(time);
    if (!ok) {
      *error = "cannot install the harakiri sleep: " + take_traceback();
      return false;
    }
    g_limit_ms = limit_ms;
    g_threaded = true;
    std::thread(thread_watchdog).detach();
    std::thread(injector).detach();
    return true;
  }
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

void harakiri_thread_arm(uint64_t request_id, std::chrono::steady_clock::time_point started) {
  if (!g_threaded) return;
  std::lock_guard<std::mutex> lock(g_mu);
  if (!t_slot) {
    t_slot = new Slot;
    t_slot->tid = PyThread_get_thread_ident();
    g_slots.push_back(t_slot);
  }
  t_slot->armed = request_id;
  t_slot->paused = 0;
  t_slot->deadline = started + std::chrono::milliseconds(g_limit_ms);
  g_cv.notify_one();
}

void harakiri_thread_disarm() {
  if (!g_threaded || !t_slot) return;
  bool fired;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    fired = t_slot->fired != 0 && t_slot->fired == t_slot->armed;
    t_slot->armed = 0;
  }
  // A HarakiriTimeout raised but not yet seen must not end the next request.
  if (fired) PyThreadState_SetAsyncExc(t_slot->tid, nullptr);
}

void harakiri_thread_pause(bool pause) {
  if (!g_threaded || !t_slot) return;
  std::lock_guard<std::mutex> lock(g_mu);
  t_slot->paused += pause ? 1 : -1;
  if (!pause) g_cv.notify_one();
}

bool harakiri_matches() { return g_exception && PyErr_ExceptionMatches(g_exception); }

}  // namespace py
}  // namespace tsgi
