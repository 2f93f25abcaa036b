#include "kernels/matchers/matchers.h"

#include <algorithm>
#include <cmath>

namespace deepen {
namespace detect {
namespace {
constexpr size_t kNone = DetectContext::kNone;
}  // namespace

// GELU as torch.onnx.export writes it (ONNX has no Gelu before opset 20), anchored at the last Mul:
//   gelu(x) = Mul(Mul(x, Add(Erf(Div(x, sqrt(2))), 1)), 0.5)   (or Mul(x, sqrt(0.5)) inside Erf)
void match_gelu(DetectContext& ctx, size_t i) {
  const Node& half = ctx.node(i);
  std::string prod;
  double c = 0;
  if (half.op != "Mul" || !ctx.free(i) || !ctx.split_binary(half, &prod, &c) || c != 0.5) return;
  size_t mul = ctx.producer(prod);
  if (mul == kNone || ctx.node(mul).op != "Mul" || ctx.node(mul).inputs.size() != 2) return;
  for (int k = 0; k < 2; ++k) {
    size_t add = ctx.producer(ctx.node(mul).inputs[1 - k]);
    std::string e;
    if (add == kNone || ctx.node(add).op != "Add" || !ctx.split_binary(ctx.node(add), &e, &c) || c != 1.0) continue;
    size_t erf = ctx.producer(e);
    if (erf == kNone || ctx.node(erf).op != "Erf") continue;
    size_t div = ctx.producer(ctx.node(erf).inputs[0]);
    std::string x;
    if (div == kNone || !ctx.split_binary(ctx.node(div), &x, &c) || x != ctx.node(mul).inputs[k]) continue;
    bool scaled = (ctx.node(div).op == "Div" && std::abs(c - std::sqrt(2.0)) < 1e-3) ||
                  (ctx.node(div).op == "Mul" && std::abs(c - std::sqrt(0.5)) < 1e-3);
    if (!scaled) continue;
    std::vector<size_t> nodes = {div, erf, add, mul, i};
    std::sort(nodes.begin(), nodes.end());
    if (ctx.claimable(nodes) && ctx.internal(nodes, i)) ctx.add_unit({"gelu", nodes, x, half.outputs[0]});
    return;
  }
}

}  // namespace detect
}  // namespace deepen
