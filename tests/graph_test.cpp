// The ONNX loader on the test models: shapes worked out by hand from each architecture
// (test_models/README.md lists them), folding, input-shape overrides and broken files.
#include <deepen/error.h>
#include <deepen/graph.h>
#include <deepen/kernels.h>

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include "test_util.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string_view>
#include <utility>

using deepen::Graph;
using deepen::Shape;
using deepen::test::model;

namespace {

const deepen::Node* find_node(const Graph& g, const std::string& name) {
  for (const auto& n : g.nodes)
    if (n.name == name) return &n;
  return nullptr;
}

Shape output_shape(const Graph& g, const std::string& node_name) {
  const deepen::Node* n = find_node(g, node_name);
  if (!n) return {};
  return g.tensor(n->outputs[0]).shape;
}

size_t count_op(const Graph& g, const std::string& op) {
  return std::count_if(g.nodes.begin(), g.nodes.end(), [&](const deepen::Node& n) { return n.op == op; });
}

}  // namespace

TEST(GraphLoader, MobileNetV1ShapesFollowTheStrides) {
  Graph g = deepen::load_onnx(model("mobilenetv1.onnx"));
  EXPECT_EQ(g.opset, 11);
  ASSERT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(g.tensor(g.inputs[0]).shape, (Shape{1, 3, 64, 64}));
  // The stem is a 3x3 stride-2 conv: 64 -> 32; three blocks have a stride-2 depthwise conv,
  // bringing 32 to 4.
  std::vector<Shape> conv_outputs;
  for (const auto& n : g.nodes)
    if (n.op == "Conv") conv_outputs.push_back(g.tensor(n.outputs[0]).shape);
  ASSERT_EQ(conv_outputs.size(), 13u);
  EXPECT_EQ(conv_outputs.front()[2], 32);
  EXPECT_EQ(conv_outputs.back(), (Shape{1, 128, 4, 4}));
  for (const auto& n : g.nodes) EXPECT_NE(n.op, "Constant") << "Constant nodes are folded away";
  EXPECT_EQ(g.tensor(g.outputs[0]).shape, (Shape{1, 10}));
}

TEST(GraphLoader, SymbolicBatchBecomesOne) {
  Graph g = deepen::load_onnx(model("mobilenetv2.onnx"));
  EXPECT_EQ(g.tensor(g.inputs[0]).shape, (Shape{1, 3, 64, 64}));
  EXPECT_EQ(g.tensor(g.outputs[0]).shape, (Shape{1, 10}));
  // ReLU6 is exported as Clip whose bounds are Constant nodes: 30 of them fold away.
  EXPECT_EQ(count_op(g, "Constant"), 0u);
  EXPECT_EQ(count_op(g, "Clip"), 15u);
  EXPECT_GE(g.folded.size(), 30u);
}

TEST(GraphLoader, InputShapeOverrideChangesEveryShape) {
  deepen::LoadOptions options;
  options.input_shapes["input"] = {2, 3, 96, 96};
  Graph g = deepen::load_onnx(model("resnet_basic.onnx"), options);
  EXPECT_EQ(g.tensor("input").shape, (Shape{2, 3, 96, 96}));
  EXPECT_EQ(g.tensor(g.outputs[0]).shape[0], 2);
  // Stem conv then 3x3/2 max pool: 96 -> 48 (or -> 96 and 48 with a stride-1 stem); the first
  // conv output keeps the batch of 2.
  const auto& first = *std::find_if(g.nodes.begin(), g.nodes.end(), [](const auto& n) { return n.op == "Conv"; });
  EXPECT_EQ(g.tensor(first.outputs[0]).shape[0], 2);
}

TEST(GraphLoader, OverrideOfAMissingInputIsAnError) {
  deepen::LoadOptions options;
  options.input_shapes["images"] = {1, 3, 64, 64};
  try {
    deepen::load_onnx(model("resnet_basic.onnx"), options);
    FAIL() << "expected an error";
  } catch (const deepen::Error& e) {
    EXPECT_NE(std::string(e.what()).find("'images', which is not an input"), std::string::npos) << e.what();
  }
}

TEST(GraphLoader, ChunkArithmeticIsFoldedSoSliceShapesResolve) {
  Graph g = deepen::load_onnx(model("shufflenet.onnx"));
  // x.chunk(2, 1) of a [1,48,8,8] tensor: Shape->Gather->Add->Div->Mul->Slice. ONNX's own
  // inference leaves the Slice outputs unknown; our folding makes them [1,24,8,8].
  size_t slices = 0;
  for (const auto& n : g.nodes)
    if (n.op == "Slice") {
      ++slices;
      const auto& t = g.tensor(n.outputs[0]);
      ASSERT_TRUE(t.shape_known) << n.name;
      EXPECT_EQ(t.shape, (Shape{1, 24, 8, 8}));
    }
  EXPECT_EQ(slices, 2u);
  EXPECT_EQ(count_op(g, "Shape"), 0u);
  EXPECT_EQ(count_op(g, "Gather"), 0u);
  EXPECT_EQ(output_shape(g, "/gconv3x3/gconv3x3.0/Conv"), (Shape{1, 64, 4, 4}));
  EXPECT_EQ(output_shape(g, "/v1unit/gconv2/gconv2.0/Conv"), (Shape{1, 48, 8, 8}));
}

TEST(GraphLoader, TfStyleNhwcModelWithIdentityAndAsymmetricPads) {
  Graph g = deepen::load_onnx(model("tf_style_nhwc.onnx"));
  EXPECT_EQ(g.tensor("input_1").shape, (Shape{1, 64, 64, 3}));
  EXPECT_EQ(output_shape(g, "StatefulPartitionedCall/model/conv2d/BiasAdd"), (Shape{1, 16, 64, 64}));
  // TF 'SAME' with stride 2 pads only bottom/right: 64 -> 32.
  EXPECT_EQ(output_shape(g, "StatefulPartitionedCall/model/depthwise_conv2d/depthwise"), (Shape{1, 16, 32, 32}));
  EXPECT_EQ(count_op(g, "Identity"), 0u);
  EXPECT_EQ(count_op(g, "Constant"), 0u);
  // The conv now reads the Identity's input directly.
  const deepen::Node* conv = find_node(g, "StatefulPartitionedCall/model/conv2d/BiasAdd");
  ASSERT_NE(conv, nullptr);
  EXPECT_TRUE(g.tensor(conv->inputs[1]).is_constant);
}

TEST(GraphLoader, Opset7InitializersListedAsInputsAreNotInputs) {
  Graph g = deepen::load_onnx(model("mlp_opset7.onnx"));
  EXPECT_EQ(g.opset, 7);
  ASSERT_EQ(g.inputs.size(), 1u);
  EXPECT_EQ(g.inputs[0], "input");
  EXPECT_EQ(g.tensor(g.outputs[0]).shape, (Shape{1, 10}));
}

TEST(GraphLoader, DenseNetZeroPadIsFoldedAndConcatGrows) {
  Graph g = deepen::load_onnx(model("densenet.onnx"));
  EXPECT_EQ(count_op(g, "Pad"), 0u);
  int64_t widest = 0;
  for (const auto& n : g.nodes)
    if (n.op == "Concat") widest = std::max(widest, g.tensor(n.outputs[0]).shape[1]);
  EXPECT_GT(widest, 0);
}

TEST(GraphLoader, EveryTestModelLoadsWithKnownShapes) {
  for (const char* name : {"mobilenetv1.onnx", "mobilenetv2.onnx", "resnet_basic.onnx", "squeezenet_fire.onnx",
                           "shufflenet.onnx", "densenet.onnx", "mobilenetv3.onnx", "mobilenetv3_opset14.onnx",
                           "tf_style_nhwc.onnx", "mlp_opset7.onnx"}) {
    Graph g = deepen::load_onnx(model(name));
    for (const auto& n : g.nodes) {
      for (const auto& out : n.outputs) {
        if (!out.empty()) {
          EXPECT_TRUE(g.tensor(out).shape_known) << name << ": " << n.name;
        }
      }
    }
  }
}

// The bytes of a model in memory (what the Python module hands over) load as the file does, from
// a view into a larger buffer too, one model after another through the reused buffer.
TEST(GraphLoader, BytesInMemoryLoadAsTheFile) {
  for (const char* name : {"mobilenetv1.onnx", "mobilenetv2.onnx", "resnet_basic.onnx", "squeezenet_fire.onnx",
                           "shufflenet.onnx", "densenet.onnx", "mobilenetv3.onnx", "mobilenetv3_opset14.onnx",
                           "tf_style_nhwc.onnx", "mlp_opset7.onnx"}) {
    Graph from_file = deepen::load_onnx(model(name));
    const std::string bytes = deepen::test::read_text(model(name));
    const std::string padded = "xx" + bytes + "yy";
    for (std::string_view view : {std::string_view(bytes), std::string_view(padded).substr(2, bytes.size())}) {
      Graph g = deepen::load_onnx_bytes(view, name);
      ASSERT_EQ(g.nodes.size(), from_file.nodes.size()) << name;
      for (size_t i = 0; i < g.nodes.size(); ++i) {
        EXPECT_EQ(g.nodes[i].name, from_file.nodes[i].name) << name;
        EXPECT_EQ(g.nodes[i].op, from_file.nodes[i].op) << name;
        EXPECT_EQ(g.nodes[i].inputs, from_file.nodes[i].inputs) << name;
        for (const auto& out : g.nodes[i].outputs) {
          if (!out.empty()) {
            EXPECT_EQ(g.tensor(out).shape, from_file.tensor(out).shape) << name << ": " << out;
          }
        }
      }
      EXPECT_EQ(g.folded, from_file.folded) << name;
      EXPECT_EQ(g.inputs, from_file.inputs) << name;
    }
  }
  // Errors name the label given.
  const std::string bytes = deepen::test::read_text(model("mobilenetv2.onnx"));
  try {
    deepen::load_onnx_bytes(std::string_view(bytes).substr(0, 1000), "<bytes>");
    ADD_FAILURE() << "a truncated model loaded";
  } catch (const deepen::Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("<bytes>: not a valid ONNX model", 0), 0u) << e.what();
  }
  EXPECT_THROW(deepen::load_onnx_bytes(std::string_view(), "<bytes>"), deepen::Error);
}

TEST(GraphLoader, ParseInputShape) {
  auto [name, shape] = deepen::parse_input_shape("input:1x3x224x224");
  EXPECT_EQ(name, "input");
  EXPECT_EQ(shape, (Shape{1, 3, 224, 224}));
  auto [name2, shape2] = deepen::parse_input_shape("a:b:2,3");
  EXPECT_EQ(name2, "a:b");
  EXPECT_EQ(shape2, (Shape{2, 3}));
  EXPECT_THROW(deepen::parse_input_shape("input"), deepen::Error);
  EXPECT_THROW(deepen::parse_input_shape("input:1x0x3"), deepen::Error);
  EXPECT_THROW(deepen::parse_input_shape("input:1x-3"), deepen::Error);
  EXPECT_THROW(deepen::parse_input_shape("input:1xx3"), deepen::Error);
}

TEST(GraphLoader, BrokenFilesGiveClearErrors) {
  deepen::test::TempDir tmp;
  auto expect_error = [](const std::string& path, const std::string& words) {
    try {
      deepen::load_onnx(path);
      ADD_FAILURE() << path << ": expected an error containing '" << words << "'";
    } catch (const deepen::Error& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  expect_error(tmp.file("missing.onnx"), "cannot open");
  deepen::test::write_text(tmp.file("empty.onnx"), "");
  expect_error(tmp.file("empty.onnx"), "the file is empty");
  std::string bytes = deepen::test::read_text(model("mobilenetv1.onnx"));
  deepen::test::write_text(tmp.file("truncated.onnx"), bytes.substr(0, bytes.size() / 2));
  expect_error(tmp.file("truncated.onnx"), "not a valid ONNX model");
  std::string noise(4096, '\0');
  uint32_t x = 12345;
  for (auto& c : noise) c = static_cast<char>((x = x * 1103515245 + 12345) >> 16);
  deepen::test::write_text(tmp.file("noise.onnx"), noise);
  expect_error(tmp.file("noise.onnx"), "not a valid ONNX model");
}

TEST(GraphLoader, TopologicalSortDetectsCycles) {
  Graph g;
  g.name = "cycle";
  g.tensors["x"].name = "x";
  g.tensors["a"].name = "a";
  g.tensors["b"].name = "b";
  g.nodes.push_back({"n1", "Relu", "", {}, {"b"}, {"a"}});
  g.nodes.push_back({"n2", "Relu", "", {}, {"a"}, {"b"}});
  EXPECT_THROW(deepen::sort_topologically(g), deepen::Error);
  Graph h;
  h.name = "out of order";
  h.tensors["x"].name = "x";
  h.tensors["x"].shape = {1, 4};
  h.tensors["x"].shape_known = true;
  h.nodes.push_back({"second", "Relu", "", {}, {"a"}, {"b"}});
  h.nodes.push_back({"first", "Relu", "", {}, {"x"}, {"a"}});
  deepen::sort_topologically(h);
  EXPECT_EQ(h.nodes[0].name, "first");
  Graph dangling;
  dangling.name = "dangling";
  dangling.nodes.push_back({"n", "Relu", "", {}, {"nobody"}, {"y"}});
  try {
    deepen::sort_topologically(dangling);
    FAIL();
  } catch (const deepen::Error& e) {
    EXPECT_NE(std::string(e.what()).find("reads tensor 'nobody'"), std::string::npos) << e.what();
  }
}

TEST(GraphLoader, InitializersStoredAsExternalDataNeedOnlyTheirDims) {
  onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromString(deepen::test::read_text(model("resnet_basic.onnx"))));
  // Move every weight out of the file, as onnx.save(..., save_as_external_data=True) does.
  for (auto& init : *m.mutable_graph()->mutable_initializer()) {
    init.clear_raw_data();
    init.clear_float_data();
    init.set_data_location(onnx::TensorProto::EXTERNAL);
    auto* location = init.add_external_data();
    location->set_key("location");
    location->set_value("weights.bin");
  }
  deepen::Graph g = deepen::load_onnx_bytes(m.SerializeAsString(), "external.onnx");
  deepen::Graph reference = deepen::load_onnx(model("resnet_basic.onnx"));
  ASSERT_EQ(g.nodes.size(), reference.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i)
    EXPECT_EQ(g.tensor(g.nodes[i].outputs[0]).shape, reference.tensor(reference.nodes[i].outputs[0]).shape);
}

// ---- Shape arithmetic that torch.onnx.export writes and ONNX 1.12's inference cannot follow
namespace {

struct Builder {
  onnx::ModelProto m;
  explicit Builder(int64_t opset) {
    m.set_ir_version(8);
    auto* op = m.add_opset_import();
    op->set_version(opset);
    m.mutable_graph()->set_name("exported");
  }
  void input(const std::string& name, std::vector<int64_t> dims) {
    auto* v = m.mutable_graph()->add_input();
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    for (auto d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
  }
  void output(const std::string& name) { m.mutable_graph()->add_output()->set_name(name); }
  onnx::NodeProto* node(const std::string& op, std::vector<std::string> in, const std::string& out) {
    auto* n = m.mutable_graph()->add_node();
    n->set_op_type(op);
    n->set_name("/" + out);
    for (auto& i : in) n->add_input(i);
    n->add_output(out);
    return n;
  }
  static void ints_attr(onnx::NodeProto* n, const std::string& name, const std::vector<int64_t>& values) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (auto v : values) a->add_ints(v);
  }
  static void int_attr(onnx::NodeProto* n, const std::string& name, int64_t value) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(value);
  }
  static void string_attr(onnx::NodeProto* n, const std::string& name, const std::string& value) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(value);
  }
  static void fill(onnx::TensorProto* t, const std::vector<int64_t>& dims, const std::vector<int64_t>& values) {
    t->set_data_type(onnx::TensorProto::INT64);
    for (auto d : dims) t->add_dims(d);
    for (auto v : values) t->add_int64_data(v);
  }
  // A Constant node holding int64 values, as the exporter writes them.
  void ints(const std::string& out, const std::vector<int64_t>& values, bool scalar = false) {
    auto* a = node("Constant", {}, out)->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    fill(a->mutable_t(), scalar ? std::vector<int64_t>{} : std::vector<int64_t>{static_cast<int64_t>(values.size())},
         values);
  }
  void constant_of_shape(const std::string& shape, int64_t value, const std::string& out) {
    auto* a = node("ConstantOfShape", {shape}, out)->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    fill(a->mutable_t(), {1}, {value});
  }
  void weight(const std::string& name, std::vector<int64_t> dims) {
    auto* t = m.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    int64_t count = 1;
    for (auto d : dims) t->add_dims(d), count *= d;
    for (int64_t i = 0; i < count; ++i) t->add_float_data(0.25f);
  }
  Graph load() const { return deepen::load_onnx_bytes(m.SerializeAsString(), "exported.onnx"); }
};

// torch 1.13's nn.ReflectionPad2d / F.pad at opset 11 and above: the pads in PyTorch's order,
// extended with zeros by ConstantOfShape, reshaped to (-1, 2), reversed by a Slice with step -1,
// transposed and flattened into ONNX's order.
// Without constant folding the zeros' count is arithmetic too (2 * rank - len(pads)), and ONNX's
// inference leaves every shape of the table open.
Builder torch_pad(int64_t opset, const std::vector<int64_t>& torch_pads, bool folded = true) {
  Builder b(opset);
  b.input("x", {1, 4, 8, 6});
  b.ints("p", torch_pads);
  if (folded) {
    b.ints("n", {8 - static_cast<int64_t>(torch_pads.size())});
  } else {
    b.ints("eight", {8}, true);
    b.node("Shape", {"p"}, "p_shape");
    b.ints("zero", {0}, true);
    b.node("Gather", {"p_shape", "zero"}, "p_len");
    b.node("Sub", {"eight", "p_len"}, "count");
    Builder::ints_attr(b.node("Unsqueeze", {"count"}, "n"), "axes", {0});
  }
  b.constant_of_shape("n", 0, "zeros");
  Builder::int_attr(b.node("Concat", {"p", "zeros"}, "all"), "axis", 0);
  b.ints("rows", {-1, 2});
  b.node("Reshape", {"all", "rows"}, "pairs");
  b.ints("start", {-1});
  b.ints("end", {-9223372036854775807LL});
  b.ints("axis0", {0});
  b.ints("back", {-1});
  b.node("Slice", {"pairs", "start", "end", "axis0", "back"}, "reversed");
  Builder::ints_attr(b.node("Transpose", {"reversed"}, "columns"), "perm", {1, 0});
  b.ints("flat", {-1});
  b.node("Reshape", {"columns", "flat"}, "onnx_order");
  Builder::int_attr(b.node("Cast", {"onnx_order"}, "pads"), "to", onnx::TensorProto::INT64);
  Builder::string_attr(b.node("Pad", {"x", "pads"}, "padded"), "mode", "reflect");
  b.weight("w", {2, 4, 3, 3});
  b.node("Conv", {"padded", "w"}, "y");
  b.output("y");
  return b;
}

}  // namespace

TEST(GraphLoader, TorchPadArithmeticThroughConstantOfShapeIsFolded) {
  for (auto [opset, folded] : {std::pair<int64_t, bool>{11, true}, {13, true}, {17, true}, {11, false}}) {
    // (left, right, top, bottom) = (1, 2, 3, 0): W 6 -> 9, H 8 -> 11.
    Graph g = torch_pad(opset, {1, 2, 3, 0}, folded).load();
    EXPECT_EQ(output_shape(g, "/padded"), (Shape{1, 4, 11, 9})) << "opset " << opset;
    EXPECT_EQ(output_shape(g, "/y"), (Shape{1, 2, 9, 7})) << "opset " << opset;
    const deepen::Node* pad = find_node(g, "/padded");
    ASSERT_NE(pad, nullptr);
    EXPECT_EQ(g.tensor(pad->inputs[1]).int_values, (std::vector<int64_t>{0, 0, 3, 1, 0, 0, 0, 2}));
    EXPECT_EQ(count_op(g, "ConstantOfShape"), 0u);  // shape arithmetic, folded away
  }
}

// `self.cls_token.expand(x.shape[0], -1, -1)` in a ViT: the target shape comes from
// ConstantOfShape, Mul, Equal and Where on constants; the folded Expand feeds a Concat.
TEST(GraphLoader, ConstantExpandThroughWhereGetsItsShape) {
  Builder b(13);
  b.input("x", {1, 4, 8});
  b.weight("cls", {1, 1, 8});
  b.ints("target", {1, -1, -1});
  b.ints("three", {3});
  b.constant_of_shape("three", 1, "ones");
  b.ints("minus_one", {-1}, true);
  b.node("Mul", {"ones", "minus_one"}, "neg");
  b.node("Equal", {"target", "neg"}, "is_free");
  b.node("Where", {"is_free", "ones", "target"}, "shape");
  b.node("Expand", {"cls", "shape"}, "tokens");
  Builder::int_attr(b.node("Concat", {"tokens", "x"}, "seq"), "axis", 1);
  b.node("Relu", {"seq"}, "y");
  b.output("y");
  Graph g = b.load();
  EXPECT_EQ(output_shape(g, "/seq"), (Shape{1, 5, 8}));
  EXPECT_EQ(output_shape(g, "/y"), (Shape{1, 5, 8}));
}

// onnxconverter-common's float16 conversion stores Clip's bounds as fp16 constants.
TEST(GraphLoader, Float16ConstantsKeepTheirValues) {
  Builder b(13);
  b.input("x", {1, 4, 8, 8});
  for (auto [name, bits] : {std::pair<const char*, int>{"lo", 0x0000}, {"hi", 0x4600}, {"tiny", 0x0001}}) {
    auto* a = b.node("Constant", {}, name)->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    a->mutable_t()->set_data_type(onnx::TensorProto::FLOAT16);
    a->mutable_t()->add_int32_data(bits);
  }
  b.node("Clip", {"x", "lo", "hi"}, "y");
  b.node("Mul", {"y", "tiny"}, "z");
  b.output("z");
  Graph g = b.load();
  EXPECT_EQ(g.tensor("hi").float_values, std::vector<double>{6.0});
  EXPECT_EQ(g.tensor("lo").float_values, std::vector<double>{0.0});
  EXPECT_EQ(g.tensor("tiny").float_values, std::vector<double>{std::ldexp(1.0, -24)});  // subnormal
}

// ONNX 1.12 leaves the output of an opset-9 Slice (attributes) open; torch writes one for x[:, -1].
TEST(GraphLoader, Opset9SliceGetsItsShape) {
  Builder b(9);
  b.input("x", {1, 12, 32});
  auto* n = b.node("Slice", {"x"}, "last");
  for (auto [name, v] : {std::pair<const char*, int64_t>{"axes", 1}, {"starts", -1}, {"ends", INT64_MAX}})
    Builder::ints_attr(n, name, {v});
  b.node("Relu", {"last"}, "y");
  b.output("y");
  Graph g = b.load();
  EXPECT_EQ(output_shape(g, "/last"), (Shape{1, 1, 32}));
}

// ONNX 1.12 gives an Einsum's output only its rank: deepen computes its dims from the equation
// and passes them to the next round of ONNX's inference (as value_info), so what follows resolves.
TEST(GraphLoader, EinsumOutputsGetTheirShapesAndWhatFollowsResolves) {
  for (int64_t opset : {12, 13, 17}) {
    SCOPED_TRACE(opset);
    Builder b(opset);
    b.input("x", {2, 16, 32});
    b.weight("w", {32, 8});
    auto equation = [](onnx::NodeProto* n, const char* eq) { Builder::string_attr(n, "equation", eq); };
    equation(b.node("Einsum", {"x", "x"}, "scores"), "bij, bkj -> bik");  // spaces are allowed
    b.node("Softmax", {"scores"}, "p");
    equation(b.node("Einsum", {"p", "x"}, "ctx"), "bik,bkj->bij");
    b.node("MatMul", {"ctx", "w"}, "proj");
    equation(b.node("Einsum", {"proj"}, "t"), "...ij->...ji");
    equation(b.node("Einsum", {"t", "proj"}, "g"), "bij,bjk->bik");
    equation(b.node("Einsum", {"g"}, "d"), "bii->bi");
    equation(b.node("Einsum", {"d", "d"}, "h"), "ci,bi");  // implicit output: the letters used once, sorted
    b.node("Relu", {"h"}, "y");
    b.output("y");
    Graph g = b.load();
    EXPECT_EQ(output_shape(g, "/scores"), (Shape{2, 16, 16}));
    EXPECT_EQ(output_shape(g, "/p"), (Shape{2, 16, 16}));
    EXPECT_EQ(output_shape(g, "/ctx"), (Shape{2, 16, 32}));
    EXPECT_EQ(output_shape(g, "/proj"), (Shape{2, 16, 8}));
    EXPECT_EQ(output_shape(g, "/t"), (Shape{2, 8, 16}));
    EXPECT_EQ(output_shape(g, "/g"), (Shape{2, 8, 8}));
    EXPECT_EQ(output_shape(g, "/d"), (Shape{2, 8}));
    EXPECT_EQ(output_shape(g, "/h"), (Shape{2, 2}));
    EXPECT_EQ(output_shape(g, "/y"), (Shape{2, 2}));
  }
  Builder bad(13);  // an equation that does not fit its input is an error, not a guess
  bad.input("x", {2, 16, 32});
  Builder::string_attr(bad.node("Einsum", {"x"}, "e"), "equation", "ij->ji");
  bad.node("Relu", {"e"}, "y");
  bad.output("y");
  Graph g = bad.load();
  EXPECT_FALSE(g.tensor("e").shape_known);
  try {
    deepen::detect_kernels(g, deepen::default_fusion_rules());
    ADD_FAILURE() << "kernels detected on an open shape";
  } catch (const deepen::Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot resolve the shape of tensor 'e'"), std::string::npos) << e.what();
  }
}

// torch's LSTM at opset 9: x[:, -1] is an opset-9 Slice, whose output ONNX 1.12 leaves open, and
// the Squeeze and Gemm after it stayed open too ("cannot resolve the shape") until the Slice's
// shape went to the next inference round.
TEST(GraphLoader, Opset9SliceShapeReachesTheOpsAfterIt) {
  Builder b(9);
  b.input("x", {1, 12, 32});
  b.weight("wt", {12, 12, 1});  // a ConvTranspose: deepen's own inference declines, ONNX's runs
  b.node("ConvTranspose", {"x", "wt"}, "up");
  auto* n = b.node("Slice", {"up"}, "last");
  for (auto [name, v] : {std::pair<const char*, int64_t>{"axes", 1}, {"starts", -1}, {"ends", INT64_MAX}})
    Builder::ints_attr(n, name, {v});
  Builder::ints_attr(b.node("Squeeze", {"last"}, "squeezed"), "axes", {1});
  b.weight("fc_w", {10, 32});
  b.weight("fc_b", {10});
  Builder::int_attr(b.node("Gemm", {"squeezed", "fc_w", "fc_b"}, "logits"), "transB", 1);
  b.output("logits");
  Graph g = b.load();
  EXPECT_EQ(output_shape(g, "/last"), (Shape{1, 1, 32}));
  EXPECT_EQ(output_shape(g, "/squeezed"), (Shape{1, 32}));
  EXPECT_EQ(output_shape(g, "/logits"), (Shape{1, 10}));
}

// A fuzzed chains export: the ConstantOfShape behind `x.expand` read 4 + 2^36 for 4, and ONNX's
// inference built an Expand output of rank 2^36 (gigabytes) before any check.
TEST(GraphLoader, AHugeConstantOfShapeIsAnErrorBeforeOnnxInference) {
  Builder b(13);
  b.input("x", {1, 4, 8, 8});
  b.ints("rank", {(int64_t{1} << 36) + 4});
  b.constant_of_shape("rank", 1, "ones");
  b.node("Expand", {"x", "ones"}, "y");
  b.output("y");
  try {
    b.load();
    FAIL() << "a shape of 2^36 elements must be refused";
  } catch (const deepen::Error& e) {
    EXPECT_NE(std::string(e.what()).find("'/ones' (ConstantOfShape) would make a tensor of shape 68719476740"),
              std::string::npos)
        << e.what();
  }
}
