// The structural matchers in the order they run. A matcher claims its nodes for good, so a block
// that contains another block's pattern must run before it:
// - se first: its gate may be a decomposed hard-sigmoid (which hsigmoid would claim) and its
//   layers may be MatMul + bias Add (which fc_bias would claim);
// - hswish before hsigmoid: x * hsigmoid(x) holds a decomposed hard-sigmoid;
// - fc_bias last: the bias Add of an SE block's layer belongs to the SE block.
// channel_shuffle, layernorm and gelu share no node with another pattern; their place is free.
// Every node left unclaimed afterwards becomes a unit of its own (DetectContext::normalise).
#include "kernels/matchers/matchers.h"

namespace deepen {
namespace detect {

const std::vector<Matcher>& structural_matchers() {
  static const std::vector<Matcher> table = {
      {"se", match_se},
      {"channel-shuffle", match_channel_shuffle},
      {"hswish, swish", match_hswish},
      {"hsigmoid", match_hsigmoid},
      {"layernorm", match_layernorm},
      {"gelu", match_gelu},
      {"fc", match_fc_bias},
  };
  return table;
}

}  // namespace detect
}  // namespace deepen
