#include "graph/shape_inference.h"

#include "graph/infer_context.h"
#include "graph/shape_rules.h"

#include <fmt/format.h>

#include <string_view>
#include <unordered_set>

namespace deepen {
namespace {

// The rule of the context's node, or a decline: another domain, an op without a row or without an
// infer function, an opset outside the row's range.
const OpRule& rule_of(const InferContext& ctx) {
  const Node& n = ctx.node();
  if (!n.domain.empty() && n.domain != "ai.onnx") ctx.decline("is in a domain this inference does not know");
  const OpRule* rule = find_shape_rule(n.op);
  if (!rule || !rule->infer) ctx.decline("is an op this inference does not handle");
  if (ctx.opset() < rule->since) ctx.decline(fmt::format("does not exist in opset {}", ctx.opset()));
  if (ctx.opset() > rule->until) ctx.decline("is deprecated in this opset");
  return *rule;
}

// Walks the nodes in file order: each node's rule gives its outputs' shapes and types, and its
// fold the integer values that later rules read (a Reshape's target from Shape -> Gather -> Concat).
void run(Graph& g) {
  InferContext ctx(g);
  std::unordered_set<std::string_view> written;
  written.reserve(g.nodes.size() * 2);
  ctx.reserve(g.tensors.size());
  for (const auto& node : g.nodes)
    for (const auto& out : node.outputs) written.insert(out);
  for (const auto& name : g.inputs) ctx.mark_ready(name);
  for (const auto& [name, t] : g.tensors)
    if (t.is_constant && !written.count(name)) ctx.mark_ready(name);
  written.clear();
  const IntsLookup lookup = [&](const std::string& name) { return ctx.values(name); };
  for (const auto& node : g.nodes) {
    ctx.start(node);
    for (const auto& out : node.outputs)
      if (!out.empty() && (ctx.is_ready(out) || !written.insert(out).second))
        ctx.decline("writes a tensor that an input, an initializer or another node also provides");
    const OpRule& rule = rule_of(ctx);
    InferredOutputs outs = rule.infer(ctx);
    if (outs.size() != node.outputs.size()) ctx.decline("has outputs that are not handled");
    for (size_t k = 0; k < outs.size(); ++k) {
      if (node.outputs[k].empty()) continue;
      for (auto d : outs[k].shape)
        if (d < 1) ctx.decline(fmt::format("gives an output dimension of {}", d));
      Tensor& t = g.tensors[node.outputs[k]];
      t.name = node.outputs[k];
      if (!(node.op == "Constant" && t.is_constant)) {
        t.shape = std::move(outs[k].shape);
        t.shape_known = true;
        t.elem_type = outs[k].elem_type;
      }
      ctx.mark_ready(node.outputs[k]);
    }
    if (!rule.fold) continue;
    bool any_values = false;
    for (const auto& in : node.inputs) any_values = any_values || (!in.empty() && ctx.values(in));
    if (any_values || node.op == "Constant")
      if (auto v = rule.fold(node, lookup, nullptr))
        if (v->size() <= kMaxFoldedValues) ctx.store_values(node.outputs[0], std::move(*v));
  }
}

}  // namespace

std::string infer_shapes(Graph& graph) {
  try {
    run(graph);
  } catch (const Declined& d) {
    return d.why;
  }
  return "";
}

}  // namespace deepen
