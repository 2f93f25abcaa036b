// Which op pairs does the backend fuse? As nn-Meter's builder asks it: time op1 alone, op2 alone
// and the pair; a fused pair costs clearly less than the two apart. Every time is taken less the
// per-model overhead (a model of one tiny op), which the pair would otherwise save by itself.
// The configurations keep op1 cheap next to op2, so that op2's cost is not lost in op1's noise.
#include <deepen/error.h>
#include <deepen/profile.h>
#include <deepen/schema.h>

#include "profile/work_folder.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

namespace fs = std::filesystem;

namespace deepen {
namespace {

KernelConfig config_of(const std::string& op) {
  KernelConfig c;
  const KernelSchema* s = find_schema(op);
  if (!s) throw Error(fmt::format("fusion test: '{}' is not an op deepen knows", op));
  if (s->family == "conv") c.fields = {{"hw", 56}, {"cin", 8}, {"cout", 64}, {"ks", 1}, {"stride", 1}};
  else if (s->family == "gconv")
    c.fields = {{"hw", 56}, {"cin", 64}, {"cout", 64}, {"ks", 1}, {"stride", 1}, {"groups", 8}};
  else if (s->family == "dwconv") c.fields = {{"hw", 56}, {"cin", 64}, {"ks", 3}, {"stride", 1}};
  else if (s->family == "fc") c.fields = {{"cin", 64}, {"cout", 4096}};
  else {
    for (const auto& f : s->config_fields) {
      if (f == "hw") c.set(f, 56);
      else if (f == "cin" || f == "cout") c.set(f, 64);
      else if (f == "ks") c.set(f, 3);
      else if (f == "stride") c.set(f, 1);
      else if (f == "inputs") c.set(f, 2);
      else if (f == "groups") c.set(f, 4);
      else if (f == "mid") c.set(f, 16);
    }
  }
  return c;
}

// The config of op2 when it reads op1's output.
KernelConfig follower_config(const std::string& op2, const KernelConfig& first) {
  KernelConfig c = config_of(op2);
  double channels = first.has("cout") ? first.get("cout") : first.get("cin");
  if (c.has("cin")) c.set("cin", channels);
  if (c.has("hw")) c.set("hw", first.has("hw") ? first.get("hw") : 1);
  if (c.has("cout") && find_schema(op2)->family != "conv") c.set("cout", channels);
  return c;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> default_fusion_pairs() {
  return {{"conv", "bn"},   {"conv", "relu"},  {"conv", "relu6"}, {"conv", "hswish"}, {"dwconv", "bn"},
          {"dwconv", "relu"}, {"dwconv", "relu6"}, {"bn", "relu"},    {"add", "relu"},    {"fc", "relu"}};
}

std::vector<FusionTest> detect_fusion_tests(Backend& backend, const FusionDetectOptions& o,
                                            const KernelModelWriter& writer) {
  const WorkFolder work(o.work_dir, "deepen-fusion");
  std::error_code ec;
  int counter = 0;
  auto time_of = [&](const std::string& type, const KernelConfig& c) {
    std::string path = (fs::path(work.path()) / fmt::format("k{}.onnx", counter++)).string();
    writer({type, c}, path);
    Measurement m = measure_model(backend, path, o.measure, nullptr);
    fs::remove(path, ec);
    if (!m.error.empty()) throw Error(m.error);
    return m.latency_ms.median;
  };
  std::vector<FusionTest> tests;
  double overhead = NAN;
  try {
    overhead = time_of("relu", KernelConfig{{{"hw", 1}, {"cin", 8}}});
  } catch (const Error& e) {
    throw Error(e.kind(), fmt::format("fusion test: cannot time the overhead model: {}", e.what()));
  }
  for (const auto& [op1, op2] : o.pairs.empty() ? default_fusion_pairs() : o.pairs) {
    FusionTest t;
    t.op1 = op1;
    t.op2 = op2;
    t.overhead_ms = overhead;
    try {
      KernelConfig c1 = config_of(op1);
      KernelConfig c2 = follower_config(op2, c1);
      // Interleaved rounds, the least median of each: a neighbour's burst on a shared machine
      // slows one round, not all of them.
      t.op1_ms = t.op2_ms = t.pair_ms = INFINITY;
      for (int r = 0; r < std::max(1, o.rounds); ++r) {
        t.op1_ms = std::min(t.op1_ms, time_of(op1, c1));
        t.op2_ms = std::min(t.op2_ms, time_of(op2, c2));
        t.pair_ms = std::min(t.pair_ms, time_of(op1 + "-" + op2, c1));
      }
      double a = std::max(0.0, t.op1_ms - overhead), b = std::max(0.0, t.op2_ms - overhead);
      double ab = std::max(0.0, t.pair_ms - overhead);
      t.fused = a + b - ab > o.saving_share * std::min(a, b);
    } catch (const Error& e) {
      t.error = e.what();
    }
    tests.push_back(t);
  }
  return tests;
}

FusionRules fusion_rules_from_tests(const std::vector<FusionTest>& tests) {
  FusionRules rules;
  auto fused = [&](const std::string& a, const std::string& b) {
    for (const auto& t : tests)
      if (t.op1 == a && t.op2 == b && t.fused) return true;
    return false;
  };
  for (const auto& t : tests)
    if (t.fused && t.op2 != "bn" && fused(t.op1, "bn")) rules.chains.push_back({t.op1, "bn", t.op2});
  for (const auto& t : tests)
    if (t.fused) rules.chains.push_back({t.op1, t.op2});
  return rules;
}

}  // namespace deepen
