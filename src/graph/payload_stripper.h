// Weights are most of an ONNX file's bytes and none of what deepen needs: it needs their dims.
// strip_tensor_payloads() walks the protobuf wire format and copies the model without the data
// of tensors larger than a threshold (raw_data and the typed *_data fields), keeping their dims,
// types and small constants (shapes, axes, Clip bounds). Parsing the result costs a fraction of
// parsing the whole file, and the weights of a file are never read.
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
// Same, from an open file of `file_size` bytes, read through a small window so that payloads
// larger than it are never read. False (out unspecified) when the bytes are not well-formed or
// cannot be read: the caller then reads the whole file and hands it to the parser unchanged.
bool strip_tensor_payloads_from_file(int fd, size_t file_size, std::string& out, size_t threshold_bytes = 4096);

}  // namespace deepen
