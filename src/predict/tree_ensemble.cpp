#include "predict/tree_ensemble.h"

#include "predict/raw_model.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <vector>

namespace deepen {
namespace {

// XGBoost keeps its parameters as strings of digits.
bool int_param(const std::map<std::string, std::string>& params, const char* key, int64_t* out) {
  auto it = params.find(key);
  if (it == params.end()) return false;
  const std::string& s = it->second;
  if (s.empty() || s.size() > 18) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

int64_t digits(const std::string& s) {
  if (s.empty() || s.size() > 18) return -1;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return -1;
    v = v * 10 + (c - '0');
  }
  return v;
}

// The tree's problem in a few words (the caller says which tree), or "".
std::string check_tree(RawTree& tree, int64_t num_feature, TreeEnsemble::Tree* out) {
  int64_t n = digits(tree.num_nodes);
  if (n < 1 || n > (int64_t{1} << 31)) return "no valid num_nodes";
  if (!tree.size_leaf_vector.empty() && digits(tree.size_leaf_vector) != 0)
    return "vector leaves are not supported";
  if (tree.bad_value) return "a node array holds a value of the wrong type";
  const size_t count = static_cast<size_t>(n);
  if (tree.left.size() != count || tree.right.size() != count || tree.split.size() != count ||
      tree.parents.size() != count || tree.default_left.size() != count)
    return "its node arrays do not match num_nodes";
  if (tree.conditions.size() != count) return "'split_conditions' does not match num_nodes";
  // XGBoost follows parent links when it loads a tree; the root's parent is -1 (saved as 2^31-1).
  const auto& parents = tree.parents;
  if (parents[0] != -1 && parents[0] != 2147483647) return "the root has a parent";
  for (size_t i = 1; i < count; ++i)
    if (parents[i] < 0 || parents[i] >= n) return fmt::format("node {} has a parent out of range", i);
  if (tree.categorical) return "categorical splits are not supported";
  if (!tree.split_type.empty()) {
    if (tree.split_type.size() != count) return "'split_type' does not match num_nodes";
    for (auto t : tree.split_type)
      if (t != 0) return "categorical splits are not supported";
  }
  const auto& left = tree.left;
  const auto& right = tree.right;
  const auto& split = tree.split;
  // Every node reachable from the root once: no cycle, no shared child, indices in range.
  std::vector<bool> seen(count, false);
  std::vector<int64_t> todo = {0};
  seen[0] = true;
  while (!todo.empty()) {
    size_t i = static_cast<size_t>(todo.back());
    todo.pop_back();
    if (left[i] == -1) {
      if (right[i] != -1) return fmt::format("node {} has only one child", i);
      continue;
    }
    if (split[i] < 0 || split[i] >= num_feature)
      return fmt::format("node {} splits on feature {} of {}", i, split[i], num_feature);
    for (int64_t c : {left[i], right[i]}) {
      if (c <= 0 || c >= n || seen[static_cast<size_t>(c)])
        return fmt::format("node {} has a child {} that is out of range or shared", i, c);
      if (parents[static_cast<size_t>(c)] != static_cast<int64_t>(i))
        return fmt::format("node {}'s parent is not node {}", c, i);
      seen[static_cast<size_t>(c)] = true;
      todo.push_back(c);
    }
  }
  for (size_t i = 0; i < count; ++i)
    if (!std::isfinite(tree.conditions[i])) return fmt::format("node {} holds a value that is not finite", i);
  out->left.assign(left.begin(), left.end());
  out->right.assign(right.begin(), right.end());
  out->feature.assign(split.begin(), split.end());
  out->value = std::move(tree.conditions);
  out->default_left.assign(count, 0);
  for (size_t i = 0; i < count; ++i) out->default_left[i] = tree.default_left[i] != 0;
  return "";
}

// Objectives whose prediction is the raw sum of the trees (an identity link).
bool identity_objective(const std::string& name) {
  return name == "reg:squarederror" || name == "reg:linear" || name == "reg:pseudohubererror" ||
         name == "reg:absoluteerror" || name == "reg:squaredlogerror" || name == "reg:quantileerror";
}

std::string check_model(RawModel& m, TreeEnsemble* out) {
  if (m.bad_value) return "a model field holds a value of the wrong type";
  int64_t num_feature = 0, num_class = 0, num_target = 1;
  if (!int_param(m.learner_param, "num_feature", &num_feature) || num_feature < 1 || num_feature > (1 << 24))
    return "no valid learner_model_param.num_feature";
  if (m.learner_param.count("num_class") && (!int_param(m.learner_param, "num_class", &num_class) || num_class > (1 << 16)))
    return "no valid num_class";
  if (m.learner_param.count("num_target") && (!int_param(m.learner_param, "num_target", &num_target) || num_target != 1))
    return "only single-target boosters are supported";
  if (num_class > 1) return "a multi-class booster; deepen reads single-output regression boosters";
  auto base = m.learner_param.find("base_score");
  if (base == m.learner_param.end()) return "no learner_model_param.base_score";
  try {
    size_t used = 0;
    out->base_score = std::stof(base->second, &used);
    if (used != base->second.size() || !std::isfinite(out->base_score)) return "base_score is not a number";
  } catch (const std::exception&) {
    return "base_score is not a number";
  }
  if (!m.objective.empty() && !identity_objective(m.objective))
    return fmt::format("objective '{}': deepen reads regression boosters whose output is the sum of their trees "
                       "(reg:squarederror and the like)",
                       m.objective);
  out->num_feature = static_cast<size_t>(num_feature);
  if (m.booster.empty()) return "no 'gradient_booster' name";
  if (m.booster != "gbtree" && m.booster != "dart")
    return fmt::format("a '{}' booster; deepen reads tree boosters (gbtree, dart)", m.booster);
  int64_t num_trees = 0, parallel = 1;
  if (!int_param(m.gbtree_param, "num_trees", &num_trees) || static_cast<uint64_t>(num_trees) != m.trees.size() ||
      m.tree_info.size() != m.trees.size())
    return "num_trees, trees and tree_info disagree";
  if (m.gbtree_param.count("num_parallel_tree") &&
      (!int_param(m.gbtree_param, "num_parallel_tree", &parallel) || parallel < 1 || parallel > num_trees + 1))
    return "no valid num_parallel_tree";
  std::vector<float> weights(m.trees.size(), 1.0f);
  if (m.booster == "dart") {
    if (m.weight_drop.size() != m.trees.size()) return "dart weight_drop does not match the trees";
    for (size_t t = 0; t < weights.size(); ++t) weights[t] = static_cast<float>(m.weight_drop[t]);
  }
  const int64_t groups = std::max<int64_t>(1, num_class);
  for (int64_t g : m.tree_info)
    if (g < 0 || g >= groups) return "tree_info names an output group that does not exist";
  std::vector<bool> ids(m.trees.size(), false);
  out->trees.assign(m.trees.size(), {});
  for (size_t t = 0; t < m.trees.size(); ++t) {
    RawTree& tree = m.trees[t];
    if (!tree.has_id || tree.id < 0 || static_cast<size_t>(tree.id) >= ids.size() || ids[static_cast<size_t>(tree.id)])
      return fmt::format("tree {} has a missing, out-of-range or repeated id", t);
    ids[static_cast<size_t>(tree.id)] = true;
    std::string problem = check_tree(tree, num_feature, &out->trees[t]);
    if (!problem.empty()) return fmt::format("tree {}: {}", t, problem);
    out->trees[t].weight = weights[t];
  }
  return "";
}

}  // namespace

float TreeEnsemble::predict(const float* row) const {
  float sum = base_score;
  for (const Tree& tree : trees) {
    int32_t node = 0;
    while (tree.left[node] != -1) {
      float x = row[tree.feature[node]];
      if (std::isnan(x)) node = tree.default_left[node] ? tree.left[node] : tree.right[node];
      else node = x < tree.value[node] ? tree.left[node] : tree.right[node];
    }
    sum += tree.weight * tree.value[node];
  }
  return sum;
}

std::string read_tree_ensemble(const char* data, size_t size, TreeEnsemble* out) {
  if (size == 0 || data[0] != '{') return "does not start with '{'";
  // JSON's second token is a quoted key (or '}'); UBJSON's is a length marker.
  size_t k = 1;
  while (k < size && (data[k] == ' ' || data[k] == '\n' || data[k] == '\r' || data[k] == '\t')) ++k;
  const bool is_json = k < size && (data[k] == '"' || data[k] == '}');
  RawModel raw;
  std::string problem = is_json ? read_json_model(data, size, &raw) : read_ubjson_model(data, size, &raw);
  if (!problem.empty()) return problem;
  return check_model(raw, out);
}

}  // namespace deepen
