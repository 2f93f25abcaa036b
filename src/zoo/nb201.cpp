// NAS-Bench-201 networks (Dong and Yang, ICLR 2020) as its reference code (xautodl) builds
// them: a 3x3 stem, three stages of five cells at C, 2C and 4C channels with a residual
// reduction block between stages, BN-ReLU, global pooling and a linear classifier. In the pruned
// form, edges that are `none`, and nodes that then receive nothing, produce no operators; in the
// all-edges form every edge is computed as xautodl runs it, `none` as a multiplication by 0; in
// the torch2trt form, what TensorRT executes of the network torch2trt traces from xautodl's
// (HW-NAS-Bench's Jetson TX2 setup).
#include <deepen/error.h>
#include <deepen/zoo.h>

#include "zoo/graph_builder.h"

#include <fmt/format.h>

#include <fstream>
#include <optional>

namespace deepen {
namespace {

struct Edge {
  std::string op;
  int from;
};

const char* const kOps[] = {"none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"};

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n\"'"), e = s.find_last_not_of(" \t\r\n\"'");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// "|a~0|+|b~0|c~1|+|d~0|e~1|f~2|" -> the edges into nodes 1, 2, 3.
std::vector<std::vector<Edge>> parse_arch(const std::string& text) {
  const std::string arch = trim(text);
  auto fail = [&](const std::string& why) -> Error {
    return Error(fmt::format("NAS-Bench-201 arch string '{}' does not parse: {}; expected the form "
                             "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|",
                             text, why));
  };
  std::vector<std::string> groups;
  size_t start = 0;
  while (true) {
    size_t plus = arch.find('+', start);
    groups.push_back(arch.substr(start, plus == std::string::npos ? std::string::npos : plus - start));
    if (plus == std::string::npos) break;
    start = plus + 1;
  }
  if (groups.size() != 3) throw fail(fmt::format("it has {} node groups separated by '+', not 3", groups.size()));
  std::vector<std::vector<Edge>> nodes;
  for (size_t i = 0; i < groups.size(); ++i) {
    const std::string& g = groups[i];
    if (g.size() < 2 || g.front() != '|' || g.back() != '|')
      throw fail(fmt::format("node {} ('{}') must start and end with '|'", i + 1, g));
    std::vector<Edge> edges;
    size_t pos = 1;
    while (pos < g.size()) {
      size_t bar = g.find('|', pos);
      std::string item = g.substr(pos, bar - pos);
      pos = bar + 1;
      size_t tilde = item.find('~');
      if (tilde == std::string::npos) throw fail(fmt::format("edge '{}' has no '~'", item));
      Edge e{item.substr(0, tilde), -1};
      bool known = false;
      for (const char* op : kOps) known = known || e.op == op;
      if (!known)
        throw fail(fmt::format("unknown operation '{}' (known: none, skip_connect, nor_conv_1x1, nor_conv_3x3, "
                               "avg_pool_3x3)",
                               e.op));
      std::string from = item.substr(tilde + 1);
      if (from.size() != 1 || from[0] < '0' || from[0] > '9') throw fail(fmt::format("edge '{}' has a bad source node", item));
      e.from = from[0] - '0';
      edges.push_back(e);
    }
    if (edges.size() != i + 1) throw fail(fmt::format("node {} has {} edges, not {}", i + 1, edges.size(), i + 1));
    for (size_t j = 0; j < edges.size(); ++j)
      if (edges[j].from != static_cast<int>(j))
        throw fail(fmt::format("edge {} of node {} comes from node {}, expected {}", j + 1, i + 1, edges[j].from, j));
    nodes.push_back(std::move(edges));
  }
  return nodes;
}

std::string relu_conv_bn(zoo::GraphBuilder& b, const std::string& x, int64_t cout, int64_t ks, int64_t stride) {
  return b.bn(b.conv(b.act(x, "relu"), cout, ks, stride));
}

std::string edge_op(zoo::GraphBuilder& b, const std::string& in, const std::string& op, int64_t c) {
  if (op == "skip_connect") return in;
  if (op == "nor_conv_1x1") return relu_conv_bn(b, in, c, 1, 1);
  if (op == "nor_conv_3x3") return relu_conv_bn(b, in, c, 3, 1);
  if (op == "none") return b.scale(in, 0.0);
  return b.avgpool(in, 3, 1, 1);
}

// One cell as PyTorch runs it: every node is the sum of all its incoming edges.
std::string cell_all_edges(zoo::GraphBuilder& b, const std::string& x, const std::vector<std::vector<Edge>>& arch) {
  int64_t c = b.channels(x);
  std::vector<std::string> nodes = {x};
  for (const auto& edges : arch) {
    std::string sum;
    for (const auto& e : edges) {
      std::string term = edge_op(b, nodes[static_cast<size_t>(e.from)], e.op, c);
      sum = sum.empty() ? term : b.add(sum, term);
    }
    nodes.push_back(sum);
  }
  return nodes.back();
}

// One cell as torch2trt hands it to TensorRT and TensorRT runs it. xautodl's node is Python's
// sum() of its edges, which starts from the integer 0: the first edge is added to a scalar 0 (an
// Add with a constant, traced as a layer), each further edge adds one more Add. A `none` edge's
// x.mul(0.) has no torch2trt converter, so its value enters the network as a constant of zeros:
// it does not read x, and TensorRT removes every layer whose output then reaches nothing (an
// edge into a node that only `none` edges read costs nothing). Adding that constant to a sum
// costs nothing measurable on the TX2 and is left out; a sum that starts with it is a layer on
// constants, which TensorRT runs, as it runs every layer that reads such a node. ONNX has no
// layer on constants that a loader keeps (deepen folds them), so that one is written as the
// cell's input times 0: one element-wise layer of the node's size, reading a tensor that is
// computed anyway (it adds a reader to the cell's input, which TensorRT does not have). Every edge has
// its own ReLU (ReLUConvBN), so a node read by several edges cannot fuse the ReLU into the Add
// that produced it. Returns nothing when the cell's output does not depend on its input.
std::optional<std::string> cell_torch2trt(zoo::GraphBuilder& b, const std::string& x,
                                          const std::vector<std::vector<Edge>>& arch) {
  int64_t c = b.channels(x);
  // depends[i]: node i's value depends on the cell's input; needed[i]: node 3 reads it.
  std::vector<bool> depends = {true, false, false, false}, needed = {false, false, false, true};
  for (size_t i = 0; i < arch.size(); ++i)
    for (const auto& e : arch[i])
      if (e.op != "none" && depends[static_cast<size_t>(e.from)]) depends[i + 1] = true;
  if (!depends[3]) return std::nullopt;
  for (int j = 2; j >= 0; --j)
    for (int i = j + 1; i <= 3; ++i)
      if (needed[static_cast<size_t>(i)] && arch[static_cast<size_t>(i - 1)][static_cast<size_t>(j)].op != "none")
        needed[static_cast<size_t>(j)] = true;
  std::vector<std::string> nodes = {x};
  for (size_t i = 0; i < arch.size(); ++i) {
    std::string sum;
    if (needed[i + 1])
      for (const auto& e : arch[i]) {
        if (e.op == "none") {
          if (sum.empty()) sum = b.scale(x, 0.0);
          continue;
        }
        std::string term = edge_op(b, nodes[static_cast<size_t>(e.from)], e.op, c);
        sum = sum.empty() ? b.offset(term, 0.0) : b.add(sum, term);
      }
    nodes.push_back(sum);
  }
  return nodes.back();
}

// useful[j]: node j reaches node 3 along edges that are not none.
std::vector<bool> useful_nodes(const std::vector<std::vector<Edge>>& arch) {
  std::vector<bool> useful = {false, false, false, true};
  for (int j = 2; j >= 0; --j)
    for (int i = j + 1; i <= 3; ++i)
      useful[static_cast<size_t>(j)] =
          useful[static_cast<size_t>(j)] ||
          (useful[static_cast<size_t>(i)] && arch[static_cast<size_t>(i - 1)][static_cast<size_t>(j)].op != "none");
  return useful;
}

// One cell; returns nothing when its output node receives nothing. A node that receives
// nothing, or whose value reaches the output by no edge, gets no operators, nor do its edges.
std::optional<std::string> cell(zoo::GraphBuilder& b, const std::string& x,
                                const std::vector<std::vector<Edge>>& arch) {
  int64_t c = b.channels(x);
  const std::vector<bool> useful = useful_nodes(arch);
  std::vector<std::optional<std::string>> nodes = {x};
  for (size_t i = 0; i < arch.size(); ++i) {
    std::vector<std::string> terms;
    if (useful[i + 1])
      for (const auto& e : arch[i]) {
        const auto& in = nodes[static_cast<size_t>(e.from)];
        if (!in || e.op == "none") continue;
        terms.push_back(edge_op(b, *in, e.op, c));
      }
    if (terms.empty()) {
      nodes.push_back(std::nullopt);
      continue;
    }
    std::string sum = terms[0];
    for (size_t k = 1; k < terms.size(); ++k) sum = b.add(sum, terms[k]);
    nodes.push_back(sum);
  }
  return nodes.back();
}

}  // namespace

std::string nb201_canonical_arch(const std::string& arch_text, Nb201Graph form) {
  auto arch = parse_arch(arch_text);
  if (form == Nb201Graph::Pruned) {
    // The edges cell() turns into operators keep their op; every other edge becomes none.
    const std::vector<bool> useful = useful_nodes(arch);
    std::vector<bool> has_value = {true};
    for (size_t i = 0; i < arch.size(); ++i) {
      bool any = false;
      for (auto& e : arch[i]) {
        bool kept = useful[i + 1] && has_value[static_cast<size_t>(e.from)] && e.op != "none";
        if (!kept) e.op = "none";
        any = any || kept;
      }
      has_value.push_back(any);
    }
  }
  std::string out;
  for (size_t i = 0; i < arch.size(); ++i) {
    out += i ? "+|" : "|";
    for (const auto& e : arch[i]) out += fmt::format("{}~{}|", e.op, e.from);
  }
  return out;
}

Nb201Graph parse_nb201_graph(const std::string& text) {
  if (text == "pruned") return Nb201Graph::Pruned;
  if (text == "all-edges") return Nb201Graph::AllEdges;
  if (text == "torch2trt") return Nb201Graph::Torch2trt;
  throw Error(fmt::format("unknown NAS-Bench-201 graph form '{}'; use pruned, all-edges or torch2trt", text));
}

Graph build_nb201(const std::string& arch_text, const std::string& dataset, Nb201Graph form) {
  int64_t hw = 32, classes = 10;
  if (dataset == "cifar10") classes = 10;
  else if (dataset == "cifar100") classes = 100;
  else if (dataset == "ImageNet16-120") hw = 16, classes = 120;
  else
    throw Error(fmt::format("unknown NAS-Bench-201 dataset '{}'; use cifar10, cifar100 or ImageNet16-120", dataset));
  return build_nb201(arch_text, hw, classes, form);
}

Graph build_nb201(const std::string& arch_text, int64_t hw, int64_t classes, Nb201Graph form) {
  if (hw < 4 || hw > 4096) throw Error(fmt::format("NAS-Bench-201 input size {} is out of range (4 to 4096)", hw));
  if (classes < 1 || classes > 1000000) throw Error(fmt::format("NAS-Bench-201 class count {} is out of range", classes));
  auto arch = parse_arch(arch_text);
  zoo::GraphBuilder b("nb201");
  std::string x = b.bn(b.conv(b.input("input", {1, 3, hw, hw}), 16, 3, 1));
  const int64_t widths[] = {16, 32, 64};
  for (int s = 0; s < 3; ++s) {
    if (s > 0) {
      std::string a = relu_conv_bn(b, x, widths[s], 3, 2);
      a = relu_conv_bn(b, a, widths[s], 3, 1);
      std::string shortcut = b.conv(b.avgpool(x, 2, 2), widths[s], 1);
      x = b.add(shortcut, a);
    }
    for (int k = 0; k < 5; ++k) {
      if (form == Nb201Graph::AllEdges) {
        x = cell_all_edges(b, x, arch);
        continue;
      }
      auto y = form == Nb201Graph::Torch2trt ? cell_torch2trt(b, x, arch) : cell(b, x, arch);
      // A cell whose output receives nothing (torch2trt: does not depend on its input) passes on
      // zeros: a constant, not an operator.
      x = y ? *y : b.zeros(b.shape(x));
    }
  }
  x = b.act(b.bn(x), "relu");
  b.output(b.fc(b.flatten(b.global_avgpool(x)), classes));
  return b.take();
}

}  // namespace deepen

// ---- reading arch strings from a CSV file

namespace deepen {
namespace {

std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == '"') {
      if (quoted && i + 1 < line.size() && line[i + 1] == '"') fields.back() += '"', ++i;
      else quoted = !quoted;
    } else if (c == ',' && !quoted) {
      fields.emplace_back();
    } else if (c != '\r') {
      fields.back() += c;
    }
  }
  return fields;
}

}  // namespace

std::vector<Nb201Row> read_nb201_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(fmt::format("{}: cannot open the file", path));
  std::string line;
  if (!std::getline(in, line)) throw Error(fmt::format("{}: the file is empty; expected a CSV with an 'arch' column", path));
  auto header = csv_fields(line);
  int arch_col = -1, dataset_col = -1;
  for (size_t i = 0; i < header.size(); ++i) {
    if (trim(header[i]) == "arch") arch_col = static_cast<int>(i);
    if (trim(header[i]) == "dataset") dataset_col = static_cast<int>(i);
  }
  if (arch_col < 0) throw Error(fmt::format("{}: the header has no 'arch' column", path));
  std::vector<Nb201Row> rows;
  size_t line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (trim(line).empty()) continue;
    auto fields = csv_fields(line);
    if (static_cast<int>(fields.size()) <= arch_col)
      throw Error(fmt::format("{}:{}: the row has no value in the 'arch' column", path, line_no));
    Nb201Row row;
    row.arch = trim(fields[static_cast<size_t>(arch_col)]);
    if (dataset_col >= 0 && static_cast<int>(fields.size()) > dataset_col)
      row.dataset = trim(fields[static_cast<size_t>(dataset_col)]);
    rows.push_back(std::move(row));
  }
  if (rows.empty()) throw Error(fmt::format("{}: the file has no rows", path));
  return rows;
}

}  // namespace deepen
