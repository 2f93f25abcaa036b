// deepen/profile.h: building a kernel dataset on the machine deepen runs on, as nn-Meter's
// builder does. A ConfigSampler draws kernel configurations where real networks have them (the
// layers of the zoo's families, perturbed) plus a share drawn uniformly over the valid ranges;
// profile_kernels() writes each as a single-kernel ONNX model (deepen zoo), measures it with a
// Backend and appends one row to the dataset CSV (resumable: rows whose id is already in the file
// or in its .failed.csv side file are skipped); a fine-grained round resamples around configurations that a predictor fitted to
// the rows so far gets wrong by more than 10%. detect_fusion_rules() times op1, op2 and the pair to
// find which op pairs the backend fuses.
#pragma once

#include <deepen/kernels.h>
#include <deepen/measure.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace deepen {

struct KernelSample {
  std::string kernel;  // e.g. conv-bn-relu
  KernelConfig config;  // the schema's config fields, in order
};

// A stable id of a kernel and config (hex hash): the key that resumption skips on.
std::string sample_id(const KernelSample& sample);
// Whether a config is one the zoo can build (positive fields, ks <= hw, groups divide channels).
bool config_valid(const std::string& kernel_type, const KernelConfig& config);

// Configurations of the given kernel types in the reference networks of the zoo's families,
// found by kernel detection under the given fusion rules; keyed by kernel type.
std::map<std::string, std::vector<KernelConfig>> zoo_prior(const std::vector<std::string>& kernel_types,
                                                           const FusionRules& rules);

struct SamplerOptions {
  uint64_t seed = 1;
  double uniform_share = 0.2;  // share of samples drawn uniformly over the valid ranges
};

class ConfigSampler {
 public:
  // Error for a kernel type without a schema.
  ConfigSampler(std::vector<std::string> kernel_types, std::map<std::string, std::vector<KernelConfig>> prior,
                SamplerOptions options);
  // The next sample: kernel types in turn; from the prior (a real layer, channels perturbed by up to
  // +-50%) or, with probability uniform_share or when a type has no prior, uniform.
  KernelSample next();
  // A neighbour of a sample: each field moved by a small step (the fine-grained round).
  KernelSample around(const KernelSample& sample);
  // The valid range of a config field, for docs and tests.
  static std::pair<double, double> field_range(const std::string& field);

 private:
  KernelConfig uniform(const std::string& kernel_type);
  KernelConfig from_prior(const std::string& kernel_type);
  KernelConfig repair(const std::string& kernel_type, KernelConfig config);
  std::vector<std::string> types_;
  std::map<std::string, std::vector<KernelConfig>> prior_;
  SamplerOptions options_;
  std::mt19937_64 rng_;
  size_t turn_ = 0;
};

// ---- the dataset CSV (docs/train.md, "The kernel dataset CSV"): kernel, config columns,
// targets, id, round, error.

struct ProfiledRow {
  KernelSample sample;
  std::string id;
  int round = 0;  // 0: prior and uniform samples, 1: fine-grained round
  double latency_ms = NAN, energy_mj = NAN, power_mw = NAN;
  std::string error;  // the backend's failure for this kernel (targets then empty)
};

// The header for these kernel types: the union of their config fields in schema order. Kernel
// types whose schema lacks a column leave it empty.
std::vector<std::string> dataset_columns(const std::vector<std::string>& kernel_types, bool with_energy);
std::string dataset_row_csv(const ProfiledRow& row, const std::vector<std::string>& columns);
// The rows of a dataset this module wrote (for resumption): Error when the header differs from
// `columns`. A last line cut off by an interrupted write is dropped from the file.
std::vector<ProfiledRow> read_profiled_rows(const std::string& path, const std::vector<std::string>& columns);

// ---- profiling

// Where profile_kernels records the kernels the backend could not run (same columns, `error`
// filled): dataset.csv -> dataset.failed.csv. The dataset itself holds only measurements.
std::string failures_path(const std::string& out);

struct ProfileOptions {
  std::vector<std::string> kernel_types;
  size_t samples = 100;         // rows of round 0 (existing rows count)
  size_t refine_samples = 0;    // rows of the fine-grained round
  double refine_threshold = 0.10;
  uint64_t seed = 1;
  double uniform_share = 0.2;
  MeasureOptions measure{5, 15};
  double max_seconds_per_kernel = 1.0;  // timed runs stop early past this (at least 3 runs)
  std::string out;                      // the dataset CSV
  std::string work_dir;                 // where the kernel models are written (default: a temp folder)
  FusionRules rules = default_fusion_rules();  // for the zoo prior
  // The prior; when unset, zoo_prior(kernel_types, rules).
  std::optional<std::map<std::string, std::vector<KernelConfig>>> prior;
};

struct ProfileProgress {
  size_t done = 0, total = 0, skipped = 0, failed = 0;
  int round = 0;
  std::string current;  // the kernel being measured
};

struct ProfileSummary {
  size_t measured = 0, skipped = 0, failed = 0, refined = 0;
  bool interrupted = false;
};

// Writes a single-kernel model; the default uses the zoo (build_kernel_model + write_onnx).
using KernelModelWriter = std::function<void(const KernelSample&, const std::string& path)>;
KernelModelWriter zoo_kernel_writer();

// Runs the sampling, measuring and appending. `stop` is polled between kernels (a SIGINT handler
// sets it); the CSV is valid after every row. `progress` is called after every kernel.
ProfileSummary profile_kernels(Backend& backend, const ProfileOptions& options, PowerSource* power,
                               const std::atomic<bool>& stop,
                               const std::function<void(const ProfileProgress&)>& progress = {},
                               const KernelModelWriter& writer = zoo_kernel_writer());

// ---- profiling kernels in whole networks (--in-network)

struct InNetworkOptions {
  std::vector<std::string> families;    // zoo families whose variants are measured
  int variants = 10;                    // per family: build_family_variant(family, seed, 0..variants-1)
  uint64_t seed = 1;                    // the variants' seed (keep it apart from the test models')
  std::vector<std::string> kernel_types;  // rows of these types; empty: every type the families have
  MeasureOptions measure{3, 15};
  FusionRules rules = default_fusion_rules();  // how the backend groups ops into kernels
  std::string out;                      // the dataset CSV (resumed: models already there are skipped)
  std::string work_dir;
};

// Where profile_in_network records each model: dataset.csv -> dataset.models.csv (model, forward
// median, sum of its kernels' per-layer medians, median time of layers no kernel owns, rows, error).
std::string models_path(const std::string& out);

// Measures each variant with the backend's per-layer timer (Error when the backend has none) and
// appends one row per kernel: the median over the runs of the summed times of its nodes' layers,
// scaled by the model's forward median over the sum of all its layers' medians (so that a model's
// rows add up to its measured median).
// A model the backend cannot run is recorded in the models file and skipped.
ProfileSummary profile_in_network(Backend& backend, const InNetworkOptions& options, const std::atomic<bool>& stop,
                                  const std::function<void(const ProfileProgress&)>& progress = {});

// Configurations the current data predicts badly: a gradient-boosted fit (XGBoost, log latency,
// 3-fold out-of-fold predictions) per kernel type with at least `min_rows` rows; rows whose
// prediction is off by more than `threshold` (relative) are returned.
std::vector<KernelSample> badly_predicted(const std::vector<ProfiledRow>& rows, double threshold, size_t min_rows = 24);

// ---- fusion rules

struct FusionTest {
  std::string op1, op2;
  double op1_ms = NAN, op2_ms = NAN, pair_ms = NAN, overhead_ms = NAN;
  bool fused = false;
  std::string error;
};

struct FusionDetectOptions {
  std::vector<std::pair<std::string, std::string>> pairs;  // default: conv/dwconv with bn and activations, ...
  MeasureOptions measure{10, 50};
  int rounds = 3;  // interleaved rounds of op1, op2 and pair; each time is the least median
  std::string work_dir;
  // Fused when the pair saves more than this share of the cheaper op: t1 + t2 - t12 > share x min(t1, t2),
  // every time less the per-model overhead (a model with one tiny op).
  double saving_share = 0.5;
};

std::vector<std::pair<std::string, std::string>> default_fusion_pairs();
std::vector<FusionTest> detect_fusion_tests(Backend& backend, const FusionDetectOptions& options,
                                            const KernelModelWriter& writer = zoo_kernel_writer());
// The rules the tests imply: fused pairs, and head-bn-act chains when head-bn and head-act both fuse.
FusionRules fusion_rules_from_tests(const std::vector<FusionTest>& tests);

// A name for a predictor of this host: CPU model from /proc/cpuinfo and the backend, e.g.
// "intel_xeon_platinum_8370c_opencv".
std::string host_predictor_name(const std::string& backend);

}  // namespace deepen
