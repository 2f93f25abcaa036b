// deepen train --models: measured models in (a models CSV per file), kernel cost models out.
#include <deepen/csv.h>
#include <deepen/error.h>
#include <deepen/graph.h>
#include <deepen/schema.h>
#include <deepen/train.h>

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>

namespace deepen {
namespace {

// What the kernels of a model are, order aside: two files with the same signature are copies
// of one network.
std::string kernel_signature(const std::vector<Kernel>& kernels) {
  std::vector<std::string> parts;
  for (const Kernel& k : kernels) {
    if (k.zero_cost) continue;
    std::string p = k.type;
    for (const auto& [name, value] : k.config.fields) p += fmt::format(" {}={}", name, value);
    parts.push_back(std::move(p));
  }
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (const auto& p : parts) out += p + ";";
  return out;
}

}  // namespace

std::vector<CompositeSample> read_models_csv(const std::string& csv_path, Purpose purpose, const FusionRules& rules) {
  std::vector<CompositeSample> samples;
  // A model named on several rows (measured repeatedly) is loaded once.
  std::map<std::string, size_t> loaded;
  for (const MeasuredModel& row : read_measured_models(csv_path, purpose)) {
    CompositeSample s;
    s.label = fmt::format("{}:{} ({})", csv_path, row.line, row.model);
    s.value = row.value;
    auto it = loaded.find(row.path);
    if (it != loaded.end()) {
      s.kernels = samples[it->second].kernels;
    } else {
      try {
        s.kernels = detect_kernels(load_onnx(row.path), rules);
      } catch (const Error& e) {
        throw Error(e.kind(), fmt::format("{}:{}: model {}: {}", csv_path, row.line, row.model, e.what()));
      }
      bool learnable = false;
      for (const Kernel& k : s.kernels) learnable = learnable || (!k.zero_cost && find_schema(rules.scored_as(k.type)));
      if (!learnable)
        throw Error(fmt::format("{}:{}: model {} has no kernel a booster can learn from (only zero-cost or "
                                "unsupported ops)",
                                csv_path, row.line, row.model));
      loaded.emplace(row.path, samples.size());
    }
    // Without a group column, copies of one network (same kernels) share a fold.
    s.group = row.group.empty() ? kernel_signature(s.kernels) : row.group;
    samples.push_back(std::move(s));
  }
  return samples;
}

TrainedComposite train_composite(const TrainRequest& req, const std::string& purpose, const KernelDataset& data,
                                 const FusionRules& rules, const std::string& version,
                                 std::vector<PendingFile>* pending, std::vector<TrainedKernel>* kernels,
                                 const std::function<void(const std::string&)>& progress) {
  auto say = [&](const std::string& line) {
    if (progress) progress(line);
  };
  const Purpose p = parse_purpose(purpose);
  const std::string field = purpose_field(p);
  TrainedComposite out;
  out.purpose = purpose;
  std::vector<CompositeSample> samples;
  for (const auto& path : req.models) {
    std::vector<std::string> header = csv_header(path, "model measurements");
    if (req.models.size() > 1 && std::find(header.begin(), header.end(), field) == header.end())
      continue;  // measures another purpose
    say(fmt::format("reading {} ({})", path, field));
    std::vector<CompositeSample> s = read_models_csv(path, p, rules);
    out.files.push_back(path);
    out.file_rows.push_back(s.size());
    out.models += s.size();
    for (auto& x : s) samples.push_back(std::move(x));
  }
  std::vector<DatasetRow> rows;
  for (const auto& r : data.rows)
    if (r.targets.count(field)) rows.push_back(r);
  std::vector<Kernel> row_kernels = kernels_from_rows(rows);
  for (size_t i = 0; i < rows.size(); ++i) {
    CompositeSample s;
    s.label = fmt::format("{}:{}", data.label.empty() ? "dataset" : data.label, rows[i].line);
    s.group = config_key(rows[i]);
    s.kernels = {row_kernels[i]};
    s.value = rows[i].targets.at(field);
    s.kernel_row = true;
    samples.push_back(std::move(s));
  }
  out.kernel_rows = rows.size();
  for (const auto& s : samples)  // what it is trained on, for eval's in-sample split
    (s.kernel_row ? out.kernel_fingerprints : out.model_fingerprints)
        .push_back(s.kernel_row ? kernel_fingerprint(s.kernels[0], rules) : model_fingerprint(s.kernels, rules));

  CompositeParams params;
  params.booster = req.params;
  params.booster.transform = "log-ratio";
  params.correction = req.correction;
  params.kernel_base = req.kernel_base;
  params.correction_features = req.correction_features;
  params.purpose = p;
  say(fmt::format("training {} from {} models{}: {}-fold CV over models + final fit", purpose, out.models,
                  rows.empty() ? std::string() : fmt::format(" and {} kernel rows", rows.size()), req.params.folds));
  out.cv = cross_validate_composite(samples, rules, params);
  const Metrics& ks = out.cv.kernel_sum;
  say(fmt::format("  kernel sum: {:.1f}% within ±10%, MAPE {:.1f}%", 100 * ks.acc10, ks.mape));
  if (req.correction != "off")
    say(fmt::format("  with model-level correction: {:.1f}% within ±10%, MAPE {:.1f}% ({})", 100 * out.cv.corrected.acc10,
                    out.cv.corrected.mape, out.cv.use_correction ? "kept" : "not kept"));
  if (!req.cv_predictions.empty()) {
    std::string csv = fmt::format("model,group,measured_{0},predicted_{0},ratio\n", field);
    for (size_t i = 0; i < samples.size(); ++i)
      csv += fmt::format("{},{},{:.6g},{:.6g},{:.4f}\n", csv_escape(samples[i].label), csv_escape(samples[i].group),
                         samples[i].value, out.cv.predicted[i], out.cv.predicted[i] / samples[i].value);
    std::ofstream f(req.cv_predictions, std::ios::binary);
    if (!(f << csv)) throw Error(fmt::format("{}: cannot write the cross-validation predictions", req.cv_predictions));
  }
  CompositeFit fit = fit_composite(samples, rules, params, out.cv.use_correction);
  out.per_inference = fit.per_inference;
  out.kernel_costs = fit.kernel_costs();
  for (const auto& m : fit.kernels) {
    TrainedKernel tk;
    tk.kernel = m.type;
    tk.purpose = purpose;
    tk.rows = m.configs;
    tk.base = m.base;
    tk.params = params.booster;
    tk.booster_file = fmt::format("{}.{}.v{}.ubj", m.type, purpose, version);
    tk.spec = m.booster->spec();
    tk.spec.path = tk.booster_file;
    tk.spec.ranges = feature_ranges(m.features, find_schema(m.type)->feature_names.size());
    pending->push_back({tk.booster_file, m.booster->to_ubj()});
    out.kernel_types.push_back(m.type);
    say(fmt::format("  {}: {} configurations, {} kernels", m.type, m.configs, m.kernels));
    kernels->push_back(std::move(tk));
  }
  if (fit.correction) {
    out.correction_file = fmt::format("model.{}.v{}.ubj", purpose, version);
    out.correction_features = fit.correction_features;
    pending->push_back({out.correction_file, fit.correction->to_ubj()});
  }
  return out;
}

}  // namespace deepen
