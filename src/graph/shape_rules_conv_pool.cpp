// Shape rules of the sliding-window ops (Conv, MaxPool, AveragePool: ONNX's
// convPoolShapeInference, with its opset differences) and of the global pools.
#include "graph/shape_rules.h"

#include <deepen/error.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace deepen::rules {
namespace {

using Ints = std::vector<int64_t>;

// The output shape of a Conv (`is_pool` false: channels from the weight) or a pool, as ONNX's
// convPoolShapeInference computes it; `use_dilation` false where that opset's inference ignores
// dilations.
Shape conv_pool(InferContext& ctx, bool use_dilation, bool is_pool) {
  const Shape& x = ctx.shape(0);
  if (x.size() < 2) ctx.decline("has an input of rank below 2");
  const size_t n = x.size() - 2;
  const Node& node = ctx.node();
  auto list = [&](const char* key, size_t size, int64_t fallback) {
    Ints v = node.attr_ints(key, Ints(size, fallback));
    if (v.size() != size) ctx.decline(fmt::format("has attribute {} of the wrong size", key));
    return v;
  };
  Ints dilations = use_dilation ? list("dilations", n, 1) : Ints(n, 1);
  if (!use_dilation && node.has_attr("dilations") && node.attr_ints("dilations") != Ints(n, 1))
    ctx.decline("has dilations, which this opset's inference ignores");
  Ints strides = list("strides", n, 1);
  Ints kernel;
  if (node.has_attr("kernel_shape")) {
    kernel = list("kernel_shape", n, 1);
  } else if (is_pool) {
    ctx.decline("lacks kernel_shape");
  } else {
    const Shape& w = ctx.shape(1);
    if (w.size() > n + 2)  // ONNX 1.12's inference reads past the input's dims here and crashes
      throw Error::in_file(
          ctx.graph_name(),
          fmt::format("node '{}' ({}) has a weight of rank {} for an input of rank {}; the ranks must be equal",
                      node.name, node.op, w.size(), x.size()));
    if (w.size() != n + 2) ctx.decline("has a weight whose rank does not match the input's");
    kernel.assign(w.begin() + 2, w.end());
  }
  for (size_t i = 0; i < n; ++i)
    if (strides[i] < 1 || dilations[i] < 1 || kernel[i] < 1 || kernel[i] > (int64_t{1} << 20) ||
        dilations[i] > (int64_t{1} << 20) || x[2 + i] > (int64_t{1} << 40))
      ctx.decline("has a stride, dilation or kernel size that is not handled");
  Ints effective(n);
  for (size_t i = 0; i < n; ++i) effective[i] = (kernel[i] - 1) * dilations[i] + 1;
  Ints pads;
  if (node.has_attr("pads")) {
    pads = list("pads", 2 * n, 0);
    for (auto p : pads)
      if (p < -(int64_t{1} << 40) || p > (int64_t{1} << 40)) ctx.decline("has pads that are not handled");
  } else {
    pads.assign(2 * n, 0);
    std::string auto_pad = node.attr_string("auto_pad", "NOTSET");
    if (auto_pad != "NOTSET" && auto_pad != "VALID" && auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER")
      ctx.decline(fmt::format("has auto_pad '{}'", auto_pad));
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER")
      for (size_t i = 0; i < n; ++i) {
        int64_t residual = strides[i] > 1 ? x[2 + i] % strides[i] : 0;
        int64_t total = residual == 0 ? effective[i] - strides[i] : effective[i] - residual;
        total = std::max<int64_t>(total, 0);
        int64_t small = total >> 1, big = total - small;
        pads[i] = auto_pad == "SAME_UPPER" ? small : big;
        pads[i + n] = auto_pad == "SAME_UPPER" ? big : small;
      }
  }
  int64_t ceil_mode = node.attr_int("ceil_mode", 0);
  if (node.has_attr("ceil_mode") && (!is_pool || ctx.opset() < 10)) ctx.decline("has ceil_mode in an opset without it");
  Shape out{x[0]};
  if (is_pool) {
    out.push_back(x[1]);
  } else {
    const Shape& w = ctx.shape(1);
    int64_t group = node.attr_int("group", 1);
    if (w.size() < 2 || group < 1 || w[1] > (int64_t{1} << 40) || group > (int64_t{1} << 20) || w[1] * group != x[1])
      ctx.decline("has input channels that do not match its weight and groups");
    out.push_back(w[0]);
  }
  for (size_t i = 0; i < n; ++i) {
    int64_t input_size = x[2 + i] + pads[i] + pads[i + n];
    int64_t positions = ceil_mode == 1 ? static_cast<int64_t>(std::ceil(static_cast<float>(input_size - effective[i]) /
                                                                       static_cast<float>(strides[i])))
                                       : (input_size - effective[i]) / strides[i];
    out.push_back(1 + positions);
  }
  return out;
}

}  // namespace

InferredOutputs conv(InferContext& ctx) {
  ctx.arity(2, 3);
  if (ctx.has_input(2) && ctx.shape(2) != Shape{ctx.shape(1).empty() ? 0 : ctx.shape(1)[0]})
    ctx.decline("has a bias that does not match its output channels");
  return {{conv_pool(ctx, true, false), ctx.input(0).elem_type}};
}

// MaxPool: dilations from opset 10.
InferredOutputs max_pool(InferContext& ctx) {
  ctx.arity(1, 1);
  return {{conv_pool(ctx, ctx.opset() >= 10, true), ctx.input(0).elem_type}};
}

InferredOutputs average_pool(InferContext& ctx) {
  ctx.arity(1, 1);
  return {{conv_pool(ctx, false, true), ctx.input(0).elem_type}};
}

// GlobalAveragePool, GlobalMaxPool: every spatial dimension becomes 1.
InferredOutputs global_pool(InferContext& ctx) {
  ctx.arity(1, 1);
  Shape s = ctx.shape(0);
  if (s.size() < 2) ctx.decline("has an input of rank below 2");
  std::fill(s.begin() + 2, s.end(), 1);
  return {{s, ctx.input(0).elem_type}};
}

}  // namespace deepen::rules
