// The JSON layout in which the DeepEn2023 authors released their kernels (nn-Meter's builder
// layout): a config file {kernel: {id: {model, shapes, config: {HW, CIN, COUT, KERNEL_SIZE,
// STRIDES}}}} and a value file {kernel: {id: {energy: "0.91"}}}, joined on the kernel id.
#include <deepen/error.h>
#include <deepen/schema.h>
#include <deepen/train.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace deepen {
namespace {

using Json = nlohmann::ordered_json;

Json parse(const std::string& text, const std::string& label) {
  try {
    Json j = Json::parse(text);
    if (!j.is_object()) throw Error(fmt::format("{}: expected a JSON object {{kernel: {{id: ...}}}}", label));
    return j;
  } catch (const Json::exception& e) {
    throw Error(fmt::format("{}: not valid JSON ({})", label, e.what()));
  }
}

// A number, or a string holding one (the released files quote their energies).
bool number_of(const Json& v, double* out) {
  if (v.is_number()) {
    *out = v.get<double>();
    return std::isfinite(*out);
  }
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    char* end = nullptr;
    double d = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(d)) return false;
    *out = d;
    return true;
  }
  return false;
}

std::string field_name(const std::string& key) {
  static const std::pair<const char*, const char*> names[] = {
      {"HW", "hw"},         {"CIN", "cin"},       {"COUT", "cout"},   {"KERNEL_SIZE", "ks"},
      {"STRIDES", "stride"}, {"STRIDE", "stride"}, {"GROUPS", "groups"}, {"NS", "inputs"},
      {"CIN1", "cin"}};
  for (const auto& [from, to] : names)
    if (key == from) return to;
  std::string lower;
  for (char c : key) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

}  // namespace

std::vector<DatasetRow> import_deepen2023(const std::string& config_json, const std::string& config_label,
                                          const std::string& values_json, const std::string& values_label,
                                          const std::string& target, size_t* skipped) {
  if (std::find(target_columns().begin(), target_columns().end(), target) == target_columns().end())
    throw Error(fmt::format("target '{}': use latency_ms, energy_mj or power_mw", target));
  std::string key = target.substr(0, target.find('_'));  // energy, latency, power
  Json configs = parse(config_json, config_label);
  Json values = parse(values_json, values_label);
  std::vector<DatasetRow> rows;
  size_t missing = 0;
  for (const auto& [kernel, by_id] : configs.items()) {
    const KernelSchema* schema = find_schema(kernel);
    if (!schema)
      throw Error(fmt::format("{}: unknown kernel type '{}'", config_label, kernel));
    if (!by_id.is_object()) throw Error(fmt::format("{}: '{}' must map kernel ids to configs", config_label, kernel));
    const Json* kernel_values = values.contains(kernel) ? &values[kernel] : nullptr;
    for (const auto& [id, item] : by_id.items()) {
      std::string where = fmt::format("{}: {} {}", config_label, kernel, id);
      const Json& config = item.is_object() && item.contains("config") ? item["config"] : item;
      if (!config.is_object()) throw Error(fmt::format("{}: 'config' must be an object", where));
      DatasetRow row;
      row.kernel = kernel;
      KernelConfig read;
      for (const auto& [k, v] : config.items()) {
        double d = 0;
        if (!number_of(v, &d)) throw Error(fmt::format("{}: config field {} is not a number", where, k));
        read.set(field_name(k), d);
      }
      for (const auto& f : schema->config_fields) {
        if (!read.has(f))
          throw Error(fmt::format("{}: the config lacks {} (needs {})", where, f, fmt::join(schema->config_fields, ", ")));
        if (!(read.get(f) > 0)) throw Error(fmt::format("{}: config field {} must be positive", where, f));
        row.config.set(f, read.get(f));
      }
      const Json* value = nullptr;
      if (kernel_values && kernel_values->is_object() && kernel_values->contains(id)) value = &(*kernel_values)[id];
      else if (values.contains(id)) value = &values[id];
      if (value && value->is_object()) value = value->contains(key) ? &(*value)[key] : nullptr;
      if (!value) {
        ++missing;
        continue;
      }
      double d = 0;
      if (!number_of(*value, &d))
        throw Error(fmt::format("{}: {} {}: the {} is not a number", values_label, kernel, id, key));
      if (!(d > 0))
        throw Error(fmt::format("{}: {} {}: the {} {} is not positive", values_label, kernel, id, key, d));
      row.targets[target] = d;
      row.extra.emplace_back("id", id);
      rows.push_back(std::move(row));
    }
  }
  if (skipped) *skipped = missing;
  if (rows.empty())
    throw Error(fmt::format("{} and {}: no kernel id has both a config and a {} value", config_label, values_label,
                            key));
  return rows;
}

}  // namespace deepen
