// ONNX's own shape inference, run where its crashes cannot take deepen down with them.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>

namespace deepen {

// Runs ONNX's shape inference on `model` (strict mode off, data propagation when
// `data_propagation` is true) in a worker process, forked on first use and kept for the next
// model, and replaces `model` with the inferred one.
// ONNX 1.12's inference functions trust their inputs in places (a Conv weight of higher rank
// than its input reads past a vector; found crashes are also checked before, for a clear
// message), so a malformed model that deepen's own inference declined must not run it in
// deepen's process. Throws Error naming `label` when inference fails, crashes (with the signal)
// or runs past a minute, or when the worker cannot be started; the next call starts a new one.
void run_onnx_shape_inference(onnx::ModelProto& model, const std::string& label, bool data_propagation);

}  // namespace deepen
