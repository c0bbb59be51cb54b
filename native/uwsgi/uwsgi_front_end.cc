// A uwsgi listener's requests; see uwsgi_front_end.h.
#include "uwsgi_front_end.h"

#include "../environ_entries.h"

namespace tsgi {

UwsgiStatus UwsgiFrontEnd::parse(const char* data, size_t len, const UwsgiLimits& limits, HeaderField* headers,
                                 size_t capacity, size_t* used) {
  req_.head.headers = headers;
  req_.head.header_capacity = capacity;
  return parse_uwsgi_packet(data, len, limits, &req_, used);
}

void UwsgiFrontEnd::build_record(RecordContext ctx, ByteBuffer* text, std::vector<int32_t>* record) {
  entries_.clear();
  uwsgi_environ_entries(req_, &entries_);
  ctx.request_overrides = &entries_;
  build_uwsgi_request_record(req_, ctx, text, record);
}

}  // namespace tsgi
