// The detection context's constructor and its longer helpers (see detect_context.h).
#include "kernels/detect_context.h"

#include "kernels/families.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace deepen {
namespace detect {

bool is_layout_op(std::string_view op) {
  return op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze" || op == "Transpose";
}

DetectContext::DetectContext(const Graph& g) : g_(g) {
  // As Graph::consumers() and producers(), keyed by views of the graph's own names.
  consumers_.reserve(g.nodes.size() * 2);
  producers_.reserve(g.nodes.size() * 2);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    for (const auto& in : g.nodes[i].inputs)
      if (!in.empty()) {
        auto& list = consumers_[in];
        if (list.empty() || list.back() != i) list.push_back(i);
      }
    for (const auto& out : g.nodes[i].outputs)
      if (!out.empty()) producers_[out] = i;
  }
  for (const auto& o : g.outputs) graph_outputs_.insert(o);
  unit_of_node_.assign(g.nodes.size(), kNone);
}

void DetectContext::sort_units() {
  std::sort(units_order_.begin(), units_order_.end(),
            [&](size_t a, size_t b) { return units_[a].nodes.front() < units_[b].nodes.front(); });
}

bool DetectContext::internal(const std::vector<size_t>& nodes, size_t last) const {
  std::unordered_set<size_t> set(nodes.begin(), nodes.end());
  for (size_t n : nodes) {
    if (n == last) continue;
    for (const auto& out : node(n).outputs) {
      if (out.empty()) continue;
      if (graph_outputs_.count(out)) return false;
      auto it = consumers_.find(out);
      if (it == consumers_.end()) continue;
      for (size_t c : it->second)
        if (!set.count(c)) return false;
    }
  }
  return true;
}

bool DetectContext::decomposed_hsigmoid(size_t div, std::vector<size_t>* nodes, std::string* x) const {
  const Node& d = node(div);
  std::string a;
  double c = 0;
  if (!((d.op == "Div" && split_binary(d, &a, &c) && c == 6.0) ||
        (d.op == "Mul" && split_binary(d, &a, &c) && std::abs(c - 1.0 / 6.0) < 1e-6)))
    return false;
  size_t clip = producer(a);
  if (clip == kNone || !is_relu6(node(clip))) return false;
  size_t add = producer(node(clip).inputs[0]);
  if (add == kNone || node(add).op != "Add") return false;
  std::string in;
  if (!split_binary(node(add), &in, &c) || c != 3.0) return false;
  *nodes = {add, clip, div};
  *x = in;
  return true;
}

std::string DetectContext::normalise(size_t i) const {
  const Node& n = node(i);
  for (const KernelFamily* family : families_of_op(n.op))
    if (!family->accepts || family->accepts(*this, n)) return family->schema.family;
  if (is_layout_op(n.op)) return n.op;
  return "other:" + n.op;
}

const Tensor& DetectContext::shaped(const std::string& name, size_t at_node) const {
  const Tensor* t = g_.find_tensor(name);
  if (!t || !t->shape_known) {
    // Name the node whose output is open: that is where inference stopped (an Einsum, whose
    // shape ONNX 1.12 leaves open, or arithmetic on shapes in floating point).
    size_t from = producer(name);
    std::string where = from == at_node
                            ? fmt::format("the output of node '{}', {}", node(from).name, node(from).op)
                            : fmt::format("{}read by node '{}', {}",
                                          from == kNone ? std::string()
                                                        : fmt::format("written by node '{}', {}; ", node(from).name,
                                                                      node(from).op),
                                          node(at_node).name, node(at_node).op);
    throw Error::in_file(g_.name,
                         fmt::format("cannot resolve the shape of tensor '{}' ({}); if the model has dynamic "
                                     "dimensions, give the input's size with --input-shape NAME:1x3x224x224",
                                     name, where));
  }
  int64_t elements = 1;
  for (auto d : t->shape) {
    if (d <= 0)
      throw Error::in_file(
          g_.name,
          fmt::format("tensor '{}' (read by node '{}') has a dimension of {}; every dimension must be positive", name,
                      node(at_node).name, d));
    // Work is counted from element counts: refuse shapes whose count int64 cannot hold.
    if (__builtin_mul_overflow(elements, d, &elements))
      throw Error::in_file(g_.name, fmt::format("tensor '{}' (read by node '{}') has too many elements ({}: more "
                                                "than 2^63); check the model's shapes or --input-shape",
                                                name, node(at_node).name, fmt::join(t->shape, "x")));
  }
  return *t;
}
void DetectContext::set_activation(KernelConfig& c, const Tensor& t) {
  const Shape& s = t.shape;
  double batch = s.empty() ? 1.0 : static_cast<double>(s[0]);
  if (s.size() == 4) {
    c.set("hw", static_cast<double>(s[2]));
    c.set("cin", static_cast<double>(s[1]));
    if (s[3] != s[2]) c.set("w", static_cast<double>(s[3]));
  } else {
    double rest = 1;
    for (size_t k = 1; k < s.size(); ++k) rest *= static_cast<double>(s[k]);
    c.set("hw", 1);
    c.set("cin", s.size() <= 1 ? std::max(1.0, batch) : rest);
    batch = s.size() <= 1 ? 1.0 : batch;
  }
  if (batch > 1) c.set("batch", batch);
}

}  // namespace detect
}  // namespace deepen
