// What a predictor was trained on, as fingerprints (deepen/predict.h, TrainingSet): so that eval
// can count the rows a predictor has seen apart from those it has not. A kernel's fingerprint is
// FNV-1a 64 over the type it is scored as and its schema features as the booster saw them
// (floats); a model's, over the sorted fingerprints of its working kernels.
#include <deepen/error.h>
#include <deepen/predict.h>
#include <deepen/schema.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

namespace deepen {
namespace {

constexpr uint64_t kFnvOffset = 1469598103934665603ULL, kFnvPrime = 1099511628211ULL;

uint64_t fnv(uint64_t h, const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * kFnvPrime;
  return h;
}

}  // namespace

uint64_t kernel_fingerprint(const std::string& scored_as, const std::vector<float>& features) {
  uint64_t h = fnv(kFnvOffset, scored_as.data(), scored_as.size() + 1);  // with its '\0'
  return fnv(h, features.data(), features.size() * sizeof(float));
}

uint64_t kernel_fingerprint(const Kernel& k, const FusionRules& rules) {
  std::string as = rules.scored_as(k.type);
  if (!find_schema(as)) return 0;
  std::vector<double> f = kernel_features(as, k.config);
  return kernel_fingerprint(as, std::vector<float>(f.begin(), f.end()));
}

uint64_t model_fingerprint(const std::vector<Kernel>& kernels, const FusionRules& rules) {
  std::vector<uint64_t> parts;
  for (const Kernel& k : kernels)
    if (!k.zero_cost) {  // its type as written too: conv-relu and conv-bn-relu may be scored alike
      uint64_t f = kernel_fingerprint(k, rules);
      parts.push_back(fnv(fnv(kFnvOffset, &f, sizeof f), k.type.data(), k.type.size()));
    }
  std::sort(parts.begin(), parts.end());
  return fnv(kFnvOffset, parts.data(), parts.size() * sizeof(uint64_t));
}

bool TrainingSet::has_kernel(const std::string& purpose, uint64_t fingerprint) const {
  auto it = kernels.find(purpose);
  return it != kernels.end() && it->second.count(fingerprint);
}

bool TrainingSet::has_model(const std::string& purpose, uint64_t fingerprint) const {
  auto it = models.find(purpose);
  return it != models.end() && it->second.count(fingerprint);
}

std::string TrainingSet::to_text() const {
  std::ostringstream out;
  out << "# deepen: what this predictor was trained on, one line per distinct kernel configuration or model:\n"
         "# kernel|model, purpose, fingerprint (FNV-1a 64 of the kernel's scored type and features; of a model's\n"
         "# sorted kernel fingerprints). deepen eval counts rows found here apart (in-sample).\n";
  for (const auto& [what, by] : {std::pair{"kernel", &kernels}, std::pair{"model", &models}})
    for (const auto& [purpose, set] : *by) {
      std::vector<uint64_t> sorted(set.begin(), set.end());
      std::sort(sorted.begin(), sorted.end());
      for (uint64_t h : sorted) out << fmt::format("{} {} {:016x}\n", what, purpose, h);
    }
  return out.str();
}

TrainingSet TrainingSet::parse(const std::string& text, const std::string& label) {
  TrainingSet t;
  std::istringstream in(text);
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string what, purpose, hex, extra;
    fields >> what >> purpose >> hex >> extra;
    char* end = nullptr;
    uint64_t h = std::strtoull(hex.c_str(), &end, 16);
    if ((what != "kernel" && what != "model") || purpose.empty() || hex.size() != 16 || *end != '\0' ||
        !extra.empty())
      throw Error::in_file(ErrorKind::Registry, label,
                           fmt::format("line {}: expected 'kernel|model PURPOSE FINGERPRINT' (16 hex digits)", n));
    (what == "kernel" ? t.kernels : t.models)[purpose].insert(h);
  }
  return t;
}

TrainingSet TrainingSet::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error::in_file(ErrorKind::Registry, path, "cannot read the predictor's training set");
  std::ostringstream s;
  s << in.rdbuf();
  return parse(s.str(), path);
}

}  // namespace deepen
