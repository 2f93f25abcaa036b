// Median and percentiles of repeated measurements.
#include <deepen/error.h>
#include <deepen/measure.h>

#include <algorithm>
#include <numeric>

namespace deepen {

double percentile(std::vector<double> values, double p) {
  if (values.empty()) throw Error("percentile of no values");
  std::sort(values.begin(), values.end());
  p = std::clamp(p, 0.0, 100.0);
  double rank = p / 100.0 * static_cast<double>(values.size() - 1);
  size_t lo = static_cast<size_t>(rank);
  size_t hi = std::min(lo + 1, values.size() - 1);
  double frac = rank - static_cast<double>(lo);
  return values[lo] + (values[hi] - values[lo]) * frac;
}

Spread spread_of(const std::vector<double>& values) {
  Spread s;
  s.n = values.size();
  if (values.empty()) return s;
  s.median = percentile(values, 50);
  s.p10 = percentile(values, 10);
  s.p90 = percentile(values, 90);
  s.min = *std::min_element(values.begin(), values.end());
  s.max = *std::max_element(values.begin(), values.end());
  s.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  return s;
}

}  // namespace deepen
