// Shape rules of the reductions (ReduceMean, ReduceMax, ReduceMin, ReduceSum, ReduceProd,
// ReduceL2): the reduced axes become 1 (keepdims) or go.
#include "graph/shape_rules.h"

#include <set>

namespace deepen::rules {
namespace {

using Ints = std::vector<int64_t>;

// `axes_input`: the axes are an optional input (ReduceSum from opset 13), else an attribute;
// no axes reduce every axis (or none, with noop_with_empty_axes).
InferredOutputs reduce_over(InferContext& ctx, bool axes_input) {
  const Node& n = ctx.node();
  const Shape& x = ctx.shape(0);
  const int64_t rank = static_cast<int64_t>(x.size());
  bool keepdims = n.attr_int("keepdims", 1) != 0;
  Ints axes;
  bool all = false;
  if (axes_input) {
    if (ctx.has_input(1)) axes = ctx.ints(1);
    if (axes.empty()) {
      if (n.attr_int("noop_with_empty_axes", 0) != 0) return ctx.same_as_input();
      all = true;
    }
  } else {
    if (ctx.num_inputs() != 1) ctx.decline("has an axes input in an opset without it");
    axes = n.attr_ints("axes");
    all = !n.has_attr("axes");
  }
  std::set<int64_t> reduced;
  for (auto a : axes) reduced.insert(ctx.axis(a, rank));
  Shape out;
  for (int64_t i = 0; i < rank; ++i) {
    if (all || reduced.count(i)) {
      if (keepdims) out.push_back(1);
    } else {
      out.push_back(x[i]);
    }
  }
  return {{out, ctx.input(0).elem_type}};
}

}  // namespace

// Every Reduce* but ReduceSum: axes as an attribute in the opsets deepen reads.
InferredOutputs reduce(InferContext& ctx) {
  ctx.arity(1, 1);
  return reduce_over(ctx, false);
}

// ReduceSum: axes as an optional input from opset 13.
InferredOutputs reduce_sum(InferContext& ctx) {
  const bool axes_input = ctx.opset() >= 13;
  if (axes_input) ctx.arity(1, 2);
  else ctx.arity(1, 1);
  return reduce_over(ctx, axes_input);
}

}  // namespace deepen::rules
