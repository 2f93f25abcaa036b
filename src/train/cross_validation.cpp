// Group k-fold cross-validation. Repeated measurements of one config must not sit on both sides
// of a split, or the figure measures memory rather than prediction; so folds are drawn over
// distinct configs, in an order fixed by the seed (mt19937_64 is the same on every platform).
#include <deepen/error.h>
#include <deepen/train.h>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <random>

namespace deepen {

std::string config_key(const DatasetRow& row) {
  std::string key = row.kernel;
  for (const auto& [name, value] : row.config.fields) key += fmt::format("|{}={:.17g}", name, value);
  return key;
}

std::vector<int> group_folds(const std::vector<std::string>& group_keys, int folds, uint64_t seed) {
  std::vector<std::string> groups;
  std::map<std::string, size_t> index;
  for (const auto& k : group_keys)
    if (index.emplace(k, groups.size()).second) groups.push_back(k);
  if (folds < 2) throw Error(fmt::format("cross-validation needs at least 2 folds, not {}", folds));
  int k = std::min<int>(folds, static_cast<int>(groups.size()));
  std::vector<size_t> order(groups.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::mt19937_64 rng(seed);
  for (size_t i = order.size(); i > 1; --i) {  // Fisher-Yates with a portable draw
    size_t j = static_cast<size_t>(rng() % i);
    std::swap(order[i - 1], order[j]);
  }
  std::vector<int> group_fold(groups.size());
  for (size_t pos = 0; pos < order.size(); ++pos) group_fold[order[pos]] = static_cast<int>(pos % static_cast<size_t>(k));
  std::vector<int> out(group_keys.size());
  for (size_t i = 0; i < group_keys.size(); ++i) out[i] = group_fold[index[group_keys[i]]];
  return out;
}

CrossValidation cross_validate(const std::vector<float>& rows, size_t ncols, const std::vector<double>& targets,
                               const std::vector<std::string>& group_keys, const TrainParams& params) {
  CrossValidation cv;
  size_t n = targets.size();
  if (group_keys.size() != n) throw Error("cross-validation: one group key per row is needed");
  std::vector<int> fold = group_folds(group_keys, params.folds, params.seed);
  cv.folds = fold.empty() ? 0 : *std::max_element(fold.begin(), fold.end()) + 1;
  cv.predicted.assign(n, 0.0);
  if (cv.folds < 2)
    throw Error(fmt::format("cross-validation needs at least 2 distinct kernel configs, the data has {}", cv.folds));
  for (int f = 0; f < cv.folds; ++f) {
    std::vector<float> train_x, test_x;
    std::vector<double> train_y;
    std::vector<size_t> test_rows;
    for (size_t i = 0; i < n; ++i) {
      auto first = rows.begin() + static_cast<std::ptrdiff_t>(i * ncols);
      if (fold[i] == f) {
        test_x.insert(test_x.end(), first, first + static_cast<std::ptrdiff_t>(ncols));
        test_rows.push_back(i);
      } else {
        train_x.insert(train_x.end(), first, first + static_cast<std::ptrdiff_t>(ncols));
        train_y.push_back(targets[i]);
      }
    }
    TrainedBooster b = train_booster(train_x, ncols, train_y, params);
    std::vector<double> p = b.predict(test_x, ncols);
    for (size_t j = 0; j < test_rows.size(); ++j) cv.predicted[test_rows[j]] = p[j];
  }
  cv.metrics = compute_metrics(cv.predicted, targets);
  return cv;
}

}  // namespace deepen
