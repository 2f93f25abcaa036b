// Shape rules of the ops that make values rather than transform them: Constant, Shape, and the
// fold of ConstantOfShape (whose shape ONNX's inference gives).
#include "graph/shape_rules.h"

#include <variant>

namespace deepen::rules {

using Ints = std::vector<int64_t>;

// Constant: the loader has read its `value` tensor into the graph; the scalar and list forms of
// opset 12 are read here.
InferredOutputs constant(InferContext& ctx) {
  ctx.arity(0, 0);
  const Node& n = ctx.node();
  const Tensor* t = ctx.output_tensor(0);
  if (t && t->is_constant) return {{t->shape, t->elem_type}};
  if (ctx.opset() < 12 || n.attrs.size() != 1) ctx.decline("has a value this inference does not read");
  if (n.has_attr("value_int")) return {{Shape{}, kInt64Type}};
  if (n.has_attr("value_float")) return {{Shape{}, 1}};
  auto it = n.attrs.begin();
  if (it->first == "value_ints" && std::holds_alternative<Ints>(it->second))
    return {{Shape{static_cast<int64_t>(std::get<Ints>(it->second).size())}, kInt64Type}};
  if (it->first == "value_floats" && std::holds_alternative<std::vector<double>>(it->second))
    return {{Shape{static_cast<int64_t>(std::get<std::vector<double>>(it->second).size())}, 1}};
  ctx.decline("has a value this inference does not read");
}

// Shape: the input's dimensions (from start to end, opset 15) as an int64 list, whose values
// later rules read (Shape -> Gather -> Concat -> Reshape).
InferredOutputs shape(InferContext& ctx) {
  ctx.arity(1, 1);
  const Node& n = ctx.node();
  const Shape& x = ctx.shape(0);
  if (ctx.opset() < 15 && (n.has_attr("start") || n.has_attr("end"))) ctx.decline("has start or end before opset 15");
  int64_t rank = static_cast<int64_t>(x.size());
  int64_t start = normalise_index(n.attr_int("start", 0), rank), end = normalise_index(n.attr_int("end", rank), rank);
  Ints v = end > start ? Ints(x.begin() + start, x.begin() + end) : Ints{};
  const auto count = static_cast<int64_t>(v.size());
  ctx.set_values(0, std::move(v));
  return {{Shape{count}, kInt64Type}};
}

std::optional<Ints> fold_constant(const Node& n, const IntsLookup&, const ShapeLookup&) {
  if (n.has_attr("value_int")) return Ints{n.attr_int("value_int", 0)};
  if (n.has_attr("value_ints")) return n.attr_ints("value_ints");
  return std::nullopt;
}

// ConstantOfShape with an integer value (the loader keeps an integer `value` tensor as one int).
std::optional<Ints> fold_constant_of_shape(const Node& n, const IntsLookup& lookup, const ShapeLookup&) {
  const Ints* dims = input_values(n, lookup, 0);
  auto value = n.attr_ints("value");
  if (!dims || value.size() != 1) return std::nullopt;
  int64_t count = element_count(*dims);
  if (count < 0 || count > static_cast<int64_t>(kMaxFoldedValues)) return std::nullopt;
  return Ints(static_cast<size_t>(count), value[0]);
}

}  // namespace deepen::rules
