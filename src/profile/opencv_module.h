// The interface between libdeepen and the OpenCV backend module (deepen_opencv.so). OpenCV's DNN
// module costs a process about 15 ms of loading and relocation at start-up, so only deepen
// measure and deepen profile load it, with dlopen, through this one factory. The module gets
// from its host what needs deepen's ONNX loader (the model's inputs), so it links OpenCV alone.
#pragma once

#include <deepen/measure.h>

#include <cstdint>
#include <string>
#include <vector>

namespace deepen {

// Changes whenever anything below changes; a module built for another version is refused.
constexpr int kOpenCVModuleAbi = 1;

struct ModelInput {
  std::string name;
  std::vector<int64_t> shape;  // concrete, batch 1
};

struct OpenCVModuleHost {
  // The inputs of the ONNX model at the path, shapes as deepen's loader gives them; throws Error.
  std::vector<ModelInput> (*model_inputs)(const std::string& onnx_path);
};

}  // namespace deepen

// The module's exported entry points (extern "C", so that dlsym finds them by these names).
#define DEEPEN_OPENCV_MODULE_ABI_SYMBOL "deepen_opencv_module_abi"
#define DEEPEN_OPENCV_MODULE_CREATE_SYMBOL "deepen_opencv_backend_create"
extern "C" {
using DeepenOpenCVModuleAbiFn = int (*)();
// A new backend running with `threads` (at least 1) threads; the caller owns it. The host must
// outlive the backend.
using DeepenOpenCVBackendCreateFn = deepen::Backend* (*)(const deepen::OpenCVModuleHost* host, int threads);
}
