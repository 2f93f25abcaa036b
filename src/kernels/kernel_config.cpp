#include <deepen/error.h>
#include <deepen/kernels.h>

#include <fmt/format.h>

namespace deepen {

void KernelConfig::set(const std::string& name, double value) {
  for (auto& [k, v] : fields)
    if (k == name) {
      v = value;
      return;
    }
  fields.emplace_back(name, value);
}

bool KernelConfig::has(const std::string& name) const {
  for (const auto& f : fields)
    if (f.first == name) return true;
  return false;
}

double KernelConfig::get(const std::string& name) const {
  for (const auto& f : fields)
    if (f.first == name) return f.second;
  throw Error(fmt::format("kernel config has no field '{}'", name));
}

double KernelConfig::get_or(const std::string& name, double fallback) const {
  for (const auto& f : fields)
    if (f.first == name) return f.second;
  return fallback;
}

}  // namespace deepen
