// deepen check (src/report/check.cpp, src/cli/check_command.cpp): the gate against a baseline
// made by `deepen predict -f json` and against budgets, run as a user runs it, with a registry of
// hand-written stump boosters; the JUnit output is read back by Python's XML parser.
#include <deepen/check.h>
#include <deepen/error.h>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_util.h"

#include <cstdio>
#include <filesystem>

using deepen::test::CliResult;
using deepen::test::read_text;
using deepen::test::run_cli;
using deepen::test::TempDir;
using deepen::test::write_text;
using nlohmann::json;

namespace fs = std::filesystem;

namespace {

constexpr int kCheckFailed = 4;

class Check : public ::testing::Test {
 protected:
  void SetUp() override {
    // energy: 1 mJ for a conv-bn-relu of hw < 20, e mJ otherwise; the other kernel types fall
    // back to the roofline, so mobilenetv1 (depthwise convs) is not fully covered.
    deepen::test::write_stub_registry(reg_, deepen::test::stub_entry("1.0", true) +
                                                deepen::test::stub_entry("2.0", true, "  folder: stub\n"));
    for (const char* m : {"mobilenetv1.onnx", "resnet_basic.onnx", "squeezenet_fire.onnx"})
      fs::copy_file(deepen::test::model(m), models_.file(m));
    baseline_ = out_.file("baseline.json");
    CliResult r = deepen({"predict", "-p", "stub", "-m", models_.path(), "-f", "json", "-o", baseline_});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  CliResult deepen(std::vector<std::string> args) {
    args.push_back("--predictors");
    args.push_back(reg_.path());
    return run_cli(args);
  }
  // deepen check on the models folder against the baseline, with more flags.
  CliResult check(std::vector<std::string> more, const std::string& folder = "") {
    std::vector<std::string> args = {"check", "-p", "stub", "-m", folder.empty() ? models_.path() : folder,
                                     "--baseline", baseline_};
    args.insert(args.end(), more.begin(), more.end());
    return deepen(args);
  }
  json baseline() const { return json::parse(read_text(baseline_)); }
  void set_baseline(const json& j) const { write_text(baseline_, j.dump(2)); }
  // The baseline's entry of a model, by file name.
  static json& entry(json& j, const std::string& name) {
    for (auto& m : j["models"])
      if (fs::path(m["model"].get<std::string>()).filename() == name) return m;
    throw std::runtime_error("no " + name + " in the baseline");
  }
  static const json& model_of(const json& result, const std::string& key) {
    for (const auto& m : result["models"])
      if (m["model"] == key) return m;
    throw std::runtime_error("no " + key + " in the result");
  }

  TempDir reg_, models_, out_;
  std::string baseline_;
};

}  // namespace

TEST_F(Check, UnchangedModelsHold) {
  CliResult r = check({});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("check holds: 3 model(s) checked (3 ok)\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mobilenetv1.onnx"), std::string::npos);
  EXPECT_EQ(r.out.find("fail"), std::string::npos) << r.out;
}

// A baseline made in another checkout names its models by other paths: they match by the path
// under the model folder.
TEST_F(Check, BaselineFromAnotherCheckoutMatchesByRelativePath) {
  json j = baseline();
  for (auto& m : j["models"])
    m["model"] = "/builds/elsewhere/models/" + fs::path(m["model"].get<std::string>()).filename().string();
  set_baseline(j);
  TempDir other;
  for (const auto& e : fs::directory_iterator(models_.path())) fs::copy_file(e.path(), other.file(e.path().filename()));
  CliResult r = check({"-f", "json"}, other.path());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  json result = json::parse(r.out);
  EXPECT_EQ(result["counts"]["ok"], 3);
  EXPECT_EQ(result["counts"]["new"], 0);
  EXPECT_EQ(model_of(result, "resnet_basic.onnx")["baseline_model"], "/builds/elsewhere/models/resnet_basic.onnx");
}

TEST_F(Check, IncreaseBeyondTheBoundFailsAndADecreaseHolds) {
  json j = baseline();
  const double now = entry(j, "mobilenetv1.onnx")["energy_mj"].get<double>();
  const double resnet = entry(j, "resnet_basic.onnx")["energy_mj"].get<double>();
  entry(j, "mobilenetv1.onnx")["energy_mj"] = now / 1.25;  // now is 25% above the baseline
  entry(j, "resnet_basic.onnx")["energy_mj"] = resnet * 2;  // now is half the baseline
  set_baseline(j);

  CliResult r = check({"--max-increase", "5%"});
  EXPECT_EQ(r.exit_code, kCheckFailed) << r.out << r.err;
  EXPECT_NE(r.out.find("+25.0%"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fail: increase"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mobilenetv1.onnx: energy rose +25.0%"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("more than --max-increase 5%"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("-50.0%"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("check FAILED"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("accept it with --update-baseline"), std::string::npos) << r.out;

  CliResult j2 = check({"--max-increase", "5%", "-f", "json"});
  json result = json::parse(j2.out);
  EXPECT_FALSE(result["holds"].get<bool>());
  EXPECT_EQ(model_of(result, "mobilenetv1.onnx")["verdict"], "fail");
  EXPECT_NEAR(model_of(result, "mobilenetv1.onnx")["relative_change"].get<double>(), 0.25, 1e-9);
  EXPECT_EQ(model_of(result, "resnet_basic.onnx")["verdict"], "ok");
  EXPECT_NEAR(model_of(result, "resnet_basic.onnx")["relative_change"].get<double>(), -0.5, 1e-9);

  EXPECT_EQ(check({"--max-increase", "30%"}).exit_code, 0);
  // An absolute bound in the purpose's unit: 25% of `now` is 0.2 now, in mJ.
  EXPECT_EQ(check({"--max-increase", fmt::format("{}mJ", now * 0.21)}).exit_code, 0);
  EXPECT_EQ(check({"--max-increase", fmt::format("{}uJ", now * 0.19 * 1000)}).exit_code, kCheckFailed);
  // Without --max-increase any increase fails.
  EXPECT_EQ(check({}).exit_code, kCheckFailed);
}

TEST_F(Check, NewAndGoneModelsAreReportedWithoutFailing) {
  json j = baseline();
  json& models = j["models"];
  for (size_t i = 0; i < models.size(); ++i)
    if (models[i]["model"].get<std::string>().find("squeezenet_fire") != std::string::npos) models.erase(i);
  json gone = entry(j, "resnet_basic.onnx");
  gone["model"] = "models/retired.onnx";
  gone["flops"] = 12345;  // not the structure of a model checked: gone, not renamed
  models.push_back(gone);
  set_baseline(j);
  CliResult r = check({"-f", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  json result = json::parse(r.out);
  EXPECT_EQ(model_of(result, "squeezenet_fire.onnx")["verdict"], "new");
  EXPECT_TRUE(model_of(result, "squeezenet_fire.onnx")["baseline"].is_null());
  EXPECT_EQ(model_of(result, "retired.onnx")["verdict"], "gone");
  EXPECT_TRUE(model_of(result, "retired.onnx")["file"].is_null());
  EXPECT_EQ(result["counts"]["checked"], 3);
  EXPECT_EQ(result["counts"]["new"], 1);
  EXPECT_EQ(result["counts"]["gone"], 1);
  CliResult t = check({});
  EXPECT_NE(t.out.find("check holds: 3 model(s) checked (2 ok, 1 new); 1 gone since the baseline\n"), std::string::npos)
      << t.out;
}

// A file renamed, its content the same: compared with its old entry, and the old one is not gone.
TEST_F(Check, RenamedModelIsComparedWithItsOldEntry) {
  fs::rename(models_.file("mobilenetv1.onnx"), models_.file("mobilenet_v1_renamed.onnx"));
  json j = baseline();
  entry(j, "mobilenetv1.onnx")["energy_mj"] = entry(j, "mobilenetv1.onnx")["energy_mj"].get<double>() / 2;
  set_baseline(j);
  CliResult r = check({"-f", "json"});
  EXPECT_EQ(r.exit_code, kCheckFailed) << r.out << r.err;  // compared: it doubled
  json result = json::parse(r.out);
  const json& m = model_of(result, "mobilenet_v1_renamed.onnx");
  EXPECT_EQ(m["verdict"], "fail");
  EXPECT_NE(m["baseline_model"].get<std::string>().find("mobilenetv1.onnx"), std::string::npos);
  EXPECT_NEAR(m["relative_change"].get<double>(), 1.0, 1e-9);
  EXPECT_EQ(result["counts"]["gone"], 0);
  EXPECT_NE(m["findings"].dump().find("\"renamed\""), std::string::npos) << m.dump();
}

// A baseline made by another predictor version: increases are the predictor's, not the model's.
TEST_F(Check, ChangedPredictorVersionIsNamedAndNotBlamedOnTheModel) {
  CliResult b = deepen({"predict", "-p", "stub", "--predictor-version", "1.0", "-m", models_.path(), "-f", "json",
                        "-o", baseline_});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  json j = baseline();
  EXPECT_EQ(j["predictor"]["version"], "1.0");
  entry(j, "mobilenetv1.onnx")["energy_mj"] = entry(j, "mobilenetv1.onnx")["energy_mj"].get<double>() / 2;
  set_baseline(j);
  CliResult r = check({"--max-increase", "5%"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("ok: predictor"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("under the predictor change (stub 1.0 -> stub 2.0), not by the model"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("note: the baseline was predicted by stub 1.0, this check by stub 2.0"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("the model changed too"), std::string::npos) << r.out;
  // The same predictor as the baseline: the model is blamed.
  EXPECT_EQ(check({"--max-increase", "5%", "--predictor-version", "1.0"}).exit_code, kCheckFailed);
  CliResult jr = check({"-f", "json"});
  EXPECT_NE(jr.err.find("deepen: note: the baseline was predicted by stub 1.0"), std::string::npos) << jr.err;
  json result = json::parse(jr.out);
  EXPECT_TRUE(result["baseline"]["predictor_changed"].get<bool>());
  // A model that changed as well is named: the predictor change cannot be told apart from it.
  entry(j, "mobilenetv1.onnx")["flops"] = 1000;
  set_baseline(j);
  CliResult both = check({"--max-increase", "5%"});
  EXPECT_EQ(both.exit_code, 0) << both.out;
  EXPECT_NE(both.out.find("the model changed too (FLOPs 1000 -> "), std::string::npos) << both.out;
  EXPECT_EQ(result["baseline"]["predictor"]["version"], "1.0");
}

TEST_F(Check, BudgetsForAllAndPerModel) {
  json j = baseline();
  const double mobilenet = entry(j, "mobilenetv1.onnx")["energy_mj"].get<double>();
  const double resnet = entry(j, "resnet_basic.onnx")["energy_mj"].get<double>();
  // One budget between the two: the larger model is over it.
  const double between = (std::min(mobilenet, resnet) + std::max(mobilenet, resnet)) / 2;
  const std::string over = mobilenet > resnet ? "mobilenetv1.onnx" : "resnet_basic.onnx";
  CliResult r = check({"--budget", fmt::format("{}mJ", between)});
  EXPECT_EQ(r.exit_code, kCheckFailed) << r.out << r.err;
  EXPECT_NE(r.out.find(over + ": energy "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("is over its budget"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fail: budget"), std::string::npos) << r.out;
  // The same in J, and a budget above everything.
  EXPECT_EQ(check({"--budget", fmt::format("{} J", between / 1000)}).exit_code, kCheckFailed);
  EXPECT_EQ(check({"--budget", "1000J"}).exit_code, 0);
  // Without a baseline the budget is the whole gate.
  CliResult nb = deepen({"check", "-p", "stub", "-m", models_.path(), "--budget", "1000J"});
  EXPECT_EQ(nb.exit_code, 0) << nb.out << nb.err;

  // A file: a default for all, a tighter budget for one model, a key that matches nothing.
  std::string file = out_.write("budgets.yaml", fmt::format("# energy per inference\ndefault: 1000J\n"
                                                            "models/{}: {}mJ\nnot_a_model.onnx: 1mJ\n",
                                                            over, between));
  CliResult f = check({"--budget-file", file, "-f", "json"});
  EXPECT_EQ(f.exit_code, kCheckFailed) << f.out << f.err;
  json result = json::parse(f.out);
  EXPECT_EQ(model_of(result, over)["verdict"], "fail");
  EXPECT_EQ(model_of(result, over)["budget_from"], "models/" + over);
  EXPECT_NEAR(model_of(result, over)["budget"].get<double>(), between, 1e-9 * between);
  EXPECT_EQ(model_of(result, "squeezenet_fire.onnx")["budget_from"], "default");
  EXPECT_EQ(model_of(result, "squeezenet_fire.onnx")["budget"].get<double>(), 1e6);
  EXPECT_NE(f.err.find("the budget for not_a_model.onnx matches no model checked"), std::string::npos) << f.err;
}

TEST_F(Check, BadBudgetsAreUsageErrors) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  std::string yaml_list = out_.write("list.yaml", "- 10mJ\n");
  std::string yaml_bad = out_.write("bad.yaml", "default: [10mJ\n");
  std::string yaml_nested = out_.write("nested.yaml", "default: {a: 1}\n");
  std::string yaml_unitless = out_.write("unitless.yaml", "mobilenetv1.onnx: 10\n");
  std::vector<Case> cases = {
      {{"--budget", "10"}, "--budget '10': give a unit; --purpose energy takes uJ, mJ or J (e.g. 10mJ)"},
      {{"--budget", "10ms"}, "--budget '10ms': ms is a unit of latency, not of energy"},
      {{"--budget", "10kJ"}, "unknown unit 'kJ'"},
      {{"--budget", "-1mJ"}, "give a finite number, 0 or more"},
      {{"--budget", "lots"}, "not a number with a unit"},
      {{"--budget", "2W", "--purpose", "latency"}, "W is a unit of power, not of latency"},
      {{"--max-increase", "five%"}, "--max-increase 'five%'"},
      {{"--max-increase", "5"}, "--max-increase '5': give a unit"},
      {{"--budget-file", yaml_list}, "list.yaml: holds no budgets"},
      {{"--budget-file", yaml_bad}, "bad.yaml: not YAML"},
      {{"--budget-file", yaml_nested}, "nested.yaml: default: the budget is not a single quantity"},
      {{"--budget-file", yaml_unitless}, "unitless.yaml: mobilenetv1.onnx '10': give a unit"},
      {{"--budget-file", out_.file("absent.yaml")}, "absent.yaml: cannot read the budget file"},
      {{"--min-coverage", "lots"}, "--min-coverage lots"},
  };
  for (const auto& c : cases) {
    CliResult r = check(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args[1] << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find("deepen: error: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args[1] << ": " << r.err;
  }
  CliResult both = check({"--budget", "1mJ", "--budget-file", yaml_list});
  EXPECT_EQ(both.exit_code, 2) << both.err;
  EXPECT_NE(both.err.find("excludes"), std::string::npos) << both.err;
}

TEST_F(Check, CoverageThatFellAndMinCoverageFail) {
  json j = baseline();
  const double cov = entry(j, "mobilenetv1.onnx")["coverage"]["flops"].get<double>();
  ASSERT_LT(cov, 1.0);  // its depthwise convs fall back to the roofline
  entry(j, "mobilenetv1.onnx")["coverage"]["flops"] = 1.0;
  entry(j, "mobilenetv1.onnx")["coverage"]["kernels"] = 1.0;
  set_baseline(j);
  CliResult r = check({});
  EXPECT_EQ(r.exit_code, kCheckFailed) << r.out << r.err;
  EXPECT_NE(r.out.find("fail: coverage"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mobilenetv1.onnx: coverage fell: trained predictors score"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("of its FLOPs (was 100%)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("not by a trained predictor: dwconv"), std::string::npos) << r.out;

  CliResult m = deepen({"check", "-p", "stub", "-m", models_.path(), "--min-coverage", "99.99%"});
  EXPECT_EQ(m.exit_code, kCheckFailed) << m.out << m.err;
  EXPECT_NE(m.out.find("fail: min-coverage"), std::string::npos) << m.out;
  EXPECT_NE(m.out.find("below --min-coverage 99.99%"), std::string::npos) << m.out;
  EXPECT_EQ(deepen({"check", "-p", "stub", "-m", models_.path(), "--min-coverage", "0%"}).exit_code, 0);
}

TEST_F(Check, BadBaselinesAreUsageErrors) {
  struct Case {
    std::string text, message;
  };
  std::vector<Case> cases = {
      {"not json {", "the baseline is not JSON"},
      {"[1, 2]", "not the JSON that deepen predict -f json writes (no \"models\" list)"},
      {R"({"models": []})", "names no predictor"},
      {R"({"predictor": {"name": "stub"}, "models": [{"energy_mj": 1}]})", "models[0]: has no \"model\" name"},
      {R"({"predictor": {"name": "stub"}, "models": [{"model": "a.onnx", "energy_mj": "much"}]})",
       "models[0]: \"energy_mj\" is not a number"},
      {R"({"predictor": {"name": "stub"}, "purpose": "latency", "models": [{"model": "a.onnx", "latency_ms": 1}]})",
       "holds no energy_mj (it was made for --purpose latency)"},
      {R"({"predictor": {"name": "stub"}, "models": [{"model": "a.onnx", "energy_mj": 1}, {"model": "a.onnx"}]})",
       "names a.onnx twice"},
  };
  for (const auto& c : cases) {
    write_text(baseline_, c.text);
    CliResult r = check({});
    EXPECT_EQ(r.exit_code, 2) << c.text << "\n" << r.out << r.err;
    EXPECT_NE(r.err.find("deepen: error: " + baseline_ + ": "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.text << ": " << r.err;
  }
  fs::remove(baseline_);
  CliResult missing = check({});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("cannot read the baseline"), std::string::npos) << missing.err;
  CliResult folder = deepen({"check", "-p", "stub", "-m", models_.path(), "--baseline", out_.path()});
  EXPECT_EQ(folder.exit_code, 2);
  EXPECT_NE(folder.err.find("is a folder, not a baseline JSON file"), std::string::npos) << folder.err;
}

TEST_F(Check, UsageErrorsExitTwo) {
  EXPECT_EQ(deepen({"check", "-p", "stub"}).exit_code, 2);  // no models
  EXPECT_EQ(deepen({"check", "-p", "stub", "-m", models_.path(), "--max-increase", "5%"}).exit_code, 2);
  EXPECT_EQ(deepen({"check", "-p", "stub", "-m", models_.path(), "--update-baseline"}).exit_code, 2);
  EXPECT_EQ(deepen({"check", "-p", "nosuch", "-m", models_.path()}).exit_code, 2);
  EXPECT_EQ(check({"-f", "csv"}).exit_code, 2);
  // Two models by one key cannot be told apart by the baseline.
  TempDir other;
  fs::copy_file(models_.file("resnet_basic.onnx"), other.file("resnet_basic.onnx"));
  CliResult r = deepen({"check", "-p", "stub", "-m", models_.path(), "-m", other.file("resnet_basic.onnx")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("both go by resnet_basic.onnx"), std::string::npos) << r.err;
}

TEST_F(Check, ModelsThatCannotBePredictedExitOneOrThree) {
  write_text(models_.file("broken.onnx"), "not onnx at all");
  CliResult r = check({"-f", "json"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  json result = json::parse(r.out);
  EXPECT_EQ(model_of(result, "broken.onnx")["verdict"], "error");
  EXPECT_NE(model_of(result, "broken.onnx")["findings"][0]["message"].get<std::string>().find("not a valid ONNX model"),
            std::string::npos);
  EXPECT_EQ(result["counts"]["ok"], 3);
  TempDir bad;
  write_text(bad.file("a.onnx"), "x");
  write_text(bad.file("b.onnx"), "y");
  EXPECT_EQ(deepen({"check", "-p", "stub", "-m", bad.path()}).exit_code, 3);
}

// --update-baseline writes what deepen predict -f json writes, and the next check holds.
TEST_F(Check, UpdateBaselineAcceptsTheChange) {
  json j = baseline();
  entry(j, "mobilenetv1.onnx")["energy_mj"] = 0.001;
  set_baseline(j);
  ASSERT_EQ(check({}).exit_code, kCheckFailed);
  CliResult u = check({"--update-baseline"});
  EXPECT_EQ(u.exit_code, 0) << u.out << u.err;
  EXPECT_NE(u.out.find("accepted by --update-baseline"), std::string::npos) << u.out;
  EXPECT_NE(u.out.find("ok: accepted"), std::string::npos) << u.out;
  EXPECT_NE(u.err.find("updated: 3 model(s)"), std::string::npos) << u.err;
  CliResult p = deepen({"predict", "-p", "stub", "-m", models_.path(), "-f", "json"});
  EXPECT_EQ(read_text(baseline_), p.out);
  EXPECT_EQ(check({}).exit_code, 0);
  // Budgets still hold under --update-baseline.
  EXPECT_EQ(check({"--update-baseline", "--budget", "0mJ"}).exit_code, kCheckFailed);
  // The first baseline: written when absent.
  fs::remove(baseline_);
  CliResult first = check({"--update-baseline"});
  EXPECT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(read_text(baseline_), p.out);
  // Not written when a model cannot be predicted.
  write_text(models_.file("broken.onnx"), "x");
  CliResult broken = check({"--update-baseline"});
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_NE(broken.err.find("not updated: 1 model(s) could not be predicted"), std::string::npos) << broken.err;
  EXPECT_EQ(read_text(baseline_), p.out);
}

// --chart: baseline against now per model, in the format the extension names; a bad extension is
// refused before anything is predicted or written.
TEST_F(Check, ChartIsDrawnInTheFormatOfItsExtension) {
  json j = baseline();
  entry(j, "mobilenetv1.onnx")["energy_mj"] = entry(j, "mobilenetv1.onnx")["energy_mj"].get<double>() / 1.25;
  set_baseline(j);
  const std::string svg = out_.file("chart.svg"), png = out_.file("chart.png"), pdf = out_.file("chart.pdf");
  CliResult r = check({"--max-increase", "5%", "--chart", svg});
  EXPECT_EQ(r.exit_code, kCheckFailed) << r.out << r.err;
  const std::string text = read_text(svg);
  EXPECT_NE(text.find("<title>deepen check: energy (mJ) by stub 2.0</title>"), std::string::npos);
  EXPECT_NE(text.find(">mobilenetv1.onnx</text>"), std::string::npos);
  EXPECT_NE(text.find(">+25.0%, fails: increase</text>"), std::string::npos);
  EXPECT_NE(text.find(">check FAILED: 2 ok, 1 fail</text>"), std::string::npos);
  EXPECT_EQ(check({"--max-increase", "30%", "--budget", "100mJ", "--chart", png}).exit_code, 0);
  EXPECT_EQ(read_text(png).substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(check({"--max-increase", "30%", "--chart", pdf}).exit_code, 0);
  EXPECT_EQ(read_text(pdf).rfind("%PDF-", 0), 0u);

  const std::string jpg = out_.file("chart.jpg");
  CliResult bad = check({"--chart", jpg, "--junit", out_.file("junit.xml")});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("--chart " + jpg + ": the file must end in .svg, .png or .pdf"), std::string::npos)
      << bad.err;
  EXPECT_EQ(bad.out, "");
  EXPECT_FALSE(fs::exists(jpg));
  EXPECT_FALSE(fs::exists(out_.file("junit.xml")));
}

// The JUnit report, read back by a real XML parser (Python's), with names XML must escape.
TEST_F(Check, JUnitParsesWithOneTestcasePerModel) {
  if (std::system("python3 -c 'import xml.etree.ElementTree' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "python3 is not installed";
  const std::string odd = "a&b <c> \"q\" 'x'.onnx";
  fs::copy_file(models_.file("squeezenet_fire.onnx"), models_.file(odd));
  fs::copy_file(models_.file("squeezenet_fire.onnx"), models_.file("bad\xff\x01name.onnx"));
  write_text(models_.file("broken.onnx"), "not onnx <at> all & more");
  json j = baseline();
  entry(j, "mobilenetv1.onnx")["energy_mj"] = entry(j, "mobilenetv1.onnx")["energy_mj"].get<double>() / 2;
  json gone = entry(j, "resnet_basic.onnx");
  gone["model"] = "retired.onnx";
  gone["flops"] = 1;
  j["models"].push_back(gone);
  set_baseline(j);
  const std::string xml = out_.file("junit.xml");
  CliResult r = check({"--max-increase", "5%", "--junit", xml});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;  // broken.onnx could not be predicted
  const std::string script = out_.write("read.py", R"(
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites", root.tag
suite = root.find("testsuite")
print("counts", suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped"))
for case in suite.findall("testcase"):
    kinds = [c.tag for c in case if c.tag in ("failure", "error", "skipped")]
    msg = case[0].get("message", "") if kinds else ""
    print("case", ascii(case.get("name")), ",".join(kinds), ascii(msg[:40]))
)");
  std::string cmd = "python3 " + script + " " + xml + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ASSERT_EQ(pclose(p), 0) << out << "\n" << read_text(xml);
  EXPECT_NE(out.find("counts 7 1 1 1\n"), std::string::npos) << out;
  EXPECT_NE(out.find("case 'mobilenetv1.onnx' failure 'energy rose +100.0%"), std::string::npos) << out;
  EXPECT_NE(out.find("case 'resnet_basic.onnx'  ''"), std::string::npos) << out;
  EXPECT_NE(out.find("case 'broken.onnx' error 'not a valid ONNX model"), std::string::npos) << out;
  EXPECT_NE(out.find("case 'retired.onnx' skipped"), std::string::npos) << out;
  EXPECT_NE(out.find("case 'a&b <c> \"q\" \\'x\\'.onnx' "), std::string::npos) << out;  // the name, unharmed
  EXPECT_NE(out.find("case 'bad\\ufffd\\ufffdname.onnx'"), std::string::npos) << out;  // what XML cannot hold
}

TEST(CheckUnits, QuantitiesInThePurposesUnit) {
  using deepen::Purpose;
  EXPECT_DOUBLE_EQ(deepen::parse_quantity("10mJ", Purpose::Energy, "x"), 10);
  EXPECT_DOUBLE_EQ(deepen::parse_quantity(" 0.01 J", Purpose::Energy, "x"), 10);
  EXPECT_DOUBLE_EQ(deepen::parse_quantity("500uJ", Purpose::Energy, "x"), 0.5);
  EXPECT_DOUBLE_EQ(deepen::parse_quantity("250us", Purpose::Latency, "x"), 0.25);
  EXPECT_DOUBLE_EQ(deepen::parse_quantity("1.5s", Purpose::Latency, "x"), 1500);
  EXPECT_DOUBLE_EQ(deepen::parse_quantity("2W", Purpose::Power, "x"), 2000);
  EXPECT_DOUBLE_EQ(deepen::parse_quantity("300 mW", Purpose::Power, "x"), 300);
  EXPECT_DOUBLE_EQ(deepen::parse_quantity("5 \xC2\xB5J", Purpose::Energy, "x"), 0.005);
  EXPECT_THROW(deepen::parse_quantity("2W", Purpose::Energy, "x"), deepen::Error);
  EXPECT_THROW(deepen::parse_quantity("nan mJ", Purpose::Energy, "x"), deepen::Error);
  EXPECT_THROW(deepen::parse_quantity("inf mJ", Purpose::Energy, "x"), deepen::Error);
  EXPECT_THROW(deepen::parse_quantity("", Purpose::Energy, "x"), deepen::Error);
  EXPECT_THROW(deepen::parse_quantity("3mJ extra", Purpose::Energy, "x"), deepen::Error);
  deepen::IncreaseBound b = deepen::parse_max_increase("5%", Purpose::Energy);
  EXPECT_FALSE(b.exceeded(100, 105));
  EXPECT_TRUE(b.exceeded(100, 105.1));
  EXPECT_FALSE(b.exceeded(100, 50));
  EXPECT_FALSE(deepen::IncreaseBound().exceeded(1.0, 1.0 + 1e-15));  // rounding is no increase
  EXPECT_TRUE(deepen::IncreaseBound().exceeded(1.0, 1.0001));
}

TEST(CheckXml, EscapesWhatXmlReservesAndReplacesWhatItCannotHold) {
  EXPECT_EQ(deepen::xml_escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
  EXPECT_EQ(deepen::xml_escape("line\nnext\ttab"), "line&#10;next&#9;tab");
  EXPECT_EQ(deepen::xml_escape(std::string("x\x01y\x7fz", 5)), "x\xEF\xBF\xBDy\x7fz");
  EXPECT_EQ(deepen::xml_escape("\xC2\xB5J \xE2\x86\x92"), "\xC2\xB5J \xE2\x86\x92");  // valid UTF-8 stays
  EXPECT_EQ(deepen::xml_escape("\xff"), "\xEF\xBF\xBD");
  EXPECT_EQ(deepen::xml_escape("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong
  EXPECT_EQ(deepen::xml_escape("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // a surrogate
  EXPECT_EQ(deepen::xml_escape("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // cut short
}
