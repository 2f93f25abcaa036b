// Graph -> kernels in three steps: every node becomes a unit with a normalised op (structural
// blocks such as SE, channel shuffle, hard-swish, MatMul+bias, and the LayerNorm and GELU that
// exporters decompose become one unit of several nodes); chains of units are fused by the fusion rules; each kernel gets its config and work.
#include <deepen/error.h>
#include <deepen/kernels.h>
#include <deepen/schema.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>
#include <string_view>

namespace deepen {
namespace {

struct Unit {
  std::string op;             // normalised op: conv, dwconv, bn, relu, se, ... or "other:X"
  std::vector<size_t> nodes;  // node indices, in graph order
  std::string input;          // the activation it reads (for chains)
  std::string output;         // the activation it writes
  bool zero_cost = false;
};

const std::unordered_set<std::string> kLayoutOps = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose"};

class Detector {
 public:
  Detector(const Graph& g, const FusionRules& rules) : g_(g), rules_(rules) {
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

  std::vector<Kernel> run() {
    // Structural blocks first, largest first, so that their nodes are not claimed as plain ops.
    for (size_t i = 0; i < g_.nodes.size(); ++i) match_se(i);
    for (size_t i = 0; i < g_.nodes.size(); ++i) match_channel_shuffle(i);
    for (size_t i = 0; i < g_.nodes.size(); ++i) match_hswish(i);
    for (size_t i = 0; i < g_.nodes.size(); ++i) match_hsigmoid(i);
    for (size_t i = 0; i < g_.nodes.size(); ++i) match_layernorm(i);
    for (size_t i = 0; i < g_.nodes.size(); ++i) match_gelu(i);
    for (size_t i = 0; i < g_.nodes.size(); ++i) match_fc_bias(i);
    for (size_t i = 0; i < g_.nodes.size(); ++i)
      if (unit_of_node_[i] == kNone) add_unit(single_unit(i));
    std::sort(units_order_.begin(), units_order_.end(),
              [&](size_t a, size_t b) { return units_[a].nodes.front() < units_[b].nodes.front(); });
    return fuse();
  }

 private:
  static constexpr size_t kNone = static_cast<size_t>(-1);

  // ---- helpers over the graph
  const Node& node(size_t i) const { return g_.nodes[i]; }
  bool is_const(const std::string& t) const {
    const Tensor* x = g_.find_tensor(t);
    return x && x->is_constant;
  }
  std::optional<double> scalar(const std::string& t) const {
    const Tensor* x = g_.find_tensor(t);
    if (!x) return std::nullopt;
    if (x->has_float_values && x->float_values.size() == 1) return x->float_values[0];
    if (x->has_int_values && x->int_values.size() == 1) return static_cast<double>(x->int_values[0]);
    return std::nullopt;
  }
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
  bool free(size_t i) const { return i != kNone && unit_of_node_[i] == kNone; }
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

  void add_unit(Unit u) {
    size_t index = units_.size();
    for (size_t n : u.nodes) unit_of_node_[n] = index;
    units_.push_back(std::move(u));
    units_order_.push_back(index);
  }
  bool claimable(const std::vector<size_t>& nodes) const {
    for (size_t n : nodes)
      if (!free(n)) return false;
    return true;
  }
  // True when every output of the nodes except `last` is read only inside the set.
  bool internal(const std::vector<size_t>& nodes, size_t last) const {
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

  // ---- normalisation of a single node
  std::string normalise(size_t i) const {
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
    if (kLayoutOps.count(n.op)) return n.op;
    return "other:" + n.op;
  }

  Unit single_unit(size_t i) const {
    const Node& n = node(i);
    Unit u;
    u.op = normalise(i);
    u.nodes = {i};
    for (const auto& in : n.inputs)
      if (!in.empty() && !is_const(in)) {
        u.input = in;
        break;
      }
    u.output = n.outputs[0];
    if (kLayoutOps.count(n.op)) {
      u.zero_cost = true;
      std::string lower = n.op;
      std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
      u.op = lower;
    }
    return u;
  }

  // ---- structural blocks
  // Add(x, 3) -> Clip(0, 6) | Relu6 -> Div(6) | Mul(1/6): a decomposed hard-sigmoid. Returns the
  // nodes and x, or nothing.
  bool decomposed_hsigmoid(size_t div, std::vector<size_t>* nodes, std::string* x) const {
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

  void match_hsigmoid(size_t i) {
    std::vector<size_t> nodes;
    std::string x;
    if (!free(i) || !decomposed_hsigmoid(i, &nodes, &x) || !claimable(nodes) || !internal(nodes, i)) return;
    add_unit({"hsigmoid", nodes, x, node(i).outputs[0]});
  }

  // x * HardSigmoid(x), x * hsigmoid(x) decomposed, x * Relu6(x + 3) / 6, x * Sigmoid(x).
  void match_hswish(size_t i) {
    const Node& m = node(i);
    if (!free(i) || m.inputs.size() != 2) return;
    if (m.op == "Div") {  // (x * Relu6(x + 3)) / 6
      std::string prod;
      double c = 0;
      if (!split_binary(m, &prod, &c) || c != 6.0) return;
      size_t mul = producer(prod);
      if (mul == kNone || node(mul).op != "Mul" || node(mul).inputs.size() != 2) return;
      for (int k = 0; k < 2; ++k) {
        size_t clip = producer(node(mul).inputs[1 - k]);
        if (clip == kNone || !is_relu6(node(clip))) continue;
        size_t add = producer(node(clip).inputs[0]);
        std::string in;
        if (add == kNone || node(add).op != "Add" || !split_binary(node(add), &in, &c) || c != 3.0) continue;
        if (in != node(mul).inputs[k]) continue;
        std::vector<size_t> nodes = {add, clip, mul, i};
        if (claimable(nodes) && internal(nodes, i)) add_unit({"hswish", nodes, in, m.outputs[0]});
        return;
      }
      return;
    }
    if (m.op != "Mul") return;
    for (int k = 0; k < 2; ++k) {
      const std::string& x = m.inputs[k];
      size_t gate = producer(m.inputs[1 - k]);
      if (gate == kNone || x.empty()) continue;
      std::vector<size_t> nodes;
      std::string gate_in;
      std::string kind;
      if (node(gate).op == "HardSigmoid") {
        nodes = {gate};
        gate_in = node(gate).inputs[0];
        kind = "hswish";
      } else if (node(gate).op == "Sigmoid") {
        nodes = {gate};
        gate_in = node(gate).inputs[0];
        kind = "swish";
      } else if (decomposed_hsigmoid(gate, &nodes, &gate_in)) {
        kind = "hswish";
      } else {
        continue;
      }
      if (gate_in != x) continue;
      nodes.push_back(i);
      std::sort(nodes.begin(), nodes.end());
      if (claimable(nodes) && internal(nodes, i)) add_unit({kind, nodes, x, m.outputs[0]});
      return;
    }
  }

  // Mul(x, gate(fc2(act(fc1(pool(x)))))): the squeeze-and-excitation block.
  void match_se(size_t i) {
    const Node& m = node(i);
    if (m.op != "Mul" || m.inputs.size() != 2 || !free(i)) return;
    for (int k = 0; k < 2; ++k) {
      const std::string& x = m.inputs[k];
      std::vector<size_t> nodes = {i};
      std::string cur = m.inputs[1 - k];
      auto step_back = [&](size_t p) {
        nodes.push_back(p);
        cur = node(p).inputs.empty() ? std::string() : node(p).inputs[0];
      };
      auto skip_layout = [&]() {
        for (size_t p = producer(cur); p != kNone && kLayoutOps.count(node(p).op); p = producer(cur)) step_back(p);
      };
      // gate
      size_t p = producer(cur);
      if (p == kNone) continue;
      std::vector<size_t> hs;
      std::string hs_in;
      if (node(p).op == "Sigmoid" || node(p).op == "HardSigmoid" || is_relu6(node(p))) {
        step_back(p);
      } else if (decomposed_hsigmoid(p, &hs, &hs_in)) {
        nodes.insert(nodes.end(), hs.begin(), hs.end());
        cur = hs_in;
      } else {
        continue;
      }
      skip_layout();
      // second 1x1 conv or fc
      p = producer(cur);
      auto is_reduce_layer = [&](size_t q) {
        const Node& n = node(q);
        return n.op == "Conv" || n.op == "Gemm" || (n.op == "MatMul" && n.inputs.size() > 1 && is_const(n.inputs[1]));
      };
      if (p == kNone) continue;
      if (node(p).op == "Add" && producer(node(p).inputs[0]) != kNone && is_const(node(p).inputs[1])) step_back(p), p = producer(cur);
      if (p == kNone || !is_reduce_layer(p)) continue;
      step_back(p);
      skip_layout();
      p = producer(cur);
      if (p == kNone) continue;
      if (node(p).op == "Relu" || is_relu6(node(p)) || node(p).op == "HardSwish") {
        step_back(p);
        p = producer(cur);
      }
      if (p == kNone) continue;
      if (node(p).op == "Add" && is_const(node(p).inputs[1])) step_back(p), p = producer(cur);
      if (p == kNone || !is_reduce_layer(p)) continue;
      size_t first_fc = p;
      step_back(p);
      skip_layout();
      p = producer(cur);
      if (p == kNone) continue;
      std::string pool_op = normalise(p);
      if (pool_op != "global-avgpool") continue;
      if (node(p).inputs[0] != x) continue;
      nodes.push_back(p);
      std::sort(nodes.begin(), nodes.end());
      nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
      if (!claimable(nodes) || !internal(nodes, i)) continue;
      Unit u{"se", nodes, x, m.outputs[0]};
      se_first_fc_[nodes.front()] = first_fc;
      add_unit(std::move(u));
      return;
    }
  }

  // LayerNorm as exporters write it before opset 17 (which has LayerNormalization):
  // d = x - ReduceMean(x); d / Sqrt(ReduceMean(Pow(d, 2)) + eps), then * gamma + beta.
  void match_layernorm(size_t i) {
    const Node& div = node(i);
    if (div.op != "Div" || div.inputs.size() != 2 || !free(i)) return;
    size_t sub = producer(div.inputs[0]), sqrt = producer(div.inputs[1]);
    if (sub == kNone || node(sub).op != "Sub" || sqrt == kNone || node(sqrt).op != "Sqrt") return;
    const std::string& x = node(sub).inputs[0];
    size_t mean = node(sub).inputs.size() == 2 ? producer(node(sub).inputs[1]) : kNone;
    if (mean == kNone || node(mean).op != "ReduceMean" || node(mean).inputs[0] != x) return;
    size_t eps = producer(node(sqrt).inputs[0]);
    std::string v;
    double c = 0;
    if (eps == kNone || node(eps).op != "Add" || !split_binary(node(eps), &v, &c)) return;
    size_t var = producer(v);
    if (var == kNone || node(var).op != "ReduceMean") return;
    size_t pow = producer(node(var).inputs[0]);
    std::string d;
    if (pow == kNone || node(pow).op != "Pow" || !split_binary(node(pow), &d, &c) || c != 2.0 ||
        d != div.inputs[0])
      return;
    std::vector<size_t> nodes = {mean, sub, pow, var, eps, sqrt, i};
    size_t last = i;
    for (const char* affine : {"Mul", "Add"}) {  // gamma, then beta
      size_t next = single_consumer(node(last).outputs[0]);
      if (next == kNone || node(next).op != affine || node(next).inputs.size() != 2) break;
      const auto& ins = node(next).inputs;
      if (!is_const(ins[0] == node(last).outputs[0] ? ins[1] : ins[0])) break;
      nodes.push_back(last = next);
    }
    std::sort(nodes.begin(), nodes.end());
    if (claimable(nodes) && internal(nodes, last)) add_unit({"layernorm", nodes, x, node(last).outputs[0]});
  }

  // GELU as torch.onnx.export writes it (ONNX has no Gelu before opset 20):
  // x * (Erf(x / sqrt(2)) + 1) * 0.5.
  void match_gelu(size_t i) {
    const Node& half = node(i);
    std::string prod;
    double c = 0;
    if (half.op != "Mul" || !free(i) || !split_binary(half, &prod, &c) || c != 0.5) return;
    size_t mul = producer(prod);
    if (mul == kNone || node(mul).op != "Mul" || node(mul).inputs.size() != 2) return;
    for (int k = 0; k < 2; ++k) {
      size_t add = producer(node(mul).inputs[1 - k]);
      std::string e;
      if (add == kNone || node(add).op != "Add" || !split_binary(node(add), &e, &c) || c != 1.0) continue;
      size_t erf = producer(e);
      if (erf == kNone || node(erf).op != "Erf") continue;
      size_t div = producer(node(erf).inputs[0]);
      std::string x;
      if (div == kNone || !split_binary(node(div), &x, &c) || x != node(mul).inputs[k]) continue;
      bool scaled = (node(div).op == "Div" && std::abs(c - std::sqrt(2.0)) < 1e-3) ||
                    (node(div).op == "Mul" && std::abs(c - std::sqrt(0.5)) < 1e-3);
      if (!scaled) continue;
      std::vector<size_t> nodes = {div, erf, add, mul, i};
      std::sort(nodes.begin(), nodes.end());
      if (claimable(nodes) && internal(nodes, i)) add_unit({"gelu", nodes, x, half.outputs[0]});
      return;
    }
  }

  // Reshape(N, g, C/g, H, W) -> Transpose(0, 2, 1, 3, 4) -> Reshape(N, C, H, W).
  void match_channel_shuffle(size_t i) {
    const Node& r1 = node(i);
    if (r1.op != "Reshape" || !free(i)) return;
    const Tensor* mid = g_.find_tensor(r1.outputs[0]);
    if (!mid || !mid->shape_known || mid->shape.size() != 5) return;
    size_t t = single_consumer(r1.outputs[0]);
    if (t == kNone || node(t).op != "Transpose" || node(t).attr_ints("perm") != std::vector<int64_t>{0, 2, 1, 3, 4})
      return;
    size_t r2 = single_consumer(node(t).outputs[0]);
    if (r2 == kNone || node(r2).op != "Reshape") return;
    std::vector<size_t> nodes = {i, t, r2};
    if (!claimable(nodes)) return;
    add_unit({"channel-shuffle", nodes, r1.inputs[0], node(r2).outputs[0]});
    shuffle_groups_[i] = mid->shape[1];
  }

  // MatMul(x, W) + b with constant W (2-D) and b: one fully connected layer.
  void match_fc_bias(size_t i) {
    const Node& mm = node(i);
    if (mm.op != "MatMul" || !free(i) || normalise(i) != "fc") return;
    size_t add = single_consumer(mm.outputs[0]);
    if (add == kNone || !free(add) || node(add).op != "Add") return;
    const Node& a = node(add);
    if (a.inputs.size() != 2) return;
    const std::string& other = a.inputs[0] == mm.outputs[0] ? a.inputs[1] : a.inputs[0];
    if (!is_const(other)) return;
    add_unit({"fc", {i, add}, mm.inputs[0], a.outputs[0]});
  }

  // ---- fusion of chains
  std::vector<Kernel> fuse() {
    std::vector<std::vector<std::string>> chains = rules_.chains;
    std::stable_sort(chains.begin(), chains.end(),
                     [](const auto& a, const auto& b) { return a.size() > b.size(); });
    std::vector<bool> used(units_.size(), false);
    std::vector<Kernel> kernels;
    kernels.reserve(units_order_.size());
    std::vector<size_t> members, candidate;  // reused from unit to unit
    for (size_t ui : units_order_) {
      if (used[ui]) continue;
      members.assign(1, ui);
      if (!units_[ui].zero_cost) {
        for (const auto& chain : chains) {
          if (chain[0] != units_[ui].op) continue;
          candidate.assign(1, ui);
          for (size_t k = 1; k < chain.size(); ++k) {
            const Unit& prev = units_[candidate.back()];
            size_t next = consuming_unit(prev.output);
            if (next == kNone || used[next] || units_[next].op != chain[k] || units_[next].input != prev.output) break;
            candidate.push_back(next);
          }
          if (candidate.size() == chain.size()) {
            members = candidate;
            break;
          }
        }
      }
      for (size_t m : members) used[m] = true;
      kernels.push_back(make_kernel(members));
    }
    return kernels;
  }

  // ---- config and work
  const Tensor& shaped(const std::string& name, size_t at_node) const {
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
      throw Error::in_file(g_.name,
                           fmt::format("cannot resolve the shape of tensor '{}' ({}); if the model has dynamic "
                                       "dimensions, give the input's size with --input-shape NAME:1x3x224x224",
                                       name, where));
    }
    int64_t elements = 1;
    for (auto d : t->shape) {
      if (d <= 0)
        throw Error::in_file(
            g_.name,
            fmt::format("tensor '{}' (read by node '{}') has a dimension of {}; every dimension must be positive", name,
                        node(at_node).name, d));
      // Work is counted from element counts: refuse shapes whose count int64 cannot hold.
      if (__builtin_mul_overflow(elements, d, &elements))
        throw Error::in_file(g_.name, fmt::format("tensor '{}' (read by node '{}') has too many elements ({}: more "
                                                  "than 2^63); check the model's shapes or --input-shape",
                                                  name, node(at_node).name, fmt::join(t->shape, "x")));
    }
    return *t;
  }
  // hw and cin of an activation: NCHW -> H and C (and w when W != H); other ranks -> hw 1.
  void set_activation(KernelConfig& c, const Tensor& t) const {
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

  Kernel make_kernel(const std::vector<size_t>& members) {
    Kernel k;
    const Unit& head = units_[members.front()];
    for (size_t m : members) {
      for (size_t n : units_[m].nodes) {
        k.nodes.push_back(node(n).name);
        k.ops.push_back(node(n).op);
      }
      k.type += (k.type.empty() ? "" : "-") + units_[m].op;
    }
    k.zero_cost = head.zero_cost;
    k.output = units_[members.back()].output;
    if (k.zero_cost) {  // no arithmetic; a Transpose still moves its tensor, and says how much
      for (size_t m : members)
        for (size_t n : units_[m].nodes) k.bytes += node_work(g_, node(n)).bytes;
      return k;
    }
    size_t n0 = head.nodes.front();
    const Node& hn = node(n0);
    KernelConfig& c = k.config;
    const std::string_view op = head.op;
    if (op == "conv" || op == "dwconv" || op == "gconv") {
      const Tensor& x = shaped(hn.inputs[0], n0);
      const Tensor& w = shaped(hn.inputs[1], n0);
      const Tensor& y = shaped(hn.outputs[0], n0);
      if (x.shape.size() != 4 || y.shape.size() != 4)
        throw Error::in_file(ErrorKind::Unsupported, g_.name,
                             fmt::format("node '{}' (Conv) is not a 2-D convolution on NCHW tensors", hn.name));
      auto strides = hn.attr_ints("strides", {1, 1});
      c.set("hw", static_cast<double>(x.shape[2]));
      c.set("cin", static_cast<double>(x.shape[1]));
      if (op != "dwconv") c.set("cout", static_cast<double>(w.shape[0]));
      c.set("ks", static_cast<double>(w.shape[2]));
      c.set("stride", static_cast<double>(strides.empty() ? 1 : strides[0]));
      if (op == "gconv") {
        int64_t groups = hn.attr_int("group", 1);
        if (groups < 1 || x.shape[1] % groups != 0)
          throw Error::in_file(g_.name,
                               fmt::format("node '{}' (Conv) has group {}, which does not divide its {} input channels",
                                           hn.name, groups, x.shape[1]));
        c.set("groups", static_cast<double>(groups));
      }
      if (op == "dwconv" && w.shape[0] != x.shape[1]) c.set("cout", static_cast<double>(w.shape[0]));
      if (w.shape[3] != w.shape[2]) c.set("ks_w", static_cast<double>(w.shape[3]));
      if (x.shape[3] != x.shape[2]) c.set("w", static_cast<double>(x.shape[3]));
      c.set("hw_out", static_cast<double>(y.shape[2]));
      if (y.shape[3] != y.shape[2] || x.shape[3] != x.shape[2]) c.set("w_out", static_cast<double>(y.shape[3]));
      if (x.shape[0] > 1) c.set("batch", static_cast<double>(x.shape[0]));
    } else if (op == "fc") {
      const Tensor& x = shaped(hn.inputs[0], n0);
      const Tensor& w = shaped(hn.inputs[1], n0);
      if (w.shape.size() != 2 || x.shape.empty())
        throw Error::in_file(ErrorKind::Unsupported, g_.name,
                             fmt::format("node '{}' ({}) is not a 2-D fully connected layer", hn.name, hn.op));
      bool trans_b = hn.op == "Gemm" && hn.attr_int("transB", 0) != 0;
      c.set("cin", static_cast<double>(trans_b ? w.shape[1] : w.shape[0]));
      c.set("cout", static_cast<double>(trans_b ? w.shape[0] : w.shape[1]));
      double rows = 1;
      for (size_t d = 0; d + 1 < x.shape.size(); ++d) rows *= static_cast<double>(x.shape[d]);
      if (rows > 1) c.set("rows", rows);
    } else if (op == "convtranspose") {
      const Tensor& x = shaped(hn.inputs[0], n0);
      const Tensor& w = shaped(hn.inputs[1], n0);
      const Tensor& y = shaped(hn.outputs[0], n0);
      if (x.shape.size() != 4 || y.shape.size() != 4)
        throw Error::in_file(
            ErrorKind::Unsupported, g_.name,
            fmt::format("node '{}' (ConvTranspose) is not a 2-D transposed convolution on NCHW tensors", hn.name));
      int64_t groups = hn.attr_int("group", 1);
      auto strides = hn.attr_ints("strides", {1, 1});
      c.set("hw", static_cast<double>(x.shape[2]));
      c.set("cin", static_cast<double>(x.shape[1]));
      c.set("cout", static_cast<double>(y.shape[1]));
      c.set("ks", static_cast<double>(w.shape[2]));
      c.set("stride", static_cast<double>(strides.empty() ? 1 : strides[0]));
      if (groups > 1) c.set("groups", static_cast<double>(groups));
      if (w.shape[3] != w.shape[2]) c.set("ks_w", static_cast<double>(w.shape[3]));
      if (x.shape[3] != x.shape[2]) c.set("w", static_cast<double>(x.shape[3]));
      c.set("hw_out", static_cast<double>(y.shape[2]));
      c.set("w_out", static_cast<double>(y.shape[3]));
      if (x.shape[0] > 1) c.set("batch", static_cast<double>(x.shape[0]));
    } else if (op == "lstm" || op == "gru") {  // X: (seq, batch, input), W: (directions, gates x hidden, input)
      const Tensor& x = shaped(hn.inputs[0], n0);
      const Tensor& w = shaped(hn.inputs[1], n0);
      int64_t gates = op == "lstm" ? 4 : 3;
      c.set("seq", static_cast<double>(x.shape[0]));
      c.set("cin", static_cast<double>(x.shape[2]));
      c.set("cout", static_cast<double>(w.shape[1] / gates));
      if (w.shape[0] > 1) c.set("directions", static_cast<double>(w.shape[0]));
      if (x.shape[1] > 1) c.set("batch", static_cast<double>(x.shape[1]));
    } else if (op == "resize") {
      set_activation(c, shaped(hn.inputs[0], n0));
      const Tensor& y = shaped(hn.outputs[0], n0);
      if (y.shape.size() == 4) {
        c.set("hw_out", static_cast<double>(y.shape[2]));
        c.set("w_out", static_cast<double>(y.shape[3]));
      }
    } else if (op == "matmul") {  // (..., M, K) x (..., K, N), the batch dims broadcast against each other
      const Tensor& a = shaped(hn.inputs[0], n0);
      const Tensor& b = shaped(hn.inputs[1], n0);
      const size_t ra = a.shape.size(), rb = b.shape.size(), batch_rank = std::max(ra, rb) - 2;
      double rows = static_cast<double>(a.shape[ra - 2]), a_elements = 1, b_elements = 1;
      for (size_t d = 0; d < batch_rank; ++d) {
        int64_t da = d + ra >= batch_rank + 2 ? a.shape[d + ra - batch_rank - 2] : 1;
        int64_t db = d + rb >= batch_rank + 2 ? b.shape[d + rb - batch_rank - 2] : 1;
        rows *= static_cast<double>(std::max(da, db));
      }
      for (auto d : a.shape) a_elements *= static_cast<double>(d);
      for (auto d : b.shape) b_elements *= static_cast<double>(d);
      c.set("rows", rows);
      c.set("cin", static_cast<double>(a.shape.back()));
      c.set("cout", static_cast<double>(b.shape.back()));
      c.set("b_elements", b_elements);
      if (a_elements != rows * static_cast<double>(a.shape.back())) c.set("a_elements", a_elements);  // a broadcast
    } else if (op == "maxpool" || op == "avgpool") {
      const Tensor& x = shaped(hn.inputs[0], n0);
      const Tensor& y = shaped(hn.outputs[0], n0);
      set_activation(c, x);
      auto ks = hn.attr_ints("kernel_shape", {1, 1});
      auto strides = hn.attr_ints("strides", {1, 1});
      c.set("ks", static_cast<double>(ks.empty() ? 1 : ks[0]));
      c.set("stride", static_cast<double>(strides.empty() ? 1 : strides[0]));
      if (ks.size() > 1 && ks[1] != ks[0]) c.set("ks_w", static_cast<double>(ks[1]));
      if (y.shape.size() == 4) {
        c.set("hw_out", static_cast<double>(y.shape[2]));
        if (y.shape[3] != y.shape[2] || c.has("w")) c.set("w_out", static_cast<double>(y.shape[3]));
      }
    } else if (op == "concat") {
      const Tensor& y = shaped(hn.outputs[0], n0);
      set_activation(c, y);
      c.set("inputs", static_cast<double>(hn.inputs.size()));
    } else if (op == "split" || op == "slice") {
      set_activation(c, shaped(hn.inputs[0], n0));
      double cout = 0;
      for (const auto& out : hn.outputs) {
        if (out.empty()) continue;
        const Tensor& y = shaped(out, n0);
        cout += y.shape.size() >= 2 ? static_cast<double>(y.shape[1]) : 1.0;
      }
      c.set("cout", cout);
    } else if (op == "channel-shuffle") {
      set_activation(c, shaped(hn.inputs[0], n0));
      c.set("groups", static_cast<double>(shuffle_groups_[n0]));
    } else if (op == "se") {
      set_activation(c, shaped(head.input, n0));
      size_t fc1 = se_first_fc_[n0];
      const Tensor& w = shaped(node(fc1).inputs[1], fc1);
      bool trans_b = node(fc1).op == "Gemm" && node(fc1).attr_int("transB", 0) != 0;
      double mid = node(fc1).op == "Conv" ? w.shape[0] : (node(fc1).op == "MatMul" || !trans_b ? w.shape.back() : w.shape[0]);
      c.set("mid", mid);
    } else {
      // Element-wise and everything else: the shape of the activation it reads (or writes). A
      // binary element-wise op works on its output's elements whichever operand is broadcast
      // (x * p and p * x, p a per-channel scale, are the same kernel).
      const bool binary = op == "add" || op == "sub" || op == "mul" || op == "div";
      std::string t = binary && !head.output.empty() ? head.output : head.input.empty() ? head.output : head.input;
      const Tensor* x = g_.find_tensor(t);
      if (x && x->shape_known) set_activation(c, shaped(t, n0));
      else if (op.rfind("other:", 0) != 0) set_activation(c, shaped(t, n0));
    }
    if (op.rfind("other:", 0) == 0) {  // no family's formula: the op's own semantics
      for (size_t m : members)
        for (size_t n : units_[m].nodes) {
          KernelWork w = node_work(g_, node(n));
          k.macs += w.macs;
          k.flops += w.flops;
          k.params += w.params;
          k.bytes += w.bytes;
        }
      return k;
    }
    KernelWork work = kernel_work(k.type, c);
    double batch = c.get_or("batch", 1.0);
    if (op == "fc" || op == "matmul") batch = 1.0;  // rows already count the batch
    k.macs = work.macs * batch;
    k.flops = work.flops * batch;
    k.params = work.params;
    k.bytes = work.bytes * batch;
    if (k.params == 0)  // a family without weights of its own: those its nodes read (x * scale, a constant B)
      for (size_t m : members)
        for (size_t n : units_[m].nodes) k.params += node_weights(g_, node(n));
    return k;
  }

  const Graph& g_;
  const FusionRules& rules_;
  std::unordered_map<std::string_view, std::vector<size_t>> consumers_;
  std::unordered_map<std::string_view, size_t> producers_;
  std::unordered_set<std::string_view> graph_outputs_;
  std::vector<size_t> unit_of_node_;
  std::vector<Unit> units_;
  std::vector<size_t> units_order_;
  std::unordered_map<size_t, int64_t> shuffle_groups_;
  std::unordered_map<size_t, size_t> se_first_fc_;
};

}  // namespace

std::vector<Kernel> detect_kernels(const Graph& graph, const FusionRules& rules) {
  Detector detector(graph, rules);
  std::vector<Kernel> kernels = detector.run();
  size_t covered = 0;
  for (const auto& k : kernels) covered += k.nodes.size();
  if (covered != graph.nodes.size())
    throw Error::in_file(
        ErrorKind::Internal, graph.name,
        fmt::format("internal error: {} of {} nodes were assigned to kernels", covered, graph.nodes.size()));
  return kernels;
}

}  // namespace deepen
