// The registry, boosters and predictor: a registry written by the test with hand-written stump
// boosters, so every predicted number can be checked by hand.
#include <deepen/error.h>
#include <deepen/graph.h>
#include <deepen/predict.h>
#include <deepen/report.h>
#include <deepen/schema.h>
#include <deepen/train.h>

#include <gtest/gtest.h>

#include "test_util.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>

using deepen::test::TempDir;
using deepen::test::write_text;

namespace {

// A registry with predictor "stub" 1.0 (energy: conv-bn-relu = e^0 = 1 mJ when hw < 20, else
// e^1) and 2.0 (also latency: 2 ms for every conv), with conv-relu and conv scored as conv-bn-relu.
void write_registry(const TempDir& dir) {
  deepen::test::write_stub_registry(dir, deepen::test::stub_entry("1.0", false, "  data: hand-written stumps\n") +
                                             deepen::test::stub_entry("2.0", true));
}

}  // namespace

TEST(Purpose, AnyLetterCase) {
  EXPECT_EQ(deepen::parse_purpose("Energy"), deepen::Purpose::Energy);
  EXPECT_EQ(deepen::parse_purpose("LATENCY"), deepen::Purpose::Latency);
  EXPECT_EQ(deepen::parse_purpose("power"), deepen::Purpose::Power);
  EXPECT_THROW(deepen::parse_purpose("speed"), deepen::Error);
  EXPECT_EQ(deepen::purpose_field(deepen::Purpose::Power), "power_mw");
}

TEST(Registry, NewestVersionUnlessOneIsAsked) {
  TempDir dir;
  write_registry(dir);
  deepen::Registry r = deepen::load_registry(dir.path());
  EXPECT_EQ(r.find("stub").version, "2.0");
  EXPECT_EQ(r.find("stub", "1.0").version, "1.0");
  EXPECT_EQ(r.find("stub", "1").version, "1.0");
  try {
    r.find("stub", "3.0");
    FAIL();
  } catch (const deepen::Error& e) {
    EXPECT_NE(std::string(e.what()).find("has no version 3.0 (available: 1.0, 2.0)"), std::string::npos) << e.what();
  }
  try {
    r.find("nope");
    FAIL();
  } catch (const deepen::Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown predictor 'nope' (available: stub"), std::string::npos) << e.what();
  }
  EXPECT_LT(deepen::compare_versions("1.9", "1.10"), 0);
  EXPECT_EQ(deepen::compare_versions("1.0", "1"), 0);
}

TEST(Registry, PathsThatLeaveTheFolderAreRefused) {
  TempDir dir;
  for (const char* path : {"../outside.json", "/etc/passwd", "a/../../b.json"}) {
    std::string yaml = std::string("- name: p\n  version: 1\n  kernels:\n    conv-bn-relu:\n      energy: ") + path + "\n";
    try {
      deepen::parse_registry(yaml, dir.path(), "predictors.yaml");
      ADD_FAILURE() << path;
    } catch (const deepen::Error& e) {
      std::string m = e.what();
      EXPECT_TRUE(m.find("leaves the predictor's folder") != std::string::npos ||
                  m.find("is absolute") != std::string::npos)
          << m;
    }
  }
  // A symlink inside the folder that points outside it.
  std::filesystem::create_directories(dir.file("p"));
  write_text(dir.file("secret.json"), "{}");
  std::filesystem::create_symlink(dir.file("secret.json"), dir.file("p/link.json"));
  EXPECT_THROW(deepen::parse_registry("- name: p\n  version: 1\n  kernels:\n    conv-bn-relu:\n      energy: link.json\n",
                                      dir.path(), "predictors.yaml"),
               deepen::Error);
}

TEST(Registry, MalformedRegistriesGiveClearErrors) {
  TempDir dir;
  EXPECT_THROW(deepen::parse_registry("name: x", dir.path(), "r"), deepen::Error);       // not a list
  EXPECT_THROW(deepen::parse_registry("- version: 1", dir.path(), "r"), deepen::Error);  // no name
  EXPECT_THROW(deepen::parse_registry("- name: a\n  version: 1\n- name: a\n  version: 1.0\n", dir.path(), "r"),
               deepen::Error);  // listed twice
  // Names are matched in any letter case, so two that differ only in case would be ambiguous.
  try {
    deepen::parse_registry("- name: cortexA76\n  version: 1.1\n- name: cortexa76\n  version: 1.1\n", dir.path(), "r");
    ADD_FAILURE() << "names differing only in letter case must be refused";
  } catch (const deepen::Error& e) {
    EXPECT_NE(std::string(e.what()).find("differ only in letter case"), std::string::npos) << e.what();
  }
  EXPECT_THROW(deepen::parse_registry("- name: a\n  version: 1\n  purposes: [speed]\n", dir.path(), "r"),
               deepen::Error);
  EXPECT_THROW(deepen::parse_registry("- [unclosed", dir.path(), "r"), deepen::Error);
  EXPECT_THROW(deepen::load_registry(dir.file("nowhere")), deepen::Error);
}

TEST(Booster, MissingGarbageAndForeignFilesAreErrors) {
  TempDir dir;
  EXPECT_THROW(deepen::Booster::load(dir.file("missing.ubj")), deepen::Error);
  write_text(dir.file("garbage.ubj"), std::string("\x80\x04\x95pickle", 10));
  EXPECT_THROW(deepen::Booster::load(dir.file("garbage.ubj")), deepen::Error);
  write_text(dir.file("lightgbm.txt"), "tree\nversion=v3\nnum_class=1\n");
  EXPECT_THROW(deepen::Booster::load(dir.file("lightgbm.txt")), deepen::Error);
  write_text(dir.file("brace.json"), "{\"learner\": 3}");
  EXPECT_THROW(deepen::Booster::load(dir.file("brace.json")), deepen::Error);
  write_text(dir.file("empty.json"), "");
  EXPECT_THROW(deepen::Booster::load(dir.file("empty.json")), deepen::Error);
}

TEST(Booster, StumpPredictsItsLeaves) {
  TempDir dir;
  write_text(dir.file("b.json"), deepen::test::stump_booster_json(3, 1, 5.0, 0.25, 4.0));
  deepen::Booster b = deepen::Booster::load(dir.file("b.json"));
  EXPECT_EQ(b.num_features(), 3u);
  auto v = b.predict({0, 1, 0, 0, 9, 0}, 3);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_DOUBLE_EQ(v[0], 0.25);
  EXPECT_DOUBLE_EQ(v[1], 4.0);
  EXPECT_THROW(b.predict({1, 2, 3, 4}, 4), deepen::Error);  // wrong feature count
}

TEST(Predictor, EstimatesComeFromBoostersAndSayWhere) {
  TempDir dir;
  write_registry(dir);
  deepen::Registry r = deepen::load_registry(dir.path());
  deepen::Predictor p = deepen::Predictor::load(r, "stub", "1.0");
  EXPECT_TRUE(p.supports(deepen::Purpose::Energy));
  std::string why;
  EXPECT_FALSE(p.supports(deepen::Purpose::Latency, &why));
  EXPECT_NE(why.find("it predicts energy"), std::string::npos) << why;
  EXPECT_FALSE(p.supports(deepen::Purpose::Power, &why));

  deepen::Graph g = deepen::load_onnx(deepen::test::model("mobilenetv1.onnx"));
  auto kernels = deepen::detect_kernels(g, p.fusion_rules());
  auto estimates = p.estimate(kernels);
  // conv-relu kernels are scored as conv-bn-relu: hw 64 (the stem) -> e^1, hw < 20 -> e^0.
  double expected = 0;
  for (size_t i = 0; i < kernels.size(); ++i) {
    const auto& k = kernels[i];
    const auto& e = estimates[i];
    if (k.type == "conv-relu") {
      EXPECT_EQ(e.source, deepen::Source::Trained);
      EXPECT_EQ(e.scored_as, "conv-bn-relu");
      double want = k.config.get("hw") < 20 ? 1.0 : std::exp(1.0);
      EXPECT_NEAR(e.energy_mj, want, 1e-6);
      expected += want;
    } else if (k.zero_cost) {
      EXPECT_EQ(e.source, deepen::Source::ZeroCost);
    } else {
      EXPECT_EQ(e.source, deepen::Source::Uncovered) << k.type;
      EXPECT_TRUE(std::isnan(e.energy_mj));
    }
  }
  deepen::ModelReport rep = deepen::summarise("m", kernels, estimates);
  EXPECT_NEAR(rep.energy_mj, expected, 1e-6);
  EXPECT_EQ(rep.kernel_count, 15u);  // 7 conv-relu, 6 dwconv-relu, fc, global-avgpool
  EXPECT_EQ(rep.trained_count, 7u);
  EXPECT_EQ(rep.uncovered_count, 8u);
  EXPECT_NEAR(rep.coverage_kernels, 7.0 / 15.0, 1e-12);
  EXPECT_GT(rep.coverage_flops, 0.5);
  EXPECT_LT(rep.coverage_flops, 1.0);
  EXPECT_TRUE(std::isnan(rep.power_mw));
}

TEST(Predictor, PowerIsEnergyOverLatency) {
  TempDir dir;
  write_registry(dir);
  deepen::Predictor p = deepen::Predictor::load(deepen::load_registry(dir.path()), "stub");
  EXPECT_EQ(p.entry().version, "2.0");
  EXPECT_TRUE(p.supports(deepen::Purpose::Power));
  auto kernels = deepen::detect_kernels(deepen::load_onnx(deepen::test::model("resnet_basic.onnx")), p.fusion_rules());
  auto rep = deepen::summarise("m", kernels, p.estimate(kernels));
  // Six convs (conv-relu or conv, all scored as conv-bn-relu): 2 ms each.
  EXPECT_NEAR(rep.latency_ms, 12.0, 1e-9);
  EXPECT_NEAR(rep.power_mw, rep.energy_mj / rep.latency_ms * 1000.0, 1e-9);
}

TEST(Predictor, FallbackFillsKernelsWithoutBoosters) {
  TempDir dir;
  write_registry(dir);
  std::string yaml = deepen::test::read_text(dir.file("predictors.yaml"));
  yaml += R"(- name: withfallback
  version: 1
  folder: stub
  purposes: [energy, latency]
  fusion_rules: rules.yaml
  kernels:
    conv-bn-relu:
      energy: {booster: energy.json, transform: log}
  fallback:
    energy: {mj_per_gflop: 100, mj_per_mb: 10, mj_per_kernel: 0.5}
    latency: {peak_gflops: 10, bandwidth_gbs: 5, ms_per_kernel: 0.01}
)";
  write_text(dir.file("predictors.yaml"), yaml);
  deepen::Predictor p = deepen::Predictor::load(deepen::load_registry(dir.path()), "withfallback");
  auto kernels = deepen::detect_kernels(deepen::load_onnx(deepen::test::model("mobilenetv1.onnx")), p.fusion_rules());
  auto est = p.estimate(kernels);
  for (size_t i = 0; i < kernels.size(); ++i) {
    const auto& k = kernels[i];
    if (k.type == "dwconv-relu") {
      EXPECT_EQ(est[i].source, deepen::Source::Fallback);
      EXPECT_NEAR(est[i].energy_mj, 100 * k.flops / 1e9 + 10 * k.bytes / 1e6 + 0.5, 1e-9);
      double roofline = std::max(k.flops / 10e6, k.bytes / 5e6) + 0.01;
      EXPECT_NEAR(est[i].latency_ms, roofline, 1e-12);
    }
  }
  // For latency, the conv kernels' numbers come from the roofline: their source says fallback,
  // although their energy booster is trained.
  deepen::PredictOptions latency;
  latency.purpose = deepen::Purpose::Latency;
  auto by_latency = p.estimate(kernels, latency);
  for (size_t i = 0; i < kernels.size(); ++i) {
    if (kernels[i].type == "conv-relu") {
      EXPECT_EQ(est[i].source, deepen::Source::Trained);
      EXPECT_EQ(by_latency[i].source, deepen::Source::Fallback);
      // Each purpose says where its own number came from, whichever purpose was asked.
      for (const auto& e : {est[i], by_latency[i]}) {
        EXPECT_EQ(e.energy_source, deepen::Source::Trained);
        EXPECT_EQ(e.latency_source, deepen::Source::Fallback);
        EXPECT_EQ(e.power_source, deepen::Source::Fallback);
      }
      EXPECT_DOUBLE_EQ(by_latency[i].energy_mj, est[i].energy_mj);
    }
  }
  deepen::ModelReport latency_report = deepen::summarise("m", kernels, by_latency);
  EXPECT_EQ(latency_report.trained_count, 0u);
  EXPECT_EQ(latency_report.coverage_kernels, 0.0);
  deepen::PredictOptions no_fallback;
  no_fallback.use_fallback = false;
  auto bare = p.estimate(kernels, no_fallback);
  // A roofline from specs as the registry records it: 1 thread of 4 cores at 50% of peak.
  std::string spec_yaml = deepen::test::read_text(dir.file("predictors.yaml"));
  std::string from = "latency: {peak_gflops: 10, bandwidth_gbs: 5, ms_per_kernel: 0.01}";
  spec_yaml.replace(spec_yaml.find(from), from.size(),
                    "latency: {peak_gflops: 80, bandwidth_gbs: 10, ms_per_kernel: 0.01, threads: 1, cores: 4, "
                    "sustained: 0.5}");
  write_text(dir.file("predictors.yaml"), spec_yaml);
  deepen::Predictor spec = deepen::Predictor::load(deepen::load_registry(dir.path()), "withfallback");
  auto by_spec = spec.estimate(kernels, latency);
  for (size_t i = 0; i < kernels.size(); ++i) {
    const auto& k = kernels[i];
    if (by_spec[i].source != deepen::Source::Fallback) continue;
    EXPECT_NEAR(by_spec[i].latency_ms, std::max(k.flops / 10e6, k.bytes / 5e6) + 0.01, 1e-12) << k.type;
  }
  spec_yaml.replace(spec_yaml.find("threads: 1"), 10, "threads: 5");
  write_text(dir.file("predictors.yaml"), spec_yaml);
  EXPECT_THROW(deepen::Predictor::load(deepen::load_registry(dir.path()), "withfallback"), deepen::Error);
  for (size_t i = 0; i < kernels.size(); ++i) {
    if (kernels[i].type == "dwconv-relu") {
      EXPECT_EQ(bare[i].source, deepen::Source::Uncovered);
    }
  }
}

TEST(Predictor, RegistryNamingAMissingBoosterFailsAtLoad) {
  TempDir dir;
  write_text(dir.file("predictors.yaml"),
             "- name: broken\n  version: 1\n  kernels:\n    conv-bn-relu:\n      energy: nothere.ubj\n");
  try {
    deepen::Predictor::load(deepen::load_registry(dir.path()), "broken");
    FAIL();
  } catch (const deepen::Error& e) {
    EXPECT_NE(std::string(e.what()).find("nothere.ubj: cannot open the booster file"), std::string::npos)
        << e.what();
  }
}

TEST(Transform, TargetsAndBackAgain) {
  deepen::KernelWork w;
  w.macs = 1e6;
  w.flops = 2e6;
  w.bytes = 5e5;
  for (const char* t : {"none", "log", "log-per-mac", "log-per-flop", "log-per-byte"}) {
    EXPECT_TRUE(deepen::valid_transform(t));
    double target = deepen::booster_target(t, 3.5, w);
    EXPECT_NEAR(deepen::from_booster(t, target, w), 3.5, 1e-12) << t;
  }
  EXPECT_NEAR(deepen::booster_target("log-per-mac", 2.0, w), std::log(2e-6), 1e-12);
  EXPECT_FALSE(deepen::valid_transform("sqrt"));
  deepen::KernelWork none;
  EXPECT_THROW(deepen::booster_target("log-per-mac", 1.0, none), deepen::Error);
}

TEST(Booster, OwnTreeWalkerGivesXGBoostsNumbers) {
  // Train with XGBoost (through the training module), then score the saved UBJSON and JSON-free
  // file with deepen's own walker: the numbers must be XGBoost's to the last bit of a float.
  const size_t ncols = 5;
  std::vector<float> rows;
  std::vector<double> targets;
  uint32_t x = 7;
  auto next = [&] { return static_cast<float>((x = x * 1664525u + 1013904223u) >> 8) / 16777216.0f; };
  for (int r = 0; r < 400; ++r) {
    float a = next(), b = next(), c = next(), d = next(), e = next();
    rows.insert(rows.end(), {a, b, c, d, e});
    targets.push_back(1.0 + 3.0 * a + std::sin(6.0 * b) + (c > 0.5 ? 2.0 : 0.0) + 0.1 * d * e);
  }
  rows[3] = NAN;  // a missing value takes the default branch
  deepen::TrainParams params;
  params.transform = "none";
  params.rounds = 50;
  deepen::TrainedBooster trained = deepen::train_booster(rows, ncols, targets, params);
  TempDir dir;
  write_text(dir.file("model.ubj"), trained.to_ubj());
  deepen::Booster ours = deepen::Booster::load(dir.file("model.ubj"));
  std::vector<double> theirs = trained.predict(rows, ncols);
  std::vector<double> mine = ours.predict(rows, ncols);
  ASSERT_EQ(mine.size(), theirs.size());
  for (size_t i = 0; i < mine.size(); ++i) EXPECT_EQ(static_cast<float>(mine[i]), static_cast<float>(theirs[i])) << i;
}

namespace {

// A small booster trained by XGBoost, and rows to score it on.
struct SmallModel {
  std::vector<float> rows;
  size_t ncols = 4;
  std::string ubj;
};

SmallModel small_model(int rounds) {
  SmallModel m;
  std::vector<double> targets;
  uint32_t x = 11;
  auto next = [&] { return static_cast<float>((x = x * 1664525u + 1013904223u) >> 8) / 16777216.0f; };
  for (int r = 0; r < 200; ++r) {
    float a = next(), b = next(), c = next(), d = next();
    m.rows.insert(m.rows.end(), {a, b, c, d});
    targets.push_back(2.0 + a - b * c + (d > 0.3 ? 1.0 : 0.0));
  }
  m.rows[6] = NAN;
  deepen::TrainParams params;
  params.transform = "none";
  params.rounds = rounds;
  m.ubj = deepen::train_booster(m.rows, m.ncols, targets, params).to_ubj();
  return m;
}

}  // namespace

TEST(Booster, EveryFormOfOneModelScoresAlike) {
  // XGBoost writes typed arrays ([$d#n, [$l#n); UBJSON also allows counted and marker-closed
  // containers and float64 numbers, which nlohmann writes; and the same model as JSON goes
  // through the other reader. All must give XGBoost's numbers to the bit.
  SmallModel m = small_model(20);
  nlohmann::json doc = nlohmann::json::from_ubjson(m.ubj);
  TempDir dir;
  write_text(dir.file("xgboost.ubj"), m.ubj);
  write_text(dir.file("model.json"), doc.dump());
  std::vector<uint8_t> plain = nlohmann::json::to_ubjson(doc);
  std::vector<uint8_t> counted = nlohmann::json::to_ubjson(doc, true);
  std::vector<uint8_t> typed = nlohmann::json::to_ubjson(doc, true, true);
  write_text(dir.file("plain.ubj"), std::string(plain.begin(), plain.end()));
  write_text(dir.file("counted.ubj"), std::string(counted.begin(), counted.end()));
  write_text(dir.file("typed.ubj"), std::string(typed.begin(), typed.end()));
  std::vector<double> want = deepen::Booster::load(dir.file("xgboost.ubj")).predict(m.rows, m.ncols);
  for (const char* name : {"model.json", "plain.ubj", "counted.ubj", "typed.ubj"}) {
    std::vector<double> got = deepen::Booster::load(dir.file(name)).predict(m.rows, m.ncols);
    ASSERT_EQ(got.size(), want.size()) << name;
    for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], want[i]) << name << " row " << i;
  }
}

TEST(Booster, BrokenUbjsonIsAnErrorNeverACrash) {
  SmallModel m = small_model(3);
  TempDir dir;
  auto problem = [&](const std::string& bytes) {
    write_text(dir.file("b.ubj"), bytes);
    try {
      deepen::Booster::load(dir.file("b.ubj"));
    } catch (const deepen::Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  // Cut anywhere, the file is refused.
  for (size_t n = 1; n < m.ubj.size(); ++n) EXPECT_NE(problem(m.ubj.substr(0, n)), "") << "cut at " << n;
  EXPECT_NE(problem(m.ubj + "Z").find("data after the end of the model (1 bytes)"), std::string::npos);
  // A count of 2^60 that the file cannot hold is refused before anything is allocated for it,
  // and so are typed containers of elements that take no bytes.
  const std::string count = "#L\x10" + std::string(7, '\0');
  EXPECT_NE(problem("{i\x01" "a[$d" + count + "}").find("cannot hold"), std::string::npos);
  EXPECT_NE(problem("{i\x01" "a[$Z" + count + "}").find("typed UBJSON container"), std::string::npos);
}

// ---- Extrapolation: kernels beyond a booster's training ranges --------------------------------

namespace {

// Predictor "ranged": stub's energy stump, trained (so its ranges say) on hw 8..32, cin 16..64.
void write_ranged_registry(const TempDir& dir, const std::string& ranges = "{hw: [8, 32], cin: [16, 64]}") {
  write_registry(dir);
  std::string yaml = deepen::test::read_text(dir.file("predictors.yaml"));
  yaml += "- name: ranged\n  version: 1\n  folder: stub\n  purposes: [energy, latency, power]\n"
          "  fusion_rules: rules.yaml\n  kernels:\n    conv-bn-relu:\n"
          "      energy: {booster: energy.json, transform: log, ranges: " +
          ranges + "}\n      latency: latency.json\n";
  write_text(dir.file("predictors.yaml"), yaml);
}

std::vector<deepen::Kernel> conv_kernels(const std::string& rows) {
  deepen::DatasetReadOptions o;
  o.require_target = false;
  return deepen::kernels_from_rows(
      deepen::parse_dataset_csv("kernel,hw,cin,cout,ks,stride\n" + rows, "kernels.csv", o).rows);
}

}  // namespace

TEST(Registry, RangesAreReadInSchemaOrder) {
  TempDir dir;
  write_ranged_registry(dir);
  deepen::Registry reg = deepen::load_registry(dir.path());
  const auto& spec = reg.find("ranged").kernels.at("conv-bn-relu").at("energy");
  const auto& names = deepen::find_schema("conv-bn-relu")->feature_names;
  ASSERT_EQ(spec.ranges.size(), names.size());
  EXPECT_EQ(spec.ranges[0].min, 8);  // hw
  EXPECT_EQ(spec.ranges[0].max, 32);
  EXPECT_EQ(spec.ranges[1].min, 16);  // cin
  EXPECT_EQ(spec.ranges[1].max, 64);
  // Features the entry leaves out are unbounded; entries without ranges have none.
  EXPECT_TRUE(std::isinf(spec.ranges[2].min) && std::isinf(spec.ranges[2].max));
  EXPECT_TRUE(reg.find("stub").kernels.at("conv-bn-relu").at("energy").ranges.empty());
}

TEST(Registry, BadRangesAreClearErrors) {
  struct Case {
    std::string ranges, words;
  };
  for (const Case& c : std::vector<Case>{
           {"{hw: [8, 32], width: [1, 2]}", "'width' is not a feature of conv-bn-relu"},
           {"{hw: [32, 8]}", "'hw' has min 32 > max 8"},
           {"{hw: [8, big]}", "'hw' must be [min, max] of two numbers, not [8, big]"},
           {"{hw: [8, .nan]}", "two numbers"},
           {"{hw: 8}", "'hw' must be [min, max]"},
           {"{hw: [1, 2, 3]}", "'hw' must be [min, max]"},
           {"[8, 32]", "'ranges' must map feature names"}}) {
    TempDir dir;
    write_ranged_registry(dir, c.ranges);
    try {
      deepen::load_registry(dir.path());
      ADD_FAILURE() << "no error for ranges " << c.ranges;
    } catch (const deepen::Error& e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find(c.words), std::string::npos) << msg;
      EXPECT_NE(msg.find("predictor 'ranged': kernel 'conv-bn-relu' energy"), std::string::npos) << msg;
    }
  }
  // Ranges of a kernel type without a schema cannot be checked.
  TempDir dir;
  EXPECT_THROW(deepen::parse_registry("- name: a\n  version: 1\n  kernels:\n    nosuch:\n      energy: "
                                      "{booster: b.json, ranges: {hw: [1, 2]}}\n",
                                      dir.path(), "r"),
               deepen::Error);
}

TEST(Predictor, KernelsOutsideTheTrainingRangesAreFlagged) {
  TempDir dir;
  write_ranged_registry(dir);
  deepen::Predictor p = deepen::Predictor::load(deepen::load_registry(dir.path()), "ranged");
  // Inside every range (bounds included), above hw and cin, below cin.
  auto kernels = conv_kernels("conv-bn-relu,16,32,32,3,1\nconv-bn-relu,8,64,32,3,1\nconv-bn-relu,224,512,64,3,1\n"
                              "conv-bn-relu,16,8,32,3,1\n");
  auto est = p.estimate(kernels);
  EXPECT_FALSE(est[0].extrapolated);
  EXPECT_EQ(est[0].extrapolated_why, "");
  EXPECT_FALSE(est[1].extrapolated) << est[1].extrapolated_why;
  EXPECT_TRUE(est[2].extrapolated);
  EXPECT_EQ(est[2].extrapolated_why, "hw 224 > 32, cin 512 > 64");
  EXPECT_TRUE(est[3].extrapolated);
  EXPECT_EQ(est[3].extrapolated_why, "cin 8 < 16");
  for (const auto& e : est) EXPECT_EQ(e.source, deepen::Source::Trained);

  // Latency comes from a booster without ranges: nothing is flagged for it. Power is energy over
  // latency: it extrapolates where the energy booster does, and says which booster.
  deepen::PredictOptions latency, power;
  latency.purpose = deepen::Purpose::Latency;
  power.purpose = deepen::Purpose::Power;
  for (const auto& e : p.estimate(kernels, latency)) EXPECT_FALSE(e.extrapolated);
  auto by_power = p.estimate(kernels, power);
  EXPECT_FALSE(by_power[0].extrapolated);
  EXPECT_TRUE(by_power[2].extrapolated);
  EXPECT_EQ(by_power[2].extrapolated_why, "energy booster: hw 224 > 32, cin 512 > 64");

  // The share is weighted by the estimate: 1 mJ inside (hw 16), e mJ outside (hw 224).
  auto two = conv_kernels("conv-bn-relu,16,32,32,3,1\nconv-bn-relu,224,32,32,3,1\n");
  deepen::ModelReport rep = deepen::summarise("m", two, p.estimate(two), deepen::Purpose::Energy);
  EXPECT_EQ(rep.extrapolated_count, 1u);
  EXPECT_NEAR(rep.extrapolated_share, std::exp(1.0) / (1 + std::exp(1.0)), 1e-9);
  // By latency both kernels take 2 ms, and the latency booster knows no ranges.
  deepen::ModelReport by_latency = deepen::summarise("m", two, p.estimate(two, latency), deepen::Purpose::Latency);
  EXPECT_EQ(by_latency.extrapolated_count, 0u);
  EXPECT_EQ(by_latency.extrapolated_share, 0.0);
  // A model's power is its energy over its latency: the share is by energy.
  deepen::ModelReport by_power_rep = deepen::summarise("m", two, p.estimate(two, power), deepen::Purpose::Power);
  EXPECT_NEAR(by_power_rep.extrapolated_share, std::exp(1.0) / (1 + std::exp(1.0)), 1e-9);
}

TEST(Predictor, RangeBoundsHaveATinyRelativeTolerance) {
  const std::vector<std::string> names = {"a", "b"};
  const std::vector<deepen::FeatureRange> ranges = {{0.1, 0.3}, {1000, 2000}};
  // 0.1f and 0.3f lie a float's rounding away from the decimal bounds: inside.
  float inside[] = {0.1f, 2000.0005f};
  EXPECT_EQ(deepen::outside_ranges(inside, ranges, names), "");
  float outside[] = {0.3001f, 999.9f};
  EXPECT_EQ(deepen::outside_ranges(outside, ranges, names), "a 0.3001 > 0.3, b 999.9 < 1000");
  EXPECT_EQ(deepen::outside_ranges(outside, {}, names), "");  // unknown ranges: nothing to say
}

TEST(Report, ExtrapolationInTableJsonAndCsv) {
  TempDir dir;
  write_ranged_registry(dir);
  deepen::Predictor p = deepen::Predictor::load(deepen::load_registry(dir.path()), "ranged");
  auto two = conv_kernels("conv-bn-relu,16,32,32,3,1\nconv-bn-relu,224,32,32,3,1\n");
  std::vector<deepen::ModelReport> reps = {deepen::summarise("m.onnx", two, p.estimate(two))};
  deepen::ReportContext ctx;
  ctx.per_kernel = true;
  std::ostringstream table, json, csv, summary_csv;
  deepen::write_table(table, reps, ctx);
  EXPECT_NE(table.str().find("1 kernel(s) extrapolate beyond their predictor's training data (73% of the estimate)"),
            std::string::npos)
      << table.str();
  EXPECT_NE(table.str().find("extrapolated: hw 224 > 32\n"), std::string::npos) << table.str();
  deepen::write_json(json, reps, ctx);
  auto j = nlohmann::json::parse(json.str());
  const auto& m = j["models"][0];
  EXPECT_EQ(m["extrapolated_kernels"], 1);
  EXPECT_NEAR(m["extrapolated_share"].get<double>(), std::exp(1.0) / (1 + std::exp(1.0)), 1e-9);
  EXPECT_EQ(m["kernel_list"][0]["extrapolated"], false);
  EXPECT_FALSE(m["kernel_list"][0].contains("extrapolated_why"));
  EXPECT_EQ(m["kernel_list"][1]["extrapolated"], true);
  EXPECT_EQ(m["kernel_list"][1]["extrapolated_why"], "hw 224 > 32");
  deepen::write_csv(csv, reps, ctx);
  EXPECT_NE(csv.str().find(",source,extrapolated,extrapolated_why,latency_source,energy_source,power_source\n"), std::string::npos) << csv.str();
  EXPECT_NE(csv.str().find(",trained,true,hw 224 > 32,,trained,\n"), std::string::npos) << csv.str();
  ctx.per_kernel = false;
  deepen::write_csv(summary_csv, reps, ctx);
  EXPECT_NE(summary_csv.str().find(",params,error,extrapolated_share,"), std::string::npos) << summary_csv.str();
  EXPECT_NE(summary_csv.str().find(",,0.7311,0.0000,0.0000\n"), std::string::npos) << summary_csv.str();
}

// predict_model is what deepen predict (and the Python module) run on each model: the kernels,
// their estimates and the summary, and an error when nothing could be scored for the purpose.
TEST(Report, PredictModelSummarisesAndSaysWhenNothingScored) {
  TempDir dir;
  write_registry(dir);
  deepen::Predictor p = deepen::Predictor::load(deepen::load_registry(dir.path()), "stub", "1.0");
  const std::string path = deepen::test::model("mobilenetv1.onnx");
  deepen::PredictOptions energy;
  deepen::ModelReport r = deepen::predict_model("m.onnx", deepen::load_onnx(path), p, energy);
  auto kernels = deepen::detect_kernels(deepen::load_onnx(path), p.fusion_rules());
  deepen::ModelReport by_hand = deepen::summarise("m.onnx", kernels, p.estimate_model(kernels, energy));
  EXPECT_EQ(r.model, "m.onnx");
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_EQ(r.energy_mj, by_hand.energy_mj);
  EXPECT_EQ(r.kernels.size(), by_hand.kernels.size());
  EXPECT_EQ(r.trained_count, 7u);
  // Only the trained conv kernels give energy (the others are uncovered and add nothing).
  EXPECT_EQ(deepen::source_shares(r, deepen::Purpose::Energy), (std::map<std::string, double>{{"trained", 1.0}}));

  // The MLP has no conv: stub 1.0 scores none of its kernels, and says so.
  deepen::ModelReport mlp =
      deepen::predict_model("mlp.onnx", deepen::load_onnx(deepen::test::model("mlp_opset7.onnx")), p, energy);
  EXPECT_EQ(mlp.error.rfind("no energy could be predicted: none of its ", 0), 0u) << mlp.error;
  EXPECT_NE(mlp.error.find(std::to_string(mlp.kernel_count) + " kernels could be scored"), std::string::npos);
  EXPECT_TRUE(deepen::source_shares(mlp, deepen::Purpose::Energy).empty());
}

TEST(Report, SourceSharesWeighTheEstimateBySource) {
  TempDir dir;
  write_registry(dir);
  write_text(dir.file("predictors.yaml"), deepen::test::read_text(dir.file("predictors.yaml")) + R"(- name: withfallback
  version: 1
  folder: stub
  purposes: [energy, latency]
  fusion_rules: rules.yaml
  kernels:
    conv-bn-relu:
      energy: {booster: energy.json, transform: log}
  fallback:
    energy: {mj_per_gflop: 100, mj_per_mb: 10, mj_per_kernel: 0.5}
    latency: {peak_gflops: 10, bandwidth_gbs: 5, ms_per_kernel: 0.01}
)");
  deepen::Predictor p = deepen::Predictor::load(deepen::load_registry(dir.path()), "withfallback");
  for (deepen::Purpose purpose : {deepen::Purpose::Energy, deepen::Purpose::Latency, deepen::Purpose::Power}) {
    deepen::PredictOptions options;
    options.purpose = purpose;
    deepen::ModelReport r = deepen::predict_model(
        "m", deepen::load_onnx(deepen::test::model("mobilenetv1.onnx")), p, options);
    // By hand: the kernels' numbers (energy for energy and power, latency for latency) by the
    // source of the purpose asked, over the total.
    std::map<std::string, double> want;
    const double total = purpose == deepen::Purpose::Latency ? r.latency_ms : r.energy_mj;
    for (const auto& e : r.estimates) {
      double v = purpose == deepen::Purpose::Latency ? e.latency_ms : e.energy_mj;
      if (v > 0) want[deepen::source_name(e.source_of(purpose))] += v / total;
    }
    auto got = deepen::source_shares(r, purpose);
    ASSERT_EQ(got.size(), want.size()) << deepen::purpose_name(purpose);
    double sum = 0;
    for (const auto& [source, share] : got) {
      EXPECT_NEAR(share, want[source], 1e-12) << source;
      sum += share;
    }
    EXPECT_NEAR(sum, 1.0, 1e-12);
    // Energy: conv kernels trained, the rest from the fallback; latency and power: all fallback.
    EXPECT_EQ(got.count("fallback"), 1u);
    EXPECT_EQ(got.count("trained"), purpose == deepen::Purpose::Energy ? 1u : 0u);
  }
}
