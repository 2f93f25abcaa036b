// HW-NAS-Bench's FBNet block measurements: one model per block, built as HW-NAS-Bench's PyTorch
// code builds it (its FBNet operations module):
//   ConvBlock: 1x1 conv (groups) to cin*expansion + BN + ReLU, a channel shuffle when groups > 1,
//              depthwise ks x ks (stride) + BN + ReLU, 1x1 conv (groups) to cout + BN, and the
//              input added when stride is 1 and cin == cout.
//   ConvNorm:  conv ks x ks (stride, groups) + BN + ReLU.
//   Skip:      the identity when stride is 1 and cin == cout, else a 1x1 conv (stride) + BN + ReLU.
//              The measurements agree: identity Skips measure 0 ms on the TX2, the others as much
//              as a small conv. An identity executes nothing, so those rows are left out.
//   FC:        a linear layer cin -> cout.   AvgP: average pooling ks x ks (global when ks == hw).
#include <deepen/error.h>
#include <deepen/train.h>
#include <deepen/zoo.h>

#include "train/import_util.h"
#include "zoo/graph_builder.h"

#include <fmt/format.h>

#include <map>
#include <memory>

namespace deepen {
namespace {

struct FbBlock {
  std::string name, kind;
  int64_t hw = 0, cin = 0, cout = 0, expansion = 1, ks = 1, stride = 1, groups = 1;
  bool identity() const { return kind == "Skip" && stride == 1 && cin == cout; }
};

Graph build_fbnet_block(const FbBlock& k) {
  zoo::GraphBuilder b(k.kind);
  if (k.kind == "FC") {
    std::string x = b.input("input", {1, k.cin});
    b.output(b.fc(x, k.cout));
    return b.take();
  }
  std::string x = b.input("input", {1, k.cin, k.hw, k.hw});
  std::string y;
  if (k.kind == "ConvBlock") {
    const int64_t mid = k.cin * k.expansion;
    y = b.conv_bn_act(x, mid, 1, 1, "relu", k.groups);
    if (k.groups > 1) y = b.channel_shuffle(y, k.groups);
    y = b.act(b.bn(b.dwconv(y, k.ks, k.stride)), "relu");
    y = b.bn(b.conv(y, k.cout, 1, 1, k.groups));
    if (k.stride == 1 && k.cin == k.cout) y = b.add(x, y);
  } else if (k.kind == "ConvNorm") {
    y = b.conv_bn_act(x, k.cout, k.ks, k.stride, "relu", k.groups);
  } else if (k.kind == "Skip") {
    y = b.conv_bn_act(x, k.cout, 1, k.stride, "relu");
  } else {  // AvgP
    y = k.ks == k.hw ? b.global_avgpool(x) : b.avgpool(x, k.ks, k.stride);
  }
  b.output(y);
  return b.take();
}

int64_t field(const import::CsvTable& t, const std::vector<std::string>& cells, const std::string& name) {
  const std::string& cell = cells[t.column(name, "a block's configuration")];
  double v = 0;
  if (!import::parse_number(cell, &v) || v <= 0 || v != static_cast<double>(static_cast<int64_t>(v)) || v > 1e6)
    throw Error(fmt::format("column {}: '{}' is not a positive whole number", name, cell));
  return static_cast<int64_t>(v);
}

std::string sanitize(const std::string& s) {
  std::string out;
  for (char c : s) out += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ? c : '_';
  return out;
}

}  // namespace

ImportedModels import_fbnet(const std::string& csv_text, const std::string& label, const std::string& column,
                            const std::string& target_flag) {
  if (column.empty()) throw Error("give the measured column with --column");
  const std::string target = target_flag.empty() ? target_for_column(column) : target_flag;
  const import::CsvTable t = import::read_csv(csv_text, label);
  const size_t block_col = t.column("block", "the block's name");
  const size_t kind_col = t.column("kind", "ConvBlock, ConvNorm, Skip, FC or AvgP");
  const size_t value_col = t.column(column, "the --column to import");
  auto blocks = std::make_shared<std::vector<FbBlock>>();  // one per file
  ImportedModels out;
  out.columns = {"model", target, "block", "kind", "group"};
  size_t empty = 0, identity = 0;
  std::map<std::pair<uint64_t, uint64_t>, size_t> by_graph;
  std::vector<std::string> groups;
  for (const auto& [line, cells] : t.rows) {
    const std::string where = fmt::format("{}:{}", label, line);
    FbBlock k;
    k.name = cells[block_col];
    k.kind = cells[kind_col];
    try {
      if (k.kind == "ConvBlock") {
        k.hw = field(t, cells, "hw"), k.cin = field(t, cells, "cin"), k.cout = field(t, cells, "cout");
        k.expansion = field(t, cells, "expansion"), k.ks = field(t, cells, "ks"), k.stride = field(t, cells, "stride");
        k.groups = field(t, cells, "groups");
        if (k.cin % k.groups || k.cout % k.groups || (k.cin * k.expansion) % k.groups)
          throw Error(fmt::format("channels {} -> {} are not divisible by {} groups", k.cin, k.cout, k.groups));
      } else if (k.kind == "ConvNorm") {
        k.hw = field(t, cells, "hw"), k.cin = field(t, cells, "cin"), k.cout = field(t, cells, "cout");
        k.ks = field(t, cells, "ks"), k.stride = field(t, cells, "stride"), k.groups = field(t, cells, "groups");
        if (k.cin % k.groups || k.cout % k.groups)
          throw Error(fmt::format("channels {} -> {} are not divisible by {} groups", k.cin, k.cout, k.groups));
      } else if (k.kind == "Skip") {
        k.hw = field(t, cells, "hw"), k.cin = field(t, cells, "cin"), k.cout = field(t, cells, "cout");
        k.stride = field(t, cells, "stride");
      } else if (k.kind == "FC") {
        k.cin = field(t, cells, "cin"), k.cout = field(t, cells, "cout");
      } else if (k.kind == "AvgP") {
        k.hw = field(t, cells, "hw"), k.cin = field(t, cells, "cin"), k.ks = field(t, cells, "ks");
        k.stride = field(t, cells, "stride");
        if (k.ks > k.hw) throw Error(fmt::format("a {}x{} pool does not fit a {}x{} input", k.ks, k.ks, k.hw, k.hw));
      } else {
        throw Error(fmt::format("unknown kind '{}' (known: ConvBlock, ConvNorm, Skip, FC, AvgP)", k.kind));
      }
    } catch (const Error& e) {
      throw Error(e.kind(), fmt::format("{}: block '{}': {}", where, k.name, e.what()));
    }
    if (k.identity()) {
      ++identity;
      continue;
    }
    const std::string& cell = cells[value_col];
    if (cell.empty()) {
      ++empty;
      continue;
    }
    double value = 0;
    if (!import::parse_number(cell, &value))
      throw Error(fmt::format("{}: block '{}': column {}: '{}' is not a number", where, k.name, column, cell));
    if (!(value > 0))
      throw Error(fmt::format("{}: block '{}': column {}: {} is not a measurement: values must be positive", where,
                              k.name, column, cell));
    auto [it, fresh] = by_graph.emplace(import::graph_fingerprint(build_fbnet_block(k)), blocks->size());
    if (fresh) {
      blocks->push_back(k);
      groups.push_back(k.name);
      out.files.push_back(sanitize(k.name) + ".onnx");
    }
    out.rows.push_back({out.files[it->second], cell, k.name, k.kind, groups[it->second]});
  }
  out.skipped = empty + identity;
  std::vector<std::string> why;
  if (identity) why.push_back(fmt::format("{} identity Skip blocks (stride 1, cin == cout: nothing to execute)", identity));
  if (empty) why.push_back(fmt::format("{} with no value in column {}", empty, column));
  out.skipped_why = fmt::format("{}", fmt::join(why, "; "));
  if (out.rows.empty()) throw Error(fmt::format("{}: no block has a value in column {}", label, column));
  out.build = [blocks](size_t i) { return build_fbnet_block((*blocks)[i]); };
  return out;
}

}  // namespace deepen
