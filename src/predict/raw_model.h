// What deepen takes from an XGBoost model file, as read and before it is checked
// (tree_ensemble.cpp checks it and builds the TreeEnsemble). Two readers fill it: JSON through
// nlohmann's SAX parser (json_model_reader.cpp), UBJSON by hand (ubjson_model_reader.cpp). Both
// keep only what scoring needs and skip what XGBoost keeps for training (loss_changes,
// sum_hessian, base_weights). A value of the wrong type is recorded (bad_value), not guessed at.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace deepen {

// Real models nest 6 deep; anything far deeper is refused before it can exhaust the stack.
constexpr size_t kMaxModelDepth = 64;

struct RawTree {
  bool has_id = false;
  int64_t id = -1;
  std::string num_nodes, size_leaf_vector;
  std::vector<int64_t> left, right, split, parents, default_left, split_type;
  std::vector<float> conditions;
  bool categorical = false;
  bool bad_value = false;
};

struct RawModel {
  std::map<std::string, std::string> learner_param;  // num_feature, base_score, num_class, ...
  std::map<std::string, std::string> gbtree_param;   // num_trees, num_parallel_tree
  std::string objective, booster;
  std::vector<int64_t> tree_info;
  std::vector<double> weight_drop;
  bool has_weight_drop = false;
  std::vector<RawTree> trees;
  bool bad_value = false;
};

// Read the bytes of a model (starting at its '{') into `out`. Return "" on success, else the
// problem in a few words.
std::string read_json_model(const char* data, size_t size, RawModel* out);
std::string read_ubjson_model(const char* data, size_t size, RawModel* out);

}  // namespace deepen
