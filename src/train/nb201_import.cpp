// NAS-Bench-201 measurements (HW-NAS-Bench, LatBench): one network per CSV row, its measured
// value from one column. Rows whose networks come out identical share one ONNX file and one
// group, so that cross-validation keeps copies of a network in one fold.
#include <deepen/error.h>
#include <deepen/train.h>
#include <deepen/zoo.h>

#include "train/import_util.h"

#include <fmt/format.h>

#include <map>
#include <memory>
#include <unordered_map>

namespace deepen {
namespace {

struct Network {
  std::string arch;
  int64_t hw = 0, classes = 0;
};

void dataset_size(const std::string& dataset, int64_t* hw, int64_t* classes) {
  if (dataset == "cifar10") *hw = 32, *classes = 10;
  else if (dataset == "cifar100") *hw = 32, *classes = 100;
  else if (dataset == "ImageNet16-120") *hw = 16, *classes = 120;
  else
    throw Error(fmt::format("unknown NAS-Bench-201 dataset '{}'; use cifar10, cifar100 or ImageNet16-120", dataset));
}

int64_t whole_number(const std::string& cell, const std::string& what) {
  double v = 0;
  if (!import::parse_number(cell, &v) || v != static_cast<double>(static_cast<int64_t>(v)) || v <= 0)
    throw Error(fmt::format("{} '{}' is not a positive whole number", what, cell));
  return static_cast<int64_t>(v);
}

}  // namespace

std::string nb201_graph_for(const std::string& column) {
  return column.rfind("tx2gpu_", 0) == 0 ? "torch2trt" : "pruned";
}

ImportedModels import_nb201(const std::string& csv_text, const std::string& label, const Nb201ImportOptions& options) {
  if (options.column.empty()) throw Error("give the measured column with --column");
  const Nb201Graph form =
      parse_nb201_graph(options.graph == "auto" ? nb201_graph_for(options.column) : options.graph);
  const std::string target = options.target.empty() ? target_for_column(options.column) : options.target;
  const import::CsvTable table = import::read_csv(csv_text, label);
  const size_t arch_col = table.column("arch", "the NAS-Bench-201 architecture string");
  const size_t value_col = table.column(options.column, "the --column to import");
  const bool has_hw = table.has("input_hw") && table.has("num_classes");
  const bool has_dataset = table.has("dataset");
  int64_t default_hw = 32, default_classes = 10;
  dataset_size(options.dataset.empty() ? "cifar10" : options.dataset, &default_hw, &default_classes);

  auto networks = std::make_shared<std::vector<Network>>();  // one per file
  ImportedModels out;
  out.columns = {"model", target, "arch", "input_hw", "num_classes", "group"};
  out.skipped_why = fmt::format("no value in column {}", options.column);
  std::unordered_map<std::string, size_t> by_key;                   // arch|hw|classes -> file
  std::unordered_map<std::string, size_t> by_network;               // canonical arch|hw|classes -> file
  std::map<std::pair<uint64_t, uint64_t>, size_t> by_graph;        // built graph -> file
  std::vector<std::string> groups;                                  // per file
  for (const auto& [line, cells] : table.rows) {
    const std::string& cell = cells[value_col];
    if (cell.empty()) {
      ++out.skipped;
      continue;
    }
    const std::string where = fmt::format("{}:{}", label, line);
    double value = 0;
    if (!import::parse_number(cell, &value))
      throw Error(fmt::format("{}: column {}: '{}' is not a number", where, options.column, cell));
    if (!(value > 0))
      throw Error(fmt::format("{}: column {}: {} is not a measurement: values must be positive", where, options.column,
                              cell));
    Network net{cells[arch_col], default_hw, default_classes};
    try {
      if (has_hw && !cells[table.columns.at("input_hw")].empty()) {
        net.hw = whole_number(cells[table.columns.at("input_hw")], "input_hw");
        net.classes = whole_number(cells[table.columns.at("num_classes")], "num_classes");
        if (net.hw < 4 || net.hw > 4096) throw Error(fmt::format("input_hw {} is out of range (4 to 4096)", net.hw));
      } else if (has_dataset && !cells[table.columns.at("dataset")].empty()) {
        dataset_size(cells[table.columns.at("dataset")], &net.hw, &net.classes);
      }
    } catch (const Error& e) {
      throw Error(e.kind(), fmt::format("{}: {}", where, e.what()));
    }
    const std::string key = fmt::format("{}|{}|{}", net.arch, net.hw, net.classes);
    auto known = by_key.find(key);
    size_t file = 0;
    if (known != by_key.end()) {
      file = known->second;
    } else {
      // Archs with one canonical string give one graph, so only the first is built; the graph's
      // fingerprint then also joins archs the canonical string tells apart (a chain of
      // skip_connect edges is one skip_connect).
      std::string canonical;
      try {
        canonical = fmt::format("{}|{}|{}", nb201_canonical_arch(net.arch, form), net.hw, net.classes);
      } catch (const Error& e) {
        throw Error(e.kind(), fmt::format("{}: {}", where, e.what()));
      }
      auto same = by_network.find(canonical);
      if (same != by_network.end()) {
        file = same->second;
      } else {
        auto [it, fresh] = by_graph.emplace(
            import::graph_fingerprint(build_nb201(net.arch, net.hw, net.classes, form)), networks->size());
        file = it->second;
        if (fresh) {
          networks->push_back(net);
          groups.push_back(net.arch);
          out.files.push_back(fmt::format("nb201_{:05d}.onnx", file));
        }
        by_network.emplace(canonical, file);
      }
      by_key.emplace(key, file);
    }
    out.rows.push_back({out.files[file], cell, net.arch, std::to_string(net.hw), std::to_string(net.classes),
                        groups[file]});
  }
  if (out.rows.empty())
    throw Error(fmt::format("{}: no row has a value in column {}", label, options.column));
  out.build = [networks, form](size_t i) {
    const Network& n = (*networks)[i];
    return build_nb201(n.arch, n.hw, n.classes, form);
  };
  return out;
}

}  // namespace deepen
