// The state kernel detection shares between its steps: the graph with its producer and consumer
// index, the units made so far (a unit is one normalised op: a single node, or a structural block
// that a matcher recognised), and the vocabulary matchers and config readers speak (the producer
// of a tensor, its one consumer, a binary node's constant, Clip's bounds, whether a set of nodes
// can be claimed as one unit, a tensor's shape or an Error that says which node left it open).
// Private to src/kernels.
#pragma once

#include <deepen/error.h>
#include <deepen/graph.h>
#include <deepen/kernels.h>

#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace deepen {
namespace detect {

// One normalised op: a single node, or the nodes of a structural block.
struct Unit {
  Unit() = default;
  Unit(std::string op_, std::vector<size_t> nodes_, std::string input_, std::string output_)
      : op(std::move(op_)), nodes(std::move(nodes_)), input(std::move(input_)), output(std::move(output_)) {}

  std::string op;             // normalised op: conv, dwconv, bn, relu, se, ... or "other:X"
  std::vector<size_t> nodes;  // node indices, in graph order
  std::string input;          // the activation it reads (for chains)
  std::string output;         // the activation it writes
  bool zero_cost = false;
  // Config that only the block's matcher can read (an SE block's bottleneck width, a channel
  // shuffle's groups); appended to what the family reads from the head node.
  KernelConfig config;
};

// Ops that only move or view a tensor: zero-cost kernels.
bool is_layout_op(std::string_view op);

class DetectContext {
 public:
  static constexpr size_t kNone = static_cast<size_t>(-1);

  explicit DetectContext(const Graph& g);

  // ---- the graph
  const Graph& graph() const { return g_; }
  const Node& node(size_t i) const { return g_.nodes[i]; }
  bool is_const(const std::string& t) const {
    const Tensor* x = g_.find_tensor(t);
    return x && x->is_constant;
  }
  // The value of a one-element constant, integer or floating-point.
  std::optional<double> scalar(const std::string& t) const {
    const Tensor* x = g_.find_tensor(t);
    if (!x) return std::nullopt;
    if (x->has_float_values && x->float_values.size() == 1) return x->float_values[0];
    if (x->has_int_values && x->int_values.size() == 1) return static_cast<double>(x->int_values[0]);
    return std::nullopt;
  }
  // The one node that reads t (kNone when t is a graph output or has several readers).
  size_t single_consumer(const std::string& t) const {
    if (graph_outputs_.count(t)) return kNone;
    auto it = consumers_.find(t);
    if (it == consumers_.end() || it->second.size() != 1) return kNone;
    return it->second[0];
  }
  size_t producer(const std::string& t) const {
    auto it = producers_.find(t);
    return it == producers_.end() ? kNone : it->second;
  }
  // The non-constant input of a binary node, with its constant partner's scalar value.
  bool split_binary(const Node& n, std::string* activation, double* constant) const {
    if (n.inputs.size() != 2) return false;
    for (int k = 0; k < 2; ++k)
      if (is_const(n.inputs[1 - k]) && !is_const(n.inputs[k]))
        if (auto v = scalar(n.inputs[1 - k])) {
          *activation = n.inputs[k];
          *constant = *v;
          return true;
        }
    return false;
  }
  // Clip bounds from attributes (opset < 11) or constant inputs (opset >= 11).
  std::pair<double, double> clip_bounds(const Node& n) const {
    double lo = n.attr_float("min", -INFINITY), hi = n.attr_float("max", INFINITY);
    if (n.inputs.size() > 1 && !n.inputs[1].empty())
      if (auto v = scalar(n.inputs[1])) lo = *v;
    if (n.inputs.size() > 2 && !n.inputs[2].empty())
      if (auto v = scalar(n.inputs[2])) hi = *v;
    return {lo, hi};
  }
  bool is_relu6(const Node& n) const {
    if (n.op != "Clip") return false;
    auto [lo, hi] = clip_bounds(n);
    return lo == 0.0 && hi == 6.0;
  }
  // Add(x, 3) -> Clip(0, 6) | Relu6 -> Div(6) | Mul(1/6) ending at node `div`: a decomposed
  // hard-sigmoid. Sets its nodes and x.
  bool decomposed_hsigmoid(size_t div, std::vector<size_t>* nodes, std::string* x) const;
  // The normalised op of a single node: the first family of the table (families.h) that takes it
  // (conv, dwconv, bn, relu6, ...), else a layout op's own name, else "other:Op".
  std::string normalise(size_t i) const;

  // ---- units
  bool free(size_t i) const { return i != kNone && unit_of_node_[i] == kNone; }
  bool claimable(const std::vector<size_t>& nodes) const {
    for (size_t n : nodes)
      if (!free(n)) return false;
    return true;
  }
  // True when every output of the nodes except `last` is read only inside the set.
  bool internal(const std::vector<size_t>& nodes, size_t last) const;
  void add_unit(Unit u) {
    size_t index = units_.size();
    for (size_t n : u.nodes) unit_of_node_[n] = index;
    units_.push_back(std::move(u));
    units_order_.push_back(index);
  }
  // The one unit that reads tensor t (a hard-swish unit reads x twice), or kNone.
  size_t consuming_unit(const std::string& t) const {
    if (graph_outputs_.count(t)) return kNone;
    auto it = consumers_.find(t);
    if (it == consumers_.end() || it->second.empty()) return kNone;
    size_t unit = unit_of_node_[it->second[0]];
    for (size_t c : it->second)
      if (unit_of_node_[c] != unit) return kNone;
    return unit;
  }
  const std::vector<Unit>& units() const { return units_; }
  // Unit indices; sort_units() puts them in graph order (by their first node).
  const std::vector<size_t>& units_order() const { return units_order_; }
  void sort_units();

  // ---- shapes, for config readers
  // The tensor with a concrete, positive shape whose element count int64 holds; otherwise an
  // Error naming the node that reads it (`at_node`) and the one that left it open.
  const Tensor& shaped(const std::string& name, size_t at_node) const;
  // hw and cin of an activation: NCHW -> H and C (and w when W != H); other ranks -> hw 1.
  static void set_activation(KernelConfig& c, const Tensor& t);

 private:
  const Graph& g_;
  std::unordered_map<std::string_view, std::vector<size_t>> consumers_;
  std::unordered_map<std::string_view, size_t> producers_;
  std::unordered_set<std::string_view> graph_outputs_;
  std::vector<size_t> unit_of_node_;
  std::vector<Unit> units_;
  std::vector<size_t> units_order_;
};

}  // namespace detect
}  // namespace deepen
