#include "train_helpers.h"

#include <deepen/error.h>
#include <deepen/predict.h>
#include <deepen/schema.h>
#include <deepen/train.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <tuple>

namespace fs = std::filesystem;
using namespace deepen;
using namespace deepen::testing;

namespace {

// The error message of parsing text, or "" when it parsed.
std::string parse_error(const std::string& text, DatasetReadOptions options = {}) {
  try {
    parse_dataset_csv(text, "bad.csv", options);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TrainParams fast_params() {
  TrainParams p;
  p.rounds = 200;
  p.transform = "log";  // trees alone; the log-ratio path is tested through train_predictor
  return p;
}

}  // namespace

// ---- dataset CSV -----------------------------------------------------------------------------

TEST(DatasetCsv, ReadsRowsConfigsTargetsAndExtraColumns) {
  KernelDataset d = parse_dataset_csv(
      "kernel,hw,cin,cout,ks,stride,energy_mj,id\r\n"
      "conv-bn-relu,14,32,64,3,1,0.5,A\r\n"
      "\n"
      "conv-bn-relu,7,64,64,1,2,0.25,\"B,1\"\n",
      "ok.csv");
  ASSERT_EQ(d.rows.size(), 2u);
  EXPECT_EQ(d.rows[0].kernel, "conv-bn-relu");
  EXPECT_EQ(d.rows[0].config.get("cin"), 32);
  EXPECT_EQ(d.rows[1].config.get("stride"), 2);
  EXPECT_EQ(d.rows[1].targets.at("energy_mj"), 0.25);
  EXPECT_EQ(d.rows[1].line, 4u);
  ASSERT_EQ(d.rows[1].extra.size(), 1u);
  EXPECT_EQ(d.rows[1].extra[0].second, "B,1");
  EXPECT_EQ(d.count("energy_mj"), 2u);
  EXPECT_EQ(d.count("latency_ms"), 0u);
}

TEST(DatasetCsv, WriterOutputReadsBack) {
  KernelDataset d = parse_dataset_csv(generated_csv(20, 3), "gen.csv");
  KernelDataset back = parse_dataset_csv(dataset_to_csv(d.rows), "back.csv");
  ASSERT_EQ(back.rows.size(), d.rows.size());
  for (size_t i = 0; i < d.rows.size(); ++i) {
    EXPECT_EQ(config_key(back.rows[i]), config_key(d.rows[i]));
    EXPECT_EQ(back.rows[i].targets, d.rows[i].targets);
  }
}

TEST(DatasetCsv, MissingConfigColumnNamesFileLineAndColumn) {
  std::string e = parse_error("kernel,hw,cin,cout,ks,energy_mj\nconv-bn-relu,14,32,64,3,0.5\n");
  EXPECT_NE(e.find("bad.csv"), std::string::npos) << e;
  EXPECT_NE(e.find("line 2"), std::string::npos) << e;
  EXPECT_NE(e.find("missing column 'stride'"), std::string::npos) << e;
}

TEST(DatasetCsv, MissingKernelColumn) {
  std::string e = parse_error("hw,cin,cout,ks,stride,energy_mj\n14,32,64,3,1,0.5\n");
  EXPECT_NE(e.find("bad.csv: line 1"), std::string::npos) << e;
  EXPECT_NE(e.find("'kernel'"), std::string::npos) << e;
}

TEST(DatasetCsv, MissingTargetColumn) {
  std::string e = parse_error("kernel,hw,cin,cout,ks,stride\nconv-bn-relu,14,32,64,3,1\n");
  EXPECT_NE(e.find("no target column"), std::string::npos) << e;
  DatasetReadOptions configs_only;
  configs_only.require_target = false;
  EXPECT_EQ(parse_error("kernel,hw,cin,cout,ks,stride\nconv-bn-relu,14,32,64,3,1\n", configs_only), "");
}

TEST(DatasetCsv, NonNumericCell) {
  std::string e = parse_error("kernel,hw,cin,cout,ks,stride,energy_mj\nconv-bn-relu,14,3x2,64,3,1,0.5\n");
  EXPECT_NE(e.find("bad.csv: line 2, column 3 (cin)"), std::string::npos) << e;
  EXPECT_NE(e.find("not a number"), std::string::npos) << e;
  e = parse_error("kernel,hw,cin,cout,ks,stride,energy_mj\nconv-bn-relu,14,32,64,3,1,abc\n");
  EXPECT_NE(e.find("line 2, column 7 (energy_mj)"), std::string::npos) << e;
  e = parse_error("kernel,hw,cin,cout,ks,stride,energy_mj\nconv-bn-relu,14,32,64,3,1,nan\n");
  EXPECT_NE(e.find("not a number"), std::string::npos) << e;
}

TEST(DatasetCsv, EmptyCell) {
  std::string e = parse_error("kernel,hw,cin,cout,ks,stride,energy_mj\nconv-bn-relu,14,,64,3,1,0.5\n");
  EXPECT_NE(e.find("line 2, column 3 (cin): empty cell"), std::string::npos) << e;
  e = parse_error("kernel,hw,cin,cout,ks,stride,energy_mj\nconv-bn-relu,14,32,64,3,1,\n");
  EXPECT_NE(e.find("line 2, column 7 (energy_mj): empty cell"), std::string::npos) << e;
}

TEST(DatasetCsv, ZeroOrNegativeTarget) {
  std::string e = parse_error("kernel,hw,cin,cout,ks,stride,energy_mj\nconv-bn-relu,14,32,64,3,1,0\n");
  EXPECT_NE(e.find("line 2, column 7 (energy_mj)"), std::string::npos) << e;
  EXPECT_NE(e.find("positive"), std::string::npos) << e;
  e = parse_error("kernel,hw,cin,cout,ks,stride,latency_ms\nconv-bn-relu,14,32,64,3,1,-1.5\n");
  EXPECT_NE(e.find("line 2, column 7 (latency_ms)"), std::string::npos) << e;
  e = parse_error("kernel,hw,cin,cout,ks,stride,energy_mj\nconv-bn-relu,14,32,0,3,1,1\n");
  EXPECT_NE(e.find("column 4 (cout)"), std::string::npos) << e;
}

TEST(DatasetCsv, UnknownKernelType) {
  std::string e = parse_error("kernel,hw,cin,cout,ks,stride,energy_mj\nwarp-drive,14,32,64,3,1,0.5\n");
  EXPECT_NE(e.find("line 2, column 1 (kernel)"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown kernel type 'warp-drive'"), std::string::npos) << e;
  e = parse_error("kernel,hw,cin,cout,ks,stride,energy_mj\nother:LSTM,14,32,64,3,1,0.5\n");
  EXPECT_NE(e.find("unknown kernel type"), std::string::npos) << e;
  // Checked whole: a misspelt fused op is refused as a misspelt head is.
  e = parse_error("kernel,hw,cin,cout,ks,stride,energy_mj\nconv-bn-rleu,14,32,64,3,1,0.5\n");
  EXPECT_NE(e.find("unknown kernel type 'conv-bn-rleu': 'rleu' is not an op a kernel can fuse"), std::string::npos)
      << e;
  e = parse_error("kernel,hw,cin,cout,ks,stride,energy_mj\nconv--relu,14,32,64,3,1,0.5\n");
  EXPECT_NE(e.find("unknown kernel type 'conv--relu'"), std::string::npos) << e;
  // Every kernel type the detector produces on the test models passes.
  for (const char* ok : {"conv-bn-relu6", "dwconv-bn-hswish", "add-relu", "global-avgpool", "channel-shuffle",
                         "fc-hswish", "bn-relu", "se"})
    EXPECT_EQ(kernel_type_problem(ok), "") << ok;
}

TEST(DatasetCsv, DuplicateHeader) {
  std::string e = parse_error("kernel,hw,cin,cin,ks,stride,energy_mj\nconv-bn-relu,14,32,64,3,1,0.5\n");
  EXPECT_NE(e.find("line 1, column 4"), std::string::npos) << e;
  EXPECT_NE(e.find("duplicate column 'cin'"), std::string::npos) << e;
}

TEST(DatasetCsv, NoRows) {
  EXPECT_NE(parse_error("kernel,hw,cin,cout,ks,stride,energy_mj\n").find("bad.csv: no data rows"),
            std::string::npos);
  EXPECT_NE(parse_error("").find("bad.csv: the file is empty"), std::string::npos);
  EXPECT_NE(parse_error("\n\n").find("empty"), std::string::npos);
}

TEST(DatasetCsv, WrongCellCount) {
  std::string e = parse_error("kernel,hw,cin,cout,ks,stride,energy_mj\nconv-bn-relu,14,32,64,3,1\n");
  EXPECT_NE(e.find("line 2: 6 cells, but the header has 7 columns"), std::string::npos) << e;
}

TEST(DatasetCsv, GarbageNeverCrashes) {
  std::mt19937_64 rng(7);
  const std::string alphabet = "kernel,hwcinout0123456789.-\n\"\r e";
  for (int i = 0; i < 300; ++i) {
    std::string text = "kernel,hw,cin,cout,ks,stride,energy_mj\n";
    size_t n = rng() % 80;
    for (size_t j = 0; j < n; ++j) text += alphabet[rng() % alphabet.size()];
    parse_error(text);  // an Error or a dataset, never a crash
  }
}

// ---- training --------------------------------------------------------------------------------

// The booster must recover a known smooth function of the config on configs it never saw:
// tolerance: MAPE under 10% and at least 80% of held-out rows within ±10%.
TEST(Trainer, RecoversAKnownFunction) {
  KernelDataset train = parse_dataset_csv(generated_csv(1000, 1), "train.csv");
  KernelDataset test = parse_dataset_csv(generated_csv(300, 99), "test.csv");
  std::vector<const DatasetRow*> tr, te;
  std::vector<double> y, measured;
  for (const auto& r : train.rows) {
    tr.push_back(&r);
    y.push_back(r.targets.at("energy_mj"));
  }
  for (const auto& r : test.rows) {
    te.push_back(&r);
    measured.push_back(r.targets.at("energy_mj"));
  }
  size_t ncols = find_schema("conv-bn-relu")->feature_names.size();
  TrainParams trees_only;
  trees_only.transform = "log";
  TrainedBooster b = train_booster(feature_matrix("conv-bn-relu", tr), ncols, y, trees_only);
  Metrics m = compute_metrics(b.predict(feature_matrix("conv-bn-relu", te), ncols), measured);
  EXPECT_LT(m.mape, 10.0);
  EXPECT_GE(m.acc10, 0.80);

  // log-ratio: the base model is fitted on the training rows only, then the trees correct it.
  std::vector<WorkSample> samples;
  std::vector<KernelWork> train_work, test_work;
  for (const DatasetRow* r : tr) {
    train_work.push_back(kernel_work(r->kernel, r->config));
    samples.push_back({train_work.back().flops, train_work.back().bytes, r->targets.at("energy_mj")});
  }
  for (const DatasetRow* r : te) test_work.push_back(kernel_work(r->kernel, r->config));
  WorkModel base = fit_work_model(samples);
  TrainedBooster lr =
      train_booster(feature_matrix("conv-bn-relu", tr), ncols, y, TrainParams{}, train_work, base);
  EXPECT_EQ(lr.spec().transform, "log-ratio");
  Metrics mr = compute_metrics(lr.predict(feature_matrix("conv-bn-relu", te), ncols, test_work), measured);
  EXPECT_LT(mr.mape, 2.0);
  EXPECT_GE(mr.acc10, 0.99);

  // The lead's work-unit transforms train through the same path.
  TrainParams per_flop;
  per_flop.transform = "log-per-flop";
  TrainedBooster pf = train_booster(feature_matrix("conv-bn-relu", tr), ncols, y, per_flop, train_work);
  Metrics mf = compute_metrics(pf.predict(feature_matrix("conv-bn-relu", te), ncols, test_work), measured);
  EXPECT_LT(mf.mape, 10.0);
  EXPECT_THROW(train_booster(feature_matrix("conv-bn-relu", tr), ncols, y, TrainParams{}), Error);  // no work
}

TEST(Trainer, SameDataAndSeedGiveByteIdenticalBoosters) {
  KernelDataset d = parse_dataset_csv(generated_csv(300, 5, true), "gen.csv");
  std::vector<const DatasetRow*> rows;
  std::vector<double> y;
  for (const auto& r : d.rows) {
    rows.push_back(&r);
    y.push_back(r.targets.at("energy_mj"));
  }
  size_t ncols = find_schema("conv-bn-relu")->feature_names.size();
  std::vector<float> x = feature_matrix("conv-bn-relu", rows);
  TrainParams p = fast_params();
  std::string a = train_booster(x, ncols, y, p).to_ubj();
  std::string b = train_booster(x, ncols, y, p).to_ubj();
  EXPECT_FALSE(a.empty());
  EXPECT_TRUE(a == b);
  p.seed = 2;
  EXPECT_FALSE(train_booster(x, ncols, y, p).to_ubj() == a) << "the seed should matter with subsampling";
}

TEST(Trainer, RefusesBadParameters) {
  std::vector<float> x = {1, 2, 3, 4};
  std::vector<double> y = {1, 2};
  TrainParams p;
  p.eta = 0;
  EXPECT_THROW(train_booster(x, 2, y, p), Error);
  p = TrainParams{};
  p.subsample = 1.5;
  EXPECT_THROW(train_booster(x, 2, y, p), Error);
  p = TrainParams{};
  EXPECT_THROW(train_booster(x, 3, y, p), Error);
}

// ---- cross-validation ------------------------------------------------------------------------

TEST(CrossValidation, IdenticalConfigsShareAFoldAndFoldsAreReproducible) {
  std::vector<std::string> keys;
  for (int i = 0; i < 100; ++i) keys.push_back("cfg" + std::to_string(i % 37));
  std::vector<int> folds = group_folds(keys, 5, 1);
  EXPECT_EQ(folds, group_folds(keys, 5, 1));
  std::map<std::string, int> fold_of;
  std::set<int> used;
  for (size_t i = 0; i < keys.size(); ++i) {
    auto [it, fresh] = fold_of.emplace(keys[i], folds[i]);
    if (!fresh) {
      EXPECT_EQ(it->second, folds[i]) << keys[i];
    }
    used.insert(folds[i]);
  }
  EXPECT_EQ(used.size(), 5u);
  EXPECT_NE(folds, group_folds(keys, 5, 2));
  // Fewer groups than folds: one fold per group.
  std::vector<int> few = group_folds({"a", "b", "a"}, 5, 1);
  EXPECT_EQ(few[0], few[2]);
  EXPECT_NE(few[0], few[1]);
}

TEST(CrossValidation, OutOfFoldPredictionsAreHonest) {
  KernelDataset d = parse_dataset_csv(generated_csv(400, 11, true), "gen.csv");
  std::vector<const DatasetRow*> rows;
  std::vector<double> y;
  std::vector<std::string> keys;
  for (const auto& r : d.rows) {
    rows.push_back(&r);
    y.push_back(r.targets.at("energy_mj"));
    keys.push_back(config_key(r));
  }
  size_t ncols = find_schema("conv-bn-relu")->feature_names.size();
  CrossValidation cv = cross_validate(feature_matrix("conv-bn-relu", rows), ncols, y, keys, fast_params());
  EXPECT_EQ(cv.folds, 5);
  EXPECT_EQ(cv.metrics.n, 400u);
  EXPECT_GT(cv.metrics.acc20, 0.7);
  EXPECT_LT(cv.metrics.mape, 25);
}

// ---- fallback --------------------------------------------------------------------------------

TEST(Fallback, EnergyFitRecoversKnownCoefficients) {
  std::vector<WorkSample> s;
  for (double gf : {0.001, 0.01, 0.1, 1.0, 3.0})
    for (double mb : {0.05, 0.5, 5.0, 20.0}) s.push_back({gf * 1e9, mb * 1e6, 0.8 * gf + 0.05 * mb + 0.02});
  FallbackModel m = fit_energy_fallback(s);
  EXPECT_TRUE(m.has_energy);
  EXPECT_NEAR(m.energy_mj_per_gflop, 0.8, 1e-6);
  EXPECT_NEAR(m.energy_mj_per_mb, 0.05, 1e-6);
  EXPECT_NEAR(m.energy_mj_per_kernel, 0.02, 1e-6);
}

TEST(Fallback, EnergyCoefficientsAreNeverNegative) {
  // Energy falling with bytes would need a negative coefficient: the fit clamps it to zero.
  std::vector<WorkSample> s = {{1e9, 1e6, 2.0}, {2e9, 0.5e6, 4.1}, {4e9, 0.1e6, 8.0}, {1e8, 10e6, 0.2}};
  FallbackModel m = fit_energy_fallback(s);
  EXPECT_GE(m.energy_mj_per_gflop, 0);
  EXPECT_GE(m.energy_mj_per_mb, 0);
  EXPECT_GE(m.energy_mj_per_kernel, 0);
}

TEST(Fallback, LatencyRooflineRecoversPeakAndBandwidth) {
  // 100 GFLOP/s, 10 GB/s, 0.05 ms a kernel: compute-bound and memory-bound kernels both.
  std::vector<WorkSample> s;
  for (double flops : {1e6, 1e8, 1e9, 1e10})
    for (double bytes : {1e4, 1e6, 1e7, 1e8})
      s.push_back({flops, bytes, std::max(flops / 100e6, bytes / 10e6) + 0.05});
  FallbackModel m = fit_latency_fallback(s);
  EXPECT_NEAR(m.peak_gflops, 100, 1e-6);
  EXPECT_NEAR(m.bandwidth_gbs, 10, 1e-6);
  EXPECT_NEAR(m.latency_ms_per_kernel, 0.05, 1e-6);
}

TEST(Fallback, SpecsFillWhatTheDataLacks) {
  KernelDataset d = parse_dataset_csv(generated_csv(50, 2), "gen.csv");
  DeviceSpecs specs{200, 20, 4};
  FallbackModel m = build_fallback(d, specs);
  EXPECT_TRUE(m.has_energy);   // fitted
  EXPECT_TRUE(m.has_latency);  // from specs
  EXPECT_EQ(m.peak_gflops, 200);
  EXPECT_EQ(m.bandwidth_gbs, 20);
  EXPECT_NEAR(m.energy_mj_per_gflop, 0.8, 0.05);
  EXPECT_NE(m.note.find("published specs"), std::string::npos);
  // Latency data only: energy from power / peak.
  KernelDataset lat = parse_dataset_csv("kernel,hw,cin,cout,ks,stride,latency_ms\nconv-bn-relu,14,32,64,3,1,0.5\n"
                                        "conv-bn-relu,28,32,64,3,1,1.9\n",
                                        "lat.csv");
  FallbackModel l = build_fallback(lat, specs);
  EXPECT_TRUE(l.has_latency);
  // At 4 W, a GFLOP at the sustained half of 200 GFLOP/s takes 10 ms: 40 mJ; a MB at half of
  // 20 GB/s takes 0.1 ms: 0.4 mJ; the 0.01 ms a kernel pays: 0.04 mJ.
  EXPECT_NEAR(l.energy_mj_per_gflop, 1000.0 * 4 / (200 * 0.5), 1e-9);
  EXPECT_NEAR(l.energy_mj_per_mb, 4.0 / (20 * 0.5), 1e-9);
  EXPECT_NEAR(l.energy_mj_per_kernel, 4.0 * 0.01, 1e-12);
}

TEST(Fallback, SpecRooflineUsesTheRuntimesThreadsSustainedRateAndOverhead) {
  // A 4-core chip of 160 GFLOP/s and 20 GB/s, measured on 1 thread that sustains 40% of peak,
  // 0.03 ms a kernel: 16 GFLOP/s and 8 GB/s.
  DeviceSpecs specs;
  specs.peak_gflops = 160;
  specs.bandwidth_gbs = 20;
  specs.cores = 4;
  specs.threads = 1;
  specs.sustained = 0.4;
  specs.kernel_overhead_ms = 0.03;
  FallbackModel m = build_fallback(KernelDataset{}, specs);
  ASSERT_TRUE(m.has_latency);
  EXPECT_DOUBLE_EQ(m.effective_gflops(), 16);
  EXPECT_DOUBLE_EQ(m.effective_gbs(), 8);
  // A 3x3 conv of 64 to 64 channels on 56x56: 115.6 MMAC, 231.2 MFLOP: 14.45 ms compute-bound.
  double flops = 2.0 * 56 * 56 * 64 * 64 * 9;
  EXPECT_NEAR(m.latency_ms(flops, 1.7e6), flops / 16e6 + 0.03, 1e-9);
  // 16 MB of element-wise traffic: memory-bound at 8 GB/s, 2 ms.
  EXPECT_NEAR(m.latency_ms(4e6, 16e6), 2.0 + 0.03, 1e-9);
  EXPECT_NE(m.note.find("1 thread(s) of 4 cores, 40% of peak sustained (16 GFLOP/s, 8 GB/s), 0.03 ms per kernel"),
            std::string::npos)
      << m.note;
  // Without a core count the peak is the runtime's whole; threads without cores, more threads
  // than cores, or a sustained share outside (0, 1] are refused.
  specs.cores = 0;
  specs.threads = 0;
  EXPECT_DOUBLE_EQ(build_fallback(KernelDataset{}, specs).effective_gflops(), 64);
  for (auto [threads, cores, sustained] : {std::tuple{2.0, 0.0, 0.5}, {8.0, 4.0, 0.5}, {1.0, 4.0, 0.0},
                                           {1.0, 4.0, 1.5}}) {
    specs.threads = threads;
    specs.cores = cores;
    specs.sustained = sustained;
    EXPECT_THROW(build_fallback(KernelDataset{}, specs), Error) << threads << " " << cores << " " << sustained;
  }
}

// ---- registry --------------------------------------------------------------------------------

namespace {
const char* kExistingRegistry =
    "# hand-written registry: this comment must survive\n"
    "- name: other_device\n"
    "  version: 2.0   # a comment inside an entry\n"
    "  device: something\n"
    "  purposes: [energy]\n";

std::string entry(const std::string& name, const std::string& version, const std::string& device) {
  return fmt::format("- name: {}\n  version: {}\n  device: {}\n  purposes: [energy]\n", name, version, device);
}
}  // namespace

TEST(RegistryWriter, AppendsAndKeepsOtherEntriesText) {
  TempDir dir;
  dir.write("predictors.yaml", kExistingRegistry);
  write_registry_entry(dir.path(), "mine", "1.0", "mine", entry("mine", "1.0", "a"), {{"x.txt", "hello"}}, false);
  std::string text = read_file(dir.file("predictors.yaml"));
  EXPECT_EQ(text.rfind(kExistingRegistry, 0), 0u) << text;
  EXPECT_EQ(read_file(dir.file("mine/x.txt")), "hello");
  Registry r = load_registry(dir.path());
  EXPECT_EQ(r.entries.size(), 2u);
  EXPECT_EQ(next_version(dir.path(), "mine"), "1.1");
  EXPECT_EQ(next_version(dir.path(), "other_device"), "2.1");
  EXPECT_EQ(next_version(dir.path(), "new_one"), "1.0");
}

TEST(RegistryWriter, NeverOverwritesWithoutForce) {
  TempDir dir;
  dir.write("predictors.yaml", kExistingRegistry);
  try {
    write_registry_entry(dir.path(), "other_device", "2.0", "other_device", entry("other_device", "2.0", "new"), {},
                         false);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("already exists"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_file(dir.file("predictors.yaml")), kExistingRegistry);
  write_registry_entry(dir.path(), "other_device", "2.0", "other_device", entry("other_device", "2.0", "new"), {},
                       true);
  Registry r = load_registry(dir.path());
  ASSERT_EQ(r.entries.size(), 1u);
  EXPECT_EQ(r.entries[0].device, "new");
  EXPECT_EQ(read_file(dir.file("predictors.yaml")).rfind("# hand-written registry", 0), 0u);
}

TEST(RegistryWriter, AFailedWriteLeavesTheRegistryAsItWas) {
  TempDir dir;
  dir.write("predictors.yaml", kExistingRegistry);
  // The second file's target is a non-empty folder: its rename fails after the first succeeded.
  fs::create_directories(dir.file("mine/blocked/inside"));
  EXPECT_THROW(write_registry_entry(dir.path(), "mine", "1.0", "mine", entry("mine", "1.0", "a"),
                                    {{"a.txt", "a"}, {"blocked", "b"}}, false),
               Error);
  EXPECT_EQ(read_file(dir.file("predictors.yaml")), kExistingRegistry);
  for (const auto& f : fs::recursive_directory_iterator(dir.path()))
    EXPECT_EQ(f.path().filename().string().find(".tmp-"), std::string::npos) << f.path();
}

TEST(RegistryWriter, RefusesAnEntryThatDoesNotParse) {
  TempDir dir;
  EXPECT_THROW(write_registry_entry(dir.path(), "x", "1.0", "x", "- name: x\n", {}, false), Error);
  EXPECT_FALSE(fs::exists(dir.file("predictors.yaml")));
}

// ---- train, register, predict ----------------------------------------------------------------

TEST(TrainPredictor, TrainRegisterPredictRoundTrip) {
  TempDir dir;
  std::string csv = dir.write("kernels.csv", generated_csv(300, 21, true));
  TrainRequest q = train_request({csv}, "gen_device", dir.file("predictors"), "a generated device");
  q.framework = "none";
  q.params = fast_params();
  q.params.transform = "log-ratio";
  std::vector<std::string> progress;
  TrainResult r = train_predictor(q, [&](const std::string& s) { progress.push_back(s); });
  EXPECT_EQ(r.version, "1.0");
  ASSERT_EQ(r.kernels.size(), 1u);
  EXPECT_FALSE(progress.empty());
  EXPECT_NE(progress[0].find("training conv-bn-relu energy: 300 rows"), std::string::npos) << progress[0];

  Registry reg = load_registry(q.predictors_dir);
  const PredictorEntry& e = reg.find("gen_device");
  const ScorerSpec& spec = e.kernels.at("conv-bn-relu").at("energy");
  EXPECT_EQ(spec.transform, "log-ratio");
  // The generated data is 0.8 mJ/GFLOP + 0.05 mJ/MB + 0.02 mJ with 2% noise: the base finds it.
  EXPECT_NEAR(spec.base_per_gflop, 0.8, 0.05);
  EXPECT_NEAR(spec.base_per_mb, 0.05, 0.01);
  EXPECT_TRUE(e.fallback.has_energy);
  EXPECT_NE(e.data.find("kernels.csv (300 rows)"), std::string::npos) << e.data;
  EXPECT_EQ(e.accuracy["conv-bn-relu"]["energy"]["n"].as<int>(), 300);
  EXPECT_NE(e.accuracy["conv-bn-relu"]["energy"]["method"].as<std::string>().find("5-fold"), std::string::npos);

  // The registered booster predicts what the trained one does.
  Predictor p = Predictor::load(reg, "gen_device");
  KernelDataset d = read_dataset_csv(csv);
  std::vector<Estimate> est = p.estimate(kernels_from_rows(d.rows));
  std::vector<double> predicted, measured;
  for (size_t i = 0; i < d.rows.size(); ++i) {
    EXPECT_EQ(est[i].source, deepen::Source::Trained);
    predicted.push_back(est[i].energy_mj);
    measured.push_back(d.rows[i].targets.at("energy_mj"));
  }
  EXPECT_GT(compute_metrics(predicted, measured).acc10, 0.8);  // training data: a sanity check only

  // A second run is a new version; the same version again is refused.
  TrainResult r2 = train_predictor(q);
  EXPECT_EQ(r2.version, "1.1");
  q.version = "1.1";
  EXPECT_THROW(train_predictor(q), Error);
  q.force = true;
  EXPECT_NO_THROW(train_predictor(q));
  EXPECT_EQ(load_registry(q.predictors_dir).entries.size(), 2u);
  // Per-version booster files: both versions still load.
  EXPECT_NO_THROW(Predictor::load(load_registry(q.predictors_dir), "gen_device", "1.0"));
  EXPECT_TRUE(fs::exists(dir.file("predictors/gen_device/conv-bn-relu.energy.v1.0.ubj")));
  EXPECT_TRUE(fs::exists(dir.file("predictors/gen_device/conv-bn-relu.energy.v1.1.ubj")));
}

// Two kernel types (one without FLOPs in its work: concat) and two targets: four boosters, and a
// latency fallback fitted on the latency rows.
TEST(TrainPredictor, SeveralKernelTypesAndPurposes) {
  std::string csv = "kernel,hw,cin,cout,ks,stride,inputs,latency_ms,energy_mj\n";
  std::mt19937_64 rng(3);
  for (int i = 0; i < 60; ++i) {
    int hw = 7 << (rng() % 4), cin = 16 << (rng() % 4), cout = 16 << (rng() % 4), ks = 1 + 2 * (rng() % 2);
    double flops = 2.0 * hw * hw * cin * cout * ks * ks, bytes = 4.0 * (hw * hw * (cin + cout) + cin * cout * ks * ks);
    csv += fmt::format("conv-bn-relu,{},{},{},{},1,,{:.6g},{:.6g}\n", hw, cin, cout, ks,
                       flops / 50e6 + bytes / 5e6 + 0.01, flops / 1e9 + 0.02);
    int n = 2 + static_cast<int>(rng() % 3);
    csv += fmt::format("concat,{},{},,,,{},{:.6g},{:.6g}\n", hw, cin, n, 8.0 * hw * hw * cin / 5e6 + 0.005,
                       8.0 * hw * hw * cin / 1e8 + 0.001);
  }
  TempDir dir;
  TrainRequest q = train_request({dir.write("k.csv", csv)}, "multi", dir.file("p"));
  q.params.rounds = 100;
  TrainResult r = train_predictor(q);
  ASSERT_EQ(r.kernels.size(), 4u);
  EXPECT_TRUE(r.fallback.has_latency);
  EXPECT_TRUE(r.fallback.has_energy);
  Registry reg = load_registry(q.predictors_dir);
  Predictor p = Predictor::load(reg, "multi");
  EXPECT_TRUE(p.supports(Purpose::Power));
  KernelDataset d = read_dataset_csv(q.datasets[0]);
  std::vector<Estimate> est = p.estimate(kernels_from_rows(d.rows));
  for (const auto& e : est) {
    EXPECT_EQ(e.source, deepen::Source::Trained);
    EXPECT_GT(e.latency_ms, 0);
    EXPECT_GT(e.energy_mj, 0);
    EXPECT_GT(e.power_mw, 0);
  }
  // The rows hold energy and latency: the power envelope is half to twice their measured power.
  double lo = INFINITY, hi = 0;
  for (const auto& row : d.rows) {
    double mw = row.targets.at("energy_mj") / row.targets.at("latency_ms") * 1000;
    lo = std::min(lo, mw), hi = std::max(hi, mw);
  }
  ASSERT_TRUE(p.entry().power_envelope.known());
  EXPECT_NEAR(p.entry().power_envelope.min_mw, lo / 2, 1e-6 * lo);
  EXPECT_NEAR(p.entry().power_envelope.max_mw, hi * 2, 1e-6 * hi);
  EXPECT_NE(p.entry().power_envelope.note.find("measured on 120 rows"), std::string::npos)
      << p.entry().power_envelope.note;
  // Published figures given at training win over the data's.
  q.power_envelope.min_mw = 100, q.power_envelope.max_mw = 5000, q.power_envelope.note = "spec sheet";
  q.version = "2.0";
  train_predictor(q);
  Predictor p2 = Predictor::load(load_registry(q.predictors_dir), "multi", "2.0");
  EXPECT_EQ(p2.entry().power_envelope.min_mw, 100);
  EXPECT_EQ(p2.entry().power_envelope.max_mw, 5000);
  EXPECT_EQ(p2.entry().power_envelope.note, "spec sheet");
  // Energy alone: no power measured, no envelope.
  KernelDataset energy_only = parse_dataset_csv("kernel,hw,cin,cout,ks,stride,energy_mj\nconv-bn-relu,14,32,64,3,1,0.5\n",
                                                "e.csv");
  EXPECT_FALSE(measured_power_envelope(energy_only).known());
}

TEST(TrainPredictor, TuneRecordsTheChosenParameters) {
  TempDir dir;
  TrainRequest q = train_request({dir.write("k.csv", generated_csv(60, 12, true))}, "tuned", dir.file("p"));
  q.tune = true;
  TrainResult r = train_predictor(q);
  ASSERT_EQ(r.kernels.size(), 1u);
  const YAML::Node acc = load_registry(q.predictors_dir).find("tuned").accuracy["conv-bn-relu"]["energy"];
  EXPECT_EQ(acc["params"]["max_depth"].as<int>(), r.kernels[0].params.max_depth);
  EXPECT_NE(acc["method"].as<std::string>().find("tuned on the same folds"), std::string::npos);
}

TEST(TrainPredictor, SameSeedGivesByteIdenticalBoosterFiles) {
  TempDir dir;
  std::string csv = dir.write("kernels.csv", generated_csv(200, 4, true));
  TrainRequest q = train_request({csv}, "a", dir.file("p1"));
  q.params = fast_params();
  train_predictor(q);
  q.predictors_dir = dir.file("p2");
  train_predictor(q);
  std::string a = read_file(dir.file("p1/a/conv-bn-relu.energy.v1.0.ubj"));
  EXPECT_FALSE(a.empty());
  EXPECT_TRUE(a == read_file(dir.file("p2/a/conv-bn-relu.energy.v1.0.ubj")));
  // The entries too (the data paths and figures are the same).
  EXPECT_EQ(read_file(dir.file("p1/predictors.yaml")), read_file(dir.file("p2/predictors.yaml")));
}

TEST(TrainPredictor, BadDatasetLeavesNothingBehind) {
  TempDir dir;
  std::string good = dir.write("good.csv", generated_csv(50, 1));
  std::string bad = dir.write("bad.csv", "kernel,hw,cin,cout,ks,stride,energy_mj\nconv-bn-relu,14,32,64,3,1,-2\n");
  TrainRequest q = train_request({good, bad}, "x", dir.file("predictors"));
  try {
    train_predictor(q);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.csv: line 2, column 7 (energy_mj)"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir.file("predictors/predictors.yaml")));
}

TEST(TrainPredictor, RefusesBadNamesAndMissingPurposes) {
  TempDir dir;
  std::string csv = dir.write("k.csv", generated_csv(30, 1));
  TrainRequest q = train_request({csv}, "../escape", dir.file("predictors"), "");
  EXPECT_THROW(train_predictor(q), Error);
  q.name = "fine";
  q.purposes = {"latency"};
  try {
    train_predictor(q);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("latency_ms"), std::string::npos) << e.what();
  }
}

// ---- DeepEn2023 import -----------------------------------------------------------------------

TEST(Deepen2023Import, JoinsConfigsAndEnergiesOnKernelIds) {
  std::string configs = R"({"conv-bn-relu": {
      "AAA": {"model": "/x", "shapes": [[14,14,32]], "config": {"HW": 14, "CIN": 32, "COUT": 64, "KERNEL_SIZE": 3, "STRIDES": 1}},
      "BBB": {"config": {"HW": 7, "CIN": 64, "COUT": 64, "KERNEL_SIZE": 1, "STRIDES": 2}},
      "CCC": {"config": {"HW": 7, "CIN": 64, "COUT": 64, "KERNEL_SIZE": 1, "STRIDES": 2}}}})";
  std::string energies = R"({"conv-bn-relu": {"BBB": {"energy": "0.25"}, "AAA": {"energy": 1.5}}})";
  size_t skipped = 0;
  std::vector<DatasetRow> rows = import_deepen2023(configs, "c.json", energies, "e.json", "energy_mj", &skipped);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(skipped, 1u);
  EXPECT_EQ(rows[0].config.get("ks"), 3);
  EXPECT_EQ(rows[0].targets.at("energy_mj"), 1.5);
  EXPECT_EQ(rows[1].targets.at("energy_mj"), 0.25);
  KernelDataset d = parse_dataset_csv(dataset_to_csv(rows), "out.csv");
  EXPECT_EQ(d.header, (std::vector<std::string>{"kernel", "hw", "cin", "cout", "ks", "stride", "energy_mj", "id"}));
  EXPECT_EQ(d.rows[1].extra[0].second, "BBB");
}

TEST(Deepen2023Import, BadInput) {
  EXPECT_THROW(import_deepen2023("{", "c.json", "{}", "e.json", "energy_mj"), Error);
  EXPECT_THROW(import_deepen2023(R"({"conv-bn-relu": {"A": {"config": {"HW": 1}}}})", "c.json",
                                 R"({"conv-bn-relu": {"A": {"energy": 1}}})", "e.json", "energy_mj"),
               Error);
  EXPECT_THROW(import_deepen2023(R"({"conv-bn-relu": {"A": {"config": {"HW": 1, "CIN": 1, "COUT": 1, "KERNEL_SIZE": 1,
                                 "STRIDES": 1}}}})",
                                 "c.json", R"({"conv-bn-relu": {"A": {"energy": "-1"}}})", "e.json", "energy_mj"),
               Error);
}

// ---- the CLI ---------------------------------------------------------------------------------

TEST(TrainCli, TrainsRegistersAndPredictsKernels) {
  TempDir dir;
  std::string csv = dir.write("kernels.csv", generated_csv(200, 8, true));
  std::string reg = dir.file("predictors");
  RunResult t = run_deepen(fmt::format("train --dataset {} --name cli_dev --device 'Generated device' --framework "
                                       "none --predictors {} --rounds 100 --seed 3",
                                       csv, reg));
  ASSERT_EQ(t.exit_code, 0) << t.out;
  EXPECT_NE(t.out.find("training conv-bn-relu energy"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("registered cli_dev 1.0"), std::string::npos) << t.out;

  RunResult again = run_deepen(fmt::format("train --dataset {} --name cli_dev --device d --framework f --predictors {} "
                                           "--rounds 100 --predictor-version 1.0",
                                           csv, reg));
  EXPECT_EQ(again.exit_code, 2) << again.out;
  EXPECT_NE(again.out.find("already exists"), std::string::npos) << again.out;

  std::string configs = dir.write("configs.csv", "kernel,hw,cin,cout,ks,stride,note\nconv-bn-relu,14,32,64,3,1,x\n"
                                                 "conv-bn-relu,7,64,128,1,2,\"a,b\"\nconv-bn-relu,448,32,64,3,1,far\n");
  RunResult p = run_deepen(
      fmt::format("predict --predictor cli_dev --purpose energy --kernels {} --predictors {}", configs, reg));
  ASSERT_EQ(p.exit_code, 0) << p.out;
  EXPECT_NE(p.out.find("kernel,hw,cin,cout,ks,stride,note,predicted_energy_mj,source,extrapolated,extrapolated_why\n"),
            std::string::npos)
      << p.out;
  EXPECT_NE(p.out.find("conv-bn-relu,7,64,128,1,2,\"a,b\","), std::string::npos) << p.out;
  EXPECT_NE(p.out.find(",trained,false,\n"), std::string::npos) << p.out;
  // The generated rows reach hw 224: a 448 input lies beyond them.
  EXPECT_NE(p.out.find(",far,"), std::string::npos) << p.out;
  EXPECT_NE(p.out.find(",trained,true,\"hw 448 > 224, "), std::string::npos) << p.out;

  RunResult j = run_deepen(fmt::format(
      "predict --predictor cli_dev --purpose energy --kernels {} --predictors {} --format json", configs, reg));
  ASSERT_EQ(j.exit_code, 0) << j.out;
  EXPECT_NE(j.out.find("\"predicted_energy_mj\""), std::string::npos) << j.out;
  EXPECT_NE(j.out.find("\"extrapolated\": false"), std::string::npos) << j.out;
  EXPECT_NE(j.out.find("\"extrapolated_why\": \"hw 448 > 224, "), std::string::npos) << j.out;

  RunResult both = run_deepen(fmt::format("predict --predictor cli_dev --kernels {} --modelpath x.onnx --predictors {}",
                                          configs, reg));
  EXPECT_EQ(both.exit_code, 2) << both.out;

  RunResult list = run_deepen(fmt::format("list --predictors {}", reg));
  EXPECT_NE(list.out.find("cli_dev 1.0"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("5-fold group CV, seed 3"), std::string::npos) << list.out;
}

TEST(TrainCli, PowerEnvelopeFlagIsRecordedAndChecked) {
  TempDir dir;
  std::string csv = dir.write("kernels.csv", generated_csv(60, 8, true));
  std::string reg = dir.file("predictors");
  RunResult t = run_deepen(fmt::format("train --dataset {} --name env_dev --device d --framework f --predictors {} "
                                       "--rounds 20 --power-envelope-w 0.5 4 --power-envelope-note 'data sheet'",
                                       csv, reg));
  ASSERT_EQ(t.exit_code, 0) << t.out;
  EXPECT_NE(t.out.find("power envelope: 0.5-4 W (data sheet)"), std::string::npos) << t.out;
  EXPECT_NE(deepen::test::read_text(reg + "/predictors.yaml")
                .find("power_envelope: {min_w: 0.5, max_w: 4, note: data sheet}"),
            std::string::npos);
  // A name that differs from a registered one only in case would shadow it.
  RunResult shadow = run_deepen(fmt::format(
      "train --dataset {} --name ENV_dev --device d --framework f --predictors {} --rounds 20", csv, reg));
  EXPECT_EQ(shadow.exit_code, 2) << shadow.out;
  EXPECT_NE(shadow.out.find("already registered as 'env_dev'"), std::string::npos) << shadow.out;
  for (const char* bad : {"--power-envelope-w 4 0.5", "--power-envelope-w -1 2", "--power-envelope-w 1"}) {
    RunResult b = run_deepen(fmt::format("train --dataset {} --name env_bad --device d --framework f --predictors {} "
                                         "--rounds 20 {}",
                                         csv, reg, bad));
    EXPECT_EQ(b.exit_code, 2) << bad << ": " << b.out;
  }
}

TEST(TrainCli, BadCsvIsAUserError) {
  TempDir dir;
  std::string csv = dir.write("k.csv", "kernel,hw,cin,cout,ks,stride,energy_mj\nconv-bn-relu,14,32,64,3,1,zero\n");
  RunResult t = run_deepen(fmt::format("train --dataset {} --name x --device d --framework f --predictors {}", csv,
                                       dir.file("p")));
  EXPECT_EQ(t.exit_code, 2);
  EXPECT_NE(t.out.find("k.csv: line 2, column 7 (energy_mj): 'zero' is not a number"), std::string::npos) << t.out;
  EXPECT_FALSE(fs::exists(dir.file("p/predictors.yaml")));
}

// XGBoost is loaded when training starts: without it, train says what to install, and predict
// (deepen's own tree walker) does not need it.
TEST(TrainCli, WithoutXGBoostTrainSaysWhatToInstallAndPredictStillWorks) {
  TempDir dir;
  std::string csv = dir.write("kernels.csv", generated_csv(60, 8, true));
  const std::string no_xgboost = "DEEPEN_XGBOOST_LIBRARY=/nonexistent/libxgboost.so";
  RunResult t = run_deepen(
      fmt::format("train --dataset {} --name x --device d --framework f --predictors {}", csv, dir.file("p")),
      no_xgboost);
  EXPECT_EQ(t.exit_code, 2) << t.out;
  EXPECT_NE(t.out.find("/nonexistent/libxgboost.so"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("libxgboost0"), std::string::npos) << t.out;
  EXPECT_FALSE(fs::exists(dir.file("p/predictors.yaml")));
  RunResult p = run_deepen(
      fmt::format("predict -p cortexA76cpu_tflite -m {}/mlp_opset7.onnx", std::string(DEEPEN_TEST_MODELS)), no_xgboost);
  EXPECT_EQ(p.exit_code, 0) << p.out;
}

TEST(DatasetCli, ImportWritesTheCsvFormat) {
  TempDir dir;
  std::string c = dir.write("c.json", R"({"conv-bn-relu": {"A": {"config": {"HW": 14, "CIN": 32, "COUT": 64,
      "KERNEL_SIZE": 3, "STRIDES": 1}}}})");
  std::string e = dir.write("e.json", R"({"conv-bn-relu": {"A": {"energy": "0.5"}}})");
  RunResult r = run_deepen(fmt::format("dataset import --config {} --energy {} -o {}", c, e, dir.file("out.csv")));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(read_file(dir.file("out.csv")), "kernel,hw,cin,cout,ks,stride,energy_mj,id\nconv-bn-relu,14,32,64,3,1,0.5,A\n");
}

// ---- the real DeepEn2023 data (skipped where ../shared/data is absent) -----------------------

TEST(RealData, CpuPredictorCrossValidates) {
  std::string csv = std::string(DEEPEN_SHARED_DATA) + "/deepen2023/conv-bn-relu_cpu.csv";
  if (!fs::exists(csv)) GTEST_SKIP() << csv << " is not here";
  TempDir dir;
  TrainRequest q = train_request({csv}, "cpu", dir.path());
  TrainResult r = train_predictor(q);
  ASSERT_EQ(r.kernels.size(), 1u);
  // Honest (group) CV on held-out configs; the bar sits below the measured figure (docs/train.md).
  EXPECT_GT(r.kernels[0].cv.metrics.acc10, 0.6);
  EXPECT_TRUE(r.fallback.has_energy);
}

// ---- Training ranges -------------------------------------------------------------------------

TEST(FeatureRanges, MinAndMaxOfEveryColumn) {
  std::vector<float> rows = {3, 0.5f, NAN, 1, 2.5f, NAN, 7, -1, NAN};
  std::vector<FeatureRange> r = feature_ranges(rows, 3);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].min, 1);
  EXPECT_EQ(r[0].max, 7);
  EXPECT_EQ(r[1].min, -1);
  EXPECT_EQ(r[1].max, 2.5);
  EXPECT_TRUE(std::isnan(r[2].min) && std::isnan(r[2].max));  // no number in the column
}

TEST(FeatureRanges, EmittedSpecsReadBackExactly) {
  const KernelSchema* schema = find_schema("dwconv-relu");
  ScorerSpec spec;
  spec.path = "dwconv-relu.energy.v1.ubj";
  spec.transform = "log-ratio";
  spec.base_per_gflop = 0.1;
  spec.base_per_mb = 1.0 / 3;
  spec.base_per_kernel = 2e-5;
  // Floats that no short decimal spells as a double, an infinite bound, and a feature without one.
  spec.ranges = {{1e-7f, 0.1f}, {16, 3.4e38f}, {1, 7}, {1, 2}, {-INFINITY, 0.3f}, {NAN, NAN},
                 {12.3456789f, 20.123456f}};
  ASSERT_EQ(spec.ranges.size(), schema->feature_names.size());
  YAML::Emitter e;
  e << YAML::BeginSeq << YAML::BeginMap << YAML::Key << "name" << YAML::Value << "x" << YAML::Key << "version"
    << YAML::Value << "1" << YAML::Key << "kernels" << YAML::Value << YAML::BeginMap << YAML::Key << "dwconv-relu"
    << YAML::Value << YAML::BeginMap << YAML::Key << "energy" << YAML::Value;
  emit_booster_spec(e, spec, "dwconv-relu");
  e << YAML::EndMap << YAML::EndMap << YAML::EndMap << YAML::EndSeq;
  ASSERT_TRUE(e.good()) << e.GetLastError();
  std::string text = e.c_str();
  EXPECT_NE(text.find("energy: {booster: dwconv-relu.energy.v1.ubj, transform: log-ratio, base: {per_gflop: "),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ks: [1, 7]"), std::string::npos) << text;
  EXPECT_NE(text.find("hw_out: [-.inf, "), std::string::npos) << text;
  EXPECT_EQ(text.find("log_macs"), std::string::npos) << text;  // no bound known: left out
  TempDir dir;
  ScorerSpec back = parse_registry(text, dir.path(), "r").entries[0].kernels.at("dwconv-relu").at("energy");
  EXPECT_EQ(back.path, spec.path);
  EXPECT_EQ(back.transform, spec.transform);
  EXPECT_EQ(back.base_per_gflop, spec.base_per_gflop);
  EXPECT_EQ(back.base_per_mb, spec.base_per_mb);
  EXPECT_EQ(back.base_per_kernel, spec.base_per_kernel);
  ASSERT_EQ(back.ranges.size(), spec.ranges.size());
  for (size_t i = 0; i < spec.ranges.size(); ++i) {
    if (std::isnan(spec.ranges[i].min)) {
      EXPECT_TRUE(std::isinf(back.ranges[i].min) && std::isinf(back.ranges[i].max));
      continue;
    }
    EXPECT_EQ(back.ranges[i].min, spec.ranges[i].min) << schema->feature_names[i];
    EXPECT_EQ(back.ranges[i].max, spec.ranges[i].max) << schema->feature_names[i];
  }
  // A spec without ranges is written as before them.
  spec.ranges.clear();
  spec.transform = "log";
  YAML::Emitter plain;
  emit_booster_spec(plain, spec, "dwconv-relu");
  EXPECT_EQ(std::string(plain.c_str()), "{booster: dwconv-relu.energy.v1.ubj, transform: log}");
}

TEST(TrainPredictor, RegistersTheTrainingRangesAndFlagsWhatLiesBeyond) {
  TempDir dir;
  std::string csv = dir.write("kernels.csv", generated_csv(40, 5));
  TrainRequest q = train_request({csv}, "ranged_device", dir.file("predictors"), "");
  q.params = fast_params();
  q.params.rounds = 20;
  q.params.folds = 2;
  TrainResult r = train_predictor(q);
  ASSERT_EQ(r.kernels.size(), 1u);

  // The data's own min and max of every feature, as the booster saw them (floats).
  KernelDataset d = read_dataset_csv(csv);
  const auto& names = find_schema("conv-bn-relu")->feature_names;
  std::vector<float> lo(names.size(), INFINITY), hi(names.size(), -INFINITY);
  for (const auto& row : d.rows) {
    std::vector<double> f = kernel_features("conv-bn-relu", row.config);
    for (size_t i = 0; i < f.size(); ++i) {
      lo[i] = std::min(lo[i], static_cast<float>(f[i]));
      hi[i] = std::max(hi[i], static_cast<float>(f[i]));
    }
  }
  Registry reg = load_registry(q.predictors_dir);
  const ScorerSpec& spec = reg.find("ranged_device").kernels.at("conv-bn-relu").at("energy");
  ASSERT_EQ(spec.ranges.size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(spec.ranges[i].min, static_cast<double>(lo[i])) << names[i];
    EXPECT_EQ(spec.ranges[i].max, static_cast<double>(hi[i])) << names[i];
    EXPECT_EQ(spec.ranges[i].min, r.kernels[0].spec.ranges[i].min) << names[i];
    EXPECT_EQ(spec.ranges[i].max, r.kernels[0].spec.ranges[i].max) << names[i];
  }
  EXPECT_NE(r.entry_yaml.find(fmt::format("ranges: {{hw: [{}, {}], cin: [{}, {}]", lo[0], hi[0], lo[1], hi[1])),
            std::string::npos)
      << r.entry_yaml;

  // No training row counts as outside; a kernel twice as large as the largest one does.
  Predictor p = Predictor::load(reg, "ranged_device");
  for (const Estimate& e : p.estimate(kernels_from_rows(d.rows))) {
    EXPECT_EQ(e.source, deepen::Source::Trained);
    EXPECT_FALSE(e.extrapolated) << e.extrapolated_why;
  }
  KernelConfig big;
  big.set("hw", 2 * hi[0]);
  big.set("cin", lo[1]);
  big.set("cout", lo[2]);
  big.set("ks", 3);
  big.set("stride", 1);
  Kernel k;
  k.type = "conv-bn-relu";
  k.config = big;
  Estimate e = p.estimate({k})[0];
  EXPECT_TRUE(e.extrapolated);
  EXPECT_EQ(e.extrapolated_why.rfind(fmt::format("hw {} > {}", 2 * hi[0], hi[0]), 0), 0u) << e.extrapolated_why;
}
