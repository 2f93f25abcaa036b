// Kind xgboost: a trained XGBoost booster over the kernel type's features, whose output maps to
// the target through the spec's transform; the ranges of its training rows say which kernels it
// extrapolates to.
#include "predict/scorers.h"

#include <deepen/schema.h>

namespace deepen {
namespace {

class BoosterScorer : public KernelScorer {
 public:
  BoosterScorer(ScorerSpec spec, std::string target, Booster booster, std::vector<std::string> features)
      : spec_(std::move(spec)), target_(std::move(target)), booster_(std::move(booster)), features_(std::move(features)) {}
  const char* kind() const override { return "xgboost"; }
  bool learned() const override { return true; }

  std::vector<double> score(const KernelRows& in) const override {
    std::vector<double> outputs = booster_.predict(in.rows, in.ncols);
    std::vector<double> out(in.kernels.size());
    for (size_t i = 0; i < in.kernels.size(); ++i) {
      const Kernel& k = *in.kernels[i];
      out[i] = whole_kernel_value(from_booster(spec_, outputs[in.row_of[i]], kernel_work(in.type, k.config)), k,
                                  target_);
    }
    return out;
  }

  std::vector<std::string> outside(const KernelRows& in) const override {
    std::vector<std::string> why(in.num_rows());
    if (!spec_.ranges.empty())
      for (size_t r = 0; r < why.size(); ++r) why[r] = outside_ranges(in.row(r), spec_.ranges, features_);
    return why;
  }

 private:
  ScorerSpec spec_;
  std::string target_;
  Booster booster_;
  std::vector<std::string> features_;  // the schema's feature names
};

}  // namespace

std::unique_ptr<KernelScorer> make_booster_scorer(const ScorerSpec& spec, const std::string& type,
                                                  const std::string& target, const std::string& path,
                                                  const std::string&) {
  return std::make_unique<BoosterScorer>(spec, target, Booster::load(path), find_schema(type)->feature_names);
}

}  // namespace deepen
