// Kernel detection on the test models: types and counts per model, totals of MACs and params
// against the values test_models/describe.py computed independently, and the features of
// known layers.
#include <deepen/error.h>
#include <deepen/graph.h>
#include <deepen/kernels.h>
#include <deepen/schema.h>

#include <gtest/gtest.h>

#include "test_util.h"

#include <cmath>
#include <map>

using deepen::test::model;

namespace {

std::map<std::string, int> histogram(const std::vector<deepen::Kernel>& kernels) {
  std::map<std::string, int> h;
  for (const auto& k : kernels) ++h[k.type];
  return h;
}

std::vector<deepen::Kernel> kernels_of(const std::string& name) {
  return deepen::detect_kernels(deepen::load_onnx(model(name)), deepen::default_fusion_rules());
}

double total_macs(const std::vector<deepen::Kernel>& ks) {
  double m = 0;
  for (const auto& k : ks) m += k.macs;
  return m;
}

}  // namespace

TEST(KernelDetector, MobileNetV1) {
  auto ks = kernels_of("mobilenetv1.onnx");
  EXPECT_EQ(histogram(ks), (std::map<std::string, int>{
                               {"conv-relu", 7}, {"dwconv-relu", 6}, {"fc", 1}, {"global-avgpool", 1}, {"reshape", 1}}));
  EXPECT_DOUBLE_EQ(total_macs(ks), 1519872);
}

TEST(KernelDetector, MobileNetV2ClipIsRelu6AndResidualAddsStayAlone) {
  auto ks = kernels_of("mobilenetv2.onnx");
  EXPECT_EQ(histogram(ks), (std::map<std::string, int>{{"add", 3},
                                                       {"conv", 7},
                                                       {"conv-relu6", 8},
                                                       {"dwconv-relu6", 7},
                                                       {"fc", 1},
                                                       {"flatten", 1},
                                                       {"global-avgpool", 1}}));
  EXPECT_DOUBLE_EQ(total_macs(ks), 2874240);
}

TEST(KernelDetector, ResNetAddRelu) {
  auto ks = kernels_of("resnet_basic.onnx");
  EXPECT_EQ(histogram(ks), (std::map<std::string, int>{{"add-relu", 2},
                                                       {"conv", 3},
                                                       {"conv-relu", 3},
                                                       {"fc", 1},
                                                       {"flatten", 1},
                                                       {"global-avgpool", 1},
                                                       {"maxpool", 1}}));
  EXPECT_DOUBLE_EQ(total_macs(ks), 2539840);
}

TEST(KernelDetector, ShuffleNetGroupedConvShuffleAndSplits) {
  auto ks = kernels_of("shufflenet.onnx");
  EXPECT_EQ(histogram(ks), (std::map<std::string, int>{{"add-relu", 1},
                                                       {"channel-shuffle", 4},
                                                       {"concat", 3},
                                                       {"conv-relu", 9},
                                                       {"dwconv", 5},
                                                       {"gconv", 1},
                                                       {"gconv-relu", 2},
                                                       {"global-avgpool", 1},
                                                       {"fc", 1},
                                                       {"maxpool", 1},
                                                       {"slice", 2},
                                                       {"split", 1}}));
  EXPECT_DOUBLE_EQ(total_macs(ks), 1381120);
  for (const auto& k : ks) {
    if (k.type == "channel-shuffle") {
      EXPECT_EQ(k.nodes.size(), 3u);
      EXPECT_TRUE(k.config.get("groups") == 2 || k.config.get("groups") == 4);
    }
    if (k.type.rfind("gconv", 0) == 0) {
      EXPECT_EQ(k.config.get("groups"), 4);
    }
  }
}

TEST(KernelDetector, MobileNetV3HswishAndSeAreTheSameAtBothOpsets) {
  auto a = kernels_of("mobilenetv3.onnx");  // HardSigmoid + Mul
  auto b = kernels_of("mobilenetv3_opset14.onnx");  // HardSwish
  std::map<std::string, int> expected = {{"add", 1},         {"conv", 3},     {"conv-hswish", 3}, {"conv-relu", 1},
                                         {"dwconv-hswish", 1}, {"dwconv-relu", 2}, {"fc", 1},        {"fc-hswish", 1},
                                         {"flatten", 1},     {"global-avgpool", 1}, {"se", 2},      {"softmax", 1}};
  EXPECT_EQ(histogram(a), expected);
  EXPECT_EQ(histogram(b), expected);
  EXPECT_DOUBLE_EQ(total_macs(a), 1343008);
  for (const auto& k : a)
    if (k.type == "se") {
      EXPECT_EQ(k.nodes.size(), 6u);  // GlobalAveragePool, Conv, Relu, Conv, HardSigmoid, Mul
      EXPECT_GT(k.config.get("mid"), 0);
    }
}

TEST(KernelDetector, DenseNetConcatOfManyInputs) {
  auto ks = kernels_of("densenet.onnx");
  EXPECT_EQ(histogram(ks), (std::map<std::string, int>{{"avgpool", 1},
                                                       {"bn-relu", 9},
                                                       {"concat", 9},
                                                       {"conv", 8},
                                                       {"conv-relu", 8},
                                                       {"fc", 1},
                                                       {"flatten", 1},
                                                       {"global-avgpool", 1},
                                                       {"maxpool", 1}}));
  double most_inputs = 0;
  for (const auto& k : ks)
    if (k.type == "concat") most_inputs = std::max(most_inputs, k.config.get("inputs"));
  EXPECT_GE(most_inputs, 4);
}

TEST(KernelDetector, TfStyleMatMulPlusBiasIsOneFc) {
  auto ks = kernels_of("tf_style_nhwc.onnx");
  EXPECT_EQ(histogram(ks), (std::map<std::string, int>{{"conv-relu", 1},
                                                       {"dwconv-relu6", 1},
                                                       {"fc", 1},
                                                       {"global-avgpool", 1},
                                                       {"reshape", 1},
                                                       {"softmax", 1},
                                                       {"transpose", 1}}));
  for (const auto& k : ks)
    if (k.type == "fc") {
      EXPECT_EQ(k.nodes.size(), 2u);
      EXPECT_EQ(k.config.get("cin"), 16);
      EXPECT_EQ(k.config.get("cout"), 10);
    }
}

TEST(KernelDetector, EveryNodeEndsInExactlyOneKernel) {
  for (const char* name : {"mobilenetv1.onnx", "mobilenetv2.onnx", "resnet_basic.onnx", "squeezenet_fire.onnx",
                           "shufflenet.onnx", "densenet.onnx", "mobilenetv3.onnx", "tf_style_nhwc.onnx",
                           "mlp_opset7.onnx"}) {
    deepen::Graph g = deepen::load_onnx(model(name));
    auto ks = deepen::detect_kernels(g, deepen::default_fusion_rules());
    std::map<std::string, int> seen;
    for (const auto& k : ks)
      for (const auto& n : k.nodes) ++seen[n];
    EXPECT_EQ(seen.size(), g.nodes.size()) << name;
    for (const auto& [n, count] : seen) EXPECT_EQ(count, 1) << name << ": " << n;
  }
}

TEST(KernelDetector, UnknownOpBecomesOtherKernel) {
  deepen::Graph g;
  g.name = "custom";
  auto add_tensor = [&](const std::string& name, deepen::Shape shape) {
    g.tensors[name].name = name;
    g.tensors[name].shape = shape;
    g.tensors[name].shape_known = true;
  };
  add_tensor("x", {1, 8, 4, 4});
  add_tensor("y", {1, 8, 4, 4});
  add_tensor("z", {1, 8, 4, 4});
  g.inputs = {"x"};
  g.outputs = {"z"};
  g.nodes.push_back({"weird", "Erf", "", {}, {"x"}, {"y"}});
  g.nodes.push_back({"act", "Relu", "", {}, {"y"}, {"z"}});
  auto ks = deepen::detect_kernels(g, deepen::default_fusion_rules());
  ASSERT_EQ(ks.size(), 2u);
  EXPECT_EQ(ks[0].type, "other:Erf");
  EXPECT_EQ(ks[1].type, "relu");
}

TEST(Features, ConvFlopsAndParamsOfAKnownLayer) {
  // ResNet-18's conv2_x: 56x56x64 -> 56x56x64, 3x3, stride 1.
  deepen::KernelConfig c;
  c.set("hw", 56);
  c.set("cin", 64);
  c.set("cout", 64);
  c.set("ks", 3);
  c.set("stride", 1);
  deepen::KernelWork w = deepen::kernel_work("conv-bn-relu", c);
  EXPECT_DOUBLE_EQ(w.macs, 56.0 * 56 * 64 * 64 * 9);  // 115,605,504
  EXPECT_DOUBLE_EQ(w.flops, 2 * w.macs);
  EXPECT_DOUBLE_EQ(w.params, 64.0 * 64 * 9 + 64);
  auto f = deepen::kernel_features("conv-bn-relu", c);
  EXPECT_EQ(f.size(), deepen::find_schema("conv-bn-relu")->feature_names.size());
  // Stride 2 halves the output: a quarter of the MACs.
  c.set("stride", 2);
  EXPECT_DOUBLE_EQ(deepen::kernel_work("conv-bn-relu", c).macs, 28.0 * 28 * 64 * 64 * 9);
}

TEST(Features, GroupedAndDepthwiseConvAreNotDense) {
  deepen::KernelConfig g;
  for (auto [k, v] : std::vector<std::pair<std::string, double>>{
           {"hw", 8}, {"cin", 48}, {"cout", 24}, {"ks", 1}, {"stride", 1}, {"groups", 4}})
    g.set(k, v);
  EXPECT_DOUBLE_EQ(deepen::kernel_work("gconv-relu", g).macs, 8.0 * 8 * 24 * 12);  // 18,432 as in shufflenet
  deepen::KernelConfig d;
  for (auto [k, v] : std::vector<std::pair<std::string, double>>{{"hw", 16}, {"cin", 24}, {"ks", 3}, {"stride", 2}})
    d.set(k, v);
  EXPECT_DOUBLE_EQ(deepen::kernel_work("dwconv-bn-relu", d).macs, 8.0 * 8 * 24 * 9);  // 13,824
  EXPECT_NE(deepen::find_schema("gconv-relu"), deepen::find_schema("conv-relu"));
}

TEST(Features, MissingOrBadConfigFieldIsAnError) {
  deepen::KernelConfig c;
  c.set("hw", 56);
  c.set("cin", 64);
  EXPECT_THROW(deepen::kernel_features("conv-bn-relu", c), deepen::Error);
  c.set("cout", 64);
  c.set("ks", 3);
  c.set("stride", 0);
  EXPECT_THROW(deepen::kernel_features("conv-bn-relu", c), deepen::Error);
  EXPECT_THROW(deepen::kernel_features("other:Erf", c), deepen::Error);
}

TEST(FusionRules, ParseAndRoundTrip) {
  deepen::FusionRules r = deepen::parse_fusion_rules(
      "chains:\n  - [conv, bn, relu]\n  - [add, relu]\nsame_as:\n  conv-relu: conv-bn-relu\n", "rules.yaml");
  ASSERT_EQ(r.chains.size(), 2u);
  EXPECT_EQ(r.chains[0], (std::vector<std::string>{"conv", "bn", "relu"}));
  EXPECT_EQ(r.scored_as("conv-relu"), "conv-bn-relu");
  EXPECT_EQ(r.scored_as("add-relu"), "add-relu");
  deepen::FusionRules again = deepen::parse_fusion_rules(deepen::fusion_rules_to_yaml(r), "again");
  EXPECT_EQ(again.chains, r.chains);
  EXPECT_EQ(again.same_as, r.same_as);
  EXPECT_THROW(deepen::parse_fusion_rules("chains: 3", "x"), deepen::Error);
  EXPECT_THROW(deepen::parse_fusion_rules("chains:\n  - [conv]\n", "x"), deepen::Error);
  EXPECT_THROW(deepen::parse_fusion_rules("[unclosed", "x"), deepen::Error);
}

TEST(FusionRules, WithoutChainsEveryOpIsItsOwnKernel) {
  deepen::FusionRules none;
  auto ks = deepen::detect_kernels(deepen::load_onnx(model("resnet_basic.onnx")), none);
  std::map<std::string, int> h = histogram(ks);
  EXPECT_EQ(h["conv"], 6);
  EXPECT_EQ(h["relu"], 5);  // three after convs, two after the residual adds
  EXPECT_EQ(h["add"], 2);
}
