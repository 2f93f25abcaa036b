#include "kernels/matchers/matchers.h"

#include <algorithm>
#include <cmath>

namespace deepen {
namespace detect {
namespace {
constexpr size_t kNone = DetectContext::kNone;
}  // namespace

// Hard-swish and swish, anchored at the last node:
//   hswish(x) = Mul(x, HardSigmoid(x))  or  Mul(x, hsigmoid(x)) with hsigmoid decomposed
//             = Div(Mul(x, Clip(Add(x, 3), 0, 6)), 6)
//   swish(x)  = Mul(x, Sigmoid(x))
void match_hswish(DetectContext& ctx, size_t i) {
  const Node& m = ctx.node(i);
  if (!ctx.free(i) || m.inputs.size() != 2) return;
  if (m.op == "Div") {  // (x * Relu6(x + 3)) / 6
    std::string prod;
    double c = 0;
    if (!ctx.split_binary(m, &prod, &c) || c != 6.0) return;
    size_t mul = ctx.producer(prod);
    if (mul == kNone || ctx.node(mul).op != "Mul" || ctx.node(mul).inputs.size() != 2) return;
    for (int k = 0; k < 2; ++k) {
      size_t clip = ctx.producer(ctx.node(mul).inputs[1 - k]);
      if (clip == kNone || !ctx.is_relu6(ctx.node(clip))) continue;
      size_t add = ctx.producer(ctx.node(clip).inputs[0]);
      std::string in;
      if (add == kNone || ctx.node(add).op != "Add" || !ctx.split_binary(ctx.node(add), &in, &c) || c != 3.0) continue;
      if (in != ctx.node(mul).inputs[k]) continue;
      std::vector<size_t> nodes = {add, clip, mul, i};
      if (ctx.claimable(nodes) && ctx.internal(nodes, i)) ctx.add_unit({"hswish", nodes, in, m.outputs[0]});
      return;
    }
    return;
  }
  if (m.op != "Mul") return;
  for (int k = 0; k < 2; ++k) {
    const std::string& x = m.inputs[k];
    size_t gate = ctx.producer(m.inputs[1 - k]);
    if (gate == kNone || x.empty()) continue;
    std::vector<size_t> nodes;
    std::string gate_in;
    std::string kind;
    if (ctx.node(gate).op == "HardSigmoid") {
      nodes = {gate};
      gate_in = ctx.node(gate).inputs[0];
      kind = "hswish";
    } else if (ctx.node(gate).op == "Sigmoid") {
      nodes = {gate};
      gate_in = ctx.node(gate).inputs[0];
      kind = "swish";
    } else if (ctx.decomposed_hsigmoid(gate, &nodes, &gate_in)) {
      kind = "hswish";
    } else {
      continue;
    }
    if (gate_in != x) continue;
    nodes.push_back(i);
    std::sort(nodes.begin(), nodes.end());
    if (ctx.claimable(nodes) && ctx.internal(nodes, i)) ctx.add_unit({kind, nodes, x, m.outputs[0]});
    return;
  }
}

}  // namespace detect
}  // namespace deepen
