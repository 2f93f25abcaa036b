// A tree ensemble read from an XGBoost model file (JSON or UBJSON) and scored by deepen itself.
// Reading checks what XGBoost would trust blindly (child indices, tree ids, nesting depth), and
// scoring follows XGBoost's rules exactly (float comparisons `x < split`, missing values go the
// default way, leaves summed in tree order in float from the base score), so a booster gives the
// numbers XGBoost gives, without XGBoost's start-up, parser or thread pool on the hot path.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace deepen {

struct TreeEnsemble {
  struct Tree {
    std::vector<int32_t> left, right, feature;  // left == -1 marks a leaf
    std::vector<float> value;                   // split condition, or the leaf's value
    std::vector<uint8_t> default_left;
    float weight = 1.0f;                        // dart's weight_drop; 1 for gbtree
  };
  size_t num_feature = 0;
  float base_score = 0.0f;
  std::vector<Tree> trees;

  // The model's output for one row of num_feature features (NaN: missing).
  float predict(const float* row) const;
};

// Reads the bytes of a JSON or UBJSON XGBoost model (starting at its '{') into `out`. Returns ""
// on success, else the problem in a few words.
std::string read_tree_ensemble(const char* data, size_t size, TreeEnsemble* out);

}  // namespace deepen
