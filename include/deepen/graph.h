// deepen/graph.h: a model as a graph of nodes over tensors with concrete shapes.
// load_onnx() parses an ONNX file, infers shapes (deepen's own inference, ONNX's for a model it
// declines), folds away what a runtime folds (Identity, Dropout, Constant, shape arithmetic on
// constants) and gives every tensor that a kernel needs a concrete shape (NCHW for 4-D
// activations). The zoo builds Graphs too.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

namespace deepen {

using Shape = std::vector<int64_t>;

// ONNX TensorProto element types we care about (values are ONNX's own).
enum class ElemType : int32_t { Undefined = 0, Float = 1, Uint8 = 2, Int8 = 3, Int32 = 6, Int64 = 7, Bool = 9, Float16 = 10, Double = 11 };

struct Tensor {
  std::string name;
  Shape shape;               // empty with rank 0 when scalar; see shape_known
  bool shape_known = false;  // false when neither the file nor inference gave a concrete shape
  bool is_constant = false;  // an initializer or the folded result of constant arithmetic
  int32_t elem_type = 1;     // ONNX element type
  // Values of small integer constants (shape arguments, axes, pads): what the folding and
  // Reshape/Slice/Pad handling need. Empty for weights.
  std::vector<int64_t> int_values;
  bool has_int_values = false;
  // Values of small floating-point constants (Clip bounds, the 3 and 6 of a hard-swish).
  std::vector<double> float_values;
  bool has_float_values = false;
};

using AttrValue = std::variant<int64_t, double, std::string, std::vector<int64_t>, std::vector<double>>;

struct Node {
  std::string name;  // the ONNX node name, or "<op>_<index>" when the file gives none
  std::string op;    // ONNX op type as in the file, e.g. "Conv"
  std::string domain;
  std::map<std::string, AttrValue> attrs;
  std::vector<std::string> inputs;   // "" for an omitted optional input
  std::vector<std::string> outputs;

  bool has_attr(const std::string& key) const { return attrs.count(key) != 0; }
  int64_t attr_int(const std::string& key, int64_t fallback) const;
  double attr_float(const std::string& key, double fallback) const;
  std::string attr_string(const std::string& key, const std::string& fallback) const;
  std::vector<int64_t> attr_ints(const std::string& key, std::vector<int64_t> fallback = {}) const;
};

struct Graph {
  std::string name;
  int64_t opset = 0;
  std::vector<Node> nodes;  // topological order
  std::unordered_map<std::string, Tensor> tensors;
  std::vector<std::string> inputs;   // graph inputs that are not initializers
  std::vector<std::string> outputs;
  // Nodes the loader folded away (Constant, Identity, Dropout, arithmetic on constants), as
  // "name (Op)": they cost nothing at run time and are listed so that no node vanishes unseen.
  std::vector<std::string> folded;

  const Tensor* find_tensor(const std::string& name) const;
  // The tensor or an Error naming it.
  const Tensor& tensor(const std::string& name) const;
  // consumers[tensor] = indices of nodes that read it.
  std::unordered_map<std::string, std::vector<size_t>> consumers() const;
  // producer[tensor] = index of the node that writes it.
  std::unordered_map<std::string, size_t> producers() const;
};

struct LoadOptions {
  // Overrides for input shapes, e.g. {"input": {1, 3, 224, 224}}.
  std::map<std::string, Shape> input_shapes;
  // Value given to symbolic or unknown batch dimensions.
  int64_t default_batch = 1;
  // Whose shape inference the loader runs. Auto: deepen's own when it handles every node of the
  // model exactly, else ONNX's (same result, but ONNX's costs ~40 ms of schema set-up per
  // process); the environment variable DEEPEN_SHAPE_INFERENCE=deepen|onnx overrides Auto.
  // Deepen: only deepen's (an Error names the node it does not handle). Onnx: only ONNX's.
  enum class ShapeInference { Auto, Deepen, Onnx };
  ShapeInference shape_inference = ShapeInference::Auto;
};

// Parses "NAME:1x3x224x224" into a name and a shape; throws Error on bad syntax.
std::pair<std::string, Shape> parse_input_shape(const std::string& spec);

// Puts nodes in topological order; throws Error on a cycle or an input that nobody produces.
void sort_topologically(Graph& graph);

// The indices of an Einsum equation over its inputs' shapes: each letter's dimension, the
// broadcast shape of "...", the output's letters and shape (ONNX 1.12's inference gives only the
// output's rank). nullopt when the equation does not fit the shapes.
struct EinsumIndices {
  std::map<char, int64_t> dims;
  Shape ellipsis;
  std::string output_letters;
  Shape output;
};
std::optional<EinsumIndices> einsum_indices(std::string equation, const std::vector<const Shape*>& inputs);

// Loads an ONNX model file. Throws Error with a message naming the file and what is wrong.
Graph load_onnx(const std::string& path, const LoadOptions& options = {});
// Same, from the bytes of a model in memory (read, never kept); `label` names it in errors.
Graph load_onnx_bytes(std::string_view bytes, const std::string& label, const LoadOptions& options = {});

}  // namespace deepen
