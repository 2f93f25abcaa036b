// The ONNX opsets (default domain) that the loader reads; a model of any other is refused. Every
// row of the shape-rule table (shape_rules.h) lies inside this range.
#pragma once

#include <cstdint>

namespace deepen {

constexpr int64_t kMinOpset = 7;
constexpr int64_t kMaxOpset = 17;

}  // namespace deepen
