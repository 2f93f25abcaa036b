// The fine-grained round's question: which measured configurations does a predictor fitted to the
// data so far get wrong? Out-of-fold predictions of a small XGBoost fit on the schema's features
// (log latency) answer it without any configuration judging itself.
#include <deepen/error.h>
#include <deepen/profile.h>
#include <deepen/schema.h>

#include <fmt/format.h>

#include "train/xgboost_library.h"

#include <cmath>
#include <map>

namespace deepen {
namespace {

void check(int rc) {
  if (rc != 0)
    throw Error(fmt::format("fitting the refinement predictor failed: {}", xgboost_library().GetLastError()));
}

// Fits on the rows of `train` and predicts the rows of `test` (row-major features).
std::vector<double> fit_predict(const std::vector<float>& train_x, const std::vector<float>& train_y,
                                const std::vector<float>& test_x, size_t ncols) {
  const XGBoostLibrary& xgb = xgboost_library();
  DMatrixHandle dtrain = nullptr, dtest = nullptr;
  BoosterHandle booster = nullptr;
  std::vector<double> out;
  try {
    check(xgb.DMatrixCreateFromMat(train_x.data(), train_y.size(), ncols, NAN, &dtrain));
    check(xgb.DMatrixSetFloatInfo(dtrain, "label", train_y.data(), train_y.size()));
    check(xgb.DMatrixCreateFromMat(test_x.data(), test_x.size() / ncols, ncols, NAN, &dtest));
    check(xgb.BoosterCreate(&dtrain, 1, &booster));
    for (auto [k, v] : std::vector<std::pair<const char*, const char*>>{
             {"max_depth", "6"}, {"eta", "0.1"}, {"nthread", "1"}, {"verbosity", "0"}, {"min_child_weight", "1"}})
      check(xgb.BoosterSetParam(booster, k, v));
    for (int it = 0; it < 200; ++it) check(xgb.BoosterUpdateOneIter(booster, it, dtrain));
    bst_ulong len = 0;
    const float* pred = nullptr;
    check(xgb.BoosterPredict(booster, dtest, 0, 0, 0, &len, &pred));
    out.assign(pred, pred + len);
  } catch (...) {
    if (booster) xgb.BoosterFree(booster);
    if (dtrain) xgb.DMatrixFree(dtrain);
    if (dtest) xgb.DMatrixFree(dtest);
    throw;
  }
  xgb.BoosterFree(booster);
  xgb.DMatrixFree(dtrain);
  xgb.DMatrixFree(dtest);
  return out;
}

}  // namespace

std::vector<KernelSample> badly_predicted(const std::vector<ProfiledRow>& rows, double threshold, size_t min_rows) {
  std::map<std::string, std::vector<const ProfiledRow*>> by_type;
  for (const auto& r : rows)
    if (r.error.empty() && std::isfinite(r.latency_ms) && r.latency_ms > 0) by_type[r.sample.kernel].push_back(&r);
  std::vector<KernelSample> bad;
  constexpr size_t kFolds = 3;
  for (const auto& [type, list] : by_type) {
    if (list.size() < min_rows) continue;
    std::vector<std::vector<double>> feats;
    for (const auto* r : list) feats.push_back(kernel_features(type, r->sample.config));
    size_t ncols = feats[0].size();
    for (size_t fold = 0; fold < kFolds; ++fold) {
      std::vector<float> tx, ty, vx;
      std::vector<size_t> vidx;
      for (size_t i = 0; i < list.size(); ++i) {
        auto& dst = (i % kFolds == fold) ? vx : tx;
        for (double f : feats[i]) dst.push_back(static_cast<float>(f));
        if (i % kFolds == fold) vidx.push_back(i);
        else ty.push_back(static_cast<float>(std::log(list[i]->latency_ms)));
      }
      std::vector<double> pred = fit_predict(tx, ty, vx, ncols);
      for (size_t j = 0; j < vidx.size(); ++j) {
        double actual = list[vidx[j]]->latency_ms;
        double predicted = std::exp(pred[j]);
        if (std::fabs(predicted / actual - 1.0) > threshold) bad.push_back(list[vidx[j]]->sample);
      }
    }
  }
  return bad;
}

}  // namespace deepen
