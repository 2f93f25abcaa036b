// Structural matchers: each recognises one multi-node block that a runtime executes as one kernel
// (an SE block, a channel shuffle, a decomposed hard-swish, LayerNorm or GELU, MatMul + bias) and
// claims its nodes as one unit of the detection context. A matcher is called once per node, in
// graph order, with the node at which it tries to anchor its pattern; it claims nothing when the
// pattern does not hold or a node of it is already claimed. Adding a block: a file here with its
// pattern as a formula in its comment, and a row of structural_matchers() (matchers.cpp).
// Private to src/kernels.
#pragma once

#include "kernels/detect_context.h"

#include <vector>

namespace deepen {
namespace detect {

struct Matcher {
  const char* name;  // the unit it makes
  void (*match)(DetectContext& ctx, size_t node);
};

// The matchers in the order they run: see matchers.cpp for why it is this one.
const std::vector<Matcher>& structural_matchers();

void match_se(DetectContext& ctx, size_t i);
void match_channel_shuffle(DetectContext& ctx, size_t i);
void match_hswish(DetectContext& ctx, size_t i);
void match_hsigmoid(DetectContext& ctx, size_t i);
void match_layernorm(DetectContext& ctx, size_t i);
void match_gelu(DetectContext& ctx, size_t i);
void match_fc_bias(DetectContext& ctx, size_t i);

}  // namespace detect
}  // namespace deepen
