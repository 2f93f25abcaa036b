#include "kernels/matchers/matchers.h"

#include <algorithm>
#include <cmath>

namespace deepen {
namespace detect {
namespace {
constexpr size_t kNone = DetectContext::kNone;
}  // namespace

// LayerNorm as exporters write it before opset 17 (which has LayerNormalization), anchored at
// its Div:
//   d = Sub(x, ReduceMean(x))
//   layernorm(x) = Div(d, Sqrt(Add(ReduceMean(Pow(d, 2)), eps)))  [then Mul(., gamma), Add(., beta)]
// with gamma and beta constants, taken when present.
void match_layernorm(DetectContext& ctx, size_t i) {
  const Node& div = ctx.node(i);
  if (div.op != "Div" || div.inputs.size() != 2 || !ctx.free(i)) return;
  size_t sub = ctx.producer(div.inputs[0]), sqrt = ctx.producer(div.inputs[1]);
  if (sub == kNone || ctx.node(sub).op != "Sub" || sqrt == kNone || ctx.node(sqrt).op != "Sqrt") return;
  const std::string& x = ctx.node(sub).inputs[0];
  size_t mean = ctx.node(sub).inputs.size() == 2 ? ctx.producer(ctx.node(sub).inputs[1]) : kNone;
  if (mean == kNone || ctx.node(mean).op != "ReduceMean" || ctx.node(mean).inputs[0] != x) return;
  size_t eps = ctx.producer(ctx.node(sqrt).inputs[0]);
  std::string v;
  double c = 0;
  if (eps == kNone || ctx.node(eps).op != "Add" || !ctx.split_binary(ctx.node(eps), &v, &c)) return;
  size_t var = ctx.producer(v);
  if (var == kNone || ctx.node(var).op != "ReduceMean") return;
  size_t pow = ctx.producer(ctx.node(var).inputs[0]);
  std::string d;
  if (pow == kNone || ctx.node(pow).op != "Pow" || !ctx.split_binary(ctx.node(pow), &d, &c) || c != 2.0 ||
      d != div.inputs[0])
    return;
  std::vector<size_t> nodes = {mean, sub, pow, var, eps, sqrt, i};
  size_t last = i;
  for (const char* affine : {"Mul", "Add"}) {  // gamma, then beta
    size_t next = ctx.single_consumer(ctx.node(last).outputs[0]);
    if (next == kNone || ctx.node(next).op != affine || ctx.node(next).inputs.size() != 2) break;
    const auto& ins = ctx.node(next).inputs;
    if (!ctx.is_const(ins[0] == ctx.node(last).outputs[0] ? ins[1] : ins[0])) break;
    nodes.push_back(last = next);
  }
  std::sort(nodes.begin(), nodes.end());
  if (ctx.claimable(nodes) && ctx.internal(nodes, last)) ctx.add_unit({"layernorm", nodes, x, ctx.node(last).outputs[0]});
}

}  // namespace detect
}  // namespace deepen
