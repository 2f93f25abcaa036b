// The CLI as a user runs it: golden outputs for predict, kernels and list on the test models
// with a registry of hand-written stump boosters, and the exit codes and messages of bad input.
// Set DEEPEN_UPDATE_GOLDEN=1 to rewrite the golden files (then read the diff).
#include <deepen/graph.h>
#include <deepen/schema.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <onnx/onnx_pb.h>

#include "test_util.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

using deepen::test::CliResult;
using deepen::test::run_cli;
using deepen::test::TempDir;
using deepen::test::write_text;

namespace {

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::current_path(DEEPEN_SOURCE_DIR);  // model paths in outputs are relative
    // energy: e^0 = 1 mJ for hw < 20, e^1 otherwise; latency 2 ms; conv-relu, conv and
    // conv-relu6 are scored as conv-bn-relu.
    using deepen::test::stub_entry;
    deepen::test::write_stub_registry(
        reg_, stub_entry("1.0", false,
                         "  data: hand-written stumps\n"
                         "  accuracy: {conv-bn-relu: {energy: {acc10: 1.0, mape: 0.0, n: 4, "
                         "method: by construction}}}\n") +
                  stub_entry("2.0", true) + R"(- name: enveloped
  version: 1
  folder: stub
  device: Test device with a power envelope
  purposes: [energy, latency, power]
  fusion_rules: rules.yaml
  kernels:
    conv-bn-relu:
      energy: {booster: energy.json, transform: log}
      latency: latency.json
  power_envelope: {min_w: 0.6, max_w: 1, note: by hand}
- name: missing
  version: 1
  folder: stub
  kernels:
    conv-bn-relu:
      energy: nothere.ubj
- name: garbage
  version: 1
  folder: stub
  kernels:
    conv-bn-relu:
      energy: garbage.ubj
)");
    write_text(reg_.file("stub/garbage.ubj"), "\x01\x02 this is not a booster");
  }

  CliResult deepen(std::vector<std::string> args) {
    args.push_back("--predictors");
    args.push_back(reg_.path());
    return run_cli(args);
  }

  static void expect_golden(const std::string& name, const std::string& actual) {
    std::string path = std::string(DEEPEN_TESTS_DIR) + "/golden/" + name;
    if (std::getenv("DEEPEN_UPDATE_GOLDEN")) write_text(path, actual);
    EXPECT_EQ(deepen::test::read_text(path), actual) << "golden file " << path;
  }

  TempDir reg_;
};

}  // namespace

TEST_F(Cli, PredictFolderTable) {
  CliResult r = deepen({"predict", "--predictor", "stub", "--predictor-version", "1.0", "--purpose", "ENERGY", "--modelpath",
                        "test_models/"});
  // mlp_opset7 has no kernel the stub scores: no energy at all is an error for that model.
  EXPECT_EQ(r.exit_code, 1) << r.err;
  expect_golden("predict_folder.txt", r.out);
}

TEST_F(Cli, PredictPerKernelJson) {
  CliResult r = deepen({"predict", "-p", "stub", "--purpose", "power", "-m", "test_models/resnet_basic.onnx",
                        "--per-kernel", "--format", "json", "--all-purposes"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  expect_golden("predict_resnet_per_kernel.json", r.out);
  // Six convs at 2 ms each; energy e^1 for the two 32x32 convs and 1 for the rest.
  EXPECT_NE(r.out.find("\"latency_ms\": 12.0"), std::string::npos);
}

TEST_F(Cli, PredictCsvToFile) {
  TempDir out;
  CliResult r = deepen({"predict", "-p", "stub", "--predictor-version", "1", "-m", "test_models", "--format", "csv",
                        "--output", out.file("result.csv")});
  EXPECT_EQ(r.exit_code, 1) << r.err;  // mlp_opset7: nothing scored (see PredictFolderTable)
  EXPECT_EQ(r.out, "");
  expect_golden("predict_folder.csv", deepen::test::read_text(out.file("result.csv")));
}

TEST_F(Cli, PredictPerKernelTable) {
  CliResult r = deepen({"predict", "-p", "stub", "--predictor-version", "1.0", "-m", "test_models/mobilenetv1.onnx",
                        "--per-kernel"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  expect_golden("predict_mobilenetv1_per_kernel.txt", r.out);
}

TEST_F(Cli, KernelsTable) {
  CliResult r = deepen({"kernels", "test_models/shufflenet.onnx"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  expect_golden("kernels_shufflenet.txt", r.out);
}

TEST_F(Cli, List) {
  CliResult r = deepen({"list"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("stub 2.0"), std::string::npos);
  EXPECT_NE(r.out.find("conv-bn-relu energy: 100.0% within ±10% (- within ±5%, - within ±20%), MAPE 0.0%, n=4 (by construction)"), std::string::npos)
      << r.out;
  CliResult schema = run_cli({"list", "--schema"});
  EXPECT_EQ(schema.exit_code, 0);
  EXPECT_NE(schema.out.find("gconv\n  config:   hw, cin, cout, ks, stride, groups\n"), std::string::npos) << schema.out;
  CliResult j = deepen({"list", "--format", "json"});
  EXPECT_EQ(j.exit_code, 0);
  EXPECT_NE(j.out.find("\"name\": \"stub\""), std::string::npos);
}

TEST_F(Cli, VersionAndHelpOnEverySubcommand) {
  CliResult v = run_cli({"--version"});
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out.rfind("deepen ", 0), 0u);
  for (const char* sub : {"predict", "kernels", "list"}) {
    CliResult h = run_cli({sub, "--help"});
    EXPECT_EQ(h.exit_code, 0) << sub;
    EXPECT_NE(h.out.find("--"), std::string::npos) << sub;
  }
}

// --version is the program's; a predictor's version is --predictor-version, on every subcommand.
TEST_F(Cli, VersionFlagMeansTheProgramsOnly) {
  CliResult r = deepen({"predict", "-p", "stub", "--version", "1.0", "-m", "test_models/resnet_basic.onnx"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--version is the program's version (deepen --version); give a predictor's version with "
                       "--predictor-version"),
            std::string::npos)
      << r.err;
}

TEST_F(Cli, UsageErrorsExitTwo) {
  EXPECT_EQ(run_cli({}).exit_code, 2);
  EXPECT_EQ(run_cli({"predict"}).exit_code, 2);
  EXPECT_EQ(run_cli({"frobnicate"}).exit_code, 2);
  CliResult r = deepen({"predict", "-p", "stub", "-m", "test_models", "--format", "xml"});
  EXPECT_EQ(r.exit_code, 2);
  CliResult p = deepen({"predict", "-p", "stub", "-m", "test_models", "--purpose", "speed"});
  EXPECT_EQ(p.exit_code, 2);
  EXPECT_NE(p.err.find("unknown purpose 'speed'"), std::string::npos) << p.err;
}

TEST_F(Cli, BadModelsExitTwoWithTheFileNamed) {
  TempDir tmp;
  std::string good = deepen::test::read_text("test_models/mobilenetv1.onnx");
  write_text(tmp.file("empty.onnx"), "");
  write_text(tmp.file("truncated.onnx"), good.substr(0, good.size() / 3));
  std::string noise(2000, 'x');
  for (size_t i = 0; i < noise.size(); ++i) noise[i] = static_cast<char>((i * 7919 + 13) % 251);
  write_text(tmp.file("random.onnx"), noise);
  // A model whose spatial dims are symbolic: the user must give them.
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromString(deepen::test::read_text("test_models/mobilenetv2.onnx")));
  m.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(2)->set_dim_param("height");
  write_text(tmp.file("symbolic.onnx"), m.SerializeAsString());

  struct Case {
    std::string file, words;
  };
  for (const Case& c : std::vector<Case>{{tmp.file("missing.onnx"), "no such file or folder"},
                                         {tmp.file("empty.onnx"), "the file is empty"},
                                         {tmp.file("truncated.onnx"), "not a valid ONNX model"},
                                         {tmp.file("random.onnx"), "not a valid ONNX model"},
                                         {tmp.file("symbolic.onnx"), "symbolic dimension 'height' at axis 2"}}) {
    CliResult r = deepen({"predict", "-p", "stub", "-m", c.file});
    EXPECT_EQ(r.exit_code, 2) << c.file << "\n" << r.err;
    EXPECT_NE(r.err.find(c.words), std::string::npos) << c.file << "\n" << r.err;
    EXPECT_NE(r.err.find(c.file), std::string::npos) << r.err;
  }
  // The symbolic model works once its shape is given.
  CliResult ok = deepen({"predict", "-p", "stub", "-m", tmp.file("symbolic.onnx"), "--input-shape",
                         "input:1x3x64x64"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  // --input-shape takes one value per use: a model path after it is a model path, in each command.
  for (const std::string command : {"predict", "check", "kernels"}) {
    std::vector<std::string> args = {command, "--input-shape", "input:1x3x64x64", tmp.file("symbolic.onnx")};
    if (command != "kernels") args.insert(args.begin() + 1, {"-p", "stub"});
    if (command == "check") args.insert(args.end(), {"--budget", "1000mJ"});
    CliResult after = deepen(args);
    EXPECT_EQ(after.exit_code, 0) << command << "\n" << after.err;
  }
  // A wrong rank, or a name the model does not have, is an error naming the inputs it has.
  CliResult rank = deepen({"predict", "-p", "stub", "-m", tmp.file("symbolic.onnx"), "--input-shape", "input:1x3x64"});
  EXPECT_EQ(rank.exit_code, 2) << rank.err;
  EXPECT_NE(rank.err.find("--input-shape input gives 3 dimensions, but input 'input' has 4 (input:batchx3xheightx64)"),
            std::string::npos)
      << rank.err;
  CliResult name = deepen({"predict", "-p", "stub", "-m", tmp.file("symbolic.onnx"), "--input-shape", "x:1x3x64x64"});
  EXPECT_EQ(name.exit_code, 2) << name.err;
  EXPECT_NE(name.err.find("--input-shape names 'x', which is not an input of this model (its inputs: "
                          "input:batchx3xheightx64)"),
            std::string::npos)
      << name.err;
}

TEST_F(Cli, FolderWithABrokenModelReportsTheOthersAndExitsOne) {
  TempDir tmp;
  std::filesystem::copy_file("test_models/mobilenetv1.onnx", tmp.file("a_good.onnx"));
  write_text(tmp.file("b_broken.onnx"), "not onnx at all");
  std::filesystem::copy_file("test_models/resnet_basic.onnx", tmp.file("c_good.onnx"));
  CliResult r = deepen({"predict", "-p", "stub", "-m", tmp.path(), "--format", "json"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.out.find("a_good.onnx"), std::string::npos);
  EXPECT_NE(r.out.find("c_good.onnx"), std::string::npos);
  EXPECT_NE(r.out.find("\"error\": "), std::string::npos);
  const std::string broken = tmp.file("b_broken.onnx");
  EXPECT_NE(r.err.find("deepen: error: " + broken + ": not a valid ONNX model"), std::string::npos) << r.err;  // named once
  TempDir empty;
  CliResult e = deepen({"predict", "-p", "stub", "-m", empty.path()});
  EXPECT_EQ(e.exit_code, 2);
  EXPECT_NE(e.err.find("holds no .onnx files"), std::string::npos) << e.err;
}

// --jobs: models predicted side by side give the same output, warnings and exit code, in the
// order given, as one thread; a broken model among them is still reported once.
TEST_F(Cli, JobsGiveTheSameOutputInTheSameOrder) {
  TempDir tmp;
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator("test_models"))
    if (entry.path().extension() == ".onnx")
      for (int copy = 0; copy < 3; ++copy)  // more models than threads, so threads take several each
        std::filesystem::copy_file(entry.path(), tmp.file(std::to_string(copy) + "_" + entry.path().filename().string())), ++n;
  write_text(tmp.file("1_zz_broken.onnx"), "not onnx at all");
  for (const char* format : {"table", "json", "csv"}) {
    CliResult one = deepen({"predict", "-p", "stub", "--purpose", "power", "-m", tmp.path(), "-f", format, "-j", "1"});
    EXPECT_EQ(one.exit_code, 1) << one.err;  // the broken model and mlp_opset7 fail, the others are reported
    for (const char* jobs : {"2", "5", "0"}) {
      CliResult many = deepen({"predict", "-p", "stub", "--purpose", "power", "-m", tmp.path(), "-f", format, "--jobs", jobs});
      EXPECT_EQ(many.exit_code, one.exit_code) << format << " -j " << jobs;
      EXPECT_EQ(many.out, one.out) << format << " -j " << jobs;
      EXPECT_EQ(many.err, one.err) << format << " -j " << jobs;
    }
  }
  CliResult per_kernel = deepen({"predict", "-p", "stub", "-m", tmp.path(), "--per-kernel", "-f", "json", "-j", "1"});
  EXPECT_EQ(deepen({"predict", "-p", "stub", "-m", tmp.path(), "--per-kernel", "-f", "json", "-j", "3"}).out,
            per_kernel.out);
  EXPECT_GT(n, 12);
  CliResult bad = deepen({"predict", "-p", "stub", "-m", tmp.path(), "-j", "-1"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--jobs -1"), std::string::npos) << bad.err;
}

// What kernels writes, the next command reads: `kernels -f csv` over a folder is a kernel
// dataset that predict --kernels scores as predict scores the models themselves, and, with a
// measured column added, what eval --dataset reads.
TEST_F(Cli, KernelsCsvIsADatasetPredictAndEvalRead) {
  TempDir tmp;
  CliResult k = deepen({"kernels", "-p", "stub", "-m", "test_models/squeezenet_fire.onnx", "test_models/resnet_basic.onnx",
                        "-f", "csv", "-o", tmp.file("k.csv")});
  ASSERT_EQ(k.exit_code, 0) << k.err;
  CliResult scored = deepen({"predict", "-p", "stub", "--purpose", "latency", "--kernels", tmp.file("k.csv"), "-f", "json"});
  ASSERT_EQ(scored.exit_code, 0) << scored.err;
  std::map<std::string, double> sums;
  const nlohmann::json listing = nlohmann::json::parse(scored.out);
  for (const auto& row : listing["kernels"])
    if (row["predicted_latency_ms"].is_number()) sums[row["model"].get<std::string>()] += row["predicted_latency_ms"].get<double>();
  ASSERT_EQ(sums.size(), 2u) << scored.out.substr(0, 2000);
  EXPECT_TRUE(nlohmann::json::parse(scored.out)["kernels"][0]["index"].is_number_integer()) << "counts stay integers";
  for (const char* model : {"test_models/squeezenet_fire.onnx", "test_models/resnet_basic.onnx"}) {
    CliResult p = deepen({"predict", "-p", "stub", "--purpose", "latency", "-m", model, "-f", "json"});
    ASSERT_EQ(p.exit_code, 0) << p.err;
    const double whole = nlohmann::json::parse(p.out)["models"][0]["latency_ms"].get<double>();
    EXPECT_NEAR(sums[model], whole, 1e-9 * whole) << model;
  }
  // squeezenet's flatten is zero-cost: left out, and said so.
  EXPECT_NE(scored.err.find("zero-cost or other:OP kernel row(s) left out"), std::string::npos) << scored.err;
  // A measured column added: eval reads it.
  std::string csv = deepen::test::read_text(tmp.file("k.csv"));
  std::string measured;
  std::istringstream lines(csv);
  std::string line;
  for (bool header = true; std::getline(lines, line); header = false)
    measured += line + (header ? ",latency_ms\n" : ",1.5\n");
  write_text(tmp.file("measured.csv"), measured);
  CliResult e = deepen({"eval", "-p", "stub", "--purpose", "latency", "--dataset", tmp.file("measured.csv")});
  EXPECT_EQ(e.exit_code, 0) << e.err;
  // kernels takes folders and -m as predict does; JSON of several models is a list under "models".
  CliResult folder = deepen({"kernels", "test_models", "-f", "json"});
  ASSERT_EQ(folder.exit_code, 0) << folder.err;
  const nlohmann::json models = nlohmann::json::parse(folder.out)["models"];
  EXPECT_GE(models.size(), 10u);
  EXPECT_EQ(models[0]["model"], "test_models/densenet.onnx");
  CliResult none = deepen({"kernels"});
  EXPECT_EQ(none.exit_code, 2);
}

// eval --models: a row per model (measured, predicted, error) beside the aggregate, in every format.
TEST_F(Cli, EvalModelsGivesARowPerModel) {
  TempDir tmp;
  std::filesystem::copy_file("test_models/resnet_basic.onnx", tmp.file("resnet_basic.onnx"));
  // The stub scores resnet_basic's six convs at 2 ms each: 12 ms (its other kernels uncovered: "partial").
  // Measured 10 and 15 ms: +20%, -20%.
  write_text(tmp.file("models.csv"), "model,latency_ms\nresnet_basic.onnx,10\nresnet_basic.onnx,15\n");
  CliResult table = deepen({"eval", "-p", "stub", "--purpose", "latency", "--models", tmp.file("models.csv")});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("+20.0%"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("-20.0%"), std::string::npos) << table.out;
  CliResult json = deepen({"eval", "-p", "stub", "--purpose", "latency", "--models", tmp.file("models.csv"), "-f", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const nlohmann::json j = nlohmann::json::parse(json.out);
  ASSERT_EQ(j["models"].size(), 2u);
  EXPECT_EQ(j["models"][0]["model"], "resnet_basic.onnx");
  EXPECT_DOUBLE_EQ(j["models"][0]["measured"].get<double>(), 10.0);
  EXPECT_NEAR(j["models"][0]["predicted"].get<double>(), 12.0, 1e-9);
  EXPECT_NEAR(j["models"][0]["error_pct"].get<double>(), 20.0, 1e-9);
  EXPECT_NEAR(j["models"][1]["error_pct"].get<double>(), -20.0, 1e-9);
  EXPECT_EQ(j["groups"][0]["n"], 2);
  CliResult csv = deepen({"eval", "-p", "stub", "--purpose", "latency", "--models", tmp.file("models.csv"), "-f", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_NE(csv.out.find(",model,measured_latency_ms,predicted_latency_ms,error_pct,source,in_sample\n"), std::string::npos)
      << csv.out;
  EXPECT_NE(csv.out.find("(model),,,,,,,,,,resnet_basic.onnx,10,12,20.00,partial,false\n"), std::string::npos) << csv.out;
  EXPECT_NE(csv.out.find("(model),,,,,,,,,,resnet_basic.onnx,15,12,-20.00,partial,false\n"), std::string::npos) << csv.out;
}

TEST_F(Cli, RegistryProblemsExitTwo) {
  struct Case {
    std::vector<std::string> args;
    std::string words;
  };
  for (const Case& c : std::vector<Case>{
           {{"-p", "nosuch"}, "unknown predictor 'nosuch'"},
           {{"-p", "stub", "--predictor-version", "9"}, "has no version 9"},
           {{"-p", "missing"}, "nothere.ubj: cannot open the booster file"},
           {{"-p", "garbage"}, "garbage.ubj: not an XGBoost booster"},
           {{"-p", "stub", "--predictor-version", "1.0", "--purpose", "latency"}, "cannot predict latency: it predicts energy"},
           {{"-p", "stub", "--predictor-version", "1.0", "--purpose", "Power"}, "cannot predict power"}}) {
    std::vector<std::string> args = {"predict", "-m", "test_models/mobilenetv1.onnx"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    CliResult r = deepen(args);
    EXPECT_EQ(r.exit_code, 2) << c.words << "\n" << r.err;
    EXPECT_NE(r.err.find(c.words), std::string::npos) << r.err;
  }
  CliResult nowhere = run_cli({"list", "--predictors", "/nonexistent/folder"});
  EXPECT_EQ(nowhere.exit_code, 2);
  EXPECT_NE(nowhere.err.find("cannot open the predictor registry"), std::string::npos);
}

TEST_F(Cli, StrictMakesUncoveredKernelsAnError) {
  CliResult r = deepen({"predict", "-p", "stub", "-m", "test_models/mobilenetv1.onnx", "--strict"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.out.find("have no predictor (--strict): dwconv-relu, global-avgpool, fc"), std::string::npos) << r.out;
}

TEST_F(Cli, StrictMakesExtrapolatedKernelsAnError) {
  // stub's energy stump, as if trained on kernels of hw 1..8 only: resnet_basic's convs on 64x64
  // and 16x16 inputs lie beyond it, those on 8x8 inputs inside.
  std::string yaml = deepen::test::read_text(reg_.file("predictors.yaml"));
  yaml += "- name: ranged\n  version: 1\n  folder: stub\n  purposes: [energy]\n  fusion_rules: rules.yaml\n"
          "  kernels:\n    conv-bn-relu:\n      energy: {booster: energy.json, transform: log, ranges: {hw: [1, 8]}}\n"
          "  fallback: {energy: {mj_per_gflop: 1, mj_per_mb: 0, mj_per_kernel: 0.5}}\n";
  write_text(reg_.file("predictors.yaml"), yaml);
  const std::vector<std::string> base = {"predict", "-p", "ranged", "-m", "test_models/resnet_basic.onnx"};

  // Without --strict the model is reported, with a note.
  CliResult plain = deepen(base);
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_NE(plain.out.find("kernel(s) extrapolate beyond their predictor's training data"), std::string::npos)
      << plain.out;

  std::vector<std::string> strict = base;
  strict.push_back("--strict");
  CliResult r = deepen(strict);
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_NE(r.out.find("5 kernel(s) extrapolate beyond the training data (--strict): conv-relu (hw 64 > 8), conv "
                       "(hw 16 > 8)\n"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("have no predictor"), std::string::npos) << r.out;  // the fallback covers the rest

  strict.insert(strict.end(), {"--format", "json"});
  CliResult j = deepen(strict);
  EXPECT_EQ(j.exit_code, 3);
  EXPECT_NE(j.err.find("extrapolate beyond the training data (--strict)"), std::string::npos) << j.err;

  // Inside the ranges, --strict passes.
  yaml.replace(yaml.find("hw: [1, 8]"), 10, "hw: [1, 64]");
  write_text(reg_.file("predictors.yaml"), yaml);
  CliResult inside = deepen(strict);
  EXPECT_EQ(inside.exit_code, 0) << inside.out << inside.err;
  EXPECT_NE(inside.out.find("\"extrapolated_kernels\": 0"), std::string::npos) << inside.out;
}

// Every model of a folder failing is told apart from some failing.
TEST_F(Cli, EveryModelFailingExitsThree) {
  TempDir dir;
  write_text(dir.file("a.onnx"), "not a model");
  write_text(dir.file("b.onnx"), "nor this");
  CliResult all = deepen({"predict", "-p", "stub", "-m", dir.path()});
  EXPECT_EQ(all.exit_code, 3) << all.err;
  CliResult none = deepen({"predict", "-p", "stub", "--purpose", "energy", "-m", "test_models/mlp_opset7.onnx"});
  EXPECT_EQ(none.exit_code, 3) << none.out << none.err;
  EXPECT_NE((none.out + none.err).find("no energy could be predicted"), std::string::npos) << none.out << none.err;
}

// Only the purpose asked is reported unless --all-purposes asks for the others; each purpose of a
// kernel says where its own number came from.
TEST_F(Cli, PurposesNotAskedAreLeftOutUnlessAllPurposes) {
  CliResult energy = deepen({"predict", "-p", "stub", "--purpose", "energy", "-m", "test_models/resnet_basic.onnx",
                             "-f", "json", "--per-kernel"});
  ASSERT_EQ(energy.exit_code, 0) << energy.err;
  EXPECT_EQ(energy.out.find("\"latency_ms\""), std::string::npos) << energy.out;
  EXPECT_EQ(energy.out.find("\"power_mw\""), std::string::npos) << energy.out;
  EXPECT_NE(energy.out.find("\"energy_mj\": 7.718281828459045"), std::string::npos) << energy.out;
  EXPECT_NE(energy.out.find("\"sources\": {\n            \"energy\": \"trained\"\n          }"), std::string::npos)
      << energy.out;
  CliResult all = deepen({"predict", "-p", "stub", "--purpose", "energy", "-m", "test_models/resnet_basic.onnx",
                          "-f", "json", "--all-purposes"});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_NE(all.out.find("\"latency_ms\": 12.0"), std::string::npos) << all.out;
  EXPECT_NE(all.out.find("\"power_mw\": 643.19"), std::string::npos) << all.out;
  // CSV keeps its columns: a purpose not asked leaves its cells empty.
  CliResult csv = deepen({"predict", "-p", "stub", "--purpose", "latency", "-m", "test_models/resnet_basic.onnx",
                          "-f", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_NE(csv.out.find("test_models/resnet_basic.onnx,12,,,11,"), std::string::npos) << csv.out;
  CliResult kernels = deepen({"predict", "-p", "stub", "--purpose", "latency", "-m", "test_models/resnet_basic.onnx",
                              "-f", "csv", "--per-kernel", "--all-purposes"});
  ASSERT_EQ(kernels.exit_code, 0) << kernels.err;
  EXPECT_NE(kernels.out.find(",latency_source,energy_source,power_source\n"), std::string::npos) << kernels.out;
  EXPECT_NE(kernels.out.find(",2,2.71828,1359.14,trained,false,,trained,trained,trained\n"), std::string::npos)
      << kernels.out;
  EXPECT_NE(kernels.out.find(",,,,uncovered,false,,uncovered,uncovered,uncovered\n"), std::string::npos)
      << kernels.out;
}

// A predicted power outside the predictor's envelope is warned about and flagged; the exit code
// stays 0 (the numbers are there, with a reason to doubt them).
TEST_F(Cli, PowerOutsideTheEnvelopeIsWarnedAndFlagged) {
  // Convs of 2 ms at 1 or e mJ: 500 or 1359 mW, both outside 0.6-1 W; the model's 643 mW inside.
  CliResult r = deepen({"predict", "-p", "enveloped", "--purpose", "power", "-m", "test_models/resnet_basic.onnx",
                        "-f", "json", "--per-kernel"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\"power_outside_envelope\": false,\n      \"power_outside_envelope_kernels\": 6"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\"power_outside_envelope\": true"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("warning: test_models/resnet_basic.onnx: 6 kernel(s) have a power outside 0.6-1 W "
                       "(conv-relu 1.36 W, conv-relu 0.5 W, conv 0.5 W, ...)"),
            std::string::npos)
      << r.err;
  // Energy alone shows no power: nothing to warn about.
  CliResult energy = deepen({"predict", "-p", "enveloped", "--purpose", "energy", "-m", "test_models/resnet_basic.onnx"});
  ASSERT_EQ(energy.exit_code, 0) << energy.err;
  EXPECT_EQ(energy.err.find("power outside"), std::string::npos) << energy.err;
  // A model outside it: tf_style_nhwc's one conv, of e mJ in 2 ms, is 1.36 W.
  CliResult high = deepen({"predict", "-p", "enveloped", "--purpose", "energy", "--all-purposes", "-m",
                           "test_models/tf_style_nhwc.onnx"});
  ASSERT_EQ(high.exit_code, 0) << high.err;
  EXPECT_NE(high.err.find("tf_style_nhwc.onnx: predicted power 1.36 W is outside enveloped's plausible 0.6-1 W; 1 "
                          "kernel(s) have a power outside 0.6-1 W (conv-relu 1.36 W)"),
            std::string::npos)
      << high.err;
  // list says what the envelope is.
  CliResult list = deepen({"list"});
  EXPECT_NE(list.out.find("envelope:  plausible power 0.6-1 W (by hand)"), std::string::npos) << list.out;
}

// Predictor names are matched in any letter case; an unknown one gets the closest name.
TEST_F(Cli, PredictorNamesIgnoreCaseAndSuggestTheClosest) {
  CliResult upper = deepen({"predict", "-p", "STUB", "--predictor-version", "1.0", "-m", "test_models/resnet_basic.onnx"});
  EXPECT_EQ(upper.exit_code, 0) << upper.err;
  EXPECT_NE(upper.out.find("predictor stub 1.0"), std::string::npos) << upper.out;
  CliResult typo = deepen({"predict", "-p", "envelopped", "-m", "test_models/resnet_basic.onnx"});
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_NE(typo.err.find("unknown predictor 'envelopped'; did you mean 'enveloped'?"), std::string::npos) << typo.err;
  CliResult far = deepen({"predict", "-p", "qqqqqqqq", "-m", "test_models/resnet_basic.onnx"});
  EXPECT_EQ(far.exit_code, 2);
  EXPECT_EQ(far.err.find("did you mean"), std::string::npos) << far.err;
}

// Models come from one or more -m (files or folders) and positional paths, each file once.
TEST_F(Cli, SeveralModelPathsAndPositionalOnes) {
  CliResult r = deepen({"predict", "-p", "stub", "-m", "test_models/resnet_basic.onnx", "-m",
                        "test_models/mobilenetv1.onnx", "test_models/resnet_basic.onnx", "-f", "csv"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\ntest_models/resnet_basic.onnx,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\ntest_models/mobilenetv1.onnx,"), std::string::npos) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3) << r.out;  // header and two models
  CliResult positional = deepen({"predict", "-p", "stub", "test_models/mobilenetv1.onnx", "-f", "csv"});
  EXPECT_EQ(positional.exit_code, 0) << positional.err;
  EXPECT_NE(positional.out.find("\ntest_models/mobilenetv1.onnx,"), std::string::npos) << positional.out;
  CliResult none = deepen({"predict", "-p", "stub"});
  EXPECT_EQ(none.exit_code, 2) << none.err;
}
