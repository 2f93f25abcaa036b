// Composite training: per-kernel-type cost models learned from measurements of whole networks
// and blocks, where only the sum of a model's kernels is known.
//
// A kernel of type t with work w and features x costs base_t(w) * exp(f_t(x)): base_t a linear
// model of GFLOP, MB and one per kernel, f_t an XGBoost booster (the log-ratio transform of
// kernel training, so the registry and prediction need nothing new). A model costs
//   S = c0 + sum over its kernels of their costs
// with c0 a constant paid once per inference. The fit minimises sum_m (ln S_m - ln y_m)^2:
//   1. the bases and c0 by non-negative least squares on relative error (a linear model of the
//      per-type GFLOP, MB and kernel counts of each model);
//   2. the boosters by gradient boosting with that loss's gradient: each round, every type's
//      booster takes one step with the gradient of the loss with respect to its kernels'
//      log-costs, through every model the kernel occurs in, and a bounded curvature;
//   3. optionally a model-level correction, a booster over features every network has
//      (model_features) that learns ln(y / S) where the device's cost is not a plain sum.
// Kernels are deduplicated: a model is a sparse sum of distinct configurations, so 12,000
// NAS-Bench-201 networks are a few dozen units for the boosters.
#include <deepen/error.h>
#include <deepen/schema.h>
#include <deepen/train.h>

#include <fmt/format.h>

#include "train/nnls.h"
#include "train/xgboost_library.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace deepen {
namespace {

void check(int rc, const char* what) {
  if (rc != 0) throw Error(fmt::format("XGBoost failed to {}: {}", what, xgboost_library().GetLastError()));
}

// A distinct kernel configuration: the type that scores it and its schema features.
struct Unit {
  std::string type;
  std::vector<float> features;
  KernelWork work;
};

// The samples as sparse sums of units.
struct UnitTable {
  std::vector<Unit> units;
  std::vector<std::vector<std::pair<size_t, double>>> uses;  // per sample: (unit, occurrences)
};

UnitTable build_units(const std::vector<CompositeSample>& samples, const FusionRules& rules) {
  UnitTable t;
  std::map<std::pair<std::string, std::vector<float>>, size_t> index;
  t.uses.resize(samples.size());
  for (size_t s = 0; s < samples.size(); ++s) {
    std::map<size_t, double> counts;
    for (const Kernel& k : samples[s].kernels) {
      if (k.zero_cost) continue;
      std::string type = rules.scored_as(k.type);
      if (!find_schema(type)) continue;  // other:*: nothing to learn it from
      std::vector<double> f = kernel_features(type, k.config);
      std::pair<std::string, std::vector<float>> key{type, std::vector<float>(f.begin(), f.end())};
      auto [it, added] = index.emplace(key, t.units.size());
      if (added) t.units.push_back({type, key.second, kernel_work(type, k.config)});
      counts[it->second] += kernel_repeats(k);
    }
    t.uses[s].assign(counts.begin(), counts.end());
  }
  return t;
}

std::vector<std::string> correction_feature_names(const std::vector<std::string>& types, bool with_work) {
  std::vector<std::string> names = {"count"};
  if (with_work) names.insert(names.end(), {"gflop", "mb"});
  names.push_back("log_kernel_sum");
  for (const auto& t : types) {
    names.push_back("count:" + t);
    if (with_work) names.insert(names.end(), {"gflop:" + t, "mb:" + t});
  }
  return names;
}

struct XgbMatrix {
  DMatrixHandle handle = nullptr;
  XgbMatrix() = default;
  XgbMatrix(const XgbMatrix&) = delete;
  XgbMatrix& operator=(const XgbMatrix&) = delete;
  ~XgbMatrix() {
    if (handle) xgboost_library().DMatrixFree(handle);
  }
};

// Fits on the samples in `train` (indices into samples and table.uses).
CompositeFit fit_on(const std::vector<CompositeSample>& samples, const UnitTable& table,
                    const std::vector<size_t>& train, const FusionRules& rules, const CompositeParams& params,
                    bool with_correction) {
  const XGBoostLibrary& xgb = xgboost_library();
  const TrainParams& p = params.booster;
  CompositeFit fit;
  fit.rules = rules;

  // Units of the training samples, by type; every unit's occurrences per sample.
  std::map<std::string, std::vector<size_t>> units_of;
  std::vector<std::vector<std::pair<size_t, double>>> occurs(table.units.size());  // unit -> (sample, n)
  for (size_t s : train)
    for (const auto& [u, n] : table.uses[s]) {
      if (occurs[u].empty()) units_of[table.units[u].type].push_back(u);
      occurs[u].emplace_back(s, n);
    }
  if (units_of.empty()) throw Error("composite training: no sample has a kernel that a booster can learn from");
  std::vector<std::string> types;
  for (const auto& [type, us] : units_of) types.push_back(type);

  // 1. Bases and the per-inference constant: NNLS on relative error.
  const size_t ncols = 3 * types.size() + 1;
  std::vector<double> a(train.size() * ncols, 0.0), b(train.size()), w(train.size());
  // A "launch" base leaves the GFLOP and MB columns at zero: NNLS keeps their coefficients at 0.
  const bool work_terms = params.kernel_base != "launch";
  std::map<std::string, size_t> col_of;
  for (size_t i = 0; i < types.size(); ++i) col_of[types[i]] = 3 * i;
  for (size_t r = 0; r < train.size(); ++r) {
    const size_t s = train[r];
    double* row = &a[r * ncols];
    for (const auto& [u, n] : table.uses[s]) {
      const Unit& unit = table.units[u];
      size_t c = col_of.at(unit.type);
      if (work_terms) {
        row[c] += n * unit.work.flops / 1e9;
        row[c + 1] += n * unit.work.bytes / 1e6;
      }
      row[c + 2] += n;
    }
    if (params.per_inference && !samples[s].kernel_row) row[ncols - 1] = 1;
    b[r] = samples[s].value;
    w[r] = 1.0 / (b[r] * b[r]);
  }
  std::vector<double> x = solve_nnls(a, ncols, b, w);
  fit.per_inference = x[ncols - 1];
  double smallest = *std::min_element(b.begin(), b.end());
  std::vector<double> cost(table.units.size(), 0.0), base(table.units.size(), 0.0);
  for (size_t i = 0; i < types.size(); ++i) {
    CompositeKernelModel m;
    m.type = types[i];
    m.base = {x[3 * i], x[3 * i + 1], x[3 * i + 2]};
    // log-ratio needs a positive per-kernel term; a type the data prices at nothing keeps a
    // negligible one, so that its booster still has a cost to scale.
    m.base.per_kernel = std::max(m.base.per_kernel, 1e-6 * smallest);
    m.configs = units_of[types[i]].size();
    for (size_t u : units_of[types[i]]) {
      base[u] = cost[u] = m.base(table.units[u].work.flops, table.units[u].work.bytes);
      for (const auto& [s, n] : occurs[u]) m.kernels += static_cast<size_t>(n);
      m.features.insert(m.features.end(), table.units[u].features.begin(), table.units[u].features.end());
      m.work.push_back(table.units[u].work);
    }
    fit.kernels.push_back(std::move(m));
  }

  // 2. Boosters: one step per type per round on the loss's gradient.
  std::vector<double> total(samples.size(), 0.0);
  auto recompute_totals = [&] {
    for (size_t s : train) {
      double sum = samples[s].kernel_row ? 0.0 : fit.per_inference;
      for (const auto& [u, n] : table.uses[s]) sum += n * cost[u];
      total[s] = std::max(sum, 1e-300);
    }
  };
  recompute_totals();
  struct TypeState {
    XgbMatrix matrix;
    BoosterHandle booster = nullptr;
  };
  std::vector<TypeState> state(types.size());
  auto free_boosters = [&] {
    for (auto& st : state)
      if (st.booster) xgb.BoosterFree(st.booster), st.booster = nullptr;
  };
  try {
    for (size_t i = 0; i < types.size(); ++i) {
      const CompositeKernelModel& m = fit.kernels[i];
      size_t nf = find_schema(m.type)->feature_names.size();
      check(xgb.DMatrixCreateFromMat(m.features.data(), m.configs, nf, NAN, &state[i].matrix.handle),
            "build a kernel matrix");
      check(xgb.BoosterCreate(&state[i].matrix.handle, 1, &state[i].booster), "create a booster");
      set_training_params(state[i].booster, p, 0.0);  // margins start at 0: the bases alone
    }
    std::vector<float> grad, hess;
    std::vector<double> g, h;
    for (int round = 0; round < p.rounds; ++round) {
      for (size_t i = 0; i < types.size(); ++i) {
        const std::vector<size_t>& us = units_of[types[i]];
        grad.assign(us.size(), 0.0f);
        hess.assign(us.size(), 0.0f);
        g.assign(us.size(), 0.0);
        h.assign(us.size(), 0.0);
        double hess_sum = 0;
        for (size_t j = 0; j < us.size(); ++j) {
          for (const auto& [s, n] : occurs[us[j]]) {
            double share = n * cost[us[j]] / total[s];
            double residual = std::log(total[s] / samples[s].value);
            g[j] += 2 * residual * share;
            // The Gauss-Newton hessian 2 share^2 would step a kernel that is a small share of its
            // models by residual / share, far past the optimum; 2 share bounds every step by the
            // residual itself (the step of a kernel that were its model's whole cost).
            h[j] += 2 * share;
          }
          hess_sum += h[j];
        }
        if (!(hess_sum > 0)) continue;
        // Scaled so that a unit's hessian is 1 on average: min_child_weight and lambda then
        // mean the same whatever the number of models.
        double scale = static_cast<double>(us.size()) / hess_sum;
        for (size_t j = 0; j < us.size(); ++j) {
          grad[j] = static_cast<float>(g[j] * scale);
          hess[j] = static_cast<float>(std::max(h[j] * scale, 1e-6));
        }
        check(xgb.BoosterBoostOneIter(state[i].booster, state[i].matrix.handle, grad.data(), hess.data(), us.size()),
              "train a round");
        bst_ulong length = 0;
        const float* margin = nullptr;
        check(xgb.BoosterPredict(state[i].booster, state[i].matrix.handle, 1, 0, 0, &length, &margin), "predict");
        for (size_t j = 0; j < us.size(); ++j) {
          size_t u = us[j];
          double updated = base[u] * std::exp(static_cast<double>(margin[j]));
          double delta = updated - cost[u];
          cost[u] = updated;
          for (const auto& [s, n] : occurs[u]) total[s] = std::max(total[s] + n * delta, 1e-300);
        }
      }
      if (round % 25 == 24) recompute_totals();  // no drift from the running updates
    }
    for (size_t i = 0; i < types.size(); ++i) {
      ScorerSpec spec;
      spec.transform = "log-ratio";
      spec.base_per_gflop = fit.kernels[i].base.per_gflop;
      spec.base_per_mb = fit.kernels[i].base.per_mb;
      spec.base_per_kernel = fit.kernels[i].base.per_kernel;
      fit.kernels[i].booster = std::make_shared<TrainedBooster>(TrainedBooster::adopt(state[i].booster, spec));
      state[i].booster = nullptr;
    }
  } catch (...) {
    free_boosters();
    throw;
  }
  recompute_totals();
  {
    std::vector<WorkSample> costs = fit.kernel_costs();
    fit.fallback = params.purpose == Purpose::Latency ? fit_latency_fallback(costs) : fit_energy_fallback(costs);
  }

  // 3. The model-level correction: ln(y / S) from features every network has.
  if (with_correction) {
    fit.correction_features = correction_feature_names(types, params.correction_features != "counts");
    size_t nf = fit.correction_features.size();
    std::vector<float> rows;
    std::vector<double> targets;
    for (size_t s : train) {
      if (samples[s].kernel_row) continue;
      std::vector<double> f = model_features(fit.correction_features, samples[s].kernels, rules, total[s]);
      rows.insert(rows.end(), f.begin(), f.end());
      targets.push_back(std::log(samples[s].value / total[s]));
    }
    if (targets.size() >= 10) {
      TrainParams cp = p;
      cp.transform = "none";
      fit.correction = std::make_shared<TrainedBooster>(train_booster(rows, nf, targets, cp));
    } else {
      fit.correction_features.clear();
    }
  }
  return fit;
}

// Out-of-sample totals of the samples in `which`, without and with the correction.
void predict_on(const CompositeFit& fit, const std::vector<CompositeSample>& samples, const UnitTable& table,
                const std::vector<size_t>& which, std::vector<double>* plain, std::vector<double>* corrected) {
  std::map<std::string, const CompositeKernelModel*> model_of;
  for (const auto& m : fit.kernels) model_of[m.type] = &m;
  // Cost of every unit used by these samples, one booster call per type.
  std::map<std::string, std::vector<size_t>> units_of;
  std::vector<char> seen(table.units.size(), 0);
  for (size_t s : which)
    for (const auto& [u, n] : table.uses[s])
      if (!seen[u]) seen[u] = 1, units_of[table.units[u].type].push_back(u);
  std::vector<double> cost(table.units.size(), 0.0);
  for (const auto& [type, us] : units_of) {
    auto it = model_of.find(type);
    if (it == model_of.end()) {  // a type no training sample had: the fallback, as in prediction
      for (size_t u : us) {
        const KernelWork& w = table.units[u].work;
        cost[u] = fit.fallback.has_latency ? fit.fallback.latency_ms(w.flops, w.bytes)
                                           : fit.fallback.energy_mj(w.flops, w.bytes);
      }
      continue;
    }
    size_t nf = table.units[us[0]].features.size();
    std::vector<float> rows;
    std::vector<KernelWork> work;
    for (size_t u : us) {
      rows.insert(rows.end(), table.units[u].features.begin(), table.units[u].features.end());
      work.push_back(table.units[u].work);
    }
    std::vector<double> v = it->second->booster->predict(rows, nf, work);
    for (size_t j = 0; j < us.size(); ++j) cost[us[j]] = v[j];
  }
  for (size_t s : which) {
    double sum = samples[s].kernel_row ? 0.0 : fit.per_inference;
    for (const auto& [u, n] : table.uses[s]) sum += n * cost[u];
    if (plain) (*plain)[s] = sum;
    if (corrected) {
      double factor = 1;
      if (fit.correction && !samples[s].kernel_row && sum > 0) {
        std::vector<double> f = model_features(fit.correction_features, samples[s].kernels, fit.rules, sum);
        std::vector<float> row(f.begin(), f.end());
        factor = std::exp(fit.correction->predict(row, row.size())[0]);
      }
      (*corrected)[s] = sum * factor;
    }
  }
}

Metrics model_metrics(const std::vector<CompositeSample>& samples, const std::vector<double>& predicted) {
  std::vector<double> p, y;
  for (size_t s = 0; s < samples.size(); ++s)
    if (!samples[s].kernel_row) p.push_back(predicted[s]), y.push_back(samples[s].value);
  if (p.empty())  // only kernel rows: judge on them
    for (size_t s = 0; s < samples.size(); ++s) p.push_back(predicted[s]), y.push_back(samples[s].value);
  return compute_metrics(p, y);
}

std::vector<size_t> every_index(size_t n) {
  std::vector<size_t> all(n);
  for (size_t i = 0; i < n; ++i) all[i] = i;
  return all;
}

void check_samples(const std::vector<CompositeSample>& samples) {
  if (samples.empty()) throw Error("composite training: no samples");
  for (const auto& s : samples)
    if (!(s.value > 0) || !std::isfinite(s.value))
      throw Error(fmt::format("{}: the measured value must be positive, not {}", s.label, s.value));
}

}  // namespace

TrainedBooster TrainedBooster::adopt(void* handle, ScorerSpec spec) {
  TrainedBooster b;
  b.handle_ = handle;
  b.spec_ = std::move(spec);
  return b;
}

CompositeFit fit_composite(const std::vector<CompositeSample>& samples, const FusionRules& rules,
                           const CompositeParams& params, bool with_correction) {
  check_samples(samples);
  return fit_on(samples, build_units(samples, rules), every_index(samples.size()), rules, params, with_correction);
}

std::vector<double> CompositeFit::predict(const std::vector<CompositeSample>& samples, bool with_correction) const {
  UnitTable table = build_units(samples, rules);
  std::vector<double> out(samples.size(), 0.0);
  predict_on(*this, samples, table, every_index(samples.size()), with_correction ? nullptr : &out, with_correction ? &out : nullptr);
  return out;
}

std::vector<WorkSample> CompositeFit::kernel_costs() const {
  std::vector<WorkSample> out;
  for (const auto& m : kernels) {
    std::vector<double> v = m.booster->predict(m.features, find_schema(m.type)->feature_names.size(), m.work);
    for (size_t j = 0; j < v.size(); ++j) out.push_back({m.work[j].flops, m.work[j].bytes, v[j]});
  }
  // A configuration the fit prices at almost nothing (a type whose cost the data attributes to
  // others) says nothing about the device's rates, and would dominate a fit on relative error.
  std::vector<double> costs;
  for (const auto& w : out) costs.push_back(w.value);
  if (!costs.empty()) {
    std::nth_element(costs.begin(), costs.begin() + static_cast<std::ptrdiff_t>(costs.size() / 2), costs.end());
    double floor = 1e-3 * costs[costs.size() / 2];
    out.erase(std::remove_if(out.begin(), out.end(), [&](const WorkSample& w) { return !(w.value > floor); }),
              out.end());
  }
  return out;
}

CompositeCrossValidation cross_validate_composite(const std::vector<CompositeSample>& samples,
                                                  const FusionRules& rules, const CompositeParams& params) {
  check_samples(samples);
  UnitTable table = build_units(samples, rules);
  std::vector<std::string> groups;
  for (const auto& s : samples) groups.push_back(s.group.empty() ? s.label : s.group);
  std::vector<int> fold = group_folds(groups, params.booster.folds, params.booster.seed);
  CompositeCrossValidation cv;
  cv.folds = fold.empty() ? 0 : *std::max_element(fold.begin(), fold.end()) + 1;
  if (cv.folds < 2)
    throw Error(fmt::format("cross-validation needs at least 2 distinct models, the data has {}", cv.folds));
  std::vector<double> plain(samples.size(), 0.0), corrected(samples.size(), 0.0);
  const bool correct = params.correction != "off";
  for (int f = 0; f < cv.folds; ++f) {
    std::vector<size_t> train, test;
    for (size_t i = 0; i < samples.size(); ++i) (fold[i] == f ? test : train).push_back(i);
    CompositeFit fit = fit_on(samples, table, train, rules, params, correct);
    predict_on(fit, samples, table, test, &plain, &corrected);
  }
  cv.kernel_sum = model_metrics(samples, plain);
  cv.corrected = correct ? model_metrics(samples, corrected) : cv.kernel_sum;
  if (params.correction == "on") cv.use_correction = true;
  else if (params.correction == "auto")
    cv.use_correction = cv.corrected.acc10 >= cv.kernel_sum.acc10 + 0.005 ||
                        (cv.corrected.acc10 >= cv.kernel_sum.acc10 && cv.corrected.mape < cv.kernel_sum.mape);
  cv.chosen = cv.use_correction ? cv.corrected : cv.kernel_sum;
  cv.predicted = cv.use_correction ? corrected : plain;
  return cv;
}

}  // namespace deepen
