// Single-kernel models: one kernel of a type and config, built so that detect_kernels with the
// default fusion rules finds exactly that kernel with that config. Spatial layers use 'same'
// padding (output ceil(hw / stride)), which is what the feature schema assumes.
#include <deepen/error.h>
#include <deepen/schema.h>
#include <deepen/zoo.h>

#include "zoo/graph_builder.h"

#include <fmt/format.h>

#include <cmath>
#include <set>

namespace deepen {
namespace {

const std::vector<std::string> kMultiWord = {"global-avgpool", "channel-shuffle"};

std::vector<std::string> split_chain(const std::string& type) {
  std::vector<std::string> ops;
  size_t pos = 0;
  while (pos < type.size()) {
    bool matched = false;
    for (const auto& w : kMultiWord)
      if (type.compare(pos, w.size(), w) == 0 && (pos + w.size() == type.size() || type[pos + w.size()] == '-')) {
        ops.push_back(w);
        pos += w.size() + 1;
        matched = true;
        break;
      }
    if (matched) continue;
    size_t dash = type.find('-', pos);
    ops.push_back(type.substr(pos, dash == std::string::npos ? std::string::npos : dash - pos));
    pos = dash == std::string::npos ? type.size() : dash + 1;
  }
  return ops;
}

std::string join(const std::vector<std::string>& ops) {
  std::string s;
  for (const auto& op : ops) s += (s.empty() ? "" : "-") + op;
  return s;
}

// 'Same' padding {top, left, bottom, right} for a window ks at stride on a square input hw.
std::vector<int64_t> same_pads(int64_t hw, int64_t ks, int64_t stride) {
  int64_t out = (hw + stride - 1) / stride;
  int64_t total = std::max<int64_t>(0, (out - 1) * stride + ks - hw);
  int64_t begin = total / 2, end = total - begin;
  return {begin, begin, end, end};
}

}  // namespace

std::vector<std::string> zoo_kernel_types() {
  // Transformer, segmentation and recurrent kernels are detected in exported models and scored by the
  // fallback; the zoo does not build them (nor profile them) yet.
  const std::set<std::string> not_built = {"layernorm", "gelu",          "matmul", "convtranspose",
                                             "resize",    "lstm",          "gru"};
  std::vector<std::string> types;
  for (const auto& t : known_kernel_types())
    if (!not_built.count(t)) types.push_back(t);
  for (const auto& chain : default_fusion_rules().chains) types.push_back(join(chain));
  std::set<std::string> seen;
  std::vector<std::string> unique;
  for (const auto& t : types)
    if (seen.insert(t).second) unique.push_back(t);
  return unique;
}

KernelConfig parse_kernel_config(const std::string& text) {
  KernelConfig config;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string item = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    pos = comma == std::string::npos ? text.size() + 1 : comma + 1;
    if (item.empty()) continue;
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0)
      throw Error(fmt::format("kernel config '{}': '{}' is not NAME=VALUE (e.g. hw=56,cin=64,cout=128,ks=3,stride=1)",
                              text, item));
    std::string name = item.substr(0, eq), value = item.substr(eq + 1);
    char* end = nullptr;
    double v = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || !std::isfinite(v))
      throw Error(fmt::format("kernel config '{}': the value of '{}' ('{}') is not a number", text, name, value));
    if (config.has(name)) throw Error(fmt::format("kernel config '{}': '{}' is given twice", text, name));
    config.set(name, v);
  }
  return config;
}

Graph build_kernel_model(const std::string& kernel_type, const KernelConfig& config) {
  std::vector<std::string> ops = split_chain(kernel_type);
  const KernelSchema* schema = ops.empty() ? nullptr : find_schema(ops[0]);
  bool known = false;
  for (const auto& t : zoo_kernel_types()) known = known || t == kernel_type;
  if (!schema || schema->family != ops[0] || !known) {
    std::string list;
    for (const auto& t : zoo_kernel_types()) list += (list.empty() ? "" : ", ") + t;
    throw Error(fmt::format("unknown kernel type '{}'; the zoo builds: {}", kernel_type, list));
  }
  // Every field of the schema, positive whole numbers, and nothing else.
  std::map<std::string, int64_t> f;
  for (const auto& name : schema->config_fields) {
    if (!config.has(name)) {
      std::string fields;
      for (const auto& n : schema->config_fields) fields += (fields.empty() ? "" : ",") + n + "=N";
      throw Error(fmt::format("kernel config for '{}' lacks field '{}'; give {}", kernel_type, name, fields));
    }
    double v = config.get(name);
    if (v < 1 || v != std::floor(v) || v > 1e6)
      throw Error(fmt::format("kernel config for '{}': '{}' must be a positive whole number, not {}", kernel_type,
                              name, v));
    f[name] = static_cast<int64_t>(v);
  }
  for (const auto& [name, value] : config.fields)
    if (!f.count(name))
      throw Error(fmt::format("kernel config for '{}': '{}' is not one of its fields ({})", kernel_type, name,
                              join(schema->config_fields)));
  auto bad = [&](const std::string& why) {
    return Error(fmt::format("kernel config for '{}' is impossible: {}", kernel_type, why));
  };
  const std::string& head = ops[0];
  int64_t hw = f.count("hw") ? f["hw"] : 1, cin = f["cin"];
  if (f.count("stride") && f["stride"] > hw)
    throw bad(fmt::format("stride {} is larger than the input ({}x{})", f["stride"], hw, hw));
  if (hw * hw * cin > int64_t{1} << 31) throw bad("the input tensor is too large");

  zoo::GraphBuilder b(kernel_type);
  Shape act_shape = {1, cin, hw, hw};
  std::string x = head == "fc" ? b.input("input", {1, cin}) : b.input("input", act_shape);
  std::string y;
  if (head == "conv" || head == "dwconv" || head == "gconv") {
    int64_t ks = f["ks"], stride = f["stride"];
    int64_t cout = head == "dwconv" ? cin : f["cout"];
    int64_t groups = head == "conv" ? 1 : head == "dwconv" ? cin : f["groups"];
    if (head == "gconv") {
      if (cin % groups != 0 || cout % groups != 0)
        throw bad(fmt::format("cin {} and cout {} must both be divisible by groups {}", cin, cout, groups));
      if (groups == 1) throw bad("groups 1 is a dense conv (use a conv kernel type)");
      if (groups == cin) throw bad(fmt::format("groups {} equal to cin is a depthwise conv (use dwconv)", groups));
    }
    if (ks > 2 * hw + 1) throw bad(fmt::format("kernel size {} is larger than the padded input ({})", ks, hw));
    y = b.conv_pads(x, cout, ks, stride, groups, false, same_pads(hw, ks, stride));
  } else if (head == "fc") {
    y = b.fc(x, f["cout"]);
  } else if (head == "maxpool" || head == "avgpool") {
    int64_t ks = f["ks"], stride = f["stride"];
    if (ks > hw) throw bad(fmt::format("pooling window {} is larger than the input ({})", ks, hw));
    y = b.pool_pads(head == "maxpool" ? "MaxPool" : "AveragePool", x, ks, stride, same_pads(hw, ks, stride), false);
  } else if (head == "global-avgpool") {
    y = b.global_avgpool(x);
  } else if (head == "bn") {
    y = b.bn(x);
  } else if (head == "softmax") {
    y = b.softmax(x);
  } else if (head == "pad") {
    y = b.pad(x, {1, 1, 1, 1});
  } else if (head == "add" || head == "mul" || head == "sub" || head == "div") {
    std::string x2 = b.input("input2", act_shape);
    y = head == "add" ? b.add(x, x2) : head == "mul" ? b.mul(x, x2) : b.binary(head == "sub" ? "Sub" : "Div", x, x2);
  } else if (head == "concat") {
    int64_t n = f["inputs"];
    if (n < 2 || n > cin) throw bad(fmt::format("inputs must be 2 to cin ({}), not {}", cin, n));
    // The output has cin channels, shared out among the inputs.
    std::vector<std::string> xs;
    b = zoo::GraphBuilder(kernel_type);
    for (int64_t i = 0; i < n; ++i) {
      int64_t c = cin / n + (i < cin % n ? 1 : 0);
      xs.push_back(b.input(i == 0 ? "input" : fmt::format("input{}", i + 1), {1, c, hw, hw}));
    }
    y = b.concat(xs);
  } else if (head == "split") {
    if (f["cout"] != cin) throw bad(fmt::format("a split covers all channels: cout must equal cin ({})", cin));
    if (cin < 2) throw bad("a split needs at least 2 channels");
    auto parts = b.split(x, {cin / 2, cin - cin / 2});
    b.output(parts[0]);
    b.output(parts[1]);
    return b.take();
  } else if (head == "slice") {
    if (f["cout"] > cin) throw bad(fmt::format("cout {} is more than cin {}", f["cout"], cin));
    y = b.slice_channels(x, 0, f["cout"]);
  } else if (head == "channel-shuffle") {
    int64_t g = f["groups"];
    if (g < 2 || cin % g != 0) throw bad(fmt::format("cin {} must be divisible by groups {} (at least 2)", cin, g));
    y = b.channel_shuffle(x, g);
  } else if (head == "se") {
    y = b.se(x, f["mid"]);
  } else {
    y = b.act(x, head);  // relu, relu6, hswish, hsigmoid, sigmoid, swish
  }
  for (size_t i = 1; i < ops.size(); ++i) y = ops[i] == "bn" ? b.bn(y) : b.act(y, ops[i]);
  b.output(y);
  return b.take();
}

}  // namespace deepen
