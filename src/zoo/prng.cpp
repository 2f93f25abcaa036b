// The zoo's float generator, kept in a file of its own because it is compiled with
// floating-point contraction off: offset + scale * u must round twice, as the plain x86-64
// build computes it, and never become one fused multiply-add, or the bytes would depend on
// the CPU. splitmix64 is a counter (state += a constant) followed by a mix, so draws are
// independent and vectorise; on x86-64 the function is also built for AVX2 and AVX-512 and the
// widest the CPU has is picked on first use (a plain function pointer rather than an ifunc,
// whose resolver runs before sanitizer runtimes are ready), giving the same bytes faster.
#include "zoo/prng.h"

#include <cstring>
#include <vector>

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
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

__attribute__((always_inline)) inline void draw(uint64_t& state, float offset, float scale, size_t n, char* out) {
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

void draw_default(uint64_t& state, float offset, float scale, size_t n, char* out) {
  draw(state, offset, scale, n, out);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("avx2"))) void draw_avx2(uint64_t& state, float offset, float scale, size_t n, char* out) {
  draw(state, offset, scale, n, out);
}

// AVX-512DQ has the 64-bit multiply (vpmullq) that splitmix64's mix needs.
#if defined(__clang__)
#define DEEPEN_AVX512 "avx512f,avx512dq,avx512vl,avx2"
#else
#define DEEPEN_AVX512 "avx512f,avx512dq,avx512vl,avx2,prefer-vector-width=512"
#endif
__attribute__((target(DEEPEN_AVX512))) void draw_avx512(uint64_t& state, float offset, float scale, size_t n,
                                                        char* out) {
  draw(state, offset, scale, n, out);
}

// The plain implementation first, then those the CPU runs, widest last.
std::vector<UniformFloatsFn> implementations() {
  __builtin_cpu_init();
  std::vector<UniformFloatsFn> fns = {draw_default};
  if (__builtin_cpu_supports("avx2")) fns.push_back(draw_avx2);
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
    fns.push_back(draw_avx512);
  return fns;
}
#else
std::vector<UniformFloatsFn> implementations() { return {draw_default}; }
#endif

}  // namespace

std::vector<UniformFloatsFn> uniform_floats_implementations() { return implementations(); }

void uniform_floats(uint64_t& state, float offset, float scale, size_t n, char* out) {
  static const UniformFloatsFn fn = implementations().back();
  fn(state, offset, scale, n, out);
}

}  // namespace deepen::zoo
