// zoo/prng.h: the zoo's own seeded generator (splitmix64), so that the same seed gives the
// same models and weights with every compiler and standard library.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace deepen::zoo {

inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// FNV-1a: a stable hash of a name, to give every weight tensor its own stream.
inline uint64_t stable_hash(const std::string& s) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001B3ULL;
  return h;
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() { return splitmix64(state_); }
  // Uniform in [0, 1) with 53 bits.
  double uniform() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
  // Uniform integer in [0, n).
  uint64_t below(uint64_t n) { return next() % n; }

 private:
  uint64_t state_;
};

// n floats offset + scale * u as little-endian bytes, u uniform in [0, 1) with 23 bits: each
// splitmix64 draw gives two (low half first); an odd last float takes the low half of a draw of
// its own. `state` continues, so a tensor may be drawn in pieces of an even number of floats.
// The same bytes on every machine (no fused multiply-add), drawn with vector instructions
// where the CPU has them.
void uniform_floats(uint64_t& state, float offset, float scale, size_t n, char* out);
// Every implementation of uniform_floats that this build has and this CPU runs, the plain one
// first; uniform_floats uses the last. For the tests, which check that they agree.
using UniformFloatsFn = void (*)(uint64_t& state, float offset, float scale, size_t n, char* out);
std::vector<UniformFloatsFn> uniform_floats_implementations();

}  // namespace deepen::zoo
