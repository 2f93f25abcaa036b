// Folds what a runtime folds away before it runs: Constant, Identity, Dropout, and every node
// whose inputs are all constants (shape arithmetic such as Shape-Gather-Concat feeding a
// Reshape). Folded nodes leave graph.nodes and are listed in graph.folded.
#pragma once

#include "graph/shape_arithmetic.h"

#include <deepen/graph.h>

#include <optional>

namespace deepen {

void fold_constants(Graph& graph);

// Integer values of a node's first output when its inputs' values are known: the fold function
// of the op's row in the shape-rule table (shape_rules.h: Constant, Cast, Gather, Concat, Slice,
// Add/Sub/Mul/Div, ConstantOfShape, Equal, Where, and the ops that keep values as they are).
// With `shapes`, also what needs the inputs' shapes: Transpose, and Slice on any axis with any
// step (PyTorch's padding arithmetic: Reshape(-1, 2), a reversing Slice, Transpose, Reshape(-1)).
std::optional<std::vector<int64_t>> evaluate_ints(const Node& node, const IntsLookup& lookup,
                                                  const ShapeLookup& shapes = nullptr);

}  // namespace deepen
