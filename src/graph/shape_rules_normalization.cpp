// Shape rules of the normalisations: Softmax and LogSoftmax, BatchNormalization,
// InstanceNormalization, Dropout (LRN is a plain unary rule). The output has the input's shape;
// the rules check what ONNX's inference checks of the op's own arguments.
#include "graph/shape_rules.h"

namespace deepen::rules {

// Softmax, LogSoftmax: the axis must lie in the input (default 1 before opset 13, then -1).
InferredOutputs softmax(InferContext& ctx) {
  ctx.arity(1, 1);
  int64_t rank = static_cast<int64_t>(ctx.shape(0).size());
  ctx.axis(ctx.node().attr_int("axis", ctx.opset() >= 13 ? -1 : 1), rank);
  return ctx.same_as_input();
}

// Inference mode only: training mode has more outputs.
InferredOutputs batch_normalization(InferContext& ctx) {
  ctx.arity(5, 5);
  for (size_t k = 1; k < 5; ++k) ctx.input(k);
  if (ctx.node().attr_int("training_mode", 0) != 0) ctx.decline("is in training mode");
  if (ctx.shape(0).size() < 2) ctx.decline("has an input of rank below 2");
  return ctx.same_as_input();
}

InferredOutputs instance_normalization(InferContext& ctx) {
  ctx.arity(3, 3);
  return ctx.same_as_input();
}

// Dropout: the ratio and training mode are inputs from opset 12; the mask output is not handled.
InferredOutputs dropout(InferContext& ctx) {
  if (ctx.opset() < 12) ctx.arity(1, 1);
  else ctx.arity(1, 3);
  return ctx.same_as_input();
}

}  // namespace deepen::rules
