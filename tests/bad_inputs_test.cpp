// Broken inputs: tests/bad_inputs/cases.yaml lists files and the exit code and message words
// deepen must answer each with. The generator below writes the cases that are ONNX models or
// registries (and the big ones, which are never committed) into a temporary folder; each case
// then runs the built CLI. A second test flips bits all over a real model in process.
#include <deepen/error.h>
#include <deepen/graph.h>
#include <deepen/kernels.h>

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include "test_util.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace {

using deepen::test::kSanitized;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}
void write_file(const fs::path& p, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << bytes;
}

// ---- ONNX models built with the protobuf classes
onnx::ModelProto model(int64_t opset = 13) {
  onnx::ModelProto m;
  m.set_ir_version(7);
  m.set_producer_name("deepen bad_inputs generator");
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
  m.mutable_graph()->set_name("bad");
  return m;
}
void value(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>* list, const std::string& name,
           std::vector<int64_t> dims, int32_t elem = onnx::TensorProto::FLOAT) {
  auto* v = list->Add();
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(elem);
  auto* shape = tt->mutable_shape();
  for (auto d : dims) shape->add_dim()->set_dim_value(d);
}
void input(onnx::ModelProto& m, const std::string& name, std::vector<int64_t> dims, int32_t elem = 1) {
  value(m.mutable_graph()->mutable_input(), name, std::move(dims), elem);
}
void output(onnx::ModelProto& m, const std::string& name) {
  m.mutable_graph()->add_output()->set_name(name);
}
onnx::NodeProto* node(onnx::ModelProto& m, const std::string& op, std::vector<std::string> in,
                      std::vector<std::string> out, const std::string& name = "") {
  auto* n = m.mutable_graph()->add_node();
  n->set_op_type(op);
  n->set_name(name.empty() ? op + "_" + std::to_string(m.graph().node_size()) : name);
  for (auto& i : in) n->add_input(i);
  for (auto& o : out) n->add_output(o);
  return n;
}
void weight(onnx::ModelProto& m, const std::string& name, std::vector<int64_t> dims) {
  auto* t = m.mutable_graph()->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  int64_t count = 1;
  for (auto d : dims) {
    t->add_dims(d);
    count *= d > 0 ? d : 0;
  }
  for (int64_t i = 0; i < count; ++i) t->add_float_data(0.5f);
}
std::string bytes(const onnx::ModelProto& m) {
  std::string s;
  m.SerializeToString(&s);
  return s;
}
// Conv 3->4 (3x3) then Relu on 1x3x8x8: a model that works.
onnx::ModelProto good_model() {
  auto m = model();
  input(m, "x", {1, 3, 8, 8});
  weight(m, "w", {4, 3, 3, 3});
  auto* c = node(m, "Conv", {"x", "w"}, {"y"}, "conv");
  auto* pads = c->add_attribute();
  pads->set_name("pads");
  pads->set_type(onnx::AttributeProto::INTS);
  for (int i = 0; i < 4; ++i) pads->add_ints(1);
  node(m, "Relu", {"y"}, {"z"}, "relu");
  output(m, "z");
  return m;
}
onnx::ModelProto relu_on(std::vector<int64_t> dims) {
  auto m = model();
  input(m, "x", std::move(dims));
  node(m, "Relu", {"x"}, {"y"}, "relu");
  output(m, "y");
  return m;
}
onnx::ModelProto with_subgraph(const std::string& op) {
  auto m = model();
  input(m, "x", {1, 4});
  onnx::GraphProto body;
  body.set_name("body");
  auto* n = body.add_node();
  n->set_op_type("Relu");
  n->add_input("x");
  n->add_output("b");
  body.add_output()->set_name("b");
  onnx::NodeProto* cf = nullptr;
  if (op == "If") {
    weight(m, "cond", {1});
    cf = node(m, "If", {"cond"}, {"y"}, "branch");
    for (const char* name : {"then_branch", "else_branch"}) {
      auto* a = cf->add_attribute();
      a->set_name(name);
      a->set_type(onnx::AttributeProto::GRAPH);
      *a->mutable_g() = body;
    }
  } else {
    cf = node(m, "Loop", {"", ""}, {"y"}, "loop");
    auto* a = cf->add_attribute();
    a->set_name("body");
    a->set_type(onnx::AttributeProto::GRAPH);
    *a->mutable_g() = body;
  }
  output(m, "y");
  return m;
}

onnx::ModelProto relu_on_typed() {
  auto m = model();
  input(m, "x", {1, 4}, 77);
  node(m, "Relu", {"x"}, {"y"}, "relu");
  output(m, "y");
  return m;
}

// The first bytes of a Python pickle of an XGBoost model (what nn-Meter ships).
const char kPickleBytes[] = "\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x07xgboost";
const std::string kPickle(kPickleBytes, sizeof kPickleBytes - 1);

void write_registry(const fs::path& dir, const std::string& yaml) { write_file(dir / "predictors.yaml", yaml); }

// Writes every generated case into dir.
void generate(const fs::path& dir) {
  write_file(dir / "good.onnx", bytes(good_model()));
  std::string real = read_file(DEEPEN_TEST_MODELS "/mobilenetv1.onnx");
  write_file(dir / "truncated.onnx", real.substr(0, real.size() / 2));
  std::string tag = bytes(good_model());
  tag[0] ^= 0x07;  // field 1 (ir_version) as wire type 7, which protobuf does not have
  write_file(dir / "bitflip_tag.onnx", tag);
  std::string op = bytes(good_model());
  size_t at = op.find("Relu");
  op[at + 3] ^= 0x01;  // "Relu" -> "Relt"
  write_file(dir / "bitflip_op.onnx", op);

  auto cycle = model();
  input(cycle, "x", {1, 4});
  node(cycle, "Add", {"x", "b"}, {"a"}, "first");
  node(cycle, "Relu", {"a"}, {"b"}, "second");
  output(cycle, "b");
  write_file(dir / "cycle.onnx", bytes(cycle));
  auto self = model();
  input(self, "x", {1, 4});
  node(self, "Add", {"x", "y"}, {"y"}, "self");
  output(self, "y");
  write_file(dir / "self_loop.onnx", bytes(self));
  auto dangling = model();
  input(dangling, "x", {1, 4});
  node(dangling, "Add", {"x", "ghost"}, {"y"}, "add");
  output(dangling, "y");
  write_file(dir / "dangling_input.onnx", bytes(dangling));

  write_file(dir / "dim_zero.onnx", bytes(relu_on({1, 0, 8, 8})));
  write_file(dir / "dim_negative.onnx", bytes(relu_on({1, 3, -3, 8})));
  auto wneg = good_model();
  wneg.mutable_graph()->mutable_initializer(0)->set_dims(0, -4);
  write_file(dir / "weight_negative.onnx", bytes(wneg));
  auto wzero = good_model();
  wzero.mutable_graph()->mutable_initializer(0)->set_dims(0, 0);
  wzero.mutable_graph()->mutable_initializer(0)->clear_float_data();
  write_file(dir / "weight_zero.onnx", bytes(wzero));
  const int64_t big = int64_t{1} << 40;
  write_file(dir / "dim_2pow40.onnx", bytes(relu_on({1, big})));
  write_file(dir / "dims_overflow.onnx", bytes(relu_on({1, big, big, big})));

  write_file(dir / "if.onnx", bytes(with_subgraph("If")));
  write_file(dir / "loop.onnx", bytes(with_subgraph("Loop")));
  write_file(dir / "unknown_elem_type.onnx", bytes(relu_on_typed()));
  auto old = good_model();
  old.mutable_opset_import(0)->set_version(3);
  write_file(dir / "opset3.onnx", bytes(old));

  // A chain of a million Relu nodes, written straight to the file (not kept in memory twice).
  {
    auto chain = model();
    input(chain, "t0", {1, 8});
    const int n = 1000000;
    auto* nodes = chain.mutable_graph()->mutable_node();
    nodes->Reserve(n);
    for (int i = 0; i < n; ++i) {
      auto* r = nodes->Add();
      r->set_op_type("Relu");
      r->set_name("r" + std::to_string(i));
      r->add_input("t" + std::to_string(i));
      r->add_output("t" + std::to_string(i + 1));
    }
    output(chain, "t" + std::to_string(n));
    std::ofstream out(dir / "chain_1m.onnx", std::ios::binary);
    chain.SerializeToOstream(&out);
  }

  const std::string entry = "- name: p\n  version: 1\n  purposes: [energy]\n";
  write_registry(dir / "reg_dotdot", entry + "  kernels: {conv-relu: {energy: ../outside.ubj}}\n");
  write_registry(dir / "reg_absolute", entry + "  kernels: {conv-relu: {energy: /etc/passwd}}\n");
  write_registry(dir / "reg_folder", entry + "  folder: ../elsewhere\n");
  write_registry(dir / "reg_symlink", entry + "  kernels: {conv-relu: {energy: link.ubj}}\n");
  write_file(dir / "outside" / "real.ubj", "{}");
  fs::create_directories(dir / "reg_symlink" / "p");
  fs::create_symlink(dir / "outside" / "real.ubj", dir / "reg_symlink" / "p" / "link.ubj");
  write_registry(dir / "reg_pickle", entry + "  kernels: {conv-relu: {energy: model.pkl}}\n");
  write_file(dir / "reg_pickle" / "p" / "model.pkl", kPickle);
  write_registry(dir / "reg_badjson", entry + "  kernels: {conv-relu: {energy: model.json}}\n");
  write_file(dir / "reg_badjson" / "p" / "model.json", "{\"learner\": {\"gradient_booster\": [1, 2,");
  write_registry(dir / "reg_nested", std::string(100000, '[') + std::string(100000, ']') + "\n");

  // Kernel datasets with a 10 MB line: a 10 MB cell where a number belongs, and a 10 MB id.
  const std::string header = "kernel,hw,cin,cout,ks,stride,energy_mj,id\n";
  write_file(dir / "long_number.csv", header + "conv-bn-relu,56,64,64,3,1," + std::string(10 << 20, '7') + "x,a\n");
  write_file(dir / "long_id.csv", header + "conv-bn-relu,56,64,64,3,1,1.5," + std::string(10 << 20, 'y') + "\n");
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}
std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

class BadInputs : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    gen_ = fs::temp_directory_path() / ("deepen-bad-inputs-" + std::to_string(getpid()));
    fs::remove_all(gen_);
    fs::create_directories(gen_);
    generate(gen_);
  }
  static void TearDownTestSuite() { fs::remove_all(gen_); }
  static fs::path gen_;
};
fs::path BadInputs::gen_;

TEST_F(BadInputs, EveryCaseGetsItsAnswer) {
  const fs::path here = fs::path(DEEPEN_TESTS_DIR) / "bad_inputs";
  YAML::Node cases = YAML::LoadFile((here / "cases.yaml").string());
  ASSERT_TRUE(cases.IsSequence());
  ASSERT_GE(cases.size(), 25u);
  for (const auto& c : cases) {
    const std::string name = c["name"].as<std::string>();
    SCOPED_TRACE(name);
    const std::string file =
        c["file"] ? ((c["generate"] && c["generate"].as<bool>() ? gen_ : here) / c["file"].as<std::string>()).string()
                  : std::string();
    std::string command = "timeout ";
    int timeout_s = c["timeout_s"] ? c["timeout_s"].as<int>() : 60;
    // Sanitizers make deepen several times slower, and more so on a loaded machine: there the
    // bound only catches hangs; the release build checks the real time bound.
    if (kSanitized) timeout_s *= 6;
    command += std::to_string(timeout_s) + " " + shell_quote(DEEPEN_BINARY);
    for (const auto& a : c["args"]) {
      std::string arg = a.as<std::string>();
      arg = replace_all(arg, "{file}", file);
      arg = replace_all(arg, "{gen}", gen_.string());
      arg = replace_all(arg, "{here}", here.string());
      command += " " + shell_quote(arg);
    }
    const fs::path out = gen_ / "stdout.txt", err = gen_ / "stderr.txt";
    command += " >" + shell_quote(out.string()) + " 2>" + shell_quote(err.string());
    auto start = std::chrono::steady_clock::now();
    int status = std::system(command.c_str());
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ASSERT_TRUE(WIFEXITED(status)) << command;
    int exit_code = WEXITSTATUS(status);
    std::string text = read_file(err) + read_file(out);
    if (exit_code == 124) {
      ADD_FAILURE() << "timed out after " << timeout_s << " s: " << command;
      continue;
    }
    EXPECT_EQ(exit_code, c["exit"].as<int>()) << command << "\n" << text.substr(0, 2000);
    for (const auto& w : c["words"]) {
      std::string word = w.as<std::string>();
      EXPECT_NE(text.find(word), std::string::npos) << "missing '" << word << "' in:\n" << text.substr(0, 2000);
    }
    EXPECT_EQ(text.find("internal error"), std::string::npos) << text.substr(0, 2000);
    if (c["absent"])
      for (const auto& a : c["absent"]) {
        std::string prefix = a.as<std::string>();
        for (const auto& e : fs::directory_iterator(gen_))
          EXPECT_NE(e.path().filename().string().rfind(prefix, 0), 0u) << e.path() << " was left behind";
      }
    if (c["max_rss_mb"] && !kSanitized) {
      rusage usage{};
      getrusage(RUSAGE_CHILDREN, &usage);  // the largest child so far, this one included
      EXPECT_LE(usage.ru_maxrss / 1024, c["max_rss_mb"].as<long>()) << "MB of memory";
    }
    std::printf("  %-60s exit %d in %.2f s\n", name.c_str(), exit_code, seconds);
  }
}

// Every single-bit flip at a spread of offsets of a real model: an answer or an Error, never a
// crash (the sanitizer build turns any memory error or undefined behaviour into a failure).
TEST(BadInputsInProcess, BitFlippedModelsAnswerOrSayWhy) {
  std::string real = read_file(DEEPEN_TEST_MODELS "/squeezenet_fire.onnx");
  ASSERT_FALSE(real.empty());
  const deepen::FusionRules rules = deepen::default_fusion_rules();
  int answered = 0, refused = 0;
  for (size_t at = 0; at < real.size(); at += 37) {
    std::string flipped = real;
    flipped[at] ^= static_cast<char>(1 << (at % 8));
    try {
      deepen::Graph g = deepen::load_onnx_bytes(flipped, "flipped.onnx");
      deepen::detect_kernels(g, rules);
      ++answered;
    } catch (const deepen::Error& e) {
      EXPECT_STRNE(e.what(), "");
      ++refused;
    }
  }
  EXPECT_GT(answered + refused, 100);
}

// Truncations at every length up to a few kilobytes, then at a spread of lengths.
TEST(BadInputsInProcess, TruncatedModelsAnswerOrSayWhy) {
  std::string real = read_file(DEEPEN_TEST_MODELS "/mlp_opset7.onnx");
  ASSERT_FALSE(real.empty());
  for (size_t len = 0; len < real.size(); len += (len < 512 ? 1 : 61)) {
    try {
      deepen::Graph g = deepen::load_onnx_bytes(real.substr(0, len), "truncated.onnx");
      deepen::detect_kernels(g, deepen::default_fusion_rules());
    } catch (const deepen::Error& e) {
      EXPECT_STRNE(e.what(), "");
    }
  }
}

}  // namespace
