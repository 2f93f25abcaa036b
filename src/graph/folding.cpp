#include "graph/folding.h"

#include <deepen/error.h>

#include <fmt/format.h>

#include <algorithm>
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

int64_t normalise_index(int64_t i, int64_t size) {
  if (i < 0) i += size;
  return std::clamp<int64_t>(i, 0, size);
}

namespace {

std::optional<Ints> elementwise(const Ints& a, const Ints& b, const std::string& op) {
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
    out[i] = r;
  }
  return out;
}

}  // namespace

std::optional<Ints> evaluate_ints(const Node& n, const IntsLookup& lookup) {
  auto in = [&](size_t k) -> const Ints* {
    return k < n.inputs.size() && !n.inputs[k].empty() ? lookup(n.inputs[k]) : nullptr;
  };
  const std::string& op = n.op;
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
    Ints starts, ends, steps{1};
    if (n.inputs.size() >= 3) {
      if (!in(1) || !in(2)) return std::nullopt;
      starts = *in(1);
      ends = *in(2);
      if (n.inputs.size() >= 4 && !n.inputs[3].empty()) {
        if (!in(3) || in(3)->size() != 1 || (*in(3))[0] != 0) return std::nullopt;
      }
      if (n.inputs.size() >= 5 && !n.inputs[4].empty()) {
        if (!in(4)) return std::nullopt;
        steps = *in(4);
      }
    } else {
      starts = n.attr_ints("starts");
      ends = n.attr_ints("ends");
    }
    if (starts.size() != 1 || ends.size() != 1 || steps.size() != 1 || steps[0] != 1) return std::nullopt;
    int64_t size = static_cast<int64_t>(data->size());
    int64_t s = normalise_index(starts[0], size), e = normalise_index(std::min(ends[0], size), size);
    return e > s ? Ints(data->begin() + s, data->begin() + e) : Ints{};
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
      std::optional<Ints> values =
          evaluate_ints(node, [&](const std::string& name) { return ints_of(graph, name); });
      for (size_t k = 0; k < node.outputs.size(); ++k) {
        if (node.outputs[k].empty()) continue;
        Tensor& out = graph.tensors[node.outputs[k]];
        out.name = node.outputs[k];
        out.is_constant = true;
        if (k == 0 && values && values->size() <= kMaxFoldedValues) {
          out.int_values = *values;
          out.has_int_values = true;
          if (!out.shape_known) {
            out.shape = {static_cast<int64_t>(values->size())};
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
