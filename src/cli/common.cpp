#include "cli/commands.h"

#include <deepen/error.h>
#include <deepen/output_file.h>
#include <deepen/predict.h>

#include <fmt/format.h>

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <filesystem>
#include <iostream>

namespace fs = std::filesystem;

namespace deepen::cli {

int exit_code(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::BadInput:
    case ErrorKind::UnknownPredictor:
    case ErrorKind::Unsupported:
    case ErrorKind::UnsupportedPurpose:
    case ErrorKind::Registry:
      return kExitBadInput;
    case ErrorKind::Internal:
      return kExitInternal;
  }
  return kExitInternal;
}

void print_error(const std::string& message) { std::cerr << "deepen: error: " << message << "\n"; }
void print_warning(const std::string& message) { std::cerr << "deepen: warning: " << message << "\n"; }
void print_note(const std::string& message) { std::cerr << "deepen: note: " << message << "\n"; }

std::string model_error(const std::string& model, const Error& e) {
  return e.file() == model ? e.what() : model + ": " + e.what();
}

std::vector<std::string> model_files(const std::string& modelpath) {
  std::error_code ec;
  if (!fs::exists(modelpath, ec)) throw Error::in_file(modelpath, "no such file or folder");
  if (!fs::is_directory(modelpath, ec)) return {modelpath};
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(modelpath, ec)) {
    if (entry.path().extension() == ".onnx" && !fs::is_directory(entry.path(), ec))
      files.push_back(entry.path().string());
  }
  if (ec) throw Error::in_file(modelpath, fmt::format("cannot read the folder ({})", ec.message()));
  std::sort(files.begin(), files.end());
  if (files.empty()) throw Error::in_file(modelpath, "the folder holds no .onnx files");
  return files;
}

std::vector<std::string> model_files(const std::vector<std::string>& modelpaths) {
  std::vector<std::string> files;
  std::unordered_set<std::string> seen;
  for (const auto& path : modelpaths)
    for (auto& file : model_files(path))
      if (seen.insert(file).second) files.push_back(std::move(file));
  return files;
}

std::pair<CLI::Option*, CLI::Option*> add_model_paths(CLI::App* cmd, std::vector<std::string>& paths) {
  CLI::Option* flag =
      cmd->add_option("--modelpath,-m", paths, "An .onnx file, or a folder: every .onnx in it, by name (repeatable)");
  CLI::Option* positional = cmd->add_option("paths", paths, "More .onnx files or folders, as --modelpath");
  return {flag, positional};
}

CLI::Option* add_format_option(CLI::App* cmd, std::string& format, const std::vector<std::string>& names) {
  return cmd->add_option("--format,-f", format, "Output format")->check(CLI::IsMember(names))->capture_default_str();
}

unsigned parse_jobs(int jobs) {
  if (jobs < 0) throw Error(fmt::format("--jobs {}: give a number of threads, or 0 for one per core", jobs));
  if (jobs > 0) return static_cast<unsigned>(jobs);
  cpu_set_t cpus;  // the cores this process may run on (taskset, cgroups), not all the machine has
  if (sched_getaffinity(0, sizeof cpus, &cpus) == 0 && CPU_COUNT(&cpus) > 0) return CPU_COUNT(&cpus);
  return std::max(1u, std::thread::hardware_concurrency());
}

void parallel_for(size_t n, unsigned jobs, const std::function<void(size_t)>& work) {
  jobs = static_cast<unsigned>(std::min<size_t>(std::max(1u, jobs), n));
  if (jobs <= 1) {
    for (size_t i = 0; i < n; ++i) work(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::exception_ptr first_failure;
  std::mutex failure_mutex;
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < n;) {
      try {
        work(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(failure_mutex);
        if (!first_failure) first_failure = std::current_exception();
        next = n;  // the others stop at their next item
      }
    }
  };
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < jobs; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  if (first_failure) std::rethrow_exception(first_failure);
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
