// Kernel detection on the test models: types and counts per model, totals of MACs and params
// against the values test_models/describe.py computed independently, and the features of
// known layers.
#include <deepen/error.h>
#include <deepen/graph.h>
#include <deepen/kernels.h>
#include <deepen/schema.h>

#include <gtest/gtest.h>

#include "kernels/families.h"
#include "kernels/matchers/matchers.h"
#include "test_util.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <stdexcept>

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

TEST(Features, ElementWiseFlopsCountEachOpOnceHyphenatedNamesIncluded) {
  deepen::KernelConfig c;
  c.set("hw", 7);
  c.set("cin", 512);
  const double elements = 7.0 * 7 * 512;
  EXPECT_DOUBLE_EQ(deepen::kernel_work("global-avgpool", c).flops, elements);  // one op, not two
  EXPECT_DOUBLE_EQ(deepen::kernel_work("bn-relu", c).flops, 2 * elements);
  EXPECT_DOUBLE_EQ(deepen::kernel_work("relu", c).flops, elements);
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

// The table of kernel families (src/kernels/families.cpp) is what detection, features, work and
// the schema all read: every row has all its parts, names its family once, is the public schema of
// that name, and an ONNX op it lists leads back to it. A family that no ONNX op makes is a block
// that a structural matcher makes.
TEST(KernelFamilies, EveryRowHasItsParts) {
  const auto& families = deepen::detect::kernel_families();
  const auto& schemas = deepen::all_schemas();
  ASSERT_EQ(families.size(), schemas.size());
  std::string matcher_names;
  for (const auto& m : deepen::detect::structural_matchers()) matcher_names += std::string(", ") + m.name + ",";
  std::set<std::string> names;
  for (size_t i = 0; i < families.size(); ++i) {
    const auto& f = families[i];
    SCOPED_TRACE(f.schema.family);
    EXPECT_TRUE(names.insert(f.schema.family).second);
    EXPECT_EQ(schemas[i].family, f.schema.family);
    EXPECT_EQ(deepen::find_schema(f.schema.family), &schemas[i]);
    EXPECT_EQ(deepen::detect::find_family(f.schema.family), &f);
    EXPECT_EQ(deepen::kernel_type_problem(f.schema.family), "");
    EXPECT_FALSE(f.schema.config_fields.empty());
    EXPECT_FALSE(f.schema.feature_names.empty());
    ASSERT_NE(f.schema.features, nullptr);
    ASSERT_NE(f.config, nullptr);
    ASSERT_NE(f.work, nullptr);
    for (auto op : f.onnx_ops) {
      const auto& candidates = deepen::detect::families_of_op(op);
      EXPECT_NE(std::find(candidates.begin(), candidates.end(), &f), candidates.end()) << op;
    }
    if (f.onnx_ops.empty()) {
      EXPECT_NE(matcher_names.find(", " + f.schema.family + ","), std::string::npos) << "no ONNX op and no matcher";
    }
    // Features and work from a config of the schema's fields.
    deepen::KernelConfig c;
    for (const auto& field : f.schema.config_fields) c.set(field, 4);
    auto features = deepen::kernel_features(f.schema.family, c);
    EXPECT_EQ(features.size(), f.schema.feature_names.size());
    for (double v : features) EXPECT_TRUE(std::isfinite(v));
    deepen::KernelWork w = deepen::kernel_work(f.schema.family, c);
    EXPECT_GT(w.bytes, 0);
    EXPECT_GE(w.flops, 2 * w.macs);
  }
  EXPECT_TRUE(deepen::detect::families_of_op("NoSuchOp").empty());
}

// --fusion-rules names the shipped sets as well as a file: "tflite" is the text of
// scripts/fusion-rules/tflite.yaml compiled in, "default" the built-in rules.
TEST(FusionRules, ShippedSetsByName) {
  std::string text;
  deepen::FusionRules tflite = deepen::fusion_rules_named("tflite", &text);
  EXPECT_EQ(text, deepen::test::read_text(std::string(DEEPEN_SOURCE_DIR) + "/scripts/fusion-rules/tflite.yaml"));
  EXPECT_EQ(tflite.scored_as("conv-relu6"), "conv-bn-relu");  // TFLite folds BN: a row of the file
  deepen::FusionRules from_file =
      deepen::fusion_rules_named(std::string(DEEPEN_SOURCE_DIR) + "/scripts/fusion-rules/tflite.yaml", nullptr);
  EXPECT_EQ(from_file.chains, tflite.chains);
  EXPECT_EQ(from_file.same_as, tflite.same_as);
  deepen::FusionRules builtin = deepen::fusion_rules_named("default", &text);
  EXPECT_EQ(builtin.chains, deepen::default_fusion_rules().chains);
  EXPECT_EQ(text, deepen::fusion_rules_to_yaml(deepen::default_fusion_rules()));
  try {
    deepen::fusion_rules_named("tflitee", nullptr);
    ADD_FAILURE() << "a name that is neither a shipped set nor a file must be refused";
  } catch (const deepen::Error& e) {
    EXPECT_NE(std::string(e.what()).find("shipped set: default, tflite"), std::string::npos) << e.what();
  }
}

// Which boosters a rule set would ever use: a type the detector makes and no alias sends
// elsewhere, or an alias's target.
TEST(FusionRules, ReachesTheTypesItMakesOrMapsTo) {
  deepen::FusionRules tflite = deepen::fusion_rules_named("tflite", nullptr);
  EXPECT_TRUE(tflite.reaches("conv-bn-relu"));   // a chain, and the alias target of conv, conv-relu6, ...
  EXPECT_FALSE(tflite.reaches("conv-relu6"));    // made, but scored as conv-bn-relu
  EXPECT_FALSE(tflite.reaches("conv"));          // the same
  EXPECT_TRUE(tflite.reaches("maxpool"));        // one op's kernel
  EXPECT_TRUE(tflite.reaches("global-avgpool"));
  EXPECT_TRUE(tflite.reaches("add-relu"));       // a chain
  EXPECT_FALSE(tflite.reaches("add-relu6-relu"));
  deepen::FusionRules bare = deepen::parse_fusion_rules("chains:\n  - [conv, relu]\nsame_as:\n  conv-relu: conv\n", "r");
  EXPECT_FALSE(bare.reaches("conv-bn-relu"));  // no chain makes it, no alias maps to it
  EXPECT_TRUE(bare.reaches("conv"));
  EXPECT_FALSE(bare.reaches("conv-relu"));
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

// ---- What exporters write for transformer blocks
namespace {

struct TinyGraph {
  deepen::Graph g;
  TinyGraph() { g.name = "transformer"; }
  void tensor(const std::string& name, deepen::Shape shape) {
    g.tensors[name].name = name;
    g.tensors[name].shape = std::move(shape);
    g.tensors[name].shape_known = true;
  }
  void scalar(const std::string& name, double v) {
    tensor(name, {});
    g.tensors[name].is_constant = true;
    g.tensors[name].float_values = {v};
    g.tensors[name].has_float_values = true;
  }
  void weight(const std::string& name, deepen::Shape shape) {
    tensor(name, std::move(shape));
    g.tensors[name].is_constant = true;
  }
  // Every activation here is (1, 16, 32): a sequence of 16 tokens of width 32.
  void node(const std::string& op, std::vector<std::string> in, const std::string& out, deepen::Shape shape = {1, 16, 32}) {
    tensor(out, std::move(shape));
    g.nodes.push_back({out, op, "", {}, std::move(in), {out}});
  }
};

// torch.onnx.export of nn.LayerNorm(32) before opset 17.
TinyGraph decomposed_layernorm() {
  TinyGraph t;
  t.tensor("x", {1, 16, 32});
  t.g.inputs = {"x"};
  t.scalar("two", 2.0);
  t.scalar("eps", 1e-5);
  t.weight("gamma", {32});
  t.weight("beta", {32});
  t.node("ReduceMean", {"x"}, "mean", {1, 16, 1});
  t.node("Sub", {"x", "mean"}, "d");
  t.node("Pow", {"d", "two"}, "sq");
  t.node("ReduceMean", {"sq"}, "var", {1, 16, 1});
  t.node("Add", {"var", "eps"}, "var_eps", {1, 16, 1});
  t.node("Sqrt", {"var_eps"}, "std", {1, 16, 1});
  t.node("Div", {"d", "std"}, "norm");
  t.node("Mul", {"norm", "gamma"}, "scaled");
  t.node("Add", {"scaled", "beta"}, "y");
  t.node("Relu", {"y"}, "z");
  t.g.outputs = {"z"};
  return t;
}

}  // namespace

TEST(KernelDetector, DecomposedLayerNormIsOneKernelLikeLayerNormalization) {
  auto decomposed = deepen::detect_kernels(decomposed_layernorm().g, deepen::default_fusion_rules());
  ASSERT_EQ(decomposed.size(), 2u);
  EXPECT_EQ(decomposed[0].type, "layernorm");
  EXPECT_EQ(decomposed[0].nodes.size(), 9u);
  EXPECT_EQ(decomposed[1].type, "relu");

  TinyGraph op;  // opset 17: one LayerNormalization node
  op.tensor("x", {1, 16, 32});
  op.g.inputs = {"x"};
  op.weight("gamma", {32});
  op.weight("beta", {32});
  op.node("LayerNormalization", {"x", "gamma", "beta"}, "y");
  op.node("Relu", {"y"}, "z");
  op.g.outputs = {"z"};
  auto single = deepen::detect_kernels(op.g, deepen::default_fusion_rules());
  ASSERT_EQ(single.size(), 2u);
  EXPECT_EQ(single[0].type, "layernorm");
  EXPECT_EQ(single[0].config.fields, decomposed[0].config.fields);
  EXPECT_DOUBLE_EQ(single[0].flops, decomposed[0].flops);
  EXPECT_DOUBLE_EQ(single[0].flops, 9.0 * 16 * 32);
}

TEST(KernelDetector, LayerNormWithAMeanOfAnotherTensorIsNotMatched) {
  TinyGraph t = decomposed_layernorm();
  t.tensor("other", {1, 16, 32});
  t.g.inputs.push_back("other");
  t.g.nodes[0].inputs = {"other"};  // the first ReduceMean no longer reads x
  auto ks = deepen::detect_kernels(t.g, deepen::default_fusion_rules());
  for (const auto& k : ks) EXPECT_NE(k.type, "layernorm");
}

TEST(KernelDetector, ErfGeluIsOneKernel) {
  TinyGraph t;
  t.tensor("x", {1, 16, 32});
  t.g.inputs = {"x"};
  t.scalar("sqrt2", 1.4142135381698608);
  t.scalar("one", 1.0);
  t.scalar("half", 0.5);
  t.node("Div", {"x", "sqrt2"}, "a");
  t.node("Erf", {"a"}, "b");
  t.node("Add", {"b", "one"}, "c");
  t.node("Mul", {"x", "c"}, "d");
  t.node("Mul", {"d", "half"}, "y");
  t.g.outputs = {"y"};
  auto ks = deepen::detect_kernels(t.g, deepen::default_fusion_rules());
  ASSERT_EQ(ks.size(), 1u);
  EXPECT_EQ(ks[0].type, "gelu");
  EXPECT_DOUBLE_EQ(ks[0].flops, 5.0 * 16 * 32);
}

TEST(KernelDetector, MatMulOfTwoActivationsIsABatchedMatmul) {
  TinyGraph t;  // attention scores: (1, 4 heads, 16, 8) x (1, 4, 8, 16)
  t.tensor("q", {1, 4, 16, 8});
  t.tensor("kt", {1, 4, 8, 16});
  t.g.inputs = {"q", "kt"};
  t.node("MatMul", {"q", "kt"}, "scores", {1, 4, 16, 16});
  t.g.outputs = {"scores"};
  auto ks = deepen::detect_kernels(t.g, deepen::default_fusion_rules());
  ASSERT_EQ(ks.size(), 1u);
  EXPECT_EQ(ks[0].type, "matmul");
  EXPECT_DOUBLE_EQ(ks[0].macs, 4.0 * 16 * 8 * 16);
  EXPECT_DOUBLE_EQ(ks[0].config.get("rows"), 64);
  EXPECT_DOUBLE_EQ(ks[0].bytes, (64.0 * 8 + 4 * 8 * 16 + 64 * 16) * 4);
  EXPECT_EQ(deepen::kernel_features("matmul", ks[0].config).size(), 5u);
}

TEST(KernelDetector, SegmentationAndRecurrentOpsAreKernels) {
  TinyGraph t;
  t.tensor("x", {1, 8, 16, 16});
  t.g.inputs = {"x"};
  t.weight("wt", {8, 4, 2, 2});  // ConvTranspose: (cin, cout / group, kh, kw)
  auto& up = t.g.nodes.emplace_back(deepen::Node{"up", "ConvTranspose", "", {}, {"x", "wt"}, {"u"}});
  up.attrs["strides"] = std::vector<int64_t>{2, 2};
  t.tensor("u", {1, 4, 32, 32});
  t.weight("scales", {4});
  t.node("Resize", {"u", "", "scales"}, "r", {1, 4, 64, 64});
  t.g.outputs = {"r"};
  auto ks = deepen::detect_kernels(t.g, deepen::default_fusion_rules());
  ASSERT_EQ(ks.size(), 2u);
  EXPECT_EQ(ks[0].type, "convtranspose");
  EXPECT_DOUBLE_EQ(ks[0].macs, 16.0 * 16 * 8 * 4 * 2 * 2);  // every input pixel through the kernel
  EXPECT_DOUBLE_EQ(ks[0].config.get("hw_out"), 32);
  EXPECT_EQ(ks[1].type, "resize");
  EXPECT_DOUBLE_EQ(ks[1].flops, 64.0 * 64 * 4);
  EXPECT_DOUBLE_EQ(ks[1].bytes, (32.0 * 32 + 64 * 64) * 4 * 4);

  TinyGraph r;  // LSTM over 12 steps of 16 features, hidden 32; then y[:, -1] and a token mean
  r.tensor("seq", {12, 1, 16});
  r.g.inputs = {"seq"};
  r.weight("W", {1, 128, 16});
  r.weight("R", {1, 128, 32});
  r.weight("last", {});
  r.g.tensors["last"].int_values = {-1};
  r.g.tensors["last"].has_int_values = true;
  r.node("LSTM", {"seq", "W", "R"}, "h", {12, 1, 1, 32});
  r.node("Squeeze", {"h"}, "hs", {12, 1, 32});
  r.node("Transpose", {"hs"}, "bt", {1, 12, 32});
  r.node("Gather", {"bt", "last"}, "final", {1, 32});
  auto& mean = r.g.nodes.emplace_back(deepen::Node{"mean", "ReduceMean", "", {}, {"bt"}, {"pooled"}});
  mean.attrs["axes"] = std::vector<int64_t>{1};
  r.tensor("pooled", {1, 1, 32});
  r.g.outputs = {"final", "pooled"};
  auto rk = deepen::detect_kernels(r.g, deepen::default_fusion_rules());
  ASSERT_EQ(rk.size(), 5u);
  EXPECT_EQ(rk[0].type, "lstm");
  EXPECT_DOUBLE_EQ(rk[0].macs, 12.0 * 4 * 32 * (16 + 32));
  EXPECT_DOUBLE_EQ(rk[0].config.get("cout"), 32);
  EXPECT_EQ(rk[3].type, "slice");
  EXPECT_EQ(rk[4].type, "global-avgpool");
}

TEST(KernelDetector, ChannelsLastMeanIsGlobalPooling) {
  TinyGraph t;  // swin / convnext heads: x.mean((1, 2)) on (batch, H, W, C)
  t.tensor("x", {1, 4, 4, 32});
  t.g.inputs = {"x"};
  auto& mean = t.g.nodes.emplace_back(deepen::Node{"mean", "ReduceMean", "", {}, {"x"}, {"y"}});
  mean.attrs["axes"] = std::vector<int64_t>{1, 2};
  mean.attrs["keepdims"] = int64_t{0};
  t.tensor("y", {1, 32});
  t.g.outputs = {"y"};
  auto ks = deepen::detect_kernels(t.g, deepen::default_fusion_rules());
  ASSERT_EQ(ks.size(), 1u);
  EXPECT_EQ(ks[0].type, "global-avgpool");
  EXPECT_DOUBLE_EQ(ks[0].bytes, 2 * 4.0 * 4 * 32 * 4);  // counted like element-wise work
}

TEST(KernelDetector, AnOpenShapeNamesTheNodeThatLeftItOpen) {
  TinyGraph t;  // ONNX 1.12 infers only the rank of an Einsum's output
  t.tensor("x", {1, 16, 32});
  t.g.inputs = {"x"};
  t.g.nodes.push_back({"scores", "Einsum", "", {}, {"x", "x"}, {"s"}});
  t.g.tensors["s"].name = "s";
  t.node("Relu", {"s"}, "y");
  t.g.outputs = {"y"};
  try {
    deepen::detect_kernels(t.g, deepen::default_fusion_rules());
    FAIL() << "an open shape must be an error";
  } catch (const deepen::Error& e) {
    EXPECT_NE(std::string(e.what()).find("written by node 'scores', Einsum; read by node 'y', Relu"), std::string::npos)
        << e.what();
  }
}

#include <deepen/zoo.h>

#include "zoo/graph_builder.h"

namespace {

// A binary element-wise op works on its output's elements whichever operand is broadcast: a
// per-channel scale p (1xCx1x1) times x (1xCxHxW) is the same kernel written p*x or x*p.
TEST(KernelDetector, BroadcastOperandOrderGivesTheSameKernel) {
  for (const std::string op : {"Mul", "Add", "Sub", "Div"}) {
    std::vector<std::string> configs;
    for (bool scale_first : {true, false}) {
      deepen::zoo::GraphBuilder b("broadcast");
      std::string x = b.input("x", {1, 16, 32, 32});
      std::string p = b.act(b.conv(b.global_avgpool(x), 16, 1, 1, 1, true), "sigmoid");
      std::string y = scale_first ? b.binary(op, p, x) : b.binary(op, x, p);
      b.output(b.act(y, "tanh"));
      deepen::Graph g = deepen::load_onnx_bytes(deepen::serialize_onnx(b.take()), op);
      std::string found;
      for (const auto& k : deepen::detect_kernels(g, deepen::default_fusion_rules()))
        if (k.ops.size() == 1 && k.ops[0] == op)
          found = k.type + " hw=" + std::to_string(k.config.get("hw")) + " cin=" +
                  std::to_string(k.config.get("cin")) + " flops=" + std::to_string(k.flops);
      ASSERT_FALSE(found.empty()) << op;
      configs.push_back(found);
    }
    EXPECT_EQ(configs[0], configs[1]) << op;
    EXPECT_NE(configs[0].find("hw=32"), std::string::npos) << configs[0];
  }
}

}  // namespace

// ---- The work of ops deepen does not score: counted from their semantics, so that coverage is
// the share of real work and an unscored op never looks free.
namespace {

void equation(deepen::Node& n, const char* eq) { n.attrs["equation"] = std::string(eq); }

deepen::Node& add_node(TinyGraph& t, const std::string& op, std::vector<std::string> in, const std::string& out,
                       deepen::Shape shape) {
  t.tensor(out, std::move(shape));
  t.g.outputs.push_back(out);
  return t.g.nodes.emplace_back(deepen::Node{out, op, "", {}, std::move(in), {out}});
}

void int_argument(TinyGraph& t, const std::string& name, std::vector<int64_t> values) {
  t.weight(name, {static_cast<int64_t>(values.size())});
  t.g.tensors[name].elem_type = 7;  // int64: an argument, not a weight
  t.g.tensors[name].int_values = std::move(values);
  t.g.tensors[name].has_int_values = true;
}

const deepen::Kernel& kernel_of(const std::vector<deepen::Kernel>& ks, const std::string& node) {
  for (const auto& k : ks)
    if (!k.nodes.empty() && k.nodes.back() == node) return k;
  throw std::runtime_error("no kernel ends in node " + node);
}

}  // namespace

TEST(OpWork, EinsumIsTheProductOfItsIndicesAndCountsItsWeights) {
  TinyGraph t;
  t.tensor("x", {2, 16, 32});
  t.g.inputs = {"x"};
  t.weight("w", {32, 64});
  equation(add_node(t, "Einsum", {"x", "w"}, "proj", {2, 16, 64}), "bij,jk->bik");       // a weight
  equation(add_node(t, "Einsum", {"proj", "proj"}, "scores", {2, 16, 16}), "bqd,bkd->bqk");  // two activations
  equation(add_node(t, "Einsum", {"scores"}, "swapped", {2, 16, 16}), "bqk->bkq");      // a permutation
  equation(add_node(t, "Einsum", {"scores"}, "rowsum", {2, 16}), "bqk->bq");            // a sum
  equation(add_node(t, "Einsum", {"x", "x"}, "gated", {2, 16, 32}), "...j,...j->...j");  // a product, no sum
  auto ks = deepen::detect_kernels(t.g, deepen::default_fusion_rules());
  ASSERT_EQ(ks.size(), 5u);
  const auto& proj = kernel_of(ks, "proj");
  EXPECT_EQ(proj.type, "other:Einsum");
  EXPECT_DOUBLE_EQ(proj.macs, 2.0 * 16 * 32 * 64);  // b, i, j, k
  EXPECT_DOUBLE_EQ(proj.flops, 2 * proj.macs);
  EXPECT_DOUBLE_EQ(proj.params, 32.0 * 64);
  EXPECT_DOUBLE_EQ(proj.bytes, (2.0 * 16 * 32 + 32 * 64 + 2 * 16 * 64) * 4);
  const auto& scores = kernel_of(ks, "scores");
  EXPECT_DOUBLE_EQ(scores.macs, 2.0 * 16 * 16 * 64);  // b, q, k, d
  EXPECT_DOUBLE_EQ(scores.flops, 2 * scores.macs);
  EXPECT_DOUBLE_EQ(scores.params, 0);
  EXPECT_DOUBLE_EQ(scores.bytes, (2 * 2.0 * 16 * 64 + 2 * 16 * 16) * 4);
  const auto& swapped = kernel_of(ks, "swapped");
  EXPECT_DOUBLE_EQ(swapped.flops, 0);  // moves data only
  EXPECT_DOUBLE_EQ(swapped.bytes, 2 * 2.0 * 16 * 16 * 4);
  EXPECT_DOUBLE_EQ(kernel_of(ks, "rowsum").flops, 2.0 * 16 * 16);  // one add per summed element
  const auto& gated = kernel_of(ks, "gated");
  EXPECT_DOUBLE_EQ(gated.macs, 2.0 * 16 * 32);  // "..." counts as indices too
  EXPECT_DOUBLE_EQ(gated.flops, 2.0 * 16 * 32);  // one multiply each, nothing summed
}

TEST(OpWork, MatMulBroadcastsItsBatchDimsAndCountsAConstantOperand) {
  TinyGraph t;
  t.tensor("a", {16, 8});       // broadcast over b's batch of 4
  t.tensor("b", {4, 8, 16});
  t.tensor("c", {4, 16, 8});
  t.g.inputs = {"a", "b", "c"};
  t.weight("w3", {4, 8, 32});   // a constant 3-D operand: weights, but not a 2-D fc
  add_node(t, "MatMul", {"a", "b"}, "ab", {4, 16, 16});
  add_node(t, "MatMul", {"c", "w3"}, "cw", {4, 16, 32});
  auto ks = deepen::detect_kernels(t.g, deepen::default_fusion_rules());
  ASSERT_EQ(ks.size(), 2u);
  EXPECT_EQ(ks[0].type, "matmul");
  EXPECT_DOUBLE_EQ(ks[0].config.get("rows"), 4.0 * 16);
  EXPECT_DOUBLE_EQ(ks[0].macs, 4.0 * 16 * 8 * 16);  // was 16 x 8 x 16: the batch of b was lost
  EXPECT_DOUBLE_EQ(ks[0].bytes, (16.0 * 8 + 4 * 8 * 16 + 4 * 16 * 16) * 4);  // a is read once
  EXPECT_DOUBLE_EQ(ks[0].params, 0);
  EXPECT_EQ(ks[1].type, "matmul");
  EXPECT_DOUBLE_EQ(ks[1].macs, 4.0 * 16 * 8 * 32);
  EXPECT_DOUBLE_EQ(ks[1].params, 4.0 * 8 * 32);
}

TEST(OpWork, ElementWiseDataMovementAndOtherOpsCountTheirElements) {
  TinyGraph t;
  t.tensor("x", {1, 32, 8, 8});
  t.tensor("p", {1, 32, 1, 1});
  t.tensor("cond", {1, 1, 8, 8});
  t.tensor("ids", {1, 5});
  t.tensor("s", {1, 8, 100});
  t.g.inputs = {"x", "p", "cond", "ids", "s"};
  const double n = 32.0 * 8 * 8;  // elements of x
  int_argument(t, "shape", {1, 32, 8, 8});
  int_argument(t, "repeats", {1, 1, 8, 8});
  int_argument(t, "axes", {2, 3});
  t.weight("table", {1000, 32});
  t.weight("w1d", {16, 8, 3});
  t.weight("b1d", {16});
  t.weight("scale", {1, 32, 1, 1});
  add_node(t, "Expand", {"p", "shape"}, "expanded", {1, 32, 8, 8});
  add_node(t, "Tile", {"p", "repeats"}, "tiled", {1, 32, 8, 8});
  add_node(t, "Where", {"cond", "x", "expanded"}, "chosen", {1, 32, 8, 8});
  add_node(t, "ReduceSum", {"x", "axes"}, "summed", {1, 32, 1, 1});
  add_node(t, "Gather", {"table", "ids"}, "embedded", {1, 5, 32});
  add_node(t, "Transpose", {"x"}, "nhwc", {1, 8, 8, 32});
  add_node(t, "Conv", {"s", "w1d", "b1d"}, "conv1d", {1, 16, 98});
  add_node(t, "Erf", {"x"}, "erf", {1, 32, 8, 8});
  add_node(t, "Mul", {"chosen", "scale"}, "scaled", {1, 32, 8, 8});
  t.g.outputs.erase(std::remove(t.g.outputs.begin(), t.g.outputs.end(), "chosen"), t.g.outputs.end());
  auto ks = deepen::detect_kernels(t.g, deepen::default_fusion_rules());

  const auto& expand = kernel_of(ks, "expanded");
  EXPECT_EQ(expand.type, "other:Expand");
  EXPECT_DOUBLE_EQ(expand.flops, 0);
  EXPECT_DOUBLE_EQ(expand.bytes, (32 + n) * 4);  // reads p, writes the broadcast; the shape is an argument
  EXPECT_DOUBLE_EQ(expand.params, 0);
  EXPECT_DOUBLE_EQ(kernel_of(ks, "tiled").bytes, (32 + n) * 4);
  const auto& where = kernel_of(ks, "chosen");
  EXPECT_EQ(where.type, "other:Where");
  EXPECT_DOUBLE_EQ(where.flops, n);  // one select per output element
  EXPECT_DOUBLE_EQ(where.bytes, (64 + n + n + n) * 4);
  const auto& sum = kernel_of(ks, "summed");
  EXPECT_DOUBLE_EQ(sum.flops, n);  // one add per input element
  EXPECT_DOUBLE_EQ(sum.bytes, (n + 32) * 4);
  const auto& gather = kernel_of(ks, "embedded");
  EXPECT_EQ(gather.type, "other:Gather");
  EXPECT_DOUBLE_EQ(gather.bytes, 2 * 5.0 * 32 * 4);   // the rows it picks, not the whole table
  EXPECT_DOUBLE_EQ(gather.params, 1000.0 * 32);      // but the table is the model's weights
  const auto& transpose = kernel_of(ks, "nhwc");
  EXPECT_TRUE(transpose.zero_cost);
  EXPECT_DOUBLE_EQ(transpose.flops, 0);
  EXPECT_DOUBLE_EQ(transpose.bytes, 2 * n * 4);
  const auto& conv1d = kernel_of(ks, "conv1d");
  EXPECT_EQ(conv1d.type, "other:Conv");
  EXPECT_DOUBLE_EQ(conv1d.macs, 16.0 * 98 * 8 * 3);
  EXPECT_DOUBLE_EQ(conv1d.flops, 2 * conv1d.macs);
  EXPECT_DOUBLE_EQ(conv1d.params, 16.0 * 8 * 3 + 16);
  EXPECT_DOUBLE_EQ(conv1d.bytes, (800.0 + 16 * 8 * 3 + 16 + 16 * 98) * 4);
  EXPECT_DOUBLE_EQ(kernel_of(ks, "erf").flops, n);
  const auto& scaled = kernel_of(ks, "scaled");
  EXPECT_EQ(scaled.type, "mul");
  EXPECT_DOUBLE_EQ(scaled.flops, n);
  EXPECT_DOUBLE_EQ(scaled.params, 32);  // the per-channel scale it reads
}
