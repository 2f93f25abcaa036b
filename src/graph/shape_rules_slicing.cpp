// Shape rules of the ops that take parts of tensors (Slice, Split, Gather), join them (Concat) or
// pad them (Pad), and the folds of Slice, Concat and Gather on small integer tensors.
#include "graph/shape_rules.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace deepen::rules {

using Ints = std::vector<int64_t>;

// Slice: starts, ends and axes as attributes before opset 10 (where ONNX's inference is
// narrower), then starts, ends, axes and steps as constant inputs.
InferredOutputs slice(InferContext& ctx) {
  const int64_t opset = ctx.opset();
  if (opset < 10) ctx.arity(1, 1);
  else ctx.arity(3, 5);
  const Node& n = ctx.node();
  const Shape& x = ctx.shape(0);
  const int64_t rank = static_cast<int64_t>(x.size());
  Ints starts, ends, axes, steps;
  if (opset < 10) {
    // Slice-1: ONNX infers only non-negative starts, ends and axes, axes in order, and
    // neither clamps the start nor takes a step.
    starts = n.attr_ints("starts");
    ends = n.attr_ints("ends");
    axes = n.attr_ints("axes");
    if (!n.has_attr("starts") || !n.has_attr("ends")) ctx.decline("lacks starts or ends");
    if (!n.has_attr("axes"))
      for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
    if (starts.size() != ends.size() || axes.size() != starts.size()) ctx.decline("has lists of different lengths");
    Shape out = x;
    for (size_t i = 0; i < axes.size(); ++i) {
      if (starts[i] < 0 || ends[i] < 0 || axes[i] < 0 || axes[i] >= rank || (i > 0 && axes[i] <= axes[i - 1]))
        ctx.decline("has negative, unordered or repeated indices, which ONNX's Slice-1 inference leaves open");
      out[axes[i]] = std::min(x[axes[i]], ends[i]) - starts[i];
    }
    return {{out, ctx.input(0).elem_type}};
  }
  starts = ctx.ints(1);
  ends = ctx.ints(2);
  if (ctx.has_input(3)) axes = ctx.ints(3);
  if (ctx.has_input(4)) steps = ctx.ints(4);
  if (ctx.has_input(3) && axes.size() != starts.size()) ctx.decline("has axes of the wrong length");
  if (ctx.has_input(4) && steps.size() != starts.size()) ctx.decline("has steps of the wrong length");
  if (starts.size() != ends.size()) ctx.decline("has starts and ends of different lengths");
  if (axes.empty() && !ctx.has_input(3)) {
    axes.resize(starts.size());
    for (size_t i = 0; i < axes.size(); ++i) axes[i] = static_cast<int64_t>(i);
  }
  if (axes.size() != starts.size()) ctx.decline("has axes of the wrong length");
  if (steps.empty()) steps.assign(starts.size(), 1);
  Shape out = x;
  std::set<int64_t> seen;
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t a = ctx.axis(axes[i], rank, opset >= 11);
    if (!seen.insert(a).second) ctx.decline("has duplicate axes");
    int64_t dim = x[a], start = starts[i], end = ends[i], step = steps[i];
    if (step == 0) ctx.decline("has step 0");
    auto clamp = [](int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; };
    if (start < 0) start = start < INT64_MIN + dim ? INT64_MIN : start + dim;
    start = step < 0 ? clamp(start, 0, dim - 1) : clamp(start, 0, dim);
    if (end < 0) end = end < INT64_MIN + dim ? INT64_MIN : end + dim;
    end = step < 0 ? clamp(end, -1, dim - 1) : clamp(end, 0, dim);
    int64_t size = static_cast<int64_t>(std::ceil(1.0 * static_cast<double>(end - start) / static_cast<double>(step)));
    out[a] = std::max<int64_t>(size, 0);
  }
  return {{out, ctx.input(0).elem_type}};
}

// Split: the parts as an attribute (before opset 13) or an input, else equal parts.
InferredOutputs split(InferContext& ctx) {
  const int64_t opset = ctx.opset();
  if (opset < 13) ctx.arity(1, 1, 1, 1024);
  else ctx.arity(1, 2, 1, 1024);
  const Node& n = ctx.node();
  const Shape& x = ctx.shape(0);
  int64_t a = ctx.axis(n.attr_int("axis", 0), static_cast<int64_t>(x.size()), opset >= 11);
  Ints parts;
  if (opset >= 13 && ctx.has_input(1)) parts = ctx.ints(1);
  else if (opset < 13 && n.has_attr("split")) parts = n.attr_ints("split");
  size_t count = n.outputs.size();
  if (parts.empty()) {
    if (x[a] % static_cast<int64_t>(count) != 0) ctx.decline("splits a dimension unevenly");
    parts.assign(count, x[a] / static_cast<int64_t>(count));
  }
  if (parts.size() != count) ctx.decline("has a split list whose length is not its output count");
  int64_t total = 0;
  for (auto p : parts)
    if (p < 0 || __builtin_add_overflow(total, p, &total)) ctx.decline("has a bad split list");
  if (total != x[a]) ctx.decline("has a split list that does not add up to the dimension");
  InferredOutputs outs;
  for (auto p : parts) {
    Shape s = x;
    s[a] = p;
    outs.push_back({s, ctx.input(0).elem_type});
  }
  return outs;
}

// Concat: inputs equal but along `axis`, whose sizes add up.
InferredOutputs concat(InferContext& ctx) {
  ctx.arity(1, 1024);
  const Node& n = ctx.node();
  if (!n.has_attr("axis")) ctx.decline("lacks axis");
  Shape out = ctx.shape(0);
  int64_t a = ctx.axis(n.attr_int("axis", 0), static_cast<int64_t>(out.size()), ctx.opset() >= 11);
  for (size_t k = 1; k < ctx.num_inputs(); ++k) {
    const Shape& s = ctx.shape(k);
    if (s.size() != out.size()) ctx.decline("has inputs of different ranks");
    for (size_t i = 0; i < s.size(); ++i)
      if (static_cast<int64_t>(i) != a && s[i] != out[i]) ctx.decline("has inputs whose other dimensions differ");
    if (__builtin_add_overflow(out[a], s[a], &out[a])) ctx.decline("has too many elements");
  }
  return {{out, ctx.input(0).elem_type}};
}

// Gather: the indices' shape replaces the gathered axis.
InferredOutputs gather(InferContext& ctx) {
  ctx.arity(2, 2);
  const Shape &x = ctx.shape(0), &idx = ctx.shape(1);
  int64_t a = ctx.axis(ctx.node().attr_int("axis", 0), static_cast<int64_t>(x.size()), ctx.opset() >= 11);
  Shape out(x.begin(), x.begin() + a);
  out.insert(out.end(), idx.begin(), idx.end());
  out.insert(out.end(), x.begin() + a + 1, x.end());
  return {{out, ctx.input(0).elem_type}};
}

// Pad: pads as an attribute before opset 11, then a constant input (begins, then ends).
InferredOutputs pad(InferContext& ctx) {
  if (ctx.opset() < 11) ctx.arity(1, 1);
  else ctx.arity(2, 3);
  const Shape& x = ctx.shape(0);
  Ints pads = ctx.opset() < 11 ? ctx.node().attr_ints("pads") : ctx.ints(1);
  if (pads.size() != 2 * x.size()) ctx.decline("has pads whose count is not twice the input's rank");
  Shape out = x;
  for (size_t i = 0; i < x.size(); ++i)
    if (__builtin_add_overflow(out[i], pads[i], &out[i]) || __builtin_add_overflow(out[i], pads[i + x.size()], &out[i]))
      ctx.decline("has pads out of range");
  return {{out, ctx.input(0).elem_type}};
}

// Slice of a small integer tensor; without `shapes` the tensor is taken as 1-D, which only a plain
// slice of axis 0 can rely on.
std::optional<Ints> fold_slice(const Node& n, const IntsLookup& lookup, const ShapeLookup& shapes) {
  const Ints* data = input_values(n, lookup, 0);
  if (!data) return std::nullopt;
  Ints starts, ends, axes, steps;
  if (!slice_arguments(n, lookup, &starts, &ends, &axes, &steps)) return std::nullopt;
  if (!shapes && (starts.size() != 1 || (!axes.empty() && axes != Ints{0}) || steps != Ints{1})) return std::nullopt;
  return slice_values(*data, shape_of(n.inputs[0], *data, shapes), starts, ends, axes, steps);
}

// Concat of integer lists (the axis does not matter for 1-D lists).
std::optional<Ints> fold_concat(const Node& n, const IntsLookup& lookup, const ShapeLookup&) {
  Ints out;
  for (size_t k = 0; k < n.inputs.size(); ++k) {
    const Ints* a = input_values(n, lookup, k);
    if (!a) return std::nullopt;
    out.insert(out.end(), a->begin(), a->end());
  }
  return out;
}

// Gather along axis 0 of an integer list (Shape -> Gather).
std::optional<Ints> fold_gather(const Node& n, const IntsLookup& lookup, const ShapeLookup&) {
  const Ints *data = input_values(n, lookup, 0), *idx = input_values(n, lookup, 1);
  if (!data || !idx || n.attr_int("axis", 0) != 0) return std::nullopt;
  Ints out;
  int64_t size = static_cast<int64_t>(data->size());
  for (int64_t i : *idx) {
    if (i < -size || i >= size) return std::nullopt;
    out.push_back((*data)[i < 0 ? i + size : i]);
  }
  return out;
}

}  // namespace deepen::rules
