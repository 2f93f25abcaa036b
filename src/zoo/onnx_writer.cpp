// Graph -> ONNX ModelProto (opset 13) with seeded random weights. Every tensor's shape is
// declared (inputs, outputs and value_info), so the file needs no inference to be read. The
// random weights never exist as one copy in memory: they are drawn piece by piece into the
// sink's buffer while the file is written.
#include <deepen/error.h>
#include <deepen/zoo.h>

#include "zoo/byte_sink.h"
#include "zoo/prng.h"

#include <fmt/format.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <unordered_set>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

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

size_t element_count(const Tensor& t) {
  size_t n = 1;
  for (auto d : t.shape) n *= static_cast<size_t>(d);
  return n;
}

// Uniform values in [lo, hi) as little-endian floats, drawn straight into the sink. The role
// of a weight, told by its name's suffix, picks the range: BN variances and scales stay
// positive, and conv and fc weights get He-uniform ranges so that a runtime computes finite
// numbers through a deep network.
void put_random(const Tensor& t, uint64_t seed, zoo::ByteSink& out) {
  size_t n = element_count(t);
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
  uint64_t state = seed ^ zoo::stable_hash(t.name);
  const float scale = static_cast<float>(hi - lo), offset = static_cast<float>(lo);
  while (n > 0) {
    size_t room;
    char* p = out.room(&room);
    size_t k = std::min(n, room / 4);
    if (k < n) k &= ~size_t{1};  // pieces of whole draws
    zoo::uniform_floats(state, offset, scale, k, p);
    out.commit(k * 4);
    n -= k;
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

// Returns whether the tensor's values are weights (random or zeros): those are left out here
// and written by write_model straight into the file.
bool set_initializer(onnx::TensorProto* init, const Tensor& t) {
  init->set_name(t.name);
  for (auto d : t.shape) init->add_dims(d);
  if (t.has_int_values) {
    init->set_data_type(onnx::TensorProto::INT64);
    for (auto v : t.int_values) init->add_int64_data(v);
    return false;
  }
  init->set_data_type(onnx::TensorProto::FLOAT);
  if (t.has_float_values) {
    std::string raw(t.float_values.size() * 4, '\0');
    for (size_t i = 0; i < t.float_values.size(); ++i) {
      float f = static_cast<float>(t.float_values[i]);
      std::memcpy(raw.data() + i * 4, &f, 4);
    }
    init->set_raw_data(std::move(raw));
    return false;
  }
  return true;
}

// The opset-10 form of a node: constant arguments of Clip, Split and Pad become attributes.
Node lowered(const Graph& graph, const Node& n) {
  if (n.op == "Softmax" && graph.tensor(n.inputs[0]).shape.size() > 2)
    throw Error(ErrorKind::Internal,
                fmt::format("{}: internal error: a 4-D Softmax cannot be written at opset {}", graph.name, kClipOpset));
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

// The model without the values of its weights; random[i] is the tensor whose values initializer
// i lacks, or null.
struct Skeleton {
  onnx::ModelProto model;
  std::vector<const Tensor*> random;
};

Skeleton to_model(const Graph& graph) {
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
  Skeleton skeleton;
  onnx::ModelProto& model = skeleton.model;
  auto initializer = [&](onnx::GraphProto* g, const Tensor& t) {
    skeleton.random.push_back(set_initializer(g->add_initializer(), t) ? &t : nullptr);
  };
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
      if (t.is_constant) initializer(g, t);
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
    if (t.is_constant && !declared.count(out)) initializer(g, t);
    set_shape(g->add_output(), t);
  }
  return skeleton;
}

// Writes the model in protobuf's wire format, in the field order protobuf itself serialises,
// so the bytes are those SerializeToString would give for the whole model. Everything but the
// random weights is serialised by protobuf in pieces; each random initializer is written as its
// serialised header (dims, data type, name) followed by field 9, raw_data, drawn straight into
// the sink.
void write_model(const Graph& graph, uint64_t seed, ZooWeights weights, zoo::ByteSink& out) {
  Skeleton skeleton = to_model(graph);
  onnx::ModelProto& head = skeleton.model;  // fields 1-3 once graph and opset_import are moved out
  onnx::GraphProto nodes;                   // fields 1-2 once the rest is moved out
  nodes.Swap(head.mutable_graph());
  head.clear_graph();
  onnx::ModelProto tail;  // field 8
  tail.mutable_opset_import()->Swap(head.mutable_opset_import());
  onnx::GraphProto inits, values;  // field 5; fields 11-13
  inits.mutable_initializer()->Swap(nodes.mutable_initializer());
  values.mutable_input()->Swap(nodes.mutable_input());
  values.mutable_output()->Swap(nodes.mutable_output());
  values.mutable_value_info()->Swap(nodes.mutable_value_info());

  constexpr uint8_t kModelGraph = (7 << 3) | 2, kGraphInitializer = (5 << 3) | 2, kTensorRawData = (9 << 3) | 2;
  std::string head_bytes = head.SerializeAsString(), nodes_bytes = nodes.SerializeAsString();
  std::string values_bytes = values.SerializeAsString(), tail_bytes = tail.SerializeAsString();
  std::vector<std::string> init_headers;
  std::vector<uint64_t> init_sizes;
  uint64_t graph_size = nodes_bytes.size() + values_bytes.size();
  for (int i = 0; i < inits.initializer_size(); ++i) {
    init_headers.push_back(inits.initializer(i).SerializeAsString());
    uint64_t size = init_headers.back().size();
    if (const Tensor* t = skeleton.random[static_cast<size_t>(i)]) {
      uint64_t raw = element_count(*t) * 4;
      size += 1 + zoo::varint_size(raw) + raw;
    }
    init_sizes.push_back(size);
    graph_size += 1 + zoo::varint_size(size) + size;
  }
  out.expect(head_bytes.size() + 1 + zoo::varint_size(graph_size) + graph_size + tail_bytes.size());
  out.put(head_bytes.data(), head_bytes.size());
  out.put_byte(kModelGraph);
  out.put_varint(graph_size);
  out.put(nodes_bytes.data(), nodes_bytes.size());
  for (size_t i = 0; i < init_headers.size(); ++i) {
    out.put_byte(kGraphInitializer);
    out.put_varint(init_sizes[i]);
    out.put(init_headers[i].data(), init_headers[i].size());
    if (const Tensor* t = skeleton.random[i]) {
      out.put_byte(kTensorRawData);
      out.put_varint(element_count(*t) * 4);
      if (weights == ZooWeights::Random) {
        put_random(*t, seed, out);
      } else {
        out.put_zeros(element_count(*t) * 4);
      }
    }
  }
  out.put(values_bytes.data(), values_bytes.size());
  out.put(tail_bytes.data(), tail_bytes.size());
  out.finish();
}

}  // namespace

ZooWeights parse_zoo_weights(const std::string& text) {
  if (text == "random") return ZooWeights::Random;
  if (text == "zeros") return ZooWeights::Zeros;
  throw Error(fmt::format("unknown weights '{}': give random or zeros", text));
}

std::string serialize_onnx(const Graph& graph, uint64_t seed, ZooWeights weights) {
  std::string bytes;
  zoo::ByteSink sink(&bytes);
  write_model(graph, seed, weights, sink);
  return bytes;
}

void write_onnx(const Graph& graph, const std::string& path, uint64_t seed, ZooWeights weights) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::file_status status = fs::status(path, ec);
  if (!ec && fs::is_directory(status)) throw Error(fmt::format("{}: is a folder; give a file name to write to", path));
  // /dev/null, a FIFO: nothing to replace, and no temporary file can sit beside it.
  bool direct = !ec && fs::exists(status) && !fs::is_regular_file(status);
  std::string target = direct ? path : path + ".tmp";
  int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0)
    throw Error(fmt::format("{}: cannot write the file ({}; does the folder exist, and may you write there?)", path,
                            std::strerror(errno)));
  try {
    zoo::ByteSink sink(fd, path);
    write_model(graph, seed, weights, sink);
  } catch (...) {
    ::close(fd);
    if (!direct) std::remove(target.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    int err = errno;
    if (!direct) std::remove(target.c_str());
    throw Error(fmt::format("{}: error while writing the model ({}; disk full?)", path, std::strerror(err)));
  }
  if (direct) return;
  fs::rename(target, path, ec);
  if (ec) {
    std::remove(target.c_str());
    throw Error(fmt::format("{}: cannot write the file ({})", path, ec.message()));
  }
}

}  // namespace deepen
