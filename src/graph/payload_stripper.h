// Weights are most of an ONNX file's bytes and none of what deepen needs: it needs their dims.
// strip_tensor_payloads() walks the protobuf wire format and copies the model without the data
// of tensors larger than a threshold (raw_data and the typed *_data fields), keeping their dims,
// types and small constants (shapes, axes, Clip bounds). Parsing the result costs a fraction of
// parsing the whole file, and the weight pages of a mapped file are never read.
#pragma once

#include <string>
#include <string_view>

namespace deepen {

// The model without large tensor payloads; the input unchanged when it is not well-formed
// protobuf (the parser then reports the error).
std::string strip_tensor_payloads(std::string_view model_bytes, size_t threshold_bytes = 4096);
// Same, into `out` (cleared first; its capacity is kept, so a caller reading many models can
// reuse one buffer).
void strip_tensor_payloads(std::string_view model_bytes, std::string& out, size_t threshold_bytes = 4096);

}  // namespace deepen
