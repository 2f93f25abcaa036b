#include "cli/commands.h"

#include <deepen/error.h>
#include <deepen/graph.h>
#include <deepen/kernels.h>
#include <deepen/predict.h>
#include <deepen/report.h>
#include <deepen/schema.h>
#include <deepen/train.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <sstream>

namespace deepen::cli {
namespace {

struct KernelsFlags {
  std::string model, predictor, version, format = "table", output, predictors;
  std::vector<std::string> input_shapes;
};

int run_kernels(const KernelsFlags& f) {
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
  Graph graph = load_onnx(f.model, load);
  std::vector<Kernel> kernels = detect_kernels(graph, rules);
  double macs = 0, flops = 0, params = 0;
  for (const auto& k : kernels) macs += k.macs, flops += k.flops, params += k.params;

  std::ostringstream out;
  if (f.format == "json") {
    nlohmann::ordered_json root;
    root["model"] = f.model;
    root["fusion_rules"] = rules_from;
    auto count = [](double v) {
      return integral_count(v) ? nlohmann::ordered_json(static_cast<int64_t>(v)) : nlohmann::ordered_json(v);
    };
    root["macs"] = count(macs);
    root["flops"] = count(flops);
    root["params"] = count(params);
    root["folded"] = graph.folded;
    auto list = nlohmann::ordered_json::array();
    for (const auto& k : kernels) {
      nlohmann::ordered_json config = nlohmann::ordered_json::object(), features = nlohmann::ordered_json::object();
      for (const auto& [key, v] : k.config.fields) config[key] = v;
      std::string scored = rules.scored_as(k.type);
      if (const KernelSchema* s = k.zero_cost ? nullptr : find_schema(scored)) {
        std::vector<double> values = s->features(k.config);
        for (size_t i = 0; i < values.size(); ++i) features[s->feature_names[i]] = values[i];
      }
      list.push_back({{"type", k.type}, {"scored_as", scored}, {"zero_cost", k.zero_cost}, {"nodes", k.nodes},
                      {"ops", k.ops}, {"config", config}, {"features", features}, {"macs", count(k.macs)},
                      {"flops", count(k.flops)}, {"params", count(k.params)}, {"bytes", count(k.bytes)}});
    }
    root["kernels"] = list;
    out << root.dump(2) << "\n";
  } else if (f.format == "csv") {
    out << "index,type,zero_cost,config,nodes,macs,flops,params,bytes\n";
    for (size_t i = 0; i < kernels.size(); ++i) {
      const Kernel& k = kernels[i];
      std::string config, nodes;
      for (const auto& [key, v] : k.config.fields) config += fmt::format("{}{}={}", config.empty() ? "" : " ", key, v);
      for (const auto& n : k.nodes) nodes += (nodes.empty() ? "" : " ") + n;
      out << fmt::format("{},{},{},{},{},{},{},{},{}\n", i + 1, csv_escape(k.type), k.zero_cost ? 1 : 0,
                         csv_escape(config), csv_escape(nodes), count_text(k.macs), count_text(k.flops),
                         count_text(k.params), count_text(k.bytes));
    }
  } else {
    out << fmt::format("{}: {} kernels ({}), {} MMACs, {} M params\n", f.model, kernels.size(), rules_from,
                       format_number(macs / 1e6), format_number(params / 1e6));
    out << fmt::format("{:>4}  {:<28} {:<46} {:>10} {:>10}  {}\n", "#", "kernel", "config", "MFLOPs", "params",
                       "nodes");
    for (size_t i = 0; i < kernels.size(); ++i) {
      const Kernel& k = kernels[i];
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
        out << fmt::format("{:>4}  {:<28} features{}: {}\n", "", "",
                           scored == k.type ? "" : " (as " + scored + ")", feats);
      }
    }
    if (!graph.folded.empty()) out << fmt::format("folded at load time: {} node(s)\n", graph.folded.size());
  }
  emit(out.str(), f.output);
  return kExitOk;
}

}  // namespace

void add_kernels_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<KernelsFlags>();
  CLI::App* cmd = app.add_subcommand("kernels", "Show how a model splits into kernels, with their features");
  cmd->add_option("model", flags->model, "The .onnx file")->required();
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
