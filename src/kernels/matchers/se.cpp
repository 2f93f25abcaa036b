#include "kernels/matchers/matchers.h"

#include <algorithm>
#include <cmath>

namespace deepen {
namespace detect {
namespace {
constexpr size_t kNone = DetectContext::kNone;
}  // namespace

// The squeeze-and-excitation block, anchored at its Mul:
//   se(x) = Mul(x, gate(fc2(act(fc1(GlobalAveragePool(x))))))
// fc1, fc2: a Conv, a Gemm or a MatMul by a constant, each with an optional bias Add(., const);
// act: Relu, Relu6 or HardSwish, or none; gate: Sigmoid, HardSigmoid, Relu6 or a decomposed
// hard-sigmoid; layout ops (Reshape, Flatten, Squeeze, ...) may sit between the steps, and the
// pool may be a ReduceMean over H and W. Config beyond the input's: mid, the channels of fc1.
void match_se(DetectContext& ctx, size_t i) {
  const Node& m = ctx.node(i);
  if (m.op != "Mul" || m.inputs.size() != 2 || !ctx.free(i)) return;
  for (int k = 0; k < 2; ++k) {
    const std::string& x = m.inputs[k];
    std::vector<size_t> nodes = {i};
    std::string cur = m.inputs[1 - k];
    auto step_back = [&](size_t p) {
      nodes.push_back(p);
      cur = ctx.node(p).inputs.empty() ? std::string() : ctx.node(p).inputs[0];
    };
    auto skip_layout = [&]() {
      for (size_t p = ctx.producer(cur); p != kNone && is_layout_op(ctx.node(p).op); p = ctx.producer(cur)) step_back(p);
    };
    // gate
    size_t p = ctx.producer(cur);
    if (p == kNone) continue;
    std::vector<size_t> hs;
    std::string hs_in;
    if (ctx.node(p).op == "Sigmoid" || ctx.node(p).op == "HardSigmoid" || ctx.is_relu6(ctx.node(p))) {
      step_back(p);
    } else if (ctx.decomposed_hsigmoid(p, &hs, &hs_in)) {
      nodes.insert(nodes.end(), hs.begin(), hs.end());
      cur = hs_in;
    } else {
      continue;
    }
    skip_layout();
    // second 1x1 conv or fc
    p = ctx.producer(cur);
    auto is_reduce_layer = [&](size_t q) {
      const Node& n = ctx.node(q);
      return n.op == "Conv" || n.op == "Gemm" || (n.op == "MatMul" && n.inputs.size() > 1 && ctx.is_const(n.inputs[1]));
    };
    if (p == kNone) continue;
    if (ctx.node(p).op == "Add" && ctx.producer(ctx.node(p).inputs[0]) != kNone && ctx.is_const(ctx.node(p).inputs[1])) step_back(p), p = ctx.producer(cur);
    if (p == kNone || !is_reduce_layer(p)) continue;
    step_back(p);
    skip_layout();
    p = ctx.producer(cur);
    if (p == kNone) continue;
    if (ctx.node(p).op == "Relu" || ctx.is_relu6(ctx.node(p)) || ctx.node(p).op == "HardSwish") {
      step_back(p);
      p = ctx.producer(cur);
    }
    if (p == kNone) continue;
    if (ctx.node(p).op == "Add" && ctx.is_const(ctx.node(p).inputs[1])) step_back(p), p = ctx.producer(cur);
    if (p == kNone || !is_reduce_layer(p)) continue;
    size_t first_fc = p;
    step_back(p);
    skip_layout();
    p = ctx.producer(cur);
    if (p == kNone) continue;
    std::string pool_op = ctx.normalise(p);
    if (pool_op != "global-avgpool") continue;
    if (ctx.node(p).inputs[0] != x) continue;
    nodes.push_back(p);
    std::sort(nodes.begin(), nodes.end());
    nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
    if (!ctx.claimable(nodes) || !ctx.internal(nodes, i)) continue;
    Unit u{"se", nodes, x, m.outputs[0]};
    // The bottleneck's width: the first layer's output channels.
    const Node& fc1 = ctx.node(first_fc);
    const Tensor& w = ctx.shaped(fc1.inputs[1], first_fc);
    bool trans_b = fc1.op == "Gemm" && fc1.attr_int("transB", 0) != 0;
    double mid = fc1.op == "Conv" ? w.shape[0] : (fc1.op == "MatMul" || !trans_b ? w.shape.back() : w.shape[0]);
    u.config.set("mid", mid);
    ctx.add_unit(std::move(u));
    return;
  }
}

}  // namespace detect
}  // namespace deepen
