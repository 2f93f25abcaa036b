// deepen/schema.h: the one table from kernel type to config fields and features.
// Training, prediction and the dataset CSV all read it, so a feature list can never differ
// between them. A kernel type's schema is found by its head op: "conv-bn-relu" uses `conv`,
// "dwconv-bn-relu6" uses `dwconv`, "add-relu" uses `add`.
#pragma once

#include <deepen/kernels.h>

#include <string>
#include <vector>

namespace deepen {

struct KernelSchema {
  std::string family;                       // conv, dwconv, gconv, fc, pool, ...
  std::vector<std::string> config_fields;   // the dataset CSV's config columns, in order
  std::vector<std::string> feature_names;   // the booster's features, in order
  // Features from a config with every field of config_fields.
  std::vector<double> (*features)(const KernelConfig& config);
};

// Config fields that features and work read when a kernel has them, beyond its schema's
// config_fields (a window's own output size under 'valid' padding, a non-square kernel, groups,
// ...): a dataset CSV column of one of these names is read into the row's config, so that a
// `deepen kernels -f csv` listing scores as the model does.
const std::vector<std::string>& optional_config_fields();

// A kernel type's head op (its family): "conv" of "conv-bn-relu", "global-avgpool" whole.
std::string kernel_family(const std::string& kernel_type);

// The schema for a kernel type, or nullptr for types without one (other:*, zero-cost).
const KernelSchema* find_schema(const std::string& kernel_type);
// Every family's schema, for documentation and `deepen list --schema`.
const std::vector<KernelSchema>& all_schemas();
// The kernel types deepen knows (head op and chain), for help texts and the zoo.
std::vector<std::string> known_kernel_types();
// Why a kernel type cannot be one the detector produces, checked whole: its head must be a known
// family and every op fused after it a known op ("conv-bn-rleu": 'rleu'); empty when it can.
std::string kernel_type_problem(const std::string& kernel_type);

// Features of a kernel through its type's schema; throws Error when a config field is missing.
std::vector<double> kernel_features(const std::string& kernel_type, const KernelConfig& config);

// Work of a kernel from its config alone (same formulas as detection on square inputs).
struct KernelWork {
  double macs = 0, flops = 0, params = 0, bytes = 0;
};
KernelWork kernel_work(const std::string& kernel_type, const KernelConfig& config);

// Work of one ONNX node from its op's semantics and its tensors' shapes (MACs of a convolution,
// matrix product or Einsum, FLOPs per element of element-wise ops and reductions, bytes of data
// movement, weights read): what a kernel of type other:X is counted as. Zero where an output's
// shape is open; an op deepen has no rule for counts one FLOP per output element.
KernelWork node_work(const Graph& graph, const Node& node);
// Elements of the weights a node reads: its constant non-integer inputs of more than one element
// (scalar arguments and index tensors are not weights; nor are Resize's and Pad's arguments).
double node_weights(const Graph& graph, const Node& node);

}  // namespace deepen
