// Kernel configuration sampling after nn-Meter's builder: most samples are real layers of the
// zoo's reference networks with their channels perturbed and kernel sizes redrawn (where real
// networks, and the zoo's variants, have their configurations); a share is uniform over the valid
// ranges, so that the predictor also sees what no reference network has.
#include <deepen/error.h>
#include <deepen/profile.h>
#include <deepen/schema.h>
#include <deepen/zoo.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace deepen {
namespace {

constexpr double kMaxMacs = 1.5e9;  // keeps one kernel under a second or so on a small CPU
const std::vector<double> kKernelSizes = {1, 3, 5, 7};

bool is_channel(const std::string& f) { return f == "cin" || f == "cout" || f == "mid"; }

double round_channels(double c) { return c < 8 ? std::max(1.0, std::round(c)) : std::max(8.0, std::round(c / 8) * 8); }

}  // namespace

std::pair<double, double> ConfigSampler::field_range(const std::string& field) {
  if (field == "hw") return {1, 224};
  if (field == "cin" || field == "cout") return {3, 1024};
  if (field == "mid") return {8, 256};
  if (field == "ks") return {1, 7};
  if (field == "stride") return {1, 2};
  if (field == "groups") return {2, 32};
  if (field == "inputs") return {2, 4};
  return {1, 1024};
}

std::string sample_id(const KernelSample& s) {
  // FNV-1a over the type and the config's text: stable across runs and platforms.
  std::string text = s.kernel;
  for (const auto& [k, v] : s.config.fields) text += fmt::format(";{}={}", k, v);
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return fmt::format("{:012x}", h & 0xffffffffffffULL);
}

bool config_valid(const std::string& kernel_type, const KernelConfig& c) {
  const KernelSchema* s = find_schema(kernel_type);
  if (!s) return false;
  for (const auto& f : s->config_fields) {
    if (!c.has(f)) return false;
    double v = c.get(f);
    if (!std::isfinite(v) || v < 1 || v != std::floor(v)) return false;
  }
  if (c.has("ks") && c.has("hw") && c.get("ks") > 1 && c.get("ks") > c.get("hw")) return false;
  if (c.has("stride") && c.has("hw") && c.get("stride") > c.get("hw")) return false;
  if (c.has("groups")) {
    double g = c.get("groups");
    if (std::fmod(c.get("cin"), g) != 0 || (c.has("cout") && std::fmod(c.get("cout"), g) != 0)) return false;
  }
  if (c.has("mid") && c.get("mid") > c.get("cin")) return false;
  return kernel_work(kernel_type, c).macs <= kMaxMacs;
}

std::map<std::string, std::vector<KernelConfig>> zoo_prior(const std::vector<std::string>& kernel_types,
                                                           const FusionRules& rules) {
  std::map<std::string, std::vector<KernelConfig>> exact, same_family;
  for (const auto& family : zoo_families()) {
    std::vector<Kernel> kernels = detect_kernels(build_family(family.name), rules);
    for (const auto& k : kernels) {
      const KernelSchema* ks = find_schema(k.type);
      if (!ks) continue;
      for (const auto& want : kernel_types) {
        const KernelSchema* ws = find_schema(want);
        if (ws != ks) continue;
        KernelConfig c;
        bool complete = true;
        for (const auto& f : ws->config_fields) {
          if (!k.config.has(f)) complete = false;
          else c.set(f, k.config.get(f));
        }
        if (!complete) continue;
        (k.type == want ? exact : same_family)[want].push_back(c);
      }
    }
  }
  for (const auto& want : kernel_types)
    if (exact[want].empty()) exact[want] = same_family[want];
  return exact;
}

ConfigSampler::ConfigSampler(std::vector<std::string> kernel_types,
                             std::map<std::string, std::vector<KernelConfig>> prior, SamplerOptions options)
    : types_(std::move(kernel_types)), prior_(std::move(prior)), options_(options), rng_(options.seed) {
  if (types_.empty()) throw Error("--kernels: name at least one kernel type, e.g. conv-bn-relu");
  for (const auto& t : types_)
    if (!find_schema(t))
      throw Error(fmt::format("--kernels: '{}' is not a kernel type deepen knows (see deepen list --schema)", t));
}

KernelConfig ConfigSampler::uniform(const std::string& type) {
  const KernelSchema* s = find_schema(type);
  KernelConfig c;
  for (const auto& f : s->config_fields) {
    auto [lo, hi] = field_range(f);
    double v;
    if (f == "ks") v = kKernelSizes[std::uniform_int_distribution<size_t>(0, kKernelSizes.size() - 1)(rng_)];
    else if (f == "hw") v = std::round(std::exp(std::uniform_real_distribution<double>(0, std::log(hi))(rng_)));
    else if (f == "groups") v = std::pow(2.0, std::uniform_int_distribution<int>(1, 5)(rng_));
    else v = static_cast<double>(std::uniform_int_distribution<int64_t>(static_cast<int64_t>(lo),
                                                                        static_cast<int64_t>(hi))(rng_));
    c.set(f, v);
  }
  return c;
}

KernelConfig ConfigSampler::from_prior(const std::string& type) {
  const auto& list = prior_[type];
  KernelConfig c = list[std::uniform_int_distribution<size_t>(0, list.size() - 1)(rng_)];
  std::uniform_real_distribution<double> scale(0.5, 1.5);
  for (auto& [f, v] : c.fields) {
    if (is_channel(f) && v >= 8) v = round_channels(v * scale(rng_));
    if (f == "ks" && std::bernoulli_distribution(0.5)(rng_))
      v = kKernelSizes[std::uniform_int_distribution<size_t>(0, kKernelSizes.size() - 1)(rng_)];
  }
  return c;
}

KernelConfig ConfigSampler::repair(const std::string& type, KernelConfig c) {
  for (auto& [f, v] : c.fields) {
    auto [lo, hi] = field_range(f);
    if (f != "hw" && f != "cin") v = std::clamp(std::round(v), lo, hi);
    else v = std::max(1.0, std::round(v));
  }
  if (c.has("ks") && c.has("hw") && c.get("ks") > c.get("hw")) c.set("ks", c.get("hw") >= 3 ? 3 : 1);
  if (c.has("stride") && c.has("hw") && c.get("stride") > c.get("hw")) c.set("stride", 1);
  if (c.has("groups")) {
    double g = c.get("groups");
    while (g > 1 && (std::fmod(c.get("cin"), g) != 0 || (c.has("cout") && std::fmod(c.get("cout"), g) != 0))) g /= 2;
    if (g < 2) {  // make the channels multiples of the group count instead
      g = 2;
      c.set("cin", std::max(2.0, std::round(c.get("cin") / 2) * 2));
      if (c.has("cout")) c.set("cout", std::max(2.0, std::round(c.get("cout") / 2) * 2));
    }
    c.set("groups", g);
  }
  if (c.has("mid") && c.get("mid") > c.get("cin")) c.set("mid", c.get("cin"));
  // Too much work for one kernel: shrink the channels.
  for (int i = 0; i < 20 && kernel_work(type, c).macs > kMaxMacs; ++i)
    for (auto& [f, v] : c.fields)
      if (f == "cout" || (f == "cin" && !c.has("cout"))) v = round_channels(v * 0.7);
  return c;
}

KernelSample ConfigSampler::next() {
  const std::string& type = types_[turn_++ % types_.size()];
  bool have_prior = prior_.count(type) && !prior_[type].empty();
  for (int attempt = 0; attempt < 100; ++attempt) {
    bool use_uniform = !have_prior || std::bernoulli_distribution(options_.uniform_share)(rng_);
    KernelConfig c = repair(type, use_uniform ? uniform(type) : from_prior(type));
    if (config_valid(type, c)) return {type, c};
  }
  throw Error(fmt::format("could not sample a valid configuration of {}", type));
}

KernelSample ConfigSampler::around(const KernelSample& s) {
  std::uniform_real_distribution<double> scale(0.8, 1.25);
  for (int attempt = 0; attempt < 100; ++attempt) {
    KernelConfig c = s.config;
    for (auto& [f, v] : c.fields) {
      if (is_channel(f) && v >= 8) v = round_channels(v * scale(rng_));
      else if (f == "hw" && v > 3) v = std::round(v * scale(rng_));
    }
    c = repair(s.kernel, c);
    if (config_valid(s.kernel, c)) return {s.kernel, c};
  }
  return s;
}

}  // namespace deepen
