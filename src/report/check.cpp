// The gate of `deepen check`: quantities and their units, the baseline and budget readers, and
// the comparison of every model with them (deepen/check.h). The writers are in check_writers.cpp.
#include <deepen/check.h>
#include <deepen/error.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

namespace fs = std::filesystem;

namespace deepen {
namespace {

// The units of each purpose and their size in the purpose's own unit (mJ, ms, mW).
struct Unit {
  const char* name;
  Purpose purpose;
  double scale;
};
constexpr Unit kUnits[] = {
    {"uJ", Purpose::Energy, 1e-3}, {"\xC2\xB5J", Purpose::Energy, 1e-3}, {"mJ", Purpose::Energy, 1},
    {"J", Purpose::Energy, 1e3},   {"us", Purpose::Latency, 1e-3},       {"\xC2\xB5s", Purpose::Latency, 1e-3},
    {"ms", Purpose::Latency, 1},   {"s", Purpose::Latency, 1e3},         {"uW", Purpose::Power, 1e-3},
    {"\xC2\xB5W", Purpose::Power, 1e-3}, {"mW", Purpose::Power, 1},      {"W", Purpose::Power, 1e3},
};

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// A name for a model key or path: the key itself, a path ending in "/key", or a path from
// another checkout (backslashes read as slashes).
bool names_key(std::string name, const std::string& key) {
  std::replace(name.begin(), name.end(), '\\', '/');
  while (name.rfind("./", 0) == 0) name = name.substr(2);
  return name == key || ends_with(name, "/" + key);
}

std::string quantity_text(double value, Purpose purpose) {
  return fmt::format("{} {}", format_number(value), purpose_unit(purpose));
}

std::string percent_change(double share) {
  if (std::isinf(share)) return share > 0 ? "+inf%" : "-inf%";
  return fmt::format("{:+.1f}%", share * 100);
}

// A number of a JSON object, or NaN when it is absent or null; Error when it is something else.
double json_number(const nlohmann::json& obj, const std::string& key, const std::string& where) {
  if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) return NAN;
  if (!obj[key].is_number()) throw Error(fmt::format("{}: \"{}\" is not a number", where, key));
  return obj[key].get<double>();
}

}  // namespace

std::string model_key(const std::string& file, const std::string& modelpath) {
  std::error_code ec;
  if (fs::is_directory(modelpath, ec)) {
    fs::path rel = fs::path(file).lexically_relative(modelpath);
    if (!rel.empty() && rel.native().rfind("..", 0) != 0) return rel.generic_string();
  }
  return fs::path(file).filename().generic_string();
}

std::string units_of(Purpose purpose) {
  switch (purpose) {
    case Purpose::Energy: return "uJ, mJ or J (e.g. 10mJ)";
    case Purpose::Latency: return "us, ms or s (e.g. 25ms)";
    case Purpose::Power: return "uW, mW or W (e.g. 2W)";
  }
  return "";
}

double parse_quantity(const std::string& text, Purpose purpose, const std::string& what) {
  const std::string t = trim(text);
  const char* begin = t.c_str();
  char* end = nullptr;
  double v = std::strtod(begin, &end);
  const std::string unit = trim(std::string(end));
  auto bad = [&](const std::string& why) {
    return Error(fmt::format("{} '{}': {}; --purpose {} takes {}", what, text, why, purpose_name(purpose),
                             units_of(purpose)));
  };
  if (end == begin) throw bad("not a number with a unit");
  if (!std::isfinite(v) || v < 0) throw bad("give a finite number, 0 or more");
  if (unit.empty()) throw bad("give a unit");
  for (const Unit& u : kUnits) {
    if (unit != u.name) continue;
    if (u.purpose != purpose)
      throw bad(fmt::format("{} is a unit of {}, not of {}", u.name, purpose_name(u.purpose), purpose_name(purpose)));
    return v * u.scale;
  }
  throw bad(fmt::format("unknown unit '{}'", unit));
}

bool IncreaseBound::exceeded(double baseline, double now) const {
  if (std::isnan(baseline) || std::isnan(now)) return false;
  const double allowed = std::isnan(absolute) ? relative * std::fabs(baseline) : absolute;
  // Numbers from another machine may differ in their last digits: that is no change.
  const double rounding = 1e-9 * std::max(std::fabs(baseline), std::fabs(now));
  return now - baseline > allowed + rounding;
}

IncreaseBound parse_max_increase(const std::string& text, Purpose purpose) {
  IncreaseBound b;
  if (text.empty()) return b;
  b.text = text;
  const std::string t = trim(text);
  if (!t.empty() && t.back() == '%') {
    const std::string number = t.substr(0, t.size() - 1);
    char* end = nullptr;
    double v = std::strtod(number.c_str(), &end);
    if (number.empty() || end != number.c_str() + number.size() || !std::isfinite(v) || v < 0)
      throw Error(fmt::format("--max-increase '{}': give a share of the baseline, 0% or more (e.g. 5%), or a "
                              "quantity of {} in {}",
                              text, purpose_name(purpose), units_of(purpose)));
    b.relative = v / 100;
    return b;
  }
  b.absolute = parse_quantity(t, purpose, "--max-increase");
  return b;
}

Budgets budget_for_all(const std::string& text, Purpose purpose) {
  Budgets b;
  b.default_value = parse_quantity(text, purpose, "--budget");
  b.source = "--budget " + text;
  return b;
}

Budgets read_budget_file(const std::string& path, Purpose purpose) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot read the budget file", path));
  std::stringstream text;
  text << in.rdbuf();
  YAML::Node root;
  try {
    root = YAML::Load(text.str());
  } catch (const YAML::Exception& e) {
    throw Error(fmt::format("{}: not YAML ({})", path, e.msg));
  }
  const std::string form = "give a map of model (its path under --modelpath) to budget, and `default` for the "
                           "others, e.g. 'default: 10mJ' and 'mobilenetv1.onnx: 2mJ' on lines of their own";
  if (!root.IsMap() || root.size() == 0) throw Error(fmt::format("{}: holds no budgets; {}", path, form));
  Budgets b;
  b.source = path;
  for (const auto& kv : root) {
    if (!kv.first.IsScalar() || kv.first.Scalar().empty())
      throw Error(fmt::format("{}: a key is not a model name; {}", path, form));
    const std::string key = kv.first.Scalar();
    if (!kv.second.IsScalar()) throw Error(fmt::format("{}: {}: the budget is not a single quantity; {}", path, key, form));
    double v = parse_quantity(kv.second.Scalar(), purpose, fmt::format("{}: {}", path, key));
    if (key == "default") b.default_value = v;
    else b.per_model.emplace_back(key, v);
  }
  return b;
}

Baseline parse_baseline(const std::string& json_text, const std::string& label, Purpose purpose) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("{}: the baseline is not JSON ({}); make it with deepen predict ... -f json -o {}", label,
                            e.what(), label));
  }
  const std::string make = fmt::format("make it with deepen predict ... --purpose {} -f json -o {}",
                                       purpose_name(purpose), label);
  if (!root.is_object() || !root.contains("models") || !root["models"].is_array())
    throw Error(fmt::format("{}: not the JSON that deepen predict -f json writes (no \"models\" list); {}", label, make));
  Baseline b;
  b.file = label;
  if (root.contains("predictor") && root["predictor"].is_object()) {
    const auto& p = root["predictor"];
    if (p.contains("name") && p["name"].is_string()) b.predictor = p["name"].get<std::string>();
    if (p.contains("version") && p["version"].is_string()) b.version = p["version"].get<std::string>();
  }
  if (b.predictor.empty())
    throw Error(fmt::format("{}: names no predictor (\"predictor\": {{\"name\": ...}}); {}", label, make));
  if (root.contains("purpose") && root["purpose"].is_string()) b.purpose = root["purpose"].get<std::string>();
  const std::string field = purpose_field(purpose);
  bool has_field = false;
  for (size_t i = 0; i < root["models"].size(); ++i) {
    const auto& m = root["models"][i];
    const std::string where = fmt::format("{}: models[{}]", label, i);
    if (!m.is_object() || !m.contains("model") || !m["model"].is_string() || m["model"].get<std::string>().empty())
      throw Error(fmt::format("{}: has no \"model\" name", where));
    BaselineModel bm;
    bm.model = m["model"].get<std::string>();
    if (m.contains("error") && m["error"].is_string()) bm.error = m["error"].get<std::string>();
    has_field = has_field || m.contains(field) || !bm.error.empty();
    bm.value = json_number(m, field, where);
    if (m.contains("coverage")) {
      bm.coverage_kernels = json_number(m["coverage"], "kernels", where + ".coverage");
      bm.coverage_flops = json_number(m["coverage"], "flops", where + ".coverage");
    }
    bm.macs = json_number(m, "macs", where);
    bm.flops = json_number(m, "flops", where);
    bm.params = json_number(m, "params", where);
    bm.kernels = json_number(m, "kernels", where);
    for (const auto& other : b.models)
      if (other.model == bm.model) throw Error(fmt::format("{}: names {} twice", label, bm.model));
    b.models.push_back(std::move(bm));
  }
  if (!b.models.empty() && !has_field)
    throw Error(fmt::format("{}: holds no {} (it was made for --purpose {}); {}", label, field,
                            b.purpose.empty() ? "another" : b.purpose, make));
  return b;
}

Baseline read_baseline(const std::string& path, Purpose purpose) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw Error(fmt::format("{}: is a folder, not a baseline JSON file", path));
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(fmt::format("{}: cannot read the baseline (make one with deepen predict ... -f json -o {}, or "
                            "give --update-baseline to write it)",
                            path, path));
  std::stringstream text;
  text << in.rdbuf();
  return parse_baseline(text.str(), path, purpose);
}

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::Ok: return "ok";
    case Verdict::Failed: return "fail";
    case Verdict::New: return "new";
    case Verdict::Gone: return "gone";
    case Verdict::Error: return "error";
  }
  return "?";
}

double ModelCheck::relative_change() const {
  if (std::isnan(now) || std::isnan(baseline)) return NAN;
  if (baseline == 0) return now == 0 ? 0.0 : std::numeric_limits<double>::infinity();
  return (now - baseline) / baseline;
}

size_t CheckResult::count(Verdict v) const {
  return static_cast<size_t>(
      std::count_if(models.begin(), models.end(), [v](const ModelCheck& m) { return m.verdict == v; }));
}

namespace {

// The baseline entry of a model: the one naming the file as given, else the one whose path ends
// in the key; -1 when none. Error when several do (the key cannot tell them apart).
int baseline_index(const Baseline& b, const CheckModel& m) {
  for (size_t i = 0; i < b.models.size(); ++i)
    if (b.models[i].model == m.file) return static_cast<int>(i);
  int found = -1;
  for (size_t i = 0; i < b.models.size(); ++i) {
    if (!names_key(b.models[i].model, m.key)) continue;
    if (found >= 0)
      throw Error(fmt::format("{}: {} and {} both match {}; give --modelpath the folder the baseline was made from",
                              b.file, b.models[found].model, b.models[i].model, m.file));
    found = static_cast<int>(i);
  }
  return found;
}

// Whether a baseline entry has the structure of a model predicted now: the same MACs, FLOPs,
// params and kernel count (a file renamed, its content the same).
bool same_structure(const BaselineModel& b, const ModelReport& r) {
  return r.error.empty() && !std::isnan(b.flops) && b.flops > 0 && b.flops == r.flops && b.macs == r.macs &&
         b.params == r.params && b.kernels == static_cast<double>(r.kernel_count);
}

std::string coverage_change(const char* what, double before, double now) {
  return fmt::format("{} of its {} (was {})", format_share(now), what, format_share(before));
}

// Findings from comparing a model with its baseline entry.
void compare(ModelCheck& mc, const BaselineModel& b, const ModelReport& r, const CheckResult& result,
             const CheckOptions& o) {
  const std::string purpose = purpose_name(o.purpose);
  mc.baseline = b.value;
  mc.coverage_flops_baseline = b.coverage_flops;
  mc.coverage_kernels_baseline = b.coverage_kernels;
  if (std::isnan(b.value)) {
    mc.findings.push_back({"no-baseline",
                           fmt::format("the baseline has no {} for it{}", purpose,
                                       b.error.empty() ? std::string() : " (its error then: " + b.error + ")"),
                           false});
    return;
  }
  if (!r.error.empty()) return;
  const std::string numbers = fmt::format("{} -> {} {}", format_number(mc.baseline), format_number(mc.now),
                                          purpose_unit(o.purpose));
  const std::string accepted = o.accept_baseline ? "; accepted by --update-baseline" : "";
  // Under a predictor change a model that changed as well cannot be told apart from it: say so.
  std::string also_model;
  if (result.predictor_changed && !std::isnan(b.flops) && !same_structure(b, r))
    also_model = fmt::format("; the model changed too (FLOPs {} -> {}): predict the baseline again with {} {} to "
                             "compare the model alone",
                             count_text(b.flops), count_text(r.flops), result.predictor, result.version);
  if (o.max_increase.exceeded(mc.baseline, mc.now)) {
    const std::string rise = fmt::format("{} rose {} ({})", purpose, percent_change(mc.relative_change()), numbers);
    if (result.predictor_changed)
      mc.findings.push_back({"predictor",
                             fmt::format("{} under the predictor change ({} {} -> {} {}), not by the model{}", rise,
                                         result.baseline_predictor, result.baseline_version, result.predictor,
                                         result.version, also_model),
                             false});
    else
      mc.findings.push_back({"increase",
                             fmt::format("{}, more than --max-increase {}{}", rise, o.max_increase.text, accepted),
                             !o.accept_baseline});
  }
  std::vector<std::string> fell;
  if (!std::isnan(b.coverage_flops) && r.coverage_flops < b.coverage_flops - 1e-9)
    fell.push_back(coverage_change("FLOPs", b.coverage_flops, r.coverage_flops));
  if (!std::isnan(b.coverage_kernels) && r.coverage_kernels < b.coverage_kernels - 1e-9)
    fell.push_back(coverage_change("kernels", b.coverage_kernels, r.coverage_kernels));
  if (!fell.empty()) {
    std::string what = fmt::format("coverage fell: trained predictors score {}{}", fell[0],
                                   fell.size() > 1 ? " and " + fell[1] : std::string());
    const std::string named =
        kernels_named(r, [](const Estimate& e) { return e.source != Source::Trained; }, true);
    if (!named.empty()) what += "; not by a trained predictor: " + named;
    if (result.predictor_changed)
      mc.findings.push_back(
          {"predictor", what + " (under the predictor change, not by the model" + also_model + ")", false});
    else
      mc.findings.push_back({"coverage", what + accepted, !o.accept_baseline});
  }
}

}  // namespace

CheckResult run_check(const std::vector<CheckModel>& models, const Predictor& predictor, const CheckOptions& o,
                      const Baseline* baseline, const Budgets& budgets) {
  CheckResult result;
  result.predictor = predictor.entry().name;
  result.version = predictor.entry().version;
  result.device = predictor.entry().device;
  result.purpose = o.purpose;
  result.max_increase = o.max_increase.text;
  result.min_coverage = o.min_coverage.text;
  result.budget_source = budgets.source;
  for (size_t i = 0; i < models.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (models[i].key == models[j].key)
        throw Error(fmt::format("{} and {} both go by {}: the baseline and the budgets name models by their path "
                                "under --modelpath; give their common folder as --modelpath",
                                models[j].file, models[i].file, models[i].key));
  if (baseline) {
    result.baseline_file = baseline->file;
    result.baseline_predictor = baseline->predictor;
    result.baseline_version = baseline->version;
    result.predictor_changed = !same_predictor_name(baseline->predictor, result.predictor) ||
                               (!baseline->version.empty() && compare_versions(baseline->version, result.version) != 0);
    if (result.predictor_changed)
      result.notes.push_back(fmt::format(
          "the baseline was predicted by {} {}, this check by {} {}: changes between them reflect the predictor, "
          "not the models, and are reported without failing; --update-baseline accepts them",
          baseline->predictor, baseline->version.empty() ? "(no version)" : baseline->version, result.predictor,
          result.version));
  }
  PredictOptions popt;
  popt.purpose = o.purpose;
  popt.use_fallback = o.use_fallback;
  std::vector<int> matched;  // model -> baseline entry, -1 none
  std::vector<bool> used(baseline ? baseline->models.size() : 0, false);
  for (const auto& m : models) {
    int index = baseline ? baseline_index(*baseline, m) : -1;
    if (index >= 0) {
      if (used[index])
        throw Error(fmt::format("{}: {} matches two models; give --modelpath the folder the baseline was made from",
                                baseline->file, baseline->models[index].model));
      used[index] = true;
    }
    matched.push_back(index);
  }

  for (size_t i = 0; i < models.size(); ++i) {
    const CheckModel& m = models[i];
    ModelCheck mc;
    mc.key = m.key;
    mc.file = m.file;
    ModelReport r;
    std::string error;  // why the model has no number, without its name (the row names it)
    try {
      r = predict_model(m.file, predictor, o.load, popt);
      error = r.error;
    } catch (const Error& e) {
      r = ModelReport();
      r.model = m.file;
      r.error = e.what();
      error = e.file() == m.file ? e.detail() : e.what();
    }
    if (r.error.empty()) {
      mc.now = value_of(r, o.purpose);
      mc.coverage_flops_now = r.coverage_flops;
      mc.coverage_kernels_now = r.coverage_kernels;
    } else {
      mc.findings.push_back({"error", error, true});
    }
    int index = matched[i];
    if (baseline && index < 0 && r.error.empty()) {
      // A model new by name whose structure is that of exactly one model not matched: renamed (the
      // first such new model takes it).
      int candidate = -1, candidates = 0;
      for (size_t j = 0; j < baseline->models.size(); ++j)
        if (!used[j] && same_structure(baseline->models[j], r)) candidate = static_cast<int>(j), ++candidates;
      if (candidates == 1) {
        index = candidate;
        used[index] = true;
        mc.findings.push_back({"renamed",
                               fmt::format("not in the baseline by this name; it has the MACs, FLOPs, params and "
                                           "kernels of {}, which is gone: compared with it as renamed",
                                           baseline->models[index].model),
                               false});
      }
    }
    if (baseline && index < 0)
      mc.findings.push_back({"new", fmt::format("new since the baseline {}", baseline->file), false});
    if (index >= 0) {
      mc.baseline_model = baseline->models[index].model;
      compare(mc, baseline->models[index], r, result, o);
    }
    if (r.error.empty()) {
      for (const auto& [name, value] : budgets.per_model)
        if (names_key(name, m.key) || name == m.file) {
          mc.budget = value;
          mc.budget_from = name;
          break;
        }
      if (std::isnan(mc.budget) && !std::isnan(budgets.default_value)) {
        mc.budget = budgets.default_value;
        mc.budget_from = budgets.source.rfind("--budget", 0) == 0 ? "--budget" : "default";
      }
      if (!std::isnan(mc.budget) && !std::isnan(mc.now) && mc.now > mc.budget * (1 + 1e-12))
        mc.findings.push_back({"budget",
                               fmt::format("{} {} is over its budget {} ({}{})", purpose_name(o.purpose),
                                           quantity_text(mc.now, o.purpose), quantity_text(mc.budget, o.purpose),
                                           budgets.source, mc.budget_from == "--budget" ? "" : ": " + mc.budget_from),
                               true});
      const std::string short_of = coverage_shortfall(r, o.min_coverage);
      if (!short_of.empty()) mc.findings.push_back({"min-coverage", short_of, true});
    }
    // The verdict: an error, else a failing finding, else new, else ok.
    bool fails = false;
    for (const auto& f : mc.findings) fails = fails || f.fails;
    mc.verdict = !r.error.empty() ? Verdict::Error
                 : fails          ? Verdict::Failed
                 : baseline && index < 0 ? Verdict::New
                                         : Verdict::Ok;
    // A new baseline needs no kernels; a folder of thousands of models need not hold them all.
    std::vector<Kernel>().swap(r.kernels);
    std::vector<Estimate>().swap(r.estimates);
    result.reports.push_back(std::move(r));
    result.models.push_back(std::move(mc));
  }
  if (baseline)
    for (size_t j = 0; j < baseline->models.size(); ++j) {
      if (used[j]) continue;
      const BaselineModel& b = baseline->models[j];
      ModelCheck mc;
      mc.key = fs::path(b.model).filename().generic_string();
      mc.baseline_model = b.model;
      mc.baseline = b.value;
      mc.coverage_flops_baseline = b.coverage_flops;
      mc.coverage_kernels_baseline = b.coverage_kernels;
      mc.verdict = Verdict::Gone;
      mc.findings.push_back({"gone", fmt::format("in the baseline {}, not among the models checked", baseline->file),
                             false});
      result.models.push_back(std::move(mc));
    }
  for (const auto& [name, value] : budgets.per_model) {
    (void)value;
    bool any = false;
    for (const auto& m : models) any = any || names_key(name, m.key) || name == m.file;
    if (!any)
      result.notes.push_back(
          fmt::format("{}: the budget for {} matches no model checked (a typo, or a model gone?)", budgets.source, name));
  }
  return result;
}

}  // namespace deepen
