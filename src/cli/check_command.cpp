#include "cli/commands.h"

#include <deepen/check.h>
#include <deepen/error.h>
#include <deepen/output_file.h>
#include <deepen/plot.h>
#include <deepen/predict.h>
#include <deepen/report.h>
#include <deepen/writers.h>

#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

namespace deepen::cli {
namespace {

struct CheckFlags {
  std::string predictor, version, purpose = "energy", format = "table", output, predictors;
  std::vector<std::string> modelpaths;
  std::vector<std::string> input_shapes;
  std::string baseline, max_increase, budget, budget_file, min_coverage, junit, chart;
  bool update_baseline = false, no_fallback = false;
};

int run_check_command(const CheckFlags& f) {
  const Purpose purpose = parse_purpose(f.purpose);
  if (f.modelpaths.empty()) throw Error("give the models to check: --modelpath FILE-OR-FOLDER (or paths)");
  if (f.update_baseline && f.baseline.empty()) throw Error("--update-baseline needs --baseline FILE: the file to write");
  if (!f.max_increase.empty() && f.baseline.empty())
    throw Error("--max-increase bounds the increase over a baseline: give --baseline FILE");
  CheckOptions options;
  options.purpose = purpose;
  options.use_fallback = !f.no_fallback;
  options.max_increase = parse_max_increase(f.max_increase, purpose);
  options.min_coverage = parse_min_coverage(f.min_coverage);
  options.accept_baseline = f.update_baseline;
  for (const auto& spec : f.input_shapes) options.load.input_shapes.insert(parse_input_shape(spec));
  PlotFormat chart_format = PlotFormat::Svg;
  if (!f.chart.empty()) chart_format = plot_format_of(f.chart, "--chart");
  Budgets budgets;
  if (!f.budget.empty()) budgets = budget_for_all(f.budget, purpose);
  if (!f.budget_file.empty()) budgets = read_budget_file(f.budget_file, purpose);

  // A missing baseline is an error, unless --update-baseline is to write the first one.
  std::unique_ptr<Baseline> baseline;
  if (!f.baseline.empty() && !(f.update_baseline && !std::filesystem::exists(f.baseline)))
    baseline = std::make_unique<Baseline>(read_baseline(f.baseline, purpose));

  Registry registry = load_registry(predictors_dir(f.predictors));
  Predictor predictor = Predictor::load(registry, f.predictor, f.version);
  std::string why;
  if (!predictor.supports(purpose, &why)) throw Error(ErrorKind::UnsupportedPurpose, why);

  std::vector<CheckModel> models;
  for (const auto& path : f.modelpaths)
    for (const auto& file : model_files(path)) {
      bool seen = false;
      for (const auto& m : models) seen = seen || m.file == file;
      if (!seen) models.push_back({file, model_key(file, path)});
    }
  CheckResult result = run_check(models, predictor, options, baseline.get(), budgets);

  if (f.format == "json") {  // the table has them already
    for (const auto& note : result.notes) print_note(note);
    for (const auto& m : result.models)
      for (const auto& finding : m.findings)
        if (finding.kind == "error") print_error(m.file + ": " + finding.message);
  }
  std::ostringstream text;
  find_format(check_formats(), f.format).write(text, result);
  emit(text.str(), f.output);
  if (!f.junit.empty()) {
    std::ostringstream xml;
    write_check_junit(xml, result);
    write_file_atomically(f.junit, xml.str());
  }
  if (!f.chart.empty()) write_file_atomically(f.chart, draw_check_chart(result, chart_format));

  const size_t errors = result.count(Verdict::Error);
  if (f.update_baseline) {
    if (errors > 0) {
      print_error(fmt::format("{} not updated: {} model(s) could not be predicted", f.baseline, errors));
    } else {
      ReportContext ctx;
      ctx.predictor = predictor.entry().name;
      ctx.version = predictor.entry().version;
      ctx.device = predictor.entry().device;
      ctx.purpose = purpose;
      std::ostringstream json;
      write_json(json, result.reports, ctx);  // what deepen predict -f json writes
      write_file_atomically(f.baseline, json.str());
      print_note(fmt::format("{} updated: {} model(s), {} by {} {}", f.baseline, result.reports.size(),
                             purpose_name(purpose), ctx.predictor, ctx.version));
    }
  }
  if (errors > 0) return errors == models.size() ? kExitAllFailed : kExitPartial;
  return result.holds() ? kExitOk : kExitCheckFailed;
}

}  // namespace

void add_check_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<CheckFlags>();
  CLI::App* cmd = app.add_subcommand(
      "check", "Gate for CI: predict models and compare with a baseline and budgets (exit 0: all hold, 4: not)");
  cmd->add_option("--predictor,-p", flags->predictor, "Predictor name from the registry (see deepen list)")
      ->required();
  cmd->add_option("--predictor-version", flags->version, "Predictor version (default: the newest)");
  cmd->add_option("--purpose", flags->purpose, "latency, power or energy (any letter case)")->capture_default_str();
  add_model_paths(cmd, flags->modelpaths);
  cmd->add_option("--baseline,-b", flags->baseline,
                  "The JSON of deepen predict -f json to compare with; models are matched by their path under "
                  "--modelpath");
  cmd->add_option("--max-increase", flags->max_increase,
                  "Largest increase over the baseline that holds, as 5% or a quantity such as 0.2mJ (default: none)");
  auto* budget = cmd->add_option("--budget", flags->budget,
                                 "The most any model may cost, with its unit: 10mJ, 25ms, 2W (mJ/J, ms/s, mW/W)");
  auto* budget_file = cmd->add_option("--budget-file", flags->budget_file,
                                      "YAML of model (path under --modelpath) to budget, and `default` for the rest");
  budget->excludes(budget_file);
  budget_file->excludes(budget);
  cmd->add_option("--min-coverage", flags->min_coverage,
                  "Least share of the FLOPs that trained boosters must score, as in deepen predict (90%, "
                  "kernels:90%)");
  add_format_option(cmd, flags->format, format_names(check_formats()));
  cmd->add_option("--output,-o", flags->output, "Write the output to FILE instead of standard output");
  cmd->add_option("--junit", flags->junit, "Also write a JUnit XML report to FILE (one testcase per model)");
  cmd->add_option("--chart", flags->chart,
                  "Also draw baseline against now per model to FILE.svg, FILE.png or FILE.pdf");
  cmd->add_flag("--update-baseline", flags->update_baseline,
                "Accept the changes: rewrite --baseline with this run's predictions (budgets and --min-coverage "
                "still hold)");
  cmd->add_option("--input-shape", flags->input_shapes,
                  "Override an input's shape, e.g. input:1x3x224x224 (repeatable)")
      ->allow_extra_args(false);  // one value per use: a model path after it stays a model path
  cmd->add_flag("--no-fallback", flags->no_fallback,
                "Leave kernels without a trained booster uncovered instead of using the analytical fallback");
  cmd->add_option("--predictors", flags->predictors, "Registry folder (default: $DEEPEN_PREDICTORS or the built-in)");
  cmd->callback([flags, &exit_code] { exit_code = run_check_command(*flags); });
}

}  // namespace deepen::cli
