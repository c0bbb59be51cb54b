// The checks of the plain-C++ unit tests (no framework): a failed check prints its
// place and what it saw, and is counted; main ends with `return checks_result(name);`.
#pragma once

#include <cstdio>
#include <string>

namespace tsgi::unit {

inline int failures = 0;

// 1 (and the count on stderr) if a check failed, else 0 and "all checks passed".
inline int checks_result(const char* name) {
  if (failures != 0) {
    std::fprintf(stderr, "%s: %d check(s) failed\n", name, failures);
    return 1;
  }
  std::printf("%s: all checks passed\n", name);
  return 0;
}

}  // namespace tsgi::unit

#define CHECK(cond)                                                                 \
  do {                                                                              \
    if (!(cond)) {                                                                  \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      tsgi::unit::failures++;                                                       \
    }                                                                               \
  } while (0)

#define CHECK_EQ(a, b)                                                                                  \
  do {                                                                                                  \
    std::string x_ = (a), y_ = (b);                                                                     \
    if (x_ != y_) {                                                                                     \
      std::fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a, x_.c_str(), \
                   y_.c_str());                                                                         \
      tsgi::unit::failures++;                                                                           \
    }                                                                                                   \
  } while (0)

#define CHECK_CONTAINS(text, part)                                                               \
  do {                                                                                           \
    std::string t_ = (text);                                                                     \
    if (t_.find(part) == std::string::npos) {                                                    \
      std::fprintf(stderr, "%s:%d: '%s' does not contain '%s'\n", __FILE__, __LINE__, t_.c_str(), \
                   part);                                                                        \
      tsgi::unit::failures++;                                                                    \
    }                                                                                            \
  } while (0)
