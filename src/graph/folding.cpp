#include "graph/folding.h"

#include "graph/shape_rules.h"

#include <deepen/error.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>

namespace deepen {
namespace {

using Ints = std::vector<int64_t>;

const Ints* ints_of(const Graph& g, const std::string& name) {
  const Tensor* t = g.find_tensor(name);
  return t && t->has_int_values ? &t->int_values : nullptr;
}

}  // namespace

std::optional<Ints> evaluate_ints(const Node& n, const IntsLookup& lookup, const ShapeLookup& shapes) {
  const OpRule* rule = find_shape_rule(n.op);
  if (!rule || !rule->fold) return std::nullopt;
  return rule->fold(n, lookup, shapes);
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
