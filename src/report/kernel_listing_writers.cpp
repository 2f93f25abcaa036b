// deepen kernels: models split into kernels, as a table (for people), JSON and the kernel
// dataset CSV (for scripts). Layouts: docs/kernels.md and docs/output-formats.md.
#include <deepen/csv.h>
#include <deepen/writers.h>

#include "report/json_counts.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace deepen {
namespace {

using nlohmann::ordered_json;

ordered_json model_json(const ModelKernels& m, const FusionRules& rules, const std::string& rules_from) {
  double macs = 0, flops = 0, params = 0;
  for (const auto& k : m.kernels) macs += k.macs, flops += k.flops, params += k.params;
  ordered_json root;
  root["model"] = m.model;
  if (!m.error.empty()) {
    root["error"] = m.error;
    return root;
  }
  root["fusion_rules"] = rules_from;
  root["macs"] = count_json(macs);
  root["flops"] = count_json(flops);
  root["params"] = count_json(params);
  root["folded"] = m.folded;
  auto list = ordered_json::array();
  for (const auto& k : m.kernels) {
    ordered_json config = ordered_json::object(), features = ordered_json::object();
    for (const auto& [key, v] : k.config.fields) config[key] = v;
    std::string scored = rules.scored_as(k.type);
    if (const KernelSchema* s = k.zero_cost ? nullptr : find_schema(scored)) {
      std::vector<double> values = s->features(k.config);
      for (size_t i = 0; i < values.size(); ++i) features[s->feature_names[i]] = values[i];
    }
    list.push_back({{"type", k.type}, {"scored_as", scored}, {"zero_cost", k.zero_cost}, {"nodes", k.nodes},
                    {"ops", k.ops}, {"config", config}, {"features", features}, {"macs", count_json(k.macs)},
                    {"flops", count_json(k.flops)}, {"params", count_json(k.params)}, {"bytes", count_json(k.bytes)}});
  }
  root["kernels"] = list;
  return root;
}

// One model: its object; several: {"models": [...]}.
void write_listing_json(std::ostream& out, const KernelListing& listing) {
  if (listing.models.size() == 1) {
    out << model_json(listing.models[0], listing.rules, listing.rules_from).dump(2) << "\n";
    return;
  }
  ordered_json root;
  root["models"] = ordered_json::array();
  for (const auto& m : listing.models) root["models"].push_back(model_json(m, listing.rules, listing.rules_from));
  out << root.dump(2) << "\n";
}

// The kernel dataset CSV layout (docs/train.md, "The kernel dataset CSV"): `kernel` and one
// column per config field, so that the file is what predict --kernels reads, and, with a
// measured column added, what eval --dataset and train --dataset read. The other columns are
// kept by those readers and ignored.
void write_listing_csv(std::ostream& out, const KernelListing& listing) {
  std::vector<std::string> fields;  // every config field of every kernel, in order of first appearance
  for (const auto& m : listing.models)
    for (const auto& k : m.kernels)
      for (const auto& [key, v] : k.config.fields)
        if (std::find(fields.begin(), fields.end(), key) == fields.end()) fields.push_back(key);
  std::vector<std::string> head = {"model", "index", "kernel"};
  head.insert(head.end(), fields.begin(), fields.end());
  for (const char* column : {"zero_cost", "nodes", "macs", "flops", "params", "bytes"}) head.emplace_back(column);
  out << csv_row(head);
  for (const auto& m : listing.models)
    for (size_t i = 0; i < m.kernels.size(); ++i) {
      const Kernel& k = m.kernels[i];
      std::vector<std::string> row = {m.model, std::to_string(i + 1), k.type};
      for (const auto& f : fields) row.push_back(k.config.has(f) ? fmt::format("{}", k.config.get(f)) : "");
      std::string nodes;
      for (const auto& n : k.nodes) nodes += (nodes.empty() ? "" : " ") + n;
      for (std::string cell : {std::string(k.zero_cost ? "1" : "0"), nodes, count_text(k.macs), count_text(k.flops),
                               count_text(k.params), count_text(k.bytes)})
        row.push_back(std::move(cell));
      out << csv_row(row);
    }
}

void write_model_table(std::ostream& out, const ModelKernels& m, const FusionRules& rules,
                       const std::string& rules_from) {
  double macs = 0, params = 0;
  for (const auto& k : m.kernels) macs += k.macs, params += k.params;
  out << fmt::format("{}: {} kernels ({}), {} MMACs, {} M params\n", m.model, m.kernels.size(), rules_from,
                     format_number(macs / 1e6), format_number(params / 1e6));
  out << fmt::format("{:>4}  {:<28} {:<46} {:>10} {:>10}  {}\n", "#", "kernel", "config", "MFLOPs", "params",
                     "nodes");
  for (size_t i = 0; i < m.kernels.size(); ++i) {
    const Kernel& k = m.kernels[i];
    std::string config, nodes;
    for (const auto& [key, v] : k.config.fields)
      config += fmt::format("{}{}={}", config.empty() ? "" : " ", key, format_number(v));
    for (const auto& n : k.nodes) nodes += (nodes.empty() ? "" : ", ") + n;
    out << fmt::format("{:>4}  {:<28} {:<46} {:>10} {:>10}  {}\n", i + 1,
                       k.zero_cost ? k.type + " (zero-cost)" : k.type, config, format_number(k.flops / 1e6),
                       format_number(k.params), nodes);
    std::string scored = rules.scored_as(k.type);
    if (const KernelSchema* s = k.zero_cost ? nullptr : find_schema(scored)) {
      std::vector<double> values = s->features(k.config);
      std::string feats;
      for (size_t j = 0; j < values.size(); ++j)
        feats += fmt::format("{}{}={}", feats.empty() ? "" : " ", s->feature_names[j], format_number(values[j]));
      out << fmt::format("{:>4}  {:<28} features{}: {}\n", "", "", scored == k.type ? "" : " (as " + scored + ")",
                         feats);
    }
  }
  if (!m.folded.empty()) out << fmt::format("folded at load time: {} node(s)\n", m.folded.size());
}

void write_listing_table(std::ostream& out, const KernelListing& listing) {
  for (size_t i = 0; i < listing.models.size(); ++i) {
    const ModelKernels& m = listing.models[i];
    if (i) out << "\n";
    if (m.error.empty()) write_model_table(out, m, listing.rules, listing.rules_from);
    else out << fmt::format("{}: error: {}\n", m.model, m.error);
  }
}

}  // namespace

const OutputFormats<KernelListing>& kernel_listing_formats() {
  static const OutputFormats<KernelListing> formats = {
      {"table", write_listing_table},
      {"json", write_listing_json},
      {"csv", write_listing_csv},
  };
  return formats;
}

}  // namespace deepen
