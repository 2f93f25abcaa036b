// deepen's own shape inference against ONNX's: for every test model, every zoo family, variants,
// NAS-Bench-201 nets, damaged files and invalid models, the loader's two paths must give the same
// Graph (every tensor's shape and type, the nodes, the folding) and the same kernels, or the
// same error.
#include <deepen/error.h>
#include <deepen/graph.h>
#include <deepen/kernels.h>
#include <deepen/zoo.h>

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include "graph/folding.h"
#include "graph/opsets.h"
#include "graph/shape_rules.h"
#include "test_util.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <random>
#include <sstream>

using deepen::Graph;
using deepen::LoadOptions;
using deepen::Shape;

namespace {

LoadOptions with(LoadOptions::ShapeInference choice) {
  LoadOptions o;
  o.shape_inference = choice;
  return o;
}
const LoadOptions kDeepen = with(LoadOptions::ShapeInference::Deepen);
const LoadOptions kOnnx = with(LoadOptions::ShapeInference::Onnx);
const LoadOptions kAuto = with(LoadOptions::ShapeInference::Auto);

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string describe(const Shape& s) {
  std::string out;
  for (auto d : s) out += std::to_string(d) + "x";
  return out;
}

// Everything a later stage reads from a Graph, as text, so that a difference shows in the diff.
std::string dump_graph(const Graph& g) {
  std::ostringstream out;
  out << "opset " << g.opset << "\ninputs";
  for (const auto& i : g.inputs) out << " " << i;
  out << "\noutputs";
  for (const auto& o : g.outputs) out << " " << o;
  out << "\n";
  for (const auto& n : g.nodes) {
    out << n.name << " " << n.op << " " << n.domain << " (";
    for (const auto& i : n.inputs) out << i << ",";
    out << ") -> (";
    for (const auto& o : n.outputs) out << o << ",";
    out << ") attrs " << n.attrs.size() << "\n";
  }
  std::vector<std::string> names;
  for (const auto& [name, t] : g.tensors) names.push_back(name);
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    const auto& t = g.tensors.at(name);
    out << "tensor " << name << " known " << t.shape_known << " shape " << describe(t.shape) << " type "
        << t.elem_type << " const " << t.is_constant;
    if (t.has_int_values) out << " ints " << describe(t.int_values);
    if (t.has_float_values) out << " floats " << t.float_values.size();
    out << "\n";
  }
  std::vector<std::string> folded = g.folded;
  std::sort(folded.begin(), folded.end());
  for (const auto& f : folded) out << "folded " << f << "\n";
  return out.str();
}

std::string dump_kernels(const Graph& g) {
  std::ostringstream out;
  for (const auto& k : deepen::detect_kernels(g, deepen::default_fusion_rules())) {
    out << k.type << " " << k.output << " zero " << k.zero_cost << " macs " << k.macs << " flops " << k.flops
        << " params " << k.params << " bytes " << k.bytes << " [";
    for (const auto& n : k.nodes) out << n << ",";
    out << "]";
    for (const auto& [key, v] : k.config.fields) out << " " << key << "=" << v;
    out << "\n";
  }
  return out.str();
}

// The outcome of loading: the dumps, or the error.
std::string outcome(const std::string& bytes, const LoadOptions& options) {
  try {
    Graph g = deepen::load_onnx_bytes(bytes, "model.onnx", options);
    return dump_graph(g) + dump_kernels(g);
  } catch (const deepen::Error& e) {
    return std::string("error: ") + e.what();
  }
}

// Where two outcomes differ: the first differing line of each (the whole text is too long to read).
std::string difference(const std::string& a, const std::string& b) {
  if (a == b) return "";
  std::istringstream sa(a), sb(b);
  std::string la, lb;
  int line = 1;
  while (true) {
    bool ga = static_cast<bool>(std::getline(sa, la)), gb = static_cast<bool>(std::getline(sb, lb));
    if (!ga && !gb) return "differ";
    if (!ga || !gb || la != lb)
      return "line " + std::to_string(line) + ":\n  " + (ga ? la : "<end>") + "\n  " + (gb ? lb : "<end>");
    ++line;
  }
}

// The fast path handles the model (no fallback) and gives what the ONNX path gives.
void expect_fast_and_same(const std::string& bytes, const std::string& what) {
  std::string fast = outcome(bytes, kDeepen), onnx = outcome(bytes, kOnnx);
  EXPECT_EQ(fast.rfind("error", 0), std::string::npos) << what << ": " << fast;
  EXPECT_EQ(difference(fast, onnx), "") << what;
}

const char* kTestModels[] = {"mobilenetv1.onnx", "mobilenetv2.onnx",        "resnet_basic.onnx",
                             "squeezenet_fire.onnx", "shufflenet.onnx",     "densenet.onnx",
                             "mobilenetv3.onnx",  "mobilenetv3_opset14.onnx", "tf_style_nhwc.onnx",
                             "mlp_opset7.onnx"};

TEST(ShapeInference, TestModelsTakeTheFastPathAndMatchOnnx) {
  for (const char* name : kTestModels) expect_fast_and_same(read_file(deepen::test::model(name)), name);
}

TEST(ShapeInference, InputShapeOverridesMatchOnnx) {
  LoadOptions fast = kDeepen, onnx = kOnnx;
  fast.input_shapes["input"] = onnx.input_shapes["input"] = {2, 3, 160, 128};
  Graph a = deepen::load_onnx(deepen::test::model("mobilenetv2.onnx"), fast);
  Graph b = deepen::load_onnx(deepen::test::model("mobilenetv2.onnx"), onnx);
  EXPECT_EQ(difference(dump_graph(a), dump_graph(b)), "");
  EXPECT_EQ(a.tensor(a.outputs[0]).shape[0], 2);
}

TEST(ShapeInference, ZooFamiliesVariantsAndNb201MatchOnnx) {
  for (const auto& family : deepen::zoo_families())
    expect_fast_and_same(deepen::serialize_onnx(deepen::build_family(family.name)), family.name);
  for (const char* family : {"mobilenetv2", "mobilenetv3", "shufflenetv2", "resnet18"})
    for (int index : {0, 1})
      expect_fast_and_same(deepen::serialize_onnx(deepen::build_family_variant(family, 11, index)),
                           std::string(family) + " variant " + std::to_string(index));
  for (const char* arch : {"|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
                           "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|"})
    for (const char* dataset : {"cifar10", "ImageNet16-120"})
      expect_fast_and_same(deepen::serialize_onnx(deepen::build_nb201(arch, dataset)), arch);
}

// Damaged files: whatever each path answers (a Graph or an error), Auto answers the same as ONNX.
TEST(ShapeInference, BitFlippedAndTruncatedModelsAnswerAsOnnxDoes) {
  int compared = 0;
  for (const char* name : {"squeezenet_fire.onnx", "shufflenet.onnx", "mlp_opset7.onnx"}) {
    std::string real = read_file(deepen::test::model(name));
    ASSERT_FALSE(real.empty());
    for (size_t at = 0; at < real.size(); at += 53) {
      std::string flipped = real;
      flipped[at] ^= static_cast<char>(1 << (at % 8));
      EXPECT_EQ(difference(outcome(flipped, kAuto), outcome(flipped, kOnnx)), "") << name << " bit flip at " << at;
      ++compared;
    }
    for (size_t len = 1; len < real.size(); len += 97) {
      std::string cut = real.substr(0, len);
      EXPECT_EQ(difference(outcome(cut, kAuto), outcome(cut, kOnnx)), "") << name << " cut at " << len;
      ++compared;
    }
  }
  EXPECT_GT(compared, 300);
}

// ---- small models built with the protobuf classes
struct Builder {
  onnx::ModelProto m;
  explicit Builder(int64_t opset = 13) {
    m.set_ir_version(7);
    auto* op = m.add_opset_import();
    op->set_domain("");
    op->set_version(opset);
  }
  void input(const std::string& name, const Shape& dims, int32_t elem_type = 1) {
    auto* tt = m.mutable_graph()->add_input()->mutable_type()->mutable_tensor_type();
    m.mutable_graph()->mutable_input()->rbegin()->set_name(name);
    tt->set_elem_type(elem_type);
    for (auto d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
  }
  void weight(const std::string& name, const Shape& dims) {
    auto* t = m.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(1);
    for (auto d : dims) t->add_dims(d);
  }
  void ints(const std::string& name, const std::vector<int64_t>& values) {
    auto* t = m.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(7);
    t->add_dims(static_cast<int64_t>(values.size()));
    for (auto v : values) t->add_int64_data(v);
  }
  void floats(const std::string& name, const std::vector<float>& values) {
    auto* t = m.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(1);
    t->add_dims(static_cast<int64_t>(values.size()));
    for (auto v : values) t->add_float_data(v);
  }
  onnx::NodeProto* node(const std::string& op, std::vector<std::string> in, std::vector<std::string> out) {
    auto* n = m.mutable_graph()->add_node();
    n->set_op_type(op);
    n->set_name(op + "_node");
    for (auto& i : in) n->add_input(i);
    for (auto& o : out) n->add_output(o);
    return n;
  }
  static void attr(onnx::NodeProto* n, const std::string& name, std::vector<int64_t> v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (auto x : v) a->add_ints(x);
  }
  static void attr(onnx::NodeProto* n, const std::string& name, int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
  }
  static void attr(onnx::NodeProto* n, const std::string& name, const char* v) { attr(n, name, std::string(v)); }
  static void attr(onnx::NodeProto* n, const std::string& name, const std::string& v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(v);
  }
  std::string bytes(const std::string& output) {
    m.mutable_graph()->add_output()->set_name(output);
    std::string s;
    m.SerializeToString(&s);
    return s;
  }
};

TEST(ShapeInference, ConvAndPoolAttributesMatchOnnx) {
  for (const char* auto_pad : {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"})
    for (int64_t stride : {1, 2, 3})
      for (int64_t ceil : {0, 1}) {
        Builder b;
        b.input("x", {1, 8, 17, 12});
        b.weight("w", {16, 4, 3, 5});
        auto* conv = b.node("Conv", {"x", "w"}, {"y"});
        Builder::attr(conv, "group", int64_t{2});
        Builder::attr(conv, "strides", std::vector<int64_t>{stride, 1});
        Builder::attr(conv, "dilations", std::vector<int64_t>{1, 2});
        Builder::attr(conv, "auto_pad", auto_pad);
        auto* pool = b.node("MaxPool", {"y"}, {"z"});
        Builder::attr(pool, "kernel_shape", std::vector<int64_t>{3, 3});
        Builder::attr(pool, "strides", std::vector<int64_t>{2, stride});
        Builder::attr(pool, "pads", std::vector<int64_t>{1, 0, 1, 1});
        Builder::attr(pool, "ceil_mode", ceil);
        expect_fast_and_same(b.bytes("z"), std::string(auto_pad) + " stride " + std::to_string(stride));
      }
}

TEST(ShapeInference, SliceSplitSqueezeAcrossOpsetsMatchOnnx) {
  for (int64_t opset : {9, 11, 13}) {
    Builder b(opset);
    b.input("x", {1, 12, 10, 10});
    onnx::NodeProto* slice;
    if (opset < 10) {
      slice = b.node("Slice", {"x"}, {"s"});
      Builder::attr(slice, "starts", std::vector<int64_t>{1, 2});
      Builder::attr(slice, "ends", std::vector<int64_t>{100, 9});
      Builder::attr(slice, "axes", std::vector<int64_t>{1, 3});
    } else {
      b.ints("starts", {1, -7});
      b.ints("ends", {100, -1});
      b.ints("axes", {1, 3});
      b.ints("steps", {2, 1});
      b.node("Slice", {"x", "starts", "ends", "axes", "steps"}, {"s"});
    }
    onnx::NodeProto* split;
    if (opset < 13) {
      split = b.node("Split", {"s"}, {"a", "c"});
      Builder::attr(split, "split", std::vector<int64_t>{2, 8});
    } else {
      b.ints("split", {2, 8});
      split = b.node("Split", {"s", "split"}, {"a", "c"});
    }
    Builder::attr(split, "axis", int64_t{2});
    auto* sq = opset < 13 ? b.node("Unsqueeze", {"a"}, {"u"}) : (b.ints("uaxes", {0, 5}), b.node("Unsqueeze", {"a", "uaxes"}, {"u"}));
    if (opset < 13) Builder::attr(sq, "axes", std::vector<int64_t>{0, 5});
    if (opset < 13) Builder::attr(b.node("Squeeze", {"u"}, {"q"}), "axes", std::vector<int64_t>{0, 5});
    else b.node("Squeeze", {"u", "uaxes"}, {"q"});
    expect_fast_and_same(b.bytes("q"), "opset " + std::to_string(opset));
  }
}

// Random single-op models (valid and not: kernels larger than the input, negative pads, odd
// axes...) at several opsets: Auto answers exactly as ONNX's path does, and the fast path takes
// most of the valid ones.
TEST(ShapeInference, RandomOpsAnswerAsOnnxDoes) {
  std::mt19937_64 rng(20261129);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  const char* ops[] = {"Conv", "MaxPool", "AveragePool", "Slice", "Reshape", "Transpose", "Gather", "Pad",
                       "ReduceMean", "Resize", "Split", "Flatten", "Unsqueeze", "Squeeze", "MatMul", "Concat",
                       "Add",  "Gemm",    "Expand",      "Tile"};
  int fast = 0, total = 0;
  for (int iter = 0; iter < 1000; ++iter) {
    const std::string op = ops[pick(0, 19)];
    const int64_t opset = std::vector<int64_t>{7, 9, 11, 13, 17}[pick(0, 4)];
    Builder b(opset);
    const int64_t c = pick(1, 4) * 2, h = pick(1, 12), w = pick(1, 12);
    b.input("x", {1, c, h, w});
    onnx::NodeProto* n = nullptr;
    auto maybe = [&](const char* name, std::vector<int64_t> v) {
      if (pick(0, 2) > 0) Builder::attr(n, name, std::move(v));
    };
    if (op == "Conv" || op == "MaxPool" || op == "AveragePool") {
      const int64_t kh = pick(1, 5), kw = pick(1, 5);
      if (op == "Conv") {
        const int64_t group = pick(0, 1) ? 1 : c;
        b.weight("w", {pick(1, 3) * 2, c / group, kh, kw});
        n = b.node(op, {"x", "w"}, {"y"});
        if (group > 1) Builder::attr(n, "group", group);
        maybe("dilations", {pick(1, 2), pick(1, 2)});
      } else {
        n = b.node(op, {"x"}, {"y"});
        Builder::attr(n, "kernel_shape", std::vector<int64_t>{kh, kw});
        if (opset >= 10 && pick(0, 1)) Builder::attr(n, "ceil_mode", int64_t{1});
      }
      maybe("strides", {pick(1, 3), pick(1, 3)});
      if (pick(0, 1)) maybe("pads", {pick(-1, 2), pick(0, 2), pick(0, 2), pick(-1, 2)});
      else Builder::attr(n, "auto_pad", std::vector<std::string>{"SAME_UPPER", "SAME_LOWER", "VALID", "NOTSET"}[pick(0, 3)]);
    } else if (op == "Slice") {
      std::vector<int64_t> starts{pick(-6, 6)}, ends{pick(-8, 20)}, axes{pick(-4, 3)}, steps{pick(-2, 2)};
      if (opset < 10) {
        n = b.node(op, {"x"}, {"y"});
        Builder::attr(n, "starts", starts);
        Builder::attr(n, "ends", ends);
        Builder::attr(n, "axes", axes);
      } else {
        b.ints("starts", starts);
        b.ints("ends", ends);
        b.ints("axes", axes);
        b.ints("steps", steps);
        n = b.node(op, {"x", "starts", "ends", "axes", "steps"}, {"y"});
      }
    } else if (op == "Reshape") {
      b.ints("shape", {pick(-1, 2), pick(-1, 1) * c, pick(-1, 1) * h, pick(-1, 1) * w});
      n = b.node(op, {"x", "shape"}, {"y"});
    } else if (op == "Transpose") {
      n = b.node(op, {"x"}, {"y"});
      std::vector<int64_t> perm{0, 1, 2, 3};
      std::shuffle(perm.begin(), perm.end(), rng);
      if (pick(0, 3) == 0) perm[0] = 0;  // sometimes not a permutation
      maybe("perm", perm);
    } else if (op == "Gather") {
      b.ints("idx", std::vector<int64_t>(static_cast<size_t>(pick(1, 3)), pick(-1, 1)));
      n = b.node(op, {"x", "idx"}, {"y"});
      Builder::attr(n, "axis", pick(-4, 4));
    } else if (op == "Pad") {
      std::vector<int64_t> pads{0, 0, pick(-1, 2), pick(-1, 2), 0, 0, pick(-1, 2), pick(0, 2)};
      if (opset < 11) {
        n = b.node(op, {"x"}, {"y"});
        Builder::attr(n, "pads", pads);
      } else {
        b.ints("pads", pads);
        n = b.node(op, {"x", "pads"}, {"y"});
      }
    } else if (op == "ReduceMean") {
      n = b.node(op, {"x"}, {"y"});
      maybe("axes", {pick(-4, 3)});
      if (pick(0, 1)) Builder::attr(n, "keepdims", pick(0, 1));
    } else if (op == "Resize") {
      if (opset < 11) continue;
      b.ints("sizes", {1, c, pick(1, 30), pick(1, 30)});
      b.weight("roi", {0});
      b.weight("scales", {0});
      n = b.node(op, {"x", "roi", "scales", "sizes"}, {"y"});
    } else if (op == "Split") {
      n = b.node(op, {"x"}, {"y", "z"});
      Builder::attr(n, "axis", pick(-4, 3));
    } else if (op == "Flatten") {
      n = b.node(op, {"x"}, {"y"});
      Builder::attr(n, "axis", pick(-5, 5));
    } else if (op == "Unsqueeze" || op == "Squeeze") {
      std::vector<int64_t> axes{pick(-5, 4)};
      if (opset < 13) {
        n = b.node(op, {"x"}, {"y"});
        Builder::attr(n, "axes", axes);
      } else {
        b.ints("axes", axes);
        n = b.node(op, {"x", "axes"}, {"y"});
      }
    } else if (op == "MatMul") {
      b.weight("w", {pick(1, 2) == 1 ? w : pick(1, 12), pick(1, 6)});
      n = b.node(op, {"x", "w"}, {"y"});
    } else if (op == "Add") {
      b.weight("w", {pick(0, 1) ? c : pick(1, 3), pick(0, 1) ? 1 : h, pick(0, 1) ? w : 1});
      n = b.node(op, {"x", "w"}, {"y"});
    } else if (op == "Gemm") {
      b.ints("flat", {1, -1});
      b.node("Reshape", {"x", "flat"}, {"f"});
      const int64_t k = pick(0, 3) ? c * h * w : pick(1, 50), m = pick(1, 20);
      const bool tb = pick(0, 1) == 1;
      b.weight("w", tb ? Shape{m, k} : Shape{k, m});
      b.weight("bias", {pick(0, 3) ? m : pick(1, 20)});
      n = b.node(op, {"f", "w", "bias"}, {"y"});
      if (tb) Builder::attr(n, "transB", int64_t{1});
    } else if (op == "Expand") {
      b.ints("shape", {pick(1, 2), pick(0, 1) ? c : 1, pick(0, 3) ? h : pick(1, 4), w});
      n = b.node(op, {"x", "shape"}, {"y"});
    } else if (op == "Tile") {
      b.ints("repeats", {pick(0, 2), 1, pick(1, 3), 1});
      n = b.node(op, {"x", "repeats"}, {"y"});
    } else {
      b.input("x2", {1, pick(1, 3), h, pick(0, 1) ? w : pick(1, 12)});
      n = b.node(op, {"x", "x2"}, {"y"});
      Builder::attr(n, "axis", pick(-4, 3));
    }
    const std::string bytes = b.bytes("y");
    const std::string onnx = outcome(bytes, kOnnx);
    EXPECT_EQ(difference(outcome(bytes, kAuto), onnx), "") << op << " opset " << opset << " iteration " << iter;
    ++total;
    if (outcome(bytes, kDeepen).rfind("error", 0) == std::string::npos) ++fast;
  }
  std::printf("random single-op models: %d of %d on the fast path\n", fast, total);
  EXPECT_GT(fast, total / 3);
}

// Invalid models: the fast path declines them (or finds the same error), and Auto gives exactly
// the ONNX path's answer, which names the node.
TEST(ShapeInference, InvalidModelsGetTheOnnxPathsAnswer) {
  std::vector<std::pair<std::string, std::string>> cases;
  {
    Builder b;  // input channels not those of the weight
    b.input("x", {1, 3, 8, 8});
    b.weight("w", {4, 5, 3, 3});
    b.node("Conv", {"x", "w"}, {"y"});
    cases.push_back({"channel mismatch", b.bytes("y")});
  }
  {
    Builder b;  // channels not divisible by group
    b.input("x", {1, 6, 8, 8});
    b.weight("w", {4, 2, 3, 3});
    Builder::attr(b.node("Conv", {"x", "w"}, {"y"}), "group", int64_t{4});
    cases.push_back({"group", b.bytes("y")});
  }
  {
    Builder b;  // rank error
    b.input("x", {1, 3, 8});
    b.weight("w", {4, 3, 3});
    b.node("Conv", {"x", "w"}, {"y"});
    b.node("Relu", {"y", "x"}, {"z"});
    cases.push_back({"rank", b.bytes("z")});
  }
  {
    Builder b;  // reshape that does not fit
    b.input("x", {1, 3, 8, 8});
    b.ints("shape", {1, 100});
    b.node("Reshape", {"x", "shape"}, {"y"});
    cases.push_back({"reshape", b.bytes("y")});
  }
  {
    Builder b;  // unresolvable: Reshape to a computed shape from an unknown op
    b.input("x", {1, 3, 8, 8});
    b.node("NonZero", {"x"}, {"nz"});
    b.node("Reshape", {"x", "nz"}, {"y"});
    cases.push_back({"unresolvable", b.bytes("y")});
  }
  {
    Builder b;  // broadcast mismatch
    b.input("x", {1, 3, 8, 8});
    b.weight("w", {5});
    b.node("Add", {"x", "w"}, {"y"});
    cases.push_back({"broadcast", b.bytes("y")});
  }
  {
    Builder b;  // Gemm with the wrong inner dimension
    b.input("x", {1, 30});
    b.weight("w", {10, 20});
    Builder::attr(b.node("Gemm", {"x", "w"}, {"y"}), "transB", int64_t{1});
    cases.push_back({"gemm", b.bytes("y")});
  }
  {
    Builder b;  // wrong input count
    b.input("x", {1, 3, 8, 8});
    b.node("Relu", {"x", "x"}, {"y"});
    cases.push_back({"arity", b.bytes("y")});
  }
  for (const auto& [what, bytes] : cases) {
    std::string onnx = outcome(bytes, kOnnx);
    EXPECT_EQ(difference(outcome(bytes, kAuto), onnx), "") << what;
    std::string fast = outcome(bytes, kDeepen);
    EXPECT_NE(fast.find("error"), std::string::npos) << what << ": the fast path must not accept it";
  }
}

// Where ONNX's inference of an older opset leaves a shape open, the fast path declines and Auto
// gives what ONNX's path gives (an error naming the tensor, or the Graph).
TEST(ShapeInference, WhatOnnxLeavesOpenIsLeftToOnnx) {
  std::vector<std::pair<std::string, std::string>> cases;
  {
    Builder b(11);  // Squeeze-11 without axes: ONNX infers nothing
    b.input("x", {1, 3, 1, 1});
    b.node("Squeeze", {"x"}, {"y"});
    cases.push_back({"squeeze-11 without axes", b.bytes("y")});
  }
  {
    Builder b(9);  // Slice-1 with a negative end: ONNX infers only the rank
    b.input("x", {1, 3, 8, 8});
    auto* n = b.node("Slice", {"x"}, {"y"});
    Builder::attr(n, "starts", std::vector<int64_t>{1});
    Builder::attr(n, "ends", std::vector<int64_t>{-1});
    Builder::attr(n, "axes", std::vector<int64_t>{2});
    cases.push_back({"slice-1 negative end", b.bytes("y")});
  }
  {
    Builder b;  // a Constant whose tensor is not named `value`
    b.input("x", {1, 3, 8, 8});
    auto* c = b.node("Constant", {}, {"shape"});
    auto* a = c->add_attribute();
    a->set_name("valug");
    a->set_type(onnx::AttributeProto::TENSOR);
    a->mutable_t()->set_data_type(7);
    a->mutable_t()->add_dims(2);
    a->mutable_t()->add_int64_data(1);
    a->mutable_t()->add_int64_data(-1);
    b.node("Reshape", {"x", "shape"}, {"y"});
    cases.push_back({"misnamed constant", b.bytes("y")});
  }
  {
    Builder b;  // an INT attribute without its value: ONNX reads the default, deepen 0
    b.input("x", {1, 3, 8, 8});
    auto* n = b.node("Flatten", {"x"}, {"y"});
    auto* a = n->add_attribute();
    a->set_name("axis");
    a->set_type(onnx::AttributeProto::INT);
    cases.push_back({"empty attribute", b.bytes("y")});
  }
  for (const auto& [what, bytes] : cases) {
    EXPECT_NE(outcome(bytes, kDeepen).find("error"), std::string::npos) << what << ": the fast path must decline";
    EXPECT_EQ(difference(outcome(bytes, kAuto), outcome(bytes, kOnnx)), "") << what;
  }
}

// A Conv weight of higher rank than its input crashes ONNX 1.12's inference (it reads input
// dims that are not there); the fast path refuses it first, naming the node.
TEST(ShapeInference, ConvWeightOfHigherRankThanItsInputIsAClearError) {
  Builder b;
  b.input("x", {1, 3});
  b.weight("w", {4, 3, 3, 3});
  b.node("Conv", {"x", "w"}, {"y"});
  std::string answer = outcome(b.bytes("y"), kAuto);
  EXPECT_NE(answer.find("error: model.onnx: node 'Conv_node' (Conv) has a weight of rank 4 for an input of rank 2"),
            std::string::npos)
      << answer;
}

TEST(ShapeInference, ForcedFastPathNamesTheNodeItDoesNotHandle) {
  Builder b;
  b.input("x", {1, 3, 8, 8});
  b.node("NonZero", {"x"}, {"nz"});
  const std::string bytes = b.bytes("nz");
  try {
    deepen::load_onnx_bytes(bytes, "m.onnx", kDeepen);
    FAIL() << "expected an Error";
  } catch (const deepen::Error& e) {
    EXPECT_NE(std::string(e.what()).find("NonZero_node"), std::string::npos) << e.what();
  }
  // Auto falls back to ONNX's inference and loads it.
  EXPECT_NO_THROW(deepen::load_onnx_bytes(bytes, "m.onnx", kAuto));
}

// ---- the shape-rule table (src/graph/shape_rules.cpp): every row has its parts, a one-node model
// on which deepen's rule gives the expected shape and what ONNX's path gives, a fold case where it
// folds, and a line in the docs.

using Ints = std::vector<int64_t>;

// A one-node model of an op: built at `opset`, output "y" of shape `expected`.
struct RuleCase {
  int64_t opset;
  std::function<void(Builder&)> build;
  Shape expected;
};

void unary_node(Builder& b, const std::string& op) {
  b.input("x", {1, 3, 8, 8});
  b.node(op, {"x"}, {"y"});
}

// Inputs of shapes {1,3,1,8} and {3,8,1}: they broadcast to {1,3,8,8}.
void broadcast_node(Builder& b, const std::string& op) {
  b.input("x", {1, 3, 1, 8});
  b.weight("w", {3, 8, 1});
  b.node(op, {"x", "w"}, {"y"});
}

void variadic_node(Builder& b, const std::string& op) {
  b.input("x", {1, 3, 1, 8});
  b.weight("w", {3, 8, 1});
  b.weight("v", {8});
  b.node(op, {"x", "w", "v"}, {"y"});
}

void reduce_node(Builder& b, const std::string& op) {
  b.input("x", {1, 3, 8, 6});
  auto* n = b.node(op, {"x"}, {"y"});
  Builder::attr(n, "axes", Ints{2});
  Builder::attr(n, "keepdims", int64_t{0});
}

std::map<std::string, RuleCase> rule_cases() {
  std::map<std::string, RuleCase> cases;
  const Shape same{1, 3, 8, 8}, broadcast{1, 3, 8, 8};
  for (const char* op : {"Abs", "Ceil", "Cos", "Elu", "Exp", "Floor", "HardSigmoid", "Identity", "LeakyRelu", "Log",
                         "Neg", "Reciprocal", "Relu", "Selu", "Sigmoid", "Sin", "Softplus", "Softsign", "Sqrt",
                         "Tanh", "Softmax", "LogSoftmax", "Dropout", "Clip"})
    cases[op] = {13, [op](Builder& b) { unary_node(b, op); }, same};
  cases["Erf"] = {9, [](Builder& b) { unary_node(b, "Erf"); }, same};
  cases["HardSwish"] = {14, [](Builder& b) { unary_node(b, "HardSwish"); }, same};
  cases["LRN"] = {13, [](Builder& b) {
                    unary_node(b, "LRN");
                    Builder::attr(b.m.mutable_graph()->mutable_node(0), "size", int64_t{3});
                  },
                  same};
  cases["Cast"] = {13, [](Builder& b) {
                     unary_node(b, "Cast");
                     Builder::attr(b.m.mutable_graph()->mutable_node(0), "to", int64_t{10});
                   },
                   same};
  cases["PRelu"] = {13, [](Builder& b) {
                      b.input("x", {1, 3, 8, 8});
                      b.weight("slope", {3, 1, 1});
                      b.node("PRelu", {"x", "slope"}, {"y"});
                    },
                    same};
  for (const char* op : {"Add", "Sub", "Mul", "Div", "Pow", "Equal", "Less", "Greater"})
    cases[op] = {13, [op](Builder& b) { broadcast_node(b, op); }, broadcast};
  for (const char* op : {"Max", "Min", "Sum", "Mean"})
    cases[op] = {13, [op](Builder& b) { variadic_node(b, op); }, broadcast};
  cases["Where"] = {13, [](Builder& b) {
                      b.input("c", {8, 1}, 9);
                      b.input("x", {1, 3, 1, 8});
                      b.weight("w", {8});
                      b.node("Where", {"c", "x", "w"}, {"y"});
                    },
                    broadcast};
  cases["BatchNormalization"] = {13, [](Builder& b) {
                                   b.input("x", {1, 3, 8, 8});
                                   for (const char* p : {"scale", "bias", "mean", "var"}) b.weight(p, {3});
                                   b.node("BatchNormalization", {"x", "scale", "bias", "mean", "var"}, {"y"});
                                 },
                                 same};
  cases["InstanceNormalization"] = {13, [](Builder& b) {
                                      b.input("x", {1, 3, 8, 8});
                                      b.weight("scale", {3});
                                      b.weight("bias", {3});
                                      b.node("InstanceNormalization", {"x", "scale", "bias"}, {"y"});
                                    },
                                    same};
  cases["Conv"] = {13, [](Builder& b) {
                     b.input("x", {1, 3, 8, 8});
                     b.weight("w", {4, 3, 3, 3});
                     b.weight("bias", {4});
                     b.node("Conv", {"x", "w", "bias"}, {"y"});
                   },
                   {1, 4, 6, 6}};
  for (const char* op : {"MaxPool", "AveragePool"})
    cases[op] = {13, [op](Builder& b) {
                   unary_node(b, op);
                   Builder::attr(b.m.mutable_graph()->mutable_node(0), "kernel_shape", Ints{2, 2});
                   Builder::attr(b.m.mutable_graph()->mutable_node(0), "strides", Ints{2, 2});
                 },
                 {1, 3, 4, 4}};
  for (const char* op : {"GlobalAveragePool", "GlobalMaxPool"})
    cases[op] = {13, [op](Builder& b) { unary_node(b, op); }, {1, 3, 1, 1}};
  cases["Gemm"] = {13, [](Builder& b) {
                     b.input("x", {2, 5});
                     b.weight("w", {4, 5});
                     b.weight("bias", {4});
                     Builder::attr(b.node("Gemm", {"x", "w", "bias"}, {"y"}), "transB", int64_t{1});
                   },
                   {2, 4}};
  cases["MatMul"] = {13, [](Builder& b) {
                       b.input("x", {2, 3, 5});
                       b.weight("w", {5, 4});
                       b.node("MatMul", {"x", "w"}, {"y"});
                     },
                     {2, 3, 4}};
  cases["Reshape"] = {13, [](Builder& b) {
                        b.input("x", {1, 3, 8, 8});
                        b.ints("shape", {0, -1});
                        b.node("Reshape", {"x", "shape"}, {"y"});
                      },
                      {1, 192}};
  cases["Flatten"] = {13, [](Builder& b) {
                        unary_node(b, "Flatten");
                        Builder::attr(b.m.mutable_graph()->mutable_node(0), "axis", int64_t{2});
                      },
                      {3, 64}};
  cases["Transpose"] = {13, [](Builder& b) {
                          b.input("x", {1, 3, 8, 4});
                          Builder::attr(b.node("Transpose", {"x"}, {"y"}), "perm", Ints{0, 2, 3, 1});
                        },
                        {1, 8, 4, 3}};
  cases["Squeeze"] = {13, [](Builder& b) {
                        b.input("x", {1, 3, 1, 8});
                        b.ints("axes", {-2});
                        b.node("Squeeze", {"x", "axes"}, {"y"});
                      },
                      {1, 3, 8}};
  cases["Unsqueeze"] = {13, [](Builder& b) {
                          b.input("x", {3, 8});
                          b.ints("axes", {0, 3});
                          b.node("Unsqueeze", {"x", "axes"}, {"y"});
                        },
                        {1, 3, 8, 1}};
  cases["Expand"] = {13, [](Builder& b) {
                       b.input("x", {3, 1});
                       b.ints("shape", {2, 1, 4});
                       b.node("Expand", {"x", "shape"}, {"y"});
                     },
                     {2, 3, 4}};
  cases["Tile"] = {13, [](Builder& b) {
                     b.input("x", {1, 3, 2, 2});
                     b.ints("repeats", {1, 1, 2, 3});
                     b.node("Tile", {"x", "repeats"}, {"y"});
                   },
                   {1, 3, 4, 6}};
  cases["Slice"] = {13, [](Builder& b) {
                      b.input("x", {1, 3, 8, 8});
                      b.ints("starts", {1, -1});
                      b.ints("ends", {3, 0});
                      b.ints("axes", {1, 3});
                      b.ints("steps", {1, -2});
                      b.node("Slice", {"x", "starts", "ends", "axes", "steps"}, {"y"});
                    },
                    {1, 2, 8, 4}};
  cases["Split"] = {13, [](Builder& b) {
                      b.input("x", {1, 4, 8, 8});
                      b.ints("split", {3, 1});
                      Builder::attr(b.node("Split", {"x", "split"}, {"y", "z"}), "axis", int64_t{1});
                    },
                    {1, 3, 8, 8}};
  cases["Concat"] = {13, [](Builder& b) {
                       b.input("x", {1, 3, 8, 8});
                       b.weight("w", {1, 2, 8, 8});
                       Builder::attr(b.node("Concat", {"x", "w"}, {"y"}), "axis", int64_t{-3});
                     },
                     {1, 5, 8, 8}};
  cases["Gather"] = {13, [](Builder& b) {
                       b.input("x", {1, 3, 8, 8});
                       b.ints("idx", {0, 2});
                       Builder::attr(b.node("Gather", {"x", "idx"}, {"y"}), "axis", int64_t{1});
                     },
                     {1, 2, 8, 8}};
  cases["Pad"] = {13, [](Builder& b) {
                    b.input("x", {1, 3, 8, 8});
                    b.ints("pads", {0, 0, 1, 2, 0, 0, 1, 0});
                    b.node("Pad", {"x", "pads"}, {"y"});
                  },
                  {1, 3, 10, 10}};
  for (const char* op : {"ReduceL2", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd"})
    cases[op] = {13, [op](Builder& b) { reduce_node(b, op); }, {1, 3, 6}};
  cases["ReduceSum"] = {13, [](Builder& b) {
                          b.input("x", {1, 3, 8, 6});
                          b.ints("axes", {2, 3});
                          b.node("ReduceSum", {"x", "axes"}, {"y"});
                        },
                        {1, 3, 1, 1}};
  cases["Resize"] = {13, [](Builder& b) {
                       b.input("x", {1, 3, 8, 8});
                       b.weight("roi", {0});
                       b.weight("scales", {0});
                       b.ints("sizes", {1, 3, 16, 12});
                       b.node("Resize", {"x", "roi", "scales", "sizes"}, {"y"});
                     },
                     {1, 3, 16, 12}};
  cases["Upsample"] = {9, [](Builder& b) {
                         b.input("x", {1, 3, 8, 8});
                         b.floats("scales", {1, 1, 2, 1.5f});
                         b.node("Upsample", {"x", "scales"}, {"y"});
                       },
                       {1, 3, 16, 12}};
  cases["Constant"] = {13, [](Builder& b) {
                         b.input("x", {1, 3, 8, 8});
                         Builder::attr(b.node("Constant", {}, {"shape"}), "value_ints", Ints{1, -1});
                         b.node("Reshape", {"x", "shape"}, {"y"});
                       },
                       {1, 192}};
  cases["Shape"] = {13, [](Builder& b) { unary_node(b, "Shape"); }, {4}};
  return cases;
}

std::string model_of(const RuleCase& c, int64_t opset) {
  Builder b(opset);
  c.build(b);
  return b.bytes("y");
}

TEST(ShapeRules, EveryRowHasAnOpASaneOpsetRangeAndAFunction) {
  std::set<std::string_view> seen;
  for (const auto& row : deepen::shape_rules()) {
    EXPECT_FALSE(row.op.empty());
    EXPECT_TRUE(seen.insert(row.op).second) << row.op << " has two rows";
    EXPECT_LE(deepen::kMinOpset, row.since) << row.op;
    EXPECT_LE(row.since, row.until) << row.op;
    EXPECT_LE(row.until, deepen::kMaxOpset) << row.op;
    EXPECT_TRUE(row.infer || row.fold) << row.op << " has neither an infer nor a fold function";
    EXPECT_EQ(deepen::find_shape_rule(row.op), &row) << row.op;
  }
  EXPECT_GT(seen.size(), 50u);
  EXPECT_EQ(deepen::find_shape_rule("NonZero"), nullptr);
  EXPECT_EQ(deepen::find_shape_rule("relu"), nullptr);  // op types are case-sensitive
}

// Every infer row on its one-node model: deepen's own inference takes it, gives the expected
// shape and exactly what ONNX's path gives; at an opset outside the row's range it declines.
TEST(ShapeRules, EveryInferRowGivesTheShapeOfItsOneNodeModel) {
  const auto cases = rule_cases();
  for (const auto& row : deepen::shape_rules()) {
    if (!row.infer) continue;
    const std::string op(row.op);
    auto it = cases.find(op);
    if (it == cases.end()) {
      ADD_FAILURE() << op << " has a row but no case in rule_cases()";
      continue;
    }
    const RuleCase& c = it->second;
    if (c.opset < row.since || c.opset > row.until) {
      ADD_FAILURE() << op << ": its case's opset " << c.opset << " is outside the row's range";
      continue;
    }
    const std::string bytes = model_of(c, c.opset);
    try {
      Graph g = deepen::load_onnx_bytes(bytes, "model.onnx", kDeepen);
      EXPECT_EQ(describe(g.tensor(g.outputs[0]).shape), describe(c.expected)) << op;
    } catch (const deepen::Error& e) {
      ADD_FAILURE() << op << ": " << e.what();
    }
    expect_fast_and_same(bytes, op);
    if (row.since > deepen::kMinOpset) {
      const std::string answer = outcome(model_of(c, row.since - 1), kDeepen);
      EXPECT_NE(answer.find("does not exist in opset " + std::to_string(row.since - 1)), std::string::npos)
          << op << ": " << answer;
    }
    if (row.until < deepen::kMaxOpset) {
      const std::string answer = outcome(model_of(c, row.until + 1), kDeepen);
      EXPECT_NE(answer.find("is deprecated in this opset"), std::string::npos) << op << ": " << answer;
    }
  }
  for (const auto& [op, c] : cases) {
    const deepen::OpRule* row = deepen::find_shape_rule(op);
    EXPECT_TRUE(row && row->infer) << op << " has a case but no infer row";
  }
}

// A fold case: the node's inputs' values (and shapes), and the values of its output.
struct FoldCase {
  std::vector<std::string> inputs;
  std::map<std::string, Ints> values;
  std::map<std::string, deepen::AttrValue> attrs;
  Ints expected;
  std::map<std::string, Shape> shapes;
};

std::map<std::string, FoldCase> fold_cases() {
  std::map<std::string, FoldCase> cases;
  for (const char* op : {"Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze"})
    cases[op] = {{"a", "s"}, {{"a", {3, 4}}, {"s", {-1}}}, {}, {3, 4}, {}};
  cases["Cast"] = {{"a"}, {{"a", {1, 2}}}, {{"to", int64_t{7}}}, {1, 2}, {}};
  cases["Add"] = {{"a", "b"}, {{"a", {1, 2}}, {"b", {10}}}, {}, {11, 12}, {}};
  cases["Sub"] = {{"a", "b"}, {{"a", {5}}, {"b", {1, 2}}}, {}, {4, 3}, {}};
  cases["Mul"] = {{"a", "b"}, {{"a", {2, 3}}, {"b", {4}}}, {}, {8, 12}, {}};
  cases["Div"] = {{"a", "b"}, {{"a", {7, -9}}, {"b", {2}}}, {}, {3, -4}, {}};
  cases["Equal"] = {{"a", "b"}, {{"a", {1, 2}}, {"b", {2}}}, {}, {0, 1}, {}};
  cases["Where"] = {{"c", "a", "b"}, {{"c", {1, 0}}, {"a", {5}}, {"b", {6, 7}}}, {}, {5, 7}, {}};
  cases["Transpose"] = {{"a"}, {{"a", {1, 2, 3, 4, 5, 6}}}, {}, {1, 4, 2, 5, 3, 6}, {{"a", {2, 3}}}};
  cases["Slice"] = {{"a", "s", "e"}, {{"a", {10, 20, 30, 40}}, {"s", {1}}, {"e", {3}}}, {}, {20, 30}, {}};
  cases["Concat"] = {{"a", "b"}, {{"a", {1}}, {"b", {2, 3}}}, {{"axis", int64_t{0}}}, {1, 2, 3}, {}};
  cases["Gather"] = {{"a", "i"}, {{"a", {10, 20, 30}}, {"i", {-1, 0}}}, {}, {30, 10}, {}};
  cases["Constant"] = {{}, {}, {{"value_ints", Ints{4, 5}}}, {4, 5}, {}};
  cases["ConstantOfShape"] = {{"d"}, {{"d", {2, 2}}}, {{"value", Ints{7}}}, {7, 7, 7, 7}, {}};
  return cases;
}

// Every fold row computes its case's values through evaluate_ints (the folding's entry), and a
// row without a fold computes none.
TEST(ShapeRules, EveryFoldRowFoldsItsCase) {
  const auto cases = fold_cases();
  for (const auto& row : deepen::shape_rules()) {
    const std::string op(row.op);
    auto it = cases.find(op);
    if (!row.fold) {
      EXPECT_EQ(it, cases.end()) << op << " has a fold case but no fold function";
      continue;
    }
    if (it == cases.end()) {
      ADD_FAILURE() << op << " has a fold function but no case in fold_cases()";
      continue;
    }
    const FoldCase& c = it->second;
    deepen::Node node;
    node.name = op + "_node";
    node.op = op;
    node.inputs = c.inputs;
    node.outputs = {"out"};
    node.attrs = c.attrs;
    auto lookup = [&](const std::string& name) -> const Ints* {
      auto v = c.values.find(name);
      return v == c.values.end() ? nullptr : &v->second;
    };
    auto shapes = [&](const std::string& name) -> const Shape* {
      auto s = c.shapes.find(name);
      return s == c.shapes.end() ? nullptr : &s->second;
    };
    auto values = deepen::evaluate_ints(node, lookup, shapes);
    ASSERT_TRUE(values.has_value()) << op;
    EXPECT_EQ(describe(*values), describe(c.expected)) << op;
    // Without the values of its inputs nothing folds.
    if (!c.inputs.empty()) {
      EXPECT_FALSE(deepen::evaluate_ints(node, [](const std::string&) -> const Ints* { return nullptr; }, shapes))
          << op;
    }
  }
}

// The docs list of supported ops (docs/how-it-works.md#operators-deepen-infers) is the table.
TEST(ShapeRules, DocsListIsTheTable) {
  std::vector<std::string> expected;
  for (const auto& row : deepen::shape_rules())
    expected.push_back("| `" + std::string(row.op) + "` | " + std::to_string(row.since) + " to " +
                       std::to_string(row.until) + " | " + (row.infer ? "yes" : "no") + " | " +
                       (row.fold ? "yes" : "no") + " |");
  std::istringstream page(read_file(std::string(DEEPEN_TESTS_DIR) + "/../docs/how-it-works.md"));
  std::vector<std::string> listed;
  bool in_section = false;
  for (std::string line; std::getline(page, line);) {
    if (line.rfind("#", 0) == 0) in_section = line == "## Operators deepen infers";
    else if (in_section && line.rfind("| `", 0) == 0) listed.push_back(line);
  }
  std::string want;
  for (const auto& l : expected) want += l + "\n";
  std::string have;
  for (const auto& l : listed) have += l + "\n";
  EXPECT_EQ(have, want) << "the table in docs/how-it-works.md should read:\n" << want;
}

}  // namespace
