#include "cli/commands.h"

#include <deepen/error.h>
#include <deepen/train.h>

#include <fmt/format.h>

#include <cmath>
#include <iostream>
#include <memory>

namespace deepen::cli {
namespace {

struct TrainFlags {
  TrainRequest request;
  std::string predictors;
  std::vector<double> power_envelope_w;  // MIN MAX
  std::string power_envelope_note;
  bool quiet = false;
};

int run_train(TrainFlags& f) {
  f.request.predictors_dir = predictors_dir(f.predictors);
  if (!f.power_envelope_w.empty()) {
    double lo = f.power_envelope_w[0], hi = f.power_envelope_w[1];
    if (!(lo >= 0) || !(hi > lo) || !std::isfinite(hi))
      throw Error(fmt::format("--power-envelope-w {} {}: give MIN and MAX watts with 0 <= MIN < MAX", lo, hi));
    f.request.power_envelope.min_mw = lo * 1000;
    f.request.power_envelope.max_mw = hi * 1000;
    f.request.power_envelope.note =
        f.power_envelope_note.empty() ? "given at training (--power-envelope-w)" : f.power_envelope_note;
  }
  TrainResult r = train_predictor(f.request, [&](const std::string& line) {
    if (!f.quiet) std::cerr << line << "\n";
  });
  std::cout << fmt::format("registered {} {} in {}/predictors.yaml ({} booster{})\n", r.name, r.version,
                           f.request.predictors_dir, r.kernels.size(), r.kernels.size() == 1 ? "" : "s");
  for (const auto& c : r.composites) {
    const Metrics& m = c.cv.chosen;
    std::cout << fmt::format("  {} from {} models{}: within ±5% {:.1f}%, ±10% {:.1f}%, ±20% {:.1f}%, MAPE {:.2f}% "
                             "({}-fold CV over models{}); per inference {:.4g} {}\n",
                             c.purpose, c.models, c.kernel_rows ? fmt::format(" and {} kernel rows", c.kernel_rows) : "",
                             100 * m.acc5, 100 * m.acc10, 100 * m.acc20, m.mape, c.cv.folds,
                             c.cv.use_correction ? ", model-level correction" : "", c.per_inference,
                             purpose_unit(parse_purpose(c.purpose)));
  }
  for (const auto& k : r.kernels) {
    if (k.cv.metrics.n == 0) continue;  // learned from models: judged above
    const Metrics& m = k.cv.metrics;
    std::cout << fmt::format("  {} {}: n={}, within ±5% {:.1f}%, ±10% {:.1f}%, ±20% {:.1f}%, MAPE {:.2f}%, RMSPE "
                             "{:.2f}% ({}-fold group CV)\n",
                             k.kernel, k.purpose, m.n, 100 * m.acc5, 100 * m.acc10, 100 * m.acc20, m.mape, m.rmspe,
                             k.cv.folds);
  }
  if (!r.fallback.note.empty()) std::cout << "  fallback: " << r.fallback.note << "\n";
  for (const auto& w : r.warnings) print_warning(w);
  if (r.power_envelope.known())
    std::cout << fmt::format("  power envelope: {:g}-{:g} W ({})\n", r.power_envelope.min_mw / 1000,
                             r.power_envelope.max_mw / 1000, r.power_envelope.note);
  return kExitOk;
}

}  // namespace

void add_train_command(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<TrainFlags>();
  TrainRequest& q = f->request;
  TrainParams& p = q.params;
  CLI::App* cmd = app.add_subcommand(
      "train", "Train a predictor from measured kernels and/or measured models and blocks, and register it");
  cmd->add_option("--dataset,-d", q.datasets, "Kernel dataset CSV files (see docs: Kernel dataset CSV)")
      ->expected(1, -1);
  cmd->add_option("--models", q.models,
                  "Models CSV files: each row an ONNX file (column model, relative to the CSV) and its measured "
                  "latency_ms or energy_mj; kernel costs are learned so that each model's sum matches (repeatable)")
      ->expected(1, -1);
  cmd->add_option("--model-correction", q.correction,
                  "With --models: a model-level correction over features every network has; auto keeps it where "
                  "cross-validation over models says it helps")
      ->check(CLI::IsMember({"auto", "on", "off"}))
      ->capture_default_str();
  cmd->add_option("--kernel-base", q.kernel_base,
                  "With --models: a kernel type's base cost: work (GFLOP, MB and a per-kernel constant) or launch "
                  "(the per-kernel constant alone, for a device that pays a launch whatever a kernel's size)")
      ->check(CLI::IsMember({"work", "launch"}))
      ->capture_default_str();
  cmd->add_option("--correction-features", q.correction_features,
                  "With --models: the model-level correction's features: all (count, GFLOP, MB, in total and per "
                  "kernel type, and the log of the kernel sum) or counts (kernel counts and the log of the kernel "
                  "sum, which do not move with the input size)")
      ->check(CLI::IsMember({"all", "counts"}))
      ->capture_default_str();
  cmd->add_option("--cv-predictions", q.cv_predictions,
                  "With --models: write each model's out-of-fold prediction (CSV: model, group, measured, predicted, "
                  "ratio)");
  cmd->add_option("--name,-n", q.name, "Predictor name, e.g. mydevice_tflite")->required();
  cmd->add_option("--device", q.device, "The device, in words (recorded in the registry)")->required();
  cmd->add_option("--data-note", q.data_note, "Where the data came from (recorded in the registry's data field)");
  cmd->add_option("--framework", q.framework, "The runtime, e.g. 'TFLite, CPU' (recorded in the registry)")
      ->required();
  cmd->add_option("--purpose", q.purposes, "energy, latency or power (repeatable; default: every target in the data)")
      ->expected(1, -1);
  cmd->add_option("--predictor-version", q.version,
                  "Version to register (default: 1.0, or the newest version + 0.1)");
  cmd->add_option("--predictors", f->predictors, "Registry folder (default: $DEEPEN_PREDICTORS or the built-in)");
  cmd->add_option("--fusion-rules", q.fusion_rules_path,
                  "Fusion rules to store: a shipped set (default, tflite) or a YAML file (default: default)");
  cmd->add_flag("--force", q.force, "Overwrite an existing entry of the same name and version");
  cmd->add_option("--seed", p.seed, "Seed of subsampling and fold assignment")->capture_default_str();
  cmd->add_option("--max-depth", p.max_depth, "Tree depth")->capture_default_str();
  cmd->add_option("--eta", p.eta, "Learning rate")->capture_default_str();
  cmd->add_option("--rounds", p.rounds, "Boosting rounds")->capture_default_str();
  cmd->add_option("--min-child-weight", p.min_child_weight, "Minimum hessian sum in a leaf")->capture_default_str();
  cmd->add_option("--subsample", p.subsample, "Share of rows each tree sees")->capture_default_str();
  cmd->add_option("--colsample", p.colsample, "Share of features each tree sees")->capture_default_str();
  cmd->add_option("--lambda", p.lambda, "L2 regularisation of leaf weights")->capture_default_str();
  cmd->add_option("--transform", p.transform,
                  "log-ratio: fit ln(target / a fitted GFLOP-and-MB model); log: ln(target); log-per-mac, "
                  "log-per-flop, log-per-byte: ln(target per unit of work); none: the target")
      ->check(CLI::IsMember({"log-ratio", "log", "log-per-mac", "log-per-flop", "log-per-byte", "none"}))
      ->capture_default_str();
  cmd->add_option("--folds", p.folds, "Cross-validation folds (group k-fold over distinct configs)")
      ->check(CLI::Range(2, 100))
      ->capture_default_str();
  cmd->add_option("--peak-gflops", q.specs.peak_gflops,
                  "Published peak GFLOP/s, for the latency fallback when the data has no latency");
  cmd->add_option("--bandwidth-gbs", q.specs.bandwidth_gbs,
                  "Published memory bandwidth GB/s, for the latency fallback when the data has no latency");
  cmd->add_option("--cores", q.specs.cores, "How many cores --peak-gflops covers (with --runtime-threads)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--runtime-threads", q.specs.threads,
                  "Threads the measured runtime used, of --cores: the fallback gets that share of the peak "
                  "(default: every core)")
      ->check(CLI::PositiveNumber)
      ->needs("--cores");
  cmd->add_option("--sustained", q.specs.sustained,
                  "Share of peak compute and bandwidth the runtime sustains, for the latency fallback from specs")
      ->check(CLI::Range(0.01, 1.0))
      ->capture_default_str();
  cmd->add_option("--kernel-overhead-ms", q.specs.kernel_overhead_ms,
                  "What every kernel costs beyond its roofline (ms), for the latency fallback from specs")
      ->check(CLI::Range(0.0, 1000.0))
      ->capture_default_str();
  cmd->add_option("--power-envelope-w", f->power_envelope_w,
                  "MIN MAX: the power (W) the device can plausibly draw, from published figures; a predicted "
                  "power outside it is flagged (default: half to twice the power the data measured, if any)")
      ->expected(2);
  cmd->add_option("--power-envelope-note", f->power_envelope_note,
                  "Where --power-envelope-w comes from (recorded in the registry)")
      ->needs("--power-envelope-w");
  cmd->add_option("--power-w", q.specs.power_w,
                  "Typical power under load (W), for the energy fallback when the data has no energy");
  cmd->add_flag("--tune", q.tune,
                "Choose max-depth (3, 4, 6), eta (0.03, 0.1) and rounds (300, 600) per booster by CV MAPE");
  cmd->add_flag("--quiet,-q", f->quiet, "No progress lines");
  cmd->callback([f, &exit_code] { exit_code = run_train(*f); });
}

}  // namespace deepen::cli
