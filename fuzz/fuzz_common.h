// fuzz/fuzz_common.h: what every fuzz target shares. A target may end in a result or in a
// deepen::Error (a message for the user); any other exception, a crash, a sanitizer report or a
// broken invariant (checked with FUZZ_CHECK) is a finding.
#pragma once

#include <deepen/error.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#define FUZZ_CHECK(cond)                                                                  \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "FUZZ_CHECK failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)

namespace deepen::fuzz {

inline std::string bytes_of(const uint8_t* data, size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// Runs body; a deepen::Error is an accepted answer and must say something.
template <class Body>
int run_one(Body&& body) {
  try {
    body();
  } catch (const deepen::Error& e) {
    FUZZ_CHECK(e.what()[0] != '\0');
  }
  return 0;
}

}  // namespace deepen::fuzz
