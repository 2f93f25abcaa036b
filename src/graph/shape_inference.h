// deepen's own shape inference: output shapes and element types for the operators that
// torch.onnx.export, tf2onnx and deepen zoo write, computed as ONNX's shape inference computes
// them, without ONNX's schema registry (whose one-time set-up costs more than the rest of a
// `deepen predict`). It is exact or it declines: a node it does not handle exactly (an unknown
// op, an argument that is not constant, an attribute it does not know, inconsistent shapes)
// makes it give up with the reason, and the loader then runs ONNX's inference instead. Each op's
// rule is a row of the shape-rule table (shape_rules.h); this is the driver that walks the graph.
#pragma once

#include <deepen/graph.h>

#include <string>

namespace deepen {

// Gives every node output of `graph` (nodes in file order, before folding; inputs and
// initializers with concrete shapes) a concrete shape and element type, and checks each node's
// input and output counts against its op. Returns "" on success, else why it declined (the
// graph is then partly updated and must be thrown away). Throws Error only for a model that
// ONNX's inference cannot be given safely (a Conv weight of higher rank than its input).
std::string infer_shapes(Graph& graph);

}  // namespace deepen
