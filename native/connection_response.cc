// A connection's response methods (respond, write_head, write, end, send_file, abort):
// the head and the server's own headers, the body rule (HEAD, 1xx/204/304, the declared
// Content-Length) and chunk framing, into the output queue. Part of Connection
// (connection.h); finish_response, the state machine's step back to idle, is in
// connection.cc.
#include "connection.h"
#include "server.h"

namespace tsgi {

// ---- responses ------------------------------------------------------------------------

// The body rule, once: of len bytes offered, how many go out. None for HEAD, 1xx/204/304
// or after a short file; never more than the declared Content-Length left (*clamped
// says that cut the offer).
int64_t Connection::body_allowance(int64_t len, bool* clamped) {
  *clamped = false;
  if (busy().resp.no_body || busy().resp.short_file || len <= 0) return 0;
  int64_t take = len;
  if (busy().resp.remaining >= 0) {
    if (take > busy().resp.remaining) {
      take = busy().resp.remaining;
      *clamped = true;
    }
    busy().resp.remaining -= take;
  }
  return take;
}

// Chunk framing around take bytes of a streamed body, when the response is chunked.
void Connection::chunk_open(int64_t take) {
  if (busy().resp.chunked) append_chunk_header(busy().out.stage(), static_cast<uint64_t>(take));
}

void Connection::chunk_close() {
  if (busy().resp.chunked) append_chunk_end(busy().out.stage());
}

void Connection::queue_body(const Bytes& b, int64_t take) {
  if (take <= 0) return;
  chunk_open(take);
  busy().out.push(b, static_cast<size_t>(take));
  chunk_close();
}

// The head and the server's headers into the stage; what the response may carry
// (resp_): the one place that decides a body's absence, its framing and keep-alive.
int Connection::start_response(int status, const Bytes& head, int64_t content_length, int32_t flags,
                               bool streamed, int64_t body_length) {
  ByteBuffer& st = busy().out.stage();
  append_status_prefix(st);
  Bytes h = head;
  h.hold = nullptr;  // always copied: the server's headers follow it in the stage
  busy().out.push(h, h.len);
  const bool forbids_body = status_forbids_body(status);
  busy().resp.no_body = busy().req.head_method || forbids_body;
  uint32_t max_ka = server->limits.max_keep_alive_requests;
  // After the client's FIN with nothing more buffered, this response is the last one.
  bool keep = busy().req.keep_alive && !(flags & kRespClose) && !server->closing && !st_.no_more_requests &&
              (max_ka == 0 || served_ + 1 < max_ka) && !(st_.peer_eof && !has_input());
  HeadFraming f;
  if (!(flags & kRespHasDate)) {
    f.date_line = ld->date.line();
    f.date_line_len = ld->date.line_len();
  }
  busy().resp.chunked = false;
  busy().resp.remaining = -1;
  int result = kResultOk;
  if (content_length >= 0) {
    busy().resp.remaining = busy().resp.no_body ? 0 : content_length;
    // The server measured it (a file's size): its header, as for a body given whole.
    if ((flags & kRespSetLength) && !forbids_body) f.content_length = content_length;
    if (!streamed && !busy().resp.no_body) {
      if (body_length < content_length) {
        result = kResultShort;
        keep = false;
      } else if (body_length > content_length) {
        result = kResultTruncated;
      }
    }
  } else if (streamed) {
    if (!busy().resp.no_body) {
      if (busy().req.minor >= 1) busy().resp.chunked = true;
      else keep = false;  // close-delimited
    }
  } else if (!forbids_body) {
    if (!busy().req.head_method || body_length > 0) f.content_length = body_length;
  }
  f.chunked = busy().resp.chunked;
  f.connection = !keep ? ConnectionToken::Close
                       : (busy().req.minor == 0 ? ConnectionToken::KeepAlive : ConnectionToken::None);
  busy().resp.keep_alive = keep;
  append_head_end(st, f);
  return result;
}

int Connection::respond(int status, const Bytes& head, const Bytes* parts, size_t count,
                        int64_t content_length, int32_t flags) {
  if (st_.closing || !st_.in_flight || busy().resp.started) return kResultGone;
  // Content-Length goes in the head: the total of the parts.
  int64_t total = 0;
  for (size_t i = 0; i < count; i++) total += static_cast<int64_t>(parts[i].len);
  int result = start_response(status, head, content_length, flags, false, total);
  bool clamped;
  for (size_t i = 0; i < count; i++) {
    int64_t take = body_allowance(static_cast<int64_t>(parts[i].len), &clamped);
    if (take > 0) busy().out.push(parts[i], static_cast<size_t>(take));
  }
  finish_response();
  return result;
}

int Connection::write_head(int status, const Bytes& head, int64_t content_length, int32_t flags) {
  if (st_.closing || !st_.in_flight || busy().resp.started) return kResultGone;
  int r = start_response(status, head, content_length, flags, true, 0);
  busy().resp.started = true;
  return r;
}

int Connection::write(const Bytes& chunk) {
  if (st_.closing || !st_.in_flight || !busy().resp.started) return -1;
  bool clamped;
  queue_body(chunk, body_allowance(static_cast<int64_t>(chunk.len), &clamped));
  maybe_flush();
  if (st_.closing) return -1;
  busy().out.sync();
  if (busy().out.queued() > kHighWater) {
    st_.need_drain = true;
    return 0;
  }
  return 1;
}

int Connection::end(const Bytes& chunk) {
  if (st_.closing || !st_.in_flight || !busy().resp.started) return kResultGone;
  if (busy().resp.short_file) {
    // A sendFile of this response ended early: the response cannot be completed and
    // nothing more of it is sent; the connection closes.
    busy().resp.keep_alive = false;
    finish_response();
    return kResultShort;
  }
  int result = kResultOk;
  bool clamped;
  queue_body(chunk, body_allowance(static_cast<int64_t>(chunk.len), &clamped));
  if (clamped) result = kResultTruncated;
  if (busy().resp.chunked) append_last_chunk(busy().out.stage());
  if (busy().resp.remaining > 0) {
    result = kResultShort;
    busy().resp.keep_alive = false;
  }
  finish_response();
  return result;
}

int Connection::send_file(int fd, int64_t offset, int64_t length) {
  if (st_.closing || !st_.in_flight || !busy().resp.started) return kResultGone;
  bool clamped;
  int64_t take = body_allowance(length, &clamped);
  if (take > 0) {
    chunk_open(take);
    busy().out.push_file(fd, offset, static_cast<size_t>(take), served_);
    chunk_close();
  } else {
    // Nothing to send (HEAD, a status without a body, length 0, after a short file):
    // "done" right away, on the next loop turn.
    ld->defer(DeferredKind::Drain, id);
  }
  maybe_flush();
  return clamped ? kResultTruncated : kResultOk;
}

void Connection::abort() {
  if (st_.closing) return;
  st_.aborted_by_js = true;
  close_now();
}

void Connection::cut() {
  if (st_.closing || !st_.in_flight || !busy().resp.started) return abort();
  busy().resp.keep_alive = false;
  finish_response();
}

}  // namespace tsgi
