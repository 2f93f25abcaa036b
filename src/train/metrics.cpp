// Accuracy of predictions against measurements, judged in relative terms because kernel values
// span orders of magnitude: MAPE, RMSPE and the share within ±5/10/20%; RMSE in the unit.
#include <deepen/error.h>
#include <deepen/train.h>

#include <cmath>

namespace deepen {

Metrics compute_metrics(const std::vector<double>& predicted, const std::vector<double>& measured) {
  if (predicted.size() != measured.size()) throw Error("metrics: predicted and measured differ in length");
  Metrics m;
  m.n = measured.size();
  if (m.n == 0) return m;
  double se = 0, ape = 0, spe = 0;
  size_t in5 = 0, in10 = 0, in20 = 0;
  for (size_t i = 0; i < m.n; ++i) {
    double err = predicted[i] - measured[i];
    double rel = std::fabs(err) / measured[i];
    se += err * err;
    ape += rel;
    spe += rel * rel;
    // A tiny tolerance so that an error of exactly 10% counts as within ±10%.
    in5 += rel <= 0.05 + 1e-12;
    in10 += rel <= 0.10 + 1e-12;
    in20 += rel <= 0.20 + 1e-12;
  }
  double n = static_cast<double>(m.n);
  m.rmse = std::sqrt(se / n);
  m.mape = 100.0 * ape / n;
  m.rmspe = 100.0 * std::sqrt(spe / n);
  m.acc5 = static_cast<double>(in5) / n;
  m.acc10 = static_cast<double>(in10) / n;
  m.acc20 = static_cast<double>(in20) / n;
  return m;
}

}  // namespace deepen
