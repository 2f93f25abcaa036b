// Composite training (deepen train --models): kernel costs learned from the sums of whole models.
// A synthetic device whose kernel costs are a known function: training on model totals alone
// must recover every kernel's cost and the per-inference constant.
#include <deepen/error.h>
#include <deepen/graph.h>
#include <deepen/predict.h>
#include <deepen/schema.h>
#include <deepen/train.h>
#include <deepen/zoo.h>

#include "train_helpers.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <filesystem>
#include <random>

namespace fs = std::filesystem;

namespace deepen {
namespace {

using testing::TempDir;
using testing::read_file;

// The synthetic device: ms per kernel, a launch cost per type plus a rate on its work.
constexpr double kPerInferenceMs = 0.4;
double device_cost(const Kernel& k) {
  KernelWork w = kernel_work(k.type, k.config);
  if (k.type == "conv-bn-relu") return 0.05 + 2.0 * w.flops / 1e9 + 0.01 * w.bytes / 1e6;
  if (k.type == "relu") return 0.01 + 0.02 * w.bytes / 1e6;
  if (k.type == "add") return 0.015 + 0.03 * w.bytes / 1e6;
  if (k.type == "avgpool") return 0.02 + 0.5 * w.flops / 1e9;
  throw Error("no synthetic cost for " + k.type);
}

// A pool of kernel configurations of four types.
std::vector<Kernel> kernel_pool() {
  std::vector<DatasetRow> rows;
  auto add = [&](const std::string& type, std::vector<std::pair<std::string, double>> fields) {
    DatasetRow r;
    r.kernel = type;
    for (auto& [n, v] : fields) r.config.set(n, v);
    rows.push_back(r);
  };
  for (int hw : {8, 16, 32})
    for (int c : {16, 32, 64}) {
      for (int ks : {1, 3}) add("conv-bn-relu", {{"hw", hw}, {"cin", c}, {"cout", c}, {"ks", ks}, {"stride", 1}});
      add("relu", {{"hw", hw}, {"cin", c}});
      add("add", {{"hw", hw}, {"cin", c}});
      add("avgpool", {{"hw", hw}, {"cin", c}, {"ks", 3}, {"stride", 1}});
    }
  return kernels_from_rows(rows);
}

// n models, each a random multiset of 3..40 kernels from the pool, measured exactly.
std::vector<CompositeSample> synthetic_models(const std::vector<Kernel>& pool, size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<CompositeSample> out;
  for (size_t i = 0; i < n; ++i) {
    CompositeSample s;
    s.label = fmt::format("model{}", i);
    s.group = s.label;
    size_t count = 3 + rng() % 38;
    s.value = kPerInferenceMs;
    for (size_t j = 0; j < count; ++j) {
      s.kernels.push_back(pool[rng() % pool.size()]);
      s.value += device_cost(s.kernels.back());
    }
    out.push_back(std::move(s));
  }
  return out;
}

TEST(CompositeTraining, RecoversKernelCostsAndThePerInferenceConstantFromModelSums) {
  std::vector<Kernel> pool = kernel_pool();
  std::vector<CompositeSample> train = synthetic_models(pool, 600, 1);
  CompositeParams params;
  params.correction = "off";
  CompositeFit fit = fit_composite(train, default_fusion_rules(), params, false);

  EXPECT_NEAR(fit.per_inference, kPerInferenceMs, 0.1 * kPerInferenceMs);
  ASSERT_EQ(fit.kernels.size(), 4u);
  // Every kernel on its own: its learned cost against the device's.
  size_t within = 0;
  double worst = 0;
  for (const Kernel& k : pool) {
    CompositeSample one;
    one.label = k.type;
    one.kernels = {k};
    one.value = 1;
    one.kernel_row = true;  // no per-inference constant: the kernel alone
    double learned = fit.predict({one}, false)[0];
    double truth = device_cost(k);
    double err = std::fabs(learned / truth - 1);
    worst = std::max(worst, err);
    within += err <= 0.10;
  }
  EXPECT_GE(within, pool.size() * 95 / 100) << "worst kernel error " << worst;
  EXPECT_LE(worst, 0.25);

  // Models nobody trained on.
  std::vector<CompositeSample> test = synthetic_models(pool, 200, 2);
  std::vector<double> predicted = fit.predict(test, false);
  std::vector<double> measured;
  for (const auto& s : test) measured.push_back(s.value);
  Metrics m = compute_metrics(predicted, measured);
  EXPECT_GE(m.acc5, 0.95);
  EXPECT_LE(m.mape, 2.0);
}

TEST(CompositeTraining, CrossValidationIsOverModelsAndKeepsCopiesInOneFold) {
  std::vector<Kernel> pool = kernel_pool();
  std::vector<CompositeSample> samples = synthetic_models(pool, 120, 3);
  // Each model measured twice: copies share a group.
  std::vector<CompositeSample> twice;
  for (const auto& s : samples) {
    twice.push_back(s);
    twice.push_back(s);
    twice.back().value *= 1.02;
  }
  CompositeParams params;
  params.booster.rounds = 60;
  CompositeCrossValidation cv = cross_validate_composite(twice, default_fusion_rules(), params);
  EXPECT_EQ(cv.folds, 5);
  EXPECT_EQ(cv.chosen.n, twice.size());
  EXPECT_GE(cv.kernel_sum.acc10, 0.9);
  // Synthetic costs are additive: a correction must not be kept for nothing.
  EXPECT_GE(cv.kernel_sum.acc10 + 0.005, cv.corrected.acc10 - 0.005);
}

// A device that pays a launch per kernel whatever its size (the Jetson TX2 under TensorRT on
// NAS-Bench-201's small tensors): --kernel-base launch and --correction-features counts learn
// costs that carry over to inputs of a size no training model had.
double launch_cost(const Kernel& k) {
  if (k.type == "conv-bn-relu") return 0.05;
  if (k.type == "relu") return 0.03;
  if (k.type == "add") return 0.02;
  if (k.type == "avgpool") return 0.04;
  throw Error("no synthetic cost for " + k.type);
}

std::vector<CompositeSample> launch_models(const std::vector<Kernel>& pool, size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<CompositeSample> out;
  for (size_t i = 0; i < n; ++i) {
    CompositeSample s;
    s.label = fmt::format("model{}", i);
    s.group = s.label;
    s.value = kPerInferenceMs;
    for (size_t j = 0, count = 3 + rng() % 38; j < count; ++j) {
      s.kernels.push_back(pool[rng() % pool.size()]);
      s.value += launch_cost(s.kernels.back());
    }
    out.push_back(std::move(s));
  }
  return out;
}

TEST(CompositeTraining, LaunchBaseAndCountFeaturesCarryOverToAnotherInputSize) {
  std::vector<Kernel> pool = kernel_pool(), big, small;
  for (const Kernel& k : pool) (k.config.get("hw") >= 16 ? big : small).push_back(k);  // 16, 32 | 8
  std::vector<CompositeSample> train = launch_models(big, 400, 5);
  CompositeParams params;
  params.booster.rounds = 60;
  params.kernel_base = "launch";
  params.correction_features = "counts";
  CompositeFit fit = fit_composite(train, default_fusion_rules(), params, true);
  for (const auto& m : fit.kernels) {
    EXPECT_EQ(m.base.per_gflop, 0) << m.type;
    EXPECT_EQ(m.base.per_mb, 0) << m.type;
    EXPECT_GT(m.base.per_kernel, 0) << m.type;
  }
  ASSERT_TRUE(fit.correction);
  for (const auto& f : fit.correction_features)
    EXPECT_TRUE(f == "count" || f == "log_kernel_sum" || f.rfind("count:", 0) == 0) << f;
  // Networks of kernels at 8x8, a size no training model had.
  std::vector<CompositeSample> test = launch_models(small, 100, 6);
  std::vector<double> measured;
  for (const auto& s : test) measured.push_back(s.value);
  Metrics m = compute_metrics(fit.predict(test), measured);
  EXPECT_GE(m.acc5, 0.95);
}

TEST(CompositeTraining, SameDataAndSeedGiveByteIdenticalBoosters) {
  std::vector<Kernel> pool = kernel_pool();
  std::vector<CompositeSample> samples = synthetic_models(pool, 150, 4);
  CompositeParams params;
  params.booster.rounds = 40;
  CompositeFit a = fit_composite(samples, default_fusion_rules(), params, true);
  CompositeFit b = fit_composite(samples, default_fusion_rules(), params, true);
  ASSERT_EQ(a.kernels.size(), b.kernels.size());
  for (size_t i = 0; i < a.kernels.size(); ++i) EXPECT_EQ(a.kernels[i].booster->to_ubj(), b.kernels[i].booster->to_ubj());
  ASSERT_TRUE(a.correction && b.correction);
  EXPECT_EQ(a.correction->to_ubj(), b.correction->to_ubj());
  EXPECT_EQ(a.per_inference, b.per_inference);
}

TEST(CompositeTraining, BadSamplesAreErrors) {
  CompositeParams params;
  EXPECT_THROW(fit_composite({}, default_fusion_rules(), params, false), Error);
  std::vector<Kernel> pool = kernel_pool();
  std::vector<CompositeSample> samples = synthetic_models(pool, 10, 5);
  samples[3].value = 0;
  try {
    fit_composite(samples, default_fusion_rules(), params, false);
    FAIL() << "a zero measurement was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model3"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace deepen

namespace deepen {
namespace {

using testing::TempDir;
using test::run_deepen;
using test::RunResult;

const char* const kArchs[] = {
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
    "|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|avg_pool_3x3~0|none~1|nor_conv_1x1~2|",
    "|skip_connect~0|+|nor_conv_3x3~0|none~1|+|nor_conv_3x3~0|nor_conv_1x1~1|avg_pool_3x3~2|",
};
const char* const kOps[] = {"none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"};

// A random NAS-Bench-201 arch string.
std::string random_arch(std::mt19937_64& rng) {
  std::string a;
  for (int node = 1; node <= 3; ++node) {
    a += node > 1 ? "+|" : "|";
    for (int from = 0; from < node; ++from) a += fmt::format("{}~{}|", kOps[rng() % 5], from);
  }
  return a;
}

// The NAS-Bench-201 device of the end-to-end test: each kernel type's cost a known function of
// its work, 0.3 ms per inference.
double nb201_device_ms(const std::vector<Kernel>& kernels) {
  double ms = 0.3;
  for (const Kernel& k : kernels) {
    if (k.zero_cost) continue;
    KernelWork w = kernel_work(k.type, k.config);
    ms += 0.02 + 3.0 * w.flops / 1e9 + 0.05 * w.bytes / 1e6;
  }
  return ms;
}

TEST(TrainModelsCli, LearnsFromMeasuredNetworksAndPredictsHeldOutOnes) {
  TempDir dir;
  std::mt19937_64 rng(11);
  std::string csv = "model,latency_ms,group\n";
  std::vector<std::string> held_out;
  std::vector<double> held_out_ms;
  for (int i = 0; i < 140; ++i) {
    std::string arch = i < 4 ? kArchs[i] : random_arch(rng);
    Graph g;
    try {
      g = build_nb201(arch, "cifar10");
    } catch (const Error&) {
      continue;
    }
    double ms = nb201_device_ms(detect_kernels(g, default_fusion_rules()));
    std::string file = fmt::format("net{:03d}.onnx", i);
    write_onnx(g, dir.file(file), 1, ZooWeights::Zeros);
    if (i < 4) {
      held_out.push_back(dir.file(file));
      held_out_ms.push_back(ms);
    } else {
      csv += fmt::format("{},{:.6g},\"{}\"\n", file, ms, arch);
    }
  }
  std::string models = dir.write("measured.csv", csv);
  std::string reg = dir.file("predictors");
  RunResult t = run_deepen(fmt::format("train --models {} --name nb_dev --device 'Synthetic' --framework none "
                                       "--predictors {} --rounds 120",
                                       models, reg));
  ASSERT_EQ(t.exit_code, 0) << t.out;
  EXPECT_NE(t.out.find("training latency from 136 models"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("5-fold CV over models"), std::string::npos) << t.out;
  std::string yaml = testing::read_file(reg + "/predictors.yaml");
  EXPECT_NE(yaml.find("model:"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("per_inference:"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("reproduce: deepen train --models"), std::string::npos) << yaml;
  EXPECT_NE(yaml.find("CV over models"), std::string::npos) << yaml;

  for (size_t i = 0; i < held_out.size(); ++i) {
    RunResult p = run_deepen(fmt::format("predict -p nb_dev --purpose latency -m {} --predictors {} -f json",
                                         held_out[i], reg));
    ASSERT_EQ(p.exit_code, 0) << p.out;
    auto j = nlohmann::json::parse(p.out);
    double predicted = j["models"][0]["latency_ms"].get<double>();
    EXPECT_NEAR(predicted / held_out_ms[i], 1.0, 0.05) << held_out[i] << ": " << p.out;
  }

  // A network outside what it learned from (test_models's ResNet): the estimate says it
  // extrapolates, and --strict fails on it.
  std::string resnet = std::string(DEEPEN_TEST_MODELS) + "/resnet_basic.onnx";
  RunResult x = run_deepen(fmt::format("predict -p nb_dev --purpose latency -m {} --predictors {} -f json", resnet, reg));
  ASSERT_EQ(x.exit_code, 0) << x.out;
  auto xj = nlohmann::json::parse(x.out);
  EXPECT_GT(xj["models"][0]["extrapolated_kernels"].get<int>(), 0) << x.out;
  EXPECT_GT(xj["models"][0]["extrapolated_share"].get<double>(), 0.0) << x.out;
  RunResult strict = run_deepen(fmt::format("predict -p nb_dev --purpose latency -m {} --predictors {} --strict",
                                            resnet, reg));
  EXPECT_NE(strict.exit_code, 0) << strict.out;
  EXPECT_NE(strict.out.find("extrapolate"), std::string::npos) << strict.out;

  // eval --models reads the same CSV and agrees with the CV figure's order of magnitude.
  RunResult e = run_deepen(fmt::format("eval -p nb_dev --purpose latency --models {} --predictors {}", models, reg));
  ASSERT_EQ(e.exit_code, 0) << e.out;

  // Same data and seed: byte-identical boosters.
  std::string reg2 = dir.file("predictors2");
  RunResult t2 = run_deepen(fmt::format("train --models {} --name nb_dev --device 'Synthetic' --framework none "
                                        "--predictors {} --rounds 120 -q",
                                        models, reg2));
  ASSERT_EQ(t2.exit_code, 0) << t2.out;
  size_t compared = 0;
  for (const auto& f : fs::directory_iterator(reg + "/nb_dev")) {
    if (f.path().extension() != ".ubj") continue;
    EXPECT_EQ(testing::read_file(f.path().string()),
              testing::read_file(reg2 + "/nb_dev/" + f.path().filename().string()))
        << f.path();
    ++compared;
  }
  EXPECT_GE(compared, 4u);
}

TEST(TrainModelsCli, BadModelRowsNameTheFileAndLineAndLeaveNothingBehind) {
  TempDir dir;
  write_onnx(build_nb201(kArchs[0], "cifar10"), dir.file("a.onnx"), 1, ZooWeights::Zeros);
  write_onnx(build_nb201(kArchs[1], "cifar10"), dir.file("b.onnx"), 1, ZooWeights::Zeros);
  std::string reg = dir.file("predictors");
  auto train = [&](const std::string& csv_text) {
    std::string csv = dir.write("m.csv", csv_text);
    return run_deepen(fmt::format("train --models {} --name bad --device d --framework f --predictors {}", csv, reg));
  };
  struct Case {
    std::string csv, expect;
  };
  const Case cases[] = {
      {"model,latency_ms\na.onnx,1.5\nmissing.onnx,2\n", "m.csv:3"},
      {"model,latency_ms\na.onnx,1.5\nb.onnx,0\n", "must be positive"},
      {"model,latency_ms\na.onnx,1.5\nb.onnx,-3\n", "must be positive"},
      {"model,latency_ms\na.onnx,1.5\nb.onnx,fast\n", "is not a number"},
      {"model,energy\na.onnx,1.5\n", "no measured values: expected a latency_ms or energy_mj column"},
      {"latency_ms\n1.5\n", "missing column 'model'"},
      {"model,latency_ms\nm.csv,1.5\n", "m.csv:2"},
  };
  for (const auto& c : cases) {
    RunResult r = train(c.csv);
    EXPECT_EQ(r.exit_code, 2) << c.csv << r.out;
    EXPECT_NE(r.out.find(c.expect), std::string::npos) << c.csv << r.out;
    EXPECT_FALSE(fs::exists(reg + "/bad")) << c.csv;
  }
  RunResult none = run_deepen(fmt::format("train --models {} --name bad --device d --framework f --predictors {}",
                                          dir.file("nope.csv"), reg));
  EXPECT_EQ(none.exit_code, 2) << none.out;
  EXPECT_NE(none.out.find("cannot open"), std::string::npos) << none.out;
}

}  // namespace
}  // namespace deepen

namespace deepen {
namespace {

// A look-up table of Once-for-All blocks whose measured latencies come from a known kernel-cost
// function: imported, trained on, and predicted back.
TEST(TrainModelsCli, LookUpTableRoundTrip) {
  std::mt19937_64 rng(7);
  const int sizes[] = {56, 28, 14, 7};
  const int channels[] = {24, 40, 80, 112};
  std::vector<std::string> keys;
  for (int i = 0; i < 120; ++i) {
    int hw = sizes[rng() % 4], cin = channels[rng() % 4], cout = channels[rng() % 4];
    int ks = 3 + 2 * static_cast<int>(rng() % 3), stride = 1 + static_cast<int>(rng() % 2);
    int mid = cin * (3 + static_cast<int>(rng() % 4));
    int se = static_cast<int>(rng() % 2), hs = static_cast<int>(rng() % 2);
    int out = stride == 2 ? (hw + 1) / 2 : hw;
    int skip = stride == 1 && cin == cout ? static_cast<int>(rng() % 2) : 0;
    keys.push_back(fmt::format("expanded_conv-input:{0}x{0}x{1}-output:{2}x{2}x{3}-expand:{4}-kernel:{5}-stride:{6}-"
                               "idskip:{7}-se:{8}-hs:{9}",
                               hw, cin, out, cout, mid, ks, stride, skip, se, hs));
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  auto table = [&](const std::vector<double>& means) {
    std::string yaml;
    for (size_t i = 0; i < keys.size(); ++i)
      yaml += fmt::format("{}:\n  count: 100\n  mean: {:.9g}\n  std: 0.001\n", keys[i], means[i]);
    return yaml;
  };
  // The device: 0.01 ms per kernel, 4 ms per GFLOP, 0.05 ms per MB.
  ImportedModels shapes = import_lut({{"lut.yaml", table(std::vector<double>(keys.size(), 1.0))}});
  ASSERT_EQ(shapes.files.size(), keys.size());
  std::vector<double> means;
  for (size_t i = 0; i < keys.size(); ++i) {
    double ms = 0;
    for (const Kernel& k : detect_kernels(shapes.build(i), default_fusion_rules()))
      if (!k.zero_cost) ms += 0.01 + 4.0 * k.flops / 1e9 + 0.05 * k.bytes / 1e6;
    means.push_back(ms);
  }
  TempDir dir;
  write_imported_models(import_lut({{"lut.yaml", table(means)}}), dir.file("blocks"), 1);
  std::string reg = dir.file("predictors");
  RunResult t = run_deepen(fmt::format("train --models {}/measured.csv --name lut_dev --device d --framework f "
                                       "--predictors {} -q",
                                       dir.file("blocks"), reg));
  ASSERT_EQ(t.exit_code, 0) << t.out;
  RunResult e = run_deepen(fmt::format("eval -p lut_dev --purpose latency --models {}/measured.csv --predictors {} "
                                       "-f json",
                                       dir.file("blocks"), reg));
  ASSERT_EQ(e.exit_code, 0) << e.out;
  auto j = nlohmann::json::parse(e.out);
  const auto& all = j["groups"].back();
  EXPECT_GE(all["acc5"].get<double>(), 0.95) << e.out.substr(0, 2000);
  // The CV figure in the registry is on blocks held out of training.
  std::string yaml = testing::read_file(reg + "/predictors.yaml");
  auto entry = YAML::Load(yaml)[0];
  EXPECT_GE(entry["accuracy"]["model"]["latency"]["acc10"].as<double>(), 0.9) << yaml;
}

}  // namespace
}  // namespace deepen

namespace deepen {
namespace {

// A number from the fallback came from no booster: a kernel whose energy is the fallback's is
// not extrapolated because the predictor's latency booster for its type would be.
TEST(ShippedComposite, FallbackNumbersAreNeverExtrapolated) {
  RunResult r = test::run_deepen(fmt::format(
      "predict -p cortexA76cpu_tflite --predictor-version 1.1 --purpose energy -m {}/squeezenet_fire.onnx --per-kernel "
      "-f json",
      std::string(DEEPEN_TEST_MODELS)));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto j = nlohmann::json::parse(r.out);
  size_t fallback = 0;
  for (const auto& k : j["models"][0]["kernel_list"]) {
    if (k["source"] != "fallback") continue;
    ++fallback;
    EXPECT_FALSE(k["extrapolated"].get<bool>()) << k.dump();
  }
  EXPECT_GT(fallback, 0u);
}

}  // namespace
}  // namespace deepen

namespace deepen {
namespace {

TEST(RegistryModelTerms, BadTermsAreErrorsNamingTheEntry) {
  auto parse = [](const std::string& model) {
    std::string yaml = "- name: p\n  version: 1.0\n  kernels: {}\n  model:\n" + model;
    return parse_registry(yaml, "/tmp", "predictors.yaml");
  };
  Registry ok = parse("    latency: {per_inference: 0.2, correction: m.ubj, features: [count, gflop:conv-bn, log_kernel_sum]}\n");
  ASSERT_EQ(ok.entries.size(), 1u);
  EXPECT_DOUBLE_EQ(ok.entries[0].model.at("latency").per_inference, 0.2);
  EXPECT_EQ(ok.entries[0].model.at("latency").features.size(), 3u);
  const std::pair<std::string, std::string> bad[] = {
      {"    latency: {per_inference: 0.2, correction: m.ubj, features: [count, flops]}\n", "unknown model feature 'flops'"},
      {"    latency: {per_inference: 0.2, correction: m.ubj}\n", "needs its 'features'"},
      {"    latency: {per_inference: -1}\n", "per_inference"},
      {"    power: {per_inference: 1}\n", "latency and energy"},
      {"    latency: {per_inference: 1, correction: ../m.ubj, features: [count]}\n", "m.ubj"},
  };
  for (const auto& [text, expect] : bad) {
    try {
      parse(text);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(expect), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("predictor 'p'"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace deepen
