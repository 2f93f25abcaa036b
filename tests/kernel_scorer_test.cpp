// Kinds of kernel scorer (deepen/kernel_scorer.h): a measured table scores the configurations it
// holds, the fallback the rest; bad tables and kinds are refused at load with the file and line.
#include <deepen/error.h>
#include <deepen/graph.h>
#include <deepen/kernels.h>
#include <deepen/predict.h>
#include <deepen/schema.h>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "test_util.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

using deepen::test::TempDir;
using deepen::test::write_text;

namespace {

const char* kRules =
    "chains:\n  - [conv, bn, relu]\n  - [conv, relu]\n  - [dwconv, relu]\n"
    "same_as:\n  conv-relu: conv-bn-relu\n";

// A registry "tab": conv-bn-relu latency from `table`, the roofline for the rest.
void write_registry(const TempDir& dir, const std::string& table, const std::string& spec = "{table: conv.csv}") {
  write_text(dir.file("tab/rules.yaml"), kRules);
  write_text(dir.file("tab/conv.csv"), table);
  write_text(dir.file("predictors.yaml"), R"(- name: tab
  version: 1
  purposes: [latency]
  fusion_rules: rules.yaml
  kernels:
    conv-bn-relu:
      latency: )" + spec + R"(
  fallback:
    latency: {peak_gflops: 10, bandwidth_gbs: 5, ms_per_kernel: 0.01}
)");
}

// The columns a table needs to hold a kernel's configuration: the schema's config fields and the
// optional fields the kernel has.
std::vector<std::string> columns_of(const deepen::Kernel& k, const std::string& type) {
  std::vector<std::string> cols = deepen::find_schema(type)->config_fields;
  for (const auto& name : deepen::optional_config_fields())
    if (k.config.has(name) && std::find(cols.begin(), cols.end(), name) == cols.end()) cols.push_back(name);
  return cols;
}

std::vector<deepen::Kernel> mobilenet_kernels() {
  TempDir dir;
  write_text(dir.file("rules.yaml"), kRules);
  deepen::FusionRules rules = deepen::load_fusion_rules(dir.file("rules.yaml"));
  return deepen::detect_kernels(deepen::load_onnx(deepen::test::model("mobilenetv1.onnx")), rules);
}

}  // namespace

TEST(TableScorer, ScoresTheConfigurationsItHoldsAndLeavesTheRestToTheFallback) {
  std::vector<deepen::Kernel> kernels = mobilenet_kernels();
  // Every second distinct conv configuration goes into the table, valued 1, 2, 3... ms.
  std::vector<std::string> cols;
  std::map<std::vector<double>, double> table;
  std::string text;
  std::set<std::vector<double>> seen;
  for (const auto& k : kernels) {
    if (k.type != "conv-relu") continue;
    if (cols.empty()) {
      cols = columns_of(k, "conv-bn-relu");
      for (const auto& c : cols) text += c + ",";
      text += "value\n";
    }
    std::vector<double> key;
    for (const auto& c : cols) key.push_back(k.config.get(c));
    if (!seen.insert(key).second || seen.size() % 2 == 0) continue;
    table[key] = static_cast<double>(table.size() + 1);
    for (double v : key) text += fmt::format("{},", v);
    text += fmt::format("{}\n", table[key]);
  }
  ASSERT_GE(table.size(), 2u);
  TempDir dir;
  write_registry(dir, text);
  deepen::Predictor p = deepen::Predictor::load(deepen::load_registry(dir.path()), "tab");
  deepen::PredictOptions latency;
  latency.purpose = deepen::Purpose::Latency;
  auto est = p.estimate(kernels, latency);
  size_t from_table = 0, from_fallback = 0;
  for (size_t i = 0; i < kernels.size(); ++i) {
    const deepen::Kernel& k = kernels[i];
    if (k.zero_cost) continue;
    double roofline = std::max(k.flops / 10e6, k.bytes / 5e6) + 0.01;
    std::vector<double> key;
    if (k.type == "conv-relu")
      for (const auto& c : cols) key.push_back(k.config.get(c));
    if (k.type == "conv-relu" && table.count(key)) {
      ++from_table;
      EXPECT_EQ(est[i].source, deepen::Source::Trained);
      EXPECT_EQ(est[i].scored_as, "conv-bn-relu");
      EXPECT_DOUBLE_EQ(est[i].latency_ms, table.at(key) * deepen::kernel_repeats(k));
      EXPECT_FALSE(est[i].extrapolated);
    } else {
      ++from_fallback;
      EXPECT_EQ(est[i].source, deepen::Source::Fallback) << k.type;
      EXPECT_NEAR(est[i].latency_ms, roofline, 1e-12) << k.type;
    }
  }
  EXPECT_GE(from_table, 2u);
  EXPECT_GE(from_fallback, 2u);
  // Without the fallback, what the table lacks is uncovered.
  latency.use_fallback = false;
  auto bare = p.estimate(kernels, latency);
  for (size_t i = 0; i < kernels.size(); ++i) {
    if (!kernels[i].zero_cost && est[i].source == deepen::Source::Fallback) {
      EXPECT_EQ(bare[i].source, deepen::Source::Uncovered);
    }
  }
}

TEST(TableScorer, KindIsReadFromTheFileKeyOrNamed) {
  const std::string table = "hw,cin,cout,ks,stride,value\n8,16,16,3,1,0.5\n";
  for (const std::string spec : {"{table: conv.csv}", "{kind: table, table: conv.csv}"}) {
    TempDir dir;
    write_registry(dir, table, spec);
    deepen::Registry r = deepen::load_registry(dir.path());
    EXPECT_EQ(r.entries[0].kernels.at("conv-bn-relu").at("latency").kind, "table") << spec;
    EXPECT_NO_THROW(deepen::Predictor::load(r, "tab")) << spec;
  }
}

TEST(TableScorer, BadTablesAndKindsAreRefusedNamingFileAndLine) {
  struct Case {
    std::string table, spec, says;
  };
  const std::string head = "hw,cin,cout,ks,stride,value\n";
  const std::vector<Case> cases = {
      {"", "{table: conv.csv}", "the table is empty"},
      {head, "{table: conv.csv}", "the table has no rows"},
      {"hw,cin,cout,ks,stride\n8,16,16,3,1\n", "{table: conv.csv}", "no 'value' column"},
      {"hw,cin,cout,ks,value\n8,16,16,3,1\n", "{table: conv.csv}", "no 'stride' column"},
      {"hw,cin,cout,ks,stride,colour,value\n8,16,16,3,1,2,1\n", "{table: conv.csv}",
       "column 'colour' is not a config field of conv-bn-relu"},
      {"hw,hw,cin,cout,ks,stride,value\n", "{table: conv.csv}", "column 'hw' is given twice"},
      {head + "8,16,16,3,1,fast\n", "{table: conv.csv}", "conv.csv:2: value 'fast' is not a number"},
      {head + "8,16,16,3,1\n", "{table: conv.csv}", "conv.csv:2: 5 cells where the header names 6"},
      {head + "8,16,16,3,1,0\n", "{table: conv.csv}", "conv.csv:2: value 0 is not positive"},
      {head + "8,16,16,3,1,-2\n", "{table: conv.csv}", "value -2 is not positive"},
      {head + "8,16,16,3,1,nan\n", "{table: conv.csv}", "value 'nan' is not a number"},
      {head + "8,16,16,3,1,1\n\n8,16,16,3,1,2\n", "{table: conv.csv}",
       "conv.csv:4: the configuration of line 2 again, with another value"},
      {head + "8,16,16,3,1,1\n", "{table: other.csv}", "cannot open the table"},
      {head + "8,16,16,3,1,1\n", "{kind: lut, table: conv.csv}", "kind 'lut' is unknown (kinds: xgboost, table)"},
      {head + "8,16,16,3,1,1\n", "{kind: table, booster: conv.csv}", "a scorer of kind table reads 'table: FILE'"},
      {head + "8,16,16,3,1,1\n", "{table: conv.csv, transform: log}", "transform is for boosters"},
      {head + "8,16,16,3,1,1\n", "{table: conv.csv, ranges: {hw: [1, 8]}}", "ranges are for boosters"},
  };
  for (const Case& c : cases) {
    TempDir dir;
    write_registry(dir, c.table, c.spec);
    try {
      deepen::Predictor::load(deepen::load_registry(dir.path()), "tab");
      ADD_FAILURE() << "accepted: " << c.spec << "\n" << c.table;
    } catch (const deepen::Error& e) {
      EXPECT_NE(std::string(e.what()).find(c.says), std::string::npos) << e.what();
    }
  }
  // A duplicate with the same value is one configuration measured twice alike: accepted.
  TempDir dir;
  write_registry(dir, head + "8,16,16,3,1,1\n8,16,16,3,1,1\n");
  EXPECT_NO_THROW(deepen::Predictor::load(deepen::load_registry(dir.path()), "tab"));
}
