#include "cli/commands.h"

#include <deepen/error.h>
#include <deepen/output_file.h>
#include <deepen/predict.h>
#include <deepen/train.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <memory>
#include <sstream>

namespace deepen::cli {
namespace {

struct EvalFlags {
  std::string predictor, version, purpose = "energy", dataset, models, plot, format = "table", output, predictors;
  bool no_fallback = false;
};

std::string pct(double share) { return fmt::format("{:.1f}", 100 * share); }

int run_eval(const EvalFlags& f) {
  Purpose purpose = parse_purpose(f.purpose);
  if (f.dataset.empty() == f.models.empty()) throw Error("give one of --dataset (kernels) or --models (whole models)");
  std::string plot_ext;
  if (!f.plot.empty()) {
    auto dot = f.plot.rfind('.');
    plot_ext = dot == std::string::npos ? "" : f.plot.substr(dot + 1);
    std::transform(plot_ext.begin(), plot_ext.end(), plot_ext.begin(), ::tolower);
    if (plot_ext != "svg" && plot_ext != "png")
      throw Error(fmt::format("--plot {}: the file must end in .svg or .png", f.plot));
  }
  Registry registry = load_registry(predictors_dir(f.predictors));
  Predictor predictor = Predictor::load(registry, f.predictor, f.version);
  std::string why;
  if (!predictor.supports(purpose, &why)) throw Error(ErrorKind::UnsupportedPurpose, why);
  PredictOptions options;
  options.use_fallback = !f.no_fallback;
  EvalResult r;
  if (f.dataset.empty()) {
    r = evaluate_models(predictor, purpose, f.models, options);
  } else {
    KernelDataset data = read_dataset_csv(f.dataset);
    if (data.skipped)
      print_note(fmt::format("{}: {} zero-cost or other:OP kernel row(s) left out: no predictor scores them",
                             f.dataset, data.skipped));
    r = evaluate_kernels(predictor, purpose, data, options);
  }
  std::string unit = purpose_unit(purpose);
  const bool by_model = f.dataset.empty();
  // A model's error: predicted against measured, in percent (+ over, - under).
  auto error_pct = [](const EvalPoint& p) { return (p.predicted / p.measured - 1) * 100; };
  std::string what = f.dataset.empty() ? "models of " + f.models : "kernels of " + f.dataset;
  std::ostringstream out;
  if (f.format == "json") {
    auto groups = nlohmann::ordered_json::array();
    for (const auto& g : r.groups) {
      const Metrics& m = g.metrics;
      groups.push_back({{"name", g.name}, {"n", m.n}, {"rmse", m.rmse}, {"mape", m.mape}, {"rmspe", m.rmspe},
                        {"acc5", m.acc5}, {"acc10", m.acc10}, {"acc20", m.acc20}, {"fallback", g.fallback},
                        {"uncovered", g.uncovered}});
    }
    nlohmann::ordered_json j = {{"predictor", predictor.entry().name}, {"version", predictor.entry().version},
                                {"purpose", purpose_name(purpose)},    {"unit", unit},
                                {"data", f.dataset.empty() ? f.models : f.dataset},
                                {"level", f.dataset.empty() ? "model" : "kernel"},
                                {"training_set_known", r.training_set_known},
                                {"in_sample_rows", r.in_sample},
                                {"groups", groups}};
    if (by_model) {  // each model beside the aggregate: which ones miss, and by how much
      auto models = nlohmann::ordered_json::array();
      for (const auto& p : r.points)
        models.push_back({{"model", p.kernel}, {"measured", p.measured},
                          {"predicted", std::isfinite(p.predicted) ? nlohmann::ordered_json(p.predicted)
                                                                   : nlohmann::ordered_json(nullptr)},
                          {"error_pct", std::isfinite(p.predicted) ? nlohmann::ordered_json(error_pct(p))
                                                                   : nlohmann::ordered_json(nullptr)},
                          {"source", p.source}, {"in_sample", p.in_sample}});
      j["models"] = models;
    }
    out << j.dump(2) << "\n";
  } else if (f.format == "csv") {
    // With --models, one table holds both: the groups (as with --dataset), then a row per model
    // (group "(model)") with the model's own columns, empty on group rows.
    out << fmt::format("group,n,rmse_{},mape_pct,rmspe_pct,acc5,acc10,acc20,fallback,uncovered{}\n",
                       purpose_field(purpose).substr(purpose_field(purpose).find('_') + 1),
                       by_model ? fmt::format(",model,measured_{0},predicted_{0},error_pct,source,in_sample",
                                              purpose_field(purpose))
                                : std::string());
    for (const auto& g : r.groups) {
      const Metrics& m = g.metrics;
      out << fmt::format("{},{},{:.6g},{:.4f},{:.4f},{:.4f},{:.4f},{:.4f},{},{}{}\n", csv_escape(g.name), m.n, m.rmse,
                         m.mape, m.rmspe, m.acc5, m.acc10, m.acc20, g.fallback, g.uncovered,
                         by_model ? ",,,,,," : "");
    }
    if (by_model)
      for (const auto& p : r.points)
        out << fmt::format("(model),,,,,,,,,,{},{:.6g},{},{},{},{}\n", csv_escape(p.kernel), p.measured,
                           std::isfinite(p.predicted) ? fmt::format("{:.6g}", p.predicted) : std::string(),
                           std::isfinite(p.predicted) ? fmt::format("{:.2f}", error_pct(p)) : std::string(),
                           p.source, p.in_sample ? "true" : "false");
  } else {
    out << fmt::format("{} {} ({}), {} in {}: {}\n", predictor.entry().name, predictor.entry().version,
                       predictor.entry().device, purpose_name(purpose), unit, what);
    size_t w = 5;
    for (const auto& g : r.groups) w = std::max(w, g.name.size());
    out << fmt::format("{:<{}}  {:>6}  {:>10}  {:>7}  {:>7}  {:>6}  {:>6}  {:>6}  {:>8}  {:>9}\n",
                       f.dataset.empty() ? "" : "kernel", w, "rows", "RMSE " + unit, "MAPE%", "RMSPE%", "±5%", "±10%",
                       "±20%", "fallback", "uncovered");
    for (const auto& g : r.groups) {
      const Metrics& m = g.metrics;
      if (m.n == 0) {  // no scored row: no figure, rather than zeros that read as a result
        out << fmt::format("{:<{}}  {:>6}  {:>10}  {:>7}  {:>7}  {:>6}  {:>6}  {:>6}  {:>8}  {:>9}\n", g.name, w, 0, "-",
                           "-", "-", "-", "-", "-", g.fallback, g.uncovered);
        continue;
      }
      out << fmt::format("{:<{}}  {:>6}  {:>10.4g}  {:>7.2f}  {:>7.2f}  {:>6}  {:>6}  {:>6}  {:>8}  {:>9}\n", g.name,
                         w, m.n, m.rmse, m.mape, m.rmspe, pct(m.acc5), pct(m.acc10), pct(m.acc20), g.fallback,
                         g.uncovered);
    }
    out << "rows: scored rows (uncovered ones are not in the metrics); ±N%: share of rows predicted within ±N% of "
           "the measured value\n";
    const char* row_kind = f.dataset.empty() ? "models" : "kernel configurations";
    if (r.in_sample > 0)
      out << fmt::format("(in-sample): the {} rows whose {} the predictor was trained on: how well it fits them, "
                         "not how well it predicts; (held-out): the others, the figures to judge it by\n",
                         r.in_sample, row_kind);
    else if (r.training_set_known)
      out << fmt::format("no row is among the {} the predictor was trained on: every figure is held out\n", row_kind);
    else
      out << "this predictor records no training set (trained before deepen kept one): rows it was trained on "
             "cannot be told apart\n";
    if (by_model) {
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
  }
  emit(out.str(), f.output);
  if (!f.plot.empty()) {
    std::string title = fmt::format("{} {}: {} ({})", predictor.entry().name, predictor.entry().version,
                                    purpose_name(purpose), f.dataset.empty() ? "models" : "kernels");
    write_file_atomically(f.plot, plot_ext == "svg" ? plot_svg(r.points, title, unit) : plot_png(r.points, title, unit));
  }
  return kExitOk;
}

}  // namespace

void add_eval_command(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<EvalFlags>();
  CLI::App* cmd = app.add_subcommand("eval", "Measure a predictor's accuracy on measured kernels or models");
  cmd->add_option("--predictor,-p", f->predictor, "Predictor name from the registry (see deepen list)")->required();
  cmd->add_option("--predictor-version", f->version, "Predictor version (default: the newest)");
  cmd->add_option("--purpose", f->purpose, "latency, power or energy")->capture_default_str();
  auto* ds = cmd->add_option("--dataset,-d", f->dataset, "Kernel dataset CSV with measured values");
  auto* ms = cmd->add_option("--models", f->models,
                             "CSV of whole models: column model (ONNX file, relative to the CSV) and the measured "
                             "latency_ms, energy_mj or power_mw");
  ds->excludes(ms);
  cmd->add_option("--plot", f->plot, "Draw predicted against measured (log-log, ±10% band) to FILE.svg or FILE.png");
  cmd->add_option("--format,-f", f->format, "Output format")
      ->check(CLI::IsMember({"table", "json", "csv"}))
      ->capture_default_str();
  cmd->add_option("--output,-o", f->output, "Write the output to FILE instead of standard output");
  cmd->add_flag("--no-fallback", f->no_fallback, "Leave kernels without a trained booster uncovered");
  cmd->add_option("--predictors", f->predictors, "Registry folder (default: $DEEPEN_PREDICTORS or the built-in)");
  cmd->callback([f, &exit_code] { exit_code = run_eval(*f); });
}

}  // namespace deepen::cli
