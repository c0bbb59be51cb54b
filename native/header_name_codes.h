// Codes for the environ keys of header names the core has no id for (known_headers.h).
// The request record carries a code as a negative id, so the application side tells a
// sequence of such names seen before by comparing integers instead of the key text.
// Plain C++; unit-tested in native/unit/request_record_test.cc.
//
// The same key bytes always get the same code, for the life of the table (one per loop).
// The table holds at most kMaxKeys keys of at most kMaxKeyLength bytes and gives 0 (no
// code) for any other key, so a client sending endless new names costs bounded memory;
// such names are still delivered, with id 0, as before codes existed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tsgi {

class HeaderNameCodes {
 public:
  static constexpr size_t kMaxKeys = 256;
  static constexpr size_t kMaxKeyLength = 64;

  // The code of key[0, len): 1..kMaxKeys, or 0 (too long, empty, or the table is full).
  int32_t code(const char* key, size_t len);
  size_t size() const { return keys_.size(); }

 private:
  static constexpr size_t kSlots = 2 * kMaxKeys;  // a power of two: always a free slot
  std::vector<std::string> keys_;  // by code - 1
  std::vector<uint16_t> slots_;    // codes by hash, open addressing; 0: free (made on first use)
};

}  // namespace tsgi
