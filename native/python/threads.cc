// --threads N for Python applications: N Python threads take requests from the loop
// thread, so that a request waiting on a database does not stop the worker. The loop
// thread never runs Python here: on_request copies the request into a job, a Python
// thread runs the gateway with a proxy of the core's operations that queues them for the
// loop thread (woken through a uv_async the binding owns), and blocks, without the GIL,
// while its exchange's output is over the high-water mark or a file is being sent.
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "py.h"

namespace tsgi {
namespace py {

namespace {

constexpr uint64_t kHighWater = 1 << 20;  // bytes queued for the loop before a writer waits
constexpr uint64_t kLowWater = 256 << 10;

struct Exchange {
  std::atomic<int> refs{2};  // the loop's and the Python thread's
  tsgi_exchange* ex;         // the core's (after the client left: the record it kept); loop thread only
  const tsgi_core_ops* real;
  // guarded by g_mu
  bool gone = false;          // the client went away, or the exchange was ended
  bool kept = false;          // the client went away while the Python thread ran on: the core
                              // kept the record, which takes notes, the status and one end/abort
  bool released = false;      // that end or abort was posted
  bool over = false;          // the loop side is done with it (its reference dropped)
  bool full = false;          // the core's last write answered 0: wait for on_drain
  bool file_pending = false;  // a send_file not yet drained
  uint64_t queued = 0;        // bytes queued for the loop, not yet given to the core
  int64_t declared = -1;      // the Content-Length the response was started with (loop side)
  std::condition_variable cv;
};

struct Op {
  enum Kind { Start, Write, SendFile, End, Abort, Note } kind = Start;
  Exchange* x = nullptr;
  std::string head;
  int status = 0;
  int64_t a = 0, b = 0;
  int32_t flags = 0;
  const char* data = nullptr;
  size_t len = 0;
  tsgi_release_fn release = nullptr;
  void* ctx = nullptr;
  int fd = -1;
};

Op make_op(Op::Kind kind, Exchange* x) {
  Op op;
  op.kind = kind;
  op.x = x;
  return op;
}

struct Job {
  Exchange* x;
  std::string head;
  std::vector<int32_t> record;
  std::string body;
  int body_fd;
  uint64_t body_length;
};

// Never destroyed: Python threads wait on these until the process exits, and destroying
// a condition variable that has waiters blocks exit() for ever.
std::mutex& g_mu = *new std::mutex;
std::deque<Op>& g_ops = *new std::deque<Op>;
std::deque<Job>& g_jobs = *new std::deque<Job>;
std::condition_variable& g_jobs_cv = *new std::condition_variable;
void (*g_wake)(void*) = nullptr;
void* g_wake_arg = nullptr;
tsgi_native_app* g_app = nullptr;
int g_threads = 0;

Exchange* X(tsgi_exchange* ex) { return reinterpret_cast<Exchange*>(ex); }

void unref(Exchange* x) {
  if (--x->refs == 0) delete x;
}

// Queues an op for the loop thread (g_mu held by the caller) and wakes it.
void post(std::unique_lock<std::mutex>& lock, Op&& op) {
  op.x->refs++;  // until the loop has run the op
  g_ops.push_back(std::move(op));
  lock.unlock();
  g_wake(g_wake_arg);
  lock.lock();
}

// Waits (the GIL released) until pred() or the exchange is gone.
template <typename Pred>
void wait_for(std::unique_lock<std::mutex>& lock, Exchange* x, Pred pred) {
  if (pred() || x->gone) return;
  lock.unlock();
  Py_BEGIN_ALLOW_THREADS
  harakiri_thread_pause(true);  // a slow client is not the application running long
  {
    std::unique_lock<std::mutex> l(g_mu);
    x->cv.wait(l, [&] { return pred() || x->gone; });
  }
  harakiri_thread_pause(false);
  Py_END_ALLOW_THREADS
  lock.lock();
}

// ---- the proxy the gateway calls from a Python thread --------------------------------

// Whether ops still go to a record the core kept after the client left (g_mu held).
bool recording_kept(Exchange* x) { return x->kept && !x->released; }

int px_start(tsgi_exchange* ex, int status, const char* head, size_t len, int64_t cl, int32_t flags) {
  Exchange* x = X(ex);
  std::unique_lock<std::mutex> lock(g_mu);
  if (x->gone) {
    if (recording_kept(x)) {
      Op op = make_op(Op::Start, x);  // the status, for the access log
      op.status = status;
      post(lock, std::move(op));
    }
    return TSGI_GONE;
  }
  Op op = make_op(Op::Start, x);
  op.status = status;
  op.head.assign(head, len);
  op.a = cl;
  op.flags = flags;
  post(lock, std::move(op));
  return TSGI_OK;
}

int px_write(tsgi_exchange* ex, const char* data, size_t len, tsgi_release_fn release, void* ctx) {
  Exchange* x = X(ex);
  std::unique_lock<std::mutex> lock(g_mu);
  if (x->gone) {
    lock.unlock();
    if (release) release(ctx);
    return -1;
  }
  x->queued += len;
  Op op = make_op(Op::Write, x);
  op.data = data;
  op.len = len;
  op.release = release;
  op.ctx = ctx;
  post(lock, std::move(op));
  if (x->full || x->queued > kHighWater) wait_for(lock, x, [x] { return !x->full && x->queued <= kLowWater; });
  return x->gone ? -1 : 1;
}

int px_send_file(tsgi_exchange* ex, int fd, int64_t offset, int64_t length) {
  Exchange* x = X(ex);
  std::unique_lock<std::mutex> lock(g_mu);
  if (x->gone) return TSGI_GONE;
  x->file_pending = true;
  Op op = make_op(Op::SendFile, x);
  op.fd = fd;
  op.a = offset;
  op.b = length;
  post(lock, std::move(op));
  // The file stays open (the gateway holds it) until the loop says it was sent.
  wait_for(lock, x, [x] { return !x->file_pending; });
  return x->gone ? TSGI_GONE : TSGI_OK;
}

// Posts the end of a kept record, once (g_mu held).
void release_kept(std::unique_lock<std::mutex>& lock, Exchange* x) {
  if (!recording_kept(x)) return;
  x->released = true;
  post(lock, make_op(Op::Abort, x));
}

int px_end(tsgi_exchange* ex) {
  Exchange* x = X(ex);
  std::unique_lock<std::mutex> lock(g_mu);
  if (x->gone) {
    release_kept(lock, x);
    return TSGI_GONE;
  }
  x->gone = true;
  post(lock, make_op(Op::End, x));
  return TSGI_OK;
}

void px_abort(tsgi_exchange* ex) {
  Exchange* x = X(ex);
  std::unique_lock<std::mutex> lock(g_mu);
  if (x->gone) return release_kept(lock, x);
  x->gone = true;
  post(lock, make_op(Op::Abort, x));
}

void px_note(tsgi_exchange* ex, int what, const char* value, size_t len) {
  Exchange* x = X(ex);
  std::unique_lock<std::mutex> lock(g_mu);
  if (x->gone && !recording_kept(x)) return;
  Op op = make_op(Op::Note, x);
  op.status = what;
  if (value) op.head.assign(value, len);
  post(lock, std::move(op));
}

const char* px_log_key(uint32_t i) { return g_app->core->log_key ? g_app->core->log_key(i) : nullptr; }

void px_set_user(tsgi_exchange*, void*) {}
const char* px_known_key(uint32_t id) { return g_app->core->known_key(id); }
void px_log(int level, const char* msg, size_t len) { g_app->core->log(level, msg, len); }

tsgi_exchange* px_keep(tsgi_exchange*) { return nullptr; }  // the proxy keeps records itself (threaded_abort)

const tsgi_core_ops kProxy = {TSGI_NATIVE_APP_ABI, sizeof(tsgi_core_ops), px_start, px_write, px_send_file,
                              px_end, px_abort, px_set_user, px_known_key, px_log, px_note, px_log_key, px_keep};

// The loop side is done with x (g_mu held): wakes its Python thread, drops its reference.
void finish(Exchange* x) {
  if (x->over) return;
  x->over = true;
  x->gone = true;
  x->cv.notify_all();
  unref(x);
}

void python_thread() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(g_mu);
      g_jobs_cv.wait(lock, [] { return !g_jobs.empty(); });
      job = std::move(g_jobs.front());
      g_jobs.pop_front();
    }
    tsgi_request_view v;
    v.abi = TSGI_NATIVE_APP_ABI;
    v.size = sizeof v;
    v.head = job.head.data();
    v.head_len = job.head.size();
    v.record = job.record.data();
    v.body = job.body.empty() ? nullptr : job.body.data();
    v.body_len = job.body.size();
    v.body_fd = job.body_fd;
    v.body_length = job.body_length;
    PyGILState_STATE st = PyGILState_Ensure();
    serve_exchange(g_app, reinterpret_cast<tsgi_exchange*>(job.x), &v, &kProxy);
    drop_released();
    PyGILState_Release(st);
    unref(job.x);
  }
}

}  // namespace

void start_threads(tsgi_native_app* app, int threads, void (*wake)(void*), void* arg) {
  g_app = app;
  g_threads = threads;
  g_wake = wake;
  g_wake_arg = arg;
  for (int i = 0; i < threads; i++) std::thread(python_thread).detach();
}

bool threads_enabled() { return g_threads > 1; }

void submit(tsgi_native_app* app, tsgi_exchange* ex, const tsgi_request_view* view) {
  auto* x = new Exchange();
  x->ex = ex;
  x->real = app->core;
  app->core->set_user(ex, x);
  Job job;
  job.x = x;
  job.head.assign(view->head, view->head_len);
  size_t ints = TSGI_REC_HEADERS + 3 * static_cast<size_t>(view->record[TSGI_REC_HEADER_COUNT] +
                                                          view->record[TSGI_REC_OVERRIDE_COUNT]);
  job.record.assign(view->record, view->record + ints);
  if (view->body_len) job.body.assign(view->body, view->body_len);
  job.body_fd = view->body_fd;
  job.body_length = view->body_length;
  std::lock_guard<std::mutex> lock(g_mu);
  g_jobs.push_back(std::move(job));
  g_jobs_cv.notify_one();
}

void run_loop_ops() {
  std::deque<Op> ops;
  {
    std::lock_guard<std::mutex> lock(g_mu);
    ops.swap(g_ops);
  }
  for (Op& op : ops) {
    Exchange* x = op.x;
    bool over;
    {
      std::lock_guard<std::mutex> lock(g_mu);
      over = x->over;
      if (op.kind == Op::Write) x->queued -= op.len;
      if (over) x->cv.notify_all();
    }
    if (over) {
      if (op.kind == Op::Write && op.release) op.release(op.ctx);
      unref(x);
      continue;
    }
    const tsgi_core_ops* core = x->real;
    int r = 0;
    switch (op.kind) {
      case Op::Start:
        r = core->start(x->ex, op.status, op.head.data(), op.head.size(), op.a, op.flags);
        x->declared = op.a;
        break;
      case Op::Write:
        r = core->write(x->ex, op.data, op.len, op.release, op.ctx);
        if (r == 0) {
          std::lock_guard<std::mutex> lock(g_mu);
          if (!x->over) x->full = true;
        }
        break;
      case Op::SendFile:
        r = core->send_file(x->ex, op.fd, op.a, op.b);
        break;
      case Op::Note:
        if (core->note) core->note(x->ex, op.status, op.head.data(), op.head.size());
        break;
      case Op::End: {
        r = core->end(x->ex);
        if (r == TSGI_SHORT) {
          std::string msg = "tsgi: a response is shorter than its Content-Length (" + std::to_string(x->declared) +
                            " bytes): connection closed";
          core->log(TSGI_LOG_ERROR, msg.data(), msg.size());
        }
        {
          std::lock_guard<std::mutex> lock(g_mu);
          finish(x);
        }
        unref(x);
        continue;
      }
      case Op::Abort: {
        core->abort(x->ex);
        {
          std::lock_guard<std::mutex> lock(g_mu);
          finish(x);
        }
        unref(x);
        continue;
      }
    }
    {
      std::lock_guard<std::mutex> lock(g_mu);
      if (r < 0 && !x->kept) finish(x);  // a kept record is finished by its own end or abort
      else x->cv.notify_all();
    }
    unref(x);
  }
}

void threaded_drain(void* user) {
  auto* x = static_cast<Exchange*>(user);
  std::lock_guard<std::mutex> lock(g_mu);
  x->full = false;
  x->file_pending = false;
  x->cv.notify_all();
}

// The client left. A request its Python thread has not ended yet keeps its record in the
// core (counted and logged when the thread ends it, harakiri included); the thread's
// waits end at once and its writes fail from now on.
void threaded_abort(void* user) {
  auto* x = static_cast<Exchange*>(user);
  std::lock_guard<std::mutex> lock(g_mu);
  if (!x->gone && !x->over && x->real->keep) {
    if (tsgi_exchange* k = x->real->keep(x->ex)) {
      x->ex = k;
      x->kept = true;
      x->gone = true;
      x->cv.notify_all();
      return;
    }
  }
  finish(x);
}

}  // namespace py
}  // namespace tsgi
