// The measurement backends this build knows, and loading them. The OpenCV backend lives in a
// module (deepen_opencv.so, see opencv_module.h) that is loaded on first use, so that commands
// that never measure do not load OpenCV.
#include <deepen/error.h>
#include <deepen/graph.h>
#include <deepen/measure.h>

#include "profile/opencv_module.h"

#include <fmt/format.h>

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace deepen {
namespace {

const char* kHowToGetOpenCV =
    "install OpenCV's DNN module (Debian/Ubuntu: 'sudo apt-get install libopencv-dnn-dev', or build OpenCV with "
    "-DBUILD_LIST=dnn on the board) and rebuild deepen";

std::vector<ModelInput> model_inputs(const std::string& onnx_path) {
  Graph g = load_onnx(onnx_path);
  if (g.inputs.empty()) throw Error(fmt::format("{}: the model has no input", onnx_path));
  std::vector<ModelInput> out;
  for (const auto& in : g.inputs) {
    const Tensor& t = g.tensor(in);
    if (!t.shape_known || t.shape.empty())
      throw Error(fmt::format("{}: input '{}' has no concrete shape", onnx_path, in));
    out.push_back({in, t.shape});
  }
  return out;
}

const OpenCVModuleHost kHost{model_inputs};

#ifdef DEEPEN_HAVE_OPENCV
// Where the module may be: $DEEPEN_OPENCV_MODULE when set (and then only there), else beside the
// executable (the build tree), else the install's module folder relative to the executable (an
// install under another prefix, or moved), else that folder where CMake's prefix put it.
std::vector<std::string> module_candidates() {
  const char* env = std::getenv("DEEPEN_OPENCV_MODULE");
  if (env && *env) return {env};
  std::vector<std::string> out;
  std::string exe(4096, '\0');
  ssize_t n = readlink("/proc/self/exe", exe.data(), exe.size());
  if (n > 0 && static_cast<size_t>(n) < exe.size()) {
    exe.resize(static_cast<size_t>(n));
    std::string dir = exe.substr(0, exe.rfind('/') + 1);
    out.push_back(dir + "deepen_opencv.so");
    out.push_back(dir + DEEPEN_MODULE_RELDIR + "/deepen_opencv.so");
  }
  out.push_back(std::string(DEEPEN_MODULE_DIR) + "/deepen_opencv.so");
  return out;
}

struct OpenCVModule {
  DeepenOpenCVBackendCreateFn create = nullptr;
  std::string problem;  // why it cannot be loaded; empty when create is set
};

OpenCVModule load_module() {
  OpenCVModule m;
  std::string tried;
  for (const auto& path : module_candidates()) {
    // Kept loaded for the life of the process: its backends may live that long.
    void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      const char* why = dlerror();
      tried += fmt::format("{}{}", tried.empty() ? "" : "; ", why ? why : path);
      continue;
    }
    auto abi = reinterpret_cast<DeepenOpenCVModuleAbiFn>(dlsym(handle, DEEPEN_OPENCV_MODULE_ABI_SYMBOL));
    auto create = reinterpret_cast<DeepenOpenCVBackendCreateFn>(dlsym(handle, DEEPEN_OPENCV_MODULE_CREATE_SYMBOL));
    if (!abi || !create || abi() != kOpenCVModuleAbi) {
      tried += fmt::format("{}{}: built for another version of deepen", tried.empty() ? "" : "; ", path);
      continue;
    }
    m.create = create;
    return m;
  }
  m.problem = fmt::format("the OpenCV backend module could not be loaded ({}); {}", tried, kHowToGetOpenCV);
  return m;
}

const OpenCVModule& opencv_module() {
  static const OpenCVModule m = load_module();
  return m;
}
#endif

}  // namespace

std::vector<std::string> backend_names() { return {"opencv"}; }

bool backend_available(const std::string& name, std::string* why) {
  if (name != "opencv") {
    if (why) *why = fmt::format("unknown backend '{}': deepen knows opencv", name);
    return false;
  }
#ifdef DEEPEN_HAVE_OPENCV
  const OpenCVModule& m = opencv_module();
  if (m.create) return true;
  if (why) *why = m.problem;
  return false;
#else
  if (why) *why = fmt::format("this deepen was built without OpenCV's DNN module; {}", kHowToGetOpenCV);
  return false;
#endif
}

std::unique_ptr<Backend> make_backend(const std::string& name, const BackendOptions& options) {
  std::string why;
  if (!backend_available(name, &why)) throw Error(fmt::format("--backend {}: {}", name, why));
  if (options.threads < 1) throw Error("--threads must be at least 1");
#ifdef DEEPEN_HAVE_OPENCV
  return std::unique_ptr<Backend>(opencv_module().create(&kHost, options.threads));
#else
  (void)kHost;
  throw Error(why);
#endif
}

}  // namespace deepen
