// The OpenCV backend module (deepen_opencv.so, see opencv_module.h): OpenCV's DNN module on the
// CPU (DNN_BACKEND_OPENCV, DNN_TARGET_CPU). The input blob gets the shape deepen's own loader
// gives the model's first input (batch 1), filled with fixed noise.
#include <deepen/error.h>
#include <deepen/measure.h>

#include "profile/opencv_module.h"

#include <fmt/format.h>

#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/dnn.hpp>

namespace deepen {
namespace {

class OpenCVBackend : public Backend {
 public:
  OpenCVBackend(const OpenCVModuleHost& host, int threads) : host_(host), threads_(threads) {
    // OpenCV logs its import errors to stderr itself; deepen reports them once, in its own words.
    cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT);
  }
  std::string name() const override { return "opencv"; }

  void load(const std::string& onnx_path) override {
    std::vector<ModelInput> model_inputs = host_.model_inputs(onnx_path);
    inputs_.clear();
    for (const auto& in : model_inputs) {
      std::vector<int> dims;
      for (int64_t d : in.shape) dims.push_back(static_cast<int>(d));
      cv::Mat blob(static_cast<int>(dims.size()), dims.data(), CV_32F);
      cv::RNG rng(12345);
      rng.fill(blob, cv::RNG::UNIFORM, 0.0, 1.0);
      inputs_.emplace_back(in.name, blob);
    }
    try {
      cv::setNumThreads(threads_);
      net_ = cv::dnn::readNetFromONNX(onnx_path);
      if (net_.empty()) throw Error::in_file(onnx_path, "OpenCV read an empty network");
      net_.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
      net_.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
      out_names_ = net_.getUnconnectedOutLayersNames();
      path_ = onnx_path;
      run();  // the first forward allocates and fuses layers: fail here, not in the timed loop
    } catch (const cv::Exception& e) {
      throw Error::in_file(ErrorKind::Unsupported, onnx_path,
                           fmt::format("OpenCV DNN cannot run this model: {}", first_line(e.what())));
    }
  }

  std::vector<std::pair<std::string, double>> layer_times_ms() override {
    std::vector<std::pair<std::string, double>> out;
    std::vector<double> ticks;
    net_.getPerfProfile(ticks);  // one entry per layer but the input, in layer-id order
    std::vector<std::string> names = net_.getLayerNames();
    double ms_per_tick = 1000.0 / cv::getTickFrequency();
    for (size_t i = 0; i < ticks.size() && i < names.size(); ++i) out.emplace_back(names[i], ticks[i] * ms_per_tick);
    return out;
  }

  void run() override {
    try {
      for (const auto& [name, blob] : inputs_) net_.setInput(blob, inputs_.size() > 1 ? name : "");
      net_.forward(outs_, out_names_);
    } catch (const cv::Exception& e) {
      throw Error::in_file(ErrorKind::Unsupported, path_,
                           fmt::format("OpenCV DNN failed to run the model: {}", first_line(e.what())));
    }
  }

 private:
  // OpenCV's message, shortened: which node failed and the check that failed, without the
  // source paths and function signatures.
  static std::string first_line(const std::string& what) {
    std::vector<std::string> lines;
    std::string line;
    for (char c : what + "\n") {
      if (c != '\n') {
        line += c;
        continue;
      }
      size_t start = line.find_first_not_of("> ");
      if (start != std::string::npos) lines.push_back(line.substr(start));
      line.clear();
    }
    std::string out;
    for (const auto& l : lines) {
      if (l.rfind("Node [", 0) == 0) out += l.substr(0, l.find(" parse error")) + " ";
      if (l.rfind("(expected:", 0) == 0) out += l.substr(0, l.rfind(", where")) + " ";
    }
    if (out.empty() && !lines.empty()) out = lines.back();
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
  }
  const OpenCVModuleHost& host_;
  int threads_;
  cv::dnn::Net net_;
  std::vector<std::pair<std::string, cv::Mat>> inputs_;
  std::vector<std::string> out_names_;
  std::vector<cv::Mat> outs_;
  std::string path_;
};

}  // namespace
}  // namespace deepen

extern "C" __attribute__((visibility("default"))) int deepen_opencv_module_abi() { return deepen::kOpenCVModuleAbi; }

extern "C" __attribute__((visibility("default"))) deepen::Backend* deepen_opencv_backend_create(
    const deepen::OpenCVModuleHost* host, int threads) {
  return new deepen::OpenCVBackend(*host, threads);
}
