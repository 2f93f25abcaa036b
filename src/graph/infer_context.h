// The vocabulary of a shape rule (shape_rules.h): what its infer function may read of the node it
// is given (inputs' shapes, types and constant values, attributes, the opset) and the shared
// helpers (arity, axis, broadcast) that keep each rule a few lines. A rule never guesses: when
// it cannot compute exactly what ONNX 1.12's inference computes, it calls decline() with the
// reason, and the loader runs ONNX's inference for that model instead.
//
// Example, a rule for an op whose output has its one input's shape and type:
//   InferredOutputs infer_relu(InferContext& ctx) {
//     ctx.arity(1, 1);
//     return ctx.same_as_input();
//   }
#pragma once

#include <deepen/graph.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace deepen {

// The shape and ONNX element type of one node output.
struct InferredOutput {
  Shape shape;
  int32_t elem_type = 1;
};
using InferredOutputs = std::vector<InferredOutput>;

// Thrown by InferContext::decline; infer_shapes returns `why` as its answer.
struct Declined {
  std::string why;
};

// ONNX element types that rules give outputs.
constexpr int32_t kBoolType = 9, kInt64Type = 7;

class InferContext {
 public:
  using Ints = std::vector<int64_t>;

  explicit InferContext(Graph& graph) : g_(graph) {}

  // ---- for the rules
  // The node being inferred and the model's opset.
  const Node& node() const { return *n_; }
  int64_t opset() const { return g_.opset; }
  // The model's name, for an Error (thrown only where ONNX's inference would crash).
  const std::string& graph_name() const { return g_.name; }

  // Gives up on the model: "node 'NAME' (OP) <what>". Never returns.
  [[noreturn]] void decline(const std::string& what) const;

  size_t num_inputs() const { return n_->inputs.size(); }
  // True when input `k` is given (not omitted, not "").
  bool has_input(size_t k) const { return k < n_->inputs.size() && !n_->inputs[k].empty(); }
  // Input `k`, whose shape is known; declines when it is absent or not yet inferred.
  const Tensor& input(size_t k) const;
  const Shape& shape(size_t k) const { return input(k).shape; }
  // The integer values of input `k`; declines when they are not constant.
  const Ints& ints(size_t k) const;
  // The float values of input `k`; declines when they are not constant fp32.
  std::vector<double> floats(size_t k) const;
  // The tensor that output `k` names, when the graph already has it (a Constant's), or nullptr.
  const Tensor* output_tensor(size_t k) const { return g_.find_tensor(n_->outputs[k]); }
  // Records the integer values of output `k` (Shape's), for the rules of later nodes.
  void set_values(size_t k, Ints values) { values_[n_->outputs[k]] = std::move(values); }

  // Declines unless the input and output counts lie in the given ranges (a subset of what the
  // op's ONNX schema allows).
  void arity(size_t min_in, size_t max_in, size_t min_out = 1, size_t max_out = 1) const;
  // An axis of a rank-`rank` tensor, negative from the end where `negative_allowed`; declines
  // when it is outside.
  int64_t axis(int64_t a, int64_t rank, bool negative_allowed = true) const;
  // The multidirectional (numpy) broadcast of `shapes`; declines when they do not broadcast.
  Shape broadcast(const std::vector<Shape>& shapes) const;

  // One output with input 0's shape and type.
  InferredOutputs same_as_input() const { return {{shape(0), input(0).elem_type}}; }
  // One output with the broadcast shape of all inputs, and the type of input `type_from` (or
  // `forced_type` when not 0).
  InferredOutputs broadcasting(size_t type_from, int32_t forced_type = 0) const;

  // ---- for the driver (infer_shapes)
  void start(const Node& node) { n_ = &node; }
  // Marks a tensor as having its shape: later nodes may read it.
  void mark_ready(std::string_view name) { ready_.insert(name); }
  bool is_ready(std::string_view name) const { return ready_.count(name) != 0; }
  void reserve(size_t tensors) { ready_.reserve(tensors); }
  // The integer values of a tensor (computed here or constant in the graph), or nullptr.
  const Ints* values(const std::string& name) const {
    auto it = values_.find(name);
    if (it != values_.end()) return &it->second;
    const Tensor* t = g_.find_tensor(name);
    return t && t->is_constant && t->has_int_values ? &t->int_values : nullptr;
  }
  void store_values(std::string_view name, Ints values) { values_[name] = std::move(values); }
  Graph& graph() { return g_; }

 private:
  Graph& g_;
  const Node* n_ = nullptr;
  // Names are views of the graph's own strings (its nodes' and tensors'), which outlive this.
  std::unordered_set<std::string_view> ready_;
  std::unordered_map<std::string_view, Ints> values_;  // integer values computed here (Shape, Gather...)
};

}  // namespace deepen
