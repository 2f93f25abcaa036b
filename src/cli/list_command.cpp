#include "cli/commands.h"

#include <deepen/predict.h>
#include <deepen/report.h>
#include <deepen/schema.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <memory>
#include <map>
#include <sstream>

namespace deepen::cli {
namespace {

struct ListFlags {
  std::string format = "table", predictors;
  bool schema = false;
};

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// The feature schema: for each kernel family, its config fields and booster features.
std::string schema_text(const std::string& format) {
  std::ostringstream out;
  if (format == "json") {
    auto list = nlohmann::ordered_json::array();
    for (const auto& s : all_schemas())
      list.push_back({{"family", s.family}, {"config_fields", s.config_fields}, {"features", s.feature_names}});
    out << list.dump(2) << "\n";
    return out.str();
  }
  for (const auto& s : all_schemas()) {
    out << fmt::format("{}\n  config:   {}\n  features: {}\n", s.family, join(s.config_fields), join(s.feature_names));
  }
  return out.str();
}

int run_list(const ListFlags& f) {
  if (f.schema) {
    emit(schema_text(f.format), "");
    return kExitOk;
  }
  Registry registry = load_registry(predictors_dir(f.predictors));
  std::ostringstream out;
  if (f.format == "json") {
    write_registry_json(out, registry);
  } else {
    out << fmt::format("registry: {}\n", registry.root);
    for (const auto& e : registry.entries) {
      // Trained kernel types per purpose: energy and latency may come from different data.
      std::map<std::string, std::vector<std::string>> types, tables;  // purpose -> boosters' / tables' types
      for (const auto& [type, by] : e.kernels)
        for (const auto& kv : by) (kv.second.kind == "table" ? tables : types)[kv.first].push_back(type);
      out << fmt::format("\n{} {}\n", e.name, e.version);
      out << fmt::format("  device:    {}\n  framework: {}\n", e.device, e.framework);
      // What scores each purpose, so that a purpose served by the fallback alone says so.
      auto trained = [&](const std::string& purpose) {
        auto it = types.find(purpose);
        return it == types.end() ? std::string() : join(it->second);
      };
      auto scores = [&](const std::string& purpose, bool fallback) {
        const std::string boosters = trained(purpose);
        std::string text;
        if (!boosters.empty()) text = "trained boosters for " + boosters;
        if (tables.count(purpose))
          text += (text.empty() ? "" : ", ") + std::string("measured tables for ") + join(tables.at(purpose));
        auto m = e.model.find(purpose);
        if (m != e.model.end())
          text += fmt::format(", learned from whole models ({:.4g} {} per inference{})", m->second.per_inference,
                              purpose_unit(parse_purpose(purpose)),
                              m->second.correction.empty() ? "" : ", a model-level correction");
        if (text.empty()) return std::string(fallback ? "the fallback alone (no measured " + purpose + ")" : "none");
        return text + (fallback ? "; other kernels: the fallback" : "; other kernels: uncovered");
      };
      const std::string latency = scores("latency", e.fallback.has_latency);
      const std::string energy = scores("energy", e.fallback.has_energy);
      std::string power = trained("power").empty() ? std::string() : "trained boosters for " + trained("power");
      if (power.empty())
        power = latency != "none" && energy != "none" ? "energy / latency, each from its own source" : "none";
      out << fmt::format("  latency:   {}\n  energy:    {}\n  power:     {}\n", latency, energy, power);
      if (e.fallback.has_energy || e.fallback.has_latency)
        out << fmt::format("  fallback:  {}{}\n",
                           e.fallback.has_energy && e.fallback.has_latency ? "energy, latency"
                           : e.fallback.has_energy                          ? "energy"
                                                                            : "latency",
                           e.fallback.note.empty() ? "" : " (" + e.fallback.note + ")");
      if (e.power_envelope.known())
        out << fmt::format("  envelope:  plausible power {:g}-{:g} W ({}); a predicted power outside it is flagged\n",
                           e.power_envelope.min_mw / 1000, e.power_envelope.max_mw / 1000, e.power_envelope.note);
      out << fmt::format("  data:      {}\n", e.data.empty() ? "-" : e.data);
      if (e.accuracy && e.accuracy.IsMap())
        for (const auto& kv : e.accuracy)
          for (const auto& pv : kv.second) {
            const YAML::Node m = pv.second;
            auto share = [&](const char* key) {
              try {
                return m[key] ? fmt::format("{:.1f}%", m[key].as<double>() * 100) : std::string("-");
              } catch (const YAML::Exception&) {
                return m[key].Scalar();
              }
            };
            out << fmt::format("  accuracy:  {} {}: {} within ±10% ({} within ±5%, {} within ±20%), MAPE {}%, n={}{}\n",
                               kv.first.as<std::string>(), pv.first.as<std::string>(), share("acc10"), share("acc5"),
                               share("acc20"), m["mape"] ? m["mape"].Scalar() : "-", m["n"] ? m["n"].Scalar() : "-",
                               m["method"] ? " (" + m["method"].Scalar() + ")" : "");
          }
    }
  }
  emit(out.str(), "");
  return kExitOk;
}

}  // namespace

void add_list_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ListFlags>();
  CLI::App* cmd = app.add_subcommand("list", "List the predictors in the registry");
  cmd->add_option("--format,-f", flags->format, "Output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  cmd->add_flag("--schema", flags->schema, "List the kernel families' config fields and features instead");
  cmd->add_option("--predictors", flags->predictors, "Registry folder (default: $DEEPEN_PREDICTORS or the built-in)");
  cmd->callback([flags, &exit_code] { exit_code = run_list(*flags); });
}

}  // namespace deepen::cli
