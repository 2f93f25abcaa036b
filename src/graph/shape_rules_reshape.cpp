// Shape rules of the ops that keep a tensor's elements and change its shape or their order
// (Reshape, Flatten, Transpose, Squeeze, Unsqueeze) or repeat them (Expand, Tile), and their
// folds on small integer tensors.
#include "graph/shape_rules.h"

#include <set>

namespace deepen::rules {
namespace {

using Ints = std::vector<int64_t>;

int64_t product(const Shape& s, size_t from, size_t to, bool* ok) {
  int64_t p = 1;
  for (size_t i = from; i < to; ++i)
    if (__builtin_mul_overflow(p, s[i], &p)) *ok = false;
  return p;
}

// The axes of a Squeeze or Unsqueeze: an attribute before opset 13, then an optional input.
Ints squeeze_axes(InferContext& ctx) {
  const Node& n = ctx.node();
  Ints axes = ctx.opset() < 13 ? n.attr_ints("axes") : ctx.has_input(1) ? ctx.ints(1) : Ints{};
  if (ctx.opset() < 13 && !n.has_attr("axes")) ctx.decline("lacks axes, which ONNX's inference needs before opset 13");
  return axes;
}

}  // namespace

// Reshape: 0 copies the input's dimension, -1 takes the rest (allowzero is not handled).
InferredOutputs reshape(InferContext& ctx) {
  ctx.arity(2, 2);
  if (ctx.node().attr_int("allowzero", 0) != 0) ctx.decline("has allowzero");
  auto out = reshape_output(ctx.shape(0), ctx.ints(1));
  if (!out) ctx.decline("has a shape argument that does not fit its input");
  return {{*out, ctx.input(0).elem_type}};
}

// Flatten: a matrix of the dimensions before `axis` by those from it.
InferredOutputs flatten(InferContext& ctx) {
  ctx.arity(1, 1);
  const Shape& x = ctx.shape(0);
  int64_t rank = static_cast<int64_t>(x.size());
  int64_t a = ctx.node().attr_int("axis", 1);
  if (a < 0 && ctx.opset() >= 11) a += rank;
  if (a < 0 || a > rank) ctx.decline("has an axis out of range");
  bool ok = true;
  Shape out{product(x, 0, static_cast<size_t>(a), &ok), product(x, static_cast<size_t>(a), x.size(), &ok)};
  if (!ok) ctx.decline("has too many elements");
  return {{out, ctx.input(0).elem_type}};
}

// Transpose: perm, by default the reversed axes.
InferredOutputs transpose(InferContext& ctx) {
  ctx.arity(1, 1);
  const Node& n = ctx.node();
  const Shape& x = ctx.shape(0);
  Ints perm = n.attr_ints("perm");
  if (!n.has_attr("perm"))
    for (size_t i = x.size(); i-- > 0;) perm.push_back(static_cast<int64_t>(i));
  if (perm.size() != x.size()) ctx.decline("has a perm whose length is not the input's rank");
  std::vector<bool> used(x.size(), false);
  Shape out;
  for (auto p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(x.size()) || used[p]) ctx.decline("has a perm that is no permutation");
    used[p] = true;
    out.push_back(x[p]);
  }
  return {{out, ctx.input(0).elem_type}};
}

// Squeeze: the given axes, which must be 1, or (opset 13, no axes) every dimension of 1.
InferredOutputs squeeze(InferContext& ctx) {
  if (ctx.opset() < 13) ctx.arity(1, 1);
  else ctx.arity(1, 2);
  const Shape& x = ctx.shape(0);
  Ints axes = squeeze_axes(ctx);
  bool negative = ctx.opset() >= 11;
  std::set<int64_t> drop;
  for (auto a : axes) {
    int64_t i = ctx.axis(a, static_cast<int64_t>(x.size()), negative);
    if (x[i] != 1) ctx.decline("squeezes a dimension that is not 1");
    drop.insert(i);
  }
  Shape out;
  for (size_t i = 0; i < x.size(); ++i) {
    bool squeezed = axes.empty() ? x[i] == 1 : drop.count(static_cast<int64_t>(i)) != 0;
    if (!squeezed) out.push_back(x[i]);
  }
  return {{out, ctx.input(0).elem_type}};
}

// Unsqueeze: a dimension of 1 at each given axis of the output.
InferredOutputs unsqueeze(InferContext& ctx) {
  if (ctx.opset() < 13) ctx.arity(1, 1);
  else ctx.arity(2, 2);
  const Shape& x = ctx.shape(0);
  Ints axes = squeeze_axes(ctx);
  bool negative = ctx.opset() >= 11;
  int64_t rank = static_cast<int64_t>(x.size() + axes.size());
  std::set<int64_t> added;
  for (auto a : axes)
    if (!added.insert(ctx.axis(a, rank, negative)).second) ctx.decline("has duplicate axes");
  Shape out;
  size_t next = 0;
  for (int64_t i = 0; i < rank; ++i) out.push_back(added.count(i) ? 1 : x[next++]);
  return {{out, ctx.input(0).elem_type}};
}

// Expand: the input broadcast with a constant shape.
InferredOutputs expand(InferContext& ctx) {
  ctx.arity(2, 2);
  return {{ctx.broadcast({ctx.shape(0), ctx.ints(1)}), ctx.input(0).elem_type}};
}

// Tile: each dimension times its constant repeat.
InferredOutputs tile(InferContext& ctx) {
  ctx.arity(2, 2);
  const Shape& x = ctx.shape(0);
  const Ints& repeats = ctx.ints(1);
  if (repeats.size() != x.size()) ctx.decline("has repeats whose count is not the input's rank");
  Shape out = x;
  for (size_t i = 0; i < x.size(); ++i)
    if (repeats[i] < 0 || __builtin_mul_overflow(out[i], repeats[i], &out[i])) ctx.decline("has bad repeats");
  return {{out, ctx.input(0).elem_type}};
}

// Identity, Reshape, Flatten, Squeeze, Unsqueeze: the values, as they are in memory.
std::optional<Ints> fold_same_values(const Node& n, const IntsLookup& lookup, const ShapeLookup&) {
  const Ints* a = input_values(n, lookup, 0);
  if (!a) return std::nullopt;
  return *a;
}

// Transpose of a small integer tensor of known shape (PyTorch's padding arithmetic).
std::optional<Ints> fold_transpose(const Node& n, const IntsLookup& lookup, const ShapeLookup& shapes) {
  const Ints* data = input_values(n, lookup, 0);
  if (!data || !shapes) return std::nullopt;
  Shape shape = shape_of(n.inputs[0], *data, shapes);
  const size_t rank = shape.size();
  Ints perm = n.attr_ints("perm");
  if (perm.empty())
    for (size_t a = rank; a-- > 0;) perm.push_back(static_cast<int64_t>(a));
  if (perm.size() != rank) return std::nullopt;
  Shape out_shape(rank);
  std::vector<size_t> in_axis(rank);
  std::vector<bool> seen(rank, false);
  for (size_t a = 0; a < rank; ++a) {
    if (perm[a] < 0 || perm[a] >= static_cast<int64_t>(rank) || seen[perm[a]]) return std::nullopt;
    seen[perm[a]] = true;
    in_axis[a] = static_cast<size_t>(perm[a]);
    out_shape[a] = shape[in_axis[a]];
  }
  return gather_nd(*data, shape, out_shape, Ints(rank, 0), Ints(rank, 1), in_axis);
}

}  // namespace deepen::rules
