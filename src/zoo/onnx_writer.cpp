// Graph -> ONNX ModelProto (opset 13) with seeded random weights. Every tensor's shape is
// declared (inputs, outputs and value_info), so the file needs no inference to be read.
#include <deepen/error.h>
#include <deepen/zoo.h>

#include "zoo/prng.h"

#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <unordered_set>

namespace deepen {
namespace {

constexpr int64_t kOpset = 13;
// OpenCV's DNN module (4.6, Debian 12) reads Clip only in its opset-6 form, with min and max as
// attributes. A graph with a Clip (relu6) is therefore written at opset 10, where Clip, Split
// and Pad take their constant arguments as attributes; every other graph at opset 13.
constexpr int64_t kClipOpset = 10;
constexpr double kMaxModelBytes = 2e9;  // protobuf cannot hold more than 2 GiB

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Uniform values in [lo, hi) as little-endian floats. The role of a weight, told by its name's
// suffix, picks the range: BN variances and scales stay positive, and conv and fc weights get
// He-uniform ranges so that a runtime computes finite numbers through a deep network.
void fill_random(const Tensor& t, uint64_t seed, std::string* raw) {
  size_t n = 1;
  for (auto d : t.shape) n *= static_cast<size_t>(d);
  double lo, hi;
  if (ends_with(t.name, ".var") || ends_with(t.name, ".scale")) {
    lo = 0.5, hi = 1.0;
  } else if (ends_with(t.name, ".mean") || ends_with(t.name, ".bias") || ends_with(t.name, ".b")) {
    lo = -0.1, hi = 0.1;
  } else {
    double fan_in = 1;
    for (size_t i = 1; i < t.shape.size(); ++i) fan_in *= static_cast<double>(t.shape[i]);
    double a = std::sqrt(3.0 / fan_in);
    lo = -a, hi = a;
  }
  raw->resize(n * 4);
  char* out = raw->data();
  uint64_t state = seed ^ zoo::stable_hash(t.name);
  const float scale = static_cast<float>(hi - lo), offset = static_cast<float>(lo);
  size_t i = 0;
  auto to_unit = [](uint32_t bits) {
    uint32_t u = (bits >> 9) | 0x3F800000u;  // [1, 2)
    float f;
    std::memcpy(&f, &u, 4);
    return f - 1.0f;
  };
  for (; i + 1 < n; i += 2) {
    uint64_t r = zoo::splitmix64(state);
    float a = offset + scale * to_unit(static_cast<uint32_t>(r));
    float b = offset + scale * to_unit(static_cast<uint32_t>(r >> 32));
    std::memcpy(out + i * 4, &a, 4);
    std::memcpy(out + i * 4 + 4, &b, 4);
  }
  if (i < n) {
    float a = offset + scale * to_unit(static_cast<uint32_t>(zoo::splitmix64(state)));
    std::memcpy(out + i * 4, &a, 4);
  }
}

void set_shape(onnx::ValueInfoProto* vi, const Tensor& t) {
  vi->set_name(t.name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(t.elem_type);
  auto* shape = tt->mutable_shape();
  for (auto d : t.shape) shape->add_dim()->set_dim_value(d);
}

void set_attribute(onnx::AttributeProto* a, const std::string& name, const AttrValue& value) {
  a->set_name(name);
  if (auto* i = std::get_if<int64_t>(&value)) {
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(*i);
  } else if (auto* f = std::get_if<double>(&value)) {
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(static_cast<float>(*f));
  } else if (auto* s = std::get_if<std::string>(&value)) {
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(*s);
  } else if (auto* is = std::get_if<std::vector<int64_t>>(&value)) {
    a->set_type(onnx::AttributeProto::INTS);
    for (auto v : *is) a->add_ints(v);
  } else if (auto* fs = std::get_if<std::vector<double>>(&value)) {
    a->set_type(onnx::AttributeProto::FLOATS);
    for (auto v : *fs) a->add_floats(static_cast<float>(v));
  }
}

void set_initializer(onnx::TensorProto* init, const Tensor& t, uint64_t seed) {
  init->set_name(t.name);
  for (auto d : t.shape) init->add_dims(d);
  if (t.has_int_values) {
    init->set_data_type(onnx::TensorProto::INT64);
    for (auto v : t.int_values) init->add_int64_data(v);
    return;
  }
  init->set_data_type(onnx::TensorProto::FLOAT);
  if (t.has_float_values) {
    std::string raw(t.float_values.size() * 4, '\0');
    for (size_t i = 0; i < t.float_values.size(); ++i) {
      float f = static_cast<float>(t.float_values[i]);
      std::memcpy(raw.data() + i * 4, &f, 4);
    }
    init->set_raw_data(std::move(raw));
    return;
  }
  std::string raw;
  fill_random(t, seed, &raw);
  init->set_raw_data(std::move(raw));
}

// The opset-10 form of a node: constant arguments of Clip, Split and Pad become attributes.
Node lowered(const Graph& graph, const Node& n) {
  if (n.op == "Softmax" && graph.tensor(n.inputs[0]).shape.size() > 2)
    throw Error(fmt::format("{}: internal error: a 4-D Softmax cannot be written at opset {}", graph.name,
                            kClipOpset));
  if (n.op != "Clip" && n.op != "Split" && n.op != "Pad") return n;
  Node out = n;
  auto values = [&](size_t i) -> const Tensor& { return graph.tensor(n.inputs.at(i)); };
  if (n.op == "Clip") {
    out.attrs["min"] = values(1).float_values.at(0);
    out.attrs["max"] = values(2).float_values.at(0);
  } else if (n.op == "Split") {
    out.attrs["split"] = values(1).int_values;
  } else {
    out.attrs["pads"] = values(1).int_values;
  }
  out.inputs.resize(1);
  return out;
}

onnx::ModelProto to_model(const Graph& graph, uint64_t seed) {
  double bytes = 0;
  for (const auto& [name, t] : graph.tensors) {
    if (!t.is_constant) continue;
    double n = 4;
    for (auto d : t.shape) n *= static_cast<double>(d);
    bytes += n;
  }
  if (bytes > kMaxModelBytes)
    throw Error(fmt::format("{}: the model's weights take {:.2f} GB; an ONNX file holds at most 2 GB", graph.name,
                            bytes / 1e9));
  bool legacy = false;
  for (const auto& n : graph.nodes) legacy = legacy || n.op == "Clip";
  onnx::ModelProto model;
  model.set_ir_version(legacy ? 5 : 7);
  model.set_producer_name("deepen zoo");
  model.set_producer_version(DEEPEN_VERSION);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(legacy ? kClipOpset : kOpset);
  onnx::GraphProto* g = model.mutable_graph();
  g->set_name(graph.name);
  for (const auto& in : graph.inputs) set_shape(g->add_input(), graph.tensor(in));
  std::unordered_set<std::string> declared(graph.inputs.begin(), graph.inputs.end());
  std::unordered_set<std::string> outputs(graph.outputs.begin(), graph.outputs.end());
  for (const auto& source : graph.nodes) {
    const Node& n = legacy ? lowered(graph, source) : source;
    onnx::NodeProto* node = g->add_node();
    node->set_name(n.name);
    node->set_op_type(n.op);
    if (!n.domain.empty()) node->set_domain(n.domain);
    for (const auto& in : n.inputs) {
      node->add_input(in);
      if (in.empty() || declared.count(in)) continue;
      const Tensor& t = graph.tensor(in);
      if (t.is_constant) set_initializer(g->add_initializer(), t, seed);
      declared.insert(in);
    }
    for (const auto& out : n.outputs) {
      node->add_output(out);
      if (!outputs.count(out)) set_shape(g->add_value_info(), graph.tensor(out));
      declared.insert(out);
    }
    for (const auto& [key, value] : n.attrs) set_attribute(node->add_attribute(), key, value);
  }
  for (const auto& out : graph.outputs) {
    const Tensor& t = graph.tensor(out);
    if (t.is_constant && !declared.count(out)) set_initializer(g->add_initializer(), t, seed);
    set_shape(g->add_output(), t);
  }
  return model;
}

}  // namespace

std::string serialize_onnx(const Graph& graph, uint64_t seed) {
  std::string bytes;
  if (!to_model(graph, seed).SerializeToString(&bytes))
    throw Error(fmt::format("{}: the model could not be serialised as ONNX", graph.name));
  return bytes;
}

void write_onnx(const Graph& graph, const std::string& path, uint64_t seed) {
  onnx::ModelProto model = to_model(graph, seed);
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(fmt::format("{}: cannot write the file (does the folder exist, and may you write there?)", path));
    if (!model.SerializeToOstream(&out) || !out.flush()) {
      out.close();
      std::remove(tmp.c_str());
      throw Error(fmt::format("{}: error while writing the model (disk full?)", path));
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw Error(fmt::format("{}: cannot write the file ({})", path, ec.message()));
  }
}

}  // namespace deepen
