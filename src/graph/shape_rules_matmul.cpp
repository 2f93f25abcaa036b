// Shape rules of the matrix products: Gemm (2-D, with transposes and a broadcast bias) and MatMul
// (numpy's matmul: vectors promoted, batch dimensions broadcast).
#include "graph/shape_rules.h"

namespace deepen::rules {

InferredOutputs gemm(InferContext& ctx) {
  ctx.arity(ctx.opset() < 11 ? 3 : 2, 3);
  const Node& n = ctx.node();
  const Shape &a = ctx.shape(0), &b = ctx.shape(1);
  if (a.size() != 2 || b.size() != 2) ctx.decline("has an input that is not a matrix");
  bool ta = n.attr_int("transA", 0) != 0, tb = n.attr_int("transB", 0) != 0;
  if ((ta ? a[0] : a[1]) != (tb ? b[1] : b[0])) ctx.decline("has inner dimensions that differ");
  Shape out{ta ? a[1] : a[0], tb ? b[0] : b[1]};
  if (ctx.has_input(2) && ctx.broadcast({ctx.shape(2), out}) != out) ctx.decline("has a bias that does not broadcast");
  return {{out, ctx.input(0).elem_type}};
}

InferredOutputs matmul(InferContext& ctx) {
  ctx.arity(2, 2);
  Shape a = ctx.shape(0), b = ctx.shape(1);
  if (a.empty() || b.empty()) ctx.decline("has a scalar input");
  bool a_vector = a.size() == 1, b_vector = b.size() == 1;
  if (a_vector) a.insert(a.begin(), 1);
  if (b_vector) b.push_back(1);
  if (a[a.size() - 1] != b[b.size() - 2]) ctx.decline("has inner dimensions that differ");
  Shape batch = ctx.broadcast({Shape(a.begin(), a.end() - 2), Shape(b.begin(), b.end() - 2)});
  if (!a_vector) batch.push_back(a[a.size() - 2]);
  if (!b_vector) batch.push_back(b.back());
  return {{batch, ctx.input(0).elem_type}};
}

}  // namespace deepen::rules
