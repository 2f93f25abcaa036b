#include "kernels/matchers/matchers.h"

#include <algorithm>
#include <cmath>

namespace deepen {
namespace detect {
namespace {
constexpr size_t kNone = DetectContext::kNone;
}  // namespace

// The channel shuffle of ShuffleNet, anchored at its first Reshape:
//   shuffle(x) = Reshape(Transpose(Reshape(x, [N, g, C/g, H, W]), perm=[0, 2, 1, 3, 4]), [N, C, H, W])
// Config beyond the input's: groups (g).
void match_channel_shuffle(DetectContext& ctx, size_t i) {
  const Node& r1 = ctx.node(i);
  if (r1.op != "Reshape" || !ctx.free(i)) return;
  const Tensor* mid = ctx.graph().find_tensor(r1.outputs[0]);
  if (!mid || !mid->shape_known || mid->shape.size() != 5) return;
  size_t t = ctx.single_consumer(r1.outputs[0]);
  if (t == kNone || ctx.node(t).op != "Transpose" || ctx.node(t).attr_ints("perm") != std::vector<int64_t>{0, 2, 1, 3, 4})
    return;
  size_t r2 = ctx.single_consumer(ctx.node(t).outputs[0]);
  if (r2 == kNone || ctx.node(r2).op != "Reshape") return;
  std::vector<size_t> nodes = {i, t, r2};
  if (!ctx.claimable(nodes)) return;
  Unit u{"channel-shuffle", nodes, r1.inputs[0], ctx.node(r2).outputs[0]};
  u.config.set("groups", static_cast<double>(mid->shape[1]));
  ctx.add_unit(std::move(u));
}

}  // namespace detect
}  // namespace deepen
