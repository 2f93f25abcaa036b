// Coverage (src/report, src/cli/predict_command.cpp): the share of a model's kernels and FLOPs that
// trained boosters score, with unscored ops weighed by their real work; how shares print; the
// uncovered share in the table, CSV and JSON; the warning that names uncovered kernels; and
// --min-coverage. The model: a conv-relu (scored by the stub), a max-pool (fallback or uncovered)
// and an Einsum (no kernel family: always uncovered), so every share can be checked by hand.
#include <deepen/graph.h>
#include <deepen/kernels.h>
#include <deepen/predict.h>
#include <deepen/report.h>
#include <deepen/zoo.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_util.h"
#include "zoo/graph_builder.h"

#include <filesystem>

using deepen::test::CliResult;
using deepen::test::run_cli;
using deepen::test::TempDir;
using deepen::test::write_text;

namespace {

// x (1x3x16x16) -> Conv 3x3 (8) -> Relu -> MaxPool 2/2 -> output; Relu -> Einsum "bchw,bdhw->bcd"
// (a Gram matrix, 8x8) -> output.
std::string conv_pool_einsum_onnx() {
  deepen::zoo::GraphBuilder b("conv_pool_einsum");
  std::string x = b.input("x", {1, 3, 16, 16});
  std::string y = b.act(b.conv(x, 8, 3), "relu");
  b.output(b.maxpool(y, 2, 2));
  deepen::Graph g = b.take();
  deepen::Tensor& gram = g.tensors["gram"];
  gram.name = "gram";
  gram.shape = {1, 8, 8};
  gram.shape_known = true;
  deepen::Node einsum{"gram", "Einsum", "", {}, {y, y}, {"gram"}};
  einsum.attrs["equation"] = std::string("bchw,bdhw->bcd");
  g.nodes.push_back(einsum);
  g.outputs.push_back("gram");
  return deepen::serialize_onnx(g);
}

// Work by hand: conv 16x16 outputs x 27 MACs x 8 channels; max-pool 8x8 outputs x 8 channels x a
// 2x2 window; Einsum b c d h w = 1 x 8 x 8 x 16 x 16 MACs.
constexpr double kConvFlops = 2.0 * 16 * 16 * 27 * 8;
constexpr double kPoolFlops = 8.0 * 8 * 8 * 4;
constexpr double kEinsumFlops = 2.0 * 8 * 8 * 16 * 16;
constexpr double kFlops = kConvFlops + kPoolFlops + kEinsumFlops;

// "stub": energy of conv-bn-relu only (1 mJ for hw < 20), no fallback; "withfallback": the same
// booster and an energy fallback.
void write_registry(const TempDir& dir) {
  const std::string withfallback = R"(- name: withfallback
  version: 1.0
  folder: stub
  device: Test device
  purposes: [energy]
  fusion_rules: rules.yaml
  kernels:
    conv-bn-relu:
      energy: {booster: energy.json, transform: log}
  fallback: {energy: {mj_per_gflop: 1, mj_per_mb: 0, mj_per_kernel: 0.5}}
)";
  // conv-relu alone: resnet's add-relu stays uncovered, as the --min-coverage test needs.
  const std::string rules = "chains:\n  - [conv, relu]\nsame_as:\n  conv-relu: conv-bn-relu\n";
  deepen::test::write_stub_registry(dir, deepen::test::stub_entry("1.0", false) + withfallback, rules);
}

deepen::ModelReport report_of(const std::string& predictor_name) {
  TempDir dir;
  write_registry(dir);
  deepen::Predictor predictor = deepen::Predictor::load(deepen::load_registry(dir.path()), predictor_name);
  deepen::Graph g = deepen::load_onnx_bytes(conv_pool_einsum_onnx(), "conv_pool_einsum");
  auto kernels = deepen::detect_kernels(g, predictor.fusion_rules());
  auto estimate = predictor.estimate_model(kernels);
  return deepen::summarise("conv_pool_einsum", std::move(kernels), std::move(estimate));
}

}  // namespace

TEST(Coverage, AnUnscoredOpWeighsItsRealWork) {
  deepen::ModelReport r = report_of("stub");
  ASSERT_EQ(r.kernel_count, 3u);
  EXPECT_EQ(r.kernels[2].type, "other:Einsum");
  EXPECT_DOUBLE_EQ(r.kernels[2].flops, kEinsumFlops);  // was one FLOP per input element (2048)
  EXPECT_DOUBLE_EQ(r.flops, kFlops);
  EXPECT_EQ(r.trained_count, 1u);
  EXPECT_EQ(r.uncovered_count, 2u);
  EXPECT_DOUBLE_EQ(r.coverage_kernels, 1.0 / 3);
  EXPECT_DOUBLE_EQ(r.coverage_flops, kConvFlops / kFlops);  // 76%, not the 98% of a free Einsum
  EXPECT_DOUBLE_EQ(r.uncovered_kernels, 2.0 / 3);
  EXPECT_DOUBLE_EQ(r.uncovered_flops, (kPoolFlops + kEinsumFlops) / kFlops);

  deepen::ModelReport f = report_of("withfallback");  // the pool is the fallback's; the Einsum nobody's
  EXPECT_EQ(f.fallback_count, 1u);
  EXPECT_EQ(f.uncovered_count, 1u);
  EXPECT_DOUBLE_EQ(f.coverage_flops, kConvFlops / kFlops);
  EXPECT_DOUBLE_EQ(f.uncovered_kernels, 1.0 / 3);
  EXPECT_DOUBLE_EQ(f.uncovered_flops, kEinsumFlops / kFlops);
}

// A share below 1 never reads 100%, one above 0 never 0%.
TEST(Coverage, SharesNeverRoundToAllOrNothing) {
  EXPECT_EQ(deepen::format_share(1.0), "100%");
  EXPECT_EQ(deepen::format_share(0.0), "0%");
  EXPECT_EQ(deepen::format_share(0.96), "96%");
  EXPECT_EQ(deepen::format_share(0.9995), "99.95%");
  EXPECT_EQ(deepen::format_share(0.999), "99.9%");
  EXPECT_EQ(deepen::format_share(0.99999), ">99.99%");
  EXPECT_EQ(deepen::format_share(0.004), "0.4%");
  EXPECT_EQ(deepen::format_share(1e-7), "<0.01%");
  EXPECT_EQ(deepen::format_share(NAN), "-");
  for (double share = 0.99; share < 1; share += 1e-5) {
    std::string s = deepen::format_share(share);
    EXPECT_NE(s, "100%") << share;
    EXPECT_EQ(s.find("100."), std::string::npos) << share;
  }
  EXPECT_EQ(deepen::format_share_decimal(0.5), "0.5000");
  EXPECT_EQ(deepen::format_share_decimal(1.0), "1.0000");
  EXPECT_EQ(deepen::format_share_decimal(0.0), "0.0000");
  EXPECT_EQ(deepen::format_share_decimal(0.9995), "0.9995");
  EXPECT_EQ(deepen::format_share_decimal(0.99996), "0.99996");
  EXPECT_EQ(deepen::format_share_decimal(0.00004), "0.00004");
}

namespace {

class CoverageCli : public ::testing::Test {
 protected:
  void SetUp() override {
    write_registry(reg_);
    model_ = models_.file("conv_pool_einsum.onnx");
    write_text(model_, conv_pool_einsum_onnx());
  }
  CliResult deepen(std::vector<std::string> args) {
    args.insert(args.begin(), {"predict", "-p", "stub", "--predictors", reg_.path()});
    return run_cli(args);
  }
  TempDir reg_, models_;
  std::string model_;
};

}  // namespace

TEST_F(CoverageCli, TableCsvAndJsonGiveTheUncoveredShare) {
  CliResult t = deepen({"-m", model_});
  EXPECT_EQ(t.exit_code, 0) << t.err;
  EXPECT_NE(t.out.find("coverage  flops cov   fallback  uncovered  unc flops"), std::string::npos) << t.out;
  // kernels 1/3 trained, FLOPs 76% trained; 2/3 of the kernels and 24% of the FLOPs uncovered
  EXPECT_NE(t.out.find("       3        33%        76%         0%        67%        24%"), std::string::npos) << t.out;

  CliResult c = deepen({"-m", model_, "--format", "csv"});
  EXPECT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.out.find("error,extrapolated_share,uncovered_kernels,uncovered_flops\n"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find(",0.3333,0.7606,145408,224,,0.0000,0.6667,0.2394\n"), std::string::npos) << c.out;

  CliResult j = deepen({"-m", model_, "--format", "json"});
  EXPECT_EQ(j.exit_code, 0) << j.err;
  auto coverage = nlohmann::json::parse(j.out)["models"][0]["coverage"];
  EXPECT_DOUBLE_EQ(coverage["uncovered_kernels"].get<double>(), 2.0 / 3);
  EXPECT_DOUBLE_EQ(coverage["uncovered_flops"].get<double>(), (kPoolFlops + kEinsumFlops) / kFlops);
  EXPECT_EQ(coverage["uncovered"].get<int>(), 2);
}

// Without --per-kernel, stderr names the uncovered kernels: one line per model.
TEST_F(CoverageCli, UncoveredKernelsAreNamedOnStderr) {
  for (const char* format : {"table", "json", "csv"}) {
    CliResult r = deepen({"-m", model_, "--format", format});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "deepen: warning: " + model_ +
                         ": 2 of 3 kernels uncovered (24% of the FLOPs), adding nothing to its energy: maxpool "
                         "(maxpool_0), other:Einsum (gram)\n")
        << format;
  }
  CliResult covered = deepen({"-m", "test_models/resnet_basic.onnx"});  // relu, add, pool: uncovered too
  EXPECT_NE(covered.err.find("uncovered"), std::string::npos);
}

TEST_F(CoverageCli, MinCoverageFailsAModelBelowIt) {
  for (const char* pass : {"75%", "0.75", "flops:75%", "kernels:30%", "flops:70%,kernels:0.3"}) {
    CliResult r = deepen({"-m", model_, "--min-coverage", pass});
    EXPECT_EQ(r.exit_code, 0) << pass << ": " << r.out << r.err;
  }
  CliResult r = deepen({"-m", model_, "--min-coverage", "80%"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;  // the one model failed
  EXPECT_NE(r.out.find("error: trained predictors score 76% of its FLOPs, below --min-coverage 80%; not by a trained "
                       "predictor: maxpool (uncovered: maxpool_0), other:Einsum (uncovered: gram)"),
            std::string::npos)
      << r.out;
  CliResult near = deepen({"-m", model_, "--min-coverage", "76.5%"});  // as many decimals as the bound has
  EXPECT_EQ(near.exit_code, 3);
  EXPECT_NE(near.out.find("score 76.1% of its FLOPs, below --min-coverage 76.5%"), std::string::npos) << near.out;
  CliResult k = deepen({"-m", model_, "--min-coverage", "kernels:50%", "--format", "json"});
  EXPECT_EQ(k.exit_code, 3);
  EXPECT_NE(k.err.find("trained predictors score 33% of its kernels, below --min-coverage kernels:50%"),
            std::string::npos)
      << k.err;
  CliResult fb = run_cli({"predict", "-p", "withfallback", "--predictors", reg_.path(), "-m", model_,
                          "--min-coverage", "90%"});
  EXPECT_EQ(fb.exit_code, 3);  // the fallback's kernels do not count as covered
  EXPECT_NE(fb.out.find("maxpool (fallback: maxpool_0), other:Einsum (uncovered: gram)"), std::string::npos)
      << fb.out;

  // A folder where one model passes and one does not: some failed, exit 1.
  std::filesystem::copy_file(deepen::test::model("resnet_basic.onnx"), models_.file("resnet_basic.onnx"));
  CliResult some = deepen({"-m", models_.path(), "--min-coverage", "kernels:0.3"});  // resnet_basic: 3 of 13 here
  EXPECT_EQ(some.exit_code, 1) << some.out << some.err;

  for (const char* bad : {"150%", "1.5", "ninety", "90%,", "cycles:90%"}) {
    CliResult b = deepen({"-m", model_, "--min-coverage", bad});
    EXPECT_EQ(b.exit_code, 2) << bad;
  }
}
