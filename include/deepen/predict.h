// deepen/predict.h: the predictor registry (predictors/predictors.yaml), XGBoost boosters and
// the scoring of kernels. Every estimate says where its number came from.
#pragma once

#include <deepen/kernel_scorer.h>
#include <deepen/kernels.h>
#include <deepen/schema.h>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

namespace deepen {

enum class Purpose { Latency, Power, Energy };

// "latency", "power" or "energy" in any letter case; throws Error otherwise.
Purpose parse_purpose(const std::string& text);
std::string purpose_name(Purpose p);   // latency, power, energy
std::string purpose_field(Purpose p);  // latency_ms, power_mw, energy_mj
std::string purpose_unit(Purpose p);   // ms, mW, mJ

// What scores one kernel type for one target in a registry entry. kind (kernel_scorer.h):
//   xgboost (the default): `booster: FILE`, an XGBoost booster whose output maps to the target
//     by `transform`, below;
//   table: `table: FILE.csv`, measured values per configuration (a column per schema feature
//     and `value`, per run of the configuration in the target's unit); a configuration the
//     table lacks is left to the fallback.
// Transforms of a booster's output:
//   none:      target = output
//   log:       target = exp(output)
//   log-ratio: target = exp(output) * base, base = base_per_gflop * GFLOP + base_per_mb * MB +
//              base_per_kernel from the kernel's work (kernel_work of its config): the booster
//              learns the ratio to a fitted analytical model, which trees alone cannot
//              interpolate smoothly (docs/train.md, "Transforms").
// ranges: the smallest and largest value of each feature (schema order) over the rows the
// booster was trained on; a kernel with a feature outside them is an extrapolation.

// The values one feature took in a booster's training rows. A bound the registry leaves open
// is -inf or +inf.
struct FeatureRange {
  double min = 0, max = 0;
};

struct ScorerSpec {
  std::string kind = "xgboost";    // which KernelScorer reads it (kernel_scorer.h)
  std::string path;                // its file, relative to the predictor's folder
  std::string transform = "none";  // see booster_target()
  // log-ratio only: the base, per_gflop * GFLOP + per_mb * MB + per_kernel of the kernel's work,
  // fitted on the training rows and stored with the booster.
  double base_per_gflop = 0, base_per_mb = 0, base_per_kernel = 0;
  // One per schema feature, in schema order; empty: unknown (entries written before ranges).
  std::vector<FeatureRange> ranges;
};

// The features of a row outside a booster's ranges (the float values the booster sees, with a
// relative tolerance of 1e-6), as "hw 224 > 32, cin 4 < 16"; empty when all are inside or the
// ranges are unknown. features and ranges follow feature_names' order.
std::string outside_ranges(const float* features, const std::vector<FeatureRange>& ranges,
                           const std::vector<std::string>& feature_names);

// What a booster learns from a measured value, and the value back from a booster's output.
// transform: "none" (the value), "log" (its natural log), "log-per-mac", "log-per-flop",
// "log-per-byte" (the log of the value per multiply-accumulate, FLOP or byte of the kernel's
// work: energy per MAC varies far less across layers than energy itself), "log-ratio" (the log of
// the value over the spec's base, a linear model of the kernel's GFLOP and MB fitted by training).
bool valid_transform(const std::string& transform);
double booster_target(const std::string& transform, double value, const KernelWork& work);
double from_booster(const std::string& transform, double output, const KernelWork& work);
// The same for a registry booster: these also know the transforms with parameters (log-ratio).
double booster_target(const ScorerSpec& spec, double value, const KernelWork& work);
double from_booster(const ScorerSpec& spec, double output, const KernelWork& work);

// Analytical estimates for kernels without a booster (docs/train.md, "The fallback").
struct FallbackModel {
  bool has_energy = false;
  double energy_mj_per_gflop = 0, energy_mj_per_mb = 0, energy_mj_per_kernel = 0;
  bool has_latency = false;
  double peak_gflops = 0, bandwidth_gbs = 0, latency_ms_per_kernel = 0;
  // A roofline from published specs says how the runtime used the chip: threads of its cores
  // (the peak is the whole chip's, so the runtime gets threads/cores of it) and the share of
  // peak compute and bandwidth it sustains. A fitted roofline needs neither (1 of 1, 1).
  double threads = 1, cores = 1, sustained = 1;
  std::string note;  // where the coefficients came from
  double energy_mj(double flops, double bytes) const {
    return energy_mj_per_gflop * flops / 1e9 + energy_mj_per_mb * bytes / 1e6 + energy_mj_per_kernel;
  }
  // The rates the runtime gets: GFLOP/s and GB/s.
  double effective_gflops() const { return peak_gflops * threads / cores * sustained; }
  double effective_gbs() const { return bandwidth_gbs * sustained; }
  double latency_ms(double flops, double bytes) const {
    return std::max(flops / (effective_gflops() * 1e6), bytes / (effective_gbs() * 1e6)) + latency_ms_per_kernel;
  }
};

// What a predictor learned from whole networks for one purpose (deepen train --models), on top
// of the sum of its kernels' estimates: a constant paid once per inference, and a model-level
// correction, a booster over features every network has (model_features) whose output is the
// log of the factor the kernel sum is multiplied by.
struct ModelTerms {
  double per_inference = 0;  // in the purpose's unit (ms, mJ)
  std::string correction;    // booster file, relative to the folder; empty: no correction
  std::vector<std::string> features;  // the correction's feature names, in its column order
};

// The features of a whole model that a model-level correction reads, by name: "count:TYPE",
// "gflop:TYPE", "mb:TYPE" (the kernels scored as TYPE: how many, their GFLOP and MB), "count",
// "gflop", "mb" (every kernel that does work) and "log_kernel_sum" (the log of the sum of the
// kernels' estimates). Throws Error for a name of another form.
std::vector<double> model_features(const std::vector<std::string>& names, const std::vector<Kernel>& kernels,
                                   const FusionRules& rules, double kernel_sum);

// The power a device can plausibly draw, in mW: a predicted power outside it says that the
// predicted energy and latency disagree (they came from different data, runtimes or fallbacks),
// and is flagged. From the device's measured power or its published figures; max 0: unknown.
struct PowerEnvelope {
  double min_mw = 0, max_mw = 0;
  std::string note;  // where the bounds came from
  bool known() const { return max_mw > 0; }
  bool outside(double mw) const { return known() && std::isfinite(mw) && (mw < min_mw || mw > max_mw); }
};

struct PredictorEntry {
  std::string name;
  std::string version;
  std::string device;
  std::string framework;
  std::vector<std::string> purposes;
  std::string fusion_rules;  // relative to the folder; empty: the default rules
  std::map<std::string, std::map<std::string, ScorerSpec>> kernels;  // type -> purpose -> booster
  std::string data;
  YAML::Node accuracy;  // free-form: {type: {purpose: {acc10, mape, n, ...}}}
  FallbackModel fallback;
  std::map<std::string, ModelTerms> model;  // purpose (latency, energy) -> terms learned from whole networks
  PowerEnvelope power_envelope;
  std::string training_set;  // file of what it was trained on (TrainingSet), relative to the folder
  std::string folder;  // absolute path of the predictor's folder
};

struct Registry {
  std::string root;  // the folder holding predictors.yaml
  std::vector<PredictorEntry> entries;
  // The entry with that name and version (the newest when version is empty); Error otherwise.
  const PredictorEntry& find(const std::string& name, const std::string& version = "") const;
};

// Where the registry is looked for: $DEEPEN_PREDICTORS, then <bin>/../share/deepen/predictors,
// then the source tree's predictors/ folder.
std::string default_predictors_dir();
Registry load_registry(const std::string& predictors_dir);
Registry parse_registry(const std::string& yaml_text, const std::string& predictors_dir, const std::string& label);
// Predictor names are matched in any letter case (Registry::find).
bool same_predictor_name(const std::string& a, const std::string& b);
// Compares dotted versions numerically ("1.10" > "1.9").
int compare_versions(const std::string& a, const std::string& b);
// Resolves a path of an entry inside its folder; Error when it leaves the folder.
std::string resolve_in_folder(const PredictorEntry& entry, const std::string& relative);

struct TreeEnsemble;

// An XGBoost booster (JSON or UBJSON model file), checked when read and scored by deepen's own
// tree walker with XGBoost's exact rules.
class Booster {
 public:
  static Booster load(const std::string& path);
  // Scores rows (row-major, ncols features each) in one batch.
  std::vector<double> predict(const std::vector<float>& rows, size_t ncols) const;
  size_t num_features() const;

 private:
  Booster() = default;
  std::shared_ptr<const TreeEnsemble> model_;
  std::string path_;
};

// Where a number came from: a trained booster (or numbers of trained boosters it was derived
// from), the analytical fallback, nowhere because the kernel does no work, or nowhere at all.
enum class Source { Trained, Fallback, ZeroCost, Uncovered };
const char* source_name(Source s);  // trained, fallback, zero-cost, uncovered

struct Estimate {
  double latency_ms = NAN;
  double energy_mj = NAN;
  double power_mw = NAN;
  Source source = Source::Uncovered;  // of the purpose asked
  // Of each purpose: a kernel whose energy booster is trained and whose latency comes from the
  // roofline is trained for energy, fallback for latency, and fallback for power.
  Source latency_source = Source::Uncovered, energy_source = Source::Uncovered, power_source = Source::Uncovered;
  std::string scored_as;  // the kernel type whose predictor gave the number
  // The number for the purpose asked came (in part) from a booster whose training rows did not
  // reach this kernel's features; why: those features and the range, "hw 224 > 32, cin 512 > 64".
  bool extrapolated = false;
  std::string extrapolated_why;
  bool power_outside_envelope = false;  // the kernel's power is outside its device's PowerEnvelope
  double value(Purpose p) const { return p == Purpose::Latency ? latency_ms : p == Purpose::Power ? power_mw : energy_mj; }
  Source source_of(Purpose p) const {
    return p == Purpose::Latency ? latency_source : p == Purpose::Power ? power_source : energy_source;
  }
};

struct PredictOptions {
  bool use_fallback = true;
  // The quantity asked for: an estimate's source says where that quantity came from (a kernel
  // whose energy booster is trained but whose latency comes from the roofline is `trained` for
  // energy and `fallback` for latency).
  Purpose purpose = Purpose::Energy;
};

// A model's kernel estimates with the predictor's model-level terms applied: every kernel's
// latency and energy multiplied by the correction's factor (so the breakdown still adds up), and
// the per-inference constants, which belong to no kernel.
struct ModelEstimate {
  std::vector<Estimate> kernels;
  double latency_ms_per_inference = 0, energy_mj_per_inference = 0;
  double latency_factor = 1, energy_factor = 1;
  PowerEnvelope power_envelope;  // the predictor's: the model's power is checked against it
};

// How many times a kernel's configuration runs: its batch (or matrix rows) where the schema's
// features leave them out.
double kernel_repeats(const Kernel& k);

// What a predictor was trained on (the entry's `training_set` file): fingerprints of the distinct
// kernel configurations (kernel rows) and models (composite rows) per purpose, so that deepen eval
// can count the rows a predictor saw apart from the others.
uint64_t kernel_fingerprint(const std::string& scored_as, const std::vector<float>& features);
uint64_t kernel_fingerprint(const Kernel& kernel, const FusionRules& rules);  // 0: no schema
uint64_t model_fingerprint(const std::vector<Kernel>& kernels, const FusionRules& rules);
struct TrainingSet {
  std::map<std::string, std::unordered_set<uint64_t>> kernels, models;  // purpose -> fingerprints
  bool empty() const { return kernels.empty() && models.empty(); }
  bool has_kernel(const std::string& purpose, uint64_t fingerprint) const;
  bool has_model(const std::string& purpose, uint64_t fingerprint) const;
  std::string to_text() const;
  static TrainingSet parse(const std::string& text, const std::string& label);
  static TrainingSet load(const std::string& path);
};

class Predictor {
 public:
  static Predictor load(const Registry& registry, const std::string& name, const std::string& version = "");
  const PredictorEntry& entry() const { return entry_; }
  const FusionRules& fusion_rules() const { return rules_; }
  // Whether a model-level number for the purpose can be produced; when not, `why` says why.
  bool supports(Purpose p, std::string* why = nullptr) const;
  // Estimates for every kernel, in one booster call per kernel type and target.
  std::vector<Estimate> estimate(const std::vector<Kernel>& kernels, const PredictOptions& options = {}) const;
  // estimate() and then the model-level terms (ModelTerms) of the entry, for whole models.
  ModelEstimate estimate_model(const std::vector<Kernel>& kernels, const PredictOptions& options = {}) const;
  // What it was trained on; empty when the entry records nothing (trained before deepen did).
  const TrainingSet& training_set() const { return training_set_; }

 private:
  PredictorEntry entry_;
  FusionRules rules_;
  TrainingSet training_set_;
  // type -> target ("latency", "energy", "power") -> what scores it (the entry's kind)
  std::map<std::string, std::map<std::string, std::shared_ptr<const KernelScorer>>> scorers_;
  // target ("latency", "energy") -> the analytical fallback, for kernels no scorer has a number for
  std::map<std::string, std::shared_ptr<const KernelScorer>> fallback_;
  std::map<std::string, std::shared_ptr<Booster>> corrections_;  // purpose -> model-level correction
};

}  // namespace deepen
