// Spare buffers of one loop: the memory a connection needs only while it reads a request
// or writes a response (the head string, the record, the output stage, a body, a partial
// head) is taken from here when needed and given back when the connection goes idle, so
// that memory follows the number of busy connections rather than of open ones. Bounded:
// at most kSlots buffers of at most kMaxKept bytes each are kept; others are freed.
// Plain C++: T is ByteBuffer or std::vector, anything with swap() and a capacity.
#pragma once

#include <cstddef>
#include <vector>

#include "framing.h"

namespace tsgi {

inline size_t spare_bytes(const ByteBuffer& b) { return b.capacity(); }
template <class E>
size_t spare_bytes(const std::vector<E>& v) { return v.capacity() * sizeof(E); }

inline void spare_free(ByteBuffer& b) {
  b.clear();
  b.shrink_if_over(0);
}
template <class E>
void spare_free(std::vector<E>& v) { std::vector<E>().swap(v); }

// What a spare keeps: a ByteBuffer is emptied; a vector keeps its elements (a record is
// overwritten by its builder, and need not be filled again).
inline void spare_reset(ByteBuffer& b) { b.clear(); }
template <class E>
void spare_reset(std::vector<E>&) {}

template <class T>
class SparePool {
 public:
  static constexpr size_t kSlots = 256;
  static constexpr size_t kMaxKept = 16 * 1024;

  SparePool() = default;
  SparePool(const SparePool&) = delete;
  SparePool& operator=(const SparePool&) = delete;

  // b has no memory of its own: it gets a spare one, if any (its contents are garbage:
  // the caller clears or overwrites them).
  void take(T& b) {
    if (spare_bytes(b) == 0 && count_ > 0) b.swap(slots_[--count_]);
  }
  // b's memory comes back here (or is freed): b is left empty, without memory.
  void give(T& b) {
    if (spare_bytes(b) == 0) return;
    if (count_ < kSlots && spare_bytes(b) <= kMaxKept) {
      spare_reset(b);
      b.swap(slots_[count_++]);  // the slot had no memory: b has none now
      return;
    }
    spare_free(b);
  }
  size_t count() const { return count_; }

 private:
  T slots_[kSlots];
  size_t count_ = 0;
};

}  // namespace tsgi
