#include <deepen/error.h>
#include <deepen/kernels.h>

#include <fmt/format.h>

namespace deepen {

void KernelConfig::set(std::string_view name, double value) {
  for (auto& [k, v] : fields)
    if (k == name) {
      v = value;
      return;
    }
  if (fields.empty()) fields.reserve(8);  // a kernel has a handful of fields
  fields.emplace_back(std::string(name), value);
}

bool KernelConfig::has(std::string_view name) const {
  for (const auto& f : fields)
    if (f.first == name) return true;
  return false;
}

double KernelConfig::get(std::string_view name) const {
  for (const auto& f : fields)
    if (f.first == name) return f.second;
  throw Error(fmt::format("kernel config has no field '{}'", name));
}

double KernelConfig::get_or(std::string_view name, double fallback) const {
  for (const auto& f : fields)
    if (f.first == name) return f.second;
  return fallback;
}

}  // namespace deepen
