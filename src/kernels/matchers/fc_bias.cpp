#include "kernels/matchers/matchers.h"

#include <algorithm>
#include <cmath>

namespace deepen {
namespace detect {
namespace {
constexpr size_t kNone = DetectContext::kNone;
}  // namespace

// A fully connected layer written as a product and a bias, anchored at the MatMul:
//   fc(x) = Add(MatMul(x, W), b)   with W a 2-D constant and b a constant
void match_fc_bias(DetectContext& ctx, size_t i) {
  const Node& mm = ctx.node(i);
  if (mm.op != "MatMul" || !ctx.free(i) || ctx.normalise(i) != "fc") return;
  size_t add = ctx.single_consumer(mm.outputs[0]);
  if (add == kNone || !ctx.free(add) || ctx.node(add).op != "Add") return;
  const Node& a = ctx.node(add);
  if (a.inputs.size() != 2) return;
  const std::string& other = a.inputs[0] == mm.outputs[0] ? a.inputs[1] : a.inputs[0];
  if (!ctx.is_const(other)) return;
  ctx.add_unit({"fc", {i, add}, mm.inputs[0], a.outputs[0]});
}

}  // namespace detect
}  // namespace deepen
