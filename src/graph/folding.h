// Folds what a runtime folds away before it runs: Constant, Identity, Dropout, and every node
// whose inputs are all constants (shape arithmetic such as Shape-Gather-Concat feeding a
// Reshape). Folded nodes leave graph.nodes and are listed in graph.folded.
#pragma once

#include <deepen/graph.h>

namespace deepen {

void fold_constants(Graph& graph);

}  // namespace deepen
