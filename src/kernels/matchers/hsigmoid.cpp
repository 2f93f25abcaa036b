#include "kernels/matchers/matchers.h"

#include <algorithm>
#include <cmath>

namespace deepen {
namespace detect {
// A hard-sigmoid as exporters decompose it, anchored at its last node:
//   hsigmoid(x) = Div(Clip(Add(x, 3), 0, 6), 6)  or  Mul(Clip(Add(x, 3), 0, 6), 1/6)
// (DetectContext::decomposed_hsigmoid; Clip may be any Relu6 form).
void match_hsigmoid(DetectContext& ctx, size_t i) {
  std::vector<size_t> nodes;
  std::string x;
  if (!ctx.free(i) || !ctx.decomposed_hsigmoid(i, &nodes, &x) || !ctx.claimable(nodes) || !ctx.internal(nodes, i)) return;
  ctx.add_unit({"hsigmoid", nodes, x, ctx.node(i).outputs[0]});
}

}  // namespace detect
}  // namespace deepen
