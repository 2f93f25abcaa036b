// deepen eval: a predictor's accuracy on measured kernels or models, as a table (for people),
// JSON and CSV (for scripts). Layouts: docs/eval.md.
#include <deepen/csv.h>
#include <deepen/writers.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace deepen {
namespace {

using nlohmann::ordered_json;

std::string pct(double share) { return fmt::format("{:.1f}", 100 * share); }

// A model's error: predicted against measured, in percent (+ over, - under).
double error_pct(const EvalPoint& p) { return (p.predicted / p.measured - 1) * 100; }

ordered_json number_or_null(double v) { return std::isfinite(v) ? ordered_json(v) : ordered_json(nullptr); }

void write_eval_json(std::ostream& out, const EvalOutput& o) {
  const EvalResult& r = o.result;
  auto groups = ordered_json::array();
  for (const auto& g : r.groups) {
    const Metrics& m = g.metrics;
    groups.push_back({{"name", g.name}, {"n", m.n}, {"rmse", m.rmse}, {"mape", m.mape}, {"rmspe", m.rmspe},
                      {"acc5", m.acc5}, {"acc10", m.acc10}, {"acc20", m.acc20}, {"fallback", g.fallback},
                      {"uncovered", g.uncovered}});
  }
  ordered_json j = {{"predictor", o.predictor}, {"version", o.version},
                    {"purpose", purpose_name(o.purpose)}, {"unit", purpose_unit(o.purpose)},
                    {"data", o.data},
                    {"level", o.by_model ? "model" : "kernel"},
                    {"training_set_known", r.training_set_known},
                    {"in_sample_rows", r.in_sample},
                    {"groups", groups}};
  if (o.by_model) {  // each model beside the aggregate: which ones miss, and by how much
    auto models = ordered_json::array();
    for (const auto& p : r.points)
      models.push_back({{"model", p.kernel}, {"measured", p.measured},
                        {"predicted", number_or_null(p.predicted)},
                        {"error_pct", std::isfinite(p.predicted) ? ordered_json(error_pct(p)) : ordered_json(nullptr)},
                        {"source", p.source}, {"in_sample", p.in_sample}});
    j["models"] = models;
  }
  out << j.dump(2) << "\n";
}

// With --models, one table holds both: the groups (as with --dataset), then a row per model
// (group "(model)") with the model's own columns, empty on group rows.
void write_eval_csv(std::ostream& out, const EvalOutput& o) {
  const std::string field = purpose_field(o.purpose);  // energy_mj
  std::vector<std::string> head = {"group", "n", "rmse_" + field.substr(field.find('_') + 1), "mape_pct",
                                   "rmspe_pct", "acc5", "acc10", "acc20", "fallback", "uncovered"};
  if (o.by_model)
    for (std::string column : {std::string("model"), "measured_" + field, "predicted_" + field,
                               std::string("error_pct"), std::string("source"), std::string("in_sample")})
      head.push_back(std::move(column));
  out << csv_row(head);
  for (const auto& g : o.result.groups) {
    const Metrics& m = g.metrics;
    std::vector<std::string> row = {g.name,
                                    std::to_string(m.n),
                                    fmt::format("{:.6g}", m.rmse),
                                    fmt::format("{:.4f}", m.mape),
                                    fmt::format("{:.4f}", m.rmspe),
                                    fmt::format("{:.4f}", m.acc5),
                                    fmt::format("{:.4f}", m.acc10),
                                    fmt::format("{:.4f}", m.acc20),
                                    std::to_string(g.fallback),
                                    std::to_string(g.uncovered)};
    if (o.by_model) row.resize(row.size() + 6);
    out << csv_row(row);
  }
  if (!o.by_model) return;
  for (const auto& p : o.result.points) {
    std::vector<std::string> row(10);
    row[0] = "(model)";
    const bool scored = std::isfinite(p.predicted);
    for (std::string cell : {p.kernel, fmt::format("{:.6g}", p.measured),
                             scored ? fmt::format("{:.6g}", p.predicted) : std::string(),
                             scored ? fmt::format("{:.2f}", error_pct(p)) : std::string(), p.source,
                             std::string(p.in_sample ? "true" : "false")})
      row.push_back(std::move(cell));
    out << csv_row(row);
  }
}

void write_eval_table(std::ostream& out, const EvalOutput& o) {
  const EvalResult& r = o.result;
  const std::string unit = purpose_unit(o.purpose);
  const std::string what = (o.by_model ? "models of " : "kernels of ") + o.data;
  out << fmt::format("{} {} ({}), {} in {}: {}\n", o.predictor, o.version, o.device, purpose_name(o.purpose), unit,
                     what);
  size_t w = 5;
  for (const auto& g : r.groups) w = std::max(w, g.name.size());
  out << fmt::format("{:<{}}  {:>6}  {:>10}  {:>7}  {:>7}  {:>6}  {:>6}  {:>6}  {:>8}  {:>9}\n",
                     o.by_model ? "" : "kernel", w, "rows", "RMSE " + unit, "MAPE%", "RMSPE%", "±5%", "±10%", "±20%",
                     "fallback", "uncovered");
  for (const auto& g : r.groups) {
    const Metrics& m = g.metrics;
    if (m.n == 0) {  // no scored row: no figure, rather than zeros that read as a result
      out << fmt::format("{:<{}}  {:>6}  {:>10}  {:>7}  {:>7}  {:>6}  {:>6}  {:>6}  {:>8}  {:>9}\n", g.name, w, 0, "-",
                         "-", "-", "-", "-", "-", g.fallback, g.uncovered);
      continue;
    }
    out << fmt::format("{:<{}}  {:>6}  {:>10.4g}  {:>7.2f}  {:>7.2f}  {:>6}  {:>6}  {:>6}  {:>8}  {:>9}\n", g.name, w,
                       m.n, m.rmse, m.mape, m.rmspe, pct(m.acc5), pct(m.acc10), pct(m.acc20), g.fallback,
                       g.uncovered);
  }
  out << "rows: scored rows (uncovered ones are not in the metrics); ±N%: share of rows predicted within ±N% of "
         "the measured value\n";
  const char* row_kind = o.by_model ? "models" : "kernel configurations";
  if (r.in_sample > 0)
    out << fmt::format("(in-sample): the {} rows whose {} the predictor was trained on: how well it fits them, "
                       "not how well it predicts; (held-out): the others, the figures to judge it by\n",
                       r.in_sample, row_kind);
  else if (r.training_set_known)
    out << fmt::format("no row is among the {} the predictor was trained on: every figure is held out\n", row_kind);
  else
    out << "this predictor records no training set (trained before deepen kept one): rows it was trained on "
           "cannot be told apart\n";
  if (!o.by_model) return;
  size_t mw = 5;
  for (const auto& p : r.points) mw = std::max(mw, p.kernel.size());
  out << fmt::format("\n{:<{}}  {:>12}  {:>12}  {:>8}  {:<9}  {}\n", "model", mw, "measured " + unit,
                     "predicted " + unit, "error", "source", "trained on");
  for (const auto& p : r.points)
    out << fmt::format("{:<{}}  {:>12.4g}  {:>12}  {:>8}  {:<9}  {}\n", p.kernel, mw, p.measured,
                       std::isfinite(p.predicted) ? fmt::format("{:.4g}", p.predicted) : "-",
                       std::isfinite(p.predicted) ? fmt::format("{:+.1f}%", error_pct(p)) : "-", p.source,
                       p.in_sample ? "yes" : "no");
}

}  // namespace

const OutputFormats<EvalOutput>& eval_formats() {
  static const OutputFormats<EvalOutput> formats = {
      {"table", write_eval_table},
      {"json", write_eval_json},
      {"csv", write_eval_csv},
  };
  return formats;
}

}  // namespace deepen
