// deepen dataset import: block look-up tables, NAS-Bench-201 and FBNet measurements become ONNX
// models and a models CSV, TVM logs become kernel rows. Inputs are generated here (CI has no
// ../shared); one test imports the real files when they are there.
#include <deepen/error.h>
#include <deepen/graph.h>
#include <deepen/kernels.h>
#include <deepen/train.h>
#include <deepen/zoo.h>

#include "test_util.h"
#include "train/import_util.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

namespace deepen {
namespace {

namespace fs = std::filesystem;
using test::read_text;
using test::run_cli;
using test::TempDir;

std::vector<Kernel> kernels_of(const Graph& g) {
  std::vector<Kernel> out;
  for (auto& k : detect_kernels(g, default_fusion_rules()))
    if (!k.zero_cost) out.push_back(std::move(k));
  return out;
}

std::vector<Kernel> kernels_of_file(const std::string& path) { return kernels_of(load_onnx(path)); }

std::multiset<std::string> types(const std::vector<Kernel>& ks) {
  std::multiset<std::string> t;
  for (const auto& k : ks) t.insert(k.type);
  return t;
}

size_t count_type(const std::vector<Kernel>& ks, const std::string& prefix) {
  size_t n = 0;
  for (const auto& k : ks) n += k.type.compare(0, prefix.size(), prefix) == 0;
  return n;
}

double macs_of(const std::vector<Kernel>& ks, const std::string& type) {
  double m = 0;
  for (const auto& k : ks)
    if (k.type == type) m += k.macs;
  return m;
}

std::vector<std::vector<std::string>> csv_rows(const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(read_text(path));
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) rows.push_back(split_csv_line(line));
  return rows;
}

// Nothing but the inputs is left in the folder after a failed import.
void expect_only(const std::string& dir, const std::set<std::string>& names) {
  std::set<std::string> found;
  for (const auto& e : fs::directory_iterator(dir)) found.insert(e.path().filename().string());
  EXPECT_EQ(found, names);
}

template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

const char* const kOfaLut = R"(expanded_conv-input:14x14x40-output:14x14x40-expand:120-kernel:3-stride:1-idskip:1-se:1-hs:1:
  count: 10
  mean: 1.5
  std: 0.1
expanded_conv-input:14x14x40-output:7x7x48-expand:40-kernel:5-stride:2-idskip:0-se:0-hs:0:
  count: 12
  mean: 0.5
  std: 0.02
Conv-input:32x32x3-output:16x16x16:
  count: 9
  mean: 0.3
  std: 0.01
Conv_2-input:1x1x64-output:1x1x128:
  count: 9
  mean: 0.05
  std: 0.01
Logits-input:1x1x128-output:10:
  count: 9
  mean: 0.02
  std: 0.001
AvgPool2D-input:4x4x64-output:1x1x64:
  count: 9
  mean: 0.01
  std: 0.001
)";

const char* const kProxylessLut = R"(expanded_conv-input:8x8x16-output:8x8x16-expand:3-kernel:5-stride:1-idskip:1:
  count: 20
  mean: 0.8
  var: 0.04
expanded_conv-input:8x8x32-output:8x8x16-expand:1-kernel:3-stride:1-idskip:0:
  mean: 0.4
Conv_1-input:7x7x32-output:7x7x64:
  count: 20
  mean: 0.2
  var: 0.01
Logits-input:7x7x64-output:10:
  count: 20
  mean: 0.1
  var: 0.01
)";

TEST(LutImport, BuildsEveryBlockAsItsKeySays) {
  TempDir tmp;
  std::string ofa = tmp.write("ofa.yaml", kOfaLut), pnas = tmp.write("pnas.yaml", kProxylessLut);
  std::string out = tmp.file("lut");
  ImportedModels m = import_lut({{ofa, kOfaLut}, {pnas, kProxylessLut}});
  ASSERT_EQ(m.rows.size(), 10u);
  write_imported_models(m, out, 2);
  auto rows = csv_rows(out + "/measured.csv");
  ASSERT_EQ(rows.size(), 11u);
  EXPECT_EQ(rows[0], (std::vector<std::string>{"model", "latency_ms", "std_ms", "count", "source", "group"}));
  std::map<std::string, std::vector<std::string>> by_key;
  for (size_t i = 1; i < rows.size(); ++i) {
    by_key[rows[i][5]] = rows[i];
    EXPECT_TRUE(fs::exists(out + "/" + rows[i][0])) << rows[i][0];
  }
  // OFA MBConv with SE and h-swish: MID 120, SE MID make_divisible(120 / 4) = 32.
  auto se = by_key.at("expanded_conv-input:14x14x40-output:14x14x40-expand:120-kernel:3-stride:1-idskip:1-se:1-hs:1");
  EXPECT_EQ(se[1], "1.5");
  EXPECT_EQ(se[2], "0.1");
  EXPECT_EQ(se[3], "10");
  EXPECT_EQ(se[4], ofa + ":" + se[5]);
  auto ks = kernels_of_file(out + "/" + se[0]);
  EXPECT_EQ(types(ks), (std::multiset<std::string>{"conv-bn-hswish", "dwconv-bn-hswish", "se", "conv-bn", "add"}));
  EXPECT_EQ(macs_of(ks, "conv-bn-hswish"), 14 * 14 * 40 * 120);
  EXPECT_EQ(macs_of(ks, "dwconv-bn-hswish"), 14 * 14 * 120 * 9);
  EXPECT_EQ(macs_of(ks, "conv-bn"), 14 * 14 * 120 * 40);
  for (const auto& k : ks) {
    if (k.type == "se") {
      EXPECT_GE(k.macs, 2 * 120 * 32);
    }
  }
  // MID equal to the input's channels: no expansion conv; ReLU where hs:0; stride 2.
  auto plain = kernels_of_file(out + "/" + by_key.at("expanded_conv-input:14x14x40-output:7x7x48-expand:40-kernel:5-stride:2-idskip:0-se:0-hs:0")[0]);
  EXPECT_EQ(types(plain), (std::multiset<std::string>{"dwconv-bn-relu", "conv-bn"}));
  EXPECT_EQ(macs_of(plain, "dwconv-bn-relu"), 7 * 7 * 40 * 25);
  EXPECT_EQ(macs_of(plain, "conv-bn"), 7 * 7 * 40 * 48);
  // The stem of an OFA table uses h-swish.
  auto stem = kernels_of_file(out + "/" + by_key.at("Conv-input:32x32x3-output:16x16x16")[0]);
  EXPECT_EQ(types(stem), (std::multiset<std::string>{"conv-bn-hswish"}));
  EXPECT_EQ(macs_of(stem, "conv-bn-hswish"), 16 * 16 * 3 * 16 * 9);
  auto mix = kernels_of_file(out + "/" + by_key.at("Conv_2-input:1x1x64-output:1x1x128")[0]);
  EXPECT_EQ(count_type(mix, "conv"), 1u);
  EXPECT_EQ(mix[0].macs, 64 * 128);
  EXPECT_EQ(count_type(mix, "conv-bn"), 0u);
  auto logits = kernels_of_file(out + "/" + by_key.at("Logits-input:1x1x128-output:10")[0]);
  EXPECT_EQ(types(logits), (std::multiset<std::string>{"fc"}));
  EXPECT_EQ(macs_of(logits, "fc"), 1280);
  auto pool = kernels_of_file(out + "/" + by_key.at("AvgPool2D-input:4x4x64-output:1x1x64")[0]);
  EXPECT_EQ(types(pool), (std::multiset<std::string>{"global-avgpool"}));

  // ProxylessNAS: expand is a ratio, ReLU6, var -> std.
  auto p = by_key.at("expanded_conv-input:8x8x16-output:8x8x16-expand:3-kernel:5-stride:1-idskip:1");
  EXPECT_EQ(p[2], "0.2");
  auto pk = kernels_of_file(out + "/" + p[0]);
  EXPECT_EQ(types(pk), (std::multiset<std::string>{"conv-bn-relu6", "dwconv-bn-relu6", "conv-bn", "add"}));
  EXPECT_EQ(macs_of(pk, "conv-bn-relu6"), 8 * 8 * 16 * 48);
  auto e1 = by_key.at("expanded_conv-input:8x8x32-output:8x8x16-expand:1-kernel:3-stride:1-idskip:0");
  EXPECT_EQ(e1[2], "");
  EXPECT_EQ(e1[3], "");
  EXPECT_EQ(types(kernels_of_file(out + "/" + e1[0])), (std::multiset<std::string>{"dwconv-bn-relu6", "conv-bn"}));
  auto head = kernels_of_file(out + "/" + by_key.at("Conv_1-input:7x7x32-output:7x7x64")[0]);
  EXPECT_EQ(types(head), (std::multiset<std::string>{"conv-bn-relu6"}));
  auto plogits = kernels_of_file(out + "/" + by_key.at("Logits-input:7x7x64-output:10")[0]);
  EXPECT_EQ(types(plogits), (std::multiset<std::string>{"global-avgpool", "fc"}));
}

TEST(LutImport, BadEntriesNameTheFileAndKeyAndLeaveNothing) {
  TempDir tmp;
  const std::string good = "Conv-input:32x32x3-output:16x16x16:\n  mean: 0.3\n  std: 0.01\n";
  struct Case {
    std::string yaml, expect;
  } cases[] = {
      {good + "expanded_conv-input:8x8x16-output:8x8x16-expand:3-kernel:5-stride:1-idskip:2:\n  mean: 1\n",
       "key 'expanded_conv-input:8x8x16-output:8x8x16-expand:3-kernel:5-stride:1-idskip:2'"},
      {good + "Bogus-input:8x8x16-output:8x8x16:\n  mean: 1\n", "key 'Bogus-input:8x8x16-output:8x8x16'"},
      {good + "Conv-input:8x8x3-output:4x4x16:\n  count: 3\n  std: 0.1\n", "no mean"},
      {good + "Conv-input:8x8x3-output:4x4x16:\n  mean: 0\n", "not a positive latency"},
      {good + "Conv-input:8x8x3-output:4x4x16:\n  mean: -1\n", "not a positive latency"},
      {good + "Conv-input:8x8x3-output:4x4x16:\n  mean: fast\n", "mean is not a number"},
      {good + "expanded_conv-input:8x8x16-output:8x8x24-expand:3-kernel:5-stride:1-idskip:1:\n  mean: 1\n",
       "idskip"},
  };
  for (const auto& c : cases) {
    std::string file = tmp.write("t.yaml", c.yaml);
    auto r = run_cli({"dataset", "import", "--format", "lut", file, "--out", tmp.file("out")});
    EXPECT_EQ(r.exit_code, 2) << c.yaml;
    EXPECT_NE(r.err.find(file), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
    expect_only(tmp.path(), {"t.yaml"});
  }
  // An existing, non-empty output folder is refused before anything is built.
  std::string file = tmp.write("t.yaml", good);
  test::write_text(tmp.file("full/x"), "x");
  auto r = run_cli({"dataset", "import", "--format", "lut", file, "--out", tmp.file("full")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("not an empty folder"), std::string::npos) << r.err;
  r = run_cli({"dataset", "import", "--format", "lut", file, "--out", tmp.file("ok")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(tmp.file("ok/measured.csv")));
}

TEST(ImportWriter, AFailedBuildLeavesNoFolder) {
  TempDir tmp;
  ImportedModels m;
  m.columns = {"model", "latency_ms"};
  m.files = {"a.onnx", "b.onnx", "c.onnx"};
  m.rows = {{"a.onnx", "1"}, {"b.onnx", "2"}, {"c.onnx", "3"}};
  m.build = [](size_t i) {
    if (i == 1) throw Error("broken");
    return build_nb201("|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|", "cifar10");
  };
  EXPECT_THROW(write_imported_models(m, tmp.file("out"), 2), Error);
  expect_only(tmp.path(), {});
}

const std::string kArchA = "|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|";
// Node 1 differs from A's but reaches nothing: the same network once pruned.
const std::string kArchB = "|avg_pool_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|";
const std::string kArchC = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|";

std::string nb201_csv() {
  return "arch,dataset,tx2_ms,pixel_ms\n" + kArchA + ",cifar10,5.5,1\n" + kArchA + ",cifar10,5.7,\n" + kArchB +
         ",cifar10,5.9,2\n" + kArchC + ",cifar100,9.5,3\n" + kArchC + ",cifar10,,4\n";
}

TEST(Nb201Import, DeduplicatesIdenticalNetworksAndGroupsThem) {
  TempDir tmp;
  std::string csv = tmp.write("nb.csv", nb201_csv());
  Nb201ImportOptions o;
  o.column = "tx2_ms";
  ImportedModels m = import_nb201(nb201_csv(), csv, o);
  EXPECT_EQ(m.columns, (std::vector<std::string>{"model", "latency_ms", "arch", "input_hw", "num_classes", "group"}));
  ASSERT_EQ(m.rows.size(), 4u);
  EXPECT_EQ(m.skipped, 1u);  // C's cifar10 row has no tx2 value
  EXPECT_EQ(m.files.size(), 2u);  // A (and B, the same network once pruned), C cifar100
  EXPECT_EQ(m.rows[0][0], m.rows[1][0]);
  EXPECT_EQ(m.rows[0][0], m.rows[2][0]);
  EXPECT_EQ(m.rows[2][5], kArchA);  // B's group is A's: copies share a fold
  EXPECT_EQ(m.rows[2][2], kArchB);
  EXPECT_EQ(m.rows[3][3], "32");
  EXPECT_EQ(m.rows[3][4], "100");
  EXPECT_EQ(m.rows[1][1], "5.7");

  o.graph = "all-edges";
  ImportedModels all = import_nb201(nb201_csv(), csv, o);
  EXPECT_EQ(all.files.size(), 3u);  // A and B differ when every edge is computed
  EXPECT_EQ(all.rows[0][0], all.rows[1][0]);
  EXPECT_NE(all.rows[0][0], all.rows[2][0]);
  EXPECT_EQ(all.rows[2][5], kArchB);

  write_imported_models(m, tmp.file("pruned"), 2);
  write_imported_models(all, tmp.file("all"), 2);
  auto rows = csv_rows(tmp.file("pruned/measured.csv"));
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[3][5], kArchA);
  auto pruned = kernels_of_file(tmp.file("pruned/" + m.rows[0][0]));
  auto every = kernels_of_file(tmp.file("all/" + all.rows[0][0]));
  // A has two none edges per cell: 15 cells x 2 multiplications by 0 in the all-edges form only.
  EXPECT_EQ(count_type(pruned, "mul"), 0u);
  EXPECT_EQ(count_type(every, "mul"), 30u);
  // A's node 1 (a 3x3 conv) reaches nothing: computed in the all-edges form only, once per cell.
  size_t convs_pruned = 0, convs_all = 0;
  for (const auto& k : pruned) convs_pruned += k.config.has("ks") && k.config.get("ks") == 3 && k.type.find("conv") != std::string::npos;
  for (const auto& k : every) convs_all += k.config.has("ks") && k.config.get("ks") == 3 && k.type.find("conv") != std::string::npos;
  EXPECT_EQ(convs_all, convs_pruned + 15);
  EXPECT_GT(load_onnx(tmp.file("all/" + all.rows[0][0])).nodes.size(), load_onnx(tmp.file("pruned/" + m.rows[0][0])).nodes.size());
}

// Archs with one canonical string get identical graphs (the converse does not hold: a chain of
// skip_connect edges is the same graph as one skip_connect).
TEST(Nb201Import, CanonicalArchMatchesTheBuiltGraph) {
  const char* ops[] = {"none", "skip_connect", "nor_conv_1x1"};
  for (Nb201Graph form : {Nb201Graph::Pruned, Nb201Graph::AllEdges, Nb201Graph::Torch2trt}) {
    std::map<std::string, std::pair<uint64_t, uint64_t>> by_canonical;
    std::map<std::pair<uint64_t, uint64_t>, std::string> by_graph;
    for (int code = 0; code < 729; ++code) {
      int c = code;
      std::string e[6];
      for (auto& op : e) op = ops[c % 3], c /= 3;
      std::string arch = fmt::format("|{}~0|+|{}~0|{}~1|+|{}~0|{}~1|{}~2|", e[0], e[1], e[2], e[3], e[4], e[5]);
      std::string canonical = nb201_canonical_arch(arch, form);
      auto fp = import::graph_fingerprint(build_nb201(arch, "cifar10", form));
      auto [a, fresh_a] = by_canonical.emplace(canonical, fp);
      by_graph.emplace(fp, canonical);
      EXPECT_EQ(a->second, fp) << arch;
    }
    EXPECT_GE(by_canonical.size(), by_graph.size());
    if (form == Nb201Graph::AllEdges) {
      EXPECT_EQ(by_graph.size(), 729u);
    } else {
      EXPECT_LT(by_graph.size(), 729u);
    }
  }
}

TEST(Nb201Import, AllEdgesMatchesPrunedWithoutNoneOrDeadEdges) {
  auto a = kernels_of(build_nb201(kArchC, "cifar10", Nb201Graph::Pruned));
  auto b = kernels_of(build_nb201(kArchC, "cifar10", Nb201Graph::AllEdges));
  EXPECT_EQ(types(a), types(b));
}

// What TensorRT runs of the network torch2trt traces (HW-NAS-Bench's TX2): every node's sum
// starts with 0 + its first edge, a none edge reads nothing (so what only none edges read is
// removed), every edge has its own ReLU.
// --graph auto (the default) builds what the measured runtime executed: HW-NAS-Bench's TX2
// columns as TensorRT ran them, every other column pruned.
TEST(Nb201Import, AutoFormFollowsTheMeasuredColumn) {
  EXPECT_EQ(nb201_graph_for("tx2gpu_latency_ms"), "torch2trt");
  EXPECT_EQ(nb201_graph_for("tx2gpu_energy_mj"), "torch2trt");
  EXPECT_EQ(nb201_graph_for("edgetpu_latency_ms"), "pruned");
  EXPECT_EQ(nb201_graph_for("snapdragon855_kryo485cpu_int8_ms"), "pruned");
  std::string csv = "arch,dataset,tx2gpu_latency_ms,pixel3cpu_latency_ms\n" + kArchA + ",cifar10,5.5,1\n";
  std::vector<std::vector<std::string>> by_column;
  for (const char* column : {"tx2gpu_latency_ms", "pixel3cpu_latency_ms"}) {
    Nb201ImportOptions automatic, named;
    automatic.column = named.column = column;
    named.graph = nb201_graph_for(column);
    ImportedModels a = import_nb201(csv, "nb.csv", automatic), n = import_nb201(csv, "nb.csv", named);
    ASSERT_EQ(a.files.size(), 1u);
    std::vector<std::string> ta, tn;
    for (const auto& k : kernels_of(a.build(0))) ta.push_back(k.type);
    for (const auto& k : kernels_of(n.build(0))) tn.push_back(k.type);
    EXPECT_EQ(ta, tn) << column;
    by_column.push_back(ta);
  }
  EXPECT_NE(by_column[0], by_column[1]);  // the TX2's form runs the node sums' Adds
}

TEST(Nb201Import, Torch2trtFormRunsWhatTensorRTRuns) {
  auto pruned = kernels_of(build_nb201(kArchA, "cifar10", Nb201Graph::Pruned));
  auto trt = kernels_of(build_nb201(kArchA, "cifar10", Nb201Graph::Torch2trt));
  // A's node 1 reaches node 3 only through none edges: removed, as in the pruned form.
  size_t convs_pruned = 0, convs_trt = 0;
  for (const auto& k : pruned) convs_pruned += k.type.find("conv") != std::string::npos;
  for (const auto& k : trt) convs_trt += k.type.find("conv") != std::string::npos;
  EXPECT_EQ(convs_trt, convs_pruned);
  EXPECT_EQ(count_type(trt, "mul"), 0u);
  // Nodes 2 and 3 each start with 0 + their first edge: two Adds a cell more than pruned.
  auto adds = [](const std::vector<Kernel>& ks) {
    size_t n = 0;
    for (const auto& k : ks) n += k.type.rfind("add", 0) == 0;
    return n;
  };
  EXPECT_EQ(adds(trt), adds(pruned) + 30);
  // Node 1 gets only a none edge but node 3 reads it: the sum 0 + zeros runs, written as x*0.
  const std::string d = "|none~0|+|skip_connect~0|none~1|+|nor_conv_1x1~0|skip_connect~1|none~2|";
  EXPECT_EQ(count_type(kernels_of(build_nb201(d, "cifar10", Nb201Graph::Torch2trt)), "mul"), 15u);
  // A cell whose output does not depend on its input runs nothing.
  const std::string dead = "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|";
  EXPECT_EQ(types(kernels_of(build_nb201(dead, "cifar10", Nb201Graph::Torch2trt))),
            types(kernels_of(build_nb201(dead, "cifar10", Nb201Graph::Pruned))));
}

TEST(Nb201Import, BadInputsNameTheFileAndLine) {
  TempDir tmp;
  Nb201ImportOptions o;
  o.column = "tx2_ms";
  const std::string head = "arch,dataset,tx2_ms\n";
  EXPECT_NE(error_of([&] { import_nb201(head + kArchA + ",cifar10,1\n|bad~0|+|x|,cifar10,2\n", "nb.csv", o); })
                .find("nb.csv:3"),
            std::string::npos);
  EXPECT_NE(error_of([&] { import_nb201(head + kArchA + ",cifar10,0\n", "nb.csv", o); }).find("nb.csv:2"),
            std::string::npos);
  EXPECT_NE(error_of([&] { import_nb201(head + kArchA + ",cifar10,fast\n", "nb.csv", o); }).find("nb.csv:2"),
            std::string::npos);
  EXPECT_NE(error_of([&] { import_nb201(head + kArchA + ",cifar7,1\n", "nb.csv", o); }).find("nb.csv:2"),
            std::string::npos);
  o.column = "missing_ms";
  EXPECT_NE(error_of([&] { import_nb201(head + kArchA + ",cifar10,1\n", "nb.csv", o); }).find("missing column 'missing_ms'"),
            std::string::npos);
  o.column = "dataset";
  EXPECT_NE(error_of([&] { import_nb201(head + kArchA + ",cifar10,1\n", "nb.csv", o); }).find("--target"),
            std::string::npos);
  EXPECT_EQ(target_for_column("tx2gpu_energy_mj"), "energy_mj");
  EXPECT_EQ(target_for_column("latency"), "latency_ms");

  // Through the CLI: exit 2, the message, no folder left.
  std::string csv = tmp.write("nb.csv", head + kArchA + ",cifar10,1\n" + "|nor_conv_3x3~0|+|,cifar10,2\n");
  auto r = run_cli({"dataset", "import", "--format", "nb201", csv, "--column", "tx2_ms", "--out", tmp.file("out")});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(csv + ":3"), std::string::npos) << r.err;
  expect_only(tmp.path(), {"nb.csv"});
}

TEST(Nb201Import, CliWritesModelsAndCountsSkippedRows) {
  TempDir tmp;
  std::string csv = tmp.write("nb.csv", nb201_csv());
  auto r = run_cli({"dataset", "import", "--format", "nb201", csv, "--column", "tx2_ms", "--out", tmp.file("out")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("imported 4 measurements as 2 models"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("left out 1 rows: no value in column tx2_ms"), std::string::npos) << r.err;
  // --dataset is for rows without dataset columns; --graph on deepen zoo too.
  r = run_cli({"zoo", "--nb201", kArchA, "--graph", "all-edges", "--weights", "zeros", "--out", tmp.file("a.onnx")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_type(kernels_of_file(tmp.file("a.onnx")), "mul"), 30u);
}

const char* const kFbnet =
    "block,kind,hw,cin,cout,expansion,ks,stride,groups,tx2_ms,pixel_ms\n"
    "CB_g2,ConvBlock,16,16,16,1,3,1,2,0.7,2.3\n"
    "CB_e6,ConvBlock,16,16,24,6,5,2,1,0.9,\n"
    "CN,ConvNorm,32,3,16,,3,2,1,0.5,0.1\n"
    "Skip_id,Skip,16,16,16,,,1,,0.0,0.01\n"
    "Skip_conv,Skip,16,16,24,,,2,,0.44,0.05\n"
    "FC,FC,1,64,10,,,,,0.6,0.01\n"
    "AvgP,AvgP,4,64,64,,4,1,,0.4,0.02\n";

TEST(FbnetImport, BuildsEveryKind) {
  TempDir tmp;
  ImportedModels m = import_fbnet(kFbnet, "fb.csv", "tx2_ms");
  EXPECT_EQ(m.skipped, 1u);  // the identity Skip
  ASSERT_EQ(m.rows.size(), 6u);
  write_imported_models(m, tmp.file("out"), 1);
  std::map<std::string, std::vector<Kernel>> ks;
  for (const auto& row : m.rows) ks[row[2]] = kernels_of_file(tmp.file("out/" + row[0]));
  EXPECT_EQ(types(ks["CB_g2"]),
            (std::multiset<std::string>{"gconv-bn-relu", "channel-shuffle", "dwconv-bn-relu", "gconv-bn", "add"}));
  EXPECT_EQ(macs_of(ks["CB_g2"], "gconv-bn-relu"), 16 * 16 * 16 * 8);
  EXPECT_EQ(types(ks["CB_e6"]), (std::multiset<std::string>{"conv-bn-relu", "dwconv-bn-relu", "conv-bn"}));
  EXPECT_EQ(macs_of(ks["CB_e6"], "conv-bn-relu"), 16 * 16 * 16 * 96);
  EXPECT_EQ(macs_of(ks["CB_e6"], "dwconv-bn-relu"), 8 * 8 * 96 * 25);
  EXPECT_EQ(macs_of(ks["CB_e6"], "conv-bn"), 8 * 8 * 96 * 24);
  EXPECT_EQ(types(ks["CN"]), (std::multiset<std::string>{"conv-bn-relu"}));
  EXPECT_EQ(types(ks["Skip_conv"]), (std::multiset<std::string>{"conv-bn-relu"}));
  EXPECT_EQ(macs_of(ks["Skip_conv"], "conv-bn-relu"), 8 * 8 * 16 * 24);
  EXPECT_EQ(types(ks["FC"]), (std::multiset<std::string>{"fc"}));
  EXPECT_EQ(types(ks["AvgP"]), (std::multiset<std::string>{"global-avgpool"}));

  ImportedModels pixel = import_fbnet(kFbnet, "fb.csv", "pixel_ms");
  EXPECT_EQ(pixel.skipped, 2u);  // the identity Skip, CB_e6 without a value
  EXPECT_NE(error_of([&] { import_fbnet(std::string(kFbnet) + "X,Pool,4,1,1,,,,,1,1\n", "fb.csv", "tx2_ms"); })
                .find("fb.csv:9: block 'X': unknown kind"),
            std::string::npos);
  EXPECT_NE(error_of([&] { import_fbnet(std::string(kFbnet) + "Z,FC,1,64,10,,,,,0,1\n", "fb.csv", "tx2_ms"); })
                .find("fb.csv:9"),
            std::string::npos);
}

const char* const kTophub = R"(# pre-tuned
{"input": ["llvm -device=arm_cpu -model=rk3399 -mattr=+neon", "conv2d_nchw_spatial_pack.arm_cpu", [["TENSOR", [1, 64, 56, 56], "float32"], ["TENSOR", [128, 64, 3, 3], "float32"], [2, 2], [1, 1, 1, 1], [1, 1], "float32"], {}], "config": {}, "result": [[0.002, 0.004], 0, 1.0, 1.0], "version": 0.2}
{"input": ["llvm -device=arm_cpu -model=rk3399", "depthwise_conv2d_nchw.arm_cpu", [["TENSOR", [1, 96, 28, 28], "float32"], ["TENSOR", [96, 1, 3, 3], "float32"], [1, 1], [1, 1, 1, 1], [1, 1], "float32"], {}], "result": [[0.0005], 0, 1.0, 1.0]}
{"input": ["opencl -model=rk3399 -device=mali", "dense.mali", [["TENSOR", [1, 1024], "float32"], ["TENSOR", [1000, 1024], "float32"], ["TENSOR", [1000], "float32"], null], {}], "result": [[0.0008], 0, 1.0, 1.0]}
{"input": ["llvm -device=arm_cpu -model=pynq", "conv2d_nchw_spatial_pack.arm_cpu", [["TENSOR", [1, 64, 14, 14], "float32"], ["TENSOR", [128, 16, 1, 1], "float32"], [1, 1], [0, 0, 0, 0], [1, 1], "float32"], {}], "result": [[0.001], 0, 1.0, 1.0]}
{"input": ["opencl -keys=adreno,opencl,gpu -device=adreno", "conv2d_nchwc.image2d", [["TENSOR", [1, 32, 28, 28], "float16"], ["TENSOR", [64, 32, 3, 3], "float16"], [2, 2], [0, 0, 1, 1], [1, 1], "float16"], {}], "result": [[0.0001], 0, 1.0, 1.0]}
{"input": ["llvm -model=rk3399", "conv2d_transpose_nchw.arm_cpu", [["TENSOR", [1, 128, 32, 32], "int8"], ["TENSOR", [128, 3, 4, 4], "int8"], [2, 2], [1, 1, 1, 1], "int32", [0, 0]], {}], "result": [[0.007], 0, 1.0, 1.0]}
{"input": ["llvm -model=rk3399", "conv2d_nchw_spatial_pack.arm_cpu", [["TENSOR", [1, 64, 28, 28], "float32"], ["TENSOR", [64, 64, 3, 3], "float32"], [1, 1], [2, 2, 2, 2], [2, 2], "float32"], {}], "result": [[0.001], 0, 1.0, 1.0]}
{"input": ["llvm -model=rk3399", "conv2d_nchw_spatial_pack.arm_cpu", [["TENSOR", [1, 64, 28, 14], "float32"], ["TENSOR", [64, 64, 3, 3], "float32"], [1, 1], [1, 1, 1, 1], [1, 1], "float32"], {}], "result": [[0.001], 0, 1.0, 1.0]}
{"input": ["llvm -model=rk3399", "conv2d_nchw_spatial_pack.arm_cpu", [["TENSOR", [1, 64, 28, 28], "float32"], ["TENSOR", [64, 64, 3, 3], "float32"], [1, 1], [0, 0, 0, 0], [1, 1], "float32"], {}], "result": [[0.001], 0, 1.0, 1.0]}
{"input": ["llvm -model=rk3399", "conv2d_nchw_spatial_pack.arm_cpu", [["TENSOR", [2, 64, 28, 28], "float32"], ["TENSOR", [64, 64, 3, 3], "float32"], [1, 1], [1, 1, 1, 1], [1, 1], "float32"], {}], "result": [[0.001], 0, 1.0, 1.0]}
{"input": ["llvm -model=rk3399", "conv2d_nchw_spatial_pack.arm_cpu", [["TENSOR", [1, 64, 28, 28], "float32"], ["TENSOR", [64, 64, 3, 3], "float32"], [1, 1], [1, 1, 1, 1], [1, 1], "float32"], {}], "result": [[1e10], 4, 1.0, 1.0]}
)";

TEST(TophubImport, ConvDepthwiseDenseAndWhatItSkips) {
  TophubImport t = import_tophub(kTophub, "arm.log");
  ASSERT_EQ(t.rows.size(), 5u);
  const DatasetRow& conv = t.rows[0];
  EXPECT_EQ(conv.kernel, "conv");
  EXPECT_EQ(conv.config.get("hw"), 56);
  EXPECT_EQ(conv.config.get("cin"), 64);
  EXPECT_EQ(conv.config.get("cout"), 128);
  EXPECT_EQ(conv.config.get("ks"), 3);
  EXPECT_EQ(conv.config.get("stride"), 2);
  EXPECT_NEAR(conv.targets.at("latency_ms"), 3.0, 1e-12);  // the mean of 2 ms and 4 ms
  EXPECT_EQ(conv.extra, (std::vector<std::pair<std::string, std::string>>{
                            {"device", "rk3399"}, {"task", "conv2d_nchw_spatial_pack.arm_cpu"}, {"dtype", "float32"}}));
  EXPECT_EQ(t.rows[1].kernel, "dwconv");
  EXPECT_EQ(t.rows[1].config.get("cin"), 96);
  EXPECT_EQ(t.rows[2].kernel, "fc");
  EXPECT_EQ(t.rows[2].config.get("cin"), 1024);
  EXPECT_EQ(t.rows[2].extra[0].second, "rk3399");
  EXPECT_EQ(t.rows[3].kernel, "gconv");
  EXPECT_EQ(t.rows[3].config.get("groups"), 4);
  EXPECT_EQ(t.rows[4].config.get("stride"), 2);  // TF-style 'same' (pad bottom/right)
  EXPECT_EQ(t.rows[4].extra[0].second, "adreno");
  EXPECT_EQ(t.skipped.at("conv2d_transpose"), 1u);
  EXPECT_EQ(t.skipped.at("dilation != 1"), 1u);
  EXPECT_EQ(t.skipped.at("non-square input"), 1u);
  EXPECT_EQ(t.skipped.at("padding other than 'same' (output != ceil(hw / stride))"), 1u);
  EXPECT_EQ(t.skipped.at("batch != 1"), 1u);
  EXPECT_EQ(t.skipped.at("a failed measurement (error code != 0)"), 1u);
  // What it writes reads back as a dataset.
  EXPECT_EQ(parse_dataset_csv(dataset_to_csv(t.rows), "out").rows.size(), 5u);

  TophubImport pynq = import_tophub(kTophub, "arm.log", "pynq");
  ASSERT_EQ(pynq.rows.size(), 1u);
  EXPECT_EQ(pynq.rows[0].kernel, "gconv");

  std::string bad = std::string("# c\n") + "{\"input\": [\"llvm\", \"dense\"\n";
  EXPECT_NE(error_of([&] { import_tophub(bad, "x.log"); }).find("x.log:2: not a JSON record"), std::string::npos);
  EXPECT_NE(error_of([&] { import_tophub("{\"input\": 3, \"result\": []}\n", "x.log"); }).find("x.log:1"),
            std::string::npos);
}

TEST(TophubImport, CliWritesTheDatasetCsv) {
  TempDir tmp;
  std::string log = tmp.write("arm.log", kTophub);
  auto r = run_cli({"dataset", "import", "--format", "tophub", log, "--device", "rk3399"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  KernelDataset d = parse_dataset_csv(r.out, "stdout");
  EXPECT_EQ(d.rows.size(), 3u);
  EXPECT_NE(r.err.find("imported 3 kernels"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("2 device other than 'rk3399'"), std::string::npos) << r.err;
  r = run_cli({"dataset", "import", "--format", "tophub", log, "--column", "x"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("does not take --column"), std::string::npos) << r.err;
}

// The real files of ../shared/data, when this checkout has them.
TEST(DatasetImport, RealFiles) {
  const std::string data = DEEPEN_SHARED_DATA;
  if (!fs::exists(data + "/luts") || !fs::exists(data + "/latbench/nb201_latency.csv"))
    GTEST_SKIP() << data << " is not there";
  TempDir tmp;
  std::vector<std::pair<std::string, std::string>> luts;
  for (const auto& dir : {data + "/luts/ofa_note10", data + "/luts/proxylessnas_mobile"})
    for (const auto& e : fs::directory_iterator(dir)) luts.emplace_back(e.path().string(), read_text(e.path().string()));
  ImportedModels lut = import_lut(luts);
  EXPECT_GT(lut.rows.size(), 400u);
  write_imported_models(lut, tmp.file("lut"));
  for (const auto& row : lut.rows) {
    auto ks = kernels_of_file(tmp.file("lut/" + row[0]));
    for (const auto& k : ks) EXPECT_EQ(k.type.find("other"), std::string::npos) << row[0] << " " << k.type;
  }

  Nb201ImportOptions o;
  o.column = "snapdragon855_kryo485cpu_int8_ms";
  ImportedModels nb = import_nb201(read_text(data + "/latbench/nb201_latency.csv"), "latbench", o);
  EXPECT_GT(nb.rows.size(), 10000u);
  EXPECT_LT(nb.files.size(), nb.rows.size());  // some archs are the same network once pruned

  ImportedModels fb = import_fbnet(read_text(data + "/hwnasbench/fbnet_blocks.csv"), "fbnet", "tx2gpu_latency_ms");
  EXPECT_GT(fb.rows.size(), 190u);
  for (const auto& log : {"arm_cpu_v0.08.log", "mali_v0.06.log", "adreno_v0.02.log"}) {
    TophubImport t = import_tophub(read_text(data + "/tophub/" + log), log);
    EXPECT_GT(t.rows.size(), 100u) << log;
  }
}

}  // namespace
}  // namespace deepen
