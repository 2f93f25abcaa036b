// XGBoost training through the C API. One thread and a fixed seed, so that the same data and
// parameters give byte-identical boosters; log transforms because kernel energies and latencies
// span several orders of magnitude and are judged by relative error.
#include <deepen/error.h>
#include <deepen/schema.h>
#include <deepen/train.h>

#include <fmt/format.h>

#include "train/xgboost_library.h"

#include <cmath>

namespace deepen {
namespace {

void quiet_log(const char*) {}

void check(int rc, const char* what) {
  if (rc != 0) throw Error(fmt::format("XGBoost failed to {}: {}", what, xgboost_library().GetLastError()));
}

// Frees a DMatrix on every path.
struct Matrix {
  DMatrixHandle handle = nullptr;
  ~Matrix() {
    if (handle) xgboost_library().DMatrixFree(handle);
  }
};

std::string number(double v) { return fmt::format("{:.17g}", v); }

}  // namespace

void set_training_params(void* booster, const TrainParams& p, double base_score) {
  // One thread and a fixed seed: the same data and parameters give byte-identical boosters.
  const std::pair<const char*, std::string> params[] = {
      {"verbosity", "0"},
      {"nthread", "1"},
      {"seed", std::to_string(p.seed)},
      {"objective", "reg:squarederror"},
      {"tree_method", "hist"},
      {"max_depth", std::to_string(p.max_depth)},
      {"eta", number(p.eta)},
      {"min_child_weight", number(p.min_child_weight)},
      {"subsample", number(p.subsample)},
      {"colsample_bytree", number(p.colsample)},
      {"lambda", number(p.lambda)},
      {"base_score", number(base_score)},
  };
  for (const auto& [key, value] : params)
    check(xgboost_library().BoosterSetParam(booster, key, value.c_str()), "set a parameter");
}

TrainedBooster::TrainedBooster(TrainedBooster&& o) noexcept : handle_(o.handle_), spec_(std::move(o.spec_)) {
  o.handle_ = nullptr;
}

TrainedBooster& TrainedBooster::operator=(TrainedBooster&& o) noexcept {
  if (this != &o) {
    if (handle_) xgboost_library().BoosterFree(handle_);
    handle_ = o.handle_;
    spec_ = std::move(o.spec_);
    o.handle_ = nullptr;
  }
  return *this;
}

TrainedBooster::~TrainedBooster() {
  if (handle_) xgboost_library().BoosterFree(handle_);
}

TrainedBooster train_booster(const std::vector<float>& rows, size_t ncols, const std::vector<double>& targets,
                             const TrainParams& p, const std::vector<KernelWork>& work, const WorkModel& base) {
  const XGBoostLibrary& xgb = xgboost_library();  // Error when XGBoost cannot be loaded
  static const bool silenced = [&xgb] {
    xgb.RegisterLogCallback(quiet_log);
    return true;
  }();
  (void)silenced;
  if (ncols == 0 || rows.size() != targets.size() * ncols)
    throw Error(fmt::format("training: {} feature values do not make {} rows of {} features", rows.size(),
                            targets.size(), ncols));
  if (targets.empty()) throw Error("training: no rows to train on");
  if (!valid_transform(p.transform))
    throw Error(fmt::format("unknown transform '{}': use log-ratio, log, log-per-mac, log-per-flop, log-per-byte or "
                            "none",
                            p.transform));
  bool needs_work = p.transform != "none" && p.transform != "log";
  if (needs_work && work.size() != targets.size())
    throw Error(fmt::format("training: transform {} needs every row's work", p.transform));
  ScorerSpec spec;
  spec.transform = p.transform;
  spec.base_per_gflop = base.per_gflop;
  spec.base_per_mb = base.per_mb;
  spec.base_per_kernel = base.per_kernel;
  if (p.transform == "log-ratio" && !(base.per_kernel > 0))
    throw Error("training: the log-ratio transform needs a fitted base (fit_work_model)");
  if (p.max_depth < 1 || p.rounds < 1 || !(p.eta > 0) || !(p.subsample > 0 && p.subsample <= 1) ||
      !(p.colsample > 0 && p.colsample <= 1) || !(p.min_child_weight >= 0) || !(p.lambda >= 0))
    throw Error("training: max-depth and rounds must be at least 1, eta positive, subsample and colsample in "
                "(0, 1], min-child-weight and lambda not negative");
  std::vector<float> labels(targets.size());
  double mean = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    double y = targets[i];
    if (!(y > 0) && p.transform != "none") throw Error("training: log transforms need positive targets");
    labels[i] = static_cast<float>(booster_target(spec, y, needs_work ? work[i] : KernelWork{}));
    mean += labels[i];
  }
  mean /= static_cast<double>(labels.size());

  Matrix m;
  check(xgb.DMatrixCreateFromMat(rows.data(), targets.size(), ncols, NAN, &m.handle), "build the training matrix");
  check(xgb.DMatrixSetFloatInfo(m.handle, "label", labels.data(), labels.size()), "set the labels");
  TrainedBooster b;
  b.spec_ = spec;
  b.spec_.ranges = feature_ranges(rows, ncols);
  check(xgb.BoosterCreate(&m.handle, 1, &b.handle_), "create a booster");
  set_training_params(b.handle_, p, mean);
  for (int i = 0; i < p.rounds; ++i) check(xgb.BoosterUpdateOneIter(b.handle_, i, m.handle), "train a round");
  return b;
}

std::vector<double> TrainedBooster::predict(const std::vector<float>& rows, size_t ncols,
                                            const std::vector<KernelWork>& work) const {
  if (ncols == 0 || rows.size() % ncols != 0) throw Error("prediction: bad feature matrix");
  size_t nrows = rows.size() / ncols;
  if (nrows == 0) return {};
  const XGBoostLibrary& xgb = xgboost_library();
  Matrix m;
  check(xgb.DMatrixCreateFromMat(rows.data(), nrows, ncols, NAN, &m.handle), "build the prediction matrix");
  bst_ulong length = 0;
  const float* result = nullptr;
  check(xgb.BoosterPredict(handle_, m.handle, 0, 0, 0, &length, &result), "predict");
  std::vector<double> out(result, result + length);
  bool needs_work = spec_.transform != "none" && spec_.transform != "log";
  if (needs_work && work.size() != out.size())
    throw Error(fmt::format("prediction: transform {} needs every row's work", spec_.transform));
  for (size_t i = 0; i < out.size(); ++i) out[i] = from_booster(spec_, out[i], needs_work ? work[i] : KernelWork{});
  return out;
}

std::string TrainedBooster::to_ubj() const {
  bst_ulong length = 0;
  const char* bytes = nullptr;
  const XGBoostLibrary& xgb = xgboost_library();
  check(xgb.BoosterSaveModelToBuffer(handle_, "{\"format\": \"ubj\"}", &length, &bytes), "save the booster");
  return std::string(bytes, bytes + length);
}

std::vector<float> feature_matrix(const std::string& kernel_type, const std::vector<const DatasetRow*>& rows) {
  std::vector<float> out;
  const KernelSchema* schema = find_schema(kernel_type);
  if (!schema) throw Error(fmt::format("kernel type '{}' has no feature schema", kernel_type));
  out.reserve(rows.size() * schema->feature_names.size());
  for (const DatasetRow* r : rows) {
    std::vector<double> f = kernel_features(kernel_type, r->config);
    for (double v : f) out.push_back(static_cast<float>(v));
  }
  return out;
}

}  // namespace deepen
