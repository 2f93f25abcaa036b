#include "zoo/graph_builder.h"

#include <deepen/error.h>

#include <fmt/format.h>

#include <cctype>

namespace deepen::zoo {
namespace {

int64_t pooled(int64_t in, int64_t pad_total, int64_t ks, int64_t stride, bool ceil_mode) {
  int64_t span = in + pad_total - ks;
  if (span < 0) throw Error(fmt::format("a window of {} does not fit an input of {} (padding {})", ks, in, pad_total));
  int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  // As PyTorch and ONNX: the last window must start inside the input or the left padding.
  if (ceil_mode && (out - 1) * stride >= in + pad_total / 2) --out;
  return out;
}

}  // namespace

GraphBuilder::GraphBuilder(std::string name, int64_t opset) {
  graph_.name = std::move(name);
  graph_.opset = opset;
}

std::string GraphBuilder::fresh(const std::string& op) { return fmt::format("{}_{}", op, counters_[op]++); }

std::string GraphBuilder::input(const std::string& name, Shape shape) {
  Tensor t;
  t.name = name;
  t.shape = std::move(shape);
  t.shape_known = true;
  graph_.tensors[name] = t;
  graph_.inputs.push_back(name);
  return name;
}

void GraphBuilder::output(const std::string& tensor) { graph_.outputs.push_back(tensor); }

const Shape& GraphBuilder::shape(const std::string& tensor) const { return graph_.tensor(tensor).shape; }

std::string GraphBuilder::weight(const std::string& node, const std::string& suffix, Shape shape) {
  Tensor t;
  t.name = node + "." + suffix;
  t.shape = std::move(shape);
  t.shape_known = true;
  t.is_constant = true;
  graph_.tensors[t.name] = t;
  return t.name;
}

std::string GraphBuilder::int_constant(const std::string& node, const std::string& suffix,
                                       std::vector<int64_t> values) {
  Tensor t;
  t.name = node + "." + suffix;
  t.shape = {static_cast<int64_t>(values.size())};
  t.shape_known = true;
  t.is_constant = true;
  t.elem_type = static_cast<int32_t>(ElemType::Int64);
  t.int_values = std::move(values);
  t.has_int_values = true;
  graph_.tensors[t.name] = t;
  return t.name;
}

std::string GraphBuilder::float_constant(const std::string& node, const std::string& suffix, double value) {
  Tensor t;
  t.name = node + "." + suffix;
  t.shape = {};
  t.shape_known = true;
  t.is_constant = true;
  t.float_values = {value};
  t.has_float_values = true;
  graph_.tensors[t.name] = t;
  return t.name;
}

std::string GraphBuilder::zeros(const Shape& shape) {
  Tensor t;
  t.name = fresh("zeros");
  t.shape = shape;
  t.shape_known = true;
  t.is_constant = true;
  int64_t n = 1;
  for (auto d : shape) n *= d;
  t.float_values.assign(static_cast<size_t>(n), 0.0);
  t.has_float_values = true;
  graph_.tensors[t.name] = t;
  return t.name;
}

std::string GraphBuilder::emit(const std::string& name, const std::string& op, std::vector<std::string> inputs,
                               const Shape& out_shape, std::map<std::string, AttrValue> attrs) {
  Node n;
  n.name = name;
  n.op = op;
  n.inputs = std::move(inputs);
  n.attrs = std::move(attrs);
  std::string out = name + ".out";
  n.outputs = {out};
  Tensor t;
  t.name = out;
  t.shape = out_shape;
  t.shape_known = true;
  graph_.tensors[out] = t;
  graph_.nodes.push_back(std::move(n));
  return out;
}

std::string GraphBuilder::unary(const std::string& op, const std::string& x, std::map<std::string, AttrValue> attrs) {
  std::string lower = op;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return emit(fresh(lower), op, {x}, shape(x), std::move(attrs));
}

std::string GraphBuilder::conv(const std::string& x, int64_t cout, int64_t ks, int64_t stride, int64_t groups,
                               bool bias, int64_t pad) {
  int64_t p = pad < 0 ? ks / 2 : pad;
  return conv_pads(x, cout, ks, stride, groups, bias, {p, p, p, p});
}

std::string GraphBuilder::conv_pads(const std::string& x, int64_t cout, int64_t ks, int64_t stride, int64_t groups,
                                    bool bias, const std::vector<int64_t>& pads) {
  const Shape& s = shape(x);
  int64_t cin = s.at(1);
  if (groups < 1 || cin % groups != 0 || cout % groups != 0)
    throw Error(fmt::format("{}: a convolution of {} to {} channels cannot have {} groups", graph_.name, cin, cout,
                            groups));
  std::string name = fresh("conv");
  std::vector<std::string> inputs = {x, weight(name, "w", {cout, cin / groups, ks, ks})};
  if (bias) inputs.push_back(weight(name, "b", {cout}));
  Shape out = {s[0], cout, pooled(s[2], pads[0] + pads[2], ks, stride, false),
               pooled(s[3], pads[1] + pads[3], ks, stride, false)};
  std::map<std::string, AttrValue> attrs = {{"kernel_shape", std::vector<int64_t>{ks, ks}},
                                            {"strides", std::vector<int64_t>{stride, stride}},
                                            {"pads", std::vector<int64_t>{pads[0], pads[1], pads[2], pads[3]}}};
  if (groups != 1) attrs["group"] = groups;
  return emit(name, "Conv", std::move(inputs), out, std::move(attrs));
}

std::string GraphBuilder::bn(const std::string& x, double epsilon) {
  std::string name = fresh("bn");
  int64_t c = channels(x);
  return emit(name, "BatchNormalization",
              {x, weight(name, "scale", {c}), weight(name, "bias", {c}), weight(name, "mean", {c}),
               weight(name, "var", {c})},
              shape(x), {{"epsilon", epsilon}});
}

std::string GraphBuilder::act(const std::string& x, const std::string& kind) {
  if (kind.empty() || kind == "none") return x;
  if (kind == "relu") return unary("Relu", x);
  if (kind == "relu6") {
    std::string name = fresh("clip");
    return emit(name, "Clip", {x, float_constant(name, "min", 0.0), float_constant(name, "max", 6.0)}, shape(x));
  }
  if (kind == "hsigmoid") return unary("HardSigmoid", x, {{"alpha", 1.0 / 6.0}, {"beta", 0.5}});
  if (kind == "hswish") return mul(x, act(x, "hsigmoid"));
  if (kind == "sigmoid") return unary("Sigmoid", x);
  if (kind == "swish") return mul(x, unary("Sigmoid", x));
  if (kind == "tanh") return unary("Tanh", x);
  if (kind == "leakyrelu") return unary("LeakyRelu", x, {{"alpha", 0.01}});
  if (kind == "elu") return unary("Elu", x, {{"alpha", 1.0}});
  if (kind == "prelu") {
    std::string name = fresh("prelu");
    Shape slope = {channels(x), 1, 1};
    if (shape(x).size() != 4) slope = {shape(x).back()};
    return emit(name, "PRelu", {x, weight(name, "slope", slope)}, shape(x));
  }
  throw Error(fmt::format("unknown activation '{}'", kind));
}

std::string GraphBuilder::add(const std::string& a, const std::string& b) {
  if (shape(a) != shape(b))
    throw Error(ErrorKind::Internal,
                fmt::format("{}: internal error: Add of tensors of different shapes ({}, {})", graph_.name, a, b));
  return emit(fresh("add"), "Add", {a, b}, shape(a));
}

std::string GraphBuilder::binary(const std::string& op, const std::string& a, const std::string& b) {
  // Broadcasting of equal ranks, each dimension the larger (a per-channel 1xCx1x1 operand).
  Shape s = shape(a);
  const Shape& t = shape(b);
  if (s.size() != t.size())
    throw Error(ErrorKind::Internal,
                fmt::format("{}: internal error: {} of tensors of different ranks ({}, {})", graph_.name, op, a, b));
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != t[i] && s[i] != 1 && t[i] != 1)
      throw Error(ErrorKind::Internal, fmt::format("{}: internal error: {} of tensors that do not broadcast ({}, {})",
                                                   graph_.name, op, a, b));
    s[i] = std::max(s[i], t[i]);
  }
  std::string lower = op;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return emit(fresh(lower), op, {a, b}, s);
}

std::string GraphBuilder::mul(const std::string& a, const std::string& b) { return binary("Mul", a, b); }

std::string GraphBuilder::scale(const std::string& x, double factor) {
  std::string name = fresh("mul");
  return emit(name, "Mul", {x, float_constant(name, "factor", factor)}, shape(x));
}

std::string GraphBuilder::offset(const std::string& x, double value) {
  std::string name = fresh("add");
  return emit(name, "Add", {x, float_constant(name, "offset", value)}, shape(x));
}

std::string GraphBuilder::concat(const std::vector<std::string>& xs) {
  if (xs.size() == 1) return xs[0];
  Shape s = shape(xs[0]);
  s[1] = 0;
  for (const auto& x : xs) s[1] += channels(x);
  return emit(fresh("concat"), "Concat", xs, s, {{"axis", int64_t{1}}});
}

std::vector<std::string> GraphBuilder::split(const std::string& x, const std::vector<int64_t>& sizes) {
  std::string name = fresh("split");
  Node n;
  n.name = name;
  n.op = "Split";
  n.inputs = {x, int_constant(name, "sizes", sizes)};
  n.attrs["axis"] = int64_t{1};
  std::vector<std::string> outs;
  for (size_t i = 0; i < sizes.size(); ++i) {
    std::string out = fmt::format("{}.out{}", name, i);
    Tensor t;
    t.name = out;
    t.shape = shape(x);
    t.shape[1] = sizes[i];
    t.shape_known = true;
    graph_.tensors[out] = t;
    outs.push_back(out);
  }
  n.outputs = outs;
  graph_.nodes.push_back(std::move(n));
  return outs;
}

std::string GraphBuilder::slice_channels(const std::string& x, int64_t begin, int64_t end) {
  std::string name = fresh("slice");
  Shape s = shape(x);
  s[1] = end - begin;
  return emit(name, "Slice",
              {x, int_constant(name, "starts", {begin}), int_constant(name, "ends", {end}),
               int_constant(name, "axes", {1})},
              s);
}

std::string GraphBuilder::maxpool(const std::string& x, int64_t ks, int64_t stride, int64_t pad, bool ceil_mode) {
  return pool_pads("MaxPool", x, ks, stride, {pad, pad, pad, pad}, ceil_mode);
}

std::string GraphBuilder::avgpool(const std::string& x, int64_t ks, int64_t stride, int64_t pad, bool ceil_mode) {
  return pool_pads("AveragePool", x, ks, stride, {pad, pad, pad, pad}, ceil_mode);
}

std::string GraphBuilder::pool_pads(const std::string& op, const std::string& x, int64_t ks, int64_t stride,
                                    const std::vector<int64_t>& pads, bool ceil_mode) {
  const Shape& s = shape(x);
  Shape out = {s[0], s[1], pooled(s[2], pads[0] + pads[2], ks, stride, ceil_mode),
               pooled(s[3], pads[1] + pads[3], ks, stride, ceil_mode)};
  std::map<std::string, AttrValue> attrs = {{"kernel_shape", std::vector<int64_t>{ks, ks}},
                                            {"strides", std::vector<int64_t>{stride, stride}},
                                            {"pads", std::vector<int64_t>{pads[0], pads[1], pads[2], pads[3]}}};
  if (ceil_mode) attrs["ceil_mode"] = int64_t{1};
  return emit(fresh(op == "MaxPool" ? "maxpool" : "avgpool"), op, {x}, out, std::move(attrs));
}

std::string GraphBuilder::global_avgpool(const std::string& x) {
  Shape s = shape(x);
  s[2] = s[3] = 1;
  return emit(fresh("gap"), "GlobalAveragePool", {x}, s);
}

std::string GraphBuilder::flatten(const std::string& x) {
  const Shape& s = shape(x);
  int64_t rest = 1;
  for (size_t i = 1; i < s.size(); ++i) rest *= s[i];
  return emit(fresh("flatten"), "Flatten", {x}, {s[0], rest}, {{"axis", int64_t{1}}});
}

std::string GraphBuilder::fc(const std::string& x, int64_t cout) {
  const Shape& s = shape(x);
  std::string name = fresh("fc");
  return emit(name, "Gemm", {x, weight(name, "w", {cout, s.at(1)}), weight(name, "b", {cout})}, {s[0], cout},
              {{"transB", int64_t{1}}});
}

std::string GraphBuilder::softmax(const std::string& x) { return unary("Softmax", x, {{"axis", int64_t{1}}}); }

std::string GraphBuilder::channel_shuffle(const std::string& x, int64_t groups) {
  Shape s = shape(x);
  std::string r1 = fresh("shuffle_reshape");
  Shape mid = {s[0], groups, s[1] / groups, s[2], s[3]};
  std::string a = emit(r1, "Reshape", {x, int_constant(r1, "shape", mid)}, mid);
  Shape tmid = {s[0], s[1] / groups, groups, s[2], s[3]};
  std::string b =
      emit(fresh("shuffle_transpose"), "Transpose", {a}, tmid, {{"perm", std::vector<int64_t>{0, 2, 1, 3, 4}}});
  std::string r2 = fresh("shuffle_reshape");
  return emit(r2, "Reshape", {b, int_constant(r2, "shape", s)}, s);
}

std::string GraphBuilder::se(const std::string& x, int64_t mid, const std::string& gate) {
  int64_t c = channels(x);
  std::string p = global_avgpool(x);
  std::string h = act(conv(p, mid, 1, 1, 1, true), "relu");
  std::string g = act(conv(h, c, 1, 1, 1, true), gate);
  return mul(x, g);
}

std::string GraphBuilder::pad(const std::string& x, const std::vector<int64_t>& pads) {
  std::string name = fresh("pad");
  Shape s = shape(x);
  s[2] += pads[0] + pads[2];
  s[3] += pads[1] + pads[3];
  return emit(name, "Pad", {x, int_constant(name, "pads", {0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]})}, s,
              {{"mode", std::string("constant")}});
}

}  // namespace deepen::zoo
