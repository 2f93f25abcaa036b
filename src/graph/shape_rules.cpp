#include "graph/shape_rules.h"

#include "graph/opsets.h"

#include <unordered_map>

namespace deepen {
namespace {

constexpr int64_t kFirst = kMinOpset, kLast = kMaxOpset;

using namespace rules;

}  // namespace

// The shape-rule table: one row per op, grouped by family as the rules' files are.
//
// Row: {op, since, until, infer, fold}. `since` and `until` bound the opsets (of those the loader
// reads, kMinOpset to kMaxOpset) whose version of the op `infer` computes exactly; a model of
// another opset declines, as an op without a row does. `fold` (nullptr when the op's values are
// never folded) computes integer values from constant inputs; the folding applies it at any
// opset, on ONNX's path too, so it must only compute what every version of the op computes.
//
// To add an op:
//  1. write its infer function in the shape_rules_<family>.cpp of its family (a new file for a new
//     family), with the InferContext helpers (infer_context.h): check the arity first, decline on
//     anything ONNX 1.12's inference does not compute exactly, and declare it in shape_rules.h;
//  2. where deepen must fold its values (shape arithmetic that feeds a Reshape, a Slice, a Pad),
//     write its fold function next to it;
//  3. add its row below, and to the list in docs/how-it-works.md#operators-deepen-infers;
//  4. add its one-node case to kRuleCases in tests/shape_inference_test.cpp (the test walks this
//     table: it fails for a row without a case, a case whose shape is not ONNX's, and a docs
//     list that is not the table).
const std::vector<OpRule>& shape_rules() {
  static const std::vector<OpRule> table = {
      // elementwise (shape_rules_elementwise.cpp)
      {"Abs", kFirst, kLast, unary, nullptr},
      {"Ceil", kFirst, kLast, unary, nullptr},
      {"Cos", kFirst, kLast, unary, nullptr},
      {"Elu", kFirst, kLast, unary, nullptr},
      {"Erf", 9, kLast, unary, nullptr},
      {"Exp", kFirst, kLast, unary, nullptr},
      {"Floor", kFirst, kLast, unary, nullptr},
      {"HardSigmoid", kFirst, kLast, unary, nullptr},
      {"HardSwish", 14, kLast, unary, nullptr},
      {"Identity", kFirst, kLast, unary, fold_same_values},
      {"LeakyRelu", kFirst, kLast, unary, nullptr},
      {"Log", kFirst, kLast, unary, nullptr},
      {"Neg", kFirst, kLast, unary, nullptr},
      {"Reciprocal", kFirst, kLast, unary, nullptr},
      {"Relu", kFirst, kLast, unary, nullptr},
      {"Selu", kFirst, kLast, unary, nullptr},
      {"Sigmoid", kFirst, kLast, unary, nullptr},
      {"Sin", kFirst, kLast, unary, nullptr},
      {"Softplus", kFirst, kLast, unary, nullptr},
      {"Softsign", kFirst, kLast, unary, nullptr},
      {"Sqrt", kFirst, kLast, unary, nullptr},
      {"Tanh", kFirst, kLast, unary, nullptr},
      {"Clip", kFirst, kLast, clip, nullptr},
      {"Cast", kFirst, kLast, cast, fold_cast},
      {"PRelu", kFirst, kLast, prelu, nullptr},
      {"Add", kFirst, kLast, binary, fold_arithmetic},
      {"Sub", kFirst, kLast, binary, fold_arithmetic},
      {"Mul", kFirst, kLast, binary, fold_arithmetic},
      {"Div", kFirst, kLast, binary, fold_arithmetic},
      {"Pow", kFirst, kLast, binary, nullptr},
      {"Max", kFirst, kLast, variadic, nullptr},
      {"Min", kFirst, kLast, variadic, nullptr},
      {"Sum", kFirst, kLast, variadic, nullptr},
      {"Mean", kFirst, kLast, variadic, nullptr},
      {"Equal", kFirst, kLast, comparison, fold_arithmetic},
      {"Less", kFirst, kLast, comparison, nullptr},
      {"Greater", kFirst, kLast, comparison, nullptr},
      {"Where", 9, kLast, where, fold_where},
      // normalization (shape_rules_normalization.cpp)
      {"Softmax", kFirst, kLast, softmax, nullptr},
      {"LogSoftmax", kFirst, kLast, softmax, nullptr},
      {"BatchNormalization", kFirst, kLast, batch_normalization, nullptr},
      {"InstanceNormalization", kFirst, kLast, instance_normalization, nullptr},
      {"LRN", kFirst, kLast, unary, nullptr},
      {"Dropout", kFirst, kLast, dropout, nullptr},
      // conv_pool (shape_rules_conv_pool.cpp)
      {"Conv", kFirst, kLast, conv, nullptr},
      {"MaxPool", kFirst, kLast, max_pool, nullptr},
      {"AveragePool", kFirst, kLast, average_pool, nullptr},
      {"GlobalAveragePool", kFirst, kLast, global_pool, nullptr},
      {"GlobalMaxPool", kFirst, kLast, global_pool, nullptr},
      // matmul (shape_rules_matmul.cpp)
      {"Gemm", kFirst, kLast, gemm, nullptr},
      {"MatMul", kFirst, kLast, matmul, nullptr},
      // reshape (shape_rules_reshape.cpp)
      {"Reshape", kFirst, kLast, reshape, fold_same_values},
      {"Flatten", kFirst, kLast, flatten, fold_same_values},
      {"Transpose", kFirst, kLast, transpose, fold_transpose},
      {"Squeeze", kFirst, kLast, squeeze, fold_same_values},
      {"Unsqueeze", kFirst, kLast, unsqueeze, fold_same_values},
      {"Expand", 8, kLast, expand, nullptr},
      {"Tile", kFirst, kLast, tile, nullptr},
      // slicing (shape_rules_slicing.cpp)
      {"Slice", kFirst, kLast, slice, fold_slice},
      {"Split", kFirst, kLast, split, nullptr},
      {"Concat", kFirst, kLast, concat, fold_concat},
      {"Gather", kFirst, kLast, gather, fold_gather},
      {"Pad", kFirst, kLast, pad, nullptr},
      // reduce (shape_rules_reduce.cpp)
      {"ReduceL2", kFirst, kLast, reduce, nullptr},
      {"ReduceMax", kFirst, kLast, reduce, nullptr},
      {"ReduceMean", kFirst, kLast, reduce, nullptr},
      {"ReduceMin", kFirst, kLast, reduce, nullptr},
      {"ReduceProd", kFirst, kLast, reduce, nullptr},
      {"ReduceSum", kFirst, kLast, reduce_sum, nullptr},
      // resize (shape_rules_resize.cpp)
      {"Resize", 10, kLast, resize, nullptr},
      {"Upsample", kFirst, 9, upsample, nullptr},
      // constants (shape_rules_constants.cpp)
      {"Constant", kFirst, kLast, constant, fold_constant},
      {"ConstantOfShape", 9, kLast, nullptr, fold_constant_of_shape},
      {"Shape", kFirst, kLast, shape, nullptr},
  };
  return table;
}

const OpRule* find_shape_rule(std::string_view op) {
  static const std::unordered_map<std::string_view, const OpRule*> by_op = [] {
    std::unordered_map<std::string_view, const OpRule*> map;
    for (const OpRule& rule : shape_rules()) map.emplace(rule.op, &rule);
    return map;
  }();
  auto it = by_op.find(op);
  return it == by_op.end() ? nullptr : it->second;
}

}  // namespace deepen
