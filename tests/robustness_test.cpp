// Regressions for crashes, undefined behaviour and silent wrong numbers found by fuzzing and by
// the bad-inputs work, tested in process so the sanitizer build checks each path. Inputs that a
// fuzzer found are kept in tests/bad_inputs/fuzz_findings/TARGET/ and replayed here.
#include <deepen/error.h>
#include <deepen/measure.h>
#include <deepen/train.h>
#include <deepen/graph.h>
#include <deepen/kernels.h>
#include <deepen/output_file.h>
#include <deepen/predict.h>

#include "test_util.h"

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using namespace deepen;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

onnx::ModelProto relu_model() {
  onnx::ModelProto m;
  m.set_ir_version(7);
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(13);
  auto* g = m.mutable_graph();
  g->set_name("r");
  auto* in = g->add_input();
  in->set_name("x");
  auto* tt = in->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(1);
  for (int64_t d : {1, 4, 8, 8}) tt->mutable_shape()->add_dim()->set_dim_value(d);
  auto* n = g->add_node();
  n->set_op_type("Relu");
  n->set_name("relu");
  n->add_input("x");
  n->add_output("y");
  g->add_output()->set_name("y");
  return m;
}
// A float initializer of the given dims, every value `value`.
void add_weight(onnx::GraphProto* g, const std::string& name, const std::vector<int64_t>& dims, float value = 0.0f) {
  auto* w = g->add_initializer();
  w->set_name(name);
  w->set_data_type(onnx::TensorProto::FLOAT);
  int64_t n = 1;
  for (int64_t d : dims) w->add_dims(d), n *= d;
  for (int64_t i = 0; i < n; ++i) w->add_float_data(value);
}
std::string bytes(const onnx::ModelProto& m) {
  std::string s;
  m.SerializeToString(&s);
  return s;
}
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Robustness, NodeWithTooFewInputsIsRefused) {
  auto m = relu_model();
  m.mutable_graph()->mutable_node(0)->set_op_type("Conv");  // Conv(x) without weights
  std::string e = error_of([&] { load_onnx_bytes(bytes(m), "m.onnx"); });
  EXPECT_NE(e.find("node 'relu' (Conv) has 1 inputs, but Conv takes 2 to 3"), std::string::npos) << e;
  m.mutable_graph()->mutable_node(0)->clear_input();
  m.mutable_graph()->mutable_node(0)->set_op_type("MaxPool");
  e = error_of([&] { load_onnx_bytes(bytes(m), "m.onnx"); });
  EXPECT_NE(e.find("has 0 inputs"), std::string::npos) << e;
}

TEST(Robustness, FloatAttributeOutOfIntegerRangeIsAnError) {
  Node n;
  n.name = "c";
  n.op = "Conv";
  n.attrs["group"] = 1e300;
  EXPECT_THROW(n.attr_int("group", 1), Error);
  n.attrs["group"] = std::nan("");
  EXPECT_THROW(n.attr_int("group", 1), Error);
  n.attrs["group"] = 3.0;
  EXPECT_EQ(n.attr_int("group", 1), 3);
}

TEST(Robustness, ManyDimensionsOfASmallIntegerConstantDoNotOverflow) {
  auto m = relu_model();
  auto* t = m.mutable_graph()->add_initializer();
  t->set_name("k");
  t->set_data_type(onnx::TensorProto::INT64);
  for (int i = 0; i < 70; ++i) t->add_dims(2);  // 2^70 elements: the count would overflow int64
  Graph g = load_onnx_bytes(bytes(m), "m.onnx");
  EXPECT_FALSE(g.tensor("k").has_int_values);
}

TEST(Robustness, ConcatOfConcatsOfConstantsStaysSmall) {
  auto m = relu_model();
  auto* g = m.mutable_graph();
  auto* c = g->add_initializer();
  c->set_name("c0");
  c->set_data_type(onnx::TensorProto::INT64);
  c->add_dims(64);
  for (int i = 0; i < 64; ++i) c->add_int64_data(i);
  for (int i = 0; i < 60; ++i) {  // doubles the list 60 times: 2^66 values if nothing stops it
    auto* n = g->add_node();
    n->set_op_type("Concat");
    n->set_name("cat" + std::to_string(i));
    n->add_input("c" + std::to_string(i));
    n->add_input("c" + std::to_string(i));
    n->add_output("c" + std::to_string(i + 1));
    auto* a = n->add_attribute();
    a->set_name("axis");
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(0);
  }
  std::string e = error_of([&] {
    Graph graph = load_onnx_bytes(bytes(m), "m.onnx");
    detect_kernels(graph, default_fusion_rules());
  });
  SUCCEED() << e;
}

TEST(Robustness, GroupThatDoesNotDivideTheChannelsIsAnError) {
  auto m = relu_model();
  auto* g = m.mutable_graph();
  add_weight(g, "w", {4, 2, 3, 3}, 0.1f);
  auto* n = g->mutable_node(0);
  n->set_op_type("Conv");
  n->add_input("w");
  auto* a = n->add_attribute();
  a->set_name("group");
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(0);
  std::string e = error_of([&] {
    Graph graph = load_onnx_bytes(bytes(m), "m.onnx");
    detect_kernels(graph, default_fusion_rules());
  });
  EXPECT_FALSE(e.empty());
}

// ONNX 1.12's Conv inference reads past a vector when the weight has a higher rank than the
// input (SEGV). A ConvTranspose first makes deepen's own inference decline, so ONNX's runs: it
// runs in a worker process, whose crash becomes this model's error, and the next model loads.
TEST(Robustness, OnnxInferenceCrashIsTheModelsErrorNotDeepens) {
  auto m = relu_model();
  auto* g = m.mutable_graph();
  add_weight(g, "wt", {4, 4, 3, 3});
  add_weight(g, "w5", {4, 4, 3, 3, 3});
  auto* deconv = g->mutable_node(0);
  deconv->set_op_type("ConvTranspose");
  deconv->set_name("deconv");
  deconv->add_input("wt");
  deconv->set_output(0, "t");
  auto* conv = g->add_node();
  conv->set_op_type("Conv");
  conv->set_name("conv5d");
  conv->add_input("t");
  conv->add_input("w5");
  conv->add_output("y");
  for (int round = 0; round < 2; ++round) {
    std::string e = error_of([&] { load_onnx_bytes(bytes(m), "crash.onnx"); });
    EXPECT_NE(e.find("crash.onnx: ONNX shape inference failed"), std::string::npos) << e;
    EXPECT_NE(e.find("malformed"), std::string::npos) << e;
    LoadOptions onnx_path;
    onnx_path.shape_inference = LoadOptions::ShapeInference::Onnx;
    Graph fine = load_onnx_bytes(bytes(relu_model()), "fine.onnx", onnx_path);
    EXPECT_EQ(fine.tensor("y").shape, (std::vector<int64_t>{1, 4, 8, 8}));
  }
}

TEST(Robustness, RegistryFallbackCoefficientsMustBeFiniteAndNotNegative) {
  for (const char* bad : {".nan", ".inf", "-1"}) {
    std::string yaml = std::string("- name: p\n  version: 1\n  fallback:\n    energy: {mj_per_gflop: ") + bad + "}\n";
    std::string e = error_of([&] { parse_registry(yaml, "/r", "predictors.yaml"); });
    EXPECT_NE(e.find("must be a finite number of 0 or more"), std::string::npos) << bad << ": " << e;
  }
}

TEST(Robustness, DeeplyNestedYamlIsAnError) {
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_THROW(parse_registry(deep, "/r", "predictors.yaml"), Error);
  EXPECT_THROW(parse_fusion_rules("chains: " + deep, "rules.yaml"), Error);
}

TEST(Robustness, OutputToDevNullWorks) {
  EXPECT_NO_THROW(write_file_atomically("/dev/null", "text"));
  EXPECT_THROW(write_file_atomically("/tmp", "text"), Error);
}

fs::path temp_file(const std::string& name, const std::string& content) {
  fs::path p = fs::temp_directory_path() / ("deepen-robustness-" + std::to_string(getpid()) + "-" + name);
  std::ofstream(p, std::ios::binary) << content;
  return p;
}

// ONNX's inference in the worker has a memory bound (DEEPEN_ONNX_INFERENCE_MEMORY_MB, default 4096):
// past it the model gets an error, not the machine's memory. A ConvTranspose sends a chain of
// 20,000 Relus to ONNX's path, whose inference takes some tens of MB: 1 MiB is too little.
TEST(Robustness, OnnxInferenceHasAMemoryBound) {
#if defined(__SANITIZE_ADDRESS__)
#define DEEPEN_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DEEPEN_TEST_ASAN 1
#endif
#endif
#ifdef DEEPEN_TEST_ASAN
  GTEST_SKIP() << "AddressSanitizer's shadow memory counts against the bound, which is off in this build";
#else
  auto m = relu_model();
  auto* g = m.mutable_graph();
  add_weight(g, "wt", {4, 4, 1, 1});
  g->mutable_node(0)->set_op_type("ConvTranspose");
  g->mutable_node(0)->add_input("wt");
  g->mutable_node(0)->set_output(0, "r0");
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    auto* r = g->add_node();
    r->set_op_type("Relu");
    r->set_name("relu" + std::to_string(i));
    r->add_input("r" + std::to_string(i));
    r->add_output("r" + std::to_string(i + 1));
  }
  g->mutable_output(0)->set_name("r" + std::to_string(n));
  fs::path p = temp_file("memory_bound.onnx", bytes(m));
  const std::string args = "kernels " + p.string() + " --format csv --output /dev/null";
  deepen::test::RunResult tight = deepen::test::run_deepen(args, "DEEPEN_ONNX_INFERENCE_MEMORY_MB=1");
  EXPECT_EQ(tight.exit_code, 2) << tight.out;
  EXPECT_NE(tight.out.find("ONNX shape inference failed: it needed more than 1 MiB of memory"), std::string::npos)
      << tight.out;
  deepen::test::RunResult usual = deepen::test::run_deepen(args);
  EXPECT_EQ(usual.exit_code, 0) << usual.out;
  fs::remove(p);
#endif
}

TEST(Robustness, DeeplyNestedBoosterIsRefusedBeforeXGBoostParsesIt) {
  for (const std::string& deep : {"{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}",
                                  "{i\x01" "a" + std::string(100000, '[') + std::string(100000, ']') + "}"}) {
    fs::path p = temp_file("deep.json", deep);
    std::string e = error_of([&] { Booster::load(p.string()); });
    fs::remove(p);
    EXPECT_NE(e.find("nested more than"), std::string::npos) << e;
  }
}

// Inputs the fuzzers found, one folder per target: each must end in a result or an Error.
TEST(Robustness, FuzzFindingsStayFixed) {
  const fs::path root = fs::path(DEEPEN_TESTS_DIR) / "bad_inputs" / "fuzz_findings";
  int replayed = 0;
  for (const auto& target : fs::directory_iterator(root)) {
    for (const auto& file : fs::directory_iterator(target.path())) {
      SCOPED_TRACE(file.path().string());
      const std::string name = target.path().filename().string();
      const std::string data = read_file(file.path());
      ++replayed;
      try {
        if (name == "onnx") {
          detect_kernels(load_onnx_bytes(data, "finding.onnx"), default_fusion_rules());
        } else if (name == "registry") {
          for (const auto& e : parse_registry(data, "/nonexistent", "finding.yaml").entries) {
            EXPECT_EQ(e.folder.rfind("/nonexistent/", 0), 0u) << e.folder;
            EXPECT_GT(e.folder.size(), std::string("/nonexistent/").size()) << e.folder;
            for (const auto& [type, by_purpose] : e.kernels)
              for (const auto& [purpose, spec] : by_purpose)
                EXPECT_EQ(resolve_in_folder(e, spec.path).rfind(e.folder + "/", 0), 0u) << spec.path;
          }
        } else if (name == "fusion_rules") {
          FusionRules rules = parse_fusion_rules(data, "finding.yaml");
          FusionRules again = parse_fusion_rules(fusion_rules_to_yaml(rules), "round trip");
          EXPECT_EQ(again.chains, rules.chains);
          EXPECT_EQ(again.same_as, rules.same_as);
        } else if (name == "booster") {
          Booster b = Booster::load(file.path().string());
          b.predict(std::vector<float>(b.num_features(), 0.0f), b.num_features());
        } else if (name == "power_trace") {
          for (TimeUnit unit : {TimeUnit::Auto, TimeUnit::Seconds, TimeUnit::Microseconds})
            for (double rate : {0.0, 5000.0}) {
              try {
                PowerTrace t = parse_power_trace(data, "finding.csv", unit, rate);
                for (size_t i = 1; i < t.time_us.size(); ++i) EXPECT_GT(t.time_us[i], t.time_us[i - 1]);
              } catch (const Error& e) {
                EXPECT_STRNE(e.what(), "");
              }
            }
        } else if (name == "dataset_csv") {
          parse_dataset_csv(data, "finding.csv");
        } else {
          ADD_FAILURE() << "unknown fuzz target folder " << name;
        }
      } catch (const Error& e) {
        EXPECT_STRNE(e.what(), "");
      }
    }
  }
  EXPECT_GT(replayed, 0);
}

}  // namespace
