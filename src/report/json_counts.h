// A count (MACs, FLOPs, params, bytes, n) as JSON: an integer when it is one, so that scripts
// read 1769472, not 1.769472e+06; what the report writers and the CLI's listings all use.
#pragma once

#include <deepen/report.h>

#include <nlohmann/json.hpp>

#include <cstdint>

namespace deepen {

inline nlohmann::ordered_json count_json(double v) {
  return integral_count(v) ? nlohmann::ordered_json(static_cast<int64_t>(v)) : nlohmann::ordered_json(v);
}

}  // namespace deepen
