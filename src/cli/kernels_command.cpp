#include "cli/commands.h"
#include "report/json_counts.h"

#include <deepen/error.h>
#include <deepen/graph.h>
#include <deepen/kernels.h>
#include <deepen/predict.h>
#include <deepen/report.h>
#include <deepen/schema.h>
#include <deepen/train.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>
#include <memory>
#include <sstream>

namespace deepen::cli {
namespace {

struct KernelsFlags {
  std::string predictor, version, format = "table", output, predictors;
  std::vector<std::string> modelpaths;  // -m (repeatable) and positional paths: files or folders
  std::vector<std::string> input_shapes;
};

// One model split into kernels.
struct Split {
  std::string model;
  std::vector<Kernel> kernels;
  std::vector<std::string> folded;
  std::string error;  // set when the model could not be read
};

nlohmann::ordered_json split_json(const Split& m, const FusionRules& rules, const std::string& rules_from) {
  double macs = 0, flops = 0, params = 0;
  for (const auto& k : m.kernels) macs += k.macs, flops += k.flops, params += k.params;
  nlohmann::ordered_json root;
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
  auto list = nlohmann::ordered_json::array();
  for (const auto& k : m.kernels) {
    nlohmann::ordered_json config = nlohmann::ordered_json::object(), features = nlohmann::ordered_json::object();
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

// The kernel dataset CSV layout (docs/train.md, "The kernel dataset CSV"): `kernel` and one
// column per config field, so that the file is what predict --kernels reads, and, with a
// measured column added, what eval --dataset and train --dataset read. The other columns are
// kept by those readers and ignored.
void write_splits_csv(std::ostream& out, const std::vector<Split>& models) {
  std::vector<std::string> fields;  // every config field of every kernel, in order of first appearance
  for (const auto& m : models)
    for (const auto& k : m.kernels)
      for (const auto& [key, v] : k.config.fields)
        if (std::find(fields.begin(), fields.end(), key) == fields.end()) fields.push_back(key);
  out << "model,index,kernel";
  for (const auto& f : fields) out << "," << csv_escape(f);
  out << ",zero_cost,nodes,macs,flops,params,bytes\n";
  for (const auto& m : models)
    for (size_t i = 0; i < m.kernels.size(); ++i) {
      const Kernel& k = m.kernels[i];
      out << csv_escape(m.model) << "," << i + 1 << "," << csv_escape(k.type);
      for (const auto& f : fields) out << "," << (k.config.has(f) ? fmt::format("{}", k.config.get(f)) : "");
      std::string nodes;
      for (const auto& n : k.nodes) nodes += (nodes.empty() ? "" : " ") + n;
      out << fmt::format(",{},{},{},{},{},{}\n", k.zero_cost ? 1 : 0, csv_escape(nodes), count_text(k.macs),
                         count_text(k.flops), count_text(k.params), count_text(k.bytes));
    }
}

void write_split_table(std::ostream& out, const Split& m, const FusionRules& rules, const std::string& rules_from) {
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

int run_kernels(const KernelsFlags& f) {
  if (f.modelpaths.empty()) throw Error("give the models: one or more .onnx files or folders (-m or as arguments)");
  FusionRules rules = default_fusion_rules();
  std::string rules_from = "default fusion rules";
  if (!f.predictor.empty()) {
    Registry registry = load_registry(predictors_dir(f.predictors));
    Predictor predictor = Predictor::load(registry, f.predictor, f.version);
    rules = predictor.fusion_rules();
    rules_from = fmt::format("fusion rules of {} {}", predictor.entry().name, predictor.entry().version);
  }
  LoadOptions load;
  for (const auto& spec : f.input_shapes) load.input_shapes.insert(parse_input_shape(spec));
  const std::vector<std::string> files = model_files(f.modelpaths);
  std::vector<Split> models(files.size());
  std::vector<std::string> errors;  // each failed model's, naming it first
  for (size_t i = 0; i < files.size(); ++i) {
    models[i].model = files[i];
    try {
      Graph graph = load_onnx(files[i], load);
      models[i].kernels = detect_kernels(graph, rules);
      models[i].folded = std::move(graph.folded);
    } catch (const Error& e) {
      if (files.size() == 1) throw;  // one model: its error is the command's
      models[i].error = e.what();
      errors.push_back(model_error(files[i], e));
    }
  }
  // A model's error is said once: in the table's block for it, or else on stderr (JSON and CSV
  // carry it as data too).
  if (f.format != "table")
    for (const auto& e : errors) print_error(e);

  std::ostringstream out;
  if (f.format == "json") {
    if (models.size() == 1) {
      out << split_json(models[0], rules, rules_from).dump(2) << "\n";
    } else {
      nlohmann::ordered_json root;
      root["models"] = nlohmann::ordered_json::array();
      for (const auto& m : models) root["models"].push_back(split_json(m, rules, rules_from));
      out << root.dump(2) << "\n";
    }
  } else if (f.format == "csv") {
    write_splits_csv(out, models);
  } else {
    for (size_t i = 0; i < models.size(); ++i) {
      if (i) out << "\n";
      if (models[i].error.empty()) write_split_table(out, models[i], rules, rules_from);
      else out << fmt::format("{}: error: {}\n", models[i].model, models[i].error);
    }
  }
  emit(out.str(), f.output);
  if (errors.empty()) return kExitOk;
  return errors.size() == files.size() ? kExitAllFailed : kExitPartial;
}

}  // namespace

void add_kernels_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<KernelsFlags>();
  CLI::App* cmd = app.add_subcommand("kernels", "Show how a model splits into kernels, with their features");
  add_model_paths(cmd, flags->modelpaths);
  cmd->add_option("--predictor,-p", flags->predictor, "Use this predictor's fusion rules (default: built-in rules)");
  cmd->add_option("--predictor-version", flags->version, "Predictor version (default: the newest)");
  cmd->add_option("--format,-f", flags->format, "Output format")
      ->check(CLI::IsMember({"table", "json", "csv"}))
      ->capture_default_str();
  cmd->add_option("--output,-o", flags->output, "Write the output to FILE instead of standard output");
  cmd->add_option("--input-shape", flags->input_shapes, "Override an input's shape, e.g. input:1x3x224x224");
  cmd->add_option("--predictors", flags->predictors, "Registry folder (default: $DEEPEN_PREDICTORS or the built-in)");
  cmd->callback([flags, &exit_code] { exit_code = run_kernels(*flags); });
}

}  // namespace deepen::cli
