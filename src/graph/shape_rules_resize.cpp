// Shape rules of the resampling ops: Resize (scales or sizes as inputs; its opset-10 form takes
// scales only) and Upsample (scales as an attribute before opset 9, then as an input; removed in
// opset 10). A scaled dimension is floor(dimension * scale), in float as ONNX computes it.
#include "graph/shape_rules.h"

#include <cmath>
#include <variant>

namespace deepen::rules {
namespace {

InferredOutput scaled(InferContext& ctx, const std::vector<double>& scales) {
  const Shape& x = ctx.shape(0);
  if (scales.size() != x.size()) ctx.decline("has scales whose count is not the input's rank");
  Shape out;
  for (size_t i = 0; i < x.size(); ++i) {
    float v = std::floor(static_cast<float>(x[i]) * static_cast<float>(scales[i]));
    if (!std::isfinite(v) || v < 0 || v > 9e18f) ctx.decline("has scales that give a dimension out of range");
    out.push_back(static_cast<int64_t>(v));
  }
  return {out, ctx.input(0).elem_type};
}

}  // namespace

InferredOutputs resize(InferContext& ctx) {
  const int64_t opset = ctx.opset();
  if (opset < 11) ctx.arity(2, 2);
  else if (opset < 13) ctx.arity(3, 4);
  else ctx.arity(1, 4);
  if (opset < 11) return {scaled(ctx, ctx.floats(1))};
  if (ctx.num_inputs() == 4 && ctx.has_input(3)) {
    const std::vector<int64_t>& sizes = ctx.ints(3);
    if (sizes.size() != ctx.shape(0).size()) ctx.decline("has sizes whose count is not the input's rank");
    return {{sizes, ctx.input(0).elem_type}};
  }
  return {scaled(ctx, ctx.floats(2))};
}

InferredOutputs upsample(InferContext& ctx) {
  if (ctx.opset() < 9) {
    ctx.arity(1, 1);
    const Node& n = ctx.node();
    auto it = n.attrs.find("scales");
    if (it == n.attrs.end() || !std::holds_alternative<std::vector<double>>(it->second))
      ctx.decline("lacks float scales");
    return {scaled(ctx, std::get<std::vector<double>>(it->second))};
  }
  ctx.arity(2, 2);
  return {scaled(ctx, ctx.floats(1))};
}

}  // namespace deepen::rules
