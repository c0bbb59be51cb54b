// The request record; the layout is described in request_record.h.
#include "request_record.h"

#include <cstring>

#include "http_chars.h"
#include "known_headers.h"

namespace tsgi {

bool is_head_method(const RequestHead& h) {
  return h.method.len == 4 && std::memcmp(h.method.data, "HEAD", 4) == 0;
}

namespace {

// Where the path of a target starts: origin-form at its '/', absolute-form after the
// scheme and authority (the parser accepts only those, "*" with OPTIONS, and
// http(s)://authority targets).
size_t path_start(const char* tp, size_t tl) {
  size_t ps = 0;
  if (tp && tl >= 3 && tp[0] != '/') {
    const char* sep = static_cast<const char*>(memmem(tp, tl, "://", 3));
    if (sep) {
      ps = static_cast<size_t>(sep - tp) + 3;
      while (ps < tl && tp[ps] != '/' && tp[ps] != '?') ps++;
    }
  }
  return ps;
}

// Percent-decodes src[0, n) into out (room for n); returns the bytes written. An invalid
// escape is kept as it is.
size_t percent_decode(const char* src, size_t n, char* out) {
  size_t w = 0;
  for (size_t i = 0; i < n; i++) {
    char c = src[i];
    if (c == '%' && i + 2 < n) {
      int hi = hex_value(static_cast<unsigned char>(src[i + 1]));
      int lo = hex_value(static_cast<unsigned char>(src[i + 2]));
      if (hi >= 0 && lo >= 0) {
        out[w++] = static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out[w++] = c;
  }
  return w;
}

// The override entries of ctx after the header entries at hp; returns their count.
int32_t append_overrides(const RecordContext& ctx, ByteBuffer& t, int32_t* hp) {
  int32_t n = 0;
  const std::vector<EnvironEntry>* lists[2] = {ctx.connection_overrides, ctx.request_overrides};
  for (const std::vector<EnvironEntry>* list : lists) {
    if (list == nullptr) continue;
    for (const EnvironEntry& e : *list) {
      if (static_cast<size_t>(n) == kMaxOverrides) return n;
      t.append(e.key.data(), e.key.size());
      hp[0] = 0;
      hp[1] = static_cast<int32_t>(t.size());
      t.append(e.value.data(), e.value.size());
      hp[2] = static_cast<int32_t>(t.size());
      hp += 3;
      n++;
    }
  }
  return n;
}

// The record sized for h (its fixed slots zeroed) and the text begun with the method:
// what both builders start with. Returns the record's slots.
int32_t* begin_record(const RequestHead& h, ByteBuffer* text, std::vector<int32_t>* record) {
  size_t need = kRecordHeaders + 3 * (h.header_count + kMaxOverrides);
  if (record->size() < need) record->resize(need);
  int32_t* rec = record->data();
  std::memset(rec, 0, kRecordHeaders * sizeof(int32_t));
  text->clear();
  text->append(h.method.data, h.method.len);
  rec[kRecMethodEnd] = static_cast<int32_t>(text->size());
  return rec;
}

}  // namespace

void build_request_record(const RequestHead& h, const RecordContext& ctx, ByteBuffer* text,
                          std::vector<int32_t>* record) {
  int32_t* rec = begin_record(h, text, record);
  ByteBuffer& t = *text;
  t.append(h.target.data, h.target.len);
  int32_t target_start = rec[kRecMethodEnd];
  rec[kRecTargetEnd] = static_cast<int32_t>(t.size());
  const char* tp = h.target.data;
  size_t tl = h.target.len;
  size_t ps = path_start(tp, tl);
  const char* q = tl > ps ? static_cast<const char*>(std::memchr(tp + ps, '?', tl - ps)) : nullptr;
  size_t pe = q ? static_cast<size_t>(q - tp) : tl;
  rec[kRecQueryStart] = q ? target_start + static_cast<int32_t>(pe + 1) : -1;
  char* out = t.reserve(pe - ps + 1);  // + 1: the "/" of an absolute-form target with an empty path
  size_t n = percent_decode(tp + ps, pe - ps, out);
  if (n == 0 && ps != 0) out[n++] = '/';  // http://host or http://host?q: the path is "/"
  t.commit(n);
  rec[kRecPathEnd] = static_cast<int32_t>(t.size());
  t.append(ctx.remote_addr, ctx.remote_addr_len);
  rec[kRecAddrEnd] = static_cast<int32_t>(t.size());
  rec[kRecVersionMinor] = h.version_minor;
  rec[kRecRemotePort] = ctx.remote_port;
  rec[kRecLocalPort] = ctx.local_port;
  rec[kRecListener] = ctx.listener;
  int32_t flags = 0;
  if (is_head_method(h)) flags |= kFlagHead;
  if (h.body_kind == BodyKind::Chunked) flags |= kFlagChunkedBody;
  if (ctx.tls) flags |= kFlagTls;
  rec[kRecFlags] = flags;
  int32_t count = 0;
  int32_t* hp = rec + kRecordHeaders;
  for (size_t i = 0; i < h.header_count; i++) {
    const HeaderField& f = h.headers[i];
    if (f.known) {
      hp[0] = f.known;
      hp[1] = static_cast<int32_t>(t.size());
    } else {
      if (header_name_has_underscore(f.name.data, f.name.len)) continue;
      char* k = t.reserve(environ_key_size(f.name.len));
      const size_t kl = environ_key_for(f.name.data, f.name.len, k);
      t.commit(kl);
      hp[0] = ctx.name_codes ? -ctx.name_codes->code(k, kl) : 0;
      hp[1] = static_cast<int32_t>(t.size());
    }
    t.append(f.value.data, f.value.len);
    hp[2] = static_cast<int32_t>(t.size());
    hp += 3;
    count++;
  }
  rec[kRecHeaderCount] = count;
  rec[kRecOverrideCount] = append_overrides(ctx, t, hp);
  rec[kRecTrailersStart] = static_cast<int32_t>(t.size());
}

void build_uwsgi_request_record(const UwsgiRequest& u, const RecordContext& ctx, ByteBuffer* text,
                                std::vector<int32_t>* record) {
  const RequestHead& h = u.head;
  int32_t* rec = begin_record(h, text, record);
  ByteBuffer& t = *text;
  const int32_t target_start = rec[kRecMethodEnd];
  t.append(h.target.data, h.target.len);
  if (!u.has_request_uri && u.query_string.len > 0) {
    t.append('?');
    t.append(u.query_string.data, u.query_string.len);
  }
  rec[kRecTargetEnd] = static_cast<int32_t>(t.size());
  const size_t tl = t.size() - static_cast<size_t>(target_start);
  const char* q = static_cast<const char*>(std::memchr(t.data() + target_start, '?', tl));
  const size_t pe = q ? static_cast<size_t>(q - (t.data() + target_start)) : tl;
  rec[kRecQueryStart] = q ? target_start + static_cast<int32_t>(pe + 1) : -1;
  if (u.has_path_info) {
    t.append(u.path_info.data, u.path_info.len);
  } else {
    char* out = t.reserve(pe);  // may move the text: the target is read after
    t.commit(percent_decode(t.data() + target_start, pe, out));
  }
  rec[kRecPathEnd] = static_cast<int32_t>(t.size());
  if (u.remote_addr.len > 0) {
    t.append(u.remote_addr.data, u.remote_addr.len);
    rec[kRecRemotePort] = u.remote_port;
  } else {
    t.append(ctx.remote_addr, ctx.remote_addr_len);
    rec[kRecRemotePort] = ctx.remote_port;
  }
  rec[kRecAddrEnd] = static_cast<int32_t>(t.size());
  rec[kRecVersionMinor] = h.version_minor;
  rec[kRecLocalPort] = ctx.local_port;
  rec[kRecListener] = ctx.listener;
  rec[kRecFlags] = kFlagUwsgi | (is_head_method(h) ? kFlagHead : 0);
  int32_t* hp = rec + kRecordHeaders;
  for (size_t i = 0; i < h.header_count; i++) {
    const HeaderField& f = h.headers[i];
    hp[0] = f.known;
    if (!f.known) t.append(f.name.data, f.name.len);  // already an environ key
    hp[1] = static_cast<int32_t>(t.size());
    t.append(f.value.data, f.value.len);
    hp[2] = static_cast<int32_t>(t.size());
    hp += 3;
  }
  rec[kRecHeaderCount] = static_cast<int32_t>(h.header_count);
  rec[kRecOverrideCount] = append_overrides(ctx, t, hp);
  rec[kRecTrailersStart] = static_cast<int32_t>(t.size());
}

}  // namespace tsgi
