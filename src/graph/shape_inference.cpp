#include "graph/shape_inference.h"

#include "graph/folding.h"

#include <deepen/error.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace deepen {
namespace {

using Ints = std::vector<int64_t>;

constexpr int32_t kBool = 9, kInt64 = 7;
constexpr size_t kMaxValues = 4096;  // as folding: shape arithmetic works on a few numbers

struct Declined {
  std::string why;
};

struct Output {
  Shape shape;
  int32_t elem_type = 1;
};

class Inference {
 public:
  explicit Inference(Graph& graph) : g_(graph) {}

  void run() {
    std::unordered_set<std::string_view> written;
    written.reserve(g_.nodes.size() * 2);
    ready_.reserve(g_.tensors.size());
    for (const auto& node : g_.nodes)
      for (const auto& out : node.outputs) written.insert(out);
    for (const auto& name : g_.inputs) ready_.insert(name);
    for (const auto& [name, t] : g_.tensors)
      if (t.is_constant && !written.count(name)) ready_.insert(name);
    written.clear();
    for (const auto& node : g_.nodes) {
      n_ = &node;
      for (const auto& out : node.outputs)
        if (!out.empty() && (ready_.count(out) || !written.insert(out).second))
          decline("writes a tensor that an input, an initializer or another node also provides");
      std::vector<Output> outs = infer();
      if (outs.size() != node.outputs.size()) decline("has outputs that are not handled");
      for (size_t k = 0; k < outs.size(); ++k) {
        if (node.outputs[k].empty()) continue;
        for (auto d : outs[k].shape)
          if (d < 1) decline(fmt::format("gives an output dimension of {}", d));
        Tensor& t = g_.tensors[node.outputs[k]];
        t.name = node.outputs[k];
        if (!(node.op == "Constant" && t.is_constant)) {
          t.shape = std::move(outs[k].shape);
          t.shape_known = true;
          t.elem_type = outs[k].elem_type;
        }
        ready_.insert(node.outputs[k]);
      }
      if (node.op == "Shape") continue;  // infer() stored its values
      bool any_values = false;
      for (const auto& in : node.inputs) any_values = any_values || (!in.empty() && lookup(in));
      if (any_values || node.op == "Constant")
        if (auto v = evaluate_ints(node, [&](const std::string& name) { return lookup(name); }))
          if (v->size() <= kMaxValues) values_[node.outputs[0]] = std::move(*v);
    }
  }

 private:
  Graph& g_;
  const Node* n_ = nullptr;
  // Names are views of the graph's own strings (its nodes' and tensors'), which outlive this.
  std::unordered_set<std::string_view> ready_;
  mutable std::unordered_map<std::string_view, Ints> values_;  // integer values computed here (Shape, Gather...)

  [[noreturn]] void decline(const std::string& what) const {
    throw Declined{fmt::format("node '{}' ({}) {}", n_->name, n_->op, what)};
  }

  const Ints* lookup(const std::string& name) const {
    auto it = values_.find(name);
    if (it != values_.end()) return &it->second;
    const Tensor* t = g_.find_tensor(name);
    return t && t->is_constant && t->has_int_values ? &t->int_values : nullptr;
  }

  int64_t opset() const { return g_.opset; }
  size_t num_inputs() const { return n_->inputs.size(); }
  bool has_input(size_t k) const { return k < n_->inputs.size() && !n_->inputs[k].empty(); }

  const Tensor& input(size_t k) const {
    if (!has_input(k)) decline(fmt::format("lacks input {}", k));
    const std::string& name = n_->inputs[k];
    const Tensor* t = g_.find_tensor(name);
    if (!ready_.count(name) || !t || !t->shape_known)
      decline(fmt::format("reads '{}' before its shape is known", name));
    return *t;
  }
  const Shape& shape(size_t k) const { return input(k).shape; }

  const Ints& ints(size_t k) const {
    input(k);
    const Ints* v = lookup(n_->inputs[k]);
    if (!v) decline(fmt::format("needs the values of input '{}', which are not constant", n_->inputs[k]));
    return *v;
  }

  std::vector<double> floats(size_t k) const {
    const Tensor& t = input(k);
    if (!t.is_constant || !t.has_float_values || t.elem_type != 1)
      decline(fmt::format("needs the float values of input '{}', which are not constant", n_->inputs[k]));
    return t.float_values;
  }

  // Input and output counts, a subset of what the op's ONNX schema allows; `since`: the first
  // opset that has the op.
  void arity(size_t min_in, size_t max_in, size_t min_out = 1, size_t max_out = 1, int64_t since = 1) const {
    if (opset() < since) decline(fmt::format("does not exist in opset {}", opset()));
    if (num_inputs() < min_in || num_inputs() > max_in || n_->outputs.size() < min_out ||
        n_->outputs.size() > max_out)
      decline("has an input or output count that is not handled");
  }

  int64_t axis(int64_t a, int64_t rank, bool negative_allowed = true) const {
    if (a < 0 && negative_allowed) a += rank;
    if (a < 0 || a >= rank) decline(fmt::format("has axis {} outside a rank-{} tensor", a, rank));
    return a;
  }

  std::vector<Output> same_as_input() const { return {{shape(0), input(0).elem_type}}; }

  static int64_t product(const Shape& s, size_t from, size_t to, bool* ok) {
    int64_t p = 1;
    for (size_t i = from; i < to; ++i)
      if (__builtin_mul_overflow(p, s[i], &p)) *ok = false;
    return p;
  }

  Shape broadcast(std::vector<Shape> shapes) const {
    size_t rank = 0;
    for (const auto& s : shapes) rank = std::max(rank, s.size());
    Shape out(rank, 1);
    for (const auto& s : shapes)
      for (size_t i = 0; i < s.size(); ++i) {
        int64_t& o = out[rank - s.size() + i];
        int64_t d = s[i];
        if (d == o || d == 1) continue;
        if (o != 1) decline("has inputs whose shapes do not broadcast");
        o = d;
      }
    return out;
  }

  std::vector<Output> broadcasting(size_t type_from, int32_t forced_type = 0) const {
    std::vector<Shape> shapes;
    for (size_t k = 0; k < num_inputs(); ++k) shapes.push_back(shape(k));
    return {{broadcast(shapes), forced_type ? forced_type : input(type_from).elem_type}};
  }

  // ONNX's convPoolShapeInference.
  Shape conv_pool(bool use_dilation, bool is_pool) const {
    const Shape& x = shape(0);
    if (x.size() < 2) decline("has an input of rank below 2");
    const size_t n = x.size() - 2;
    const Node& node = *n_;
    auto list = [&](const char* key, size_t size, int64_t fallback) {
      Ints v = node.attr_ints(key, Ints(size, fallback));
      if (v.size() != size) decline(fmt::format("has attribute {} of the wrong size", key));
      return v;
    };
    Ints dilations = use_dilation ? list("dilations", n, 1) : Ints(n, 1);
    if (!use_dilation && node.has_attr("dilations") && node.attr_ints("dilations") != Ints(n, 1))
      decline("has dilations, which this opset's inference ignores");
    Ints strides = list("strides", n, 1);
    Ints kernel;
    if (node.has_attr("kernel_shape")) {
      kernel = list("kernel_shape", n, 1);
    } else if (is_pool) {
      decline("lacks kernel_shape");
    } else {
      const Shape& w = shape(1);
      if (w.size() > n + 2)  // ONNX 1.12's inference reads past the input's dims here and crashes
        throw Error::in_file(
            g_.name,
            fmt::format("node '{}' ({}) has a weight of rank {} for an input of rank {}; the ranks must be equal",
                        n_->name, n_->op, w.size(), x.size()));
      if (w.size() != n + 2) decline("has a weight whose rank does not match the input's");
      kernel.assign(w.begin() + 2, w.end());
    }
    for (size_t i = 0; i < n; ++i)
      if (strides[i] < 1 || dilations[i] < 1 || kernel[i] < 1 || kernel[i] > (int64_t{1} << 20) ||
          dilations[i] > (int64_t{1} << 20) || x[2 + i] > (int64_t{1} << 40))
        decline("has a stride, dilation or kernel size that is not handled");
    Ints effective(n);
    for (size_t i = 0; i < n; ++i) effective[i] = (kernel[i] - 1) * dilations[i] + 1;
    Ints pads;
    if (node.has_attr("pads")) {
      pads = list("pads", 2 * n, 0);
      for (auto p : pads)
        if (p < -(int64_t{1} << 40) || p > (int64_t{1} << 40)) decline("has pads that are not handled");
    } else {
      pads.assign(2 * n, 0);
      std::string auto_pad = node.attr_string("auto_pad", "NOTSET");
      if (auto_pad != "NOTSET" && auto_pad != "VALID" && auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER")
        decline(fmt::format("has auto_pad '{}'", auto_pad));
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
    if (node.has_attr("ceil_mode") && (!is_pool || opset() < 10)) decline("has ceil_mode in an opset without it");
    Shape out{x[0]};
    if (is_pool) {
      out.push_back(x[1]);
    } else {
      const Shape& w = shape(1);
      int64_t group = node.attr_int("group", 1);
      if (w.size() < 2 || group < 1 || w[1] > (int64_t{1} << 40) || group > (int64_t{1} << 20) ||
          w[1] * group != x[1])
        decline("has input channels that do not match its weight and groups");
      out.push_back(w[0]);
    }
    for (size_t i = 0; i < n; ++i) {
      int64_t input_size = x[2 + i] + pads[i] + pads[i + n];
      int64_t positions = ceil_mode == 1
                              ? static_cast<int64_t>(std::ceil(static_cast<float>(input_size - effective[i]) /
                                                               static_cast<float>(strides[i])))
                              : (input_size - effective[i]) / strides[i];
      out.push_back(1 + positions);
    }
    return out;
  }

  Output matmul() const {
    Shape a = shape(0), b = shape(1);
    if (a.empty() || b.empty()) decline("has a scalar input");
    bool a_vector = a.size() == 1, b_vector = b.size() == 1;
    if (a_vector) a.insert(a.begin(), 1);
    if (b_vector) b.push_back(1);
    if (a[a.size() - 1] != b[b.size() - 2]) decline("has inner dimensions that differ");
    Shape batch = broadcast({Shape(a.begin(), a.end() - 2), Shape(b.begin(), b.end() - 2)});
    if (!a_vector) batch.push_back(a[a.size() - 2]);
    if (!b_vector) batch.push_back(b.back());
    return {batch, input(0).elem_type};
  }

  Output slice() const {
    const Shape& x = shape(0);
    const int64_t rank = static_cast<int64_t>(x.size());
    Ints starts, ends, axes, steps;
    if (opset() < 10) {
      // Slice-1: ONNX infers only non-negative starts, ends and axes, axes in order, and
      // neither clamps the start nor takes a step.
      starts = n_->attr_ints("starts");
      ends = n_->attr_ints("ends");
      axes = n_->attr_ints("axes");
      if (!n_->has_attr("starts") || !n_->has_attr("ends")) decline("lacks starts or ends");
      if (!n_->has_attr("axes"))
        for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
      if (starts.size() != ends.size() || axes.size() != starts.size()) decline("has lists of different lengths");
      Shape out = x;
      for (size_t i = 0; i < axes.size(); ++i) {
        if (starts[i] < 0 || ends[i] < 0 || axes[i] < 0 || axes[i] >= rank || (i > 0 && axes[i] <= axes[i - 1]))
          decline("has negative, unordered or repeated indices, which ONNX's Slice-1 inference leaves open");
        out[axes[i]] = std::min(x[axes[i]], ends[i]) - starts[i];
      }
      return {out, input(0).elem_type};
    } else {
      starts = ints(1);
      ends = ints(2);
      if (has_input(3)) axes = ints(3);
      if (has_input(4)) steps = ints(4);
      if (has_input(3) && axes.size() != starts.size()) decline("has axes of the wrong length");
      if (has_input(4) && steps.size() != starts.size()) decline("has steps of the wrong length");
    }
    if (starts.size() != ends.size()) decline("has starts and ends of different lengths");
    if (axes.empty() && !(opset() >= 10 && has_input(3))) {
      axes.resize(starts.size());
      for (size_t i = 0; i < axes.size(); ++i) axes[i] = static_cast<int64_t>(i);
    }
    if (axes.size() != starts.size()) decline("has axes of the wrong length");
    if (steps.empty()) steps.assign(starts.size(), 1);
    Shape out = x;
    std::set<int64_t> seen;
    for (size_t i = 0; i < axes.size(); ++i) {
      int64_t a = axis(axes[i], rank, opset() >= 11);
      if (!seen.insert(a).second) decline("has duplicate axes");
      int64_t dim = x[a], start = starts[i], end = ends[i], step = steps[i];
      if (step == 0) decline("has step 0");
      auto clamp = [](int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; };
      if (start < 0) start = start < INT64_MIN + dim ? INT64_MIN : start + dim;
      start = step < 0 ? clamp(start, 0, dim - 1) : clamp(start, 0, dim);
      if (end < 0) end = end < INT64_MIN + dim ? INT64_MIN : end + dim;
      end = step < 0 ? clamp(end, -1, dim - 1) : clamp(end, 0, dim);
      int64_t size = static_cast<int64_t>(std::ceil(1.0 * static_cast<double>(end - start) / static_cast<double>(step)));
      out[a] = std::max<int64_t>(size, 0);
    }
    return {out, input(0).elem_type};
  }

  std::vector<Output> split() const {
    const Shape& x = shape(0);
    int64_t a = axis(n_->attr_int("axis", 0), static_cast<int64_t>(x.size()), opset() >= 11);
    Ints parts;
    if (opset() >= 13 && has_input(1)) parts = ints(1);
    else if (opset() < 13 && n_->has_attr("split")) parts = n_->attr_ints("split");
    size_t count = n_->outputs.size();
    if (parts.empty()) {
      if (x[a] % static_cast<int64_t>(count) != 0) decline("splits a dimension unevenly");
      parts.assign(count, x[a] / static_cast<int64_t>(count));
    }
    if (parts.size() != count) decline("has a split list whose length is not its output count");
    int64_t total = 0;
    for (auto p : parts)
      if (p < 0 || __builtin_add_overflow(total, p, &total)) decline("has a bad split list");
    if (total != x[a]) decline("has a split list that does not add up to the dimension");
    std::vector<Output> outs;
    for (auto p : parts) {
      Shape s = x;
      s[a] = p;
      outs.push_back({s, input(0).elem_type});
    }
    return outs;
  }

  std::vector<Output> reduce() const {
    const Shape& x = shape(0);
    const int64_t rank = static_cast<int64_t>(x.size());
    bool keepdims = n_->attr_int("keepdims", 1) != 0;
    Ints axes;
    bool all = false;
    if (n_->op == "ReduceSum" && opset() >= 13) {
      if (has_input(1)) axes = ints(1);
      if (axes.empty()) {
        if (n_->attr_int("noop_with_empty_axes", 0) != 0) return same_as_input();
        all = true;
      }
    } else {
      if (num_inputs() != 1) decline("has an axes input in an opset without it");
      axes = n_->attr_ints("axes");
      all = !n_->has_attr("axes");
    }
    std::set<int64_t> reduced;
    for (auto a : axes) reduced.insert(axis(a, rank));
    Shape out;
    for (int64_t i = 0; i < rank; ++i) {
      if (all || reduced.count(i)) {
        if (keepdims) out.push_back(1);
      } else {
        out.push_back(x[i]);
      }
    }
    return {{out, input(0).elem_type}};
  }

  Output scaled(const std::vector<double>& scales) const {
    const Shape& x = shape(0);
    if (scales.size() != x.size()) decline("has scales whose count is not the input's rank");
    Shape out;
    for (size_t i = 0; i < x.size(); ++i) {
      float v = std::floor(static_cast<float>(x[i]) * static_cast<float>(scales[i]));
      if (!std::isfinite(v) || v < 0 || v > 9e18f) decline("has scales that give a dimension out of range");
      out.push_back(static_cast<int64_t>(v));
    }
    return {out, input(0).elem_type};
  }

  Output resize() const {
    if (opset() < 11) return scaled(floats(1));
    if (num_inputs() == 4 && has_input(3)) {
      const Ints& sizes = ints(3);
      if (sizes.size() != shape(0).size()) decline("has sizes whose count is not the input's rank");
      return {sizes, input(0).elem_type};
    }
    return scaled(floats(2));
  }

  std::vector<Output> infer() const {
    const Node& n = *n_;
    const std::string_view op = n.op;  // compared with many literals: a view compares sizes first
    if (!n.domain.empty() && n.domain != "ai.onnx") decline("is in a domain this inference does not know");
    static const std::set<std::string, std::less<>> unary{"Relu",     "Sigmoid",  "Tanh",   "LeakyRelu",  "Elu",  "Selu",
                                             "HardSigmoid", "Erf",   "Sqrt",   "Exp",        "Log",  "Abs",
                                             "Neg",      "Reciprocal", "Floor", "Ceil",      "Softplus",
                                             "Softsign", "Sin",      "Cos",    "Identity",   "LRN"};
    if (unary.count(op)) {
      arity(1, 1, 1, 1, op == "Erf" ? 9 : 1);
      return same_as_input();
    }
    if (op == "HardSwish") {
      arity(1, 1, 1, 1, 14);
      return same_as_input();
    }
    if (op == "Softmax" || op == "LogSoftmax") {
      arity(1, 1);
      int64_t rank = static_cast<int64_t>(shape(0).size());
      axis(n.attr_int("axis", opset() >= 13 ? -1 : 1), rank);
      return same_as_input();
    }
    if (op == "Clip") {
      if (opset() < 11) arity(1, 1);
      else arity(1, 3);
      for (size_t k = 1; k < num_inputs(); ++k)
        if (has_input(k)) input(k);
      return same_as_input();
    }
    if (op == "Cast") {
      arity(1, 1);
      int64_t to = n.attr_int("to", 0);
      if (!n.has_attr("to") || to < 1 || to > 16 || to == 8) decline("casts to a type that is not handled");
      return {{shape(0), static_cast<int32_t>(to)}};
    }
    if (op == "Dropout") {
      if (opset() < 12) arity(1, 1);
      else arity(1, 3);
      return same_as_input();
    }
    if (op == "BatchNormalization") {
      arity(5, 5);
      for (size_t k = 1; k < 5; ++k) input(k);
      if (n.attr_int("training_mode", 0) != 0) decline("is in training mode");
      if (shape(0).size() < 2) decline("has an input of rank below 2");
      return same_as_input();
    }
    if (op == "InstanceNormalization") {
      arity(3, 3);
      return same_as_input();
    }
    if (op == "PRelu") {
      arity(2, 2);
      if (broadcast({shape(0), shape(1)}) != shape(0)) decline("has a slope that does not broadcast to its input");
      return same_as_input();
    }
    if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Pow") {
      arity(2, 2);
      return broadcasting(0);
    }
    if (op == "Max" || op == "Min" || op == "Sum" || op == "Mean") {
      arity(1, 64);
      return broadcasting(0);
    }
    if (op == "Equal" || op == "Less" || op == "Greater") {
      arity(2, 2);
      return broadcasting(0, kBool);
    }
    if (op == "Where") {
      arity(3, 3, 1, 1, 9);
      return broadcasting(1);
    }
    if (op == "Conv") {
      arity(2, 3);
      if (has_input(2) && shape(2) != Shape{shape(1).empty() ? 0 : shape(1)[0]})
        decline("has a bias that does not match its output channels");
      return {{conv_pool(true, false), input(0).elem_type}};
    }
    if (op == "MaxPool" || op == "AveragePool") {
      arity(1, 1);
      bool dilation = op == "MaxPool" && opset() >= 10;
      return {{conv_pool(dilation, true), input(0).elem_type}};
    }
    if (op == "GlobalAveragePool" || op == "GlobalMaxPool") {
      arity(1, 1);
      Shape s = shape(0);
      if (s.size() < 2) decline("has an input of rank below 2");
      std::fill(s.begin() + 2, s.end(), 1);
      return {{s, input(0).elem_type}};
    }
    if (op == "Gemm") {
      arity(opset() < 11 ? 3 : 2, 3);
      const Shape &a = shape(0), &b = shape(1);
      if (a.size() != 2 || b.size() != 2) decline("has an input that is not a matrix");
      bool ta = n.attr_int("transA", 0) != 0, tb = n.attr_int("transB", 0) != 0;
      if ((ta ? a[0] : a[1]) != (tb ? b[1] : b[0])) decline("has inner dimensions that differ");
      Shape out{ta ? a[1] : a[0], tb ? b[0] : b[1]};
      if (has_input(2) && broadcast({shape(2), out}) != out) decline("has a bias that does not broadcast");
      return {{out, input(0).elem_type}};
    }
    if (op == "MatMul") {
      arity(2, 2);
      return {matmul()};
    }
    if (op == "Reshape") {
      arity(2, 2);
      if (n.attr_int("allowzero", 0) != 0) decline("has allowzero");
      auto out = reshape_output(shape(0), ints(1));
      if (!out) decline("has a shape argument that does not fit its input");
      return {{*out, input(0).elem_type}};
    }
    if (op == "Flatten") {
      arity(1, 1);
      const Shape& x = shape(0);
      int64_t rank = static_cast<int64_t>(x.size());
      int64_t a = n.attr_int("axis", 1);
      if (a < 0 && opset() >= 11) a += rank;
      if (a < 0 || a > rank) decline("has an axis out of range");
      bool ok = true;
      Shape out{product(x, 0, static_cast<size_t>(a), &ok), product(x, static_cast<size_t>(a), x.size(), &ok)};
      if (!ok) decline("has too many elements");
      return {{out, input(0).elem_type}};
    }
    if (op == "Transpose") {
      arity(1, 1);
      const Shape& x = shape(0);
      Ints perm = n.attr_ints("perm");
      if (!n.has_attr("perm"))
        for (size_t i = x.size(); i-- > 0;) perm.push_back(static_cast<int64_t>(i));
      if (perm.size() != x.size()) decline("has a perm whose length is not the input's rank");
      std::vector<bool> used(x.size(), false);
      Shape out;
      for (auto p : perm) {
        if (p < 0 || p >= static_cast<int64_t>(x.size()) || used[p]) decline("has a perm that is no permutation");
        used[p] = true;
        out.push_back(x[p]);
      }
      return {{out, input(0).elem_type}};
    }
    if (op == "Concat") {
      arity(1, 1024);
      if (!n.has_attr("axis")) decline("lacks axis");
      Shape out = shape(0);
      int64_t a = axis(n.attr_int("axis", 0), static_cast<int64_t>(out.size()), opset() >= 11);
      for (size_t k = 1; k < num_inputs(); ++k) {
        const Shape& s = shape(k);
        if (s.size() != out.size()) decline("has inputs of different ranks");
        for (size_t i = 0; i < s.size(); ++i)
          if (static_cast<int64_t>(i) != a && s[i] != out[i]) decline("has inputs whose other dimensions differ");
        if (__builtin_add_overflow(out[a], s[a], &out[a])) decline("has too many elements");
      }
      return {{out, input(0).elem_type}};
    }
    if (op == "Split") {
      if (opset() < 13) arity(1, 1, 1, 1024);
      else arity(1, 2, 1, 1024);
      return split();
    }
    if (op == "Slice") {
      if (opset() < 10) arity(1, 1);
      else arity(3, 5);
      return {slice()};
    }
    if (op == "Squeeze" || op == "Unsqueeze") {
      if (opset() < 13) arity(1, 1);
      else if (op == "Squeeze") arity(1, 2);
      else arity(2, 2);
      const Shape& x = shape(0);
      Ints axes = opset() < 13 ? n.attr_ints("axes") : has_input(1) ? ints(1) : Ints{};
      if (opset() < 13 && !n.has_attr("axes")) decline("lacks axes, which ONNX's inference needs before opset 13");
      bool negative = opset() >= 11;
      if (op == "Squeeze") {
        std::set<int64_t> drop;
        for (auto a : axes) {
          int64_t i = axis(a, static_cast<int64_t>(x.size()), negative);
          if (x[i] != 1) decline("squeezes a dimension that is not 1");
          drop.insert(i);
        }
        Shape out;
        for (size_t i = 0; i < x.size(); ++i) {
          bool squeezed = axes.empty() ? x[i] == 1 : drop.count(static_cast<int64_t>(i)) != 0;
          if (!squeezed) out.push_back(x[i]);
        }
        return {{out, input(0).elem_type}};
      }
      int64_t rank = static_cast<int64_t>(x.size() + axes.size());
      std::set<int64_t> added;
      for (auto a : axes)
        if (!added.insert(axis(a, rank, negative)).second) decline("has duplicate axes");
      Shape out;
      size_t next = 0;
      for (int64_t i = 0; i < rank; ++i) out.push_back(added.count(i) ? 1 : x[next++]);
      return {{out, input(0).elem_type}};
    }
    if (op == "Shape") {
      arity(1, 1);
      const Shape& x = shape(0);
      if (opset() < 15 && (n.has_attr("start") || n.has_attr("end"))) decline("has start or end before opset 15");
      int64_t rank = static_cast<int64_t>(x.size());
      int64_t start = normalise_index(n.attr_int("start", 0), rank), end = normalise_index(n.attr_int("end", rank), rank);
      Ints v = end > start ? Ints(x.begin() + start, x.begin() + end) : Ints{};
      values_[n.outputs[0]] = v;
      return {{Shape{static_cast<int64_t>(v.size())}, kInt64}};
    }
    if (op == "Gather") {
      arity(2, 2);
      const Shape &x = shape(0), &idx = shape(1);
      int64_t a = axis(n.attr_int("axis", 0), static_cast<int64_t>(x.size()), opset() >= 11);
      Shape out(x.begin(), x.begin() + a);
      out.insert(out.end(), idx.begin(), idx.end());
      out.insert(out.end(), x.begin() + a + 1, x.end());
      return {{out, input(0).elem_type}};
    }
    if (op == "Pad") {
      if (opset() < 11) arity(1, 1);
      else arity(2, 3);
      const Shape& x = shape(0);
      Ints pads = opset() < 11 ? n.attr_ints("pads") : ints(1);
      if (pads.size() != 2 * x.size()) decline("has pads whose count is not twice the input's rank");
      Shape out = x;
      for (size_t i = 0; i < x.size(); ++i)
        if (__builtin_add_overflow(out[i], pads[i], &out[i]) ||
            __builtin_add_overflow(out[i], pads[i + x.size()], &out[i]))
          decline("has pads out of range");
      return {{out, input(0).elem_type}};
    }
    if (op == "ReduceMean" || op == "ReduceMax" || op == "ReduceMin" || op == "ReduceSum" || op == "ReduceProd" ||
        op == "ReduceL2") {
      if (op == "ReduceSum" && opset() >= 13) arity(1, 2);
      else arity(1, 1);
      return reduce();
    }
    if (op == "Resize") {
      if (opset() < 11) arity(2, 2, 1, 1, 10);
      else if (opset() < 13) arity(3, 4);
      else arity(1, 4);
      return {resize()};
    }
    if (op == "Upsample") {
      if (opset() >= 10) decline("is deprecated in this opset");
      if (opset() < 9) {
        arity(1, 1);
        auto it = n.attrs.find("scales");
        if (it == n.attrs.end() || !std::holds_alternative<std::vector<double>>(it->second))
          decline("lacks float scales");
        return {scaled(std::get<std::vector<double>>(it->second))};
      }
      arity(2, 2);
      return {scaled(floats(1))};
    }
    if (op == "Expand") {
      arity(2, 2, 1, 1, 8);
      return {{broadcast({shape(0), ints(1)}), input(0).elem_type}};
    }
    if (op == "Tile") {
      arity(2, 2);
      const Shape& x = shape(0);
      const Ints& repeats = ints(1);
      if (repeats.size() != x.size()) decline("has repeats whose count is not the input's rank");
      Shape out = x;
      for (size_t i = 0; i < x.size(); ++i)
        if (repeats[i] < 0 || __builtin_mul_overflow(out[i], repeats[i], &out[i])) decline("has bad repeats");
      return {{out, input(0).elem_type}};
    }
    if (op == "Constant") {
      arity(0, 0);
      const Tensor* t = g_.find_tensor(n.outputs[0]);
      if (t && t->is_constant) return {{t->shape, t->elem_type}};
      if (opset() < 12 || n.attrs.size() != 1) decline("has a value this inference does not read");
      if (n.has_attr("value_int")) return {{Shape{}, kInt64}};
      if (n.has_attr("value_float")) return {{Shape{}, 1}};
      auto it = n.attrs.begin();
      if (it->first == "value_ints" && std::holds_alternative<Ints>(it->second))
        return {{Shape{static_cast<int64_t>(std::get<Ints>(it->second).size())}, kInt64}};
      if (it->first == "value_floats" && std::holds_alternative<std::vector<double>>(it->second))
        return {{Shape{static_cast<int64_t>(std::get<std::vector<double>>(it->second).size())}, 1}};
      decline("has a value this inference does not read");
    }
    decline("is an op this inference does not handle");
  }
};

}  // namespace

std::string infer_shapes(Graph& graph) {
  try {
    Inference(graph).run();
  } catch (const Declined& d) {
    return d.why;
  }
  return "";
}

}  // namespace deepen
