#include <deepen/error.h>
#include <deepen/predict.h>
#include <deepen/schema.h>

#include <fmt/format.h>

#include <algorithm>
#include <string_view>
#include <unordered_map>

namespace deepen {
double kernel_repeats(const Kernel& k) { return k.config.get_or("batch", k.config.get_or("rows", 1.0)); }

Predictor Predictor::load(const Registry& registry, const std::string& name, const std::string& version) {
  Predictor p;
  p.entry_ = registry.find(name, version);
  try {
    p.rules_ = p.entry_.fusion_rules.empty() ? default_fusion_rules()
                                             : load_fusion_rules(resolve_in_folder(p.entry_, p.entry_.fusion_rules));
  } catch (const Error& e) {
    throw e.as(ErrorKind::Registry);  // a predictor's rules that do not read are a broken registry entry
  }
  for (const auto& [type, by_target] : p.entry_.kernels)
    for (const auto& by : by_target) p.scorers_[type][by.first] = make_kernel_scorer(p.entry_, type, by.first);
  for (const char* target : {"latency", "energy"})
    if (auto fallback = make_fallback_scorer(p.entry_.fallback, target)) p.fallback_[target] = std::move(fallback);
  for (const auto& [purpose, terms] : p.entry_.model)
    if (!terms.correction.empty()) {
      auto b = std::make_shared<Booster>(Booster::load(resolve_in_folder(p.entry_, terms.correction)));
      if (b->num_features() != terms.features.size())
        throw Error(ErrorKind::Registry,
                    fmt::format("predictor '{}': the {} correction {} reads {} features, the entry names {}", name,
                                purpose, terms.correction, b->num_features(), terms.features.size()));
      p.corrections_[purpose] = std::move(b);
    }
  if (!p.entry_.training_set.empty())
    p.training_set_ = TrainingSet::load(resolve_in_folder(p.entry_, p.entry_.training_set));
  return p;
}

bool Predictor::supports(Purpose purpose, std::string* why) const {
  bool energy = false, latency = false, power = false;
  for (const auto& [type, by] : scorers_) {
    energy = energy || by.count("energy");
    latency = latency || by.count("latency");
    power = power || by.count("power");
  }
  energy = energy || entry_.fallback.has_energy;
  latency = latency || entry_.fallback.has_latency;
  bool ok = purpose == Purpose::Energy ? (energy || (power && latency))
            : purpose == Purpose::Latency ? latency
                                          : (latency && (energy || power));
  if (!ok && why) {
    std::vector<std::string> can;
    if (latency) can.push_back("latency");
    if (latency && (energy || power)) can.push_back("power");
    if (energy || (power && latency)) can.push_back("energy");
    std::string list;
    for (const auto& c : can) list += (list.empty() ? "" : ", ") + c;
    *why = fmt::format("predictor '{}' {} cannot predict {}: it predicts {}{}", entry_.name, entry_.version,
                       purpose_name(purpose), list.empty() ? "nothing" : list,
                       purpose == Purpose::Power ? " (a model's power is its energy over its latency, so power needs "
                                                   "latency and energy or power predictors)"
                                                 : "");
  }
  return ok;
}

namespace {

// The kernels of one type with their distinct feature rows (KernelRows): a network repeats its
// kernels (a cell stacked five times, the same block at each stage), and each distinct row is
// scored once.
KernelRows rows_of(const std::string& type, const std::vector<Kernel>& kernels, const std::vector<size_t>& indices) {
  KernelRows in;
  in.type = type;
  in.ncols = find_schema(type)->feature_names.size();
  in.kernels.reserve(indices.size());
  in.rows.reserve(indices.size() * in.ncols);
  in.row_of.resize(indices.size());
  std::unordered_map<std::string_view, size_t> distinct;
  std::vector<float> f(in.ncols);
  for (size_t r = 0; r < indices.size(); ++r) {
    in.kernels.push_back(&kernels[indices[r]]);
    std::vector<double> fd = kernel_features(type, kernels[indices[r]].config);
    if (fd.size() != in.ncols)
      throw Error(ErrorKind::Internal,
                  fmt::format("kernel type '{}': {} features where its schema names {}", type, fd.size(), in.ncols));
    std::transform(fd.begin(), fd.end(), f.begin(), [](double v) { return static_cast<float>(v); });
    std::string_view key(reinterpret_cast<const char*>(f.data()), in.ncols * sizeof(float));
    auto it = distinct.find(key);
    if (it != distinct.end()) {
      in.row_of[r] = it->second;
      continue;
    }
    in.row_of[r] = in.rows.size() / in.ncols;
    in.rows.insert(in.rows.end(), f.begin(), f.end());
    // Keys view the rows' storage, which must not move: reserved above for every kernel.
    distinct.emplace(std::string_view(reinterpret_cast<const char*>(&in.rows[in.row_of[r] * in.ncols]), key.size()),
                     in.row_of[r]);
  }
  return in;
}

double& value_of(Estimate& e, const std::string& target) {
  return target == "latency" ? e.latency_ms : target == "energy" ? e.energy_mj : e.power_mw;
}

}  // namespace

std::vector<Estimate> Predictor::estimate(const std::vector<Kernel>& kernels, const PredictOptions& options) const {
  std::vector<Estimate> out(kernels.size());
  // Which quantities came from a learned scorer.
  std::vector<uint8_t> energy_trained(kernels.size(), 0), latency_trained(kernels.size(), 0),
      power_trained(kernels.size(), 0);
  // Per kernel and target: the features outside what that target's scorer learned from.
  std::vector<std::map<std::string, std::string>> outside(kernels.size());
  // Group kernels by the type that scores them, so each scorer is called once.
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i = 0; i < kernels.size(); ++i) {
    const Kernel& k = kernels[i];
    if (k.zero_cost) {
      out[i].latency_ms = out[i].energy_mj = 0;
      out[i].source = out[i].latency_source = out[i].energy_source = out[i].power_source = Source::ZeroCost;
      continue;
    }
    std::string as = rules_.scored_as(k.type);
    if (scorers_.count(as)) groups[as].push_back(i);
  }
  for (const auto& [type, indices] : groups) {
    const KernelRows in = rows_of(type, kernels, indices);
    for (const auto& [target, scorer] : scorers_.at(type)) {
      const std::vector<double> values = scorer->score(in);
      const std::vector<std::string> whys = scorer->outside(in);
      for (size_t r = 0; r < indices.size(); ++r) {
        if (std::isnan(values[r])) continue;  // the scorer has no number for it: the fallback's turn
        const size_t i = indices[r];
        if (!whys[in.row_of[r]].empty()) outside[i][target] = whys[in.row_of[r]];
        value_of(out[i], target) = values[r];
        (target == "latency" ? latency_trained : target == "energy" ? energy_trained : power_trained)[i] =
            scorer->learned();
        out[i].scored_as = type;
      }
    }
  }
  // The fallback, for the kernels no scorer gave a number (never an op deepen knows nothing of).
  if (options.use_fallback)
    for (const auto& [target, scorer] : fallback_) {
      KernelRows in;
      std::vector<size_t> indices;
      for (size_t i = 0; i < kernels.size(); ++i) {
        const Estimate& e = out[i];
        if (e.source == Source::ZeroCost || kernels[i].type.rfind("other:", 0) == 0) continue;
        if (std::isnan(value_of(out[i], target)) && (target != "energy" || std::isnan(e.power_mw))) {
          indices.push_back(i);
          in.kernels.push_back(&kernels[i]);
        }
      }
      in.row_of.assign(indices.size(), 0);
      const std::vector<double> values = scorer->score(in);
      for (size_t r = 0; r < indices.size(); ++r) value_of(out[indices[r]], target) = values[r];
    }
  for (size_t i = 0; i < kernels.size(); ++i) {
    Estimate& e = out[i];
    if (e.source == Source::ZeroCost) continue;
    if (std::isnan(e.energy_mj) && !std::isnan(e.power_mw) && !std::isnan(e.latency_ms)) {
      e.energy_mj = e.power_mw * e.latency_ms / 1000.0;
      energy_trained[i] = power_trained[i] && latency_trained[i];
    }
    if (std::isnan(e.power_mw) && !std::isnan(e.energy_mj) && !std::isnan(e.latency_ms) && e.latency_ms > 0) {
      e.power_mw = e.energy_mj / e.latency_ms * 1000.0;
      power_trained[i] = energy_trained[i] && latency_trained[i];
    }
    auto source = [](double value, bool trained) {
      return std::isnan(value) ? Source::Uncovered : trained ? Source::Trained : Source::Fallback;
    };
    e.latency_source = source(e.latency_ms, latency_trained[i]);
    e.energy_source = source(e.energy_mj, energy_trained[i]);
    e.power_source = source(e.power_mw, power_trained[i]);
    e.source = e.source_of(options.purpose);
    if (e.source == Source::Trained && !outside[i].empty()) {
      // The boosters the purpose's number came from: its own, or the two it was derived from
      // (a number from the fallback came from no booster, whatever the other purposes did).
      std::string own = purpose_name(options.purpose);
      std::vector<std::string> used;
      if (scorers_.count(e.scored_as) && scorers_.at(e.scored_as).count(own)) used = {own};
      else if (options.purpose == Purpose::Energy) used = {"power", "latency"};
      else if (options.purpose == Purpose::Power) used = {"energy", "latency"};
      std::vector<std::pair<std::string, std::string>> whys;
      for (const auto& target : used)
        if (outside[i].count(target)) whys.emplace_back(target, outside[i].at(target));
      for (const auto& [target, why] : whys) {
        if (!e.extrapolated_why.empty()) e.extrapolated_why += "; ";
        e.extrapolated_why += whys.size() > 1 || target != own ? target + " booster: " + why : why;
      }
      e.extrapolated = !whys.empty();
    }
    if (e.source != Source::Trained) e.scored_as = e.source == Source::Fallback ? "fallback" : "";
    e.power_outside_envelope = entry_.power_envelope.outside(e.power_mw);
  }
  return out;
}

ModelEstimate Predictor::estimate_model(const std::vector<Kernel>& kernels, const PredictOptions& options) const {
  ModelEstimate m;
  m.kernels = estimate(kernels, options);
  for (const auto& [purpose, terms] : entry_.model) {
    const bool latency = purpose == "latency";
    double sum = 0;
    for (const Estimate& e : m.kernels) {
      double v = latency ? e.latency_ms : e.energy_mj;
      if (std::isfinite(v)) sum += v;
    }
    double factor = 1;
    auto c = corrections_.find(purpose);
    if (c != corrections_.end() && sum > 0) {
      std::vector<double> f = model_features(terms.features, kernels, rules_, sum + terms.per_inference);
      std::vector<float> row(f.begin(), f.end());
      factor = std::exp(c->second->predict(row, row.size())[0]);
    }
    for (Estimate& e : m.kernels) (latency ? e.latency_ms : e.energy_mj) *= factor;
    (latency ? m.latency_ms_per_inference : m.energy_mj_per_inference) = terms.per_inference;
    (latency ? m.latency_factor : m.energy_factor) = factor;
  }
  if (!entry_.model.empty())
    for (Estimate& e : m.kernels)  // power follows its parts when both were corrected
      if (std::isfinite(e.energy_mj) && std::isfinite(e.latency_ms) && e.latency_ms > 0) {
        e.power_mw = e.energy_mj / e.latency_ms * 1000.0;
        e.power_outside_envelope = entry_.power_envelope.outside(e.power_mw);
      }
  m.power_envelope = entry_.power_envelope;
  return m;
}

}  // namespace deepen
