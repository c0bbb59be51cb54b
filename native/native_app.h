/*
 * The C ABI between the tsgi core and a native application (an application that answers
 * requests from C or C++ on the loop thread, with no JavaScript per request: the embedded
 * Python interpreter in native/python/ is one).
 *
 * Plain C, so that an application can be built by a different compiler or as a different
 * shared object than the core. Every struct starts with the ABI version and its own size;
 * a side refuses a struct whose version it does not know.
 *
 * Lifetime of one request (an "exchange"):
 *   1. The core calls app->on_request(app, ex, view) on the loop thread once the request
 *      head and its whole body have arrived. The view and everything it points to are valid
 *      during that call only (copy what is needed later), except body_fd (see below).
 *   2. The application answers through core->start / write / send_file / end, now or later,
 *      always on the loop thread. A streamed answer that hears 0 from write (output over
 *      the high-water mark) waits for on_drain before writing more.
 *   3. The exchange ends with core->end (the response is complete) or core->abort (the
 *      connection is closed: nothing more can be sent), or when the core calls on_abort
 *      (the client went away, a timeout, the server closed). After any of the three the
 *      application must not use ex again (inside on_abort, note still records on it).
 *      on_abort is not called after the application's own abort or end. on_abort may
 *      come from inside a core->write/end/send_file call (a write to the socket failed):
 *      that call then returns TSGI_GONE. An application still running the request when
 *      on_abort comes may call core->keep(ex) there: the request's record (access log,
 *      stats) then stays open under the handle keep returns until the application ends
 *      or aborts that handle, so a request that runs on after its client left (and that
 *      harakiri ends) is counted and logged when it ends.
 *   4. One exchange per connection at a time: the core dispatches the next pipelined
 *      request of a connection only after the previous exchange ended.
 */
#ifndef TSGI_NATIVE_APP_H
#define TSGI_NATIVE_APP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TSGI_NATIVE_APP_ABI 4

/* Request record indexes (REC_* in src/native.ts, kRec* in native/loop_data.h). */
#define TSGI_REC_VERSION_MINOR 0
#define TSGI_REC_METHOD_END 1
#define TSGI_REC_TARGET_END 2
#define TSGI_REC_QUERY_START 3
#define TSGI_REC_PATH_END 4
#define TSGI_REC_ADDR_END 5
#define TSGI_REC_REMOTE_PORT 6
#define TSGI_REC_LOCAL_PORT 7
#define TSGI_REC_LISTENER 8
#define TSGI_REC_FLAGS 9
#define TSGI_REC_HEADER_COUNT 10
#define TSGI_REC_TRAILERS_START 11
#define TSGI_REC_OVERRIDE_COUNT 12 /* entries after the headers that set environ keys outright */
#define TSGI_REC_HEADERS 16 /* then (id, keyEnd, valueEnd) per header; id > 0: known_key(id), else the key text */
/* Record flags (FLAG_* in src/native.ts; bit 1 is unused: keep-alive is the core's
 * decision when the response starts). */
#define TSGI_FLAG_HEAD 2 /* REQUEST_METHOD is HEAD (information only: the core sends no body) */
#define TSGI_FLAG_CHUNKED_BODY 4

/* One request in flight, owned by the core. */
typedef struct tsgi_exchange tsgi_exchange;

/*
 * The request, exactly as the JavaScript gateway gets it: `head` is the latin-1 head
 * string and `record` the request record over it (layout: REC_* in src/native.ts,
 * kRec* in native/loop_data.h; header keys of known headers come from
 * tsgi_core_ops.known_key).
 */
typedef struct tsgi_request_view {
  uint32_t abi;            /* TSGI_NATIVE_APP_ABI */
  uint32_t size;           /* sizeof(tsgi_request_view) */
  const char* head;
  size_t head_len;
  const int32_t* record;
  /* The body in memory (NULL and 0 when empty or spooled). */
  const char* body;
  size_t body_len;
  /* A body larger than the memory threshold: an unlinked temporary file, positioned at
   * its start, that the application now owns and must close. -1 otherwise. */
  int body_fd;
  uint64_t body_length;    /* bytes of body received, in memory or in the file */
} tsgi_request_view;

/* Result codes of start / end / send_file (RESULT_* in src/native.ts). */
#define TSGI_OK 0
#define TSGI_SHORT 1      /* fewer bytes than the declared Content-Length: connection closed */
#define TSGI_TRUNCATED 2  /* more bytes than the declared Content-Length: the excess dropped */
#define TSGI_GONE (-1)    /* the connection is closed; the exchange is over */

/* Flags of start (RESP_* in src/native.ts). */
#define TSGI_RESP_HAS_DATE 1    /* the application sent Date itself */
#define TSGI_RESP_CLOSE 2       /* close the connection after this response */
#define TSGI_RESP_SET_LENGTH 4  /* content_length is the body's size as the application's
                                   side measured it (no Content-Length among its headers):
                                   the core writes the Content-Length header */

/* What core->note tells the access log and the stats about an exchange. */
#define TSGI_NOTE_HARAKIRI 2    /* harakiri ended the request (no value) */
#define TSGI_NOTE_VALUE 16      /* + i: the environ's value of core->log_key(i) */

/* Log levels of core->log. */
#define TSGI_LOG_ERROR 0
#define TSGI_LOG_WARNING 1
#define TSGI_LOG_INFO 2

/* Called by the core when it no longer needs the bytes given to write (written, copied, or
 * dropped); on the loop thread, possibly from inside the write call itself. */
typedef void (*tsgi_release_fn)(void* ctx);

/* What the core offers the application. Every function is called on the loop thread. */
typedef struct tsgi_core_ops {
  uint32_t abi;            /* TSGI_NATIVE_APP_ABI */
  uint32_t size;           /* sizeof(tsgi_core_ops) */
  /*
   * Starts the response. head: the status ("200 OK") and the application's header lines,
   * each line ending in CRLF, without the blank line ("200 OK\r\nContent-Type: x\r\n");
   * status is its code, the one the core goes by (HEAD, 1xx, 204 and 304 responses carry
   * no body: writes and send_file queue nothing). The core adds Date (unless
   * TSGI_RESP_HAS_DATE), framing (Content-Length: with TSGI_RESP_SET_LENGTH, else chunked
   * when content_length is -1 on HTTP/1.1, close-delimited on HTTP/1.0) and Connection.
   * content_length >= 0 is the body's length: never more is sent, a shorter body closes
   * the connection. The head goes out with the first write, send_file or end.
   */
  int (*start)(tsgi_exchange* ex, int status, const char* head, size_t head_len,
               int64_t content_length, int32_t flags);
  /* Queues len bytes. release(ctx) is called once the core is done with them (it may copy
   * small spans and release at once). Returns 1: write more; 0: wait for on_drain;
   * -1: gone (release was still called). */
  int (*write)(tsgi_exchange* ex, const char* data, size_t len, tsgi_release_fn release,
               void* ctx);
  /* Sends length bytes of fd from offset after what is queued (sendfile(2) where the file
   * allows it). on_drain is called when it was sent (on a response without a body nothing
   * is sent, and on_drain comes on the next loop turn); the application keeps fd open
   * until then. */
  int (*send_file)(tsgi_exchange* ex, int fd, int64_t offset, int64_t length);
  /* Completes the response. */
  int (*end)(tsgi_exchange* ex);
  /* Ends the exchange without completing its response: before the response started, the
   * connection is closed now; after, what was already given to write/send_file still goes
   * out, then the connection closes (no last chunk: the client sees an incomplete
   * response, as PEP 3333 asks for an error after the headers were sent). */
  void (*abort)(tsgi_exchange* ex);
  /* The application's own pointer for this exchange, given back to on_drain/on_abort. */
  void (*set_user)(tsgi_exchange* ex, void* user);
  /* The environ key of known header id (e.g. "HTTP_HOST"); NULL past the last id. */
  const char* (*known_key)(uint32_t id);
  /* A line for the error log (no trailing newline needed). */
  void (*log)(int level, const char* msg, size_t len);
  /* What the access log and the stats take from the application about ex (TSGI_NOTE_*),
   * before its end or abort; ignored when nothing records it. */
  void (*note)(tsgi_exchange* ex, int what, const char* value, size_t len);
  /* The environ keys whose values the access log takes as the application's environ has
   * them when the request ends: REMOTE_ADDR (the client a trusted proxy named), then the
   * keys besides request headers the format names (REMOTE_USER for %(u)s, the KEY of
   * %({KEY}e)s). Key i, NULL past the last; none at all when there is no access log. */
  const char* (*log_key)(uint32_t i);
  /* Inside on_abort only: keeps ex's record (what the access log and the stats take) open
   * while the application runs on, and returns the handle that stands for it from then on
   * (NULL: nothing to keep). On that handle note records as before, start records the
   * status only and returns TSGI_GONE (nothing is sent), write and send_file return
   * TSGI_GONE, and end or abort, which the application must call exactly once, finish the
   * record: it is counted and goes to the access log then. */
  tsgi_exchange* (*keep)(tsgi_exchange* ex);
} tsgi_core_ops;

/* A native application. The application fills everything but `core`, which the core sets
 * before the first request. */
typedef struct tsgi_native_app {
  uint32_t abi;            /* TSGI_NATIVE_APP_ABI */
  uint32_t size;           /* sizeof(tsgi_native_app) */
  void* data;              /* the application's own state */
  const tsgi_core_ops* core;
  void (*on_request)(struct tsgi_native_app* app, tsgi_exchange* ex,
                     const tsgi_request_view* view);
  /* The output of ex fell below the low-water mark after write returned 0, or a send_file
   * finished. */
  void (*on_drain)(struct tsgi_native_app* app, tsgi_exchange* ex, void* user);
  /* ex is gone (see the lifetime above). */
  void (*on_abort)(struct tsgi_native_app* app, tsgi_exchange* ex, void* user);
} tsgi_native_app;

#ifdef __cplusplus
}
#endif

#endif /* TSGI_NATIVE_APP_H */
