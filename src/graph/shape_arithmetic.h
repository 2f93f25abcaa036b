// Arithmetic on shapes and on small integer tensors, shared by the shape rules (shape_rules.h)
// and the folding (folding.h): element counts, Reshape targets, Slice windows, row-major gathers.
#pragma once

#include <deepen/graph.h>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace deepen {

// Shape arithmetic works on a few numbers; Concat of Concats of constants could otherwise double
// a list at every node and exhaust memory. Integer values longer than this are not kept.
constexpr size_t kMaxFoldedValues = 4096;

// The integer values of a tensor, or nullptr when they are not known.
using IntsLookup = std::function<const std::vector<int64_t>*(const std::string&)>;

// The shape of a tensor, or nullptr when it is not known.
using ShapeLookup = std::function<const Shape*(const std::string&)>;

// The number of elements of a shape; -1 when a dimension is negative or the count overflows.
int64_t element_count(const Shape& shape);

// An index into a list of `size` items, negative from the end, clamped to [0, size].
int64_t normalise_index(int64_t i, int64_t size);

// The output shape of a Reshape from its constant shape argument (0 copies, -1 is inferred);
// nullopt when the argument does not fit the input.
std::optional<Shape> reshape_output(const Shape& input, const std::vector<int64_t>& target);

// The values of input `k` of `node`, or nullptr when it is absent or its values are not known.
const std::vector<int64_t>* input_values(const Node& node, const IntsLookup& lookup, size_t k);

// The shape of a small integer tensor: its known shape when that fits its values, else 1-D.
Shape shape_of(const std::string& name, const std::vector<int64_t>& values, const ShapeLookup& shapes);

// Row-major offsets of every element of `out_shape`, where output index k along axis a reads
// input index first[a] + k * step[a] of a tensor of shape `in_shape` (Slice and Transpose).
std::vector<int64_t> gather_nd(const std::vector<int64_t>& data, const Shape& in_shape, const Shape& out_shape,
                               const std::vector<int64_t>& first, const std::vector<int64_t>& step,
                               const std::vector<size_t>& in_axis);

// A Slice's output window: the output shape, and per input axis the first index and the step.
struct SliceWindow {
  Shape out_shape;
  std::vector<int64_t> first, step;
};

// ONNX Slice's output window on a tensor of `shape`: any rank, any axes, any non-zero steps.
std::optional<SliceWindow> slice_window(const Shape& shape, const std::vector<int64_t>& starts,
                                        const std::vector<int64_t>& ends, std::vector<int64_t> axes,
                                        const std::vector<int64_t>& steps);

// The starts, ends, axes and steps of a Slice, from attributes (opset < 10) or constant inputs;
// false when an input's values are not known.
bool slice_arguments(const Node& n, const IntsLookup& lookup, std::vector<int64_t>* starts,
                     std::vector<int64_t>* ends, std::vector<int64_t>* axes, std::vector<int64_t>* steps);

// ONNX Slice on a small integer tensor.
std::optional<std::vector<int64_t>> slice_values(const std::vector<int64_t>& data, const Shape& shape,
                                                 const std::vector<int64_t>& starts, const std::vector<int64_t>& ends,
                                                 const std::vector<int64_t>& axes, const std::vector<int64_t>& steps);

}  // namespace deepen
