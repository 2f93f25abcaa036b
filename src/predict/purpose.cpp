#include <deepen/error.h>
#include <deepen/predict.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace deepen {

Purpose parse_purpose(const std::string& text) {
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower == "latency") return Purpose::Latency;
  if (lower == "power") return Purpose::Power;
  if (lower == "energy") return Purpose::Energy;
  throw Error(fmt::format("unknown purpose '{}': use latency, power or energy", text));
}

std::string purpose_name(Purpose p) {
  switch (p) {
    case Purpose::Latency: return "latency";
    case Purpose::Power: return "power";
    case Purpose::Energy: return "energy";
  }
  return "energy";
}

std::string purpose_field(Purpose p) {
  switch (p) {
    case Purpose::Latency: return "latency_ms";
    case Purpose::Power: return "power_mw";
    case Purpose::Energy: return "energy_mj";
  }
  return "energy_mj";
}

std::string purpose_unit(Purpose p) {
  switch (p) {
    case Purpose::Latency: return "ms";
    case Purpose::Power: return "mW";
    case Purpose::Energy: return "mJ";
  }
  return "mJ";
}

namespace {

double work_unit(const std::string& transform, const KernelWork& work) {
  if (transform == "log-per-mac") return work.macs;
  if (transform == "log-per-flop") return work.flops;
  if (transform == "log-per-byte") return work.bytes;
  return 1.0;
}

}  // namespace

bool valid_transform(const std::string& t) {
  return t == "none" || t == "log" || t == "log-per-mac" || t == "log-per-flop" || t == "log-per-byte" ||
         t == "log-ratio";
}

double booster_target(const std::string& transform, double value, const KernelWork& work) {
  if (transform == "log-ratio") throw Error("transform 'log-ratio' needs its base coefficients (a ScorerSpec)");
  if (transform == "none") return value;
  double unit = work_unit(transform, work);
  if (!(unit > 0))
    throw Error(fmt::format("transform '{}' needs a kernel with positive work; this kernel has none", transform));
  return std::log(value / unit);
}

double from_booster(const std::string& transform, double output, const KernelWork& work) {
  if (transform == "log-ratio") throw Error("transform 'log-ratio' needs its base coefficients (a ScorerSpec)");
  if (transform == "none") return output;
  return std::exp(output) * work_unit(transform, work);
}

namespace {

// log-ratio: a kernel's value under the spec's base model (never zero: per_kernel > 0).
double base_of(const ScorerSpec& spec, const KernelWork& work) {
  return spec.base_per_gflop * work.flops / 1e9 + spec.base_per_mb * work.bytes / 1e6 + spec.base_per_kernel;
}

}  // namespace

double booster_target(const ScorerSpec& spec, double value, const KernelWork& work) {
  if (spec.transform != "log-ratio") return booster_target(spec.transform, value, work);
  double base = base_of(spec, work);
  if (!(base > 0)) throw Error("transform 'log-ratio' needs a positive base; this kernel's is not");
  return std::log(value / base);
}

double from_booster(const ScorerSpec& spec, double output, const KernelWork& work) {
  if (spec.transform != "log-ratio") return from_booster(spec.transform, output, work);
  return std::exp(output) * base_of(spec, work);
}

const char* source_name(Source s) {
  switch (s) {
    case Source::Trained: return "trained";
    case Source::Fallback: return "fallback";
    case Source::ZeroCost: return "zero-cost";
    case Source::Uncovered: return "uncovered";
  }
  return "uncovered";
}

}  // namespace deepen
