#include <deepen/error.h>
#include <deepen/predict.h>
#include <deepen/schema.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace deepen {
namespace {

// What this file finds wrong is a broken registry (but an unknown name, in Registry::find).
Error registry_error(const std::string& message) { return Error(ErrorKind::Registry, message); }

std::string scalar(const YAML::Node& node, const std::string& key, const std::string& where, bool required) {
  const YAML::Node v = node[key];
  if (!v) {
    if (required) throw registry_error(fmt::format("{}: missing '{}'", where, key));
    return "";
  }
  if (!v.IsScalar()) throw registry_error(fmt::format("{}: '{}' must be a single value", where, key));
  // A YAML tag alone ("name: !x") or "name: ''" parses as an empty scalar.
  if (required && v.Scalar().empty()) throw registry_error(fmt::format("{}: '{}' is empty", where, key));
  return v.Scalar();
}

double number(const YAML::Node& node, const std::string& key, const std::string& where) {
  const YAML::Node v = node[key];
  if (!v) return 0;
  double x = 0;
  try {
    x = v.as<double>();
  } catch (const YAML::Exception&) {
    throw registry_error(fmt::format("{}: '{}' must be a number", where, key));
  }
  // .nan, .inf or a negative coefficient would turn into estimates that look like numbers.
  if (!std::isfinite(x) || x < 0)
    throw registry_error(fmt::format("{}: '{}' must be a finite number of 0 or more, not {}", where, key, v.Scalar()));
  return x;
}

// ranges: {feature: [min, max], ...} keyed by the schema's feature names; a feature left out is
// unbounded (.inf and -.inf may also be written).
std::vector<FeatureRange> feature_ranges_of(const YAML::Node& node, const std::string& type, const std::string& where) {
  if (!node.IsMap())
    throw registry_error(fmt::format("{}: 'ranges' must map feature names to [min, max], e.g. {{hw: [8, 32]}}", where));
  const KernelSchema* schema = find_schema(type);
  if (!schema)
    throw registry_error(fmt::format("{}: 'ranges' given, but kernel type '{}' has no feature schema in this version of deepen",
                            where, type));
  const std::vector<std::string>& names = schema->feature_names;
  std::vector<FeatureRange> ranges(names.size(), {-INFINITY, INFINITY});
  std::vector<bool> seen(names.size(), false);
  for (const auto& kv : node) {
    const std::string name = kv.first.IsScalar() ? kv.first.Scalar() : std::string("?");
    auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) {
      std::string known;
      for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
      throw registry_error(fmt::format("{}: ranges: '{}' is not a feature of {} (its features: {})", where, name, type, known));
    }
    size_t i = static_cast<size_t>(it - names.begin());
    if (seen[i]) throw registry_error(fmt::format("{}: ranges: '{}' is given twice", where, name));
    seen[i] = true;
    const YAML::Node& v = kv.second;
    if (!v.IsSequence() || v.size() != 2)
      throw registry_error(fmt::format("{}: ranges: '{}' must be [min, max]", where, name));
    double bound[2];
    for (size_t b = 0; b < 2; ++b) {
      bool ok = v[b].IsScalar();
      if (ok) {
        try {
          bound[b] = v[b].as<double>();
        } catch (const YAML::Exception&) {
          ok = false;
        }
      }
      if (!ok || std::isnan(bound[b]))
        throw registry_error(fmt::format("{}: ranges: '{}' must be [min, max] of two numbers, not [{}, {}]", where, name,
                                v[0].IsScalar() ? v[0].Scalar() : "?", v[1].IsScalar() ? v[1].Scalar() : "?"));
    }
    if (bound[0] > bound[1])
      throw registry_error(fmt::format("{}: ranges: '{}' has min {} > max {}", where, name, v[0].Scalar(), v[1].Scalar()));
    ranges[i] = {bound[0], bound[1]};
  }
  return ranges;
}

ScorerSpec scorer_spec(const YAML::Node& node, const std::string& type, const std::string& where) {
  ScorerSpec spec;
  if (node.IsScalar()) {
    spec.path = node.Scalar();
  } else if (node.IsMap()) {
    // The kind is named by its file key (booster: FILE, table: FILE) or by kind: and that key.
    spec.kind = scalar(node, "kind", where, false);
    if (spec.kind.empty()) spec.kind = node["table"] ? "table" : "xgboost";
    if (!valid_scorer_kind(spec.kind))
      throw registry_error(fmt::format("{}: kind '{}' is unknown (kinds: {})", where, spec.kind, scorer_kinds()));
    const char* file_key = spec.kind == "xgboost" ? "booster" : spec.kind.c_str();
    for (const char* key : {"booster", "table"})
      if (node[key] && std::string(key) != file_key)
        throw registry_error(fmt::format("{}: a scorer of kind {} reads '{}: FILE', not '{}'", where, spec.kind, file_key, key));
    spec.path = scalar(node, file_key, where, true);
    spec.transform = scalar(node, "transform", where, false);
    if (spec.kind != "xgboost" && !spec.transform.empty())
      throw registry_error(fmt::format("{}: transform is for boosters; a {} holds the values themselves", where, spec.kind));
    if (spec.transform.empty()) spec.transform = "none";
    if (!valid_transform(spec.transform))
      throw registry_error(fmt::format("{}: transform '{}' is unknown (use none, log, log-per-mac, log-per-flop, "
                              "log-per-byte or log-ratio)",
                              where, spec.transform));
    if (spec.transform == "log-ratio") {
      const YAML::Node base = node["base"];
      if (!base || !base.IsMap())
        throw registry_error(fmt::format("{}: transform log-ratio needs base: {{per_gflop, per_mb, per_kernel}}", where));
      spec.base_per_gflop = number(base, "per_gflop", where + ": base");
      spec.base_per_mb = number(base, "per_mb", where + ": base");
      spec.base_per_kernel = number(base, "per_kernel", where + ": base");
      if (spec.base_per_gflop < 0 || spec.base_per_mb < 0 || spec.base_per_kernel <= 0)
        throw registry_error(fmt::format("{}: base coefficients must be non-negative, per_kernel positive", where));
    }
    if (const YAML::Node ranges = node["ranges"]) {
      if (spec.kind != "xgboost")
        throw registry_error(fmt::format("{}: ranges are for boosters; a {} scores only the configurations it holds", where,
                                spec.kind));
      spec.ranges = feature_ranges_of(ranges, type, where);
    }
  } else {
    throw registry_error(
        fmt::format("{}: expected a booster file name, {{booster: FILE, transform: log}} or {{table: FILE}}", where));
  }
  if (spec.path.empty())
    throw registry_error(fmt::format("{}: the {} file name is empty", where, spec.kind == "table" ? "table" : "booster"));
  return spec;
}

PredictorEntry parse_entry(const YAML::Node& node, const std::string& root, const std::string& label, size_t index) {
  std::string where = fmt::format("{}: entry {}", label, index + 1);
  if (!node.IsMap()) throw registry_error(fmt::format("{} is not a map", where));
  PredictorEntry e;
  e.name = scalar(node, "name", where, true);
  where = fmt::format("{}: predictor '{}'", label, e.name);
  e.version = scalar(node, "version", where, true);
  e.device = scalar(node, "device", where, false);
  e.framework = scalar(node, "framework", where, false);
  e.data = scalar(node, "data", where, false);
  e.fusion_rules = scalar(node, "fusion_rules", where, false);
  if (const YAML::Node p = node["purposes"]) {
    if (!p.IsSequence()) throw registry_error(fmt::format("{}: 'purposes' must be a list", where));
    for (const auto& x : p) e.purposes.push_back(purpose_name(parse_purpose(x.as<std::string>())));
  }
  const YAML::Node kernels = node["kernels"];
  if (kernels) {
    if (!kernels.IsMap()) throw registry_error(fmt::format("{}: 'kernels' must map kernel types to boosters", where));
    for (const auto& kv : kernels) {
      std::string type = kv.first.as<std::string>();
      if (!kv.second.IsMap())
        throw registry_error(fmt::format("{}: kernel '{}' must map purposes to booster files", where, type));
      for (const auto& pv : kv.second) {
        std::string purpose = purpose_name(parse_purpose(pv.first.as<std::string>()));
        e.kernels[type][purpose] = scorer_spec(pv.second, type, fmt::format("{}: kernel '{}' {}", where, type, purpose));
      }
    }
  }
  // Node::operator= would assign into the node; reset() rebinds it.
  if (const YAML::Node accuracy = node["accuracy"]) e.accuracy.reset(accuracy);
  if (const YAML::Node f = node["fallback"]) {
    std::string fw = where + ": fallback";
    if (!f.IsMap()) throw registry_error(fmt::format("{} must be a map", fw));
    if (const YAML::Node en = f["energy"]) {
      e.fallback.has_energy = true;
      e.fallback.energy_mj_per_gflop = number(en, "mj_per_gflop", fw);
      e.fallback.energy_mj_per_mb = number(en, "mj_per_mb", fw);
      e.fallback.energy_mj_per_kernel = number(en, "mj_per_kernel", fw);
    }
    if (const YAML::Node la = f["latency"]) {
      e.fallback.has_latency = true;
      e.fallback.peak_gflops = number(la, "peak_gflops", fw);
      e.fallback.bandwidth_gbs = number(la, "bandwidth_gbs", fw);
      e.fallback.latency_ms_per_kernel = number(la, "ms_per_kernel", fw);
      if (e.fallback.peak_gflops <= 0 || e.fallback.bandwidth_gbs <= 0)
        throw registry_error(fmt::format("{}: latency needs positive peak_gflops and bandwidth_gbs", fw));
      // How a roofline from published specs is used (absent in a fitted one): threads of cores
      // and the share of peak sustained.
      if (la["cores"]) e.fallback.cores = number(la, "cores", fw);
      e.fallback.threads = la["threads"] ? number(la, "threads", fw) : e.fallback.cores;
      if (la["sustained"]) e.fallback.sustained = number(la, "sustained", fw);
      if (e.fallback.cores < 1 || e.fallback.threads < 1 || e.fallback.threads > e.fallback.cores)
        throw registry_error(fmt::format("{}: latency: threads ({}) must be from 1 to cores ({})", fw, e.fallback.threads,
                                e.fallback.cores));
      if (e.fallback.sustained <= 0 || e.fallback.sustained > 1)
        throw registry_error(fmt::format("{}: latency: sustained must be a share of peak in (0, 1], not {}", fw,
                                e.fallback.sustained));
    }
    if (const YAML::Node n = f["note"]) e.fallback.note = n.as<std::string>();
  }
  e.training_set = scalar(node, "training_set", where, false);
  if (const YAML::Node pe = node["power_envelope"]) {
    std::string pw = where + ": power_envelope";
    if (!pe.IsMap()) throw registry_error(fmt::format("{} must be a map {{min_w, max_w, note}}", pw));
    e.power_envelope.min_mw = 1000.0 * number(pe, "min_w", pw);
    e.power_envelope.max_mw = 1000.0 * number(pe, "max_w", pw);
    if (!(e.power_envelope.max_mw > e.power_envelope.min_mw))
      throw registry_error(fmt::format("{}: max_w must be above min_w", pw));
    if (const YAML::Node n = pe["note"]) e.power_envelope.note = n.as<std::string>();
  }
  if (const YAML::Node m = node["model"]) {
    std::string mw = where + ": model";
    if (!m.IsMap()) throw registry_error(fmt::format("{} must map purposes to {{per_inference, correction, features}}", mw));
    for (const auto& pv : m) {
      Purpose p = parse_purpose(pv.first.as<std::string>());
      std::string pw = mw + " " + purpose_name(p);
      if (p == Purpose::Power) throw registry_error(fmt::format("{}: model-level terms are for latency and energy", pw));
      if (!pv.second.IsMap()) throw registry_error(fmt::format("{} must be a map", pw));
      ModelTerms t;
      t.per_inference = number(pv.second, "per_inference", pw);
      t.correction = scalar(pv.second, "correction", pw, false);
      if (const YAML::Node fs_node = pv.second["features"]) {
        if (!fs_node.IsSequence()) throw registry_error(fmt::format("{}: 'features' must be a list", pw));
        for (const auto& x : fs_node) {
          if (!x.IsScalar()) throw registry_error(fmt::format("{}: every feature must be a name", pw));
          t.features.push_back(x.Scalar());
        }
      }
      if (!t.correction.empty() && t.features.empty())
        throw registry_error(fmt::format("{}: a correction needs its 'features'", pw));
      try {
        model_features(t.features, {}, FusionRules{}, 1.0);  // every name must be known
      } catch (const Error& err) {
        throw registry_error(fmt::format("{}: {}", pw, err.what()));
      }
      e.model[purpose_name(p)] = std::move(t);
    }
  }
  std::string folder = scalar(node, "folder", where, false);
  if (folder.empty()) folder = e.name;
  // One plain name: "a/", "." or "a/b" would make folders overlap or end in a slash that the
  // inside-the-folder checks do not expect.
  if (folder.find_first_of("/\\") != std::string::npos || folder == "." || folder.find("..") != std::string::npos)
    throw registry_error(fmt::format("{}: folder '{}' must be a plain folder name inside {}", where, folder, root));
  e.folder = (fs::path(root) / folder).lexically_normal().string();
  // Every path must stay inside the predictor's folder.
  if (!e.fusion_rules.empty()) resolve_in_folder(e, e.fusion_rules);
  for (const auto& [type, by_purpose] : e.kernels)
    for (const auto& [purpose, spec] : by_purpose) resolve_in_folder(e, spec.path);
  for (const auto& [purpose, terms] : e.model)
    if (!terms.correction.empty()) resolve_in_folder(e, terms.correction);
  return e;
}

}  // namespace

int compare_versions(const std::string& a, const std::string& b) {
  std::istringstream sa(a), sb(b);
  std::string pa, pb;
  while (true) {
    bool ha = static_cast<bool>(std::getline(sa, pa, '.'));
    bool hb = static_cast<bool>(std::getline(sb, pb, '.'));
    if (!ha && !hb) return 0;
    long long na = 0, nb = 0;
    try {
      na = ha ? std::stoll(pa) : 0;
      nb = hb ? std::stoll(pb) : 0;
    } catch (const std::exception&) {
      int c = (ha ? pa : "").compare(hb ? pb : "");
      if (c != 0) return c < 0 ? -1 : 1;
      continue;
    }
    if (na != nb) return na < nb ? -1 : 1;
  }
}

std::string resolve_in_folder(const PredictorEntry& entry, const std::string& relative) {
  fs::path p(relative);
  if (p.is_absolute())
    throw registry_error(fmt::format("predictor '{}': path '{}' is absolute; registry paths must be relative to the "
                            "predictor's folder",
                            entry.name, relative));
  fs::path full = (fs::path(entry.folder) / p).lexically_normal();
  fs::path folder = fs::path(entry.folder).lexically_normal();
  auto rel = full.lexically_relative(folder);
  if (rel.empty() || *rel.begin() == "..")
    throw registry_error(fmt::format("predictor '{}': path '{}' leaves the predictor's folder {}", entry.name, relative,
                            entry.folder));
  // A symlink may point elsewhere: compare real paths when the file exists.
  std::error_code ec;
  if (fs::exists(full, ec)) {
    fs::path real = fs::weakly_canonical(full, ec);
    fs::path real_folder = fs::weakly_canonical(folder, ec);
    auto real_rel = real.lexically_relative(real_folder);
    if (ec || real_rel.empty() || *real_rel.begin() == "..")
      throw registry_error(fmt::format("predictor '{}': path '{}' resolves (through a link) outside the predictor's folder {}",
                              entry.name, relative, entry.folder));
  }
  return full.string();
}

Registry parse_registry(const std::string& yaml_text, const std::string& predictors_dir, const std::string& label) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw registry_error(fmt::format("{}: not valid YAML: {}", label, e.what()));
  }
  if (!root.IsSequence())
    throw registry_error(fmt::format("{}: the registry must be a list of predictor entries (- name: ...)", label));
  Registry reg;
  reg.root = predictors_dir;
  try {
    for (size_t i = 0; i < root.size(); ++i) reg.entries.push_back(parse_entry(root[i], predictors_dir, label, i));
  } catch (const YAML::Exception& e) {
    throw registry_error(fmt::format("{}: malformed registry: {}", label, e.what()));
  }
  for (size_t i = 0; i < reg.entries.size(); ++i)
    for (size_t j = i + 1; j < reg.entries.size(); ++j)
      if (reg.entries[i].name == reg.entries[j].name && compare_versions(reg.entries[i].version, reg.entries[j].version) == 0)
        throw registry_error(fmt::format("{}: predictor '{}' version {} is listed twice", label, reg.entries[i].name,
                                reg.entries[i].version));
      else if (reg.entries[i].name != reg.entries[j].name &&
               same_predictor_name(reg.entries[i].name, reg.entries[j].name))  // names are matched in any case
        throw registry_error(fmt::format("{}: predictors '{}' and '{}' differ only in letter case, and names are matched in "
                                "any case: rename one",
                                label, reg.entries[i].name, reg.entries[j].name));
  return reg;
}

Registry load_registry(const std::string& predictors_dir) {
  fs::path file = fs::path(predictors_dir) / "predictors.yaml";
  std::ifstream in(file);
  if (!in)
    throw registry_error(fmt::format("{}: cannot open the predictor registry (set --predictors DIR or DEEPEN_PREDICTORS)",
                            file.string()));
  std::stringstream text;
  text << in.rdbuf();
  return parse_registry(text.str(), predictors_dir, file.string());
}

std::string default_predictors_dir() {
  if (const char* env = std::getenv("DEEPEN_PREDICTORS"); env && *env) return env;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path installed = exe.parent_path().parent_path() / "share" / "deepen" / "predictors";
    if (fs::exists(installed / "predictors.yaml", ec)) return installed.string();
  }
  return (fs::path(DEEPEN_SOURCE_DIR) / "predictors").string();
}

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Levenshtein distance, for "did you mean".
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

}  // namespace

bool same_predictor_name(const std::string& a, const std::string& b) { return lower(a) == lower(b); }

// Names match in any letter case (cortexa76cpu_tflite is cortexA76cpu_tflite).
const PredictorEntry& Registry::find(const std::string& name, const std::string& version) const {
  const PredictorEntry* best = nullptr;
  std::string versions;
  const std::string wanted = lower(name);
  for (const auto& e : entries) {
    if (lower(e.name) != wanted) continue;
    versions += (versions.empty() ? "" : ", ") + e.version;
    if (!version.empty()) {
      if (compare_versions(e.version, version) == 0) return e;
      continue;
    }
    if (!best || compare_versions(e.version, best->version) > 0) best = &e;
  }
  if (best) return *best;
  if (!versions.empty())
    throw Error(ErrorKind::UnknownPredictor,
                fmt::format("predictor '{}' has no version {} (available: {})", name, version, versions));
  std::vector<std::string> names;
  for (const auto& e : entries)
    if (std::find(names.begin(), names.end(), e.name) == names.end()) names.push_back(e.name);
  // The closest names, when close: a typo, a missing suffix, a prefix typed alone.
  std::string suggestion;
  size_t best_distance = std::max<size_t>(3, wanted.size() / 3) + 1;
  for (const auto& n : names) {
    std::string ln = lower(n);
    size_t d = ln.rfind(wanted, 0) == 0 && wanted.size() >= 4 ? 1 : edit_distance(wanted, ln);
    if (d < best_distance) best_distance = d, suggestion = n;
  }
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  throw Error(ErrorKind::UnknownPredictor,
              fmt::format("unknown predictor '{}'{} (available: {}; see deepen list)", name,
                          suggestion.empty() ? "" : fmt::format("; did you mean '{}'?", suggestion),
                          list.empty() ? "none" : list));
}

}  // namespace deepen
