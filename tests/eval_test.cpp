#include "train_helpers.h"

#include <deepen/error.h>
#include <deepen/predict.h>
#include <deepen/train.h>

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

namespace fs = std::filesystem;
using namespace deepen;
using namespace deepen::testing;

// Values worked out by hand: measured 100 everywhere, predicted 110, 95, 130, 50.
//   errors 10, -5, 30, -50; relative .10, .05, .30, .50
//   RMSE  = sqrt((100 + 25 + 900 + 2500) / 4) = sqrt(881.25) = 29.6859
//   MAPE  = (10 + 5 + 30 + 50) / 4 = 23.75 %
//   RMSPE = sqrt((.01 + .0025 + .09 + .25) / 4) = sqrt(.088125) = 29.6859 %
//   within ±5%: 1 of 4; ±10%: 2 of 4; ±20%: 2 of 4
TEST(Metrics, ValuesComputedByHand) {
  Metrics m = compute_metrics({110, 95, 130, 50}, {100, 100, 100, 100});
  EXPECT_EQ(m.n, 4u);
  EXPECT_NEAR(m.rmse, 29.685855, 1e-5);
  EXPECT_NEAR(m.mape, 23.75, 1e-9);
  EXPECT_NEAR(m.rmspe, 29.685855, 1e-5);
  EXPECT_DOUBLE_EQ(m.acc5, 0.25);
  EXPECT_DOUBLE_EQ(m.acc10, 0.5);
  EXPECT_DOUBLE_EQ(m.acc20, 0.5);
}

// Relative metrics do not care about scale: a 1 µJ kernel and a 1 J kernel count the same.
TEST(Metrics, RelativeErrorsAcrossScales) {
  Metrics m = compute_metrics({0.0011, 1100, 0.9}, {0.001, 1000, 1});
  EXPECT_NEAR(m.mape, 10.0, 1e-9);
  EXPECT_DOUBLE_EQ(m.acc10, 1.0);
  EXPECT_DOUBLE_EQ(m.acc5, 0.0);
  EXPECT_EQ(compute_metrics({}, {}).n, 0u);
  EXPECT_THROW(compute_metrics({1}, {1, 2}), Error);
}

TEST(EvalPoints, GroupsPerKernelTypeAndOverall) {
  EvalResult r = summarise_points({{"conv-bn-relu", 100, 110, "trained"},
                                   {"conv-bn-relu", 100, 100, "trained"},
                                   {"dwconv-bn-relu", 10, 12, "fallback"},
                                   {"dwconv-bn-relu", 10, NAN, "uncovered"}});
  ASSERT_EQ(r.groups.size(), 3u);
  EXPECT_EQ(r.groups[0].name, "conv-bn-relu");
  EXPECT_EQ(r.groups[0].metrics.n, 2u);
  EXPECT_NEAR(r.groups[0].metrics.mape, 5.0, 1e-9);
  EXPECT_EQ(r.groups[1].name, "dwconv-bn-relu");
  EXPECT_EQ(r.groups[1].metrics.n, 1u);
  EXPECT_EQ(r.groups[1].uncovered, 1u);
  EXPECT_EQ(r.groups[1].fallback, 1u);
  EXPECT_EQ(r.groups[2].name, "all");
  EXPECT_EQ(r.groups[2].metrics.n, 3u);
  EXPECT_NEAR(r.groups[2].metrics.mape, (10.0 + 0 + 20) / 3, 1e-9);
}

namespace {

// A predictor trained on generated conv-bn-relu data, in a temporary registry.
struct TrainedFixture {
  TempDir dir;
  std::string registry;
  TrainedFixture() {
    std::string csv = dir.write("train.csv", generated_csv(400, 31, true));
    registry = dir.file("predictors");
    TrainRequest q;
    q.datasets = {csv};
    q.name = "gen";
    q.device = "generated";
    q.framework = "none";
    q.predictors_dir = registry;
    q.params.rounds = 200;
    q.specs = {100, 10, 0};
    train_predictor(q);
  }
};

const EvalGroup& group(const EvalResult& r, const std::string& name) {
  for (const auto& g : r.groups)
    if (g.name == name) return g;
  static const EvalGroup none;
  ADD_FAILURE() << "no group " << name;
  return none;
}

}  // namespace

TEST(Evaluate, KernelsOfAnotherTypeUseTheFallbackOrStayUncovered) {
  TrainedFixture t;
  Predictor p = Predictor::load(load_registry(t.registry), "gen");
  KernelDataset d = parse_dataset_csv(generated_csv(100, 77, true) + "dwconv-bn-relu,14,32,,3,1,0.05,dw\n", "test.csv");
  EvalResult r = evaluate_kernels(p, Purpose::Energy, d);
  ASSERT_GT(r.in_sample, 0u);  // the generated configurations repeat: some were trained on
  EXPECT_EQ(r.groups[0].name, "conv-bn-relu (held-out)");
  EXPECT_EQ(group(r, "conv-bn-relu (held-out)").metrics.n + r.in_sample, 100u);
  EXPECT_GT(group(r, "conv-bn-relu (held-out)").metrics.acc20, 0.8);
  EXPECT_EQ(r.groups[1].name, "dwconv-bn-relu (held-out)");
  EXPECT_EQ(r.groups[1].fallback, 1u);
  PredictOptions no_fallback;
  no_fallback.use_fallback = false;
  EvalResult u = evaluate_kernels(p, Purpose::Energy, d, no_fallback);
  EXPECT_EQ(group(u, "dwconv-bn-relu (held-out)").uncovered, 1u);
  EXPECT_EQ(group(u, "dwconv-bn-relu (held-out)").metrics.n, 0u);
  EXPECT_EQ(group(u, "all (held-out)").metrics.n + u.in_sample, 100u);
}

TEST(Evaluate, ModelsCsvNamesOnnxFilesRelativeToIt) {
  TrainedFixture t;
  Predictor p = Predictor::load(load_registry(t.registry), "gen");
  fs::path models(DEEPEN_TEST_MODELS);
  std::string csv = t.dir.write("models.csv", fmt::format("model,energy_mj\n{},12.5\n",
                                                          (models / "mobilenetv2.onnx").string()));
  EvalResult r = evaluate_models(p, Purpose::Energy, csv);
  ASSERT_EQ(r.groups.size(), 1u);
  EXPECT_EQ(r.points.size(), 1u);
  EXPECT_EQ(r.groups[0].metrics.n + r.groups[0].uncovered, 1u);
  std::string bad = t.dir.write("bad.csv", "model,energy_mj\nx.onnx,-1\n");
  try {
    evaluate_models(p, Purpose::Energy, bad);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("line 2, column 2 (energy_mj)"), std::string::npos) << e.what();
  }
  std::string no_col = t.dir.write("nocol.csv", "model,latency_ms\nx.onnx,1\n");
  EXPECT_THROW(evaluate_models(p, Purpose::Energy, no_col), Error);
}

TEST(EvalCli, TableJsonCsvAndPlot) {
  TrainedFixture t;
  std::string test = t.dir.write("test.csv", generated_csv(100, 55, true));
  RunResult r = run_deepen(fmt::format("eval --predictor gen --purpose energy --dataset {} --predictors {} --plot {}",
                                       test, t.registry, t.dir.file("plot.svg")));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("conv-bn-relu"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nall "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("MAPE%"), std::string::npos) << r.out;
  const std::string svg = read_file(t.dir.file("plot.svg"));
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("<title>gen "), std::string::npos);
  EXPECT_NE(svg.find(">measured energy (mJ)</text>"), std::string::npos);
  EXPECT_NE(svg.find("% within ±10%, MAPE "), std::string::npos);

  RunResult j = run_deepen(
      fmt::format("eval -p gen --purpose energy -d {} --predictors {} --format json", test, t.registry));
  ASSERT_EQ(j.exit_code, 0) << j.out;
  EXPECT_NE(j.out.find("\"acc10\""), std::string::npos) << j.out;
  RunResult c =
      run_deepen(fmt::format("eval -p gen --purpose energy -d {} --predictors {} --format csv", test, t.registry));
  EXPECT_EQ(c.out.rfind("group,n,rmse_mj,mape_pct,rmspe_pct,acc5,acc10,acc20,fallback,uncovered\n", 0), 0u) << c.out;

  RunResult png = run_deepen(fmt::format("eval -p gen -d {} --predictors {} --plot {}", test, t.registry,
                                         t.dir.file("p.png")));
  EXPECT_EQ(png.exit_code, 0) << png.out;
  EXPECT_EQ(read_file(t.dir.file("p.png")).substr(1, 3), "PNG");
  RunResult pdf = run_deepen(fmt::format("eval -p gen -d {} --predictors {} --plot {}", test, t.registry,
                                         t.dir.file("p.PDF")));
  EXPECT_EQ(pdf.exit_code, 0) << pdf.out;
  EXPECT_EQ(read_file(t.dir.file("p.PDF")).rfind("%PDF-", 0), 0u);
  RunResult gif = run_deepen(fmt::format("eval -p gen -d {} --predictors {} --plot {}", test, t.registry,
                                         t.dir.file("p.gif")));
  EXPECT_EQ(gif.exit_code, 2) << gif.out;
  EXPECT_NE(gif.out.find("--plot " + t.dir.file("p.gif") + ": the file must end in .svg, .png or .pdf"),
            std::string::npos)
      << gif.out;
  EXPECT_FALSE(std::filesystem::exists(t.dir.file("p.gif")));
  RunResult latency = run_deepen(fmt::format("eval -p gen --purpose latency -d {} --predictors {}", test, t.registry));
  EXPECT_EQ(latency.exit_code, 2) << latency.out;  // the data has no latency_ms column
  EXPECT_NE(latency.out.find("latency_ms"), std::string::npos) << latency.out;
}

TEST(Evaluate, TenThousandRowsAreAllScored) {
  // The speed of this (target: under 1 s) is measured by bench/train_bench.sh, not here.
  TrainedFixture t;
  KernelDataset d = parse_dataset_csv(generated_csv(10000, 9, true), "big.csv");
  Predictor p = Predictor::load(load_registry(t.registry), "gen");
  EvalResult r = evaluate_kernels(p, Purpose::Energy, d);
  // The generated configurations repeat: some are in the training set, counted apart.
  ASSERT_GT(r.in_sample, 0u);
  EXPECT_EQ(group(r, "all (held-out)").metrics.n + group(r, "all (in-sample)").metrics.n, 10000u);
  EXPECT_EQ(group(r, "all (in-sample)").metrics.n, r.in_sample);
}

// Rows whose configuration the predictor was trained on are counted apart: on them a predictor
// fits (in-sample), on the others it predicts.
TEST(Evaluate, InSampleRowsAreCountedApart) {
  TrainedFixture t;
  Predictor p = Predictor::load(load_registry(t.registry), "gen");
  ASSERT_FALSE(p.training_set().empty());
  KernelDataset train = read_dataset_csv(t.dir.file("train.csv"));
  EvalResult same = evaluate_kernels(p, Purpose::Energy, train);
  EXPECT_EQ(same.in_sample, train.rows.size());
  EXPECT_EQ(group(same, "all (held-out)").metrics.n, 0u);  // nothing held out
  EXPECT_EQ(group(same, "conv-bn-relu (in-sample)").metrics.n, train.rows.size());
  // A configuration nobody trained on (hw 9 is not among the generated sizes) is held out.
  KernelDataset mixed = parse_dataset_csv(generated_csv(10, 31, true) + "conv-bn-relu,9,32,64,3,1,0.05,new\n", "m.csv");
  EvalResult m = evaluate_kernels(p, Purpose::Energy, mixed);
  EXPECT_EQ(m.in_sample, 10u);  // the first ten training rows again
  EXPECT_EQ(group(m, "all (held-out)").metrics.n, 1u);
  // The table says which figure is which.
  RunResult cli = run_deepen(fmt::format("eval -p gen -d {} --predictors {}",
                                         t.dir.write("m.csv", generated_csv(10, 31, true) + "conv-bn-relu,9,32,64,3,1,0.05,new\n"), t.registry));
  ASSERT_EQ(cli.exit_code, 0) << cli.out;
  EXPECT_NE(cli.out.find("all (in-sample)"), std::string::npos) << cli.out;
  EXPECT_NE(cli.out.find("all (held-out)"), std::string::npos) << cli.out;
  EXPECT_NE(cli.out.find("(in-sample): the "), std::string::npos) << cli.out;
  // A predictor whose entry records no training set says so.
  std::string yaml = read_file(t.registry + "/predictors.yaml");
  size_t at = yaml.find("  training_set: ");
  ASSERT_NE(at, std::string::npos);
  yaml.erase(at, yaml.find('\n', at) - at + 1);
  t.dir.write("predictors/predictors.yaml", yaml);
  RunResult old = run_deepen(fmt::format("eval -p gen -d {} --predictors {}", t.dir.file("train.csv"), t.registry));
  ASSERT_EQ(old.exit_code, 0) << old.out;
  EXPECT_NE(old.out.find("records no training set"), std::string::npos) << old.out;
  EXPECT_EQ(old.out.find("in-sample)"), std::string::npos) << old.out;
}
