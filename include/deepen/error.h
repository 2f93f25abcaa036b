// deepen/error.h: the one error type of deepen. Its message is meant for the user: what was
// wrong, with which file, node or tensor, and what to do about it.
#pragma once

#include <stdexcept>
#include <string>

namespace deepen {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace deepen
