// Shared by train_test.cpp and eval_test.cpp: generated kernel datasets from a known function,
// temporary folders, and running the built CLI.
#pragma once

#include <deepen/schema.h>
#include <deepen/train.h>

#include "test_util.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <unistd.h>

namespace deepen::testing {

// The "device" of the generated data: energy is a smooth function of the conv's work,
//   energy_mj = 0.8 mJ/GFLOP * GFLOP + 0.05 mJ/MB * MB + 0.02 mJ,
// which spans about four orders of magnitude over the configs below.
inline double known_energy(const KernelConfig& c) {
  KernelWork w = kernel_work("conv-bn-relu", c);
  return 0.8 * w.flops / 1e9 + 0.05 * w.bytes / 1e6 + 0.02;
}

// n conv-bn-relu rows with configs drawn from a seeded generator (MobileNet/ResNet-like ranges).
inline std::string generated_csv(size_t n, uint64_t seed, bool noise = false) {
  std::mt19937_64 rng(seed);
  const std::array<int, 8> hws = {7, 14, 28, 56, 112, 13, 27, 224};
  const std::array<int, 12> channels = {16, 24, 32, 48, 64, 96, 128, 160, 192, 256, 384, 512};
  const std::array<int, 4> kss = {1, 3, 5, 7};
  std::string csv = "kernel,hw,cin,cout,ks,stride,energy_mj,id\n";
  std::normal_distribution<double> jitter(0.0, 0.02);
  for (size_t i = 0; i < n; ++i) {
    KernelConfig c;
    c.set("hw", hws[rng() % hws.size()]);
    c.set("cin", channels[rng() % channels.size()]);
    c.set("cout", channels[rng() % channels.size()]);
    c.set("ks", kss[rng() % kss.size()]);
    c.set("stride", 1 + static_cast<int>(rng() % 2));
    double e = known_energy(c) * (noise ? std::exp(jitter(rng)) : 1.0);
    csv += fmt::format("conv-bn-relu,{},{},{},{},{},{:.6g},k{}\n", c.get("hw"), c.get("cin"), c.get("cout"),
                       c.get("ks"), c.get("stride"), e, i);
  }
  return csv;
}

// A request to train predictor `name` on `datasets` into the registry folder `predictors_dir`,
// with the library's default parameters; device and framework both `device` (empty: unset).
inline TrainRequest train_request(std::vector<std::string> datasets, const std::string& name,
                                  const std::string& predictors_dir, const std::string& device = "x") {
  TrainRequest q;
  q.datasets = std::move(datasets);
  q.name = name;
  q.device = q.framework = device;
  q.predictors_dir = predictors_dir;
  return q;
}

// TempDir: a fresh folder removed at the end of the test (tests/test_util.h).
using deepen::test::TempDir;

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

using deepen::test::run_deepen;
using deepen::test::RunResult;

}  // namespace deepen::testing
