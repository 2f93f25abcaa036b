// The detection context's constructor and its longer helpers (see detect_context.h).
#include "kernels/detect_context.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace deepen {
namespace detect {

bool is_layout_op(std::string_view op) {
  return op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze" || op == "Transpose";
}

DetectContext::DetectContext(const Graph& g) : g_(g) {
  // As Graph::consumers() and producers(), keyed by views of the graph's own names.
  consumers_.reserve(g.nodes.size() * 2);
  producers_.reserve(g.nodes.size() * 2);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    for (const auto& in : g.nodes[i].inputs)
      if (!in.empty()) {
        auto& list = consumers_[in];
        if (list.empty() || list.back() != i) list.push_back(i);
      }
    for (const auto& out : g.nodes[i].outputs)
      if (!out.empty()) producers_[out] = i;
  }
  for (const auto& o : g.outputs) graph_outputs_.insert(o);
  unit_of_node_.assign(g.nodes.size(), kNone);
}

void DetectContext::sort_units() {
  std::sort(units_order_.begin(), units_order_.end(),
            [&](size_t a, size_t b) { return units_[a].nodes.front() < units_[b].nodes.front(); });
}

bool DetectContext::internal(const std::vector<size_t>& nodes, size_t last) const {
  std::unordered_set<size_t> set(nodes.begin(), nodes.end());
  for (size_t n : nodes) {
    if (n == last) continue;
    for (const auto& out : node(n).outputs) {
      if (out.empty()) continue;
      if (graph_outputs_.count(out)) return false;
      auto it = consumers_.find(out);
      if (it == consumers_.end()) continue;
      for (size_t c : it->second)
        if (!set.count(c)) return false;
    }
  }
  return true;
}

bool DetectContext::decomposed_hsigmoid(size_t div, std::vector<size_t>* nodes, std::string* x) const {
  const Node& d = node(div);
  std::string a;
  double c = 0;
  if (!((d.op == "Div" && split_binary(d, &a, &c) && c == 6.0) ||
        (d.op == "Mul" && split_binary(d, &a, &c) && std::abs(c - 1.0 / 6.0) < 1e-6)))
    return false;
  size_t clip = producer(a);
  if (clip == kNone || !is_relu6(node(clip))) return false;
  size_t add = producer(node(clip).inputs[0]);
  if (add == kNone || node(add).op != "Add") return false;
  std::string in;
  if (!split_binary(node(add), &in, &c) || c != 3.0) return false;
  *nodes = {add, clip, div};
  *x = in;
  return true;
}

std::string DetectContext::normalise(size_t i) const {
  const Node& n = node(i);
  const std::string_view op = n.op;  // compared with many literals: a view compares sizes first
  if (op == "Conv") {
    const Tensor* w = n.inputs.size() > 1 ? g_.find_tensor(n.inputs[1]) : nullptr;
    if (!w || !w->shape_known || w->shape.size() != 4) return "other:Conv";
    const Tensor* x = g_.find_tensor(n.inputs[0]);
    int64_t group = n.attr_int("group", 1);
    int64_t cin = (x && x->shape_known && x->shape.size() == 4) ? x->shape[1] : w->shape[1] * group;
    if (group == 1) return "conv";
    if (group == cin && w->shape[1] == 1) return "dwconv";
    return "gconv";
  }
  if (op == "BatchNormalization") return "bn";
  if (op == "Relu") return "relu";
  if (op == "Clip") {
    auto [lo, hi] = clip_bounds(n);
    if (lo == 0.0 && hi == 6.0) return "relu6";
    if (lo == 0.0 && std::isinf(hi)) return "relu";
    return "other:Clip";
  }
  if (op == "HardSigmoid") return "hsigmoid";
  if (op == "HardSwish") return "hswish";
  if (op == "Sigmoid") return "sigmoid";
  if (op == "Softmax" || op == "LogSoftmax") return "softmax";
  if (op == "Tanh") return "tanh";
  if (op == "LeakyRelu") return "leakyrelu";
  if (op == "PRelu") return "prelu";
  if (op == "Elu") return "elu";
  if (op == "Sub") return "sub";
  if (op == "Div") return "div";
  if (op == "Add" || op == "Sum") return "add";
  if (op == "Mul") return "mul";
  if (op == "Gemm") return n.inputs.size() > 1 && is_const(n.inputs[1]) ? "fc" : "other:Gemm";
  if (op == "MatMul") {
    const Tensor* w = n.inputs.size() > 1 ? g_.find_tensor(n.inputs[1]) : nullptr;
    if (w && w->is_constant && w->shape.size() == 2) return "fc";
    const Tensor* a = g_.find_tensor(n.inputs[0]);
    // Two activations (attention's Q K^T and A V): a batched matrix product.
    return a && w && a->shape_known && w->shape_known && a->shape.size() >= 2 && w->shape.size() >= 2
               ? "matmul"
               : "other:MatMul";
  }
  if (op == "LayerNormalization") return "layernorm";
  if (op == "MaxPool") return "maxpool";
  if (op == "AveragePool") return "avgpool";
  if (op == "GlobalAveragePool") return "global-avgpool";
  if (op == "ReduceMean") {
    auto axes = n.attr_ints("axes");
    const Tensor* x = g_.find_tensor(n.inputs[0]);
    if (x && x->shape.size() == 4 && axes.size() == 2) {
      std::sort(axes.begin(), axes.end());
      if ((axes[0] == 2 || axes[0] == -2) && (axes[1] == 3 || axes[1] == -1)) return "global-avgpool";
      if (axes[0] == -2 && axes[1] == -1) return "global-avgpool";
      if ((axes[0] == 1 || axes[0] == -3) && (axes[1] == 2 || axes[1] == -2)) return "global-avgpool";  // NHWC
    }
    // Mean over the tokens of a (batch, tokens, width) sequence: a transformer's average pooling.
    if (x && x->shape.size() == 3 && axes.size() == 1 && (axes[0] == 1 || axes[0] == -2)) return "global-avgpool";
    return "other:ReduceMean";
  }
  // The kernels below need shapes that a model may leave open; without them they stay other:.
  auto known = [&](size_t k, bool output = false) {
    const auto& names = output ? n.outputs : n.inputs;
    const Tensor* t = k < names.size() ? g_.find_tensor(names[k]) : nullptr;
    return t && t->shape_known;
  };
  if (op == "ConvTranspose") {
    const Tensor* w = n.inputs.size() > 1 ? g_.find_tensor(n.inputs[1]) : nullptr;
    return known(0) && known(0, true) && w && w->shape_known && w->shape.size() == 4 ? "convtranspose"
                                                                                    : "other:ConvTranspose";
  }
  if (op == "Resize" || op == "Upsample") return known(0) && known(0, true) ? "resize" : "other:" + n.op;
  if (op == "LSTM" || op == "GRU") {
    const Tensor* x = g_.find_tensor(n.inputs[0]);
    const Tensor* w = n.inputs.size() > 1 ? g_.find_tensor(n.inputs[1]) : nullptr;
    bool plain = x && w && x->shape_known && w->shape_known && x->shape.size() == 3 && w->shape.size() == 3 &&
                 n.attr_int("layout", 0) == 0;
    return plain ? (op == "LSTM" ? "lstm" : "gru") : "other:" + n.op;
  }
  // A constant index into an activation (x[:, 0], x[:, -1]) selects part of it, as a Slice does.
  if (op == "Gather" && n.inputs.size() == 2 && is_const(n.inputs[1]) && !is_const(n.inputs[0]) && known(0) &&
      known(0, true))
    return "slice";
  if (op == "Concat") return "concat";
  if (op == "Split") return "split";
  if (op == "Slice") return "slice";
  if (op == "Pad") return "pad";
  if (is_layout_op(n.op)) return n.op;
  return "other:" + n.op;
}

const Tensor& DetectContext::shaped(const std::string& name, size_t at_node) const {
  const Tensor* t = g_.find_tensor(name);
  if (!t || !t->shape_known) {
    // Name the node whose output is open: that is where inference stopped (an Einsum, whose
    // shape ONNX 1.12 leaves open, or arithmetic on shapes in floating point).
    size_t from = producer(name);
    std::string where = from == at_node
                            ? fmt::format("the output of node '{}', {}", node(from).name, node(from).op)
                            : fmt::format("{}read by node '{}', {}",
                                          from == kNone ? std::string()
                                                        : fmt::format("written by node '{}', {}; ", node(from).name,
                                                                      node(from).op),
                                          node(at_node).name, node(at_node).op);
    throw Error(fmt::format("{}: cannot resolve the shape of tensor '{}' ({}); if the model has dynamic dimensions, "
                            "give the input's size with --input-shape NAME:1x3x224x224",
                            g_.name, name, where));
  }
  int64_t elements = 1;
  for (auto d : t->shape) {
    if (d <= 0)
      throw Error(fmt::format("{}: tensor '{}' (read by node '{}') has a dimension of {}; every dimension must be "
                              "positive",
                              g_.name, name, node(at_node).name, d));
    // Work is counted from element counts: refuse shapes whose count int64 cannot hold.
    if (__builtin_mul_overflow(elements, d, &elements))
      throw Error(fmt::format("{}: tensor '{}' (read by node '{}') has too many elements ({}: more than 2^63); "
                              "check the model's shapes or --input-shape",
                              g_.name, name, node(at_node).name, fmt::join(t->shape, "x")));
  }
  return *t;
}
void DetectContext::set_activation(KernelConfig& c, const Tensor& t) {
  const Shape& s = t.shape;
  double batch = s.empty() ? 1.0 : static_cast<double>(s[0]);
  if (s.size() == 4) {
    c.set("hw", static_cast<double>(s[2]));
    c.set("cin", static_cast<double>(s[1]));
    if (s[3] != s[2]) c.set("w", static_cast<double>(s[3]));
  } else {
    double rest = 1;
    for (size_t k = 1; k < s.size(); ++k) rest *= static_cast<double>(s[k]);
    c.set("hw", 1);
    c.set("cin", s.size() <= 1 ? std::max(1.0, batch) : rest);
    batch = s.size() <= 1 ? 1.0 : batch;
  }
  if (batch > 1) c.set("batch", batch);
}

}  // namespace detect
}  // namespace deepen
