#include "cli/commands.h"

#include <deepen/error.h>
#include <deepen/output_file.h>
#include <deepen/predict.h>

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

namespace fs = std::filesystem;

namespace deepen::cli {

std::vector<std::string> model_files(const std::string& modelpath) {
  std::error_code ec;
  if (!fs::exists(modelpath, ec)) throw Error(fmt::format("{}: no such file or folder", modelpath));
  if (!fs::is_directory(modelpath, ec)) return {modelpath};
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(modelpath, ec)) {
    if (entry.path().extension() == ".onnx" && !fs::is_directory(entry.path(), ec))
      files.push_back(entry.path().string());
  }
  if (ec) throw Error(fmt::format("{}: cannot read the folder ({})", modelpath, ec.message()));
  std::sort(files.begin(), files.end());
  if (files.empty()) throw Error(fmt::format("{}: the folder holds no .onnx files", modelpath));
  return files;
}

std::vector<std::string> model_files(const std::vector<std::string>& modelpaths) {
  std::vector<std::string> files;
  for (const auto& path : modelpaths)
    for (auto& file : model_files(path))
      if (std::find(files.begin(), files.end(), file) == files.end()) files.push_back(std::move(file));
  return files;
}

void emit(const std::string& text, const std::string& path) {
  if (path.empty() || path == "-") {
    std::cout << text;
    std::cout.flush();
    return;
  }
  write_file_atomically(path, text);
}

std::string predictors_dir(const std::string& flag) { return flag.empty() ? default_predictors_dir() : flag; }

}  // namespace deepen::cli
