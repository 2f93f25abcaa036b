// One model through the whole pipeline (graph, kernels, predict, report), the share each source
// gave, and the --min-coverage bound on the result: what `deepen predict`, `deepen check` and the
// Python module all do for every model.
#include <deepen/error.h>
#include <deepen/report.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace deepen {
namespace {

// A share below a bound, with the decimals the bound has or more, as it takes to read below it
// (99.1% against 99.5%, not 99%).
std::string share_below(double share, double bound) {
  int start = 0;
  while (start < 4 && std::abs(std::stod(fmt::format("{:.{}f}", bound * 100, start)) - bound * 100) > 1e-9) ++start;
  for (int decimals = start; decimals <= 4; ++decimals) {
    std::string text = fmt::format("{:.{}f}", share * 100, decimals);
    const double shown = std::stod(text);
    if (shown < bound * 100 && (shown > 0 || share <= 0)) return text + "%";
  }
  return format_share(share);
}

}  // namespace

ModelReport predict_model(const std::string& model, Graph graph, const Predictor& predictor,
                          const PredictOptions& options) {
  std::vector<Kernel> kernels = detect_kernels(graph, predictor.fusion_rules());
  ModelEstimate estimate = predictor.estimate_model(kernels, options);
  ModelReport r = summarise(model, std::move(kernels), std::move(estimate), options.purpose);
  r.folded = std::move(graph.folded);
  if (std::isnan(value_of(r, options.purpose)) && r.kernel_count > 0)  // nothing scored what was asked
    r.error = fmt::format("no {} could be predicted: none of its {} kernels could be scored for it{}",
                          purpose_name(options.purpose), r.kernel_count,
                          options.use_fallback ? ""
                                               : " (--no-fallback leaves every kernel without a booster uncovered)");
  return r;
}

ModelReport predict_model(const std::string& file, const Predictor& predictor, const LoadOptions& load,
                          const PredictOptions& options) {
  return predict_model(file, load_onnx(file, load), predictor, options);
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

CoverageBound parse_min_coverage(const std::string& text) {
  CoverageBound m;
  m.text = text;
  if (text.empty()) return m;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string part = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? text.size() + 1 : comma + 1;
    double* bound = &m.flops;
    for (const char* what : {"flops:", "kernels:"})
      if (part.rfind(what, 0) == 0) {
        bound = std::string(what) == "flops:" ? &m.flops : &m.kernels;
        part = part.substr(std::string(what).size());
      }
    const bool percent = !part.empty() && part.back() == '%';
    if (percent) part.pop_back();
    char* end = nullptr;
    double v = std::strtod(part.c_str(), &end);
    if (part.empty() || end != part.c_str() + part.size() || !std::isfinite(v) || v < 0 || (!percent && v > 1) ||
        v > 100)
      throw Error(fmt::format("--min-coverage {}: give a share of the FLOPs (or kernels) that trained predictors must "
                              "score, as 90% or 0.9, optionally as flops:90% or kernels:90%, or both joined by a comma",
                              text));
    *bound = percent ? v / 100 : v;
  }
  return m;
}

std::string kernels_named(const ModelReport& r, const std::function<bool(const Estimate&)>& pick, bool with_source) {
  struct Group {
    std::string type;
    Source source;
    size_t count = 0;
    std::vector<std::string> nodes;
  };
  std::vector<Group> groups;
  for (size_t i = 0; i < r.kernels.size(); ++i) {
    const Kernel& k = r.kernels[i];
    const Estimate& e = r.estimates[i];
    if (k.zero_cost || !pick(e)) continue;
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const Group& g) { return g.type == k.type && g.source == e.source; });
    if (it == groups.end()) it = groups.insert(groups.end(), Group{k.type, e.source, 0, {}});
    ++it->count;
    if (it->nodes.size() < 2 && !k.nodes.empty()) it->nodes.push_back(k.nodes.front());
  }
  std::string out;
  for (const auto& g : groups) {
    std::string nodes;
    for (const auto& n : g.nodes) nodes += (nodes.empty() ? "" : ", ") + n;
    if (g.count > g.nodes.size()) nodes += ", ...";
    out += fmt::format("{}{}{} ({}{})", out.empty() ? "" : ", ", g.type,
                       g.count > 1 ? fmt::format(" x{}", g.count) : std::string(),
                       with_source ? std::string(source_name(g.source)) + ": " : std::string(), nodes);
  }
  return out;
}

std::string coverage_shortfall(const ModelReport& r, const CoverageBound& m) {
  std::vector<std::string> short_of;
  if (m.flops >= 0 && r.coverage_flops < m.flops)
    short_of.push_back(fmt::format("{} of its FLOPs", share_below(r.coverage_flops, m.flops)));
  if (m.kernels >= 0 && r.coverage_kernels < m.kernels)
    short_of.push_back(fmt::format("{} of its kernels", share_below(r.coverage_kernels, m.kernels)));
  if (short_of.empty()) return "";
  std::string what = short_of[0] + (short_of.size() > 1 ? " and " + short_of[1] : "");
  return fmt::format("trained predictors score {}, below --min-coverage {}; not by a trained predictor: {}", what,
                     m.text, kernels_named(r, [](const Estimate& e) { return e.source != Source::Trained; }, true));
}

}  // namespace deepen
