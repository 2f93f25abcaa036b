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
  return t == "none" || t == "log" || t == "log-per-mac" || t == "log-per-flop" || t == "log-per-byte";
}

double booster_target(const std::string& transform, double value, const KernelWork& work) {
  if (transform == "none") return value;
  double unit = work_unit(transform, work);
  if (!(unit > 0))
    throw Error(fmt::format("transform '{}' needs a kernel with positive work; this kernel has none", transform));
  return std::log(value / unit);
}

double from_booster(const std::string& transform, double output, const KernelWork& work) {
  if (transform == "none") return output;
  return std::exp(output) * work_unit(transform, work);
}

}  // namespace deepen
