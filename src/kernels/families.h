// Kernel families, one row each: everything deepen knows about a family sits in its row of
// kernel_families() (families.cpp).
//   schema     its name (the head op of its kernel types), the dataset CSV's config columns, the
//              booster's features and how they are computed (the public face: deepen/schema.h)
//   onnx_ops   the ONNX ops a single node of the family has, and `accepts`, the condition on the
//              node (a Conv is `conv` with group 1, `dwconv` with group = input channels); a
//              family made only by a structural matcher (se, swish, channel-shuffle) lists none
//   config     how its config is read from the graph at the kernel's head unit
//   work       how its MACs, FLOPs, params and bytes are counted from the config
// Adding a family: a row here (and a matcher in matchers/ if it is a multi-node block). An ONNX op
// that several rows list goes to the first row, in table order, that accepts the node.
// Private to src/kernels.
#pragma once

#include "kernels/detect_context.h"

#include <deepen/schema.h>

#include <string>
#include <string_view>
#include <vector>

namespace deepen {
namespace detect {

struct KernelFamily {
  KernelSchema schema;
  std::vector<std::string_view> onnx_ops;
  // Whether a node of one of onnx_ops is of this family; nullptr: every such node.
  bool (*accepts)(const DetectContext& ctx, const Node& node) = nullptr;
  // Reads the family's config at the head unit of a kernel (element-wise families: the shape of
  // the activation the unit reads: hw, cin, and w and batch where they differ from the defaults).
  void (*config)(const DetectContext& ctx, const Unit& head, KernelConfig& c) = nullptr;
  // The kernel's work for one batch element (kernel_type names the ops fused after the head).
  KernelWork (*work)(const KernelConfig& c, const std::string& kernel_type, std::string_view family) = nullptr;
  // Its config's rows already count the batch (fc, matmul): the work is not scaled by it.
  bool rows_hold_batch = false;
};

// Every family, in the order `deepen list --schema` shows them.
const std::vector<KernelFamily>& kernel_families();
// The family named `name` (a kernel type's head op), or nullptr.
const KernelFamily* find_family(std::string_view name);
// The families that may take a node of ONNX op `op`, in table order (empty when none).
const std::vector<const KernelFamily*>& families_of_op(std::string_view op);

// The config of units no family reads: the shape of the activation they read, when it is known.
void read_other_config(const DetectContext& ctx, const Unit& head, KernelConfig& c);
// Work of a family without a formula of its own: one FLOP per element per op, read and write.
KernelWork elementwise_unary_work(const KernelConfig& c, const std::string& kernel_type, std::string_view family);

}  // namespace detect
}  // namespace deepen
