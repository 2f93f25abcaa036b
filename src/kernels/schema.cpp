// The public face of the kernel families (deepen/schema.h): their schemas, features and work, read
// from the one table of families (families.cpp).
#include "kernels/families.h"

#include <deepen/error.h>
#include <deepen/schema.h>

#include <fmt/format.h>

#include <cmath>

namespace deepen {
namespace {

const std::vector<KernelSchema>& schemas() {
  static const std::vector<KernelSchema> table = [] {
    std::vector<KernelSchema> t;
    for (const auto& f : detect::kernel_families()) t.push_back(f.schema);
    return t;
  }();
  return table;
}

// Family names that hold a '-' ("global-avgpool"), matched whole at the head of a kernel type.
const std::vector<std::string>& dashed_families() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& s : schemas())
      if (s.family.find('-') != std::string::npos) n.push_back(s.family);
    return n;
  }();
  return names;
}

std::string family_of(const std::string& type) {
  for (const auto& multi : dashed_families())
    if (type.rfind(multi, 0) == 0) return multi;
  return type.substr(0, type.find('-'));
}
}  // namespace

const std::vector<KernelSchema>& all_schemas() { return schemas(); }

std::string kernel_family(const std::string& kernel_type) { return family_of(kernel_type); }

const std::vector<std::string>& optional_config_fields() {
  static const std::vector<std::string> fields = {"hw_out", "w", "w_out", "ks_w", "groups", "stride",
                                                  "rows", "directions", "b_elements"};
  return fields;
}

const KernelSchema* find_schema(const std::string& kernel_type) {
  if (kernel_type.rfind("other:", 0) == 0) return nullptr;
  std::string family = family_of(kernel_type);
  for (const auto& s : schemas())
    if (s.family == family) return &s;
  return nullptr;
}

std::vector<std::string> known_kernel_types() {
  std::vector<std::string> types;
  for (const auto& s : schemas()) types.push_back(s.family);
  return types;
}

std::string kernel_type_problem(const std::string& type) {
  const std::string family = family_of(type);
  if (!find_schema(type)) return fmt::format("'{}' is not a kernel family", family);
  // The ops fused after the head, each a family name (multi-word ones whole).
  std::string rest = type.substr(family.size());
  while (!rest.empty()) {
    if (rest[0] != '-') return fmt::format("'{}' does not split into ops at '-'", type);
    rest.erase(0, 1);
    std::string part = family_of(rest);
    if (part.empty() || !find_schema(part)) return fmt::format("'{}' is not an op a kernel can fuse", part);
    rest.erase(0, part.size());
  }
  return "";
}

std::vector<double> kernel_features(const std::string& kernel_type, const KernelConfig& config) {
  const KernelSchema* s = find_schema(kernel_type);
  if (!s) throw Error(fmt::format("kernel type '{}' has no feature schema", kernel_type));
  for (const auto& f : s->config_fields) {
    if (!config.has(f))
      throw Error(fmt::format("kernel type '{}' needs config field '{}'", kernel_type, f));
    double v = config.get(f);
    if (!std::isfinite(v) || v <= 0)
      throw Error(fmt::format("kernel type '{}': config field '{}' must be a positive number, not {}", kernel_type,
                              f, v));
  }
  return s->features(config);
}

KernelWork kernel_work(const std::string& kernel_type, const KernelConfig& c) {
  const std::string family = family_of(kernel_type);
  const detect::KernelFamily* f = detect::find_family(family);
  // A type of no family (other:X) is counted as one element-wise op per element.
  return f ? f->work(c, kernel_type, family) : detect::elementwise_unary_work(c, kernel_type, family);
}

}  // namespace deepen
