// The work of one ONNX node from its op's semantics and its tensors' shapes, for the nodes that no
// kernel family's formula covers (kernels of type other:X) and for what the families' formulas
// leave out (the weights an element-wise op or a batched matmul reads). Coverage is the share of
// the model's work scored by a trained predictor, so an op deepen does not score must still weigh
// what it does: an Einsum of 3.2 M MACs is 6.4 MFLOPs, not one FLOP per input element.
// One row per op; an op without a row does one FLOP per output element.
#include <deepen/graph.h>
#include <deepen/schema.h>

#include <algorithm>
#include <optional>
#include <string_view>

namespace deepen {
namespace {

constexpr double kBytesPerElement = 4.0;  // fp32, as every kernel's bytes

enum class Rule {
  None,         // no work at run time (shape queries, views)
  Unary,        // flops = per_element x output elements
  Elementwise,  // n inputs broadcast to the output: flops = per_element x output x (n - 1)
  Select,       // Where: one select per output element
  Reduce,       // flops = per_element x elements of the first input
  Move,         // no arithmetic: reads its data inputs, writes its outputs
  Gather,       // no arithmetic: reads as many elements as it writes
  Pool,         // flops = per_element x output elements x the window's size
  Conv,         // MACs = output elements x weight elements per output channel
  ConvTranspose,// MACs = input elements x weight elements per input channel
  MatMul,       // MACs = output elements x the contracted dimension (broadcast batch dims included)
  Gemm,         // the same with transA and the bias C
  Einsum,       // MACs = the product of every index's size, per operand pair
  Recurrent,    // seq x batch x (W and R elements) MACs and one gate activation per gate element
};

struct OpRule {
  std::string_view op;
  Rule rule;
  double per_element = 1;  // FLOPs per element (Unary, Elementwise, Reduce, Pool)
  int a = 0, b = 1;        // Conv, MatMul, Gemm: which inputs hold the activation and the weight
  bool weights = true;     // its floating-point constant inputs are weights (Resize's scales are not)
};

// An op that forms a kernel family (Relu, Softmax, a 2-D Conv, ...) is counted by the family's
// formula (its row in families.cpp), which its boosters were trained with; its row here counts
// it where no family applies (a 1-D Conv, a Clip that is not relu6, a Gemm of two activations);
// its `weights` column applies to every kernel (node_weights).
// clang-format off
const OpRule kRules[] = {
    // products
    {"Conv", Rule::Conv},            {"ConvInteger", Rule::Conv},     {"QLinearConv", Rule::Conv, 1, 0, 3},
    {"ConvTranspose", Rule::ConvTranspose},
    {"MatMul", Rule::MatMul},        {"MatMulInteger", Rule::MatMul}, {"QLinearMatMul", Rule::MatMul, 1, 0, 3},
    {"Gemm", Rule::Gemm},            {"Einsum", Rule::Einsum},
    {"LSTM", Rule::Recurrent},       {"GRU", Rule::Recurrent},        {"RNN", Rule::Recurrent},
    // element-wise, one input
    {"Relu", Rule::Unary},     {"LeakyRelu", Rule::Unary, 2}, {"PRelu", Rule::Elementwise, 2}, {"Elu", Rule::Unary, 3},
    {"Selu", Rule::Unary, 3},  {"Celu", Rule::Unary, 3},      {"ThresholdedRelu", Rule::Unary},
    {"Sigmoid", Rule::Unary, 4}, {"HardSigmoid", Rule::Unary, 3}, {"HardSwish", Rule::Unary, 4},
    {"Tanh", Rule::Unary, 5},  {"Softplus", Rule::Unary, 3},  {"Softsign", Rule::Unary, 3}, {"Mish", Rule::Unary, 6},
    {"Gelu", Rule::Unary, 5},  {"Clip", Rule::Unary, 2},      {"Exp", Rule::Unary},  {"Log", Rule::Unary},
    {"Sqrt", Rule::Unary},     {"Reciprocal", Rule::Unary},   {"Neg", Rule::Unary},  {"Abs", Rule::Unary},
    {"Erf", Rule::Unary},      {"Sin", Rule::Unary},          {"Cos", Rule::Unary},  {"Tan", Rule::Unary},
    {"Asin", Rule::Unary},     {"Acos", Rule::Unary},         {"Atan", Rule::Unary}, {"Sinh", Rule::Unary},
    {"Cosh", Rule::Unary},     {"Floor", Rule::Unary},        {"Ceil", Rule::Unary}, {"Round", Rule::Unary},
    {"Sign", Rule::Unary},     {"Not", Rule::Unary},          {"IsNaN", Rule::Unary}, {"IsInf", Rule::Unary},
    {"BatchNormalization", Rule::Unary, 2},
    // element-wise, several inputs
    {"Add", Rule::Elementwise}, {"Sub", Rule::Elementwise}, {"Mul", Rule::Elementwise}, {"Div", Rule::Elementwise},
    {"Sum", Rule::Elementwise}, {"Mean", Rule::Elementwise}, {"Max", Rule::Elementwise}, {"Min", Rule::Elementwise},
    {"Pow", Rule::Elementwise}, {"Mod", Rule::Elementwise}, {"Equal", Rule::Elementwise}, {"Less", Rule::Elementwise},
    {"LessOrEqual", Rule::Elementwise}, {"Greater", Rule::Elementwise}, {"GreaterOrEqual", Rule::Elementwise},
    {"And", Rule::Elementwise}, {"Or", Rule::Elementwise}, {"Xor", Rule::Elementwise},
    {"BitShift", Rule::Elementwise}, {"Where", Rule::Select},
    // reductions and normalisations: per element of the input
    {"ReduceMean", Rule::Reduce},   {"ReduceSum", Rule::Reduce},   {"ReduceMax", Rule::Reduce},
    {"ReduceMin", Rule::Reduce},    {"ReduceProd", Rule::Reduce},  {"ReduceL1", Rule::Reduce, 2},
    {"ReduceL2", Rule::Reduce, 2},  {"ReduceSumSquare", Rule::Reduce, 2}, {"ReduceLogSum", Rule::Reduce},
    {"ReduceLogSumExp", Rule::Reduce, 2}, {"ArgMax", Rule::Reduce}, {"ArgMin", Rule::Reduce},
    {"CumSum", Rule::Reduce},       {"TopK", Rule::Reduce},        {"GlobalAveragePool", Rule::Reduce},
    {"GlobalMaxPool", Rule::Reduce}, {"GlobalLpPool", Rule::Reduce, 2},
    {"Softmax", Rule::Reduce, 5},   {"LogSoftmax", Rule::Reduce, 5}, {"Hardmax", Rule::Reduce, 2},
    {"LayerNormalization", Rule::Reduce, 9}, {"InstanceNormalization", Rule::Reduce, 9},
    {"GroupNormalization", Rule::Reduce, 9}, {"MeanVarianceNormalization", Rule::Reduce, 9},
    {"LpNormalization", Rule::Reduce, 3},    {"LRN", Rule::Reduce, 5},
    // windows
    {"MaxPool", Rule::Pool}, {"AveragePool", Rule::Pool}, {"LpPool", Rule::Pool, 2},
    {"Resize", Rule::Unary, 1, 0, 1, false}, {"Upsample", Rule::Unary, 1, 0, 1, false},
    // data movement
    {"Transpose", Rule::Move}, {"Expand", Rule::Move}, {"Tile", Rule::Move}, {"Concat", Rule::Move},
    {"Pad", Rule::Move, 1, 0, 1, false}, {"Split", Rule::Move}, {"DepthToSpace", Rule::Move},
    {"SpaceToDepth", Rule::Move}, {"Cast", Rule::Move}, {"CastLike", Rule::Move}, {"ReverseSequence", Rule::Move},
    {"ScatterND", Rule::Move}, {"ScatterElements", Rule::Move}, {"Scatter", Rule::Move},
    {"Gather", Rule::Gather}, {"GatherElements", Rule::Gather}, {"GatherND", Rule::Gather},
    {"Slice", Rule::Gather}, {"Compress", Rule::Gather}, {"OneHot", Rule::Gather},
    // views and shape queries
    {"Reshape", Rule::None}, {"Flatten", Rule::None}, {"Squeeze", Rule::None}, {"Unsqueeze", Rule::None},
    {"Identity", Rule::None}, {"Dropout", Rule::None}, {"Shape", Rule::None}, {"Size", Rule::None},
    {"Constant", Rule::None},
};
// clang-format on

const OpRule* rule_of(std::string_view op) {
  for (const auto& r : kRules)
    if (r.op == op) return &r;
  return nullptr;
}

// Index and shape arguments (axes, pads, Gather's indices) are not data the op computes on.
bool integer_type(int32_t elem_type) {
  switch (elem_type) {
    case 6: case 7: case 8: case 9: case 12: case 13:  // int32, int64, string, bool, uint32, uint64
      return true;
    default:
      return false;
  }
}

class NodeShapes {
 public:
  NodeShapes(const Graph& g, const Node& n) : g_(g), n_(n) {}
  const Tensor* input(size_t k) const { return tensor(k < n_.inputs.size() ? n_.inputs[k] : std::string()); }
  const Tensor* output(size_t k) const { return tensor(k < n_.outputs.size() ? n_.outputs[k] : std::string()); }
  static double elements(const Tensor* t) {
    double e = 1;
    for (auto d : t->shape) e *= static_cast<double>(d);
    return e;
  }
  // Elements of every output; nullopt when one is open.
  std::optional<double> written() const {
    double sum = 0;
    for (size_t k = 0; k < n_.outputs.size(); ++k) {
      if (n_.outputs[k].empty()) continue;
      const Tensor* t = output(k);
      if (!t) return std::nullopt;
      sum += elements(t);
    }
    return sum;
  }
  // Elements of the data inputs (activations and constant data, not index arguments).
  double read() const {
    double sum = 0;
    for (size_t k = 0; k < n_.inputs.size(); ++k) {
      const Tensor* t = input(k);
      if (t && !(t->is_constant && integer_type(t->elem_type))) sum += elements(t);
    }
    return sum;
  }
  // Elements of the weights it reads: constant non-integer inputs of more than one element (a
  // scalar such as the 3 and 6 of a hard-swish is an argument).
  double weights() const {
    double sum = 0;
    std::vector<std::string_view> seen;
    for (size_t k = 0; k < n_.inputs.size(); ++k) {
      const Tensor* t = input(k);
      if (!t || !t->is_constant || integer_type(t->elem_type) || elements(t) <= 1) continue;
      if (std::find(seen.begin(), seen.end(), n_.inputs[k]) != seen.end()) continue;
      seen.push_back(n_.inputs[k]);
      sum += elements(t);
    }
    return sum;
  }
  size_t present_inputs() const {
    size_t count = 0;
    for (const auto& in : n_.inputs) count += !in.empty();
    return count;
  }

 private:
  const Tensor* tensor(const std::string& name) const {
    if (name.empty()) return nullptr;
    const Tensor* t = g_.find_tensor(name);
    if (!t || !t->shape_known) return nullptr;
    for (auto d : t->shape)
      if (d <= 0) return nullptr;
    return t;
  }
  const Graph& g_;
  const Node& n_;
};

}  // namespace

double node_weights(const Graph& graph, const Node& node) {
  const OpRule* r = rule_of(node.op);
  if (r && !r->weights) return 0;
  return NodeShapes(graph, node).weights();
}

KernelWork node_work(const Graph& graph, const Node& node) {
  KernelWork w;
  const OpRule* rule = rule_of(node.op);
  const OpRule fallback{node.op, Rule::Unary};
  const OpRule& r = rule ? *rule : fallback;
  if (r.rule == Rule::None) return w;
  NodeShapes s(graph, node);
  std::optional<double> out = s.written();
  if (!out) return w;  // an open output shape: nothing can be computed
  const Tensor* x = s.input(static_cast<size_t>(r.a));
  const double e = kBytesPerElement;
  w.params = r.weights ? s.weights() : 0.0;
  w.bytes = (s.read() + *out) * e;
  switch (r.rule) {
    case Rule::None:
      break;
    case Rule::Unary:
      w.flops = r.per_element * *out;
      break;
    case Rule::Elementwise:
      w.flops = r.per_element * *out * static_cast<double>(std::max<size_t>(2, s.present_inputs()) - 1);
      break;
    case Rule::Select:
      w.flops = *out;
      break;
    case Rule::Reduce:
      w.flops = r.per_element * (x ? NodeShapes::elements(x) : *out);
      break;
    case Rule::Move:
      break;
    case Rule::Gather:
      w.bytes = 2 * *out * e;  // reads what it writes, however large the table it picks from
      break;
    case Rule::Pool: {
      double window = 1;
      for (auto k : node.attr_ints("kernel_shape", {})) window *= static_cast<double>(k);
      w.flops = r.per_element * *out * window;
      break;
    }
    case Rule::Conv:
    case Rule::ConvTranspose: {  // weight: (cout, cin / group, k...) or, transposed, (cin, cout / group, k...)
      const Tensor* wt = s.input(static_cast<size_t>(r.b));
      if (!wt || wt->shape.empty()) break;
      const double per_channel = NodeShapes::elements(wt) / static_cast<double>(wt->shape[0]);
      const double base = r.rule == Rule::Conv ? *out : (x ? NodeShapes::elements(x) : 0.0);
      w.macs = base * per_channel;
      w.flops = 2 * w.macs;
      break;
    }
    case Rule::MatMul:
    case Rule::Gemm: {  // every output element is a dot product over the contracted dimension
      const Tensor* b = s.input(static_cast<size_t>(r.b));
      if (!x || x->shape.empty()) break;
      double k = static_cast<double>(x->shape.back());
      if (r.rule == Rule::Gemm && node.attr_int("transA", 0) != 0) k = static_cast<double>(x->shape.front());
      if (r.rule == Rule::MatMul && x->shape.size() == 1 && b && b->shape.size() >= 2)
        k = static_cast<double>(b->shape[b->shape.size() - 2]);
      w.macs = *out * k;
      w.flops = 2 * w.macs + (r.rule == Rule::Gemm && s.present_inputs() > 2 ? *out : 0.0);
      break;
    }
    case Rule::Einsum: {
      std::vector<const Shape*> shapes;
      for (size_t k = 0; k < node.inputs.size(); ++k) {
        const Tensor* t = s.input(k);
        if (!t) return KernelWork{0, 0, w.params, w.bytes};
        shapes.push_back(&t->shape);
      }
      auto idx = einsum_indices(node.attr_string("equation", ""), shapes);
      if (!idx) break;
      double product = 1;  // every combination of the indices' values is one product
      for (const auto& [letter, dim] : idx->dims) product *= static_cast<double>(dim);
      for (auto d : idx->ellipsis) product *= static_cast<double>(d);
      const bool sums = product > *out;  // some index is summed over
      if (shapes.size() >= 2) {
        w.macs = product * static_cast<double>(shapes.size() - 1);
        w.flops = sums ? 2 * w.macs : w.macs;
      } else {
        w.flops = sums ? product : 0.0;  // one operand: a sum (trace, reduction) or only a permutation
      }
      break;
    }
    case Rule::Recurrent: {  // X (seq, batch, input), W (dirs, gates x hidden, input), R (dirs, gates x hidden, hidden)
      const Tensor* wt = s.input(1);
      const Tensor* rt = s.input(2);
      if (!x || !wt || !rt || x->shape.size() != 3) break;
      const double steps = static_cast<double>(x->shape[0]) * static_cast<double>(x->shape[1]);
      w.macs = steps * (NodeShapes::elements(wt) + NodeShapes::elements(rt));
      w.flops = 2 * w.macs + steps * static_cast<double>(wt->shape[0]) * static_cast<double>(wt->shape[1]);
      break;
    }
  }
  return w;
}

}  // namespace deepen
