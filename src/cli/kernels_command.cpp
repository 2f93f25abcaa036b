#include "cli/commands.h"

#include <deepen/error.h>
#include <deepen/graph.h>
#include <deepen/kernels.h>
#include <deepen/predict.h>
#include <deepen/writers.h>

#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <sstream>

namespace deepen::cli {
namespace {

struct KernelsFlags {
  std::string predictor, version, format = "table", output, predictors;
  std::vector<std::string> modelpaths;  // -m (repeatable) and positional paths: files or folders
  std::vector<std::string> input_shapes;
};

int run_kernels(const KernelsFlags& f) {
  if (f.modelpaths.empty()) throw Error("give the models: one or more .onnx files or folders (-m or as arguments)");
  FusionRules rules = default_fusion_rules();
  std::string rules_from = "default fusion rules";
  if (!f.predictor.empty()) {
    Registry registry = load_registry(predictors_dir(f.predictors));
    Predictor predictor = Predictor::load(registry, f.predictor, f.version);
    rules = predictor.fusion_rules();
    rules_from = fmt::format("fusion rules of {} {}", predictor.entry().name, predictor.entry().version);
  }
  LoadOptions load;
  for (const auto& spec : f.input_shapes) load.input_shapes.insert(parse_input_shape(spec));
  const std::vector<std::string> files = model_files(f.modelpaths);
  std::vector<ModelKernels> models(files.size());
  std::vector<std::string> errors;  // each failed model's, naming it first
  for (size_t i = 0; i < files.size(); ++i) {
    models[i].model = files[i];
    try {
      Graph graph = load_onnx(files[i], load);
      models[i].kernels = detect_kernels(graph, rules);
      models[i].folded = std::move(graph.folded);
    } catch (const Error& e) {
      if (files.size() == 1) throw;  // one model: its error is the command's
      models[i].error = e.what();
      errors.push_back(model_error(files[i], e));
    }
  }
  // A model's error is said once: in the table's block for it, or else on stderr (JSON and CSV
  // carry it as data too).
  if (f.format != "table")
    for (const auto& e : errors) print_error(e);

  std::ostringstream out;
  find_format(kernel_listing_formats(), f.format).write(out, KernelListing{models, rules, rules_from});
  emit(out.str(), f.output);
  if (errors.empty()) return kExitOk;
  return errors.size() == files.size() ? kExitAllFailed : kExitPartial;
}

}  // namespace

void add_kernels_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<KernelsFlags>();
  CLI::App* cmd = app.add_subcommand("kernels", "Show how a model splits into kernels, with their features");
  add_model_paths(cmd, flags->modelpaths);
  cmd->add_option("--predictor,-p", flags->predictor, "Use this predictor's fusion rules (default: built-in rules)");
  cmd->add_option("--predictor-version", flags->version, "Predictor version (default: the newest)");
  add_format_option(cmd, flags->format, format_names(kernel_listing_formats()));
  cmd->add_option("--output,-o", flags->output, "Write the output to FILE instead of standard output");
  cmd->add_option("--input-shape", flags->input_shapes, "Override an input's shape, e.g. input:1x3x224x224")
      ->allow_extra_args(false);  // one value per use: a model path after it stays a model path
  cmd->add_option("--predictors", flags->predictors, "Registry folder (default: $DEEPEN_PREDICTORS or the built-in)");
  cmd->callback([flags, &exit_code] { exit_code = run_kernels(*flags); });
}

}  // namespace deepen::cli
