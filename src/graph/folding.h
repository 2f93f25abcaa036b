// Folds what a runtime folds away before it runs: Constant, Identity, Dropout, and every node
// whose inputs are all constants (shape arithmetic such as Shape-Gather-Concat feeding a
// Reshape). Folded nodes leave graph.nodes and are listed in graph.folded.
#pragma once

#include <deepen/graph.h>

#include <functional>
#include <optional>

namespace deepen {

void fold_constants(Graph& graph);

// The integer values of a tensor, or nullptr when they are not known.
using IntsLookup = std::function<const std::vector<int64_t>*(const std::string&)>;

// The shape of a tensor, or nullptr when it is not known.
using ShapeLookup = std::function<const Shape*(const std::string&)>;

// Integer values of a node's first output when its inputs' values are known (Constant, Cast,
// Gather, Concat, Slice, Add/Sub/Mul/Div, ConstantOfShape, Equal, Where, and the ops that keep
// values as they are). With `shapes`, also what needs the inputs' shapes: Transpose, and Slice
// on any axis with any step (PyTorch's padding arithmetic: Reshape(-1, 2), a reversing Slice,
// Transpose, Reshape(-1)).
std::optional<std::vector<int64_t>> evaluate_ints(const Node& node, const IntsLookup& lookup,
                                                  const ShapeLookup& shapes = nullptr);

// The output shape of a Reshape from its constant shape argument (0 copies, -1 is inferred);
// nullopt when the argument does not fit the input.
std::optional<Shape> reshape_output(const Shape& input, const std::vector<int64_t>& target);

// The number of elements of a shape; -1 when a dimension is negative or the count overflows.
int64_t element_count(const Shape& shape);

// An index into a list of `size` items, negative from the end, clamped to [0, size].
int64_t normalise_index(int64_t i, int64_t size);

}  // namespace deepen
