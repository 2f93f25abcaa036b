#include "predict/booster_check.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdint>
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

// XGBoost keeps its parameters as strings of digits.
bool int_param(const json& obj, const char* key, int64_t* out) {
  auto it = obj.find(key);
  if (it == obj.end()) return false;
  if (it->is_number_integer()) {
    *out = it->get<int64_t>();
    return true;
  }
  if (!it->is_string()) return false;
  const std::string& s = it->get_ref<const std::string&>();
  if (s.empty() || s.size() > 18) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

const json* member(const json& obj, const char* key, json::value_t type) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it != obj.end() && it->type() == type ? &*it : nullptr;
}

bool int_array(const json& tree, const char* key, size_t n, std::vector<int64_t>* out) {
  const json* a = member(tree, key, json::value_t::array);
  if (!a || a->size() != n) return false;
  out->clear();
  for (const auto& v : *a) {
    if (!v.is_number_integer() && !v.is_boolean()) return false;
    out->push_back(v.is_boolean() ? v.get<bool>() : v.get<int64_t>());
  }
  return true;
}

std::string check_tree(const json& tree, size_t index, int64_t num_feature) {
  std::string where = fmt::format("tree {}: ", index);
  const json* param = member(tree, "tree_param", json::value_t::object);
  int64_t n = 0, leaf_vector = 0;
  if (!param || !int_param(*param, "num_nodes", &n) || n < 1 || n > (int64_t{1} << 31))
    return where + "no valid num_nodes";
  if (int_param(*param, "size_leaf_vector", &leaf_vector) && leaf_vector != 0)
    return where + "vector leaves are not supported";
  const size_t count = static_cast<size_t>(n);
  std::vector<int64_t> left, right, split, parents, flags;
  if (!int_array(tree, "left_children", count, &left) || !int_array(tree, "right_children", count, &right) ||
      !int_array(tree, "split_indices", count, &split) || !int_array(tree, "parents", count, &parents) ||
      !int_array(tree, "default_left", count, &flags))
    return where + "its node arrays do not match num_nodes";
  // XGBoost follows parent links when it loads a tree; the root's parent is -1 (saved as 2^31-1).
  if (parents[0] != -1 && parents[0] != 2147483647) return where + "the root has a parent";
  for (size_t i = 1; i < count; ++i)
    if (parents[i] < 0 || parents[i] >= n) return where + fmt::format("node {} has a parent out of range", i);
  for (const char* key : {"categories", "categories_nodes", "categories_segments", "categories_sizes"}) {
    auto it = tree.find(key);
    if (it != tree.end() && !(it->is_array() && it->empty())) return where + "categorical splits are not supported";
  }
  for (const char* key : {"split_conditions", "base_weights", "loss_changes", "sum_hessian"}) {
    const json* a = member(tree, key, json::value_t::array);
    if (!a || a->size() != count) return where + fmt::format("'{}' does not match num_nodes", key);
    for (const auto& v : *a)
      if (!v.is_number()) return where + fmt::format("'{}' holds a non-number", key);
  }
  if (tree.contains("split_type")) {
    if (!int_array(tree, "split_type", count, &flags)) return where + "'split_type' does not match num_nodes";
    for (auto t : flags)
      if (t != 0) return where + "categorical splits are not supported";
  }
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
  return "";
}

std::string check_model(const json& root) {
  const json* learner = member(root, "learner", json::value_t::object);
  if (!learner) return "no 'learner'";
  const json* lparam = member(*learner, "learner_model_param", json::value_t::object);
  int64_t num_feature = 0, num_class = 0, num_target = 1;
  if (!lparam || !int_param(*lparam, "num_feature", &num_feature) || num_feature < 1 || num_feature > (1 << 24))
    return "no valid learner_model_param.num_feature";
  if (lparam->contains("num_class") && (!int_param(*lparam, "num_class", &num_class) || num_class > (1 << 16)))
    return "no valid num_class";
  if (lparam->contains("num_target") && (!int_param(*lparam, "num_target", &num_target) || num_target != 1))
    return "only single-target boosters are supported";
  const json* gb = member(*learner, "gradient_booster", json::value_t::object);
  const json* name = gb ? member(*gb, "name", json::value_t::string) : nullptr;
  if (!name) return "no 'gradient_booster' name";
  const json* model = nullptr;
  if (*name == "gbtree") {
    model = member(*gb, "model", json::value_t::object);
  } else if (*name == "dart") {
    const json* inner = member(*gb, "gbtree", json::value_t::object);
    model = inner ? member(*inner, "model", json::value_t::object) : nullptr;
  } else {
    return fmt::format("a '{}' booster; deepen reads tree boosters (gbtree, dart)", name->get<std::string>());
  }
  if (!model) return "no tree model";
  const json* mparam = member(*model, "gbtree_model_param", json::value_t::object);
  const json* trees = member(*model, "trees", json::value_t::array);
  const json* info = member(*model, "tree_info", json::value_t::array);
  int64_t num_trees = 0, parallel = 1;
  if (!mparam || !trees || !info || !int_param(*mparam, "num_trees", &num_trees) ||
      static_cast<uint64_t>(num_trees) != trees->size() || info->size() != trees->size())
    return "num_trees, trees and tree_info disagree";
  if (mparam->contains("num_parallel_tree") &&
      (!int_param(*mparam, "num_parallel_tree", &parallel) || parallel < 1 || parallel > num_trees + 1))
    return "no valid num_parallel_tree";
  if (*name == "dart") {
    const json* drop = member(*gb, "weight_drop", json::value_t::array);
    if (!drop || drop->size() != trees->size()) return "dart weight_drop does not match the trees";
  }
  const int64_t groups = std::max<int64_t>(1, num_class);
  for (const auto& g : *info)
    if (!g.is_number_integer() || g.get<int64_t>() < 0 || g.get<int64_t>() >= groups)
      return "tree_info names an output group that does not exist";
  std::vector<bool> ids(trees->size(), false);
  for (size_t t = 0; t < trees->size(); ++t) {
    const json& tree = (*trees)[t];
    const json* id = member(tree, "id", json::value_t::number_integer);
    if (!id) id = member(tree, "id", json::value_t::number_unsigned);
    if (!id || id->get<int64_t>() < 0 || static_cast<size_t>(id->get<int64_t>()) >= ids.size() ||
        ids[static_cast<size_t>(id->get<int64_t>())])
      return fmt::format("tree {} has a missing, out-of-range or repeated id", t);
    ids[static_cast<size_t>(id->get<int64_t>())] = true;
    std::string problem = check_tree(tree, t, num_feature);
    if (!problem.empty()) return problem;
  }
  return "";
}

}  // namespace

std::string check_booster_bytes(const char* data, size_t size) {
  if (size == 0 || data[0] != '{') return "does not start with '{'";
  // JSON's second token is a quoted key (or '}'); UBJSON's is a length marker.
  size_t k = 1;
  while (k < size && (data[k] == ' ' || data[k] == '\n' || data[k] == '\r' || data[k] == '\t')) ++k;
  const bool is_json = k < size && (data[k] == '"' || data[k] == '}');
  std::string problem = is_json ? check_json_depth(data, size) : check_ubjson_structure(data, size);
  if (!problem.empty()) return problem;
  json root = is_json ? json::parse(data, data + size, nullptr, false)
                      : json::from_ubjson(data, data + size, true, false);
  if (root.is_discarded()) return is_json ? "not valid JSON" : "not valid UBJSON";
  return check_model(root);
}

}  // namespace deepen
