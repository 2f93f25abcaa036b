// Adding an entry to predictors/predictors.yaml. The other entries keep their text (comments and
// all): the file is cut at its top-level "- " items and only the new or replaced item changes.
// Boosters and the registry are written to temporary files first and renamed only when all
// were written, so a failed run leaves the registry as it was. One emitter writes a booster's
// spec (file, transform, base, training ranges) for every trainer, so entries read alike.
#include <deepen/error.h>
#include <deepen/predict.h>
#include <deepen/schema.h>
#include <deepen/train.h>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;

namespace deepen {
namespace {

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return "";
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Top-level items of a block-style YAML list: [preamble, item, item, ...]; false when the text
// is not such a list (flow style, indented items).
bool split_items(const std::string& text, std::vector<std::string>* chunks) {
  chunks->assign(1, "");
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    bool item = line.rfind("- ", 0) == 0 || line == "-";
    if (item) chunks->push_back("");
    else if (chunks->size() == 1 && !line.empty() && line[0] != '#' && line.find_first_not_of(" \t") != std::string::npos)
      return false;  // content before the first item
    chunks->back() += line + "\n";
  }
  for (size_t i = 1; i < chunks->size(); ++i) {
    try {
      YAML::Node n = YAML::Load((*chunks)[i]);
      if (!n.IsSequence() || n.size() != 1 || !n[0].IsMap()) return false;
    } catch (const YAML::Exception&) {
      return false;
    }
  }
  return true;
}

bool same_entry(const YAML::Node& item, const std::string& name, const std::string& version) {
  return item["name"] && item["version"] && item["name"].Scalar() == name &&
         compare_versions(item["version"].Scalar(), version) == 0;
}

std::string temp_name(const fs::path& target) {
  return (target.parent_path() / fmt::format(".{}.tmp-{}", target.filename().string(), getpid())).string();
}

void write_temp(const std::string& tmp, const std::string& content, const std::string& target) {
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw Error(fmt::format("{}: cannot write ({})", target, std::strerror(errno)));
  bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  ok = (std::fflush(f) == 0) && ok;
  ok = (fsync(fileno(f)) == 0) && ok;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) throw Error(fmt::format("{}: cannot write ({})", target, std::strerror(errno)));
}

// The shortest decimal that reads back as the same double; YAML's spelling of infinities.
std::string exact_number(double v) {
  if (std::isinf(v)) return v > 0 ? ".inf" : "-.inf";
  return fmt::format("{}", v);
}

}  // namespace

std::vector<FeatureRange> feature_ranges(const std::vector<float>& rows, size_t ncols) {
  std::vector<FeatureRange> ranges(ncols, {NAN, NAN});
  if (ncols == 0) return ranges;
  for (size_t i = 0; i + ncols <= rows.size(); i += ncols)
    for (size_t c = 0; c < ncols; ++c) {
      double v = rows[i + c];
      if (std::isnan(v)) continue;
      FeatureRange& r = ranges[c];
      if (std::isnan(r.min) || v < r.min) r.min = v;
      if (std::isnan(r.max) || v > r.max) r.max = v;
    }
  return ranges;
}

void emit_booster_spec(YAML::Emitter& e, const ScorerSpec& spec, const std::string& kernel_type) {
  e << YAML::Flow << YAML::BeginMap;
  if (spec.kind != "xgboost") {  // a table: its file, nothing else
    e << YAML::Key << spec.kind << YAML::Value << spec.path << YAML::EndMap;
    return;
  }
  e << YAML::Key << "booster" << YAML::Value << spec.path;
  e << YAML::Key << "transform" << YAML::Value << spec.transform;
  if (spec.transform == "log-ratio")
    e << YAML::Key << "base" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "per_gflop"
      << YAML::Value << fmt::format("{:.17g}", spec.base_per_gflop) << YAML::Key << "per_mb" << YAML::Value
      << fmt::format("{:.17g}", spec.base_per_mb) << YAML::Key << "per_kernel" << YAML::Value
      << fmt::format("{:.17g}", spec.base_per_kernel) << YAML::EndMap;
  if (!spec.ranges.empty()) {
    const KernelSchema* schema = find_schema(kernel_type);
    if (!schema)
      throw Error(fmt::format("kernel type '{}' has no feature schema: its booster's ranges cannot be named",
                              kernel_type));
    if (schema->feature_names.size() != spec.ranges.size())
      throw Error(fmt::format("kernel type '{}': {} ranges for {} features", kernel_type, spec.ranges.size(),
                              schema->feature_names.size()));
    e << YAML::Key << "ranges" << YAML::Value << YAML::Flow << YAML::BeginMap;
    for (size_t i = 0; i < spec.ranges.size(); ++i) {
      const FeatureRange& r = spec.ranges[i];
      // No bound known (a column without numbers, or both open): leave the feature out.
      if (std::isnan(r.min) || std::isnan(r.max) || (std::isinf(r.min) && std::isinf(r.max))) continue;
      e << YAML::Key << schema->feature_names[i] << YAML::Value << YAML::Flow << YAML::BeginSeq
        << exact_number(r.min) << exact_number(r.max) << YAML::EndSeq;
    }
    e << YAML::EndMap;
  }
  e << YAML::EndMap;
}

std::string next_version(const std::string& predictors_dir, const std::string& name) {
  fs::path file = fs::path(predictors_dir) / "predictors.yaml";
  std::error_code ec;
  if (!fs::exists(file, ec)) return "1.0";
  Registry reg = parse_registry(read_text(file), predictors_dir, file.string());
  std::string newest;
  for (const auto& e : reg.entries)
    if (e.name == name && (newest.empty() || compare_versions(e.version, newest) > 0)) newest = e.version;
  if (newest.empty()) return "1.0";
  size_t dot = newest.rfind('.');
  std::string head = dot == std::string::npos ? newest : newest.substr(0, dot);
  std::string last = dot == std::string::npos ? "" : newest.substr(dot + 1);
  try {
    if (dot == std::string::npos) return fmt::format("{}.1", std::stoll(newest));
    return fmt::format("{}.{}", head, std::stoll(last) + 1);
  } catch (const std::exception&) {
    return newest + ".1";
  }
}

void write_registry_entry(const std::string& predictors_dir, const std::string& name, const std::string& version,
                          const std::string& folder, const std::string& entry_yaml,
                          const std::vector<PendingFile>& files, bool replace) {
  fs::path dir(predictors_dir);
  fs::path file = dir / "predictors.yaml";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error(fmt::format("{}: cannot create the registry folder ({})", dir.string(), ec.message()));
  std::string old_text = read_text(file);
  bool exists = false;
  if (!old_text.empty()) {
    Registry reg = parse_registry(old_text, predictors_dir, file.string());  // refuse to edit a broken registry
    for (const auto& e : reg.entries)
      if (e.name == name && compare_versions(e.version, version) == 0) exists = true;
  }
  if (exists && !replace)
    throw Error(fmt::format("{}: predictor '{}' version {} already exists; give another --version, or --force to "
                            "overwrite it",
                            file.string(), name, version));

  std::string text;
  std::vector<std::string> chunks;
  std::string trimmed = old_text;
  trimmed.erase(0, trimmed.find_first_not_of(" \t\r\n"));
  if (trimmed.empty() || trimmed.rfind("[]", 0) == 0) {
    text = "# deepen predictor registry: see docs (Predictor registry)\n" + entry_yaml;
  } else if (split_items(old_text, &chunks)) {
    text = chunks[0];
    bool placed = false;
    for (size_t i = 1; i < chunks.size(); ++i) {
      if (exists && !placed && same_entry(YAML::Load(chunks[i])[0], name, version)) {
        text += entry_yaml;
        placed = true;
      } else {
        text += chunks[i];
      }
    }
    if (!placed) {
      if (!text.empty() && text.back() != '\n') text += "\n";
      text += entry_yaml;
    }
  } else {
    // Not a plain block list: rewrite it through yaml-cpp (comments are lost, entries kept).
    YAML::Node root = YAML::Load(old_text);
    YAML::Node out(YAML::NodeType::Sequence);
    for (const auto& item : root)
      if (!same_entry(item, name, version)) out.push_back(item);
    out.push_back(YAML::Load(entry_yaml)[0]);
    YAML::Emitter em;
    em << out;
    text = std::string(em.c_str()) + "\n";
  }
  // The result must load, and our entry with it.
  Registry check = parse_registry(text, predictors_dir, file.string());
  check.find(name, version);

  fs::path pdir = dir / folder;
  fs::create_directories(pdir, ec);
  if (ec) throw Error(fmt::format("{}: cannot create the predictor folder ({})", pdir.string(), ec.message()));
  std::vector<std::pair<std::string, std::string>> renames;  // tmp -> target
  try {
    for (const auto& f : files) {
      fs::path target = pdir / f.relative;
      fs::create_directories(target.parent_path(), ec);
      std::string tmp = temp_name(target);
      renames.emplace_back(tmp, target.string());
      write_temp(tmp, f.content, target.string());
    }
    std::string tmp = temp_name(file);
    renames.emplace_back(tmp, file.string());
    write_temp(tmp, text, file.string());
  } catch (...) {
    for (const auto& [tmp, target] : renames) std::remove(tmp.c_str());
    throw;
  }
  // The registry is renamed last: until then it names none of the new files.
  for (size_t i = 0; i < renames.size(); ++i) {
    if (std::rename(renames[i].first.c_str(), renames[i].second.c_str()) != 0) {
      int err = errno;
      for (size_t j = i; j < renames.size(); ++j) std::remove(renames[j].first.c_str());
      throw Error(fmt::format("{}: cannot write ({})", renames[i].second, std::strerror(err)));
    }
  }
}

}  // namespace deepen
