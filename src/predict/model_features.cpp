// The features of a whole model that a model-level correction reads (deepen/predict.h,
// ModelTerms): things every network has, so that a correction learned on one search space
// can be applied, and checked for extrapolation, on any other.
#include <deepen/error.h>
#include <deepen/predict.h>

#include <fmt/format.h>

#include <cmath>

namespace deepen {

std::vector<double> model_features(const std::vector<std::string>& names, const std::vector<Kernel>& kernels,
                                   const FusionRules& rules, double kernel_sum) {
  std::vector<double> out;
  out.reserve(names.size());
  // Each kernel's scored type once, not once per feature (a correction reads dozens).
  std::vector<std::string> scored;
  scored.reserve(kernels.size());
  for (const Kernel& k : kernels) scored.push_back(k.zero_cost ? std::string() : rules.scored_as(k.type));
  for (const auto& name : names) {
    size_t colon = name.find(':');
    std::string what = name.substr(0, colon);
    std::string type = colon == std::string::npos ? std::string() : name.substr(colon + 1);
    if (what == "log_kernel_sum" && colon == std::string::npos) {
      out.push_back(std::log(std::max(kernel_sum, 1e-12)));
      continue;
    }
    if ((what != "count" && what != "gflop" && what != "mb") || (colon != std::string::npos && type.empty()))
      throw Error(fmt::format("unknown model feature '{}' (known: count, gflop, mb, each also as NAME:TYPE, and "
                              "log_kernel_sum)",
                              name));
    double v = 0;
    for (size_t i = 0; i < kernels.size(); ++i) {
      const Kernel& k = kernels[i];
      if (k.zero_cost) continue;
      if (!type.empty() && scored[i] != type) continue;
      v += what == "count" ? 1.0 : what == "gflop" ? k.flops / 1e9 : k.bytes / 1e6;
    }
    out.push_back(v);
  }
  return out;
}

}  // namespace deepen
