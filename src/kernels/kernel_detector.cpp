// Graph -> kernels in three steps: every node becomes a unit with a normalised op (the structural
// matchers of matchers/ first make one unit of each block they recognise: SE, channel shuffle,
// hard-swish, MatMul + bias, the LayerNorm and GELU that exporters decompose); chains of units are
// fused by the fusion rules; each kernel gets its config and work.
#include "kernels/detect_context.h"
#include "kernels/matchers/matchers.h"

#include <deepen/error.h>
#include <deepen/kernels.h>
#include <deepen/schema.h>

#include <fmt/format.h>

#include <algorithm>
#include <string_view>

namespace deepen {
namespace {

using detect::DetectContext;
using detect::Unit;
using detect::is_layout_op;
constexpr size_t kNone = DetectContext::kNone;

class Detector {
 public:
  Detector(const Graph& g, const FusionRules& rules) : ctx_(g), rules_(rules) {}

  std::vector<Kernel> run() {
    const size_t n = ctx_.graph().nodes.size();
    for (const auto& matcher : detect::structural_matchers())
      for (size_t i = 0; i < n; ++i) matcher.match(ctx_, i);
    for (size_t i = 0; i < n; ++i)
      if (ctx_.free(i)) ctx_.add_unit(single_unit(i));
    ctx_.sort_units();
    return fuse();
  }

 private:
  Unit single_unit(size_t i) const {
    const Node& n = ctx_.node(i);
    Unit u;
    u.op = ctx_.normalise(i);
    u.nodes = {i};
    for (const auto& in : n.inputs)
      if (!in.empty() && !ctx_.is_const(in)) {
        u.input = in;
        break;
      }
    u.output = n.outputs[0];
    if (is_layout_op(n.op)) {
      u.zero_cost = true;
      std::string lower = n.op;
      std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
      u.op = lower;
    }
    return u;
  }

  // ---- fusion of chains
  std::vector<Kernel> fuse() {
    std::vector<std::vector<std::string>> chains = rules_.chains;
    std::stable_sort(chains.begin(), chains.end(),
                     [](const auto& a, const auto& b) { return a.size() > b.size(); });
    std::vector<bool> used(ctx_.units().size(), false);
    std::vector<Kernel> kernels;
    kernels.reserve(ctx_.units_order().size());
    std::vector<size_t> members, candidate;  // reused from unit to unit
    const std::vector<Unit>& units = ctx_.units();
    for (size_t ui : ctx_.units_order()) {
      if (used[ui]) continue;
      members.assign(1, ui);
      if (!units[ui].zero_cost) {
        for (const auto& chain : chains) {
          if (chain[0] != units[ui].op) continue;
          candidate.assign(1, ui);
          for (size_t k = 1; k < chain.size(); ++k) {
            const Unit& prev = units[candidate.back()];
            size_t next = ctx_.consuming_unit(prev.output);
            if (next == kNone || used[next] || units[next].op != chain[k] || units[next].input != prev.output) break;
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

  Kernel make_kernel(const std::vector<size_t>& members) const {
    const std::vector<Unit>& units = ctx_.units();
    Kernel k;
    const Unit& head = units[members.front()];
    for (size_t m : members) {
      for (size_t n : units[m].nodes) {
        k.nodes.push_back(ctx_.node(n).name);
        k.ops.push_back(ctx_.node(n).op);
      }
      k.type += (k.type.empty() ? "" : "-") + units[m].op;
    }
    k.zero_cost = head.zero_cost;
    k.output = units[members.back()].output;
    if (k.zero_cost) {  // no arithmetic; a Transpose still moves its tensor, and says how much
      for (size_t m : members)
        for (size_t n : units[m].nodes) k.bytes += node_work(ctx_.graph(), ctx_.node(n)).bytes;
      return k;
    }
    size_t n0 = head.nodes.front();
    const Node& hn = ctx_.node(n0);
    KernelConfig& c = k.config;
    const std::string_view op = head.op;
    if (op == "conv" || op == "dwconv" || op == "gconv") {
      const Tensor& x = ctx_.shaped(hn.inputs[0], n0);
      const Tensor& w = ctx_.shaped(hn.inputs[1], n0);
      const Tensor& y = ctx_.shaped(hn.outputs[0], n0);
      if (x.shape.size() != 4 || y.shape.size() != 4)
        throw Error(fmt::format("{}: node '{}' (Conv) is not a 2-D convolution on NCHW tensors", ctx_.graph().name, hn.name));
      auto strides = hn.attr_ints("strides", {1, 1});
      c.set("hw", static_cast<double>(x.shape[2]));
      c.set("cin", static_cast<double>(x.shape[1]));
      if (op != "dwconv") c.set("cout", static_cast<double>(w.shape[0]));
      c.set("ks", static_cast<double>(w.shape[2]));
      c.set("stride", static_cast<double>(strides.empty() ? 1 : strides[0]));
      if (op == "gconv") {
        int64_t groups = hn.attr_int("group", 1);
        if (groups < 1 || x.shape[1] % groups != 0)
          throw Error(fmt::format("{}: node '{}' (Conv) has group {}, which does not divide its {} input channels",
                                  ctx_.graph().name, hn.name, groups, x.shape[1]));
        c.set("groups", static_cast<double>(groups));
      }
      if (op == "dwconv" && w.shape[0] != x.shape[1]) c.set("cout", static_cast<double>(w.shape[0]));
      if (w.shape[3] != w.shape[2]) c.set("ks_w", static_cast<double>(w.shape[3]));
      if (x.shape[3] != x.shape[2]) c.set("w", static_cast<double>(x.shape[3]));
      c.set("hw_out", static_cast<double>(y.shape[2]));
      if (y.shape[3] != y.shape[2] || x.shape[3] != x.shape[2]) c.set("w_out", static_cast<double>(y.shape[3]));
      if (x.shape[0] > 1) c.set("batch", static_cast<double>(x.shape[0]));
    } else if (op == "fc") {
      const Tensor& x = ctx_.shaped(hn.inputs[0], n0);
      const Tensor& w = ctx_.shaped(hn.inputs[1], n0);
      if (w.shape.size() != 2 || x.shape.empty())
        throw Error(fmt::format("{}: node '{}' ({}) is not a 2-D fully connected layer", ctx_.graph().name, hn.name, hn.op));
      bool trans_b = hn.op == "Gemm" && hn.attr_int("transB", 0) != 0;
      c.set("cin", static_cast<double>(trans_b ? w.shape[1] : w.shape[0]));
      c.set("cout", static_cast<double>(trans_b ? w.shape[0] : w.shape[1]));
      double rows = 1;
      for (size_t d = 0; d + 1 < x.shape.size(); ++d) rows *= static_cast<double>(x.shape[d]);
      if (rows > 1) c.set("rows", rows);
    } else if (op == "convtranspose") {
      const Tensor& x = ctx_.shaped(hn.inputs[0], n0);
      const Tensor& w = ctx_.shaped(hn.inputs[1], n0);
      const Tensor& y = ctx_.shaped(hn.outputs[0], n0);
      if (x.shape.size() != 4 || y.shape.size() != 4)
        throw Error(fmt::format("{}: node '{}' (ConvTranspose) is not a 2-D transposed convolution on NCHW tensors",
                                ctx_.graph().name, hn.name));
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
      const Tensor& x = ctx_.shaped(hn.inputs[0], n0);
      const Tensor& w = ctx_.shaped(hn.inputs[1], n0);
      int64_t gates = op == "lstm" ? 4 : 3;
      c.set("seq", static_cast<double>(x.shape[0]));
      c.set("cin", static_cast<double>(x.shape[2]));
      c.set("cout", static_cast<double>(w.shape[1] / gates));
      if (w.shape[0] > 1) c.set("directions", static_cast<double>(w.shape[0]));
      if (x.shape[1] > 1) c.set("batch", static_cast<double>(x.shape[1]));
    } else if (op == "resize") {
      ctx_.set_activation(c, ctx_.shaped(hn.inputs[0], n0));
      const Tensor& y = ctx_.shaped(hn.outputs[0], n0);
      if (y.shape.size() == 4) {
        c.set("hw_out", static_cast<double>(y.shape[2]));
        c.set("w_out", static_cast<double>(y.shape[3]));
      }
    } else if (op == "matmul") {  // (..., M, K) x (..., K, N), the batch dims broadcast against each other
      const Tensor& a = ctx_.shaped(hn.inputs[0], n0);
      const Tensor& b = ctx_.shaped(hn.inputs[1], n0);
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
      const Tensor& x = ctx_.shaped(hn.inputs[0], n0);
      const Tensor& y = ctx_.shaped(hn.outputs[0], n0);
      ctx_.set_activation(c, x);
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
      const Tensor& y = ctx_.shaped(hn.outputs[0], n0);
      ctx_.set_activation(c, y);
      c.set("inputs", static_cast<double>(hn.inputs.size()));
    } else if (op == "split" || op == "slice") {
      ctx_.set_activation(c, ctx_.shaped(hn.inputs[0], n0));
      double cout = 0;
      for (const auto& out : hn.outputs) {
        if (out.empty()) continue;
        const Tensor& y = ctx_.shaped(out, n0);
        cout += y.shape.size() >= 2 ? static_cast<double>(y.shape[1]) : 1.0;
      }
      c.set("cout", cout);
    } else if (op == "channel-shuffle") {
      ctx_.set_activation(c, ctx_.shaped(hn.inputs[0], n0));
    } else if (op == "se") {
      ctx_.set_activation(c, ctx_.shaped(head.input, n0));
    } else {
      // Element-wise and everything else: the shape of the activation it reads (or writes). A
      // binary element-wise op works on its output's elements whichever operand is broadcast
      // (x * p and p * x, p a per-channel scale, are the same kernel).
      const bool binary = op == "add" || op == "sub" || op == "mul" || op == "div";
      std::string t = binary && !head.output.empty() ? head.output : head.input.empty() ? head.output : head.input;
      const Tensor* x = ctx_.graph().find_tensor(t);
      if (x && x->shape_known) ctx_.set_activation(c, ctx_.shaped(t, n0));
      else if (op.rfind("other:", 0) != 0) ctx_.set_activation(c, ctx_.shaped(t, n0));
    }
    for (const auto& [field, value] : head.config.fields) c.set(field, value);  // what the block's matcher read
    if (op.rfind("other:", 0) == 0) {  // no family's formula: the op's own semantics
      for (size_t m : members)
        for (size_t n : units[m].nodes) {
          KernelWork w = node_work(ctx_.graph(), ctx_.node(n));
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
        for (size_t n : units[m].nodes) k.params += node_weights(ctx_.graph(), ctx_.node(n));
    return k;
  }

  DetectContext ctx_;
  const FusionRules& rules_;
};

}  // namespace

std::vector<Kernel> detect_kernels(const Graph& graph, const FusionRules& rules) {
  Detector detector(graph, rules);
  std::vector<Kernel> kernels = detector.run();
  size_t covered = 0;
  for (const auto& k : kernels) covered += k.nodes.size();
  if (covered != graph.nodes.size())
    throw Error(fmt::format("{}: internal error: {} of {} nodes were assigned to kernels", graph.name, covered,
                            graph.nodes.size()));
  return kernels;
}

}  // namespace deepen
