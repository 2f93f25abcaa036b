// The kinds of scorer a registry entry can name, one row each, and the analytical fallback.
#include "predict/scorers.h"

#include <deepen/error.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace deepen {
namespace {

using MakeScorer = std::unique_ptr<KernelScorer> (*)(const ScorerSpec&, const std::string&, const std::string&,
                                                      const std::string&, const std::string&);
struct ScorerKind {
  const char* name;
  MakeScorer make;
};

// A new kind of scorer is one row here (and its file; the registry reads its file key as the
// kind's name: `booster: FILE` is kind xgboost, `table: FILE` is kind table).
constexpr ScorerKind kKinds[] = {
    {"xgboost", make_booster_scorer},
    {"table", make_table_scorer},
};

const ScorerKind* find_kind(const std::string& name) {
  for (const ScorerKind& k : kKinds)
    if (name == k.name) return &k;
  return nullptr;
}

// The roofline or linear model of FallbackModel: from the kernel's FLOPs and bytes, which already
// count every run of its batch.
class FallbackScorer : public KernelScorer {
 public:
  FallbackScorer(const FallbackModel& model, bool latency) : model_(model), latency_(latency) {}
  const char* kind() const override { return "roofline"; }
  bool learned() const override { return false; }
  std::vector<double> score(const KernelRows& in) const override {
    std::vector<double> out(in.kernels.size());
    for (size_t i = 0; i < in.kernels.size(); ++i) {
      const Kernel& k = *in.kernels[i];
      out[i] = latency_ ? model_.latency_ms(k.flops, k.bytes) : model_.energy_mj(k.flops, k.bytes);
    }
    return out;
  }

 private:
  FallbackModel model_;
  bool latency_;
};

}  // namespace

std::vector<std::string> KernelScorer::outside(const KernelRows& in) const {
  return std::vector<std::string>(in.num_rows());
}

double whole_kernel_value(double per_run, const Kernel& kernel, const std::string& target) {
  double v = std::max(0.0, per_run);
  return target == "power" ? v : v * kernel_repeats(kernel);
}

bool valid_scorer_kind(const std::string& kind) { return find_kind(kind) != nullptr; }

std::string scorer_kinds() {
  std::string out;
  for (const ScorerKind& k : kKinds) out += (out.empty() ? "" : ", ") + std::string(k.name);
  return out;
}

std::unique_ptr<KernelScorer> make_kernel_scorer(const PredictorEntry& entry, const std::string& type,
                                                 const std::string& target) {
  const std::string where = fmt::format("predictor '{}' {}: {} {}", entry.name, entry.version, type, target);
  if (!find_schema(type))
    throw Error(ErrorKind::Registry, fmt::format("predictor '{}': kernel type '{}' has no feature schema in this version of deepen",
                            entry.name, type));
  const ScorerSpec& spec = entry.kernels.at(type).at(target);
  const ScorerKind* kind = find_kind(spec.kind);
  if (!kind) throw Error(ErrorKind::Registry, fmt::format("{}: kind '{}' is unknown (kinds: {})", where, spec.kind, scorer_kinds()));
  return kind->make(spec, type, target, resolve_in_folder(entry, spec.path), where);
}

std::unique_ptr<KernelScorer> make_fallback_scorer(const FallbackModel& model, const std::string& target) {
  if (target == "latency" && model.has_latency) return std::make_unique<FallbackScorer>(model, true);
  if (target == "energy" && model.has_energy) return std::make_unique<FallbackScorer>(model, false);
  return nullptr;
}

}  // namespace deepen
