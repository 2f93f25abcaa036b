// Whether a kernel lies inside what a booster was trained on: trees return the leaf of the
// nearest training rows for any input beyond them, so an estimate out there is a guess.
#include <deepen/predict.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace deepen {
namespace {

// Bounds are stored as the shortest decimal that reads back as the float the booster saw; the
// tolerance absorbs what a hand-written or double-valued bound differs from that float.
constexpr double kRelativeTolerance = 1e-6;

bool beyond(double value, double bound, bool above) {
  if (std::isinf(bound)) return false;
  double tol = kRelativeTolerance * std::max(std::fabs(value), std::fabs(bound));
  return above ? value > bound + tol : value < bound - tol;
}

// Whole numbers in full, as the registry writes them (macs 1849688064, not 1.849688e+09);
// others as the shortest decimal of the float the booster sees.
std::string feature_text(double v) {
  if (std::fabs(v) < 1e15 && v == std::floor(v)) return fmt::format("{:.0f}", v);
  return fmt::format("{}", static_cast<float>(v));
}

}  // namespace

std::string outside_ranges(const float* features, const std::vector<FeatureRange>& ranges,
                           const std::vector<std::string>& feature_names) {
  std::string why;
  size_t n = std::min(ranges.size(), feature_names.size());
  for (size_t i = 0; i < n; ++i) {
    const float v = features[i];
    const FeatureRange& r = ranges[i];
    std::string item;
    if (std::isnan(v))
      item = fmt::format("{} nan not in [{}, {}]", feature_names[i], feature_text(r.min), feature_text(r.max));
    else if (beyond(v, r.max, true))
      item = fmt::format("{} {} > {}", feature_names[i], feature_text(v), feature_text(r.max));
    else if (beyond(v, r.min, false))
      item = fmt::format("{} {} < {}", feature_names[i], feature_text(v), feature_text(r.min));
    if (!item.empty()) why += (why.empty() ? "" : ", ") + item;
  }
  return why;
}

}  // namespace deepen
