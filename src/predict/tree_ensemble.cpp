#include "predict/tree_ensemble.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <map>
#include <vector>

namespace deepen {
namespace {

using json = nlohmann::json;

// Real models nest 6 deep; anything far deeper is refused before a recursive parser sees it.
constexpr size_t kMaxDepth = 64;

std::string check_json_depth(const char* data, size_t size) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < size; ++i) {
    char c = data[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth) return fmt::format("nested more than {} deep", kMaxDepth);
    } else if (c == ']' || c == '}') {
      if (depth > 0) --depth;
    }
  }
  return "";
}

int scalar_size(char m) {
  switch (m) {
    case 'Z': case 'N': case 'T': case 'F': return 0;
    case 'i': case 'U': case 'C': return 1;
    case 'I': return 2;
    case 'l': case 'd': return 4;
    case 'L': case 'D': return 8;
    default: return -1;
  }
}

// Walks UBJSON without recursion: well formed, at most kMaxDepth deep, no counted container
// whose elements take no bytes (a few bytes could otherwise ask for 2^60 nulls).
std::string check_ubjson_structure(const char* b, size_t size) {
  struct Frame {
    bool object;
    char type;     // the '$' type of a typed container, or 0
    int64_t left;  // values (pairs) left in a counted container, -1 when closed by a marker
    bool want_key;
  };
  std::vector<Frame> stack;
  size_t p = 0;
  auto need = [&](uint64_t n) { return n <= size - p; };
  auto read_int = [&](char m, int64_t* out) {
    int w = (m == 'i' || m == 'U') ? 1 : m == 'I' ? 2 : m == 'l' ? 4 : m == 'L' ? 8 : 0;
    if (w == 0 || !need(static_cast<uint64_t>(w))) return false;
    uint64_t v = 0;
    for (int k = 0; k < w; ++k) v = (v << 8) | static_cast<unsigned char>(b[p + k]);
    p += static_cast<size_t>(w);
    if (m == 'i') *out = static_cast<int8_t>(v);
    else if (m == 'U') *out = static_cast<int64_t>(v);
    else if (m == 'I') *out = static_cast<int16_t>(v);
    else if (m == 'l') *out = static_cast<int32_t>(v);
    else *out = static_cast<int64_t>(v);
    return true;
  };
  auto read_length = [&](int64_t* n) {
    if (!need(1)) return false;
    char m = b[p++];
    return read_int(m, n) && *n >= 0;
  };
  bool too_deep = false;
  // A value whose marker m was just read; containers are pushed, not descended into.
  auto value = [&](char m) {
    int s = scalar_size(m);
    if (s >= 0) {
      if (!need(static_cast<uint64_t>(s))) return false;
      p += static_cast<size_t>(s);
      return true;
    }
    if (m == 'S' || m == 'H') {
      int64_t n = 0;
      if (!read_length(&n) || !need(static_cast<uint64_t>(n))) return false;
      p += static_cast<size_t>(n);
      return true;
    }
    if (m != '[' && m != '{') return false;
    if (stack.size() >= kMaxDepth) {
      too_deep = true;
      return false;
    }
    Frame f{m == '{', 0, -1, m == '{'};
    if (need(1) && b[p] == '$') {
      ++p;
      if (!need(1)) return false;
      f.type = b[p++];
      if (scalar_size(f.type) <= 0 && f.type != 'S' && f.type != 'H') return false;
      if (!need(1) || b[p] != '#') return false;
    }
    if (need(1) && b[p] == '#') {
      ++p;
      if (!read_length(&f.left)) return false;
    }
    if (f.type && !f.object && f.type != 'S' && f.type != 'H') {  // a typed array of numbers
      int64_t bytes = 0;
      if (__builtin_mul_overflow(f.left, scalar_size(f.type), &bytes) || !need(static_cast<uint64_t>(bytes)))
        return false;
      p += static_cast<size_t>(bytes);
      return true;
    }
    stack.push_back(f);
    return true;
  };
  if (!need(1) || b[p++] != '{' || !value('{')) return "not a UBJSON object";
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.left == 0) {
      stack.pop_back();
      continue;
    }
    if (f.left < 0) {
      if (!need(1)) return "UBJSON ends early";
      if (b[p] == (f.object ? '}' : ']')) {
        ++p;
        stack.pop_back();
        continue;
      }
    }
    if (f.object && f.want_key) {
      int64_t n = 0;
      if (!read_length(&n) || !need(static_cast<uint64_t>(n))) return "broken UBJSON key";
      p += static_cast<size_t>(n);
      f.want_key = false;
      continue;
    }
    char m = f.type;
    if (!m) {
      if (!need(1)) return "UBJSON ends early";
      m = b[p++];
    }
    if (f.left > 0) --f.left;
    if (f.object) f.want_key = true;
    if (!value(m)) return too_deep ? fmt::format("nested more than {} deep", kMaxDepth) : "broken UBJSON value";
  }
  return "";
}

// What deepen takes from an XGBoost model, gathered by a SAX pass over the JSON or UBJSON: no
// document tree is built, and the arrays XGBoost keeps only for training (loss_changes,
// sum_hessian, base_weights) are skipped.
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

class ModelSax {
 public:
  explicit ModelSax(RawModel* m) : m_(m) { stack_.push_back({Kind::Document}); }
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  bool null() { return value(Value::Other, 0, 0, nullptr); }
  bool boolean(bool v) { return value(Value::Int, v ? 1 : 0, v ? 1.0 : 0.0, nullptr); }
  bool number_integer(number_integer_t v) { return value(Value::Int, v, static_cast<double>(v), nullptr); }
  bool number_unsigned(number_unsigned_t v) {
    if (v > static_cast<number_unsigned_t>(INT64_MAX)) return value(Value::Other, 0, 0, nullptr);
    return value(Value::Int, static_cast<int64_t>(v), static_cast<double>(v), nullptr);
  }
  bool number_float(number_float_t v, const string_t&) { return value(Value::Float, 0, v, nullptr); }
  bool string(string_t& v) { return value(Value::String, 0, 0, &v); }
  bool binary(binary_t&) { return value(Value::Other, 0, 0, nullptr); }
  bool key(string_t& k) {
    key_ = k;
    return true;
  }
  bool start_object(std::size_t) {
    Kind parent = stack_.back().kind;
    Kind kind = Kind::Other;
    if (parent == Kind::Document) {
      kind = Kind::Root;
    } else if (parent == Kind::TreesArray) {
      m_->trees.emplace_back();
      kind = Kind::Tree;
    } else if (parent == Kind::Root && key_ == "learner") kind = Kind::Learner;
    else if (parent == Kind::Learner && key_ == "learner_model_param") kind = Kind::LearnerParam;
    else if (parent == Kind::Learner && key_ == "objective") kind = Kind::Objective;
    else if (parent == Kind::Learner && key_ == "gradient_booster") kind = Kind::GradientBooster;
    else if (parent == Kind::GradientBooster && key_ == "model") kind = Kind::Model;
    else if (parent == Kind::GradientBooster && key_ == "gbtree") kind = Kind::DartInner;
    else if (parent == Kind::DartInner && key_ == "model") kind = Kind::Model;
    else if (parent == Kind::Model && key_ == "gbtree_model_param") kind = Kind::GbtreeParam;
    else if (parent == Kind::Tree && key_ == "tree_param") kind = Kind::TreeParam;
    stack_.push_back({kind});
    key_.clear();
    return true;
  }
  bool end_object() {
    if (stack_.size() > 1) stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t) {
    Kind parent = stack_.back().kind;
    Kind kind = Kind::Other;
    if (parent == Kind::Model && key_ == "trees") kind = Kind::TreesArray;
    else if (parent == Kind::Model && key_ == "tree_info") kind = Kind::TreeInfo;
    else if (parent == Kind::GradientBooster && key_ == "weight_drop") kind = Kind::WeightDrop;
    else if (parent == Kind::Tree && !m_->trees.empty()) {
      RawTree& t = m_->trees.back();
      if (key_ == "left_children") kind = Kind::Ints, ints_ = &t.left;
      else if (key_ == "right_children") kind = Kind::Ints, ints_ = &t.right;
      else if (key_ == "split_indices") kind = Kind::Ints, ints_ = &t.split;
      else if (key_ == "parents") kind = Kind::Ints, ints_ = &t.parents;
      else if (key_ == "default_left") kind = Kind::Ints, ints_ = &t.default_left;
      else if (key_ == "split_type") kind = Kind::Ints, ints_ = &t.split_type;
      else if (key_ == "split_conditions") kind = Kind::Conditions;
      else if (key_.rfind("categories", 0) == 0) kind = Kind::Categories;
    }
    stack_.push_back({kind});
    key_.clear();
    return true;
  }
  bool end_array() {
    if (stack_.size() > 1) stack_.pop_back();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return false; }

 private:
  enum class Kind {
    Document, Root, Learner, LearnerParam, Objective, GradientBooster, DartInner, Model, GbtreeParam, TreesArray, Tree,
    TreeParam, TreeInfo, WeightDrop, Ints, Conditions, Categories, Other
  };
  enum class Value { Int, Float, String, Other };
  struct Frame {
    Kind kind;
  };

  bool value(Value v, int64_t i, double f, const std::string* s) {
    auto text = [&](std::string& out) {
      if (v == Value::String) out = *s;
      else if (v == Value::Int) out = std::to_string(i);
      else m_->bad_value = true;
    };
    switch (stack_.back().kind) {
      case Kind::Ints:
        if (v != Value::Int) m_->trees.back().bad_value = true;
        ints_->push_back(i);
        break;
      case Kind::Conditions:
        if (v != Value::Int && v != Value::Float) m_->trees.back().bad_value = true;
        m_->trees.back().conditions.push_back(static_cast<float>(f));
        break;
      case Kind::Categories:
        m_->trees.back().categorical = true;
        break;
      case Kind::TreeInfo:
        if (v != Value::Int) m_->bad_value = true;
        m_->tree_info.push_back(i);
        break;
      case Kind::WeightDrop:
        if (v != Value::Int && v != Value::Float) m_->bad_value = true;
        m_->has_weight_drop = true;
        m_->weight_drop.push_back(f);
        break;
      case Kind::LearnerParam:
        text(m_->learner_param[key_]);
        break;
      case Kind::GbtreeParam:
        text(m_->gbtree_param[key_]);
        break;
      case Kind::Objective:
        if (key_ == "name") text(m_->objective);
        break;
      case Kind::GradientBooster:
        if (key_ == "name") text(m_->booster);
        break;
      case Kind::Tree:
        if (key_ == "id") {
          if (v != Value::Int) m_->trees.back().bad_value = true;
          m_->trees.back().has_id = true;
          m_->trees.back().id = i;
        }
        break;
      case Kind::TreeParam:
        if (key_ == "num_nodes") text(m_->trees.back().num_nodes);
        if (key_ == "size_leaf_vector") text(m_->trees.back().size_leaf_vector);
        break;
      default:
        break;
    }
    return true;
  }

  RawModel* m_;
  std::vector<Frame> stack_;
  std::string key_;
  std::vector<int64_t>* ints_ = nullptr;
};

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

std::string check_tree(RawTree& tree, size_t index, int64_t num_feature, TreeEnsemble::Tree* out) {
  std::string where = fmt::format("tree {}: ", index);
  int64_t n = digits(tree.num_nodes);
  if (n < 1 || n > (int64_t{1} << 31)) return where + "no valid num_nodes";
  if (!tree.size_leaf_vector.empty() && digits(tree.size_leaf_vector) != 0)
    return where + "vector leaves are not supported";
  if (tree.bad_value) return where + "a node array holds a value of the wrong type";
  const size_t count = static_cast<size_t>(n);
  if (tree.left.size() != count || tree.right.size() != count || tree.split.size() != count ||
      tree.parents.size() != count || tree.default_left.size() != count)
    return where + "its node arrays do not match num_nodes";
  if (tree.conditions.size() != count) return where + "'split_conditions' does not match num_nodes";
  // XGBoost follows parent links when it loads a tree; the root's parent is -1 (saved as 2^31-1).
  const auto& parents = tree.parents;
  if (parents[0] != -1 && parents[0] != 2147483647) return where + "the root has a parent";
  for (size_t i = 1; i < count; ++i)
    if (parents[i] < 0 || parents[i] >= n) return where + fmt::format("node {} has a parent out of range", i);
  if (tree.categorical) return where + "categorical splits are not supported";
  if (!tree.split_type.empty()) {
    if (tree.split_type.size() != count) return where + "'split_type' does not match num_nodes";
    for (auto t : tree.split_type)
      if (t != 0) return where + "categorical splits are not supported";
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
      if (right[i] != -1) return where + fmt::format("node {} has only one child", i);
      continue;
    }
    if (split[i] < 0 || split[i] >= num_feature)
      return where + fmt::format("node {} splits on feature {} of {}", i, split[i], num_feature);
    for (int64_t c : {left[i], right[i]}) {
      if (c <= 0 || c >= n || seen[static_cast<size_t>(c)])
        return where + fmt::format("node {} has a child {} that is out of range or shared", i, c);
      if (parents[static_cast<size_t>(c)] != static_cast<int64_t>(i))
        return where + fmt::format("node {}'s parent is not node {}", c, i);
      seen[static_cast<size_t>(c)] = true;
      todo.push_back(c);
    }
  }
  for (size_t i = 0; i < count; ++i)
    if (!std::isfinite(tree.conditions[i])) return where + fmt::format("node {} holds a value that is not finite", i);
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
    std::string problem = check_tree(tree, t, num_feature, &out->trees[t]);
    if (!problem.empty()) return problem;
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
  std::string problem = is_json ? check_json_depth(data, size) : check_ubjson_structure(data, size);
  if (!problem.empty()) return problem;
  RawModel raw;
  ModelSax sax(&raw);
  bool ok = is_json ? json::sax_parse(data, data + size, &sax, nlohmann::detail::input_format_t::json, false)
                    : json::sax_parse(data, data + size, &sax, nlohmann::detail::input_format_t::ubjson, true);
  if (!ok) return is_json ? "not valid JSON" : "not valid UBJSON";
  return check_model(raw, out);
}

}  // namespace deepen
