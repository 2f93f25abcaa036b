// deepen/error.h: the one error type of deepen. Its message is meant for the user: what was
// wrong, with which file, node or tensor, and what to do about it. Its kind says what sort of
// failure it is; the CLI's exit code and the Python module's exception class follow from the
// kind alone (docs/output-formats.md#exit-codes-and-errors), never from the message's words.
//
//   throw Error("--jobs -1: give a number of threads");                    // bad input (the default)
//   throw Error(ErrorKind::Registry, fmt::format("{}: 'purposes' must be a list", where));
//   throw Error::in_file(path, "the file is empty; expected an ONNX model");  // "PATH: the file is empty; ..."
#pragma once

#include <stdexcept>
#include <string>

namespace deepen {

// What sort of failure an error is. All but Internal are the user's to fix.
enum class ErrorKind {
  BadInput,            // a file, flag or argument deepen cannot use (the default)
  UnknownPredictor,    // no predictor of that name, or no such version, in the registry
  Unsupported,         // a valid model that uses what deepen cannot handle (its opset, control flow, a 3-D Conv)
  UnsupportedPurpose,  // the predictor cannot give the purpose asked (not trained for it, no fallback)
  Registry,            // the registry or a predictor's files (boosters, fusion rules) are broken
  Internal,            // not the input's doing: a bug in deepen, or the system failing it (out of memory)
};

class Error : public std::runtime_error {
 public:
  // A bad-input error.
  explicit Error(const std::string& message) : Error(ErrorKind::BadInput, message) {}
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  // An error about one file (or the label of a model given as bytes): its message is
  // "FILE: detail", and file() is FILE.
  static Error in_file(const std::string& file, const std::string& detail) {
    return in_file(ErrorKind::BadInput, file, detail);
  }
  static Error in_file(ErrorKind kind, const std::string& file, const std::string& detail) {
    Error e(kind, file + ": " + detail);
    e.file_ = file;
    return e;
  }

  ErrorKind kind() const noexcept { return kind_; }
  // The file the message starts with ("FILE: ..."), or empty when it names none there.
  const std::string& file() const noexcept { return file_; }
  // The message after its "FILE: " (the whole message when file() is empty).
  std::string detail() const { return file_.empty() ? what() : std::string(what()).substr(file_.size() + 2); }
  // The same error as another kind, for a caller that knows better what the failure means (a
  // predictor's fusion rules that do not parse are a broken registry, not bad input).
  Error as(ErrorKind kind) const {
    Error e = *this;
    e.kind_ = kind;
    return e;
  }

 private:
  ErrorKind kind_;
  std::string file_;
};

}  // namespace deepen
