#include <deepen/error.h>
#include <deepen/schema.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace deepen {
namespace {

constexpr double kBytesPerElement = 4.0;  // fp32

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

const std::vector<KernelSchema>& schemas() {
  static const std::vector<KernelSchema> table = {
      {"conv", {"hw", "cin", "cout", "ks", "stride"}, kConvLikeFeatureNames, conv_features},
      {"gconv", {"hw", "cin", "cout", "ks", "stride", "groups"}, kConvLikeFeatureNames, gconv_features},
      {"dwconv", {"hw", "cin", "ks", "stride"},
       {"hw", "cin", "ks", "stride", "hw_out", "log_macs", "log_bytes"}, dwconv_features},
      {"fc", {"cin", "cout"}, {"cin", "cout", "log_macs", "log_bytes"}, fc_features},
      {"maxpool", {"hw", "cin", "ks", "stride"},
       {"hw", "cin", "ks", "stride", "hw_out", "log_ops", "log_elements"}, pool_features},
      {"avgpool", {"hw", "cin", "ks", "stride"},
       {"hw", "cin", "ks", "stride", "hw_out", "log_ops", "log_elements"}, pool_features},
      {"global-avgpool", {"hw", "cin"}, {"hw", "cin", "log_elements"}, activation_features},
      {"bn", {"hw", "cin"}, {"hw", "cin", "log_elements"}, activation_features},
      {"relu", {"hw", "cin"}, {"hw", "cin", "log_elements"}, activation_features},
      {"relu6", {"hw", "cin"}, {"hw", "cin", "log_elements"}, activation_features},
      {"hswish", {"hw", "cin"}, {"hw", "cin", "log_elements"}, activation_features},
      {"hsigmoid", {"hw", "cin"}, {"hw", "cin", "log_elements"}, activation_features},
      {"sigmoid", {"hw", "cin"}, {"hw", "cin", "log_elements"}, activation_features},
      {"swish", {"hw", "cin"}, {"hw", "cin", "log_elements"}, activation_features},
      {"pad", {"hw", "cin"}, {"hw", "cin", "log_elements"}, activation_features},
      {"softmax", {"hw", "cin"}, {"hw", "cin", "log_elements"}, activation_features},
      {"tanh", {"hw", "cin"}, {"hw", "cin", "log_elements"}, activation_features},
      {"leakyrelu", {"hw", "cin"}, {"hw", "cin", "log_elements"}, activation_features},
      {"prelu", {"hw", "cin"}, {"hw", "cin", "log_elements"}, activation_features},
      {"elu", {"hw", "cin"}, {"hw", "cin", "log_elements"}, activation_features},
      {"add", {"hw", "cin"}, {"hw", "cin", "log_elements"}, activation_features},
      {"sub", {"hw", "cin"}, {"hw", "cin", "log_elements"}, activation_features},
      {"div", {"hw", "cin"}, {"hw", "cin", "log_elements"}, activation_features},
      {"mul", {"hw", "cin"}, {"hw", "cin", "log_elements"}, activation_features},
      {"concat", {"hw", "cin", "inputs"}, {"hw", "cin", "inputs", "log_elements"}, concat_features},
      {"split", {"hw", "cin", "cout"}, {"hw", "cin", "cout", "log_elements"}, split_features},
      {"slice", {"hw", "cin", "cout"}, {"hw", "cin", "cout", "log_elements"}, split_features},
      {"channel-shuffle", {"hw", "cin", "groups"}, {"hw", "cin", "groups", "log_elements"}, shuffle_features},
      {"se", {"hw", "cin", "mid"}, {"hw", "cin", "mid", "log_elements"}, se_features},
      {"layernorm", {"hw", "cin"}, {"hw", "cin", "log_elements"}, activation_features},
      {"gelu", {"hw", "cin"}, {"hw", "cin", "log_elements"}, activation_features},
      {"matmul", {"rows", "cin", "cout"}, {"rows", "cin", "cout", "log_macs", "log_bytes"}, matmul_features},
      {"convtranspose", {"hw", "cin", "cout", "ks", "stride"},
       {"hw", "cin", "cout", "ks", "stride", "log_macs", "log_bytes"}, convtranspose_features},
      {"resize", {"hw", "cin"}, {"hw", "cin", "log_elements"}, activation_features},
      {"lstm", {"seq", "cin", "cout"}, {"seq", "cin", "cout", "log_macs"}, recurrent_features},
      {"gru", {"seq", "cin", "cout"}, {"seq", "cin", "cout", "log_macs"}, recurrent_features},
  };
  return table;
}

std::string family_of(const std::string& type) {
  for (const char* multi : {"global-avgpool", "channel-shuffle"})
    if (type.rfind(multi, 0) == 0) return multi;
  return type.substr(0, type.find('-'));
}

}  // namespace

const std::vector<KernelSchema>& all_schemas() { return schemas(); }

std::string kernel_family(const std::string& kernel_type) { return family_of(kernel_type); }

const std::vector<std::string>& optional_config_fields() {
  static const std::vector<std::string> fields = {"hw_out", "w", "w_out", "ks_w", "groups", "stride",
                                                  "rows", "directions", "b_elements"};
  return fields;
}

const KernelSchema* find_schema(const std::string& kernel_type) {
  if (kernel_type.rfind("other:", 0) == 0) return nullptr;
  std::string family = family_of(kernel_type);
  for (const auto& s : schemas())
    if (s.family == family) return &s;
  return nullptr;
}

std::vector<std::string> known_kernel_types() {
  std::vector<std::string> types;
  for (const auto& s : schemas()) types.push_back(s.family);
  return types;
}

std::string kernel_type_problem(const std::string& type) {
  const std::string family = family_of(type);
  if (!find_schema(type)) return fmt::format("'{}' is not a kernel family", family);
  // The ops fused after the head, each a family name (multi-word ones whole).
  std::string rest = type.substr(family.size());
  while (!rest.empty()) {
    if (rest[0] != '-') return fmt::format("'{}' does not split into ops at '-'", type);
    rest.erase(0, 1);
    std::string part = family_of(rest);
    if (part.empty() || !find_schema(part)) return fmt::format("'{}' is not an op a kernel can fuse", part);
    rest.erase(0, part.size());
  }
  return "";
}

std::vector<double> kernel_features(const std::string& kernel_type, const KernelConfig& config) {
  const KernelSchema* s = find_schema(kernel_type);
  if (!s) throw Error(fmt::format("kernel type '{}' has no feature schema", kernel_type));
  for (const auto& f : s->config_fields) {
    if (!config.has(f))
      throw Error(fmt::format("kernel type '{}' needs config field '{}'", kernel_type, f));
    double v = config.get(f);
    if (!std::isfinite(v) || v <= 0)
      throw Error(fmt::format("kernel type '{}': config field '{}' must be a positive number, not {}", kernel_type,
                              f, v));
  }
  return s->features(config);
}

KernelWork kernel_work(const std::string& kernel_type, const KernelConfig& c) {
  KernelWork w;
  const std::string family_name = family_of(kernel_type);
  const std::string_view family = family_name;  // compared with many literals: a view compares sizes first
  const double e = kBytesPerElement;
  if (family == "conv" || family == "gconv" || family == "dwconv") {
    double cin = c.get("cin");
    double cout = family == "dwconv" ? cin : c.get("cout");
    double groups = family == "dwconv" ? cin : c.get_or("groups", 1.0);
    double ks = c.get("ks");
    double k = cin / groups * ks * c.get_or("ks_w", ks);
    w.macs = out_area(c) * k * cout;
    w.params = k * cout + cout;
    w.flops = 2 * w.macs;
    w.bytes = (in_area(c) * cin + out_area(c) * cout + w.params) * e;
  } else if (family == "fc") {
    double cin = c.get("cin"), cout = c.get("cout"), rows = c.get_or("rows", 1.0);
    w.macs = rows * cin * cout;
    w.params = cin * cout + cout;
    w.flops = 2 * w.macs;
    w.bytes = (rows * (cin + cout) + w.params) * e;
  } else if (family == "convtranspose") {
    double cin = c.get("cin"), cout = c.get("cout"), ks = c.get("ks"), groups = c.get_or("groups", 1.0);
    double hw_out = c.get_or("hw_out", c.get("hw") * c.get("stride"));
    double out = hw_out * c.get_or("w_out", hw_out);
    w.macs = in_area(c) * cin * cout / groups * ks * c.get_or("ks_w", ks);
    w.params = cin * cout / groups * ks * c.get_or("ks_w", ks) + cout;
    w.flops = 2 * w.macs;
    w.bytes = (in_area(c) * cin + out * cout + w.params) * e;
  } else if (family == "lstm" || family == "gru") {
    double gates = family == "lstm" ? 4.0 : 3.0, dirs = c.get_or("directions", 1.0);
    double seq = c.get("seq"), cin = c.get("cin"), hidden = c.get("cout");
    w.macs = seq * dirs * gates * hidden * (cin + hidden);
    w.params = dirs * gates * hidden * (cin + hidden + 2);
    w.flops = 2 * w.macs + seq * dirs * gates * hidden;  // and one gate activation per element
    w.bytes = (seq * (cin + dirs * hidden) + w.params) * e;
  } else if (family == "resize") {  // one flop per output element; reads the input, writes the output
    double cin = c.get("cin"), out = c.has("hw_out") ? out_area(c) : in_area(c);
    w.flops = out * cin;
    w.bytes = (in_area(c) + out) * cin * e;
  } else if (family == "matmul") {  // rows x cin times cin x cout; a_elements and b_elements in the operands
    double rows = c.get("rows"), cin = c.get("cin"), cout = c.get("cout");
    w.macs = rows * cin * cout;
    w.flops = 2 * w.macs;
    w.bytes = (c.get_or("a_elements", rows * cin) + rows * cout + c.get_or("b_elements", cin * cout)) * e;
  } else if (family == "layernorm" || family == "gelu") {  // one flop per element per op they decompose into
    double elements = in_area(c) * c.get("cin");
    w.flops = elements * (family == "layernorm" ? 9.0 : 5.0);
    w.bytes = 2 * elements * e;
  } else if (family == "maxpool" || family == "avgpool") {
    double cin = c.get("cin"), ks = c.get("ks");
    w.flops = out_area(c) * cin * ks * c.get_or("ks_w", ks);
    w.bytes = (in_area(c) + out_area(c)) * cin * e;
  } else if (family == "se") {
    double cin = c.get("cin"), mid = c.get("mid"), area = in_area(c);
    w.macs = 2 * cin * mid;
    w.params = 2 * cin * mid + cin + mid;
    w.flops = 2 * w.macs + 2 * area * cin;
    w.bytes = (2 * area * cin + w.params) * e;
  } else if (family == "concat" || family == "channel-shuffle") {
    double elements = in_area(c) * c.get("cin");
    w.bytes = 2 * elements * e;
  } else if (family == "split" || family == "slice") {
    w.bytes = in_area(c) * (c.get("cin") + c.get("cout")) * e;
  } else if (family == "add" || family == "mul" || family == "sub" || family == "div") {
    double elements = in_area(c) * c.get("cin");
    w.flops = elements;
    w.bytes = 3 * elements * e;
  } else if (c.has("hw") && c.has("cin")) {  // unary element-wise and global pooling
    double elements = in_area(c) * c.get("cin");
    // One flop per element per op: the head op (whose name may hold a '-') and each fused op after it.
    size_t ops = std::count(kernel_type.begin() + static_cast<std::ptrdiff_t>(family.size()), kernel_type.end(), '-') + 1;
    w.flops = elements * static_cast<double>(ops);
    w.bytes = 2 * elements * e;
    if (family == "bn") w.params = 2 * c.get("cin");
  }
  return w;
}

}  // namespace deepen
