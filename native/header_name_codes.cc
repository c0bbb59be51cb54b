#include "header_name_codes.h"

#include <cstring>

namespace tsgi {

int32_t HeaderNameCodes::code(const char* key, size_t len) {
  if (len == 0 || len > kMaxKeyLength) return 0;
  uint32_t h = 2166136261u;  // FNV-1a
  for (size_t i = 0; i < len; i++) h = (h ^ static_cast<unsigned char>(key[i])) * 16777619u;
  if (slots_.empty()) slots_.assign(kSlots, 0);
  for (size_t i = h & (kSlots - 1);; i = (i + 1) & (kSlots - 1)) {
    const uint16_t c = slots_[i];
    if (c == 0) {
      if (keys_.size() >= kMaxKeys) return 0;
      keys_.emplace_back(key, len);
      slots_[i] = static_cast<uint16_t>(keys_.size());
      return static_cast<int32_t>(keys_.size());
    }
    const std::string& k = keys_[c - 1];
    if (k.size() == len && std::memcmp(k.data(), key, len) == 0) return c;
  }
}

}  // namespace tsgi
