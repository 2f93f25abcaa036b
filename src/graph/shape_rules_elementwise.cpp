// Shape rules of the elementwise ops: activations and unary math, Clip, Cast, PRelu, the
// broadcasting arithmetic and comparisons, Where. Each output position reads the same position
// of its (broadcast) inputs, so the output has the inputs' broadcast shape.
#include "graph/shape_rules.h"

#include <algorithm>
#include <string_view>

namespace deepen::rules {

using Ints = std::vector<int64_t>;

// Relu, Sigmoid, Exp, ...: one input, its shape and type.
InferredOutputs unary(InferContext& ctx) {
  ctx.arity(1, 1);
  return ctx.same_as_input();
}

// Clip: min and max as attributes (before opset 11) or as optional inputs.
InferredOutputs clip(InferContext& ctx) {
  if (ctx.opset() < 11) ctx.arity(1, 1);
  else ctx.arity(1, 3);
  for (size_t k = 1; k < ctx.num_inputs(); ++k)
    if (ctx.has_input(k)) ctx.input(k);
  return ctx.same_as_input();
}

InferredOutputs cast(InferContext& ctx) {
  ctx.arity(1, 1);
  const Node& n = ctx.node();
  int64_t to = n.attr_int("to", 0);
  if (!n.has_attr("to") || to < 1 || to > 16 || to == 8) ctx.decline("casts to a type that is not handled");
  return {{ctx.shape(0), static_cast<int32_t>(to)}};
}

// PRelu: the slope broadcasts to the input, never the other way.
InferredOutputs prelu(InferContext& ctx) {
  ctx.arity(2, 2);
  if (ctx.broadcast({ctx.shape(0), ctx.shape(1)}) != ctx.shape(0))
    ctx.decline("has a slope that does not broadcast to its input");
  return ctx.same_as_input();
}

// Add, Sub, Mul, Div, Pow.
InferredOutputs binary(InferContext& ctx) {
  ctx.arity(2, 2);
  return ctx.broadcasting(0);
}

// Max, Min, Sum, Mean: any number of inputs.
InferredOutputs variadic(InferContext& ctx) {
  ctx.arity(1, 64);
  return ctx.broadcasting(0);
}

// Equal, Less, Greater: a bool tensor.
InferredOutputs comparison(InferContext& ctx) {
  ctx.arity(2, 2);
  return ctx.broadcasting(0, kBoolType);
}

// Where(condition, x, y): the type of x.
InferredOutputs where(InferContext& ctx) {
  ctx.arity(3, 3);
  return ctx.broadcasting(1);
}

// A Cast to int32 or int64 keeps integer values.
std::optional<Ints> fold_cast(const Node& n, const IntsLookup& lookup, const ShapeLookup&) {
  const Ints* a = input_values(n, lookup, 0);
  if (!a) return std::nullopt;
  int64_t to = n.attr_int("to", 0);
  if (to != 6 && to != 7) return std::nullopt;
  return *a;
}

// Add, Sub, Mul, Div, Equal of two integer lists of equal length, or of a list and one number;
// nullopt on overflow or division by zero.
std::optional<Ints> fold_arithmetic(const Node& n, const IntsLookup& lookup, const ShapeLookup&) {
  const Ints *pa = input_values(n, lookup, 0), *pb = input_values(n, lookup, 1);
  if (!pa || !pb) return std::nullopt;
  const Ints &a = *pa, &b = *pb;
  const std::string_view op = n.op;
  size_t size = std::max(a.size(), b.size());
  if (!(a.size() == size || a.size() == 1) || !(b.size() == size || b.size() == 1)) return std::nullopt;
  Ints out(size);
  for (size_t i = 0; i < size; ++i) {
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

std::optional<Ints> fold_where(const Node& n, const IntsLookup& lookup, const ShapeLookup&) {
  const Ints *c = input_values(n, lookup, 0), *a = input_values(n, lookup, 1), *b = input_values(n, lookup, 2);
  if (!c || !a || !b) return std::nullopt;
  size_t size = std::max({c->size(), a->size(), b->size()});
  for (const Ints* v : {c, a, b})
    if (v->size() != size && v->size() != 1) return std::nullopt;
  auto at = [](const Ints* v, size_t i) { return (*v)[v->size() == 1 ? 0 : i]; };
  Ints out(size);
  for (size_t i = 0; i < size; ++i) out[i] = at(c, i) ? at(a, i) : at(b, i);
  return out;
}

}  // namespace deepen::rules
