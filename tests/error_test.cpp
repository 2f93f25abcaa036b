// Errors as the user meets them: every kind of deepen::Error through the built binary with its
// exit code, one style of error line on stderr in every subcommand, and a model's error printed
// once whatever the format (docs/output-formats.md#exit-codes-and-errors).
#include <deepen/error.h>
#include <deepen/measure.h>
#include <deepen/schema.h>

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include "test_util.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using deepen::test::CliResult;
using deepen::test::run_cli;
using deepen::test::TempDir;
using deepen::test::write_text;

namespace {

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

class Errors : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::current_path(DEEPEN_SOURCE_DIR);  // model paths in messages are relative
    // The shared stub (test_util.h) beside two broken predictors: a booster that is garbage and
    // fusion rules that do not read.
    const std::string broken = R"(- name: garbage
  version: 1
  folder: stub
  kernels:
    conv-bn-relu:
      energy: garbage.ubj
- name: brokenrules
  version: 1
  folder: stub
  fusion_rules: broken_rules.yaml
  kernels:
    conv-bn-relu:
      energy: energy.json
)";
    const char* rules = "chains:\n  - [conv, bn, relu]\n  - [conv, relu]\nsame_as:\n  conv-relu: conv-bn-relu\n";
    deepen::test::write_stub_registry(reg_, deepen::test::stub_entry("1.0", false) + broken, rules);
    write_text(reg_.file("stub/garbage.ubj"), "\x01\x02 this is not a booster");
    write_text(reg_.file("stub/broken_rules.yaml"), "chains: 3\n");
  }

  CliResult deepen(std::vector<std::string> args) {
    args.push_back("--predictors");
    args.push_back(reg_.path());
    return run_cli(args);
  }

  // A copy of a test model whose ONNX opset deepen does not read: valid, but unsupported.
  std::string unsupported_model() {
    onnx::ModelProto m;
    std::ifstream in("test_models/mobilenetv1.onnx", std::ios::binary);
    EXPECT_TRUE(m.ParseFromIstream(&in));
    for (auto& op : *m.mutable_opset_import())
      if (op.domain().empty()) op.set_version(99);
    std::string path = tmp_.file("opset99.onnx");
    std::ofstream out(path, std::ios::binary);
    m.SerializeToOstream(&out);
    return path;
  }

  // The error line of a command that failed with `code`: stderr is that one line.
  static void expect_one_error(const CliResult& r, int code, const std::string& line) {
    EXPECT_EQ(r.exit_code, code) << r.err;
    EXPECT_EQ(r.err, "deepen: error: " + line + "\n");
  }

  TempDir reg_, tmp_;
};

TEST(Error, CarriesItsKindAndFile) {
  deepen::Error plain("--jobs -1: give a number");
  EXPECT_EQ(plain.kind(), deepen::ErrorKind::BadInput);
  EXPECT_EQ(plain.file(), "");
  EXPECT_EQ(plain.detail(), "--jobs -1: give a number");
  deepen::Error in_file = deepen::Error::in_file(deepen::ErrorKind::Unsupported, "m.onnx", "opset 99");
  EXPECT_STREQ(in_file.what(), "m.onnx: opset 99");
  EXPECT_EQ(in_file.file(), "m.onnx");
  EXPECT_EQ(in_file.detail(), "opset 99");
  deepen::Error registry = in_file.as(deepen::ErrorKind::Registry);
  EXPECT_EQ(registry.kind(), deepen::ErrorKind::Registry);
  EXPECT_EQ(registry.file(), "m.onnx");
  EXPECT_STREQ(registry.what(), "m.onnx: opset 99");
}

// Each kind through the binary: the code its kind gives, and the message that says which it is.
TEST_F(Errors, BadInputExitsTwo) {
  expect_one_error(deepen({"kernels", "tests/bad_inputs/empty.onnx"}), 2,
                   "tests/bad_inputs/empty.onnx: the file is empty; expected an ONNX model");
}

TEST_F(Errors, UnknownPredictorExitsTwo) {
  CliResult r = deepen({"predict", "-p", "stubb", "test_models/mobilenetv1.onnx"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("deepen: error: unknown predictor 'stubb'; did you mean 'stub'?", 0), 0u) << r.err;
  CliResult version = deepen({"predict", "-p", "stub", "--predictor-version", "9", "test_models/mobilenetv1.onnx"});
  expect_one_error(version, 2, "predictor 'stub' has no version 9 (available: 1.0)");
}

TEST_F(Errors, UnsupportedModelExitsTwo) {
  const std::string model = unsupported_model();
  for (const char* command : {"predict", "kernels"}) {
    CliResult r = deepen({command, "-p", "stub", model});
    EXPECT_EQ(r.exit_code, 2) << command << ": " << r.err;
    EXPECT_EQ(r.err.rfind("deepen: error: " + model + ": ONNX opset 99 is not supported", 0), 0u) << r.err;
    EXPECT_EQ(count(r.err, "\n"), 1u) << r.err;
  }
}

TEST_F(Errors, UnsupportedPurposeExitsTwo) {
  CliResult r = deepen({"predict", "-p", "stub", "--purpose", "latency", "test_models/mobilenetv1.onnx"});
  expect_one_error(r, 2, "predictor 'stub' 1.0 cannot predict latency: it predicts energy");
  CliResult eval = deepen({"eval", "-p", "stub", "--purpose", "latency", "--dataset", "x.csv"});
  expect_one_error(eval, 2, "predictor 'stub' 1.0 cannot predict latency: it predicts energy");
}

TEST_F(Errors, BrokenRegistryExitsTwo) {
  CliResult booster = deepen({"predict", "-p", "garbage", "test_models/mobilenetv1.onnx"});
  expect_one_error(booster, 2, reg_.file("stub/garbage.ubj") + ": not an XGBoost booster in JSON or UBJSON format");
  CliResult rules = deepen({"kernels", "-p", "brokenrules", "test_models/mobilenetv1.onnx"});
  EXPECT_EQ(rules.exit_code, 2) << rules.err;
  EXPECT_EQ(rules.err.rfind("deepen: error: " + reg_.file("stub/broken_rules.yaml") + ": ", 0), 0u) << rules.err;
  TempDir empty;
  CliResult none = run_cli({"list", "--predictors", empty.path()});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_EQ(none.err.rfind("deepen: error: " + empty.file("predictors.yaml") + ": cannot open the predictor registry", 0),
            0u)
      << none.err;
}

// An internal error is not the input's doing: the system refusing deepen what it needs is one.
// With room for a single more file descriptor, deepen reads the model but cannot open the socket
// pair of ONNX's shape inference worker (DEEPEN_SHAPE_INFERENCE=onnx sends every model there).
TEST_F(Errors, InternalExitsSeventy) {
  // AddressSanitizer's runtime needs file descriptors of its own, which the limit below denies.
  if (deepen::test::kSanitized) GTEST_SKIP() << "under AddressSanitizer, which needs more than 4 open files";
  const std::string out = tmp_.file("out"), err = tmp_.file("err");
  pid_t pid = fork();
  if (pid == 0) {
    if (!std::freopen(out.c_str(), "w", stdout) || !std::freopen(err.c_str(), "w", stderr)) _exit(126);
    for (int fd = 3; fd < 4096; ++fd) close(fd);  // whatever the test runner left open
    rlimit files{4, 4};                            // stdin, stdout, stderr and one more
    setrlimit(RLIMIT_NOFILE, &files);
    setenv("DEEPEN_SHAPE_INFERENCE", "onnx", 1);
    execl(DEEPEN_BINARY, DEEPEN_BINARY, "kernels", "test_models/mobilenetv1.onnx", static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 70);
  EXPECT_EQ(deepen::test::read_text(err),
            "deepen: error: test_models/mobilenetv1.onnx: cannot start ONNX shape inference: socketpair: Too many open "
            "files\n");
  EXPECT_EQ(deepen::test::read_text(out), "");
}

// Every subcommand's error reads the same: one line, "deepen: error: ", then what (and the file
// first when it is about one).
TEST_F(Errors, EverySubcommandWritesOneErrorLineInOneStyle) {
  const std::string missing = tmp_.file("missing.onnx");
  struct Case {
    std::vector<std::string> args;
    std::string starts;  // what the line says after "deepen: error: "
  };
  const std::vector<Case> cases = {
      {{"predict", "-p", "stub", "-m", missing}, missing + ": no such file or folder"},
      {{"kernels", missing}, missing + ": no such file or folder"},
      {{"check", "-p", "stub", "-m", "test_models/mobilenetv1.onnx", "--budget", "10ms"}, "--budget '10ms': ms is"},
      {{"eval", "-p", "stub", "--dataset", tmp_.file("none.csv")}, tmp_.file("none.csv") + ": cannot open the dataset"},
      {{"list", "--predictors", tmp_.path()}, tmp_.file("predictors.yaml") + ": cannot open the predictor registry"},
      {{"measure", missing}, missing + ": no such file or folder"},
      {{"train", "-d", tmp_.file("none.csv"), "-n", "x", "--device", "d", "--framework", "f"},
       tmp_.file("none.csv") + ": cannot open the dataset"},
      {{"dataset", "import", "--format", "lut", tmp_.file("none.yaml"), "-o", tmp_.file("out.csv")},
       tmp_.file("none.yaml") + ": cannot open"},
      {{"zoo", "--kernel", "nonesuch", "--config", "hw=8", "--out", tmp_.file("k.onnx")}, "unknown kernel type 'nonesuch'"},
      {{"profile", "--backend", "nonesuch", "--out", tmp_.file("p.csv")}, "--backend: nonesuch not in"},
      {{"predict", "-p", "stub", "--version", "1"}, "predict: --version is the program's version"},
      {{"predict", "-p", "stub", "--bogus", "test_models/mobilenetv1.onnx"}, "The following argument was not expected"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = c.args;
    if (args[0] == "predict" || args[0] == "kernels" || args[0] == "check" || args[0] == "eval" || args[0] == "train")
      args.insert(args.end(), {"--predictors", reg_.path()});
    CliResult r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << args[0] << ": " << r.err;
    EXPECT_EQ(r.err.rfind("deepen: error: " + c.starts, 0), 0u) << args[0] << ": " << r.err;
    EXPECT_EQ(count(r.err, "deepen: error: "), 1u) << r.err;
    for (const auto& line : lines(r.err))  // a usage error adds how to get the usage
      EXPECT_TRUE(line.rfind("deepen: error: ", 0) == 0 || line.rfind("Run 'deepen --help'", 0) == 0) << line;
    EXPECT_EQ(r.out, "") << args[0];
  }
}

// A model's error is said once: in the table's row, or (JSON, CSV) on stderr besides the output's
// error field; one model that cannot be read is the command's error, said once on stderr.
TEST_F(Errors, AModelsErrorIsPrintedOnce) {
  TempDir folder;
  std::filesystem::copy_file("test_models/mobilenetv1.onnx", folder.file("a_good.onnx"));
  write_text(folder.file("b_bad.onnx"), "not onnx at all");
  const std::string single = "tests/bad_inputs/text.onnx";
  const std::string message = "not a valid ONNX model";
  std::vector<std::string> commands = {"predict", "kernels", "check"};
  if (deepen::backend_available("opencv")) commands.push_back("measure");
  for (const auto& command : commands) {
    for (const std::string format : {"table", "json", "csv"}) {
      if (command == "check" && format == "csv") continue;
      for (const std::string& path : {single, folder.path()}) {
        std::vector<std::string> args = {command, path, "-f", format};
        if (command == "measure") args.insert(args.end(), {"--runs", "1", "--warmup", "0"});
        else if (command != "kernels") args.insert(args.end(), {"-p", "stub"});
        if (command != "measure") args.insert(args.end(), {"--predictors", reg_.path()});
        CliResult r = run_cli(args);
        const std::string what = command + " " + path + " -f " + format + "\nstderr:\n" + r.err + "stdout:\n" + r.out;
        const bool one = path == single;
        EXPECT_EQ(r.exit_code, command == "check" ? (one ? 3 : 1) : (one ? 2 : 1)) << what;
        const size_t on_stderr = count(r.err, message), in_output = count(r.out, message);
        if (format == "table") {
          EXPECT_EQ(on_stderr + in_output, 1u) << what;
        } else {
          EXPECT_EQ(on_stderr, 1u) << what;
          EXPECT_LE(in_output, 1u) << what;  // the error field (none when one model is the command's error)
        }
        // On stderr, the model is named once, first.
        for (const auto& line : lines(r.err))
          if (line.find(message) != std::string::npos) {
            const std::string bad = one ? single : folder.file("b_bad.onnx");
            EXPECT_EQ(line.rfind("deepen: error: " + bad + ": " + message, 0), 0u) << what;
            EXPECT_EQ(count(line, bad), 1u) << what;
          }
      }
    }
  }
}

}  // namespace
