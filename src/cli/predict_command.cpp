#include "cli/commands.h"

#include <deepen/error.h>
#include <deepen/graph.h>
#include <deepen/kernels.h>
#include <deepen/predict.h>
#include <deepen/report.h>
#include <deepen/train.h>
#include <deepen/writers.h>

#include <fmt/format.h>

#include <algorithm>

#include <memory>
#include <optional>
#include <sstream>

namespace deepen::cli {
namespace {

struct PredictFlags {
  std::string predictor, version, purpose = "energy", kernels, format = "table", output, predictors;
  std::vector<std::string> modelpaths;  // -m (repeatable) and positional paths: files or folders
  std::vector<std::string> input_shapes;
  bool per_kernel = false, strict = false, no_fallback = false, all_purposes = false;
  std::string min_coverage;
  int jobs = 0;  // threads; 0: one per core
};

// --kernels: the rows of a kernel CSV, as read, with the prediction and its source added.
int run_predict_kernels(const PredictFlags& f, const Predictor& predictor, Purpose purpose) {
  DatasetReadOptions read;
  read.require_target = false;
  KernelDataset data = read_dataset_csv(f.kernels, read);
  if (data.skipped)
    print_note(fmt::format("{}: {} zero-cost or other:OP kernel row(s) left out: no predictor scores them", f.kernels,
                           data.skipped));
  PredictOptions options;
  options.use_fallback = !f.no_fallback;
  options.purpose = purpose;
  std::vector<Estimate> est = predictor.estimate(kernels_from_rows(data.rows), options);
  std::ostringstream out;
  find_format(kernel_estimate_formats(), f.format)
      .write(out, KernelEstimates{data, est, predictor.entry().name, predictor.entry().version, purpose});
  emit(out.str(), f.output);
  return kExitOk;
}

// --strict: what makes a model's estimate unusable (kernels without a predictor, kernels beyond
// the training data), naming the kernel types; empty when nothing does.
std::string strict_problems(const ModelReport& r) {
  std::vector<std::string> uncovered, extrapolated;
  for (size_t i = 0; i < r.kernels.size(); ++i) {
    const std::string& type = r.kernels[i].type;
    const Estimate& e = r.estimates[i];
    if (e.source == Source::Uncovered && std::find(uncovered.begin(), uncovered.end(), type) == uncovered.end())
      uncovered.push_back(type);
    if (!e.extrapolated) continue;
    // A type once, with the why of its first such kernel (its first three features).
    bool seen = false;
    for (const auto& x : extrapolated) seen = seen || x.rfind(type + " (", 0) == 0;
    if (seen) continue;
    std::string why = e.extrapolated_why;
    size_t cut = 0;
    for (int items = 0; items < 3 && cut != std::string::npos; ++items) cut = why.find(", ", cut ? cut + 2 : 0);
    if (cut != std::string::npos) why = why.substr(0, cut) + ", ...";
    extrapolated.push_back(fmt::format("{} ({})", type, why));
  }
  auto join = [](const std::vector<std::string>& parts) {
    std::string s;
    for (const auto& p : parts) s += (s.empty() ? "" : ", ") + p;
    return s;
  };
  std::string out;
  if (r.uncovered_count > 0)
    out = fmt::format("{} kernel(s) have no predictor (--strict): {}", r.uncovered_count, join(uncovered));
  if (r.extrapolated_count > 0)
    out += fmt::format("{}{} kernel(s) extrapolate beyond the training data (--strict): {}", out.empty() ? "" : "; ",
                       r.extrapolated_count, join(extrapolated));
  return out;
}

// What a warning says of a model whose power, or some of whose kernels' power, is outside the
// predictor's envelope.
std::string power_envelope_warning(const ModelReport& r, const PowerEnvelope& envelope, const std::string& name) {
  std::string out = r.model + ": ";
  if (r.power_outside_envelope)
    out += fmt::format("predicted power {:.3g} W is outside {}'s plausible {:g}-{:g} W", r.power_mw / 1000, name,
                       envelope.min_mw / 1000, envelope.max_mw / 1000);
  if (r.power_outside_kernels > 0) {
    out += fmt::format("{}{} kernel(s) have a power outside {:g}-{:g} W", r.power_outside_envelope ? "; " : "",
                       r.power_outside_kernels, envelope.min_mw / 1000, envelope.max_mw / 1000);
    std::string worst;  // the first few, with their power
    size_t shown = 0;
    for (size_t i = 0; i < r.estimates.size() && shown < 3; ++i)
      if (r.estimates[i].power_outside_envelope) {
        worst += fmt::format("{}{} {:.3g} W", shown ? ", " : " (", r.kernels[i].type, r.estimates[i].power_mw / 1000);
        ++shown;
      }
    if (shown) out += worst + (r.power_outside_kernels > shown ? ", ...)" : ")");
  }
  return out + ": its energy and latency estimates disagree (different data, runtimes or fallbacks)";
}

int run_predict(const PredictFlags& f) {
  Purpose purpose = parse_purpose(f.purpose);
  if (f.modelpaths.empty() == f.kernels.empty())
    throw Error("give one of --modelpath (ONNX models) or --kernels (a kernel configuration CSV)");
  Registry registry = load_registry(predictors_dir(f.predictors));
  Predictor predictor = Predictor::load(registry, f.predictor, f.version);
  std::string why;
  if (!predictor.supports(purpose, &why)) throw Error(ErrorKind::UnsupportedPurpose, why);
  if (!f.kernels.empty() && !f.min_coverage.empty())
    throw Error("--min-coverage checks whole models: give it with --modelpath, not --kernels");
  if (!f.kernels.empty()) return run_predict_kernels(f, predictor, purpose);
  LoadOptions load;
  for (const auto& spec : f.input_shapes) load.input_shapes.insert(parse_input_shape(spec));
  PredictOptions options;
  options.use_fallback = !f.no_fallback;
  options.purpose = purpose;
  const CoverageBound min_coverage = parse_min_coverage(f.min_coverage);

  std::vector<std::string> files = model_files(f.modelpaths);
  const PowerEnvelope& envelope = predictor.entry().power_envelope;
  const bool shows_power = purpose == Purpose::Power || f.all_purposes;
  // What one model gives: its report, and the warnings it raises. Models are predicted on
  // --jobs threads, each into its own slot, and reported in the order given.
  struct Outcome {
    ModelReport report;
    std::vector<std::string> warnings;
    bool failed = false;
    std::string error;                    // when failed: what stderr says, naming the model first
    std::optional<ErrorKind> error_kind;  // when an Error ended the model (it could not be read or split)
  };
  std::vector<Outcome> outcomes(files.size());
  parallel_for(files.size(), parse_jobs(f.jobs), [&](size_t i) {
    const std::string& file = files[i];
    Outcome& out = outcomes[i];
    try {
      ModelReport r = predict_model(file, predictor, load, options);
      if (!r.error.empty()) {  // nothing scored what was asked: no number at all
        out.failed = true;
      } else {
        std::string problems = f.strict ? strict_problems(r) : std::string();
        std::string short_of = coverage_shortfall(r, min_coverage);
        if (!short_of.empty()) problems += (problems.empty() ? "" : "; ") + short_of;
        if (!problems.empty()) {
          r.error = problems;
          out.failed = true;
        }
      }
      if (out.failed) out.error = file + ": " + r.error;
      if (r.error.empty() && r.uncovered_count > 0)  // named here, whatever the output and --per-kernel
        out.warnings.push_back(fmt::format("{}: {} of {} kernels uncovered ({} of the FLOPs), adding nothing to its {}: {}",
                                       file, r.uncovered_count, r.kernel_count, format_share(r.uncovered_flops),
                                       purpose_name(purpose),
                                       kernels_named(r, [](const Estimate& e) { return e.source == Source::Uncovered; },
                                                     false)));
      // A power outside what the device can draw says that the energy and latency it comes from
      // disagree: warn whenever power is shown.
      if (envelope.known() && shows_power && r.error.empty() && (r.power_outside_envelope || r.power_outside_kernels))
        out.warnings.push_back(power_envelope_warning(r, envelope, predictor.entry().name));
      if (!f.per_kernel) {
        // Only --per-kernel output reads the kernels: a folder of thousands of models need not
        // hold every model's kernels until the end.
        std::vector<Kernel>().swap(r.kernels);
        std::vector<Estimate>().swap(r.estimates);
        std::vector<std::string>().swap(r.folded);
      }
      out.report = std::move(r);
    } catch (const Error& e) {
      out.report = ModelReport();
      out.report.model = file;
      out.report.error = e.what();
      out.failed = true;
      out.error = files.size() == 1 ? e.what() : model_error(file, e);
      out.error_kind = e.kind();
    }
  });
  std::vector<ModelReport> reports;
  reports.reserve(files.size());
  size_t failed = 0;
  std::vector<std::string> warnings, errors;
  std::optional<ErrorKind> error_kind;  // one model given, and an Error ended it: the command's error
  for (Outcome& out : outcomes) {
    reports.push_back(std::move(out.report));
    for (auto& w : out.warnings) warnings.push_back(std::move(w));
    failed += out.failed;
    if (out.failed) errors.push_back(std::move(out.error));
    if (files.size() == 1) error_kind = out.error_kind;
  }
  std::vector<Outcome>().swap(outcomes);
  for (const auto& w : warnings) print_warning(w);
  // A model's error is said once: in the table's row for it, or else on stderr (JSON and CSV carry
  // it as data too). One model that could not be read is the command's error, on stderr, and gets
  // no table of that one failure.
  if (f.format != "table" || error_kind)
    for (const auto& e : errors) print_error(e);
  if (error_kind && f.format == "table") return exit_code(*error_kind);

  ReportContext ctx;
  ctx.predictor = predictor.entry().name;
  ctx.version = predictor.entry().version;
  ctx.device = predictor.entry().device;
  ctx.purpose = purpose;
  ctx.per_kernel = f.per_kernel;
  ctx.all_purposes = f.all_purposes;
  std::ostringstream text;
  find_format(predict_formats(), f.format).write(text, PredictOutput{reports, ctx});
  emit(text.str(), f.output);
  if (failed == 0) return kExitOk;
  if (error_kind) return exit_code(*error_kind);
  return failed == files.size() ? kExitAllFailed : kExitPartial;
}

}  // namespace

void add_predict_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<PredictFlags>();
  CLI::App* cmd = app.add_subcommand("predict", "Predict latency (ms), power (mW) or energy (mJ) of ONNX models");
  cmd->add_option("--predictor,-p", flags->predictor, "Predictor name from the registry (see deepen list)")
      ->required();
  cmd->add_option("--predictor-version", flags->version, "Predictor version (default: the newest)");
  cmd->add_option("--purpose", flags->purpose, "latency, power or energy (any letter case)")
      ->capture_default_str();
  const auto [models, paths] = add_model_paths(cmd, flags->modelpaths);
  auto* kernels = cmd->add_option("--kernels,-k", flags->kernels,
                                  "A kernel configuration CSV (dataset format, targets optional): the same rows out "
                                  "with predicted_<target> and source added (csv or json)");
  models->excludes(kernels);
  paths->excludes(kernels);
  cmd->add_flag("--per-kernel", flags->per_kernel, "Show every kernel: type, config, nodes, estimate, source");
  cmd->add_flag("--all-purposes", flags->all_purposes,
                "Show latency, energy and power, each with its own source (default: only the purpose asked)");
  add_format_option(cmd, flags->format, format_names(predict_formats()));
  cmd->add_option("--output,-o", flags->output, "Write the output to FILE instead of standard output");
  cmd->add_option("--input-shape", flags->input_shapes,
                  "Override an input's shape, e.g. input:1x3x224x224 (repeatable)")
      ->allow_extra_args(false);  // one value per use: a model path after it stays a model path
  cmd->add_flag("--strict", flags->strict,
                "Treat any kernel without a predictor, or beyond its predictor's training data, as an error");
  cmd->add_option("--min-coverage", flags->min_coverage,
                  "Least share of the FLOPs that trained boosters must score (not fallback, not uncovered), as 90% "
                  "or 0.9; kernels:90% checks the share of kernels instead, flops:90%,kernels:80% both. A model "
                  "below it is an error that names the kernels short of it");
  cmd->add_flag("--no-fallback", flags->no_fallback,
                "Leave kernels without a trained booster uncovered instead of using the analytical fallback");
  cmd->add_option("--jobs,-j", flags->jobs,
                  "Threads that predict models side by side (0: one per core this process may use); the output is "
                  "the same, in the same order, whatever the number")
      ->capture_default_str();
  cmd->add_option("--predictors", flags->predictors, "Registry folder (default: $DEEPEN_PREDICTORS or the built-in)");
  cmd->callback([flags, &exit_code] { exit_code = run_predict(*flags); });
}

}  // namespace deepen::cli
