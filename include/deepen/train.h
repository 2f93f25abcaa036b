// deepen/train.h: kernel datasets (the CSV of docs/train.md), XGBoost training with group k-fold
// cross-validation, accuracy metrics, the analytical fallback's fit, registry entries written
// atomically, the DeepEn2023 JSON import and the predicted-vs-measured plot.
// Features always come from the kernel schema (deepen/schema.h), as in prediction.
#pragma once

#include <deepen/kernels.h>
#include <deepen/plot.h>
#include <deepen/predict.h>
#include <deepen/schema.h>

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <map>
#include <string>
#include <vector>

namespace deepen {

// ---- Kernel dataset CSV ----------------------------------------------------------------------

// The target columns a dataset may hold, in this order.
const std::vector<std::string>& target_columns();  // latency_ms, energy_mj, power_mw

struct DatasetRow {
  std::string kernel;           // kernel type, e.g. conv-bn-relu
  KernelConfig config;          // the schema's config fields, in schema order
  std::map<std::string, double> targets;  // target column -> value (only the non-empty ones)
  std::vector<std::pair<std::string, std::string>> extra;  // other columns (id, ...), as read
  std::vector<std::string> cells;         // the row as read, one cell per header column
  size_t line = 0;              // 1-based line in the file
};

struct KernelDataset {
  std::string label;                // file name, for messages
  std::vector<std::string> header;  // the columns as read
  std::vector<DatasetRow> rows;
  // Rows of a `deepen kernels -f csv` listing (a file with a zero_cost column) that no predictor
  // scores: zero-cost kernels and other:OP kernels. They are left out of `rows`, and counted here.
  size_t skipped = 0;
  // Rows with a value for the target column.
  size_t count(const std::string& target) const;
};

struct DatasetReadOptions {
  // Every row must have a value in at least one target column (training, eval); otherwise
  // target columns are optional (predict --kernels).
  bool require_target = true;
};

// Parses a kernel dataset. Throws Error naming label, line and column for: a missing `kernel`
// or config column, duplicate headers, empty or non-numeric cells, non-positive config values or
// targets, unknown kernel types, no rows.
KernelDataset parse_dataset_csv(const std::string& text, const std::string& label,
                                const DatasetReadOptions& options = {});
KernelDataset read_dataset_csv(const std::string& path, const DatasetReadOptions& options = {});
// CSV text of rows: kernel, the union of config columns (schema order), the targets present, then
// the extra columns (in order of first appearance).
std::string dataset_to_csv(const std::vector<DatasetRow>& rows);
// Splits a CSV line into cells (RFC 4180 quotes); exposed for the model-level CSV.
std::vector<std::string> split_csv_line(const std::string& line);
// The first line of a CSV file, split into cells; `what` names the file in errors.
std::vector<std::string> csv_header(const std::string& path, const std::string& what);

// ---- Training --------------------------------------------------------------------------------

// One kernel's work and measured value, as the analytical fits see it.
struct WorkSample {
  double flops = 0, bytes = 0, value = 0;
};

// A linear model of a kernel's work: value = per_gflop * GFLOP + per_mb * MB + per_kernel, all
// coefficients >= 0, fitted by least squares on relative error (an exact NNLS for three unknowns).
// The energy fallback and the log-ratio transform's base are such models.
struct WorkModel {
  double per_gflop = 0, per_mb = 0, per_kernel = 0;
  double operator()(double flops, double bytes) const { return per_gflop * flops / 1e9 + per_mb * bytes / 1e6 + per_kernel; }
};
WorkModel fit_work_model(const std::vector<WorkSample>& samples);

// Defaults chosen by group 5-fold CV on the DeepEn2023 CPU and GPU kernels, averaged over three
// seeds (docs/train.md, "Choosing the defaults"): the log-ratio transform, shallow trees, a slow
// learning rate.
struct TrainParams {
  int max_depth = 4;
  double eta = 0.1;
  int rounds = 200;
  double min_child_weight = 1;
  double subsample = 0.8;
  double colsample = 0.8;
  double lambda = 1;
  // What the booster learns (deepen/predict.h, booster_target): log-ratio fits ln(target / base),
  // base a linear model of the kernel's GFLOP and MB fitted on the same rows; log, log-per-mac,
  // log-per-flop, log-per-byte and none as documented there.
  std::string transform = "log-ratio";
  int folds = 5;
  uint64_t seed = 1;
};

// A trained booster held in memory.
class TrainedBooster {
 public:
  TrainedBooster(TrainedBooster&&) noexcept;
  TrainedBooster& operator=(TrainedBooster&&) noexcept;
  ~TrainedBooster();
  // Predictions in the target's units (the transform undone); work: every row's work (needed by
  // every transform but none and log).
  std::vector<double> predict(const std::vector<float>& rows, size_t ncols,
                              const std::vector<KernelWork>& work = {}) const;
  // How its output maps to the target (transform and, for log-ratio, the base) and the ranges of
  // the rows it was trained on; path is empty.
  const ScorerSpec& spec() const { return spec_; }
  // The model in XGBoost's UBJSON format: same data, params and seed give the same bytes.
  std::string to_ubj() const;
  // Takes ownership of an XGBoost BoosterHandle trained elsewhere (composite training).
  static TrainedBooster adopt(void* handle, ScorerSpec spec);

 private:
  friend TrainedBooster train_booster(const std::vector<float>&, size_t, const std::vector<double>&,
                                      const TrainParams&, const std::vector<KernelWork>&, const WorkModel&);
  TrainedBooster() = default;
  void* handle_ = nullptr;
  ScorerSpec spec_;
};

// Trains on rows (row-major, ncols features each) against positive targets. work: every row's
// work (schema kernel_work), needed by every transform but none and log; base: log-ratio's model.
TrainedBooster train_booster(const std::vector<float>& rows, size_t ncols, const std::vector<double>& targets,
                             const TrainParams& params, const std::vector<KernelWork>& work = {},
                             const WorkModel& base = {});

// The schema features of dataset rows, row-major.
std::vector<float> feature_matrix(const std::string& kernel_type, const std::vector<const DatasetRow*>& rows);

// ---- Metrics ---------------------------------------------------------------------------------

struct Metrics {
  size_t n = 0;
  double rmse = 0;   // in the target's unit
  double mape = 0;   // percent
  double rmspe = 0;  // percent
  double acc5 = 0, acc10 = 0, acc20 = 0;  // share (0..1) of rows within ±5%, ±10%, ±20%
};
// Rows with a non-finite prediction are skipped by the caller; measured values must be > 0.
Metrics compute_metrics(const std::vector<double>& predicted, const std::vector<double>& measured);

// ---- Cross-validation ------------------------------------------------------------------------

// Group k-fold: rows with the same group key (kernel type and config) always share a fold.
// Returns the fold of every row, deterministic in the seed. folds is clamped to the group count.
std::vector<int> group_folds(const std::vector<std::string>& group_keys, int folds, uint64_t seed);
std::string config_key(const DatasetRow& row);

struct CrossValidation {
  Metrics metrics;
  std::vector<double> predicted;  // out-of-fold prediction of every row
  int folds = 0;
};
// work: every row's work, as for train_booster. With log-ratio the base model is refitted in
// each fold on that fold's training rows, so held-out rows never inform it.
CrossValidation cross_validate(const std::vector<float>& rows, size_t ncols, const std::vector<double>& targets,
                               const std::vector<std::string>& group_keys, const TrainParams& params,
                               const std::vector<KernelWork>& work = {});

// ---- Fallback --------------------------------------------------------------------------------

// Published figures of a device, for the parts of the fallback its data cannot fit.
struct DeviceSpecs {
  double peak_gflops = 0;    // the whole chip's peak; 0: unknown
  double bandwidth_gbs = 0;  // 0: unknown
  double power_w = 0;        // typical power under load; 0: unknown
  // How the runtime the predictor stands for uses the chip: threads of its cores (the runtime
  // gets threads/cores of the peak; 0: every core), the share of peak compute and bandwidth it
  // sustains on real layers, and a cost every kernel pays (dispatch, setup, synchronisation).
  double threads = 0, cores = 0;
  double sustained = 0.5;
  double kernel_overhead_ms = 0.01;
};


// energy_mj = a*GFLOP + b*MB + c with a, b, c >= 0, fitted by least squares on relative error.
FallbackModel fit_energy_fallback(const std::vector<WorkSample>& samples);
// latency_ms = max(flops / peak, bytes / bandwidth) + c, peak and bandwidth searched on a
// logarithmic grid, c >= 0 by least squares on relative error.
FallbackModel fit_latency_fallback(const std::vector<WorkSample>& samples);
// The latency roofline the specs give: the runtime's share of the peak (threads of cores), the
// sustained share, the per-kernel overhead. Throws Error for specs out of range.
FallbackModel spec_roofline(const DeviceSpecs& specs);
// The fallback of a new predictor: fitted where the data has the purpose, else from specs.
FallbackModel build_fallback(const KernelDataset& data, const DeviceSpecs& specs);
// The same from work samples; the sources name them in the note ("measured kernels", ...).
FallbackModel build_fallback(const std::vector<WorkSample>& latency, const std::vector<WorkSample>& energy,
                             const DeviceSpecs& specs, const std::string& latency_source,
                             const std::string& energy_source);

// ---- Registry --------------------------------------------------------------------------------

// The smallest and largest value of every column of rows (row-major, ncols each), for a
// ScorerSpec's ranges. NaN cells are skipped; a column without a number gets {NaN, NaN}.
std::vector<FeatureRange> feature_ranges(const std::vector<float>& rows, size_t ncols);

// Writes one booster spec of a registry entry as a flow map: {booster, transform, base (log-ratio
// only), ranges (when known, keyed by kernel_type's schema feature names)}. Numbers are written so
// that they read back exactly: a bound as the shortest decimal of its float, the base with 17
// digits. Every registry writer uses it, so entries read the same whoever wrote them.
void emit_booster_spec(YAML::Emitter& e, const ScorerSpec& spec, const std::string& kernel_type);

// A file to be written under the predictor's folder.
struct PendingFile {
  std::string relative;  // inside the predictor's folder
  std::string content;
};

// Adds (or, with replace, replaces) the entry named in `entry_yaml` (one YAML map) in
// <predictors_dir>/predictors.yaml and writes the files in the predictor's folder. Everything
// goes to temporary files first and is renamed only when all were written. Other entries keep
// their text. Throws Error when the name and version exist and replace is false.
void write_registry_entry(const std::string& predictors_dir, const std::string& name, const std::string& version,
                          const std::string& folder, const std::string& entry_yaml,
                          const std::vector<PendingFile>& files, bool replace);
// The next version for a name: "1.0" when new, else the newest one's last number plus one.
std::string next_version(const std::string& predictors_dir, const std::string& name);

// ---- Composite training: kernel costs learned from measured models and blocks ----------------

// One measured composite: a whole network or a block (or one kernel row of a dataset), the
// kernels it splits into, and its measured value (ms or mJ).
struct CompositeSample {
  std::string label;  // for messages: the model file, or file:line
  std::string group;  // copies of one network share a group, and so a cross-validation fold
  std::vector<Kernel> kernels;
  double value = 0;
  bool kernel_row = false;  // a kernel dataset row: no per-inference constant, not in model metrics
};

struct CompositeParams {
  TrainParams booster;         // of the per-kernel-type boosters (transform: always log-ratio)
  bool per_inference = true;   // fit a per-inference constant (0 where the data shows none)
  std::string correction = "auto";  // model-level correction: auto (kept where CV says it helps), on, off
  // A kernel type's base cost: "work" (GFLOP, MB and a per-kernel constant) or "launch" (the
  // per-kernel constant alone: for a device whose kernels cost a launch whatever their size).
  std::string kernel_base = "work";
  // The correction's features: "all" (count, GFLOP, MB, each also per kernel type, and the log of
  // the kernel sum) or "counts" (count in total and per type, and the log of the kernel sum: the
  // features that do not move with the input size).
  std::string correction_features = "all";
  // What is learned: latency (the fallback of unseen kernel types is a roofline) or energy (linear).
  Purpose purpose = Purpose::Latency;
};

// The cost model of one kernel type: base(work) * exp(booster(features)).
struct CompositeKernelModel {
  std::string type;
  WorkModel base;
  std::shared_ptr<TrainedBooster> booster;
  size_t configs = 0, kernels = 0;  // distinct configurations, and kernel occurrences, seen
  std::vector<float> features;      // the distinct configurations' features, row-major
  std::vector<KernelWork> work;     // and their work
};

struct CompositeFit {
  std::vector<CompositeKernelModel> kernels;
  double per_inference = 0;
  std::shared_ptr<TrainedBooster> correction;  // null: none
  std::vector<std::string> correction_features;
  FusionRules rules;
  // Fitted on the learned kernel costs, for kernel types the fit never saw (as in prediction).
  FallbackModel fallback;
  // The total of each sample (per-inference constant, kernel costs, correction); kernels of a
  // type the fit never saw get the fallback.
  std::vector<double> predict(const std::vector<CompositeSample>& samples, bool with_correction = true) const;
  // Every kernel configuration's learned cost (no correction), for the fallback's fit; those
  // priced below a thousandth of the median are left out.
  std::vector<WorkSample> kernel_costs() const;
};

// Fits the kernel-type cost models so that each sample's sum matches its measurement (squared
// log error), then the per-inference constant and, if asked, the model-level correction.
CompositeFit fit_composite(const std::vector<CompositeSample>& samples, const FusionRules& rules,
                           const CompositeParams& params, bool with_correction);

struct CompositeCrossValidation {
  Metrics kernel_sum;   // out-of-fold, over model samples, without the correction
  Metrics corrected;    // the same with the model-level correction
  bool use_correction = false;  // what `auto` chose (or what was asked)
  Metrics chosen;
  std::vector<double> predicted;  // out-of-fold prediction of every sample (as chosen)
  int folds = 0;
};
// Group k-fold over samples (CompositeSample::group), the whole fit redone in every fold.
CompositeCrossValidation cross_validate_composite(const std::vector<CompositeSample>& samples,
                                                  const FusionRules& rules, const CompositeParams& params);

// The rows of a models CSV (column `model`: an ONNX file relative to the CSV; the purpose's value
// column; optional `group`), loaded and split into kernels with `rules`. Errors name the file and
// line: a missing or unreadable model, a non-positive value, a model without any kernel that a
// booster could learn from.
std::vector<CompositeSample> read_models_csv(const std::string& csv_path, Purpose purpose, const FusionRules& rules);

// ---- deepen train ----------------------------------------------------------------------------

struct TrainRequest {
  std::vector<std::string> datasets;
  std::vector<std::string> models;  // models CSVs (composite training): ONNX files and measured values
  std::string correction = "auto";  // with models: model-level correction auto, on or off
  std::string kernel_base = "work";            // with models: CompositeParams::kernel_base
  std::string correction_features = "all";     // with models: CompositeParams::correction_features
  std::string cv_predictions;       // with models: write every model's out-of-fold prediction here (CSV)
  std::string name, device, framework, version;  // version empty: next_version
  std::string data_note;  // where the data came from, recorded before the files and row counts
  std::vector<std::string> purposes;             // empty: every target the data holds
  std::string predictors_dir;
  std::string fusion_rules_path;  // empty: default rules
  TrainParams params;
  DeviceSpecs specs;
  // The power the device can plausibly draw (published figures), with where they came from;
  // unknown (max 0): derived from rows that hold both energy and latency, if any.
  PowerEnvelope power_envelope;
  bool force = false;
  // Pick max_depth, eta and rounds per booster from a small grid by cross-validated MAPE (the
  // figure then reported was tuned on the same folds, so it is slightly optimistic).
  bool tune = false;
};

struct TrainedKernel {
  std::string kernel, purpose, booster_file;
  size_t rows = 0;
  ScorerSpec spec;  // as written to the registry: file, transform, base, ranges
  WorkModel base;  // log-ratio: the analytical model the booster corrects
  TrainParams params;  // as used (differs from the request's with tune)
  CrossValidation cv;  // empty (n = 0) for a type learned from models: TrainedComposite holds their CV
};

// What composite training learned for one purpose, and how well it predicts held-out models.
struct TrainedComposite {
  std::string purpose;
  size_t models = 0, kernel_rows = 0;
  double per_inference = 0;
  std::string correction_file;  // empty: no correction
  std::vector<std::string> correction_features;
  CompositeCrossValidation cv;
  std::vector<std::string> kernel_types;
  std::vector<WorkSample> kernel_costs;  // every learned configuration's cost, for the fallback
  std::vector<uint64_t> model_fingerprints, kernel_fingerprints;  // what it was trained on (TrainingSet)
  std::vector<std::string> files;        // the models CSVs, with their rows
  std::vector<size_t> file_rows;
};

struct TrainResult {
  std::string name, version, folder, entry_yaml;
  std::vector<TrainedKernel> kernels;
  std::vector<TrainedComposite> composites;
  FallbackModel fallback;
  PowerEnvelope power_envelope;
  TrainingSet training_set;  // written as training_set.v<version>.txt
  // What the caller should show even when progress is quiet: kernel types whose boosters the
  // stored fusion rules would never use.
  std::vector<std::string> warnings;
};

// The power envelope of a device from its measured rows (kernel rows holding power, or energy
// and latency): half the lowest to twice the highest measured power; unknown without such rows.
PowerEnvelope measured_power_envelope(const KernelDataset& data);

// One purpose of train_predictor learned from the request's models CSVs and the kernel rows of
// `data` that hold that purpose's value: cross-validated over models, then fitted on all; the
// boosters are added to `pending` and `kernels`.
TrainedComposite train_composite(const TrainRequest& request, const std::string& purpose, const KernelDataset& data,
                                 const FusionRules& rules, const std::string& version,
                                 std::vector<PendingFile>* pending, std::vector<TrainedKernel>* kernels,
                                 const std::function<void(const std::string&)>& progress);

// Reads the datasets, trains, cross-validates, writes boosters, fusion rules and the entry.
// progress is called with a line before each booster is trained.
TrainResult train_predictor(const TrainRequest& request,
                            const std::function<void(const std::string&)>& progress = nullptr);

// ---- deepen eval -----------------------------------------------------------------------------

struct EvalPoint {
  std::string kernel;  // kernel type, or the model file at model level
  double measured = 0, predicted = 0;
  std::string source;  // trained, fallback, uncovered
  // The predictor was trained on this configuration (or model): its accuracy here says how well
  // it fits, not how well it predicts, so it is counted apart.
  bool in_sample = false;
};

struct EvalGroup {
  std::string name;  // kernel type, or "all"
  Metrics metrics;
  size_t uncovered = 0;  // rows without an estimate (not in the metrics)
  size_t fallback = 0;   // rows scored by the fallback (in the metrics)
};

struct EvalResult {
  std::vector<EvalPoint> points;
  // Per kernel type (sorted), then "all". When some rows are in the predictor's training set,
  // those of the rows it was not trained on are named "<type> (held-out)" and "all (held-out)",
  // followed by the same of the others, "<type> (in-sample)" and "all (in-sample)".
  std::vector<EvalGroup> groups;
  size_t in_sample = 0;  // rows in the predictor's training set
  bool training_set_known = false;  // the predictor records its training set
};

EvalResult evaluate_kernels(const Predictor& predictor, Purpose purpose, const KernelDataset& data,
                            const PredictOptions& options = {});
// One row of a models CSV: an ONNX file (column `model`, relative to the CSV) and its measured
// value (column latency_ms, energy_mj or power_mw for the purpose); `group` when the CSV has one.
struct MeasuredModel {
  std::string model;  // as written
  std::string path;   // resolved against the CSV's folder
  double value = 0;
  std::string group;
  size_t line = 0;
};
// Errors name the file, line and column: a missing column, a cell that is not a positive number.
std::vector<MeasuredModel> read_measured_models(const std::string& csv_path, Purpose purpose);

// Each row of the CSV names an ONNX file (column `model`, relative to the CSV) and its measured
// value (column latency_ms, energy_mj or power_mw for the purpose).
EvalResult evaluate_models(const Predictor& predictor, Purpose purpose, const std::string& csv_path,
                           const PredictOptions& options = {});
EvalResult summarise_points(std::vector<EvalPoint> points);

// Kernels from dataset rows (type, config, work from the schema), for scoring.
std::vector<Kernel> kernels_from_rows(const std::vector<DatasetRow>& rows);

// ---- Plot ------------------------------------------------------------------------------------

// What `deepen eval --plot` draws with draw_accuracy_plot: every row of `result`, titled with the
// predictor, its version, the purpose and the accuracy (share within ±10%, MAPE, n; held-out and
// in-sample rows apart when there are in-sample ones). `data` says what was evaluated, e.g.
// "kernels of test.csv".
AccuracyPlot eval_plot(const EvalResult& result, const PredictorEntry& predictor, Purpose purpose,
                       const std::string& data);

// ---- DeepEn2023 import -----------------------------------------------------------------------

// Converts the authors' layout: a config JSON {kernel: {id: {config: {HW, CIN, COUT,
// KERNEL_SIZE, STRIDES}}}} and a value JSON {kernel: {id: {energy: "0.91"}}} into dataset rows
// (target column `target`, e.g. energy_mj). Ids without a value are counted in `skipped`.
std::vector<DatasetRow> import_deepen2023(const std::string& config_json, const std::string& config_label,
                                          const std::string& values_json, const std::string& values_label,
                                          const std::string& target, size_t* skipped = nullptr);

// ---- Dataset import -------------------------------------------------------------------------

// Public measurements turned into what `deepen train` and `deepen eval --models` read. Block and
// network measurements become ONNX models (built by the zoo, zero weights) and a models CSV:
// column `model` (the file, relative to the CSV), the value column, then extra columns; kernel
// measurements become kernel dataset rows.

// A models CSV and the models it names, held in memory until written. build(i) builds files[i];
// it is called on the writer's threads, so it must not touch shared state.
struct ImportedModels {
  std::vector<std::string> columns;            // the CSV header, `model` first
  std::vector<std::vector<std::string>> rows;  // cells in column order; the first names a file of `files`
  std::vector<std::string> files;              // distinct model files (names, no folder)
  std::function<Graph(size_t)> build;
  size_t skipped = 0;                          // rows left out (see skipped_why)
  std::string skipped_why;                     // e.g. "have no value in column x"
};

// Writes the models and DIR/measured.csv: everything goes to a fresh folder beside DIR first and
// is renamed to DIR at the end, so that an error leaves nothing behind. DIR must not exist or be
// an empty folder. threads: as write_in_parallel (0: one per core).
void write_imported_models(const ImportedModels& models, const std::string& dir, int threads = 0);

// The text of the models CSV.
std::string imported_models_csv(const ImportedModels& models);

// Once-for-All / ProxylessNAS block look-up tables (YAML: key -> {count, mean, std|var}), one
// model per entry; the CSV columns are model,latency_ms,std_ms,count,source,group. `label` names
// the file in messages and its stem names the models. Throws Error naming the file and key for a
// key that does not parse, an entry without a positive mean, or a block the key cannot describe.
ImportedModels import_lut(const std::vector<std::pair<std::string, std::string>>& files);  // {label, yaml text}

// Output column for a measured column name: latency_ms for `..._ms` or a name containing
// "latency", energy_mj for `..._mj` or "energy"; an Error asking for --target otherwise.
std::string target_for_column(const std::string& column);

// How a NAS-Bench-201 network is built (see deepen/zoo.h, Nb201Graph).
struct Nb201ImportOptions {
  std::string column;        // the measured column
  std::string target;        // output column; empty: target_for_column(column)
  std::string dataset;       // used where the CSV has no dataset / input_hw columns; empty: cifar10
  // pruned, all-edges, torch2trt, or auto: the form the measured runtime executes (nb201_graph_for)
  std::string graph = "auto";
};
// The graph form `auto` picks for a measured column: torch2trt for HW-NAS-Bench's Jetson TX2
// columns (tx2gpu_*: TensorRT engines built by torch2trt), pruned for every other (converters
// such as TFLite's drop the zero edges and dead branches).
std::string nb201_graph_for(const std::string& column);
// One network per row of a CSV with an `arch` column; rows whose networks are identical share
// one file and one `group` (the first such row's arch string). Rows with an empty cell in the
// column are counted in `skipped`. Throws Error with file:line for a bad arch, a non-positive or
// non-numeric value, a missing column.
ImportedModels import_nb201(const std::string& csv_text, const std::string& label, const Nb201ImportOptions& options);

// HW-NAS-Bench's FBNet block measurements (block,kind,hw,cin,cout,expansion,ks,stride,groups, ...):
// one model per distinct block. Identity Skip blocks (stride 1, cin == cout) execute nothing and
// are left out and counted.
ImportedModels import_fbnet(const std::string& csv_text, const std::string& label, const std::string& column,
                            const std::string& target = "");

// TVM AutoTVM logs (JSON lines): conv2d, depthwise_conv2d and dense records as kernel dataset rows
// (conv, dwconv, gconv, fc) with latency_ms and extra columns device, task, dtype. device_filter:
// keep records whose device contains it (empty: all). Records the schema cannot express are
// counted in skipped (by reason). Throws Error with file:line for a line that is not a record.
struct TophubImport {
  std::vector<DatasetRow> rows;
  std::map<std::string, size_t> skipped;  // reason -> count
};
TophubImport import_tophub(const std::string& text, const std::string& label, const std::string& device_filter = "");

}  // namespace deepen
