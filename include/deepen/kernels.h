// deepen/kernels.h: a Graph split into the kernels a device's runtime executes.
// detect_kernels() normalises op names (Conv with group == cin is `dwconv`, 1 < group < cin is
// `gconv`, Clip(0, 6) is `relu6`, x*HardSigmoid(x) is `hswish`, ...), recognises structural
// blocks (SE block, channel shuffle), then fuses chains of units by the fusion rules. Every node
// ends in exactly one kernel; layout ops (Reshape, Flatten, Squeeze, Unsqueeze, Transpose) are
// zero-cost kernels; an op nobody knows becomes a kernel of type `other:OpType`.
#pragma once

#include <deepen/graph.h>

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace deepen {

// A kernel's configuration: named numbers in the order of its type's schema (hw, cin, ...).
struct KernelConfig {
  std::vector<std::pair<std::string, double>> fields;

  void set(std::string_view name, double value);
  bool has(std::string_view name) const;
  double get(std::string_view name) const;  // throws Error when absent
  double get_or(std::string_view name, double fallback) const;
};

struct Kernel {
  std::string type;                // e.g. "conv-bn-relu", "dwconv-bn-relu6", "other:LSTM"
  std::vector<std::string> nodes;  // names of the ONNX nodes it covers, in graph order
  std::vector<std::string> ops;    // their op types
  KernelConfig config;
  bool zero_cost = false;          // layout ops: no work at run time
  // Work of the kernel, from the real tensor shapes (fp32: 4 bytes an element).
  double macs = 0;    // multiply-accumulates
  double flops = 0;   // floating-point operations (2 per MAC, 1 per element-wise op)
  double params = 0;  // weights and biases
  double bytes = 0;   // activations read and written plus weights
  std::string output;  // the tensor it produces
};

// The op chains a device's runtime fuses into one kernel, as read from fusion_rules.yaml.
struct FusionRules {
  std::vector<std::vector<std::string>> chains;  // e.g. {"conv", "bn", "relu"}; longest match wins
  std::map<std::string, std::string> same_as;    // kernel type -> the type whose predictor scores it
  // The type whose predictor scores `type` (itself when no alias is given).
  std::string scored_as(const std::string& type) const;
  // Whether a booster of kernel type `type` would score anything under these rules: the detector
  // makes that type (a single op's kernel, or a chain of the rules) and no same_as sends it to
  // another, or same_as sends another type to it. conv-bn-relu rows trained under rules without
  // a [conv, bn, relu] chain or an alias to it would never be read.
  bool reaches(const std::string& type) const;
};

// The rules of a typical mobile runtime (TFLite): conv/dwconv/gconv with bn and an activation,
// fc with an activation, add with relu, bn with relu.
FusionRules default_fusion_rules();
// Reads fusion rules; throws Error naming the file and the problem.
FusionRules load_fusion_rules(const std::string& path);
FusionRules parse_fusion_rules(const std::string& yaml_text, const std::string& label);
// The YAML text of a shipped rule set by name ("tflite": TFLite's CPU kernels and GPU delegate, as
// the shipped predictors use them; scripts/fusion-rules/tflite.yaml), or nullptr. "default" is
// default_fusion_rules().
const char* shipped_fusion_rules_text(const std::string& name);
// What `--fusion-rules X` means: "default" and "tflite" name the shipped sets, anything else is a
// file. Sets *yaml_text to the rules' YAML (what a predictor stores) and returns the rules.
FusionRules fusion_rules_named(const std::string& name_or_path, std::string* yaml_text);
std::string fusion_rules_to_yaml(const FusionRules& rules);

// Splits a graph into kernels. Throws Error when a shape a kernel needs cannot be resolved.
std::vector<Kernel> detect_kernels(const Graph& graph, const FusionRules& rules);

}  // namespace deepen
