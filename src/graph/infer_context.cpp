#include "graph/infer_context.h"

#include <fmt/format.h>

#include <algorithm>

namespace deepen {

void InferContext::decline(const std::string& what) const {
  throw Declined{fmt::format("node '{}' ({}) {}", n_->name, n_->op, what)};
}

const Tensor& InferContext::input(size_t k) const {
  if (!has_input(k)) decline(fmt::format("lacks input {}", k));
  const std::string& name = n_->inputs[k];
  const Tensor* t = g_.find_tensor(name);
  if (!ready_.count(name) || !t || !t->shape_known) decline(fmt::format("reads '{}' before its shape is known", name));
  return *t;
}

const InferContext::Ints& InferContext::ints(size_t k) const {
  input(k);
  const Ints* v = values(n_->inputs[k]);
  if (!v) decline(fmt::format("needs the values of input '{}', which are not constant", n_->inputs[k]));
  return *v;
}

std::vector<double> InferContext::floats(size_t k) const {
  const Tensor& t = input(k);
  if (!t.is_constant || !t.has_float_values || t.elem_type != 1)
    decline(fmt::format("needs the float values of input '{}', which are not constant", n_->inputs[k]));
  return t.float_values;
}

void InferContext::arity(size_t min_in, size_t max_in, size_t min_out, size_t max_out) const {
  if (num_inputs() < min_in || num_inputs() > max_in || n_->outputs.size() < min_out || n_->outputs.size() > max_out)
    decline("has an input or output count that is not handled");
}

int64_t InferContext::axis(int64_t a, int64_t rank, bool negative_allowed) const {
  if (a < 0 && negative_allowed) a += rank;
  if (a < 0 || a >= rank) decline(fmt::format("has axis {} outside a rank-{} tensor", a, rank));
  return a;
}

Shape InferContext::broadcast(const std::vector<Shape>& shapes) const {
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

InferredOutputs InferContext::broadcasting(size_t type_from, int32_t forced_type) const {
  std::vector<Shape> shapes;
  for (size_t k = 0; k < num_inputs(); ++k) shapes.push_back(shape(k));
  return {{broadcast(shapes), forced_type ? forced_type : input(type_from).elem_type}};
}

}  // namespace deepen
