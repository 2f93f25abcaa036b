// The ONNX loader on the test models: shapes worked out by hand from each architecture
// (test_models/README.md lists them), folding, input-shape overrides and broken files.
#include <deepen/error.h>
#include <deepen/graph.h>

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include "test_util.h"

#include <algorithm>

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
