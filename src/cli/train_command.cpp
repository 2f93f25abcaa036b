#include "cli/commands.h"

#include <deepen/error.h>
#include <deepen/train.h>

#include <fmt/format.h>

#include <iostream>
#include <memory>

namespace deepen::cli {
namespace {

struct TrainFlags {
  TrainRequest request;
  std::string predictors;
  bool quiet = false;
};

int run_train(TrainFlags& f) {
  f.request.predictors_dir = predictors_dir(f.predictors);
  TrainResult r = train_predictor(f.request, [&](const std::string& line) {
    if (!f.quiet) std::cerr << line << "\n";
  });
  std::cout << fmt::format("registered {} {} in {}/predictors.yaml ({} booster{})\n", r.name, r.version,
                           f.request.predictors_dir, r.kernels.size(), r.kernels.size() == 1 ? "" : "s");
  for (const auto& k : r.kernels) {
    const Metrics& m = k.cv.metrics;
    std::cout << fmt::format("  {} {}: n={}, within ±5% {:.1f}%, ±10% {:.1f}%, ±20% {:.1f}%, MAPE {:.2f}%, RMSPE "
                             "{:.2f}% ({}-fold group CV)\n",
                             k.kernel, k.purpose, m.n, 100 * m.acc5, 100 * m.acc10, 100 * m.acc20, m.mape, m.rmspe,
                             k.cv.folds);
  }
  if (!r.fallback.note.empty()) std::cout << "  fallback: " << r.fallback.note << "\n";
  return kExitOk;
}

}  // namespace

void add_train_command(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<TrainFlags>();
  TrainRequest& q = f->request;
  TrainParams& p = q.params;
  CLI::App* cmd = app.add_subcommand("train", "Train a predictor from kernel measurements and register it");
  cmd->add_option("--dataset,-d", q.datasets, "Kernel dataset CSV files (see docs: Kernel dataset CSV)")
      ->required()
      ->expected(1, -1);
  cmd->add_option("--name,-n", q.name, "Predictor name, e.g. mydevice_tflite")->required();
  cmd->add_option("--device", q.device, "The device, in words (recorded in the registry)")->required();
  cmd->add_option("--framework", q.framework, "The runtime, e.g. 'TFLite, CPU' (recorded in the registry)")
      ->required();
  cmd->add_option("--purpose", q.purposes, "energy, latency or power (repeatable; default: every target in the data)")
      ->expected(1, -1);
  cmd->add_option("--version,--predictor-version", q.version,
                  "Version to register (default: 1.0, or the newest version + 0.1)");
  cmd->add_option("--predictors", f->predictors, "Registry folder (default: $DEEPEN_PREDICTORS or the built-in)");
  cmd->add_option("--fusion-rules", q.fusion_rules_path, "Fusion rules YAML to store (default: the default rules)");
  cmd->add_flag("--force", q.force, "Overwrite an existing entry of the same name and version");
  cmd->add_option("--seed", p.seed, "Seed of subsampling and fold assignment")->capture_default_str();
  cmd->add_option("--max-depth", p.max_depth, "Tree depth")->capture_default_str();
  cmd->add_option("--eta", p.eta, "Learning rate")->capture_default_str();
  cmd->add_option("--rounds", p.rounds, "Boosting rounds")->capture_default_str();
  cmd->add_option("--min-child-weight", p.min_child_weight, "Minimum hessian sum in a leaf")->capture_default_str();
  cmd->add_option("--subsample", p.subsample, "Share of rows each tree sees")->capture_default_str();
  cmd->add_option("--colsample", p.colsample, "Share of features each tree sees")->capture_default_str();
  cmd->add_option("--lambda", p.lambda, "L2 regularisation of leaf weights")->capture_default_str();
  cmd->add_option("--transform", p.transform, "Fit log(target) or the target itself")
      ->check(CLI::IsMember({"log", "none"}))
      ->capture_default_str();
  cmd->add_option("--folds", p.folds, "Cross-validation folds (group k-fold over distinct configs)")
      ->check(CLI::Range(2, 100))
      ->capture_default_str();
  cmd->add_option("--peak-gflops", q.specs.peak_gflops,
                  "Published peak GFLOP/s, for the latency fallback when the data has no latency");
  cmd->add_option("--bandwidth-gbs", q.specs.bandwidth_gbs,
                  "Published memory bandwidth GB/s, for the latency fallback when the data has no latency");
  cmd->add_option("--power-w", q.specs.power_w,
                  "Typical power under load (W), for the energy fallback when the data has no energy");
  cmd->add_flag("--quiet,-q", f->quiet, "No progress lines");
  cmd->callback([f, &exit_code] { exit_code = run_train(*f); });
}

}  // namespace deepen::cli
