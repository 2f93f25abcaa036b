// The shape-rule table: for every ONNX op that deepen infers or folds itself, one row with the
// opsets it is valid for, its infer function (output shapes and types, as ONNX 1.12's inference
// computes them) and its fold function (its integer values from constant inputs: the shape
// arithmetic a runtime folds away). The table is the list of supported ops in
// docs/how-it-works.md (a test compares them) and is defined, with how to add an op, in
// shape_rules.cpp; the rules themselves sit in shape_rules_<family>.cpp.
//
// A miss declines: an op that has no row, or no infer function, or a model whose opset lies
// outside the row's range, makes infer_shapes decline, and the loader runs ONNX's inference.
#pragma once

#include "graph/infer_context.h"
#include "graph/shape_arithmetic.h"

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace deepen {

// Output shapes and types of the context's node; declines (InferContext::decline) when it cannot
// be exact. Also checks the node's input and output counts.
using InferFn = InferredOutputs (*)(InferContext& ctx);

// The integer values of the node's first output from its inputs' values (`lookup`), or nullopt.
// `shapes` is nullptr during inference; the folding passes it, for what needs the inputs' shapes
// (Transpose, a Slice of a tensor of rank above 1).
using FoldFn = std::optional<std::vector<int64_t>> (*)(const Node& node, const IntsLookup& lookup,
                                                      const ShapeLookup& shapes);

struct OpRule {
  std::string_view op;  // ONNX op type, default domain
  int64_t since;        // first opset the row's infer function handles
  int64_t until;        // last one (kMaxOpset unless the op was removed)
  InferFn infer;        // nullptr: deepen does not infer it (ONNX's inference does)
  FoldFn fold;          // nullptr: its values are not folded
};

// The table, in its order (grouped by family).
const std::vector<OpRule>& shape_rules();

// The row of `op`, or nullptr. A lookup in a map built on first use.
const OpRule* find_shape_rule(std::string_view op);

// ---- the rules, by family (each family in shape_rules_<family>.cpp)
namespace rules {

// elementwise: one output per position of the (broadcast) inputs.
InferredOutputs unary(InferContext& ctx);
InferredOutputs clip(InferContext& ctx);
InferredOutputs cast(InferContext& ctx);
InferredOutputs prelu(InferContext& ctx);
InferredOutputs binary(InferContext& ctx);
InferredOutputs variadic(InferContext& ctx);
InferredOutputs comparison(InferContext& ctx);
InferredOutputs where(InferContext& ctx);
std::optional<std::vector<int64_t>> fold_cast(const Node&, const IntsLookup&, const ShapeLookup&);
std::optional<std::vector<int64_t>> fold_arithmetic(const Node&, const IntsLookup&, const ShapeLookup&);
std::optional<std::vector<int64_t>> fold_where(const Node&, const IntsLookup&, const ShapeLookup&);

// normalization: same shape as the input, with checks of the op's own arguments.
InferredOutputs softmax(InferContext& ctx);
InferredOutputs batch_normalization(InferContext& ctx);
InferredOutputs instance_normalization(InferContext& ctx);
InferredOutputs dropout(InferContext& ctx);

// conv_pool: sliding windows (ONNX's convPoolShapeInference) and global pools.
InferredOutputs conv(InferContext& ctx);
InferredOutputs max_pool(InferContext& ctx);
InferredOutputs average_pool(InferContext& ctx);
InferredOutputs global_pool(InferContext& ctx);

// matmul: Gemm and MatMul.
InferredOutputs gemm(InferContext& ctx);
InferredOutputs matmul(InferContext& ctx);

// reshape: the same elements in another shape or order, or repeated.
InferredOutputs reshape(InferContext& ctx);
InferredOutputs flatten(InferContext& ctx);
InferredOutputs transpose(InferContext& ctx);
InferredOutputs squeeze(InferContext& ctx);
InferredOutputs unsqueeze(InferContext& ctx);
InferredOutputs expand(InferContext& ctx);
InferredOutputs tile(InferContext& ctx);
std::optional<std::vector<int64_t>> fold_same_values(const Node&, const IntsLookup&, const ShapeLookup&);
std::optional<std::vector<int64_t>> fold_transpose(const Node&, const IntsLookup&, const ShapeLookup&);

// slicing: parts of tensors taken, joined or padded.
InferredOutputs slice(InferContext& ctx);
InferredOutputs split(InferContext& ctx);
InferredOutputs concat(InferContext& ctx);
InferredOutputs gather(InferContext& ctx);
InferredOutputs pad(InferContext& ctx);
std::optional<std::vector<int64_t>> fold_slice(const Node&, const IntsLookup&, const ShapeLookup&);
std::optional<std::vector<int64_t>> fold_concat(const Node&, const IntsLookup&, const ShapeLookup&);
std::optional<std::vector<int64_t>> fold_gather(const Node&, const IntsLookup&, const ShapeLookup&);

// reduce: Reduce* over axes given as an attribute (or, ReduceSum-13, as an input).
InferredOutputs reduce(InferContext& ctx);
InferredOutputs reduce_sum(InferContext& ctx);

// resize: Resize and Upsample, by scales or sizes.
InferredOutputs resize(InferContext& ctx);
InferredOutputs upsample(InferContext& ctx);

// constants: Constant, ConstantOfShape, Shape.
InferredOutputs constant(InferContext& ctx);
InferredOutputs shape(InferContext& ctx);
std::optional<std::vector<int64_t>> fold_constant(const Node&, const IntsLookup&, const ShapeLookup&);
std::optional<std::vector<int64_t>> fold_constant_of_shape(const Node&, const IntsLookup&, const ShapeLookup&);

}  // namespace rules
}  // namespace deepen
