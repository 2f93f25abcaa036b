// The zoo's float generator, kept in a file of its own because it is compiled with
// floating-point contraction off: offset + scale * u must round twice, as the plain x86-64
// build computes it, and never become one fused multiply-add, or the bytes would depend on
// the CPU. splitmix64 is a counter (state += a constant) followed by a mix, so draws are
// independent and vectorise; on x86-64 with GCC the function is also built for AVX2 and
// AVX-512 (chosen at load time), giving the same bytes faster.
#include "zoo/prng.h"

#include <cstring>

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__gnu_linux__)
#define DEEPEN_VECTOR_CLONES __attribute__((target_clones("default", "arch=x86-64-v3", "arch=x86-64-v4")))
#else
#define DEEPEN_VECTOR_CLONES
#endif

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the zoo writes weights as little-endian floats");

namespace deepen::zoo {
namespace {

inline float to_float(uint32_t bits, float offset, float scale) {
  uint32_t u = (bits >> 9) | 0x3F800000u;  // [1, 2)
  float f;
  std::memcpy(&f, &u, 4);
  return offset + scale * (f - 1.0f);
}

constexpr size_t kBlock = 64;  // draws per block: mixed in one loop, converted in another

// Draws first + 1 ... first + m (m <= kBlock) of the splitmix64 sequence from `base` as 2m
// floats. Called with m = kBlock for whole blocks, so that the copies have a constant size.
__attribute__((always_inline)) inline void block(uint64_t base, size_t first, size_t m, float offset, float scale,
                                                 char* out) {
  uint64_t draws[kBlock];
  for (size_t k = 0; k < m; ++k) {
    uint64_t z = base + (first + k + 1) * 0x9E3779B97F4A7C15ULL;  // splitmix64's state after first + k + 1 steps
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    draws[k] = z ^ (z >> 31);
  }
  uint32_t halves[2 * kBlock];
  std::memcpy(halves, draws, m * 8);  // little-endian: each draw's low half first
  float values[2 * kBlock];
  for (size_t j = 0; j < 2 * m; ++j) values[j] = to_float(halves[j], offset, scale);
  std::memcpy(out, values, m * 8);
}

}  // namespace

DEEPEN_VECTOR_CLONES
void uniform_floats(uint64_t& state, float offset, float scale, size_t n, char* out) {
  const uint64_t base = state;
  const size_t pairs = n / 2;
  size_t done = 0;
  for (; done + kBlock <= pairs; done += kBlock) block(base, done, kBlock, offset, scale, out + done * 8);
  if (done < pairs) block(base, done, pairs - done, offset, scale, out + done * 8);
  state = base + pairs * 0x9E3779B97F4A7C15ULL;
  if (n % 2) {
    float f = to_float(static_cast<uint32_t>(splitmix64(state)), offset, scale);
    std::memcpy(out + pairs * 8, &f, 4);
  }
}

}  // namespace deepen::zoo
