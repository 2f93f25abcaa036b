// Checks a booster file before XGBoost reads it. XGBoost trusts its model files: a child index
// out of range, a duplicated tree id or a nesting thousands deep crashes it. A registry entry can
// come from anywhere, so deepen reads the model itself first and refuses what XGBoost would not
// survive, with a message that says what is wrong.
#pragma once

#include <string>

namespace deepen {

// The bytes of a JSON or UBJSON XGBoost model (starting at its '{'). Returns "" when they are a
// tree booster XGBoost can safely load and score, else the problem in a few words.
std::string check_booster_bytes(const char* data, size_t size);

}  // namespace deepen
