#include "graph/folding.h"

#include <deepen/error.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>

namespace deepen {
namespace {

using Ints = std::vector<int64_t>;

// Shape arithmetic works on a few numbers; Concat of Concats of constants could otherwise double
// a list at every node and exhaust memory.
constexpr size_t kMaxFoldedValues = 4096;

const Ints* ints_of(const Graph& g, const std::string& name) {
  const Tensor* t = g.find_tensor(name);
  return t && t->has_int_values ? &t->int_values : nullptr;
}

}  // namespace

int64_t element_count(const Shape& shape) {
  int64_t n = 1;
  for (auto d : shape)
    if (d < 0 || __builtin_mul_overflow(n, d, &n)) return -1;
  return n;
}

int64_t normalise_index(int64_t i, int64_t size) {
  if (i < 0) i += size;
  return std::clamp<int64_t>(i, 0, size);
}

namespace {

std::optional<Ints> elementwise(const Ints& a, const Ints& b, std::string_view op) {
  size_t n = std::max(a.size(), b.size());
  if (!(a.size() == n || a.size() == 1) || !(b.size() == n || b.size() == 1)) return std::nullopt;
  Ints out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t x = a[a.size() == 1 ? 0 : i], y = b[b.size() == 1 ? 0 : i];
    int64_t r = 0;
    if (op == "Add" && __builtin_add_overflow(x, y, &r)) return std::nullopt;
    if (op == "Sub" && __builtin_sub_overflow(x, y, &r)) return std::nullopt;
    if (op == "Mul" && __builtin_mul_overflow(x, y, &r)) return std::nullopt;
    if (op == "Div") {
      if (y == 0 || (x == INT64_MIN && y == -1)) return std::nullopt;
      r = x / y;
    }
    if (op == "Equal") r = x == y;
    out[i] = r;
  }
  return out;
}

// The shape of a small integer tensor: its known shape when that fits its values, else 1-D.
Shape shape_of(const std::string& name, const Ints& values, const ShapeLookup& shapes) {
  const Shape* s = shapes ? shapes(name) : nullptr;
  if (s && element_count(*s) == static_cast<int64_t>(values.size())) return *s;
  return {static_cast<int64_t>(values.size())};
}

// Row-major offsets of every element of `out_shape`, where output index k along axis a reads
// input index first[a] + k * step[a] of a tensor of shape `in_shape` (Slice and Transpose).
Ints gather_nd(const Ints& data, const Shape& in_shape, const Shape& out_shape, const Ints& first, const Ints& step,
               const std::vector<size_t>& in_axis) {
  size_t rank = out_shape.size();
  Ints in_stride(in_shape.size(), 1);
  for (size_t a = in_shape.size(); a-- > 1;) in_stride[a - 1] = in_stride[a] * in_shape[a];
  Ints out;
  int64_t total = element_count(out_shape);
  out.reserve(static_cast<size_t>(std::max<int64_t>(total, 0)));
  Ints idx(rank, 0);
  for (int64_t e = 0; e < total; ++e) {
    int64_t offset = 0;
    for (size_t a = 0; a < rank; ++a) offset += (first[a] + idx[a] * step[a]) * in_stride[in_axis[a]];
    out.push_back(data[static_cast<size_t>(offset)]);
    for (size_t a = rank; a-- > 0;) {
      if (++idx[a] < out_shape[a]) break;
      idx[a] = 0;
    }
  }
  return out;
}

struct SliceWindow {
  Shape out_shape;
  Ints first, step;
};

// ONNX Slice's output window on a tensor of `shape`: any rank, any axes, any non-zero steps.
std::optional<SliceWindow> slice_window(const Shape& shape, const Ints& starts, const Ints& ends, Ints axes,
                                        const Ints& steps) {
  const auto rank = static_cast<int64_t>(shape.size());
  if (axes.empty())
    for (int64_t a = 0; a < static_cast<int64_t>(starts.size()); ++a) axes.push_back(a);
  if (starts.size() != ends.size() || axes.size() != starts.size() || steps.size() != starts.size())
    return std::nullopt;
  SliceWindow w{shape, Ints(rank, 0), Ints(rank, 1)};
  std::vector<bool> seen(rank, false);
  for (size_t k = 0; k < axes.size(); ++k) {
    int64_t a = axes[k] < 0 ? axes[k] + rank : axes[k];
    if (a < 0 || a >= rank || seen[a] || steps[k] == 0) return std::nullopt;
    seen[a] = true;
    int64_t dim = shape[a], s = starts[k], e = ends[k], st = steps[k];
    if (dim < 0 || st == INT64_MIN) return std::nullopt;
    if (dim == 0) {
      w.out_shape[a] = 0;
      continue;
    }
    if (s < 0) s = s < -dim ? 0 : s + dim;  // a start or end beyond the front, as INT64_MIN
    if (e < 0) e = e < -dim ? -1 : e + dim;
    if (st > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      w.out_shape[a] = e > s ? (e - s - 1) / st + 1 : 0;
    } else {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      w.out_shape[a] = s > e ? (s - e - 1) / -st + 1 : 0;
    }
    w.first[a] = s;
    w.step[a] = st;
  }
  return w;
}

// The starts, ends, axes and steps of a Slice, from attributes (opset < 10) or constant inputs.
bool slice_arguments(const Node& n, const IntsLookup& lookup, Ints* starts, Ints* ends, Ints* axes, Ints* steps) {
  auto in = [&](size_t k) -> const Ints* {
    return k < n.inputs.size() && !n.inputs[k].empty() ? lookup(n.inputs[k]) : nullptr;
  };
  if (n.inputs.size() >= 3) {
    if (!in(1) || !in(2)) return false;
    *starts = *in(1);
    *ends = *in(2);
    if (n.inputs.size() >= 4 && !n.inputs[3].empty()) {
      if (!in(3)) return false;
      *axes = *in(3);
    }
    if (n.inputs.size() >= 5 && !n.inputs[4].empty()) {
      if (!in(4)) return false;
      *steps = *in(4);
    }
  } else {
    *starts = n.attr_ints("starts");
    *ends = n.attr_ints("ends");
    *axes = n.attr_ints("axes");
  }
  if (steps->empty()) steps->assign(starts->size(), 1);
  return true;
}

// ONNX Slice on a small integer tensor.
std::optional<Ints> slice_values(const Ints& data, const Shape& shape, const Ints& starts, const Ints& ends,
                                 const Ints& axes, const Ints& steps) {
  auto w = slice_window(shape, starts, ends, axes, steps);
  if (!w) return std::nullopt;
  const auto rank = static_cast<int64_t>(shape.size());
  std::vector<size_t> same(rank);
  for (int64_t a = 0; a < rank; ++a) same[a] = static_cast<size_t>(a);
  return gather_nd(data, shape, w->out_shape, w->first, w->step, same);
}

}  // namespace

std::optional<Ints> evaluate_ints(const Node& n, const IntsLookup& lookup, const ShapeLookup& shapes) {
  auto in = [&](size_t k) -> const Ints* {
    return k < n.inputs.size() && !n.inputs[k].empty() ? lookup(n.inputs[k]) : nullptr;
  };
  const std::string_view op = n.op;  // compared with many literals: a view compares sizes first
  if (op == "Constant") {
    if (n.has_attr("value_int")) return Ints{n.attr_int("value_int", 0)};
    if (n.has_attr("value_ints")) return n.attr_ints("value_ints");
    return std::nullopt;
  }
  if (op == "Cast" || op == "Unsqueeze" || op == "Squeeze" || op == "Reshape" || op == "Flatten" ||
      op == "Identity") {
    const Ints* a = in(0);
    if (!a) return std::nullopt;
    if (op == "Cast") {
      int64_t to = n.attr_int("to", 0);
      if (to != 6 && to != 7) return std::nullopt;
    }
    return *a;
  }
  if (op == "Gather") {
    const Ints *data = in(0), *idx = in(1);
    if (!data || !idx || n.attr_int("axis", 0) != 0) return std::nullopt;
    Ints out;
    int64_t size = static_cast<int64_t>(data->size());
    for (int64_t i : *idx) {
      if (i < -size || i >= size) return std::nullopt;
      out.push_back((*data)[i < 0 ? i + size : i]);
    }
    return out;
  }
  if (op == "Concat") {
    Ints out;
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      const Ints* a = in(k);
      if (!a) return std::nullopt;
      out.insert(out.end(), a->begin(), a->end());
    }
    return out;
  }
  if (op == "Slice") {
    const Ints* data = in(0);
    if (!data) return std::nullopt;
    Ints starts, ends, axes, steps;
    if (!slice_arguments(n, lookup, &starts, &ends, &axes, &steps)) return std::nullopt;
    // Without shapes a tensor is taken as 1-D, which only a plain slice of axis 0 can rely on.
    if (!shapes && (starts.size() != 1 || (!axes.empty() && axes != Ints{0}) || steps != Ints{1}))
      return std::nullopt;
    return slice_values(*data, shape_of(n.inputs[0], *data, shapes), starts, ends, axes, steps);
  }
  if (op == "Transpose") {
    const Ints* data = in(0);
    if (!data || !shapes) return std::nullopt;
    Shape shape = shape_of(n.inputs[0], *data, shapes);
    const size_t rank = shape.size();
    Ints perm = n.attr_ints("perm");
    if (perm.empty())
      for (size_t a = rank; a-- > 0;) perm.push_back(static_cast<int64_t>(a));
    if (perm.size() != rank) return std::nullopt;
    Shape out_shape(rank);
    std::vector<size_t> in_axis(rank);
    std::vector<bool> seen(rank, false);
    for (size_t a = 0; a < rank; ++a) {
      if (perm[a] < 0 || perm[a] >= static_cast<int64_t>(rank) || seen[perm[a]]) return std::nullopt;
      seen[perm[a]] = true;
      in_axis[a] = static_cast<size_t>(perm[a]);
      out_shape[a] = shape[in_axis[a]];
    }
    return gather_nd(*data, shape, out_shape, Ints(rank, 0), Ints(rank, 1), in_axis);
  }
  if (op == "ConstantOfShape") {
    const Ints* dims = in(0);
    auto value = n.attr_ints("value");  // the loader keeps an integer `value` tensor as one int
    if (!dims || value.size() != 1) return std::nullopt;
    int64_t count = element_count(*dims);
    if (count < 0 || count > static_cast<int64_t>(kMaxFoldedValues)) return std::nullopt;
    return Ints(static_cast<size_t>(count), value[0]);
  }
  if (op == "Equal") {
    const Ints *a = in(0), *b = in(1);
    if (!a || !b) return std::nullopt;
    return elementwise(*a, *b, op);
  }
  if (op == "Where") {
    const Ints *c = in(0), *a = in(1), *b = in(2);
    if (!c || !a || !b) return std::nullopt;
    size_t size = std::max({c->size(), a->size(), b->size()});
    for (const Ints* v : {c, a, b})
      if (v->size() != size && v->size() != 1) return std::nullopt;
    auto at = [](const Ints* v, size_t i) { return (*v)[v->size() == 1 ? 0 : i]; };
    Ints out(size);
    for (size_t i = 0; i < size; ++i) out[i] = at(c, i) ? at(a, i) : at(b, i);
    return out;
  }
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") {
    const Ints *a = in(0), *b = in(1);
    if (!a || !b) return std::nullopt;
    return elementwise(*a, *b, op);
  }
  return std::nullopt;
}

std::optional<Shape> reshape_output(const Shape& input, const Ints& target) {
  Shape out;
  int64_t known = 1, infer_at = -1;
  for (size_t i = 0; i < target.size(); ++i) {
    int64_t d = target[i];
    if (d == 0) {
      if (i >= input.size()) return std::nullopt;
      d = input[i];
    }
    if (d == -1) {
      if (infer_at >= 0) return std::nullopt;
      infer_at = static_cast<int64_t>(i);
      out.push_back(1);
      continue;
    }
    if (d <= 0 || __builtin_mul_overflow(known, d, &known)) return std::nullopt;
    out.push_back(d);
  }
  int64_t total = 1;
  for (auto d : input)
    if (__builtin_mul_overflow(total, d, &total)) return std::nullopt;
  if (infer_at >= 0) {
    if (known == 0 || total % known != 0) return std::nullopt;
    out[infer_at] = total / known;
  } else if (known != total) {
    return std::nullopt;
  }
  return out;
}

namespace {

// The shape of a folded integer tensor that ONNX's inference left open: a Reshape's target, a
// Transpose's or a Slice's window on its input's shape; nullopt for 1-D.
std::optional<Shape> folded_shape(const Node& n, const Ints& values, const IntsLookup& lookup,
                                  const ShapeLookup& shapes) {
  const Ints* data = n.inputs.empty() ? nullptr : lookup(n.inputs[0]);
  if (!data) return std::nullopt;
  Shape in = shape_of(n.inputs[0], *data, shapes);
  std::optional<Shape> out;
  if (n.op == "Reshape" && n.inputs.size() >= 2) {
    if (const Ints* target = lookup(n.inputs[1])) out = reshape_output(in, *target);
  } else if (n.op == "Transpose") {
    Ints perm = n.attr_ints("perm");
    if (perm.empty())
      for (size_t a = in.size(); a-- > 0;) perm.push_back(static_cast<int64_t>(a));
    if (perm.size() != in.size()) return std::nullopt;
    out = Shape(in.size());
    for (size_t a = 0; a < perm.size(); ++a) {
      if (perm[a] < 0 || perm[a] >= static_cast<int64_t>(in.size())) return std::nullopt;
      (*out)[a] = in[perm[a]];
    }
  } else if (n.op == "Slice") {
    Ints starts, ends, axes, steps;
    if (slice_arguments(n, lookup, &starts, &ends, &axes, &steps))
      if (auto w = slice_window(in, starts, ends, axes, steps)) out = w->out_shape;
  }
  if (!out || element_count(*out) != static_cast<int64_t>(values.size())) return std::nullopt;
  return out;
}

// A constant Expand (PyTorch's `cls_token.expand(batch, -1, -1)`) folds away, but what reads it
// needs its shape, which ONNX's inference leaves open when the target comes from arithmetic.
void expand_shape(Graph& graph, const Node& node) {
  const Tensor* data = graph.find_tensor(node.inputs[0]);
  const Ints* target = ints_of(graph, node.inputs[1]);
  Tensor& out = graph.tensors[node.outputs[0]];
  if (out.shape_known || !data || !data->shape_known || !target) return;
  if (std::any_of(target->begin(), target->end(), [](int64_t d) { return d < 1; })) return;
  Shape shape(std::max(data->shape.size(), target->size()), 1);
  for (size_t k = 0; k < shape.size(); ++k) {
    size_t from_end = shape.size() - 1 - k;
    int64_t a = from_end < data->shape.size() ? data->shape[data->shape.size() - 1 - from_end] : 1;
    int64_t b = from_end < target->size() ? (*target)[target->size() - 1 - from_end] : 1;
    if (a != b && a != 1 && b != 1) return;
    shape[k] = a == 1 ? b : a;
  }
  out.shape = shape;
  out.shape_known = true;
}

}  // namespace

// Each letter's dimension from the inputs, "..." broadcast over the inputs; without "->" the
// output is the ellipsis then the letters used once, in alphabetical order.
std::optional<EinsumIndices> einsum_indices(std::string equation, const std::vector<const Shape*>& inputs) {
  equation.erase(std::remove(equation.begin(), equation.end(), ' '), equation.end());
  const size_t arrow = equation.find("->");
  const std::string lhs = equation.substr(0, arrow);
  std::vector<std::string> terms(1);
  for (char c : lhs) {
    if (c == ',') terms.emplace_back();
    else terms.back().push_back(c);
  }
  if (terms.size() != inputs.size()) return std::nullopt;
  std::map<char, int64_t> dim_of;
  std::map<char, int> uses;
  Shape ellipsis;
  bool has_ellipsis = false;
  for (size_t i = 0; i < terms.size(); ++i) {
    std::string t = terms[i];
    const size_t dots = t.find("...");
    if (dots != std::string::npos) t.erase(dots, 3);
    for (char c : t)
      if (!std::isalpha(static_cast<unsigned char>(c))) return std::nullopt;
    const Shape& shape = *inputs[i];
    if (shape.size() < t.size() || (dots == std::string::npos && shape.size() != t.size())) return std::nullopt;
    const size_t ell_rank = shape.size() - t.size();
    const size_t ell_at = dots == std::string::npos ? 0 : dots;
    if (dots != std::string::npos) {  // broadcast, right-aligned
      has_ellipsis = true;
      Shape mine(shape.begin() + static_cast<std::ptrdiff_t>(ell_at),
                 shape.begin() + static_cast<std::ptrdiff_t>(ell_at + ell_rank));
      if (mine.size() > ellipsis.size()) ellipsis.insert(ellipsis.begin(), mine.size() - ellipsis.size(), 1);
      for (size_t k = 0; k < mine.size(); ++k) {
        int64_t& e = ellipsis[ellipsis.size() - mine.size() + k];
        if (e == 1) e = mine[k];
        else if (mine[k] != 1 && mine[k] != e) return std::nullopt;
      }
    }
    for (size_t k = 0; k < t.size(); ++k) {
      const int64_t d = shape[k < ell_at ? k : k + ell_rank];
      auto [it, fresh] = dim_of.emplace(t[k], d);
      if (!fresh && it->second != d) {
        if (it->second == 1) it->second = d;
        else if (d != 1) return std::nullopt;
      }
      ++uses[t[k]];
    }
  }
  EinsumIndices result;
  Shape& out = result.output;
  if (arrow == std::string::npos) {
    out = ellipsis;
    for (const auto& [c, n] : uses)
      if (n == 1) out.push_back(dim_of[c]), result.output_letters.push_back(c);
  } else {
    std::string rhs = equation.substr(arrow + 2);
    const size_t dots = rhs.find("...");
    if (dots != std::string::npos) rhs.erase(dots, 3);
    for (size_t k = 0; k <= rhs.size(); ++k) {
      if (dots != std::string::npos && k == dots) out.insert(out.end(), ellipsis.begin(), ellipsis.end());
      if (k == rhs.size()) break;
      auto it = dim_of.find(rhs[k]);
      if (it == dim_of.end()) return std::nullopt;
      out.push_back(it->second);
      result.output_letters.push_back(rhs[k]);
    }
    if (dots == std::string::npos && has_ellipsis && !ellipsis.empty()) return std::nullopt;
  }
  result.dims = std::move(dim_of);
  result.ellipsis = std::move(ellipsis);
  return result;
}


void fold_constants(Graph& graph) {
  std::unordered_map<std::string, std::string> alias;
  auto resolve = [&](const std::string& name) {
    auto it = alias.find(name);
    return it == alias.end() ? name : it->second;
  };
  std::vector<Node> kept;
  kept.reserve(graph.nodes.size());
  for (auto& node : graph.nodes) {
    for (auto& in : node.inputs)
      if (!in.empty()) in = resolve(in);
    const std::string label = fmt::format("{} ({})", node.name, node.op);

    bool all_constant = true;
    for (const auto& in : node.inputs) {
      if (in.empty()) continue;
      const Tensor* t = graph.find_tensor(in);
      if (!t || !t->is_constant) all_constant = false;
    }
    if (node.op == "Shape" && !node.inputs.empty()) {
      const Tensor* t = graph.find_tensor(node.inputs[0]);
      if (t && t->shape_known) {
        int64_t rank = static_cast<int64_t>(t->shape.size());
        int64_t start = normalise_index(node.attr_int("start", 0), rank);
        int64_t end = normalise_index(node.attr_int("end", rank), rank);
        Tensor& out = graph.tensors[node.outputs[0]];
        out.name = node.outputs[0];
        out.is_constant = true;
        out.elem_type = 7;
        out.int_values = end > start ? Ints(t->shape.begin() + start, t->shape.begin() + end) : Ints{};
        out.has_int_values = true;
        out.shape = {static_cast<int64_t>(out.int_values.size())};
        out.shape_known = true;
        graph.folded.push_back(label);
        continue;
      }
    }
    if (all_constant && node.op != "RandomNormal" && node.op != "RandomUniform") {
      auto known_shape = [&](const std::string& name) -> const Shape* {
        const Tensor* t = graph.find_tensor(name);
        return t && t->shape_known ? &t->shape : nullptr;
      };
      auto lookup = [&](const std::string& name) { return ints_of(graph, name); };
      std::optional<Ints> values = evaluate_ints(node, lookup, known_shape);
      if (node.op == "Expand" && node.inputs.size() == 2) expand_shape(graph, node);
      for (size_t k = 0; k < node.outputs.size(); ++k) {
        if (node.outputs[k].empty()) continue;
        Tensor& out = graph.tensors[node.outputs[k]];
        out.name = node.outputs[k];
        out.is_constant = true;
        if (k == 0 && values && values->size() <= kMaxFoldedValues) {
          out.int_values = *values;
          out.has_int_values = true;
          if (!out.shape_known) {
            out.shape = folded_shape(node, *values, lookup, known_shape)
                            .value_or(Shape{static_cast<int64_t>(values->size())});
            out.shape_known = true;
          }
        }
        if (k == 0 && node.op == "Constant" && node.has_attr("value_float")) {
          out.float_values = {node.attr_float("value_float", 0)};
          out.has_float_values = true;
        }
      }
      graph.folded.push_back(label);
      continue;
    }
    bool no_op_pad = false;
    if (node.op == "Pad") {
      std::vector<int64_t> pads = node.attr_ints("pads");
      if (node.inputs.size() > 1 && !node.inputs[1].empty()) {
        const Ints* p = ints_of(graph, node.inputs[1]);
        pads = p ? *p : std::vector<int64_t>{1};
      }
      no_op_pad = std::all_of(pads.begin(), pads.end(), [](int64_t v) { return v == 0; });
    }
    if ((node.op == "Identity" || node.op == "Dropout" || no_op_pad) && !node.inputs.empty() &&
        !node.inputs[0].empty()) {
      Tensor& src = graph.tensors[node.inputs[0]];
      const Tensor* dst = graph.find_tensor(node.outputs[0]);
      if (!src.shape_known && dst && dst->shape_known) {
        src.shape = dst->shape;
        src.shape_known = true;
      }
      alias[node.outputs[0]] = node.inputs[0];
      graph.folded.push_back(label);
      continue;
    }
    if (node.op == "Slice" && !node.inputs.empty()) {  // ONNX 1.12 leaves Slice-1's output open
      Tensor& out = graph.tensors[node.outputs[0]];
      const Tensor* data = graph.find_tensor(node.inputs[0]);
      Ints starts, ends, axes, steps;
      if (!out.shape_known && data && data->shape_known &&
          slice_arguments(node, [&](const std::string& name) { return ints_of(graph, name); }, &starts, &ends, &axes,
                          &steps))
        if (auto w = slice_window(data->shape, starts, ends, axes, steps)) {
          out.shape = w->out_shape;
          out.shape_known = true;
        }
    }
    if (node.op == "Einsum" && !node.outputs.empty()) {  // ONNX 1.12 gives only its rank
      Tensor& out = graph.tensors[node.outputs[0]];
      std::vector<const Shape*> shapes;
      for (const auto& in : node.inputs) {
        const Tensor* t = graph.find_tensor(in);
        if (!t || !t->shape_known) break;
        shapes.push_back(&t->shape);
      }
      const std::string equation = node.attr_string("equation", "");
      if (!out.shape_known && shapes.size() == node.inputs.size() && !equation.empty())
        if (auto s = einsum_indices(equation, shapes)) {
          out.shape = s->output;
          out.shape_known = true;
        }
    }
    if (node.op == "Reshape" && node.inputs.size() >= 2) {
      Tensor& out = graph.tensors[node.outputs[0]];
      const Tensor* data = graph.find_tensor(node.inputs[0]);
      const Ints* target = ints_of(graph, node.inputs[1]);
      if (!out.shape_known && data && data->shape_known && target)
        if (auto s = reshape_output(data->shape, *target)) {
          out.shape = *s;
          out.shape_known = true;
        }
    }
    kept.push_back(std::move(node));
  }
  graph.nodes = std::move(kept);
  for (auto& out : graph.outputs) out = resolve(out);
}

}  // namespace deepen
