#include <deepen/report.h>

#include <fmt/format.h>

#include <cmath>
#include <string>

namespace deepen {

ModelReport summarise(const std::string& model, std::vector<Kernel> kernels, std::vector<Estimate> estimates,
                      Purpose purpose) {
  ModelReport r;
  r.model = model;
  double trained_flops = 0, uncovered_flops = 0;
  bool any_latency = false, any_energy = false;
  double latency = 0, energy = 0;
  double weight_all = 0, weight_extrapolated = 0;
  bool latency_complete = true, energy_complete = true;
  for (size_t i = 0; i < kernels.size(); ++i) {
    const Kernel& k = kernels[i];
    const Estimate& e = estimates[i];
    r.macs += k.macs;
    r.flops += k.flops;
    r.params += k.params;
    if (k.zero_cost) {
      ++r.zero_cost_count;
      continue;
    }
    ++r.kernel_count;
    if (e.source == Source::Trained) {
      ++r.trained_count;
      trained_flops += k.flops;
    } else if (e.source == Source::Fallback) {
      ++r.fallback_count;
    } else {
      ++r.uncovered_count;
      uncovered_flops += k.flops;
    }
    double weight = purpose == Purpose::Latency ? e.latency_ms : e.energy_mj;
    if (!std::isnan(weight)) {
      weight_all += weight;
      if (e.extrapolated) weight_extrapolated += weight;
    }
    if (e.extrapolated) ++r.extrapolated_count;
    if (e.power_outside_envelope) ++r.power_outside_kernels;
    if (!std::isnan(e.latency_ms)) any_latency = true, latency += e.latency_ms;
    else latency_complete = false;
    if (!std::isnan(e.energy_mj)) any_energy = true, energy += e.energy_mj;
    else energy_complete = false;
  }
  (void)latency_complete;
  (void)energy_complete;
  // Uncovered kernels add nothing: the totals are those of the covered kernels, and coverage
  // says how much of the model that is.
  if (any_latency || r.kernel_count == 0) r.latency_ms = latency;
  if (any_energy || r.kernel_count == 0) r.energy_mj = energy;
  if (!std::isnan(r.latency_ms) && !std::isnan(r.energy_mj) && r.latency_ms > 0)
    r.power_mw = r.energy_mj / r.latency_ms * 1000.0;
  r.coverage_kernels = r.kernel_count ? static_cast<double>(r.trained_count) / r.kernel_count : 1.0;
  r.coverage_flops = r.flops > 0 ? trained_flops / r.flops : r.coverage_kernels;
  r.uncovered_kernels = r.kernel_count ? static_cast<double>(r.uncovered_count) / r.kernel_count : 0.0;
  r.uncovered_flops = r.flops > 0 ? uncovered_flops / r.flops : r.uncovered_kernels;
  r.extrapolated_share = weight_all > 0 ? weight_extrapolated / weight_all : 0.0;
  r.kernels = std::move(kernels);
  r.estimates = std::move(estimates);
  return r;
}

ModelReport summarise(const std::string& model, std::vector<Kernel> kernels, ModelEstimate estimate,
                      Purpose purpose) {
  ModelReport r = summarise(model, std::move(kernels), std::move(estimate.kernels), purpose);
  r.latency_ms_per_inference = estimate.latency_ms_per_inference;
  r.energy_mj_per_inference = estimate.energy_mj_per_inference;
  r.latency_factor = estimate.latency_factor;
  r.energy_factor = estimate.energy_factor;
  r.latency_ms += r.latency_ms_per_inference;  // NaN stays NaN: nothing to add to
  r.energy_mj += r.energy_mj_per_inference;
  if (!std::isnan(r.latency_ms) && !std::isnan(r.energy_mj) && r.latency_ms > 0)
    r.power_mw = r.energy_mj / r.latency_ms * 1000.0;
  r.power_envelope_known = estimate.power_envelope.known();
  r.power_outside_envelope = estimate.power_envelope.outside(r.power_mw);
  return r;
}

std::string format_number(double value) {
  if (std::isnan(value)) return "-";
  if (value == 0) return "0";
  double a = std::fabs(value);
  if (a < 1e9 && value == std::floor(value)) return fmt::format("{:.0f}", value);
  if (a >= 1e6 || a < 1e-3) return fmt::format("{:.3e}", value);
  if (a >= 1000) return fmt::format("{:.0f}", value);
  if (a >= 100) return fmt::format("{:.1f}", value);
  if (a >= 10) return fmt::format("{:.2f}", value);
  if (a >= 1) return fmt::format("{:.3f}", value);
  return fmt::format("{:.4f}", value);
}

std::string format_share(double share) {
  if (std::isnan(share)) return "-";
  const double pct = share * 100;
  for (int decimals = 0; decimals <= 2; ++decimals) {
    std::string text = fmt::format("{:.{}f}", pct, decimals);
    const double shown = std::stod(text);
    if ((shown < 100 || share >= 1) && (shown > 0 || share <= 0)) return text + "%";
  }
  return share > 0.5 ? ">99.99%" : "<0.01%";
}

std::string format_share_decimal(double share, int decimals) {
  if (std::isnan(share)) return "";
  for (int d = decimals; d <= 17; ++d) {
    std::string text = fmt::format("{:.{}f}", share, d);
    const double shown = std::stod(text);
    if ((shown < 1 || share >= 1) && (shown > 0 || share <= 0)) return text;
  }
  return fmt::format("{:.17g}", share);
}

}  // namespace deepen
