// A uwsgi request packet (modifier 0) carrying vars, as nginx's uwsgi_pass sends it:
// the 4-byte header (modifier1, little-endian block size, modifier2), then each key and
// value with its little-endian 16-bit length. For the unit tests.
#pragma once

#include <string>
#include <utility>
#include <vector>

inline std::string uwsgi_packet(const std::vector<std::pair<std::string, std::string>>& vars) {
  std::string block;
  for (const auto& kv : vars) {
    for (const std::string* s : {&kv.first, &kv.second}) {
      block += static_cast<char>(s->size() & 0xFF);
      block += static_cast<char>(s->size() >> 8);
      block += *s;
    }
  }
  std::string p(1, '\0');
  p += static_cast<char>(block.size() & 0xFF);
  p += static_cast<char>(block.size() >> 8);
  p += '\0';
  return p + block;
}
