// ONNX file -> Graph: parse, resolve input shapes, infer shapes (deepen's own, else ONNX's), convert, fold.
#include <deepen/error.h>
#include <deepen/graph.h>

#include "graph/folding.h"
#include "graph/onnx_shape_inference.h"
#include "graph/opsets.h"
#include "graph/payload_stripper.h"
#include "graph/shape_inference.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <onnx/defs/schema.h>
#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>
#include <unordered_set>

namespace deepen {
namespace {

constexpr size_t kMaxIntValues = 64;  // integer constants larger than this are weights, not shapes

bool known_elem_type(int32_t t) { return t >= 1 && t <= 16 && t != 8; /* 8 = STRING */ }

// The file's bytes without large tensor payloads, into `stripped` (a buffer the caller reuses).
// The file is read around its weights, which are never read.
void read_model_file(const std::string& path, std::string& stripped) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw Error::in_file(
        path, fmt::format("cannot open the file ({}); does it exist, and may you read it?", std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw Error::in_file(path, "not a regular file");
  }
  if (st.st_size == 0) {
    ::close(fd);
    throw Error::in_file(path, "the file is empty; expected an ONNX model");
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (!strip_tensor_payloads_from_file(fd, size, stripped)) {
    // Not well-formed: the whole file, unchanged, for the parser to refuse.
    stripped.resize(size);
    size_t done = 0;
    while (done < size) {
      ssize_t n = ::pread(fd, stripped.data() + done, size - done, static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        std::string why = n < 0 ? std::strerror(errno) : "it is shorter than its size";
        ::close(fd);
        throw Error::in_file(path, fmt::format("cannot read the file ({})", why));
      }
      done += static_cast<size_t>(n);
    }
  }
  ::close(fd);
}

Shape dims_of(const onnx::TensorShapeProto& shape, bool* known) {
  Shape result;
  result.reserve(static_cast<size_t>(shape.dim_size()));
  *known = true;
  for (const auto& d : shape.dim()) {
    if (d.has_dim_value()) {
      result.push_back(d.dim_value());
    } else {
      result.push_back(-1);
      *known = false;
    }
  }
  return result;
}

double half_to_double(uint16_t h) {
  const int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  const double sign = (h & 0x8000) ? -1.0 : 1.0;
  if (exponent == 0) return sign * std::ldexp(mantissa, -24);
  if (exponent == 31) return mantissa ? std::nan("") : sign * HUGE_VAL;
  return sign * std::ldexp(mantissa + 1024, exponent - 25);
}

void read_int_values(const onnx::TensorProto& t, Tensor& out) {
  if (t.data_location() == onnx::TensorProto::EXTERNAL) return;
  int64_t count = 1;
  for (auto d : t.dims()) {
    if (d < 0 || d > static_cast<int64_t>(kMaxIntValues)) return;
    count *= d;
    if (count > static_cast<int64_t>(kMaxIntValues)) return;  // before many dims overflow it
  }
  if (count > static_cast<int64_t>(kMaxIntValues)) return;
  std::vector<int64_t> values;
  values.reserve(static_cast<size_t>(count));
  if (t.data_type() == onnx::TensorProto::INT64) {
    if (t.has_raw_data()) {
      const std::string& raw = t.raw_data();
      if (raw.size() != static_cast<size_t>(count) * 8) return;
      for (int64_t i = 0; i < count; ++i) {
        int64_t v = 0;
        for (int b = 7; b >= 0; --b) v = (v << 8) | static_cast<unsigned char>(raw[i * 8 + b]);
        values.push_back(v);
      }
    } else {
      if (t.int64_data_size() != count) return;
      values.assign(t.int64_data().begin(), t.int64_data().end());
    }
  } else if (t.data_type() == onnx::TensorProto::INT32) {
    if (t.has_raw_data()) {
      const std::string& raw = t.raw_data();
      if (raw.size() != static_cast<size_t>(count) * 4) return;
      for (int64_t i = 0; i < count; ++i) {
        uint32_t v = 0;
        for (int b = 3; b >= 0; --b) v = (v << 8) | static_cast<unsigned char>(raw[i * 4 + b]);
        values.push_back(static_cast<int32_t>(v));
      }
    } else {
      if (t.int32_data_size() != count) return;
      values.assign(t.int32_data().begin(), t.int32_data().end());
    }
  } else if (t.data_type() == onnx::TensorProto::FLOAT || t.data_type() == onnx::TensorProto::DOUBLE) {
    const bool is_float = t.data_type() == onnx::TensorProto::FLOAT;
    std::vector<double> floats;
    floats.reserve(static_cast<size_t>(count));
    if (t.has_raw_data()) {
      const std::string& raw = t.raw_data();
      size_t width = is_float ? 4 : 8;
      if (raw.size() != static_cast<size_t>(count) * width) return;
      for (int64_t i = 0; i < count; ++i) {
        if (is_float) {
          float f;
          std::memcpy(&f, raw.data() + i * 4, 4);
          floats.push_back(f);
        } else {
          double d;
          std::memcpy(&d, raw.data() + i * 8, 8);
          floats.push_back(d);
        }
      }
    } else if (is_float && t.float_data_size() == count) {
      floats.assign(t.float_data().begin(), t.float_data().end());
    } else if (!is_float && t.double_data_size() == count) {
      floats.assign(t.double_data().begin(), t.double_data().end());
    } else {
      return;
    }
    out.float_values = std::move(floats);
    out.has_float_values = true;
    return;
  } else if (t.data_type() == onnx::TensorProto::FLOAT16) {  // fp16-converted models' Clip bounds
    std::vector<double> floats;
    if (t.has_raw_data()) {
      const std::string& raw = t.raw_data();
      if (raw.size() != static_cast<size_t>(count) * 2) return;
      for (int64_t i = 0; i < count; ++i)
        floats.push_back(half_to_double(static_cast<uint16_t>(static_cast<unsigned char>(raw[i * 2]) |
                                                              static_cast<unsigned char>(raw[i * 2 + 1]) << 8)));
    } else if (t.int32_data_size() == count) {  // ONNX keeps fp16 bit patterns in int32_data
      for (auto bits : t.int32_data()) floats.push_back(half_to_double(static_cast<uint16_t>(bits)));
    } else {
      return;
    }
    out.float_values = std::move(floats);
    out.has_float_values = true;
    return;
  } else {
    return;
  }
  out.int_values = std::move(values);
  out.has_int_values = true;
}

Tensor constant_tensor(const std::string& name, const onnx::TensorProto& t, const std::string& where) {
  Tensor tensor;
  tensor.name = name;
  tensor.is_constant = true;
  tensor.shape_known = true;
  tensor.elem_type = t.data_type();
  tensor.shape.reserve(static_cast<size_t>(t.dims_size()));
  for (auto d : t.dims()) {
    if (d < 0) throw Error::in_file(where, fmt::format("constant '{}' has a negative dimension ({})", name, d));
    tensor.shape.push_back(d);
  }
  read_int_values(t, tensor);
  return tensor;
}

AttrValue convert_attribute(const onnx::AttributeProto& a) {
  switch (a.type()) {
    case onnx::AttributeProto::INT: return a.i();
    case onnx::AttributeProto::FLOAT: return static_cast<double>(a.f());
    case onnx::AttributeProto::STRING: return a.s();
    case onnx::AttributeProto::INTS: return std::vector<int64_t>(a.ints().begin(), a.ints().end());
    case onnx::AttributeProto::FLOATS: return std::vector<double>(a.floats().begin(), a.floats().end());
    default: return std::string("<unsupported attribute type>");
  }
}

// An input as a user would name it in --input-shape: name:1x3xHxW (a symbolic dim by its name,
// an unknown one as ?).
std::string describe_input(const onnx::ValueInfoProto& input) {
  std::string dims;
  if (input.type().has_tensor_type() && input.type().tensor_type().has_shape())
    for (const auto& d : input.type().tensor_type().shape().dim())
      dims += (dims.empty() ? "" : "x") +
              (d.has_dim_value() ? std::to_string(d.dim_value()) : d.has_dim_param() ? d.dim_param() : "?");
  return fmt::format("{}:{}", input.name(), dims.empty() ? "no shape" : dims);
}

// Sets concrete dims on the graph inputs before shape inference: --input-shape overrides, the
// batch dimension (axis 0) when symbolic, and an error for any other symbolic dimension.
void resolve_inputs(onnx::GraphProto& g, const std::unordered_set<std::string_view>& initializer_names,
                    const LoadOptions& options, const std::string& label) {
  // A name the model does not have is refused first, naming the inputs it has.
  for (const auto& override_entry : options.input_shapes) {
    const std::string& name = override_entry.first;  // a structured binding cannot be captured in C++17
    if (!std::any_of(g.input().begin(), g.input().end(), [&](const onnx::ValueInfoProto& in) {
          return in.name() == name && !initializer_names.count(in.name());
        })) {
      std::string inputs;
      for (const auto& input : g.input())
        if (!initializer_names.count(input.name()))
          inputs += fmt::format("{}{}", inputs.empty() ? "" : ", ", describe_input(input));
      throw Error::in_file(
          label, fmt::format("--input-shape names '{}', which is not an input of this model (its inputs: {})", name,
                             inputs.empty() ? "none" : inputs));
    }
  }
  for (auto& input : *g.mutable_input()) {
    if (initializer_names.count(input.name())) continue;
    if (!input.type().has_tensor_type())
      throw Error::in_file(
          ErrorKind::Unsupported, label,
          fmt::format("input '{}' is not a tensor (sequences, maps and optionals are not supported)", input.name()));
    auto* tt = input.mutable_type()->mutable_tensor_type();
    if (!known_elem_type(tt->elem_type()))
      throw Error::in_file(
          ErrorKind::Unsupported, label,
          fmt::format("input '{}' has an unknown or unsupported element type ({})", input.name(), tt->elem_type()));
    auto override_it = options.input_shapes.find(input.name());
    if (override_it != options.input_shapes.end()) {
      auto* shape = tt->mutable_shape();
      if (tt->has_shape() && shape->dim_size() > 0 &&
          static_cast<size_t>(shape->dim_size()) != override_it->second.size())
        throw Error::in_file(
            label, fmt::format("--input-shape {} gives {} dimensions, but input '{}' has {} ({})", input.name(),
                               override_it->second.size(), input.name(), shape->dim_size(), describe_input(input)));
      shape->clear_dim();
      for (auto d : override_it->second) shape->add_dim()->set_dim_value(d);
      continue;
    }
    if (!tt->has_shape())
      throw Error::in_file(label, fmt::format("input '{}' has no shape; give one with --input-shape {}:1x3x224x224",
                                              input.name(), input.name()));
    auto* shape = tt->mutable_shape();
    for (int axis = 0; axis < shape->dim_size(); ++axis) {
      auto* d = shape->mutable_dim(axis);
      if (d->has_dim_value() && d->dim_value() > 0) continue;
      if (d->has_dim_value())
        throw Error::in_file(
            label, fmt::format("input '{}' has dimension {} at axis {}; every dimension must be positive", input.name(),
                               d->dim_value(), axis));
      if (axis == 0) {
        d->set_dim_value(options.default_batch);
        continue;
      }
      std::string what = d->has_dim_param() ? fmt::format("symbolic dimension '{}'", d->dim_param())
                                            : std::string("an unknown dimension");
      throw Error::in_file(
          label,
          fmt::format(
              "input '{}' has {} at axis {}; give its size with --input-shape {}:DIMS (for example {}:1x3x224x224)",
              input.name(), what, axis, input.name(), input.name()));
    }
  }
}

// Node input and output counts against the op's schema: the detector reads a Conv's first two
// inputs without asking, and a damaged file must be refused here with a message instead.
void check_arity(const onnx::GraphProto& g, int64_t opset, const std::string& label) {
  auto range = [](int lo, int hi) {
    return hi == std::numeric_limits<int>::max() ? fmt::format("{} or more", lo)
                                                 : lo == hi ? fmt::format("{}", lo) : fmt::format("{} to {}", lo, hi);
  };
  for (int i = 0; i < g.node_size(); ++i) {
    const auto& n = g.node(i);
    if (!n.domain().empty() && n.domain() != "ai.onnx") continue;
    const onnx::OpSchema* schema = onnx::OpSchemaRegistry::Schema(n.op_type(), static_cast<int>(opset), "");
    if (!schema) continue;
    std::string name = n.name().empty() ? fmt::format("{}_{}", n.op_type(), i) : n.name();
    if (n.input_size() < schema->min_input() || n.input_size() > schema->max_input())
      throw Error::in_file(
          label,
          fmt::format("node '{}' ({}) has {} inputs, but {} takes {} (the file is damaged or not valid ONNX)", name,
                      n.op_type(), n.input_size(), n.op_type(), range(schema->min_input(), schema->max_input())));
    if (n.output_size() < schema->min_output() || n.output_size() > schema->max_output())
      throw Error::in_file(
          label,
          fmt::format("node '{}' ({}) has {} outputs, but {} gives {} (the file is damaged or not valid ONNX)", name,
                      n.op_type(), n.output_size(), n.op_type(), range(schema->min_output(), schema->max_output())));
  }
}

// ONNX's data propagation carries the values of small integer tensors through Concat, Gather,
// Shape...; a chain of Concats doubles them at every node (20 nodes of a 64-value constant:
// 67 million values, gigabytes). Bound the lengths first, in the order ONNX visits the nodes,
// and propagate only when they stay small; our own folding does the rest.
bool data_propagation_is_bounded(const onnx::GraphProto& g) {
  constexpr uint64_t kLimit = 4096, kCap = uint64_t{1} << 40;
  uint64_t max_rank = 8;
  for (const auto* list : {&g.input(), &g.value_info(), &g.output()})
    for (const auto& v : *list)
      if (v.type().has_tensor_type())
        max_rank = std::max<uint64_t>(max_rank, static_cast<uint64_t>(v.type().tensor_type().shape().dim_size()));
  std::unordered_map<std::string, uint64_t> length;
  auto length_of_tensor = [&](const onnx::TensorProto& t) -> uint64_t {
    if (t.dims_size() != 1) return 1;
    return t.dims(0) < 0 ? 0 : std::min<uint64_t>(static_cast<uint64_t>(t.dims(0)), kCap);
  };
  for (const auto& init : g.initializer()) length[init.name()] = length_of_tensor(init);
  for (const auto& n : g.node()) {
    uint64_t out = 1, sum = 0;
    for (const auto& in : n.input()) {
      auto it = length.find(in);
      uint64_t l = it == length.end() ? max_rank : it->second;
      out = std::max(out, l);
      sum = std::min(kCap, sum + l);
    }
    if (n.op_type() == "Concat") out = sum;
    if (n.op_type() == "Shape") out = max_rank;
    if (n.op_type() == "Constant")
      for (const auto& a : n.attribute())
        if (a.has_t()) out = length_of_tensor(a.t());
    if (out > kLimit) return false;
    for (const auto& o : n.output()) length[o] = out;
  }
  return true;
}

// The model as a Graph, nodes in file order, with the shapes the file and any shape inference
// run on it give; neither sorted nor folded.
Graph convert(const onnx::ModelProto& model, const std::string& label, int64_t opset) {
  const onnx::GraphProto& g = model.graph();
  std::unordered_set<std::string_view> initializer_names;
  for (const auto& init : g.initializer()) initializer_names.insert(init.name());
  Graph graph;
  graph.name = label;
  graph.opset = opset;
  graph.tensors.reserve(static_cast<size_t>(g.initializer_size() + g.input_size() + g.value_info_size() +
                                            g.output_size() + g.node_size()));

  auto add_value_info = [&](const onnx::ValueInfoProto& vi) {
    Tensor t;
    t.name = vi.name();
    if (vi.type().has_tensor_type()) {
      const auto& tt = vi.type().tensor_type();
      t.elem_type = tt.elem_type();
      if (tt.has_shape()) t.shape = dims_of(tt.shape(), &t.shape_known);
    }
    auto it = graph.tensors.find(t.name);
    if (it == graph.tensors.end()) graph.tensors.emplace(t.name, std::move(t));
    else if (!it->second.shape_known && t.shape_known) it->second = std::move(t);
  };
  for (const auto& init : g.initializer())
    graph.tensors[init.name()] = constant_tensor(init.name(), init, label);
  for (const auto& in : g.input()) {
    if (initializer_names.count(in.name())) continue;
    add_value_info(in);
    graph.inputs.push_back(in.name());
  }
  for (const auto& vi : g.value_info()) add_value_info(vi);
  for (const auto& out : g.output()) {
    add_value_info(out);
    graph.outputs.push_back(out.name());
  }

  graph.nodes.reserve(g.node_size());
  for (int i = 0; i < g.node_size(); ++i) {
    const auto& n = g.node(i);
    Node node;
    node.name = n.name().empty() ? fmt::format("{}_{}", n.op_type(), i) : n.name();
    node.op = n.op_type();
    node.domain = n.domain();
    for (const auto& a : n.attribute()) {
      if (n.op_type() == "Constant" && a.has_t()) {
        if (n.output_size() > 0) graph.tensors[n.output(0)] = constant_tensor(n.output(0), a.t(), label);
        continue;
      }
      if (n.op_type() == "ConstantOfShape" && a.has_t()) {  // its fill value, for folding
        Tensor value = constant_tensor(a.name(), a.t(), label);
        if (value.has_int_values && value.int_values.size() == 1) node.attrs[a.name()] = value.int_values;
        continue;
      }
      node.attrs[a.name()] = convert_attribute(a);
    }
    node.inputs.assign(n.input().begin(), n.input().end());
    node.outputs.assign(n.output().begin(), n.output().end());
    if (node.outputs.empty())
      throw Error::in_file(label, fmt::format("node '{}' ({}) has no outputs", node.name, node.op));
    for (const auto& out : node.outputs)
      if (!out.empty() && !graph.tensors.count(out)) graph.tensors[out].name = out;
    graph.nodes.push_back(std::move(node));
  }
  return graph;
}

// ONNX 1.12's conv/pool shape inference divides by strides and dilations without checking them
// (a stride of 0 is a SIGFPE, found by the onnx fuzz target): refuse values below 1 first.
void check_window_attributes(const onnx::GraphProto& g, const std::string& label) {
  for (const auto& n : g.node()) {
    const std::string_view op = n.op_type();
    if (op.find("Conv") == std::string::npos && op.find("Pool") == std::string::npos) continue;
    for (const auto& a : n.attribute()) {
      if (a.name() != "strides" && a.name() != "dilations" && a.name() != "kernel_shape") continue;
      for (int64_t v : a.ints())
        if (v < 1)
          throw Error::in_file(
              label, fmt::format("node '{}' ({}): attribute '{}' must hold values of 1 or more, not {}", n.name(), op,
                                 a.name(), v));
    }
  }
}

// ONNX 1.12 gives a ConstantOfShape of constant shape [n] an output of length n, and an Expand
// reading it an output of rank n: a damaged constant of 2^36 took gigabytes before any check
// (onnx fuzz target). Refuse such shapes before ONNX's inference runs.
void check_constant_shapes(const onnx::ModelProto& model, const std::string& label) {
  // 2^31 elements is 8 GB of fp32, beyond any edge model; a 1-D one may become a rank, whose every
  // dimension ONNX allocates, so that one stays below 2^20.
  constexpr double kMaxElements = double(uint64_t{1} << 31), kMaxLength = double(uint64_t{1} << 20);
  std::unordered_map<std::string, const onnx::TensorProto*> constants;
  for (const auto& init : model.graph().initializer()) constants[init.name()] = &init;
  for (const auto& n : model.graph().node()) {
    if (n.op_type() == "Constant" && n.output_size() > 0)
      for (const auto& a : n.attribute())
        if (a.has_t()) constants[n.output(0)] = &a.t();
    if (n.op_type() != "ConstantOfShape" || n.input_size() < 1) continue;
    auto it = constants.find(n.input(0));
    if (it == constants.end()) continue;
    Tensor shape;
    read_int_values(*it->second, shape);
    double elements = 1;
    for (auto d : shape.int_values) elements *= static_cast<double>(d);
    if (shape.has_int_values && (elements > kMaxElements || (shape.int_values.size() == 1 && elements > kMaxLength)))
      throw Error::in_file(label, fmt::format("node '{}' (ConstantOfShape) would make a tensor of shape {} ({:.3g} "
                                              "elements); the file is damaged or not a real model",
                                              n.name(), fmt::join(shape.int_values, "x"), elements));
  }
}

// Runs ONNX shape inference on the model (in a worker process) and converts it to a folded Graph.
Graph infer_and_convert(onnx::ModelProto& model, const std::string& label, int64_t opset) {
  check_window_attributes(model.graph(), label);
  check_constant_shapes(model, label);
  run_onnx_shape_inference(model, label, data_propagation_is_bounded(model.graph()));
  Graph graph = convert(model, label, opset);
  sort_topologically(graph);
  fold_constants(graph);
  return graph;
}

// True when some tensor that a remaining node reads or writes has no concrete shape.
bool has_unknown_shapes(const Graph& graph) {
  for (const auto& n : graph.nodes)
    for (const auto* list : {&n.inputs, &n.outputs})
      for (const auto& t : *list) {
        if (t.empty()) continue;
        const Tensor* x = graph.find_tensor(t);
        if (!x || !x->shape_known) return true;
      }
  return false;
}

constexpr int kMaxInferenceRounds = 8;

// Shapes deepen found for node outputs that ONNX's inference left open (an Einsum's, whose dims
// ONNX 1.12 does not infer; an opset-9 Slice's): given to the next round as value_info, so that
// ONNX's inference goes on past them. Kept over the rounds, as each round starts afresh.
using ShapeHints = std::map<std::string, std::pair<int32_t, Shape>>;

// Adds to `hints` every node output whose shape `graph` knows and the inferred `model` does not;
// true when there is a new one.
bool add_shape_hints(const onnx::ModelProto& model, const Graph& graph, ShapeHints& hints) {
  std::unordered_map<std::string, const onnx::ValueInfoProto*> inferred;
  for (const auto* list : {&model.graph().value_info(), &model.graph().output()})
    for (const auto& vi : *list) inferred[vi.name()] = &vi;
  auto fully_known = [&](const std::string& name) {
    auto it = inferred.find(name);
    if (it == inferred.end() || !it->second->type().tensor_type().has_shape()) return false;
    for (const auto& d : it->second->type().tensor_type().shape().dim())
      if (!d.has_dim_value()) return false;
    return true;
  };
  std::unordered_set<std::string> graph_outputs;  // typed by the graph's output list, not value_info
  for (const auto& o : model.graph().output()) graph_outputs.insert(o.name());
  bool added = false;
  for (const auto& n : model.graph().node())
    for (const auto& out : n.output()) {
      const Tensor* t = graph.find_tensor(out);
      if (out.empty() || hints.count(out) || graph_outputs.count(out) || !t || !t->shape_known || fully_known(out))
        continue;
      hints[out] = {t->elem_type, t->shape};
      added = true;
    }
  return added;
}

void write_shape_hints(onnx::GraphProto& g, const ShapeHints& hints) {
  for (const auto& [name, hint] : hints) {
    auto* vi = g.add_value_info();
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(hint.first);
    auto* shape = tt->mutable_shape();
    for (int64_t d : hint.second) shape->add_dim()->set_dim_value(d);
  }
}

// Writes the integer constants that folding computed back into the model as initializers and
// drops the nodes that computed them, so that a second round of ONNX shape inference sees
// Reshape and Slice arguments as constants (PyTorch's chunk and view export such arithmetic);
// with them, the shape hints. True when there is something new for ONNX to see.
bool inject_folded_constants(onnx::ModelProto& model, const Graph& graph, ShapeHints& hints) {
  const bool new_hints = add_shape_hints(model, graph, hints);
  onnx::GraphProto& g = *model.mutable_graph();
  std::unordered_set<std::string> injected, initializers;
  for (const auto& init : g.initializer()) initializers.insert(init.name());
  // Every node of the file, folded or not: a folded node (a constant Expand) may still need the
  // values of its shape argument for its own shape.
  for (const auto& n : g.node())
    for (const auto& in : n.input()) {
      const Tensor* t = graph.find_tensor(in);
      if (!t || !t->is_constant || !t->has_int_values || injected.count(in)) continue;
      if (t->elem_type == onnx::TensorProto::BOOL) continue;
      if (initializers.count(in)) continue;
      auto* init = g.add_initializer();
      init->set_name(in);
      init->set_data_type(onnx::TensorProto::INT64);
      if (t->shape.size() > 1 && element_count(t->shape) == static_cast<int64_t>(t->int_values.size())) {
        for (auto d : t->shape) init->add_dims(d);  // a folded (4, 2) pads table stays 2-D
      } else if (!(t->shape.empty() && t->int_values.size() == 1)) {
        init->add_dims(static_cast<int64_t>(t->int_values.size()));
      }
      for (auto v : t->int_values) init->add_int64_data(v);
      injected.insert(in);
    }
  if (injected.empty() && !new_hints) return false;
  google::protobuf::RepeatedPtrField<onnx::NodeProto> kept;
  for (const auto& node : g.node()) {
    bool writes_injected = false;
    for (const auto& out : node.output()) writes_injected = writes_injected || injected.count(out);
    if (!writes_injected) *kept.Add() = node;
  }
  g.mutable_node()->Swap(&kept);
  g.clear_value_info();
  for (const auto& name : injected) hints.erase(name);  // now an initializer
  write_shape_hints(g, hints);
  return true;
}

Graph parse_model(const std::string& bytes, const std::string& label, const LoadOptions& options);

// One buffer per thread for a model's stripped bytes: reading a folder of models, or thousands
// of models from memory, then allocates (and page-faults in) no fresh buffer per model. A very
// large one is not kept.
std::string& stripped_buffer() {
  thread_local std::string buffer;
  return buffer;
}
struct ReleaseLargeBuffer {
  ~ReleaseLargeBuffer() {
    constexpr size_t kKeptBufferBytes = size_t{16} << 20;
    if (stripped_buffer().capacity() > kKeptBufferBytes) std::string().swap(stripped_buffer());
  }
};

}  // namespace

Graph load_onnx(const std::string& path, const LoadOptions& options) {
  ReleaseLargeBuffer release;
  std::string& stripped = stripped_buffer();
  read_model_file(path, stripped);
  return parse_model(stripped, path, options);
}

Graph load_onnx_bytes(std::string_view bytes, const std::string& label, const LoadOptions& options) {
  if (bytes.empty()) throw Error::in_file(label, "the file is empty; expected an ONNX model");
  ReleaseLargeBuffer release;
  std::string& stripped = stripped_buffer();
  strip_tensor_payloads(bytes, stripped);
  return parse_model(stripped, label, options);
}

namespace {

// Why the file's own type of a node output (value_info or graph output) disagrees with what
// deepen inferred, or "" when it does not: ONNX would merge the two or fail, so the fast path
// only goes on when the file says nothing different.
std::string declared_type_conflict(const onnx::GraphProto& g, const Graph& graph) {
  std::unordered_set<std::string_view> node_outputs;
  for (const auto& n : graph.nodes) node_outputs.insert(n.outputs.begin(), n.outputs.end());
  for (const auto* list : {&g.value_info(), &g.output()})
    for (const auto& vi : *list) {
      const Tensor* t = graph.find_tensor(vi.name());
      if (!t || !vi.has_type() || !node_outputs.count(vi.name())) continue;
      if (!vi.type().has_tensor_type()) return fmt::format("'{}' is declared as something other than a tensor", vi.name());
      const auto& tt = vi.type().tensor_type();
      if (tt.elem_type() != 0 && tt.elem_type() != t->elem_type)
        return fmt::format("'{}' is declared with another element type", vi.name());
      if (!tt.has_shape()) continue;
      if (static_cast<size_t>(tt.shape().dim_size()) != t->shape.size())
        return fmt::format("'{}' is declared with another rank", vi.name());
      for (int i = 0; i < tt.shape().dim_size(); ++i)
        if (tt.shape().dim(i).has_dim_value() && tt.shape().dim(i).dim_value() != t->shape[i])
          return fmt::format("'{}' is declared with another shape", vi.name());
    }
  return "";
}

// Why the initializers are not typed as ONNX would type them, or "": an initializer that is
// also listed as an input is typed by the input's declaration, and before IR version 4 one that
// is not listed has no type at all.
std::string initializer_typing_conflict(const onnx::ModelProto& model) {
  const onnx::GraphProto& g = model.graph();
  std::unordered_map<std::string_view, const onnx::ValueInfoProto*> inputs;
  for (const auto& in : g.input()) inputs[in.name()] = &in;
  std::unordered_set<std::string_view> node_outputs;
  for (const auto& n : g.node()) node_outputs.insert(n.output().begin(), n.output().end());
  for (const auto& init : g.initializer()) {
    if (node_outputs.count(init.name())) return fmt::format("initializer '{}' is also a node output", init.name());
    auto it = inputs.find(init.name());
    if (it == inputs.end()) {
      if (model.ir_version() < 4) return "initializers are not listed as inputs before IR version 4";
      continue;
    }
    const auto& type = it->second->type();
    if (!type.has_tensor_type() || !type.tensor_type().has_shape() || type.tensor_type().elem_type() != init.data_type() ||
        type.tensor_type().shape().dim_size() != init.dims_size())
      return fmt::format("input '{}' is declared unlike its initializer", init.name());
    for (int i = 0; i < init.dims_size(); ++i)
      if (!type.tensor_type().shape().dim(i).has_dim_value() ||
          type.tensor_type().shape().dim(i).dim_value() != init.dims(i))
        return fmt::format("input '{}' is declared unlike its initializer", init.name());
  }
  return "";
}

// Why some node's attributes could read differently to ONNX's inference and to deepen, or "":
// ONNX reads an attribute's field whatever its declared type (an INT without a value is the
// default to ONNX, 0 to deepen), so only attributes whose one field matches their type pass, and
// a Constant's tensor must be its `value`.
std::string unusual_attributes(const onnx::GraphProto& g) {
  using A = onnx::AttributeProto;
  std::unordered_set<std::string_view> names;
  for (const auto& n : g.node()) {
    names.clear();
    for (const auto& a : n.attribute()) {
      if (!names.insert(a.name()).second) return fmt::format("node '{}' repeats attribute '{}'", n.name(), a.name());
      const int fields = a.has_i() + a.has_f() + a.has_s() + a.has_t() + a.has_g() + a.has_sparse_tensor() +
                         (a.ints_size() > 0) + (a.floats_size() > 0) + (a.strings_size() > 0) +
                         (a.tensors_size() > 0) + (a.graphs_size() > 0) + (a.sparse_tensors_size() > 0) +
                         a.has_tp() + (a.type_protos_size() > 0) + a.has_ref_attr_name();
      bool plain = false;
      switch (a.type()) {
        case A::INT: plain = a.has_i() && fields == 1; break;
        case A::FLOAT: plain = a.has_f() && fields == 1; break;
        case A::STRING: plain = a.has_s() && fields == 1; break;
        case A::INTS: plain = fields == (a.ints_size() > 0 ? 1 : 0); break;
        case A::FLOATS: plain = fields == (a.floats_size() > 0 ? 1 : 0); break;
        case A::TENSOR: plain = a.has_t() && fields == 1 && n.op_type() == "Constant" && a.name() == "value"; break;
        default: break;
      }
      if (!plain) return fmt::format("node '{}' has attribute '{}' in a form this inference does not read", n.name(), a.name());
    }
  }
  return "";
}

// deepen's own shape inference and folding: the Graph, or nullopt (with the reason) when some
// node is beyond it, the file is unusual in a way ONNX's inference would treat differently, or
// the model is invalid (the ONNX path then gives today's error, in today's order).
std::optional<Graph> load_fast(onnx::ModelProto& model, const std::string& label, int64_t opset,
                               const LoadOptions& options, std::string* why) {
  std::optional<Graph> graph;
  try {
    onnx::GraphProto& g = *model.mutable_graph();
    std::unordered_set<std::string_view> initializer_names;
    for (const auto& init : g.initializer()) initializer_names.insert(init.name());
    resolve_inputs(g, initializer_names, options, label);
    *why = initializer_typing_conflict(model);
    if (why->empty()) *why = unusual_attributes(g);
    if (!why->empty()) return std::nullopt;
    graph = convert(model, label, opset);
  } catch (const Error& e) {
    *why = e.what();
    return std::nullopt;
  }
  *why = infer_shapes(*graph);  // its Errors are final: ONNX's path would crash on those models
  if (why->empty()) *why = declared_type_conflict(model.graph(), *graph);
  if (!why->empty()) return std::nullopt;
  try {
    sort_topologically(*graph);
    fold_constants(*graph);
  } catch (const Error& e) {
    *why = e.what();
    return std::nullopt;
  }
  return graph;
}

LoadOptions::ShapeInference inference_choice(const LoadOptions& options) {
  if (options.shape_inference != LoadOptions::ShapeInference::Auto) return options.shape_inference;
  const char* env = std::getenv("DEEPEN_SHAPE_INFERENCE");
  if (!env) return LoadOptions::ShapeInference::Auto;
  std::string v = env;
  if (v == "deepen") return LoadOptions::ShapeInference::Deepen;
  if (v == "onnx") return LoadOptions::ShapeInference::Onnx;
  return LoadOptions::ShapeInference::Auto;
}

void parse_proto(onnx::ModelProto& model, const std::string& bytes, const std::string& label) {
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !model.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())))
    throw Error::in_file(label, "not a valid ONNX model (the protobuf does not parse: truncated or not ONNX)");
}

Graph parse_model(const std::string& bytes, const std::string& label, const LoadOptions& options) {
  // The parsed model lives in an arena: its thousands of small messages and strings cost no
  // malloc and free each. The arena's first block is kept from model to model.
  constexpr size_t kFirstBlockBytes = size_t{1} << 20;
  thread_local std::unique_ptr<char[]> first_block(new char[kFirstBlockBytes]);
  thread_local bool first_block_in_use = false;
  google::protobuf::ArenaOptions arena_options;
  arena_options.start_block_size = kFirstBlockBytes;
  const bool own_block = !first_block_in_use;  // a nested call (none today) gets fresh blocks
  if (own_block) {
    arena_options.initial_block = first_block.get();
    arena_options.initial_block_size = kFirstBlockBytes;
    first_block_in_use = true;
  }
  struct BlockRelease {
    bool own;
    ~BlockRelease() {
      if (own) first_block_in_use = false;
    }
  } block_release{own_block};
  google::protobuf::Arena arena(arena_options);
  onnx::ModelProto& model = *google::protobuf::Arena::CreateMessage<onnx::ModelProto>(&arena);
  parse_proto(model, bytes, label);
  if (!model.has_graph() || model.graph().node_size() == 0)
    throw Error::in_file(label, "not a valid ONNX model (it has no graph or no nodes)");

  int64_t opset = 0;
  for (const auto& op : model.opset_import())
    if (op.domain().empty() || op.domain() == "ai.onnx") opset = op.version();
  if (opset < kMinOpset || opset > kMaxOpset)
    throw Error::in_file(
        ErrorKind::Unsupported, label,
        fmt::format(
            "ONNX opset {} is not supported; deepen reads opsets {} to {} (re-export the model with a supported opset)",
            opset, kMinOpset, kMaxOpset));

  for (const auto& node : model.graph().node())
    if (node.op_type() == "If" || node.op_type() == "Loop" || node.op_type() == "Scan")
      throw Error::in_file(ErrorKind::Unsupported, label,
                           fmt::format("node '{}' is a {} with subgraphs; deepen does not support control flow (export "
                                       "the model with static control flow)",
                                       node.name(), node.op_type()));

  const LoadOptions::ShapeInference choice = inference_choice(options);
  if (choice != LoadOptions::ShapeInference::Onnx) {
    std::string why;
    if (auto graph = load_fast(model, label, opset, options, &why)) return std::move(*graph);
    if (choice == LoadOptions::ShapeInference::Deepen)
      throw Error::in_file(ErrorKind::Unsupported, label,
                           fmt::format("deepen's own shape inference does not handle this model: {}", why));
    model.Clear();  // the fast path changed the inputs' shapes: start again from the bytes
    parse_proto(model, bytes, label);
  }

  onnx::GraphProto& g = *model.mutable_graph();
  std::unordered_set<std::string_view> initializer_names;
  for (const auto& init : g.initializer()) initializer_names.insert(init.name());
  check_arity(g, opset, label);
  resolve_inputs(g, initializer_names, options, label);

  Graph graph = infer_and_convert(model, label, opset);
  // Each round folds what the last one's shapes made constant (a Pad's pads, then the Resize
  // scales that read the padded shape, ...) or hints a shape ONNX left open; every round drops
  // nodes or adds a hint, of which there are finitely many, and the rounds are bounded anyway.
  ShapeHints hints;
  for (int round = 0;
       round < kMaxInferenceRounds && has_unknown_shapes(graph) && inject_folded_constants(model, graph, hints);
       ++round) {
    std::vector<std::string> folded = graph.folded;
    graph = infer_and_convert(model, label, opset);
    // A node folded in both rounds (a Constant that fed the injected arithmetic) counts once.
    std::multiset<std::string> first_round(folded.begin(), folded.end());
    for (auto& f : graph.folded) {
      auto it = first_round.find(f);
      if (it != first_round.end()) first_round.erase(it);
      else folded.push_back(std::move(f));
    }
    graph.folded = std::move(folded);
  }
  return graph;
}

}  // namespace

}  // namespace deepen
