// The analytical fallback for kernels without a trained booster (docs/train.md, "The fallback"):
//   energy_mj  = a * GFLOP + b * MB + c                        (a, b, c >= 0)
//   latency_ms = max(GFLOP / peak_gflops, GB / bandwidth_gbs) * 1000 + c
// Both are fitted on relative error, since a kernel of 0.01 mJ matters as much as one of 100 mJ.
#include <deepen/error.h>
#include <deepen/schema.h>
#include <deepen/train.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace deepen {
namespace {

// Solves the n x n system a x = b (n <= 3) by Gaussian elimination; false when singular.
bool solve(std::array<std::array<double, 3>, 3> a, std::array<double, 3> b, int n, std::array<double, 3>* x) {
  for (int col = 0; col < n; ++col) {
    int pivot = col;
    for (int r = col + 1; r < n; ++r)
      if (std::fabs(a[r][col]) > std::fabs(a[pivot][col])) pivot = r;
    if (std::fabs(a[pivot][col]) < 1e-300) return false;
    std::swap(a[col], a[pivot]);
    std::swap(b[col], b[pivot]);
    for (int r = 0; r < n; ++r) {
      if (r == col) continue;
      double f = a[r][col] / a[col][col];
      for (int c = col; c < n; ++c) a[r][c] -= f * a[col][c];
      b[r] -= f * b[col];
    }
  }
  for (int i = 0; i < n; ++i) (*x)[i] = b[i] / a[i][i];
  return true;
}

}  // namespace

WorkModel fit_work_model(const std::vector<WorkSample>& samples) {
  if (samples.empty()) throw Error("no samples to fit the analytical model on");
  // Columns: GFLOP, MB, 1. Weighted least squares, weight 1/y^2 (relative error), over every
  // subset of non-negative coefficients (an exact NNLS for three unknowns).
  auto column = [](const WorkSample& s, int j) { return j == 0 ? s.flops / 1e9 : j == 1 ? s.bytes / 1e6 : 1.0; };
  double best_loss = std::numeric_limits<double>::infinity();
  std::array<double, 3> best{0, 0, 0};
  for (int mask = 1; mask < 8; ++mask) {
    int idx[3], n = 0;
    for (int j = 0; j < 3; ++j)
      if (mask & (1 << j)) idx[n++] = j;
    std::array<std::array<double, 3>, 3> ata{};
    std::array<double, 3> atb{};
    for (const auto& s : samples) {
      double w = 1.0 / (s.value * s.value);
      for (int r = 0; r < n; ++r) {
        atb[r] += w * column(s, idx[r]) * s.value;
        for (int c = 0; c < n; ++c) ata[r][c] += w * column(s, idx[r]) * column(s, idx[c]);
      }
    }
    std::array<double, 3> x{};
    if (!solve(ata, atb, n, &x)) continue;
    bool feasible = true;
    std::array<double, 3> coef{0, 0, 0};
    for (int r = 0; r < n; ++r) {
      if (x[r] < 0) feasible = false;
      coef[idx[r]] = x[r];
    }
    if (!feasible) continue;
    double loss = 0;
    for (const auto& s : samples) {
      double p = coef[0] * column(s, 0) + coef[1] * column(s, 1) + coef[2];
      loss += (p - s.value) * (p - s.value) / (s.value * s.value);
    }
    if (loss < best_loss) {
      best_loss = loss;
      best = coef;
    }
  }
  WorkModel m;
  m.per_gflop = best[0];
  m.per_mb = best[1];
  m.per_kernel = best[2];
  // A kernel with no FLOPs (concat) or no bytes must still get a positive value, or the log-ratio
  // transform has nothing to divide by: the constant is at least a thousandth of the smallest
  // measured value, which moves no prediction by more than that.
  double smallest = samples[0].value;
  for (const auto& s : samples) smallest = std::min(smallest, s.value);
  m.per_kernel = std::max(m.per_kernel, 1e-3 * smallest);
  return m;
}

FallbackModel fit_energy_fallback(const std::vector<WorkSample>& samples) {
  if (samples.empty()) throw Error("fallback: no samples to fit the energy model on");
  WorkModel w = fit_work_model(samples);
  FallbackModel m;
  m.has_energy = true;
  m.energy_mj_per_gflop = w.per_gflop;
  m.energy_mj_per_mb = w.per_mb;
  m.energy_mj_per_kernel = w.per_kernel;
  return m;
}

FallbackModel fit_latency_fallback(const std::vector<WorkSample>& samples) {
  if (samples.empty()) throw Error("fallback: no samples to fit the latency model on");
  double best_loss = std::numeric_limits<double>::infinity();
  FallbackModel m;
  m.has_latency = true;
  double sum_w = 0;
  for (const auto& s : samples) sum_w += 1.0 / (s.value * s.value);
  std::vector<double> roof(samples.size());
  // peak 0.1 GFLOP/s .. 100 TFLOP/s, bandwidth 0.1 .. 10,000 GB/s, 20 steps a decade.
  for (int i = -20; i <= 100; ++i) {
    double peak = std::pow(10.0, i / 20.0);
    for (int j = -20; j <= 80; ++j) {
      double bw = std::pow(10.0, j / 20.0);
      double num = 0;
      for (size_t k = 0; k < samples.size(); ++k) {
        const auto& s = samples[k];
        roof[k] = std::max(s.flops / (peak * 1e6), s.bytes / (bw * 1e6));
        num += (s.value - roof[k]) / (s.value * s.value);
      }
      double c = std::max(0.0, num / sum_w);
      double loss = 0;
      for (size_t k = 0; k < samples.size(); ++k) {
        double r = (roof[k] + c - samples[k].value) / samples[k].value;
        loss += r * r;
      }
      if (loss < best_loss) {
        best_loss = loss;
        m.peak_gflops = peak;
        m.bandwidth_gbs = bw;
        m.latency_ms_per_kernel = c;
      }
    }
  }
  return m;
}

FallbackModel spec_roofline(const DeviceSpecs& specs) {
  if (!(specs.peak_gflops > 0) || !(specs.bandwidth_gbs > 0))
    throw Error("fallback: a roofline from specs needs a positive peak GFLOP/s and bandwidth GB/s");
  if (!(specs.sustained > 0 && specs.sustained <= 1))
    throw Error(fmt::format("fallback: the sustained share of peak must be in (0, 1], not {}", specs.sustained));
  if (specs.threads < 0 || specs.cores < 0 || (specs.cores > 0 && specs.threads > specs.cores) ||
      (specs.threads > 0 && specs.cores == 0))
    throw Error(fmt::format("fallback: {} thread(s) of {} cores: threads need the core count, and at most that many",
                            specs.threads, specs.cores));
  if (!(specs.kernel_overhead_ms >= 0))
    throw Error(fmt::format("fallback: the per-kernel overhead must be 0 ms or more, not {}", specs.kernel_overhead_ms));
  FallbackModel m;
  m.has_latency = true;
  m.peak_gflops = specs.peak_gflops;
  m.bandwidth_gbs = specs.bandwidth_gbs;
  if (specs.cores > 0) {
    m.cores = specs.cores;
    m.threads = specs.threads > 0 ? specs.threads : specs.cores;
  }
  m.sustained = specs.sustained;
  m.latency_ms_per_kernel = specs.kernel_overhead_ms;
  return m;
}

FallbackModel build_fallback(const KernelDataset& data, const DeviceSpecs& specs) {
  std::vector<WorkSample> energy, latency;
  for (const auto& r : data.rows) {
    KernelWork w = kernel_work(r.kernel, r.config);
    if (auto it = r.targets.find("energy_mj"); it != r.targets.end()) energy.push_back({w.flops, w.bytes, it->second});
    if (auto it = r.targets.find("latency_ms"); it != r.targets.end())
      latency.push_back({w.flops, w.bytes, it->second});
  }
  return build_fallback(latency, energy, specs, "measured kernels", "measured kernels");
}

FallbackModel build_fallback(const std::vector<WorkSample>& latency, const std::vector<WorkSample>& energy,
                             const DeviceSpecs& specs, const std::string& latency_source,
                             const std::string& energy_source) {
  FallbackModel m;
  std::vector<std::string> notes;
  if (!latency.empty()) {
    FallbackModel l = fit_latency_fallback(latency);
    m.has_latency = true;
    m.peak_gflops = l.peak_gflops;
    m.bandwidth_gbs = l.bandwidth_gbs;
    m.latency_ms_per_kernel = l.latency_ms_per_kernel;
    std::vector<double> predicted, measured;
    for (const auto& x : latency) {
      predicted.push_back(m.latency_ms(x.flops, x.bytes));
      measured.push_back(x.value);
    }
    Metrics fit = compute_metrics(predicted, measured);
    notes.push_back(fmt::format("latency roofline fitted on {} {} (in-sample MAPE {:.0f}%, {:.0f}% within ±10%)",
                                latency.size(), latency_source, fit.mape, 100 * fit.acc10));
  } else if (specs.peak_gflops > 0 && specs.bandwidth_gbs > 0) {
    m = spec_roofline(specs);  // nothing else is set yet: the energy part comes below
    notes.push_back(fmt::format(
        "latency roofline from published specs ({} GFLOP/s, {} GB/s){}, {:g}% of peak sustained ({:.3g} GFLOP/s, "
        "{:.3g} GB/s), {:g} ms per kernel",
        specs.peak_gflops, specs.bandwidth_gbs,
        m.cores > 1 ? fmt::format(" on {:g} thread(s) of {:g} cores", m.threads, m.cores) : std::string(),
        100 * m.sustained, m.effective_gflops(), m.effective_gbs(), m.latency_ms_per_kernel));
  }
  if (!energy.empty()) {
    FallbackModel e = fit_energy_fallback(energy);
    m.has_energy = true;
    m.energy_mj_per_gflop = e.energy_mj_per_gflop;
    m.energy_mj_per_mb = e.energy_mj_per_mb;
    m.energy_mj_per_kernel = e.energy_mj_per_kernel;
    std::vector<double> predicted, measured;
    for (const auto& x : energy) {
      predicted.push_back(m.energy_mj(x.flops, x.bytes));
      measured.push_back(x.value);
    }
    Metrics fit = compute_metrics(predicted, measured);
    notes.push_back(fmt::format("energy fitted on {} {} (in-sample MAPE {:.0f}%, {:.0f}% within ±10%)",
                                energy.size(), energy_source, fit.mape, 100 * fit.acc10));
  } else if (specs.power_w > 0 && specs.peak_gflops > 0 && specs.bandwidth_gbs > 0) {
    // At power P (W), a GFLOP at the runtime's rate F (GFLOP/s) takes 1/F s and costs P/F J =
    // 1000 P/F mJ; a MB at B GB/s takes 1e-3/B s and costs P/B mJ; a kernel's overhead of c ms
    // costs P·c mJ.
    const FallbackModel roof = spec_roofline(specs);
    m.has_energy = true;
    m.energy_mj_per_gflop = 1000.0 * specs.power_w / roof.effective_gflops();
    m.energy_mj_per_mb = specs.power_w / roof.effective_gbs();
    m.energy_mj_per_kernel = specs.power_w * roof.latency_ms_per_kernel;
    notes.push_back(fmt::format("energy from published specs ({} W at {:.3g} GFLOP/s, {:.3g} GB/s)", specs.power_w,
                                roof.effective_gflops(), roof.effective_gbs()));
  }
  for (const auto& n : notes) m.note += (m.note.empty() ? "" : "; ") + n;
  return m;
}

}  // namespace deepen
