// Helpers shared by the tests: temporary folders, running the built CLI, and a tiny registry
// whose boosters are hand-written stumps (the stub registry), so that predictions can be checked
// by hand.
#pragma once

#include <deepen/schema.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace deepen::test {

// Whether this test binary runs under AddressSanitizer (scripts/sanitize.sh): it is slower, and
// needs file descriptors and memory of its own.
inline const bool kSanitized =
#if defined(__SANITIZE_ADDRESS__)
    true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    true;
#else
    false;
#endif
#else
    false;
#endif

#ifdef DEEPEN_OPENCV_MODULE_PATH
// deepen looks for its OpenCV module beside the executable, and the test binary sits in another
// folder: the in-process tests (and the CLIs they start) load the one the build made.
inline const bool kOpenCVModuleFromBuild = setenv("DEEPEN_OPENCV_MODULE", DEEPEN_OPENCV_MODULE_PATH, 0) == 0;
#endif

inline std::string model(const std::string& name) { return std::string(DEEPEN_TEST_MODELS) + "/" + name; }

// A fresh folder under the system's temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "deepen-test-XXXXXX").string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    path_ = mkdtemp(buf.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  // Writes text to a file in the folder and returns its path.
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(file(name), std::ios::binary) << text;
    return file(name);
  }

 private:
  std::string path_;
};

inline void write_text(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct CliResult {
  int exit_code = -1;
  std::string out, err;
};

// Runs the built deepen binary with the arguments (no shell), capturing stdout and stderr.
inline CliResult run_cli(const std::vector<std::string>& args, const std::vector<std::string>& env = {}) {
  TempDir tmp;
  std::string out_path = tmp.file("stdout"), err_path = tmp.file("stderr");
  pid_t pid = fork();
  if (pid == 0) {
    FILE* o = std::freopen(out_path.c_str(), "w", stdout);
    FILE* e = std::freopen(err_path.c_str(), "w", stderr);
    (void)o;
    (void)e;
    for (const auto& kv : env) putenv(const_cast<char*>(kv.c_str()));
    std::vector<char*> argv;
    std::string bin = DEEPEN_BINARY;
    argv.push_back(bin.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = read_text(out_path);
  r.err = read_text(err_path);
  return r;
}

struct RunResult {
  int exit_code = -1;
  std::string out;  // stdout and stderr together
};

// Runs the built deepen binary through the shell: the arguments already shell-quoted, stdout and
// stderr together.
// `env`: shell assignments (VAR=value ...) for the command.
inline RunResult run_deepen(const std::string& args, const std::string& env = "") {
  RunResult r;
  std::string cmd = env + " " + std::string(DEEPEN_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// An XGBoost JSON model (format of XGBoost 1.7) with one stump: feature `feature` < `threshold`
// gives `left`, otherwise `right`; base score 0.
inline std::string stump_booster_json(int num_features, int feature, double threshold, double left, double right) {
  std::ostringstream s;
  s.precision(17);
  s << std::scientific;  // XGBoost's JSON reader wants floats, not integers, for real fields
  s << R"({"learner":{"attributes":{},"feature_names":[],"feature_types":[],"gradient_booster":{"model":{)"
    << R"("gbtree_model_param":{"num_parallel_tree":"1","num_trees":"1","size_leaf_vector":"0"},"tree_info":[0],)"
    << R"("trees":[{"base_weights":[0E0,)" << left << "," << right
    << R"(],"categories":[],"categories_nodes":[],"categories_segments":[],"categories_sizes":[],)"
    << R"("default_left":[1,0,0],"id":0,"left_children":[1,-1,-1],"loss_changes":[1E0,0E0,0E0],)"
    << R"("parents":[2147483647,0,0],"right_children":[2,-1,-1],"split_conditions":[)" << threshold << ","
    << left << "," << right << R"(],"split_indices":[)" << feature
    << R"(,0,0],"split_type":[0,0,0],"sum_hessian":[4E0,2E0,2E0],"tree_param":{"num_deleted":"0","num_feature":")"
    << std::defaultfloat << num_features << R"(","num_nodes":"3","size_leaf_vector":"0"}}]},"name":"gbtree"},)"
    << R"("learner_model_param":{"base_score":"0E0","boost_from_average":"0","num_class":"0","num_feature":")"
    << num_features << R"(","num_target":"1"},"objective":{"name":"reg:squarederror","reg_loss_param":)"
    << R"({"scale_pos_weight":"1"}}},"version":[1,7,4]})";
  return s.str();
}

// ---- The stub registry ------------------------------------------------------------------------
// A registry whose numbers can be checked by hand: in its folder stub/,
//   energy.json   a stump on the first conv-bn-relu feature (hw): 0 for hw < 20, 1 otherwise;
//                 registered with transform: log, it gives e^0 = 1 mJ and e^1 mJ
//   latency.json  2 ms for every conv-bn-relu
//   rules.yaml    the fusion rules given (kStubRules unless a test needs others)
// and predictors.yaml holding the entries given, usually made by stub_entry.

// conv-bn-relu and the other chains a phone CPU runtime fuses; conv-relu, conv and conv-relu6
// are scored as conv-bn-relu, so that one booster covers every conv.
inline const char* const kStubRules =
    "chains:\n  - [conv, bn, relu]\n  - [conv, relu]\n  - [conv, relu6]\n  - [dwconv, relu]\n"
    "  - [dwconv, relu6]\n  - [add, relu]\nsame_as:\n  conv-relu: conv-bn-relu\n  conv: conv-bn-relu\n"
    "  conv-relu6: conv-bn-relu\n";

// An entry of predictor "stub" at `version` with the two boosters above: energy only, or
// (with_latency) energy, latency and power. `more`: lines added to the entry, each indented by
// two spaces and ended by a newline (folder: stub, data: ..., accuracy: ...).
inline std::string stub_entry(const std::string& version, bool with_latency, const std::string& more = "") {
  std::string entry = "- name: stub\n  version: " + version +
                      "\n  device: Test device\n  framework: none\n  purposes: " +
                      (with_latency ? "[energy, latency, power]" : "[energy]") +
                      "\n  fusion_rules: rules.yaml\n  kernels:\n    conv-bn-relu:\n"
                      "      energy: {booster: energy.json, transform: log}\n";
  if (with_latency) entry += "      latency: latency.json\n";
  return entry + more;
}

// Writes the stub's files into `dir` and `entries` as its predictors.yaml.
inline void write_stub_registry(const TempDir& dir, const std::string& entries,
                                const std::string& rules = kStubRules) {
  const int n = static_cast<int>(find_schema("conv-bn-relu")->feature_names.size());
  write_text(dir.file("stub/energy.json"), stump_booster_json(n, 0, 20, 0.0, 1.0));
  write_text(dir.file("stub/latency.json"), stump_booster_json(n, 0, 1e9, 2.0, 2.0));
  write_text(dir.file("stub/rules.yaml"), rules);
  write_text(dir.file("predictors.yaml"), entries);
}

}  // namespace deepen::test
