// Tests of src/profile's measurement side: statistics, RAPL counters (on a sysfs-like folder the
// test writes), trace integration (on a trace the test writes, exact arithmetic), the real trace in
// ../shared/data when present, and OpenCV runs of a small test model.
#include <deepen/error.h>
#include <deepen/measure.h>

#include <gtest/gtest.h>

#include "test_util.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>

namespace fs = std::filesystem;
using namespace deepen;

using deepen::test::run_deepen;
using deepen::test::RunResult;

namespace {

fs::path temp_dir(const std::string& name) {
  fs::path p = fs::temp_directory_path() / ("deepen_measure_test_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}


}  // namespace

TEST(Stats, PercentilesInterpolate) {
  std::vector<double> v = {5, 1, 4, 2, 3};
  EXPECT_DOUBLE_EQ(percentile(v, 50), 3);
  EXPECT_DOUBLE_EQ(percentile(v, 0), 1);
  EXPECT_DOUBLE_EQ(percentile(v, 100), 5);
  EXPECT_DOUBLE_EQ(percentile(v, 10), 1.4);
  EXPECT_DOUBLE_EQ(percentile({1, 2}, 50), 1.5);
  Spread s = spread_of(v);
  EXPECT_EQ(s.n, 5u);
  EXPECT_DOUBLE_EQ(s.median, 3);
  EXPECT_DOUBLE_EQ(s.p90, 4.6);
  EXPECT_DOUBLE_EQ(s.mean, 3);
  EXPECT_THROW(percentile({}, 50), Error);
}

TEST(Rapl, WrapAround) {
  EXPECT_DOUBLE_EQ(rapl_delta_uj(100, 250, 1000), 150);
  EXPECT_DOUBLE_EQ(rapl_delta_uj(900, 50, 1000), 150);  // 100 to the wrap, 50 after it
  EXPECT_DOUBLE_EQ(rapl_delta_uj(7, 7, 1000), 0);
}

TEST(Rapl, ReadsPackageDomainsOfASysfsLikeFolder) {
  fs::path root = temp_dir("rapl");
  write(root / "intel-rapl:0/name", "package-0\n");
  write(root / "intel-rapl:0/max_energy_range_uj", "1000000\n");
  write(root / "intel-rapl:0/energy_uj", "999000\n");
  write(root / "intel-rapl:0/intel-rapl:0:0/energy_uj", "5\n");  // a subdomain: not added again
  write(root / "intel-rapl:0:0/name", "core\n");
  write(root / "intel-rapl:0:0/energy_uj", "123\n");
  write(root / "intel-rapl:0:0/max_energy_range_uj", "1000000\n");
  write(root / "intel-rapl:1/name", "package-1\n");
  write(root / "intel-rapl:1/max_energy_range_uj", "1000000\n");
  write(root / "intel-rapl:1/energy_uj", "1000\n");
  auto domains = find_rapl_domains(root.string());
  ASSERT_EQ(domains.size(), 2u);
  EXPECT_EQ(domains[0].name, "package-0");
  EXPECT_DOUBLE_EQ(domains[0].max_energy_range_uj, 1000000);

  auto source = make_rapl_source(root.string());
  source->start();
  write(root / "intel-rapl:0/energy_uj", "1000\n");  // wrapped: 1000 + 1000 uJ
  write(root / "intel-rapl:1/energy_uj", "3000\n");  // 2000 uJ
  source->after_run();
  write(root / "intel-rapl:0/energy_uj", "2000\n");  // 1000 uJ
  write(root / "intel-rapl:1/energy_uj", "3500\n");  // 500 uJ
  source->after_run();
  EnergyMeasurement e = source->finish({{0, 1}, {1, 2}});
  EXPECT_DOUBLE_EQ(e.total_mj, 5.5);
  ASSERT_EQ(e.per_run_mj.size(), 2u);
  EXPECT_DOUBLE_EQ(e.per_run_mj[0], 4.0);
  EXPECT_DOUBLE_EQ(e.per_run_mj[1], 1.5);
  fs::remove_all(root);
}

TEST(Rapl, AbsentCountersSayWhatToDo) {
  try {
    make_rapl_source("/nonexistent/powercap");
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no RAPL"), std::string::npos) << e.what();
  }
}

TEST(Trace, IntegratesExactly) {
  // Power: 100 mA x 5 V = 500 mW until t = 2 ms, then 1000 mW (a step between 2 and 3 ms).
  std::string csv =
      "Time(ms),Main(mA),Main Voltage(V),\n"
      "0,100,5,\n1,100,5,\n2,100,5,\n3,200,5,\n4,200,5,\n5,200,5,\n";
  PowerTrace t = parse_power_trace(csv, "test.csv");
  EXPECT_EQ(t.unit, TimeUnit::Milliseconds);  // relative times: the header's unit
  ASSERT_EQ(t.time_us.size(), 6u);
  EXPECT_DOUBLE_EQ(t.time_us[3], 3000);
  EXPECT_DOUBLE_EQ(t.power_mw[3], 1000);
  // [0, 2 ms]: 500 mW x 2 ms = 1 mJ. [1, 4 ms]: 0.5 + (500+1000)/2 x 1 ms = 0.75 + 1 -> 0.5+0.75+1 = 2.25 mJ.
  // [2.5, 3.5 ms]: power at 2.5 ms = 750 mW; 0.5 ms x (750+1000)/2 + 0.5 ms x 1000 = 0.4375 + 0.5 mJ.
  auto e = integrate_trace(t, {{0, 2000}, {1000, 4000}, {2500, 3500}, {5000, 5000}});
  ASSERT_EQ(e.size(), 4u);
  EXPECT_NEAR(e[0], 1.0, 1e-12);
  EXPECT_NEAR(e[1], 2.25, 1e-12);
  EXPECT_NEAR(e[2], 0.9375, 1e-12);
  EXPECT_NEAR(e[3], 0.0, 1e-12);
}

TEST(Trace, WindowOutsideTheClockIsNamed) {
  PowerTrace t = parse_power_trace("Time(us),Main(mA),Main Voltage(V)\n10,1,1\n20,1,1\n30,1,1\n", "t.csv");
  try {
    integrate_trace(t, {{10, 20}, {12, 18}, {25, 31}, {40, 50}});
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("run window 2 "), std::string::npos) << e.what();
  }
}

TEST(Trace, EpochMicrosecondsBeatAWrongHeader) {
  // Monsoon-style header that says ms over timestamps that are microseconds since the epoch.
  std::string csv = "Time(ms),Main(mA),Main Voltage(V),\n1756255164022034,100,4,\n1756255164022041,100,4,\n";
  PowerTrace t = parse_power_trace(csv, "m.csv");
  EXPECT_EQ(t.unit, TimeUnit::Microseconds);
  EXPECT_FALSE(t.note.empty());
  PowerTrace forced = parse_power_trace(csv, "m.csv", TimeUnit::Milliseconds);
  EXPECT_NEAR(forced.time_us[1] - forced.time_us[0], 7000, 1000);  // 1.7e18 us: beyond a double's 53 bits
  // Samples sharing a timestamp (Monsoon stamps batches) become one with their mean power.
  PowerTrace dup = parse_power_trace("Time(us),Main(mA),Main Voltage(V)\n0,1,1\n0,3,1\n0,5,1\n10,1,1\n", "d.csv");
  ASSERT_EQ(dup.time_us.size(), 2u);
  EXPECT_DOUBLE_EQ(dup.power_mw[0], 3);
  EXPECT_EQ(dup.merged_samples, 2u);
  EXPECT_THROW(parse_power_trace("Time(us),Main(mA),Main Voltage(V)\n5,1,1\n4,1,1\n", "d.csv"), Error);
  EXPECT_THROW(parse_power_trace("t,Main(mA),Main Voltage(V)\n0,1,1\n1,1,1\n", "x.csv"), Error);  // no unit
  EXPECT_THROW(parse_power_trace("Time(ms),Main(mA)\n0,1\n", "x.csv"), Error);                    // no voltage
}

TEST(Trace, RestampsAtAFixedRate) {
  // Four samples stamped in two batches; at 1000 Hz they were taken 1 ms apart.
  std::string csv = "Time(us),Main(mA),Main Voltage(V)\n0,100,1\n0,200,1\n3000,300,1\n3000,400,1\n";
  PowerTrace t = parse_power_trace(csv, "r.csv", TimeUnit::Auto, 1000);
  ASSERT_EQ(t.time_us.size(), 4u);
  EXPECT_DOUBLE_EQ(t.time_us[1], 1000);
  EXPECT_DOUBLE_EQ(t.time_us[3], 3000);
  // [0, 3 ms] at 100..400 mW rising linearly: mean 250 mW x 3 ms = 0.75 mJ.
  EXPECT_NEAR(integrate_trace(t, {{0, 3000}})[0], 0.75, 1e-12);
  EXPECT_THROW(parse_power_trace(csv, "r.csv", TimeUnit::Auto, 100), Error);  // 30 ms of samples in 3 ms
}

TEST(Trace, WindowsFileRoundTrip) {
  std::vector<RunWindow> w = {{100, 250}, {300, 420}};
  auto back = parse_run_windows(run_windows_csv(w), "w.csv");
  ASSERT_EQ(back.size(), 2u);
  EXPECT_DOUBLE_EQ(back[1].end_us, 420);
  auto ms = parse_run_windows("start_ms,end_ms\n1,2\n", "w.csv");
  EXPECT_DOUBLE_EQ(ms[0].end_us, 2000);
  EXPECT_THROW(parse_run_windows("start,end\n1,2\n", "w.csv"), Error);
}

TEST(Trace, SharedMobileNetV2Trace) {
  std::string dir = std::string(DEEPEN_SHARED_DATA) + "/traces";
  std::string power = dir + "/mnv2_cifar10_fp32_power.csv", windows = dir + "/mnv2_cifar10_fp32_inference_time.csv";
  if (!fs::exists(power) || !fs::exists(windows)) GTEST_SKIP() << "no shared traces at " << dir;
  PowerTrace t = read_power_trace(power);
  EXPECT_EQ(t.unit, TimeUnit::Microseconds);
  auto w = read_run_windows(windows);
  ASSERT_EQ(w.size(), 297u);
  auto e = integrate_trace(t, w);
  Spread s = spread_of(e);
  EXPECT_GT(s.min, 0);
  EXPECT_TRUE(std::isfinite(s.max));
  // A phone at a few watts for ~10 ms: tens of mJ, not uJ or J.
  EXPECT_GT(s.median, 1);
  EXPECT_LT(s.median, 1000);
}

#ifdef DEEPEN_HAVE_OPENCV
TEST(Measure, OpenCVGivesPositiveFiniteLatencies) {
  auto backend = make_backend("opencv", {1});
  Measurement m = measure_model(*backend, std::string(DEEPEN_TEST_MODELS) + "/mlp_opset7.onnx", {2, 5});
  ASSERT_TRUE(m.error.empty()) << m.error;
  ASSERT_EQ(m.latencies_ms.size(), 5u);
  for (double l : m.latencies_ms) {
    EXPECT_GT(l, 0);
    EXPECT_TRUE(std::isfinite(l));
  }
  EXPECT_LE(m.latency_ms.min, m.latency_ms.median);
  EXPECT_LE(m.latency_ms.median, m.latency_ms.max);
  ASSERT_EQ(m.windows.size(), 5u);
  EXPECT_LE(m.windows[0].start_us, m.windows[0].end_us);
}

TEST(Measure, BrokenModelIsRecordedNotThrown) {
  fs::path dir = temp_dir("broken");
  write(dir / "broken.onnx", "not a model");
  auto backend = make_backend("opencv", {1});
  Measurement m = measure_model(*backend, (dir / "broken.onnx").string(), {1, 2});
  EXPECT_FALSE(m.error.empty());
  fs::remove_all(dir);
}

TEST(MeasureCli, JsonOnATestModel) {
  RunResult run = run_deepen("measure " + std::string(DEEPEN_TEST_MODELS) +
                                "/mlp_opset7.onnx --warmup 1 --runs 3 --format json");
  EXPECT_EQ(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("\"median\""), std::string::npos) << run.out;
}

TEST(MeasureCli, FindsTheOpenCVModuleBesideTheBinary) {
  RunResult run = run_deepen("measure " + std::string(DEEPEN_TEST_MODELS) + "/mlp_opset7.onnx --warmup 0 --runs 1", "DEEPEN_OPENCV_MODULE=");
  EXPECT_EQ(run.exit_code, 0) << run.out;
}

TEST(MeasureCli, MissingOpenCVModuleSaysWhatToInstall) {
  RunResult run = run_deepen("measure " + std::string(DEEPEN_TEST_MODELS) + "/mlp_opset7.onnx --runs 1", "DEEPEN_OPENCV_MODULE=/nonexistent/deepen_opencv.so");
  EXPECT_EQ(run.exit_code, 2) << run.out;
  EXPECT_NE(run.out.find("/nonexistent/deepen_opencv.so"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("libopencv-dnn-dev"), std::string::npos) << run.out;
}

TEST(MeasureCli, RoundsPoolEachModelsRuns) {
  std::string model = std::string(DEEPEN_TEST_MODELS) + "/mlp_opset7.onnx";
  RunResult run = run_deepen("measure " + model + " " + model + " --warmup 0 --runs 2 --rounds 3 --format csv");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  // Two rows (one per model given), each pooling 3 rounds x 2 runs.
  size_t rows = 0;
  for (size_t at = run.out.find(",opencv,1,6,"); at != std::string::npos; at = run.out.find(",opencv,1,6,", at + 1)) ++rows;
  EXPECT_EQ(rows, 2u) << run.out;
  run = run_deepen("measure " + model + " --rounds 0");
  EXPECT_EQ(run.exit_code, 2) << run.out;
}
#else
TEST(Measure, WithoutOpenCVSaysHowToGetIt) {
  try {
    make_backend("opencv", {1});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("libopencv-dnn-dev"), std::string::npos);
  }
}
#endif

TEST(MeasureCli, RaplAbsentExitsTwo) {
  RunResult run = run_deepen("measure " + std::string(DEEPEN_TEST_MODELS) +
                                "/mlp_opset7.onnx --runs 1 --power rapl --rapl-root /nonexistent/powercap");
  EXPECT_EQ(run.exit_code, 2) << run.out;
#ifdef DEEPEN_HAVE_OPENCV
  EXPECT_NE(run.out.find("RAPL"), std::string::npos) << run.out;
#else
  EXPECT_NE(run.out.find("libopencv-dnn-dev"), std::string::npos) << run.out;  // the backend is checked first
#endif
}

TEST(MeasureCli, IntegratesRecordedWindows) {
  fs::path dir = temp_dir("cli_trace");
  write(dir / "p.csv", "Time(us),Main(mA),Main Voltage(V),\n0,100,5,\n1000,100,5,\n2000,100,5,\n");
  write(dir / "w.csv", "inference_index,start_us,end_us\n0,0,1000\n1,1000,2000\n");
  RunResult run = run_deepen("measure --power trace --trace " + (dir / "p.csv").string() + " --windows " +
                                (dir / "w.csv").string() + " --format csv");
  EXPECT_EQ(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find(",trace,0.5,"), std::string::npos) << run.out;  // 500 mW x 1 ms
  write(dir / "w2.csv", "inference_index,start_us,end_us\n0,0,1000\n1,1500,2500\n");
  run = run_deepen("measure --power trace --trace " + (dir / "p.csv").string() + " --windows " + (dir / "w2.csv").string());
  EXPECT_EQ(run.exit_code, 2) << run.out;
  EXPECT_NE(run.out.find("run window 1"), std::string::npos) << run.out;
  fs::remove_all(dir);
}
