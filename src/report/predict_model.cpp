// One model from its graph to its report, the path deepen predict and the Python module share.
#include <deepen/report.h>

#include <fmt/format.h>

#include <cmath>

namespace deepen {

ModelReport predict_model(const std::string& model, Graph graph, const Predictor& predictor,
                          const PredictOptions& options) {
  std::vector<Kernel> kernels = detect_kernels(graph, predictor.fusion_rules());
  ModelEstimate estimate = predictor.estimate_model(kernels, options);
  ModelReport r = summarise(model, std::move(kernels), std::move(estimate), options.purpose);
  r.folded = std::move(graph.folded);
  if (std::isnan(value_of(r, options.purpose)) && r.kernel_count > 0)  // nothing scored what was asked
    r.error = fmt::format("no {} could be predicted: none of its {} kernels could be scored for it",
                          purpose_name(options.purpose), r.kernel_count);
  return r;
}

std::map<std::string, double> source_shares(const ModelReport& r, Purpose purpose) {
  const bool by_latency = purpose == Purpose::Latency;
  const double total = by_latency ? r.latency_ms : r.energy_mj;
  std::map<std::string, double> shares;
  if (!(total > 0) || r.estimates.size() != r.kernels.size() || (r.estimates.empty() && r.kernel_count > 0))
    return shares;
  for (const Estimate& e : r.estimates) {
    const double v = by_latency ? e.latency_ms : e.energy_mj;
    if (std::isnan(v) || v == 0) continue;
    shares[source_name(e.source_of(purpose))] += v / total;
  }
  const double per_inference = by_latency ? r.latency_ms_per_inference : r.energy_mj_per_inference;
  if (per_inference > 0) shares["per-inference"] = per_inference / total;
  return shares;
}

}  // namespace deepen
