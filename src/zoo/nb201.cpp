// NAS-Bench-201 networks (Dong and Yang, ICLR 2020) as its reference code (xautodl) builds
// them: a 3x3 stem, three stages of five cells at C, 2C and 4C channels with a residual
// reduction block between stages, BN-ReLU, global pooling and a linear classifier. Edges that
// are `none`, and nodes that then receive nothing, produce no operators.
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

// One cell; returns nothing when its output node receives nothing. A node that receives
// nothing, or whose value reaches the output by no edge, gets no operators, nor do its edges.
std::optional<std::string> cell(zoo::GraphBuilder& b, const std::string& x,
                                const std::vector<std::vector<Edge>>& arch) {
  int64_t c = b.channels(x);
  // useful[j]: node j reaches node 3 along edges that are not none.
  bool useful[4] = {false, false, false, true};
  for (int j = 2; j >= 0; --j)
    for (int i = j + 1; i <= 3; ++i)
      useful[j] = useful[j] || (useful[i] && arch[static_cast<size_t>(i - 1)][static_cast<size_t>(j)].op != "none");
  std::vector<std::optional<std::string>> nodes = {x};
  for (size_t i = 0; i < arch.size(); ++i) {
    std::vector<std::string> terms;
    if (useful[i + 1])
      for (const auto& e : arch[i]) {
        const auto& in = nodes[static_cast<size_t>(e.from)];
        if (!in || e.op == "none") continue;
        if (e.op == "skip_connect") terms.push_back(*in);
        else if (e.op == "nor_conv_1x1") terms.push_back(relu_conv_bn(b, *in, c, 1, 1));
        else if (e.op == "nor_conv_3x3") terms.push_back(relu_conv_bn(b, *in, c, 3, 1));
        else terms.push_back(b.avgpool(*in, 3, 1, 1));
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

Graph build_nb201(const std::string& arch_text, const std::string& dataset) {
  int64_t hw = 32, classes = 10;
  if (dataset == "cifar10") classes = 10;
  else if (dataset == "cifar100") classes = 100;
  else if (dataset == "ImageNet16-120") hw = 16, classes = 120;
  else
    throw Error(fmt::format("unknown NAS-Bench-201 dataset '{}'; use cifar10, cifar100 or ImageNet16-120", dataset));
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
      auto y = cell(b, x, arch);
      // A cell whose output receives nothing passes on zeros: a constant, not an operator.
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
