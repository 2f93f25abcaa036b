// The kernel families, one row each (see families.h): for each, the ONNX ops it normalises, how
// its config is read from the graph, its features, and how its work is counted. The functions of
// each part come first, the table last.
#include "kernels/families.h"

#include <deepen/error.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace deepen {
namespace detect {
namespace {

constexpr double kBytesPerElement = 4.0;  // fp32

// ---- features: a config with every field of the schema's config_fields -> the booster's inputs

// Convolution features, chosen by cross-validation on the DeepEn2023 kernel measurements (see
// docs/predictors.md, "The energy predictors"): the layer, the GEMM an im2col path runs (M x K
// by K x cout), the memory it moves, whether a Winograd path applies, and whether weights and
// activations fit a phone CPU's L2 (512 KiB) and L3 (4 MiB).
std::vector<double> conv_like_features(double hw, double cin, double cout, double ks, double stride, double groups) {
  double ho = std::ceil(hw / std::max(1.0, stride));
  double k = cin / groups * ks * ks;  // GEMM depth
  double macs = ho * ho * k * cout;
  double params = k * cout;
  double in_bytes = hw * hw * cin * kBytesPerElement;
  double out_bytes = ho * ho * cout * kBytesPerElement;
  double total_bytes = in_bytes + out_bytes + params * kBytesPerElement;
  double im2col_bytes = ks > 1 ? ho * ho * k * kBytesPerElement : 0.0;
  return {hw,
          cin,
          cout,
          ks,
          stride,
          ho,
          macs,
          params,
          in_bytes,
          out_bytes,
          total_bytes,
          macs / total_bytes,
          ho * ho,
          k,
          im2col_bytes,
          (ks == 3 && stride == 1) ? 1.0 : 0.0,
          params * kBytesPerElement <= 512.0 * 1024 ? 1.0 : 0.0,
          in_bytes + out_bytes <= 512.0 * 1024 ? 1.0 : 0.0,
          total_bytes <= 4.0 * 1024 * 1024 ? 1.0 : 0.0};
}
const std::vector<std::string> kConvLikeFeatureNames = {
    "hw",     "cin",          "cout",   "ks",       "stride",      "hw_out",       "macs",
    "params", "in_bytes",     "out_bytes", "total_bytes", "intensity", "gemm_m", "gemm_k",
    "im2col_bytes", "winograd", "weights_fit_l2", "activations_fit_l2", "all_fit_l3"};

std::vector<double> conv_features(const KernelConfig& c) {
  return conv_like_features(c.get("hw"), c.get("cin"), c.get("cout"), c.get("ks"), c.get("stride"), 1.0);
}
std::vector<double> gconv_features(const KernelConfig& c) {
  return conv_like_features(c.get("hw"), c.get("cin"), c.get("cout"), c.get("ks"), c.get("stride"),
                            c.get("groups"));
}
std::vector<double> dwconv_features(const KernelConfig& c) {
  double hw = c.get("hw"), cin = c.get("cin"), ks = c.get("ks"), stride = c.get("stride");
  double ho = std::ceil(hw / std::max(1.0, stride));
  double macs = ho * ho * cin * ks * ks;
  double bytes = (hw * hw * cin + ho * ho * cin + cin * ks * ks) * kBytesPerElement;
  return {hw, cin, ks, stride, ho, std::log(macs), std::log(bytes)};
}
std::vector<double> fc_features(const KernelConfig& c) {
  double cin = c.get("cin"), cout = c.get("cout");
  return {cin, cout, std::log(cin * cout), std::log((cin + cout + cin * cout) * kBytesPerElement)};
}
std::vector<double> pool_features(const KernelConfig& c) {
  double hw = c.get("hw"), cin = c.get("cin"), ks = c.get("ks"), stride = c.get("stride");
  double ho = std::ceil(hw / std::max(1.0, stride));
  return {hw, cin, ks, stride, ho, std::log(ho * ho * cin * ks * ks), std::log((hw * hw + ho * ho) * cin)};
}
std::vector<double> activation_features(const KernelConfig& c) {
  double hw = c.get("hw"), cin = c.get("cin");
  return {hw, cin, std::log(hw * hw * cin)};
}
std::vector<double> concat_features(const KernelConfig& c) {
  double hw = c.get("hw"), cin = c.get("cin"), inputs = c.get("inputs");
  return {hw, cin, inputs, std::log(hw * hw * cin)};
}
std::vector<double> split_features(const KernelConfig& c) {
  double hw = c.get("hw"), cin = c.get("cin"), cout = c.get("cout");
  return {hw, cin, cout, std::log(hw * hw * (cin + cout))};
}
std::vector<double> shuffle_features(const KernelConfig& c) {
  double hw = c.get("hw"), cin = c.get("cin"), groups = c.get("groups");
  return {hw, cin, groups, std::log(hw * hw * cin)};
}
std::vector<double> se_features(const KernelConfig& c) {
  double hw = c.get("hw"), cin = c.get("cin"), mid = c.get("mid");
  return {hw, cin, mid, std::log(hw * hw * cin + 2 * cin * mid)};
}

std::vector<double> matmul_features(const KernelConfig& c) {
  double rows = c.get("rows"), cin = c.get("cin"), cout = c.get("cout");
  return {rows, cin, cout, std::log(rows * cin * cout), std::log((rows * (cin + cout) + cin * cout) * kBytesPerElement)};
}

// A transposed convolution scatters every input pixel through the kernel: hw x hw x cin x cout x
// ks x ks MACs, and an output stride times larger.
std::vector<double> convtranspose_features(const KernelConfig& c) {
  double hw = c.get("hw"), cin = c.get("cin"), cout = c.get("cout"), ks = c.get("ks"), stride = c.get("stride");
  double ho = hw * stride;
  return {hw, cin, cout, ks, stride, std::log(hw * hw * cin * cout * ks * ks),
          std::log((hw * hw * cin + ho * ho * cout + cin * cout * ks * ks) * kBytesPerElement)};
}

// A recurrent layer: seq steps, each a GEMM of [input, hidden] by the gates' weights.
std::vector<double> recurrent_features(const KernelConfig& c) {
  double seq = c.get("seq"), cin = c.get("cin"), cout = c.get("cout");
  return {seq, cin, cout, std::log(seq * cout * (cin + cout))};
}

// ---- work: a config -> MACs, FLOPs, params, bytes for one batch element

double out_hw(const KernelConfig& c) {
  if (c.has("hw_out")) return c.get("hw_out");
  return std::ceil(c.get("hw") / std::max(1.0, c.get_or("stride", 1.0)));
}
// Extra exact fields (w, hw_out, w_out) are set by detection for non-square or unpadded inputs;
// a dataset row has only the schema's fields, and then inputs are square with 'same' padding.
double in_area(const KernelConfig& c) { return c.get("hw") * c.get_or("w", c.get("hw")); }
double out_area(const KernelConfig& c) {
  double h = out_hw(c);
  double w = c.has("w_out") ? c.get("w_out")
                            : (c.has("w") ? std::ceil(c.get("w") / std::max(1.0, c.get_or("stride", 1.0))) : h);
  return h * w;
}

KernelWork conv_work(const KernelConfig& c, const std::string&, std::string_view family) {
  KernelWork w;
  double cin = c.get("cin");
  double cout = family == "dwconv" ? cin : c.get("cout");
  double groups = family == "dwconv" ? cin : c.get_or("groups", 1.0);
  double ks = c.get("ks");
  double k = cin / groups * ks * c.get_or("ks_w", ks);
  w.macs = out_area(c) * k * cout;
  w.params = k * cout + cout;
  w.flops = 2 * w.macs;
  w.bytes = (in_area(c) * cin + out_area(c) * cout + w.params) * kBytesPerElement;
  return w;
}
KernelWork fc_work(const KernelConfig& c, const std::string&, std::string_view) {
  KernelWork w;
  double cin = c.get("cin"), cout = c.get("cout"), rows = c.get_or("rows", 1.0);
  w.macs = rows * cin * cout;
  w.params = cin * cout + cout;
  w.flops = 2 * w.macs;
  w.bytes = (rows * (cin + cout) + w.params) * kBytesPerElement;
  return w;
}
KernelWork convtranspose_work(const KernelConfig& c, const std::string&, std::string_view) {
  KernelWork w;
  double cin = c.get("cin"), cout = c.get("cout"), ks = c.get("ks"), groups = c.get_or("groups", 1.0);
  double hw_out = c.get_or("hw_out", c.get("hw") * c.get("stride"));
  double out = hw_out * c.get_or("w_out", hw_out);
  w.macs = in_area(c) * cin * cout / groups * ks * c.get_or("ks_w", ks);
  w.params = cin * cout / groups * ks * c.get_or("ks_w", ks) + cout;
  w.flops = 2 * w.macs;
  w.bytes = (in_area(c) * cin + out * cout + w.params) * kBytesPerElement;
  return w;
}
KernelWork recurrent_work(const KernelConfig& c, const std::string&, std::string_view family) {
  KernelWork w;
  double gates = family == "lstm" ? 4.0 : 3.0, dirs = c.get_or("directions", 1.0);
  double seq = c.get("seq"), cin = c.get("cin"), hidden = c.get("cout");
  w.macs = seq * dirs * gates * hidden * (cin + hidden);
  w.params = dirs * gates * hidden * (cin + hidden + 2);
  w.flops = 2 * w.macs + seq * dirs * gates * hidden;  // and one gate activation per element
  w.bytes = (seq * (cin + dirs * hidden) + w.params) * kBytesPerElement;
  return w;
}
// One flop per output element; reads the input, writes the output.
KernelWork resize_work(const KernelConfig& c, const std::string&, std::string_view) {
  KernelWork w;
  double cin = c.get("cin"), out = c.has("hw_out") ? out_area(c) : in_area(c);
  w.flops = out * cin;
  w.bytes = (in_area(c) + out) * cin * kBytesPerElement;
  return w;
}
// rows x cin times cin x cout; a_elements and b_elements in the operands.
KernelWork matmul_work(const KernelConfig& c, const std::string&, std::string_view) {
  KernelWork w;
  double rows = c.get("rows"), cin = c.get("cin"), cout = c.get("cout");
  w.macs = rows * cin * cout;
  w.flops = 2 * w.macs;
  w.bytes = (c.get_or("a_elements", rows * cin) + rows * cout + c.get_or("b_elements", cin * cout)) * kBytesPerElement;
  return w;
}
// One flop per element per op they decompose into.
KernelWork layernorm_gelu_work(const KernelConfig& c, const std::string&, std::string_view family) {
  KernelWork w;
  double elements = in_area(c) * c.get("cin");
  w.flops = elements * (family == "layernorm" ? 9.0 : 5.0);
  w.bytes = 2 * elements * kBytesPerElement;
  return w;
}
KernelWork pool_work(const KernelConfig& c, const std::string&, std::string_view) {
  KernelWork w;
  double cin = c.get("cin"), ks = c.get("ks");
  w.flops = out_area(c) * cin * ks * c.get_or("ks_w", ks);
  w.bytes = (in_area(c) + out_area(c)) * cin * kBytesPerElement;
  return w;
}
KernelWork se_work(const KernelConfig& c, const std::string&, std::string_view) {
  KernelWork w;
  double cin = c.get("cin"), mid = c.get("mid"), area = in_area(c);
  w.macs = 2 * cin * mid;
  w.params = 2 * cin * mid + cin + mid;
  w.flops = 2 * w.macs + 2 * area * cin;
  w.bytes = (2 * area * cin + w.params) * kBytesPerElement;
  return w;
}
// concat, channel-shuffle: no arithmetic; read and write every element.
KernelWork copy_work(const KernelConfig& c, const std::string&, std::string_view) {
  KernelWork w;
  double elements = in_area(c) * c.get("cin");
  w.bytes = 2 * elements * kBytesPerElement;
  return w;
}
KernelWork split_work(const KernelConfig& c, const std::string&, std::string_view) {
  KernelWork w;
  w.bytes = in_area(c) * (c.get("cin") + c.get("cout")) * kBytesPerElement;
  return w;
}
KernelWork binary_work(const KernelConfig& c, const std::string&, std::string_view) {
  KernelWork w;
  double elements = in_area(c) * c.get("cin");
  w.flops = elements;
  w.bytes = 3 * elements * kBytesPerElement;
  return w;
}
KernelWork bn_work(const KernelConfig& c, const std::string& kernel_type, std::string_view family) {
  KernelWork w = elementwise_unary_work(c, kernel_type, family);
  if (c.has("hw") && c.has("cin")) w.params = 2 * c.get("cin");
  return w;
}

// ---- config: the graph at a kernel's head unit -> its config

// conv, dwconv, gconv: the input, weight and output of the Conv; exact sizes for work when
// they differ from square, same-padded defaults.
void read_conv(const DetectContext& ctx, const Unit& head, KernelConfig& c) {
  const size_t n0 = head.nodes.front();
  const Node& hn = ctx.node(n0);
  const std::string_view op = head.op;
  const Tensor& x = ctx.shaped(hn.inputs[0], n0);
  const Tensor& w = ctx.shaped(hn.inputs[1], n0);
  const Tensor& y = ctx.shaped(hn.outputs[0], n0);
  if (x.shape.size() != 4 || y.shape.size() != 4)
    throw Error::in_file(ErrorKind::Unsupported, ctx.graph().name,
                         fmt::format("node '{}' (Conv) is not a 2-D convolution on NCHW tensors", hn.name));
  auto strides = hn.attr_ints("strides", {1, 1});
  c.set("hw", static_cast<double>(x.shape[2]));
  c.set("cin", static_cast<double>(x.shape[1]));
  if (op != "dwconv") c.set("cout", static_cast<double>(w.shape[0]));
  c.set("ks", static_cast<double>(w.shape[2]));
  c.set("stride", static_cast<double>(strides.empty() ? 1 : strides[0]));
  if (op == "gconv") {
    int64_t groups = hn.attr_int("group", 1);
    if (groups < 1 || x.shape[1] % groups != 0)
      throw Error::in_file(ctx.graph().name,
                           fmt::format("node '{}' (Conv) has group {}, which does not divide its {} input channels",
                                       hn.name, groups, x.shape[1]));
    c.set("groups", static_cast<double>(groups));
  }
  if (op == "dwconv" && w.shape[0] != x.shape[1]) c.set("cout", static_cast<double>(w.shape[0]));
  if (w.shape[3] != w.shape[2]) c.set("ks_w", static_cast<double>(w.shape[3]));
  if (x.shape[3] != x.shape[2]) c.set("w", static_cast<double>(x.shape[3]));
  c.set("hw_out", static_cast<double>(y.shape[2]));
  if (y.shape[3] != y.shape[2] || x.shape[3] != x.shape[2]) c.set("w_out", static_cast<double>(y.shape[3]));
  if (x.shape[0] > 1) c.set("batch", static_cast<double>(x.shape[0]));
}

void read_fc(const DetectContext& ctx, const Unit& head, KernelConfig& c) {
  const size_t n0 = head.nodes.front();
  const Node& hn = ctx.node(n0);
  const Tensor& x = ctx.shaped(hn.inputs[0], n0);
  const Tensor& w = ctx.shaped(hn.inputs[1], n0);
  if (w.shape.size() != 2 || x.shape.empty())
    throw Error::in_file(ErrorKind::Unsupported, ctx.graph().name,
                         fmt::format("node '{}' ({}) is not a 2-D fully connected layer", hn.name, hn.op));
  bool trans_b = hn.op == "Gemm" && hn.attr_int("transB", 0) != 0;
  c.set("cin", static_cast<double>(trans_b ? w.shape[1] : w.shape[0]));
  c.set("cout", static_cast<double>(trans_b ? w.shape[0] : w.shape[1]));
  double rows = 1;
  for (size_t d = 0; d + 1 < x.shape.size(); ++d) rows *= static_cast<double>(x.shape[d]);
  if (rows > 1) c.set("rows", rows);
}

void read_convtranspose(const DetectContext& ctx, const Unit& head, KernelConfig& c) {
  const size_t n0 = head.nodes.front();
  const Node& hn = ctx.node(n0);
  const Tensor& x = ctx.shaped(hn.inputs[0], n0);
  const Tensor& w = ctx.shaped(hn.inputs[1], n0);
  const Tensor& y = ctx.shaped(hn.outputs[0], n0);
  if (x.shape.size() != 4 || y.shape.size() != 4)
    throw Error::in_file(
        ErrorKind::Unsupported, ctx.graph().name,
        fmt::format("node '{}' (ConvTranspose) is not a 2-D transposed convolution on NCHW tensors", hn.name));
  int64_t groups = hn.attr_int("group", 1);
  auto strides = hn.attr_ints("strides", {1, 1});
  c.set("hw", static_cast<double>(x.shape[2]));
  c.set("cin", static_cast<double>(x.shape[1]));
  c.set("cout", static_cast<double>(y.shape[1]));
  c.set("ks", static_cast<double>(w.shape[2]));
  c.set("stride", static_cast<double>(strides.empty() ? 1 : strides[0]));
  if (groups > 1) c.set("groups", static_cast<double>(groups));
  if (w.shape[3] != w.shape[2]) c.set("ks_w", static_cast<double>(w.shape[3]));
  if (x.shape[3] != x.shape[2]) c.set("w", static_cast<double>(x.shape[3]));
  c.set("hw_out", static_cast<double>(y.shape[2]));
  c.set("w_out", static_cast<double>(y.shape[3]));
  if (x.shape[0] > 1) c.set("batch", static_cast<double>(x.shape[0]));
}

// X: (seq, batch, input), W: (directions, gates x hidden, input).
void read_recurrent(const DetectContext& ctx, const Unit& head, KernelConfig& c) {
  const size_t n0 = head.nodes.front();
  const Node& hn = ctx.node(n0);
  const std::string_view op = head.op;
  const Tensor& x = ctx.shaped(hn.inputs[0], n0);
  const Tensor& w = ctx.shaped(hn.inputs[1], n0);
  int64_t gates = op == "lstm" ? 4 : 3;
  c.set("seq", static_cast<double>(x.shape[0]));
  c.set("cin", static_cast<double>(x.shape[2]));
  c.set("cout", static_cast<double>(w.shape[1] / gates));  // NOLINT(bugprone-integer-division): gates divide it
  if (w.shape[0] > 1) c.set("directions", static_cast<double>(w.shape[0]));
  if (x.shape[1] > 1) c.set("batch", static_cast<double>(x.shape[1]));
}

void read_resize(const DetectContext& ctx, const Unit& head, KernelConfig& c) {
  const size_t n0 = head.nodes.front();
  const Node& hn = ctx.node(n0);
  ctx.set_activation(c, ctx.shaped(hn.inputs[0], n0));
  const Tensor& y = ctx.shaped(hn.outputs[0], n0);
  if (y.shape.size() == 4) {
    c.set("hw_out", static_cast<double>(y.shape[2]));
    c.set("w_out", static_cast<double>(y.shape[3]));
  }
}

// (..., M, K) x (..., K, N), the batch dims broadcast against each other.
void read_matmul(const DetectContext& ctx, const Unit& head, KernelConfig& c) {
  const size_t n0 = head.nodes.front();
  const Node& hn = ctx.node(n0);
  const Tensor& a = ctx.shaped(hn.inputs[0], n0);
  const Tensor& b = ctx.shaped(hn.inputs[1], n0);
  const size_t ra = a.shape.size(), rb = b.shape.size(), batch_rank = std::max(ra, rb) - 2;
  double rows = static_cast<double>(a.shape[ra - 2]), a_elements = 1, b_elements = 1;
  for (size_t d = 0; d < batch_rank; ++d) {
    int64_t da = d + ra >= batch_rank + 2 ? a.shape[d + ra - batch_rank - 2] : 1;
    int64_t db = d + rb >= batch_rank + 2 ? b.shape[d + rb - batch_rank - 2] : 1;
    rows *= static_cast<double>(std::max(da, db));
  }
  for (auto d : a.shape) a_elements *= static_cast<double>(d);
  for (auto d : b.shape) b_elements *= static_cast<double>(d);
  c.set("rows", rows);
  c.set("cin", static_cast<double>(a.shape.back()));
  c.set("cout", static_cast<double>(b.shape.back()));
  c.set("b_elements", b_elements);
  if (a_elements != rows * static_cast<double>(a.shape.back())) c.set("a_elements", a_elements);  // a broadcast
}

void read_pool(const DetectContext& ctx, const Unit& head, KernelConfig& c) {
  const size_t n0 = head.nodes.front();
  const Node& hn = ctx.node(n0);
  const Tensor& x = ctx.shaped(hn.inputs[0], n0);
  const Tensor& y = ctx.shaped(hn.outputs[0], n0);
  ctx.set_activation(c, x);
  auto ks = hn.attr_ints("kernel_shape", {1, 1});
  auto strides = hn.attr_ints("strides", {1, 1});
  c.set("ks", static_cast<double>(ks.empty() ? 1 : ks[0]));
  c.set("stride", static_cast<double>(strides.empty() ? 1 : strides[0]));
  if (ks.size() > 1 && ks[1] != ks[0]) c.set("ks_w", static_cast<double>(ks[1]));
  if (y.shape.size() == 4) {
    c.set("hw_out", static_cast<double>(y.shape[2]));
    if (y.shape[3] != y.shape[2] || c.has("w")) c.set("w_out", static_cast<double>(y.shape[3]));
  }
}

void read_concat(const DetectContext& ctx, const Unit& head, KernelConfig& c) {
  const size_t n0 = head.nodes.front();
  const Node& hn = ctx.node(n0);
  const Tensor& y = ctx.shaped(hn.outputs[0], n0);
  ctx.set_activation(c, y);
  c.set("inputs", static_cast<double>(hn.inputs.size()));
}

void read_split(const DetectContext& ctx, const Unit& head, KernelConfig& c) {
  const size_t n0 = head.nodes.front();
  const Node& hn = ctx.node(n0);
  ctx.set_activation(c, ctx.shaped(hn.inputs[0], n0));
  double cout = 0;
  for (const auto& out : hn.outputs) {
    if (out.empty()) continue;
    const Tensor& y = ctx.shaped(out, n0);
    cout += y.shape.size() >= 2 ? static_cast<double>(y.shape[1]) : 1.0;
  }
  c.set("cout", cout);
}

// A unit's config from the shape of the activation it reads (or writes). A binary element-wise
// op works on its output's elements whichever operand is broadcast (x * p and p * x, p a
// per-channel scale, are the same kernel). Of other:X units, only a known shape is read.
void read_activation_of(const DetectContext& ctx, const Unit& head, KernelConfig& c, bool binary, bool other) {
  const size_t n0 = head.nodes.front();
  std::string t = binary && !head.output.empty() ? head.output : head.input.empty() ? head.output : head.input;
  const Tensor* x = ctx.graph().find_tensor(t);
  // An op deepen knows nothing of keeps no activation when its tensor's shape is unknown.
  if ((x && x->shape_known) || !other) ctx.set_activation(c, ctx.shaped(t, n0));
}
void read_activation(const DetectContext& ctx, const Unit& head, KernelConfig& c) {
  read_activation_of(ctx, head, c, false, false);
}
void read_binary(const DetectContext& ctx, const Unit& head, KernelConfig& c) {
  read_activation_of(ctx, head, c, true, false);
}
// A block's input activation (channel-shuffle, se); its matcher adds the rest.
void read_block_input(const DetectContext& ctx, const Unit& head, KernelConfig& c) {
  ctx.set_activation(c, ctx.shaped(head.input, head.nodes.front()));
}

// ---- normalisation: whether a node of the row's ONNX ops is of the family

// conv (group 1), dwconv (group = input channels, one input channel per group) or gconv (any
// other group) for a Conv with a 4-D weight; empty for other Convs (1-D, 3-D).
std::string_view conv_kind(const DetectContext& ctx, const Node& n) {
  const Tensor* w = n.inputs.size() > 1 ? ctx.graph().find_tensor(n.inputs[1]) : nullptr;
  if (!w || !w->shape_known || w->shape.size() != 4) return {};
  const Tensor* x = ctx.graph().find_tensor(n.inputs[0]);
  int64_t group = n.attr_int("group", 1);
  int64_t cin = (x && x->shape_known && x->shape.size() == 4) ? x->shape[1] : w->shape[1] * group;
  if (group == 1) return "conv";
  if (group == cin && w->shape[1] == 1) return "dwconv";
  return "gconv";
}
bool is_conv(const DetectContext& ctx, const Node& n) { return conv_kind(ctx, n) == "conv"; }
bool is_gconv(const DetectContext& ctx, const Node& n) { return conv_kind(ctx, n) == "gconv"; }
bool is_dwconv(const DetectContext& ctx, const Node& n) { return conv_kind(ctx, n) == "dwconv"; }
// Gemm by a constant, MatMul by a 2-D constant.
bool is_fc(const DetectContext& ctx, const Node& n) {
  if (n.op == "Gemm") return n.inputs.size() > 1 && ctx.is_const(n.inputs[1]);
  const Tensor* w = n.inputs.size() > 1 ? ctx.graph().find_tensor(n.inputs[1]) : nullptr;
  return w && w->is_constant && w->shape.size() == 2;
}
// Two activations (attention's Q K^T and A V): a batched matrix product.
bool is_matmul(const DetectContext& ctx, const Node& n) {
  const Tensor* w = n.inputs.size() > 1 ? ctx.graph().find_tensor(n.inputs[1]) : nullptr;
  const Tensor* a = ctx.graph().find_tensor(n.inputs[0]);
  return a && w && a->shape_known && w->shape_known && a->shape.size() >= 2 && w->shape.size() >= 2;
}
// Relu, or Clip(0, inf).
bool is_relu(const DetectContext& ctx, const Node& n) {
  if (n.op == "Relu") return true;
  auto [lo, hi] = ctx.clip_bounds(n);
  return lo == 0.0 && std::isinf(hi);
}
bool is_relu6(const DetectContext& ctx, const Node& n) { return ctx.is_relu6(n); }
// GlobalAveragePool, or a ReduceMean over H and W (of NCHW or NHWC), or over the tokens of a
// (batch, tokens, width) sequence: a transformer's average pooling.
bool is_global_avgpool(const DetectContext& ctx, const Node& n) {
  if (n.op == "GlobalAveragePool") return true;
  auto axes = n.attr_ints("axes");
  const Tensor* x = ctx.graph().find_tensor(n.inputs[0]);
  if (x && x->shape.size() == 4 && axes.size() == 2) {
    std::sort(axes.begin(), axes.end());
    if ((axes[0] == 2 || axes[0] == -2) && (axes[1] == 3 || axes[1] == -1)) return true;
    if (axes[0] == -2 && axes[1] == -1) return true;
    if ((axes[0] == 1 || axes[0] == -3) && (axes[1] == 2 || axes[1] == -2)) return true;  // NHWC
  }
  return x && x->shape.size() == 3 && axes.size() == 1 && (axes[0] == 1 || axes[0] == -2);
}
// The families below need shapes that a model may leave open; without them a node stays other:.
bool known(const DetectContext& ctx, const Node& n, size_t k, bool output = false) {
  const auto& names = output ? n.outputs : n.inputs;
  const Tensor* t = k < names.size() ? ctx.graph().find_tensor(names[k]) : nullptr;
  return t && t->shape_known;
}
bool is_convtranspose(const DetectContext& ctx, const Node& n) {
  const Tensor* w = n.inputs.size() > 1 ? ctx.graph().find_tensor(n.inputs[1]) : nullptr;
  return known(ctx, n, 0) && known(ctx, n, 0, true) && w && w->shape_known && w->shape.size() == 4;
}
bool is_resize(const DetectContext& ctx, const Node& n) { return known(ctx, n, 0) && known(ctx, n, 0, true); }
bool is_recurrent(const DetectContext& ctx, const Node& n) {
  const Tensor* x = ctx.graph().find_tensor(n.inputs[0]);
  const Tensor* w = n.inputs.size() > 1 ? ctx.graph().find_tensor(n.inputs[1]) : nullptr;
  return x && w && x->shape_known && w->shape_known && x->shape.size() == 3 && w->shape.size() == 3 &&
         n.attr_int("layout", 0) == 0;
}
// Slice, or a constant index into an activation (x[:, 0], x[:, -1]): it selects part of it.
bool is_slice(const DetectContext& ctx, const Node& n) {
  if (n.op == "Slice") return true;
  return n.inputs.size() == 2 && ctx.is_const(n.inputs[1]) && !ctx.is_const(n.inputs[0]) && known(ctx, n, 0) &&
         known(ctx, n, 0, true);
}

const std::vector<std::string> kActivationFeatures = {"hw", "cin", "log_elements"};
const std::vector<std::string> kHwCin = {"hw", "cin"};

}  // namespace

void read_other_config(const DetectContext& ctx, const Unit& head, KernelConfig& c) {
  read_activation_of(ctx, head, c, false, true);
}

KernelWork elementwise_unary_work(const KernelConfig& c, const std::string& kernel_type, std::string_view family) {
  KernelWork w;
  if (!(c.has("hw") && c.has("cin"))) return w;
  double elements = in_area(c) * c.get("cin");
  // One flop per element per op: the head op (whose name may hold a '-') and each fused op after it.
  size_t ops = std::count(kernel_type.begin() + static_cast<std::ptrdiff_t>(family.size()), kernel_type.end(), '-') + 1;
  w.flops = elements * static_cast<double>(ops);
  w.bytes = 2 * elements * kBytesPerElement;
  return w;
}

const std::vector<KernelFamily>& kernel_families() {
  // An element-wise family: hw and cin, one FLOP per element.
  using Work = KernelWork (*)(const KernelConfig&, const std::string&, std::string_view);
  auto unary = [](const char* name, std::vector<std::string_view> ops, auto accepts,
                  Work work = elementwise_unary_work) {
    return KernelFamily{{name, kHwCin, kActivationFeatures, activation_features}, std::move(ops), accepts,
                        read_activation, work};
  };
  auto binary = [](const char* name, std::vector<std::string_view> ops) {
    return KernelFamily{{name, kHwCin, kActivationFeatures, activation_features}, std::move(ops), nullptr,
                        read_binary, binary_work};
  };
  using Accepts = bool (*)(const DetectContext&, const Node&);
  const Accepts any = nullptr;
  // clang-format off
  static const std::vector<KernelFamily> table = {
      // {name, config fields, feature names, features}, ONNX ops, accepts, config, work[, rows hold the batch]
      {{"conv", {"hw", "cin", "cout", "ks", "stride"}, kConvLikeFeatureNames, conv_features},
       {"Conv"}, is_conv, read_conv, conv_work},
      {{"gconv", {"hw", "cin", "cout", "ks", "stride", "groups"}, kConvLikeFeatureNames, gconv_features},
       {"Conv"}, is_gconv, read_conv, conv_work},
      {{"dwconv", {"hw", "cin", "ks", "stride"}, {"hw", "cin", "ks", "stride", "hw_out", "log_macs", "log_bytes"},
        dwconv_features},
       {"Conv"}, is_dwconv, read_conv, conv_work},
      {{"fc", {"cin", "cout"}, {"cin", "cout", "log_macs", "log_bytes"}, fc_features},
       {"Gemm", "MatMul"}, is_fc, read_fc, fc_work, true},
      {{"maxpool", {"hw", "cin", "ks", "stride"}, {"hw", "cin", "ks", "stride", "hw_out", "log_ops", "log_elements"},
        pool_features},
       {"MaxPool"}, any, read_pool, pool_work},
      {{"avgpool", {"hw", "cin", "ks", "stride"}, {"hw", "cin", "ks", "stride", "hw_out", "log_ops", "log_elements"},
        pool_features},
       {"AveragePool"}, any, read_pool, pool_work},
      unary("global-avgpool", {"GlobalAveragePool", "ReduceMean"}, is_global_avgpool),
      unary("bn", {"BatchNormalization"}, any, bn_work),
      unary("relu", {"Relu", "Clip"}, is_relu),
      unary("relu6", {"Clip"}, is_relu6),
      unary("hswish", {"HardSwish"}, any),        // and x * HardSigmoid(x) ... (matchers/hswish.cpp)
      unary("hsigmoid", {"HardSigmoid"}, any),    // and its decomposed form (matchers/hsigmoid.cpp)
      unary("sigmoid", {"Sigmoid"}, any),
      unary("swish", {}, any),                    // x * Sigmoid(x) (matchers/hswish.cpp)
      unary("pad", {"Pad"}, any),
      unary("softmax", {"Softmax", "LogSoftmax"}, any),
      unary("tanh", {"Tanh"}, any),
      unary("leakyrelu", {"LeakyRelu"}, any),
      unary("prelu", {"PRelu"}, any),
      unary("elu", {"Elu"}, any),
      binary("add", {"Add", "Sum"}),
      binary("sub", {"Sub"}),
      binary("div", {"Div"}),
      binary("mul", {"Mul"}),
      {{"concat", {"hw", "cin", "inputs"}, {"hw", "cin", "inputs", "log_elements"}, concat_features},
       {"Concat"}, any, read_concat, copy_work},
      {{"split", {"hw", "cin", "cout"}, {"hw", "cin", "cout", "log_elements"}, split_features},
       {"Split"}, any, read_split, split_work},
      {{"slice", {"hw", "cin", "cout"}, {"hw", "cin", "cout", "log_elements"}, split_features},
       {"Slice", "Gather"}, is_slice, read_split, split_work},
      {{"channel-shuffle", {"hw", "cin", "groups"}, {"hw", "cin", "groups", "log_elements"}, shuffle_features},
       {}, any, read_block_input, copy_work},         // matchers/channel_shuffle.cpp
      {{"se", {"hw", "cin", "mid"}, {"hw", "cin", "mid", "log_elements"}, se_features},
       {}, any, read_block_input, se_work},           // matchers/se.cpp
      {{"layernorm", kHwCin, kActivationFeatures, activation_features},
       {"LayerNormalization"}, any, read_activation, layernorm_gelu_work},  // and matchers/layernorm.cpp
      {{"gelu", kHwCin, kActivationFeatures, activation_features},
       {}, any, read_activation, layernorm_gelu_work},  // matchers/gelu.cpp
      {{"matmul", {"rows", "cin", "cout"}, {"rows", "cin", "cout", "log_macs", "log_bytes"}, matmul_features},
       {"MatMul"}, is_matmul, read_matmul, matmul_work, true},
      {{"convtranspose", {"hw", "cin", "cout", "ks", "stride"},
        {"hw", "cin", "cout", "ks", "stride", "log_macs", "log_bytes"}, convtranspose_features},
       {"ConvTranspose"}, is_convtranspose, read_convtranspose, convtranspose_work},
      {{"resize", kHwCin, kActivationFeatures, activation_features},
       {"Resize", "Upsample"}, is_resize, read_resize, resize_work},
      {{"lstm", {"seq", "cin", "cout"}, {"seq", "cin", "cout", "log_macs"}, recurrent_features},
       {"LSTM"}, is_recurrent, read_recurrent, recurrent_work},
      {{"gru", {"seq", "cin", "cout"}, {"seq", "cin", "cout", "log_macs"}, recurrent_features},
       {"GRU"}, is_recurrent, read_recurrent, recurrent_work},
  };
  // clang-format on
  return table;
}

const KernelFamily* find_family(std::string_view name) {
  static const auto by_name = [] {
    std::unordered_map<std::string_view, const KernelFamily*> m;
    for (const auto& f : kernel_families()) m.emplace(f.schema.family, &f);
    return m;
  }();
  auto it = by_name.find(name);
  return it == by_name.end() ? nullptr : it->second;
}

const std::vector<const KernelFamily*>& families_of_op(std::string_view op) {
  static const auto by_op = [] {
    std::unordered_map<std::string_view, std::vector<const KernelFamily*>> m;
    for (const auto& f : kernel_families())
      for (auto o : f.onnx_ops) m[o].push_back(&f);
    return m;
  }();
  static const std::vector<const KernelFamily*> none;
  auto it = by_op.find(op);
  return it == by_op.end() ? none : it->second;
}

}  // namespace detect
}  // namespace deepen
