// XGBoost's JSON model format, read by a SAX pass of nlohmann's parser into a RawModel: no
// document tree is built.
#include "predict/raw_model.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdint>

namespace deepen {
namespace {

using json = nlohmann::json;

// nlohmann's parser recurses: anything nested deeper than a model is refused before it sees it.
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
      if (++depth > kMaxModelDepth) return fmt::format("nested more than {} deep", kMaxModelDepth);
    } else if (c == ']' || c == '}') {
      if (depth > 0) --depth;
    }
  }
  return "";
}

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

}  // namespace

std::string read_json_model(const char* data, size_t size, RawModel* out) {
  std::string problem = check_json_depth(data, size);
  if (!problem.empty()) return problem;
  ModelSax sax(out);
  if (!json::sax_parse(data, data + size, &sax, nlohmann::detail::input_format_t::json, false))
    return "not valid JSON";
  return "";
}

}  // namespace deepen
