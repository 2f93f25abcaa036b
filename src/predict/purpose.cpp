#include <deepen/error.h>
#include <deepen/predict.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

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

}  // namespace deepen
