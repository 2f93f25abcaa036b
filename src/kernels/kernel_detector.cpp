// Graph -> kernels in three steps: every node becomes a unit with a normalised op (the structural
// matchers of matchers/ first make one unit of each block they recognise: SE, channel shuffle,
// hard-swish, MatMul + bias, the LayerNorm and GELU that exporters decompose); chains of units are
// fused by the fusion rules; each kernel gets its config and work.
#include "kernels/detect_context.h"
#include "kernels/families.h"
#include "kernels/matchers/matchers.h"

#include <deepen/error.h>
#include <deepen/kernels.h>
#include <deepen/schema.h>

#include <fmt/format.h>

#include <algorithm>
#include <string_view>

namespace deepen {
namespace {

using detect::DetectContext;
using detect::Unit;
using detect::is_layout_op;
constexpr size_t kNone = DetectContext::kNone;

class Detector {
 public:
  Detector(const Graph& g, const FusionRules& rules) : ctx_(g), rules_(rules) {}

  std::vector<Kernel> run() {
    const size_t n = ctx_.graph().nodes.size();
    for (const auto& matcher : detect::structural_matchers())
      for (size_t i = 0; i < n; ++i) matcher.match(ctx_, i);
    for (size_t i = 0; i < n; ++i)
      if (ctx_.free(i)) ctx_.add_unit(single_unit(i));
    ctx_.sort_units();
    return fuse();
  }

 private:
  Unit single_unit(size_t i) const {
    const Node& n = ctx_.node(i);
    Unit u;
    u.op = ctx_.normalise(i);
    u.nodes = {i};
    for (const auto& in : n.inputs)
      if (!in.empty() && !ctx_.is_const(in)) {
        u.input = in;
        break;
      }
    u.output = n.outputs[0];
    if (is_layout_op(n.op)) {
      u.zero_cost = true;
      std::string lower = n.op;
      std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
      u.op = lower;
    }
    return u;
  }

  // ---- fusion of chains
  std::vector<Kernel> fuse() {
    std::vector<std::vector<std::string>> chains = rules_.chains;
    std::stable_sort(chains.begin(), chains.end(),
                     [](const auto& a, const auto& b) { return a.size() > b.size(); });
    std::vector<bool> used(ctx_.units().size(), false);
    std::vector<Kernel> kernels;
    kernels.reserve(ctx_.units_order().size());
    std::vector<size_t> members, candidate;  // reused from unit to unit
    const std::vector<Unit>& units = ctx_.units();
    for (size_t ui : ctx_.units_order()) {
      if (used[ui]) continue;
      members.assign(1, ui);
      if (!units[ui].zero_cost) {
        for (const auto& chain : chains) {
          if (chain[0] != units[ui].op) continue;
          candidate.assign(1, ui);
          for (size_t k = 1; k < chain.size(); ++k) {
            const Unit& prev = units[candidate.back()];
            size_t next = ctx_.consuming_unit(prev.output);
            if (next == kNone || used[next] || units[next].op != chain[k] || units[next].input != prev.output) break;
            candidate.push_back(next);
          }
          if (candidate.size() == chain.size()) {
            members = candidate;
            break;
          }
        }
      }
      for (size_t m : members) used[m] = true;
      kernels.push_back(make_kernel(members));
    }
    return kernels;
  }

  Kernel make_kernel(const std::vector<size_t>& members) const {
    const std::vector<Unit>& units = ctx_.units();
    Kernel k;
    const Unit& head = units[members.front()];
    for (size_t m : members) {
      for (size_t n : units[m].nodes) {
        k.nodes.push_back(ctx_.node(n).name);
        k.ops.push_back(ctx_.node(n).op);
      }
      k.type += (k.type.empty() ? "" : "-") + units[m].op;
    }
    k.zero_cost = head.zero_cost;
    k.output = units[members.back()].output;
    if (k.zero_cost) {  // no arithmetic; a Transpose still moves its tensor, and says how much
      for (size_t m : members)
        for (size_t n : units[m].nodes) k.bytes += node_work(ctx_.graph(), ctx_.node(n)).bytes;
      return k;
    }
    KernelConfig& c = k.config;
    const std::string_view op = head.op;
    const bool other = op.rfind("other:", 0) == 0;
    const detect::KernelFamily* family = other ? nullptr : detect::find_family(op);
    if (family) family->config(ctx_, head, c);
    else detect::read_other_config(ctx_, head, c);
    for (const auto& [field, value] : head.config.fields) c.set(field, value);  // what the block's matcher read
    if (!family) {  // no family's formula: the op's own semantics
      for (size_t m : members)
        for (size_t n : units[m].nodes) {
          KernelWork w = node_work(ctx_.graph(), ctx_.node(n));
          k.macs += w.macs;
          k.flops += w.flops;
          k.params += w.params;
          k.bytes += w.bytes;
        }
      return k;
    }
    const KernelWork work = family->work(c, k.type, op);  // kernel_work(k.type, c), its family known
    const double batch = family->rows_hold_batch ? 1.0 : c.get_or("batch", 1.0);
    k.macs = work.macs * batch;
    k.flops = work.flops * batch;
    k.params = work.params;
    k.bytes = work.bytes * batch;
    if (k.params == 0)  // a family without weights of its own: those its nodes read (x * scale, a constant B)
      for (size_t m : members)
        for (size_t n : units[m].nodes) k.params += node_weights(ctx_.graph(), ctx_.node(n));
    return k;
  }

  DetectContext ctx_;
  const FusionRules& rules_;
};

}  // namespace

std::vector<Kernel> detect_kernels(const Graph& graph, const FusionRules& rules) {
  Detector detector(graph, rules);
  std::vector<Kernel> kernels = detector.run();
  size_t covered = 0;
  for (const auto& k : kernels) covered += k.nodes.size();
  if (covered != graph.nodes.size())
    throw Error::in_file(
        ErrorKind::Internal, graph.name,
        fmt::format("internal error: {} of {} nodes were assigned to kernels", covered, graph.nodes.size()));
  return kernels;
}

}  // namespace deepen
