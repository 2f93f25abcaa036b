// deepen list: the registry's predictors, and the kernel families' feature schema (--schema), as
// a table (for people) and JSON (for scripts). Layouts: docs/list.md.
#include <deepen/writers.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <map>

namespace deepen {
namespace {

using nlohmann::ordered_json;

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// A registry's free-form YAML (accuracy) as JSON: numbers where the scalar reads as one.
ordered_json yaml_to_json(const YAML::Node& node) {
  if (!node || node.IsNull()) return nullptr;
  if (node.IsScalar()) {
    try {
      return node.as<double>();
    } catch (const YAML::Exception&) {
      return node.Scalar();
    }
  }
  if (node.IsSequence()) {
    auto a = ordered_json::array();
    for (const auto& x : node) a.push_back(yaml_to_json(x));
    return a;
  }
  ordered_json o = ordered_json::object();
  for (const auto& kv : node) o[kv.first.as<std::string>()] = yaml_to_json(kv.second);
  return o;
}

// One predictor: what scores each purpose, the fallback, the envelope, the data and accuracy.
void write_entry_table(std::ostream& out, const PredictorEntry& e) {
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
  if (power.empty()) power = latency != "none" && energy != "none" ? "energy / latency, each from its own source" : "none";
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

void write_registry_table(std::ostream& out, const Registry& registry) {
  out << fmt::format("registry: {}\n", registry.root);
  for (const auto& e : registry.entries) write_entry_table(out, e);
}

void write_schema_table(std::ostream& out, const std::vector<KernelSchema>& schemas) {
  for (const auto& s : schemas)
    out << fmt::format("{}\n  config:   {}\n  features: {}\n", s.family, join(s.config_fields), join(s.feature_names));
}

void write_schema_json(std::ostream& out, const std::vector<KernelSchema>& schemas) {
  auto list = ordered_json::array();
  for (const auto& s : schemas)
    list.push_back({{"family", s.family}, {"config_fields", s.config_fields}, {"features", s.feature_names}});
  out << list.dump(2) << "\n";
}

}  // namespace

void write_registry_json(std::ostream& out, const Registry& registry) {
  auto list = ordered_json::array();
  for (const auto& e : registry.entries) {
    ordered_json kernels = ordered_json::object();
    for (const auto& [type, by] : e.kernels) {
      std::vector<std::string> purposes;
      for (const auto& kv : by) purposes.push_back(kv.first);
      kernels[type] = purposes;
    }
    list.push_back({{"name", e.name}, {"version", e.version}, {"device", e.device}, {"framework", e.framework},
                    {"purposes", e.purposes}, {"kernels", kernels}, {"data", e.data},
                    {"accuracy", yaml_to_json(e.accuracy)},
                    {"fallback", {{"energy", e.fallback.has_energy}, {"latency", e.fallback.has_latency}}}});
    ordered_json model = ordered_json::object();
    for (const auto& [purpose, terms] : e.model)
      model[purpose] = {{"per_inference", terms.per_inference}, {"correction", !terms.correction.empty()}};
    if (!e.model.empty()) list.back()["model"] = model;
    if (e.power_envelope.known())
      list.back()["power_envelope"] = {{"min_w", e.power_envelope.min_mw / 1000},
                                       {"max_w", e.power_envelope.max_mw / 1000},
                                       {"note", e.power_envelope.note}};
  }
  out << ordered_json{{"registry", registry.root}, {"predictors", list}}.dump(2) << "\n";
}

const OutputFormats<Registry>& registry_formats() {
  static const OutputFormats<Registry> formats = {
      {"table", write_registry_table},
      {"json", write_registry_json},
  };
  return formats;
}

const OutputFormats<std::vector<KernelSchema>>& schema_formats() {
  static const OutputFormats<std::vector<KernelSchema>> formats = {
      {"table", write_schema_table},
      {"json", write_schema_json},
  };
  return formats;
}

}  // namespace deepen
