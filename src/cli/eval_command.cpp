#include "cli/commands.h"

#include <deepen/error.h>
#include <deepen/output_file.h>
#include <deepen/predict.h>
#include <deepen/train.h>
#include <deepen/writers.h>

#include <fmt/format.h>

#include <algorithm>
#include <memory>
#include <sstream>

namespace deepen::cli {
namespace {

struct EvalFlags {
  std::string predictor, version, purpose = "energy", dataset, models, plot, format = "table", output, predictors;
  bool no_fallback = false;
};

int run_eval(const EvalFlags& f) {
  Purpose purpose = parse_purpose(f.purpose);
  if (f.dataset.empty() == f.models.empty()) throw Error("give one of --dataset (kernels) or --models (whole models)");
  PlotFormat plot_format = PlotFormat::Svg;
  if (!f.plot.empty()) plot_format = plot_format_of(f.plot, "--plot");
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
  EvalOutput output{r, predictor.entry().name, predictor.entry().version, predictor.entry().device, purpose,
                    f.dataset.empty() ? f.models : f.dataset, f.dataset.empty()};
  std::ostringstream out;
  find_format(eval_formats(), f.format).write(out, output);
  emit(out.str(), f.output);
  if (!f.plot.empty()) {
    const std::string what = f.dataset.empty() ? "models of " + f.models : "kernels of " + f.dataset;
    write_file_atomically(f.plot, draw_accuracy_plot(eval_plot(r, predictor.entry(), purpose, what), plot_format));
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
  cmd->add_option("--plot", f->plot, "Draw predicted against measured (log-log, ±10% band) to FILE.svg, FILE.png or FILE.pdf");
  add_format_option(cmd, f->format, format_names(eval_formats()));
  cmd->add_option("--output,-o", f->output, "Write the output to FILE instead of standard output");
  cmd->add_flag("--no-fallback", f->no_fallback, "Leave kernels without a trained booster uncovered");
  cmd->add_option("--predictors", f->predictors, "Registry folder (default: $DEEPEN_PREDICTORS or the built-in)");
  cmd->callback([f, &exit_code] { exit_code = run_eval(*f); });
}

}  // namespace deepen::cli
