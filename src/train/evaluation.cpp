// deepen eval: a predictor's estimates against measurements, per kernel type and overall, for
// kernel datasets and for whole models (an ONNX file and its measured value per row).
#include <deepen/error.h>
#include <deepen/graph.h>
#include <deepen/report.h>
#include <deepen/schema.h>
#include <deepen/train.h>

#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace fs = std::filesystem;

namespace deepen {
namespace {

// Whether the predictor was trained on this kernel configuration (model: this model) for the
// purpose; power counts as seen when energy and latency (or power) were.
bool trained_on(const Predictor& predictor, Purpose purpose, uint64_t fingerprint, bool model) {
  const TrainingSet& t = predictor.training_set();
  auto has = [&](const char* p) { return model ? t.has_model(p, fingerprint) : t.has_kernel(p, fingerprint); };
  if (purpose == Purpose::Power) return has("power") || (has("energy") && has("latency"));
  return has(purpose_name(purpose).c_str());
}

EvalGroup group_of(const std::string& name, const std::vector<const EvalPoint*>& points) {
  EvalGroup g;
  g.name = name;
  std::vector<double> predicted, measured;
  for (const EvalPoint* p : points) {
    if (p->source == "uncovered" || !std::isfinite(p->predicted)) {
      ++g.uncovered;
      continue;
    }
    if (p->source == "fallback") ++g.fallback;
    predicted.push_back(p->predicted);
    measured.push_back(p->measured);
  }
  g.metrics = compute_metrics(predicted, measured);
  return g;
}

}  // namespace

std::vector<Kernel> kernels_from_rows(const std::vector<DatasetRow>& rows) {
  std::vector<Kernel> kernels;
  kernels.reserve(rows.size());
  for (const auto& r : rows) {
    Kernel k;
    k.type = r.kernel;
    k.config = r.config;
    KernelWork w = kernel_work(r.kernel, r.config);
    k.macs = w.macs;
    k.flops = w.flops;
    k.params = w.params;
    k.bytes = w.bytes;
    kernels.push_back(std::move(k));
  }
  return kernels;
}

EvalResult summarise_points(std::vector<EvalPoint> points) {
  EvalResult r;
  r.points = std::move(points);
  for (const auto& p : r.points) r.in_sample += p.in_sample;
  for (bool in_sample : {false, true}) {
    if (in_sample && r.in_sample == 0) break;
    std::map<std::string, std::vector<const EvalPoint*>> by;
    std::vector<const EvalPoint*> all;
    for (const auto& p : r.points)
      if (p.in_sample == in_sample) {
        by[p.kernel].push_back(&p);
        all.push_back(&p);
      }
    const std::string suffix = in_sample ? " (in-sample)" : r.in_sample > 0 ? " (held-out)" : "";
    for (const auto& [name, pts] : by) r.groups.push_back(group_of(name + suffix, pts));
    r.groups.push_back(group_of("all" + suffix, all));
  }
  return r;
}

EvalResult evaluate_kernels(const Predictor& predictor, Purpose purpose, const KernelDataset& data,
                            const PredictOptions& options) {
  std::string field = purpose_field(purpose);
  std::vector<DatasetRow> rows;
  for (const auto& r : data.rows)
    if (r.targets.count(field)) rows.push_back(r);
  if (rows.empty())
    throw Error(fmt::format("{}: no row has a measured value in column {} to compare {} predictions with",
                            data.label, field, purpose_name(purpose)));
  std::vector<Kernel> kernels = kernels_from_rows(rows);
  PredictOptions asked = options;
  asked.purpose = purpose;
  std::vector<Estimate> est = predictor.estimate(kernels, asked);
  std::vector<EvalPoint> points;
  for (size_t i = 0; i < rows.size(); ++i) {
    double v = est[i].value(purpose);
    points.push_back({rows[i].kernel, rows[i].targets.at(field), v,
                      source_name(std::isfinite(v) ? est[i].source : Source::Uncovered),
                      trained_on(predictor, purpose, kernel_fingerprint(kernels[i], predictor.fusion_rules()), false)});
  }
  EvalResult r = summarise_points(std::move(points));
  r.training_set_known = !predictor.training_set().empty();
  return r;
}

std::vector<MeasuredModel> read_measured_models(const std::string& csv_path, Purpose purpose) {
  std::ifstream in(csv_path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot open the model measurements", csv_path));
  std::string field = purpose_field(purpose);
  std::string line;
  size_t line_no = 0;
  std::vector<std::string> header;
  size_t model_col = 0, value_col = 0;
  long group_col = -1;
  std::vector<MeasuredModel> rows;
  fs::path base = fs::path(csv_path).parent_path();
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    std::vector<std::string> cells = split_csv_line(line);
    if (header.empty()) {
      header = cells;
      std::map<std::string, size_t> seen;
      for (size_t c = 0; c < cells.size(); ++c)
        if (!seen.emplace(cells[c], c).second)
          throw Error(fmt::format("{}: line {}, column {}: duplicate column '{}'", csv_path, line_no, c + 1, cells[c]));
      if (!seen.count("model"))
        throw Error(fmt::format("{}: line {}: missing column 'model' (the ONNX file, relative to the CSV)", csv_path,
                                line_no));
      if (!seen.count(field))
        throw Error(fmt::format("{}: line {}: missing column '{}' (the measured {} of each model)", csv_path, line_no,
                                field, purpose_name(purpose)));
      model_col = seen["model"];
      value_col = seen[field];
      if (seen.count("group")) group_col = static_cast<long>(seen["group"]);
      continue;
    }
    if (cells.size() != header.size())
      throw Error(fmt::format("{}: line {}: {} cells, but the header has {} columns", csv_path, line_no, cells.size(),
                              header.size()));
    const std::string& model = cells[model_col];
    if (model.empty())
      throw Error(fmt::format("{}: line {}, column {} (model): empty cell", csv_path, line_no, model_col + 1));
    const std::string& cell = cells[value_col];
    char* end = nullptr;
    double measured = std::strtod(cell.c_str(), &end);
    if (cell.empty() || end != cell.c_str() + cell.size() || !std::isfinite(measured))
      throw Error(fmt::format("{}: line {}, column {} ({}): '{}' is not a number", csv_path, line_no, value_col + 1,
                              field, cell));
    if (measured <= 0)
      throw Error(fmt::format("{}: line {}, column {} ({}): {} must be positive", csv_path, line_no, value_col + 1,
                              field, cell));
    MeasuredModel r;
    r.model = model;
    r.path = (fs::path(model).is_absolute() ? fs::path(model) : base / model).string();
    r.value = measured;
    if (group_col >= 0) r.group = cells[static_cast<size_t>(group_col)];
    r.line = line_no;
    rows.push_back(std::move(r));
  }
  if (rows.empty()) throw Error(fmt::format("{}: no model rows after the header", csv_path));
  return rows;
}

EvalResult evaluate_models(const Predictor& predictor, Purpose purpose, const std::string& csv_path,
                           const PredictOptions& options) {
  std::vector<EvalPoint> points;
  for (const MeasuredModel& row : read_measured_models(csv_path, purpose)) {
    Graph g = load_onnx(row.path);
    std::vector<Kernel> kernels = detect_kernels(g, predictor.fusion_rules());
    PredictOptions asked = options;
    asked.purpose = purpose;
    ModelReport r = summarise(row.path, kernels, predictor.estimate_model(kernels, asked), purpose);
    double v = value_of(r, purpose);
    // A model with uncovered kernels has a partial total: it is measured but flagged.
    std::string source = !std::isfinite(v)        ? "uncovered"
                         : r.uncovered_count > 0  ? "partial"
                         : r.fallback_count > 0   ? "fallback"
                                                  : "trained";
    points.push_back({row.model, row.value, v, source,
                      trained_on(predictor, purpose, model_fingerprint(kernels, predictor.fusion_rules()), true)});
  }
  EvalResult result = summarise_points(points);
  // Per-model groups say nothing: keep only the overall ones.
  std::vector<EvalGroup> overall;
  for (auto& g : result.groups)
    if (g.name.rfind("all", 0) == 0) overall.push_back(std::move(g));
  result.groups = std::move(overall);
  result.training_set_known = !predictor.training_set().empty();
  return result;
}

}  // namespace deepen
