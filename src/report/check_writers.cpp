// The writers of `deepen check` results (deepen/check.h): a table for people, JSON for scripts,
// JUnit XML for CI systems, which render it as a test report.
#include <deepen/check.h>
#include <deepen/writers.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>

namespace deepen {
namespace {

using nlohmann::ordered_json;

ordered_json number_or_null(double v) { return std::isfinite(v) ? ordered_json(v) : ordered_json(nullptr); }
ordered_json text_or_null(const std::string& s) { return s.empty() ? ordered_json(nullptr) : ordered_json(s); }

std::string change_text(const ModelCheck& m) {
  const double share = m.relative_change();
  if (std::isnan(share)) return "-";
  if (std::isinf(share)) return share > 0 ? "+inf%" : "-inf%";
  return fmt::format("{:+.1f}%", share * 100);
}

// "fail: increase, budget", "ok: renamed", "ok: accepted", "new", "gone", "error".
std::string verdict_text(const ModelCheck& m) {
  std::string kinds;
  if (m.verdict == Verdict::Failed || m.verdict == Verdict::Ok)
    for (const auto& f : m.findings) {
      // What holds only because --update-baseline accepts it reads "accepted".
      const bool accepted = !f.fails && (f.kind == "increase" || f.kind == "coverage");
      const std::string kind = accepted ? "accepted" : f.kind;
      const bool shown = m.verdict == Verdict::Failed ? f.fails : accepted || f.kind == "renamed" || f.kind == "predictor";
      if (shown && kinds.find(kind) == std::string::npos) kinds += (kinds.empty() ? "" : ", ") + kind;
    }
  std::string text = std::string(verdict_name(m.verdict)) + (kinds.empty() ? "" : ": " + kinds);
  // A failing model that is new, or renamed, says so too (its verdict is fail).
  if (m.verdict == Verdict::Failed)
    for (const auto& f : m.findings)
      if (f.kind == "new" || f.kind == "renamed") text += " (" + f.kind + ")";
  return text;
}

// What the check came to, in one line: "check holds: 9 model(s) checked (7 ok, 2 new); 1 gone".
std::string summary(const CheckResult& r) {
  std::string counts;
  for (Verdict v : {Verdict::Ok, Verdict::Failed, Verdict::New, Verdict::Error})
    if (size_t n = r.count(v)) counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", n, verdict_name(v));
  const size_t gone = r.count(Verdict::Gone);
  return fmt::format("{}: {} model(s) checked{}{}", r.holds() ? "check holds" : "check FAILED",
                     r.models.size() - gone, counts.empty() ? "" : " (" + counts + ")",
                     gone ? fmt::format("; {} gone since the baseline", gone) : std::string());
}

// Appends code point cp as UTF-8.
void put_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

std::string xml_escape(const std::string& text) {
  constexpr uint32_t kReplacement = 0xFFFD;
  std::string out;
  out.reserve(text.size());
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  for (size_t i = 0; i < n;) {
    // Decode one UTF-8 sequence; a broken one is one replacement character per byte.
    uint32_t cp = s[i];
    size_t len = 1;
    if (cp >= 0x80) {
      uint32_t min = 0;
      if (cp >= 0xC2 && cp <= 0xDF) len = 2, cp &= 0x1F, min = 0x80;
      else if (cp >= 0xE0 && cp <= 0xEF) len = 3, cp &= 0x0F, min = 0x800;
      else if (cp >= 0xF0 && cp <= 0xF4) len = 4, cp &= 0x07, min = 0x10000;
      else len = 0;
      bool ok = len > 0 && i + len <= n;
      for (size_t k = 1; ok && k < len; ++k) {
        ok = (s[i + k] & 0xC0) == 0x80;
        cp = (cp << 6) | (s[i + k] & 0x3F);
      }
      ok = ok && cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
      if (!ok) cp = kReplacement, len = 1;
    }
    i += len;
    switch (cp) {
      case '&': out += "&amp;"; continue;
      case '<': out += "&lt;"; continue;
      case '>': out += "&gt;"; continue;
      case '"': out += "&quot;"; continue;
      case '\'': out += "&apos;"; continue;
      case '\n': out += "&#10;"; continue;  // kept in attributes too, which would fold them to spaces
      case '\r': out += "&#13;"; continue;
      case '\t': out += "&#9;"; continue;
      default: break;
    }
    // XML 1.0 holds no other control characters, nor U+FFFE and U+FFFF, not even as references.
    if (cp < 0x20 || cp == 0xFFFE || cp == 0xFFFF) cp = kReplacement;
    put_utf8(out, cp);
  }
  return out;
}

void write_check_table(std::ostream& out, const CheckResult& r) {
  const std::string unit = purpose_unit(r.purpose);
  // As deepen predict's table: the predictor first, then what it is checked against.
  out << fmt::format("predictor {} {} ({})\n", r.predictor, r.version, r.device);
  std::vector<std::string> against;
  if (!r.baseline_file.empty())
    against.push_back(fmt::format("baseline {} ({} {}), --max-increase {}", r.baseline_file, r.baseline_predictor,
                                  r.baseline_version, r.max_increase));
  if (!r.budget_source.empty()) against.push_back("budgets " + r.budget_source);
  if (!r.min_coverage.empty()) against.push_back("--min-coverage " + r.min_coverage);
  std::string bounds;
  for (const auto& a : against) bounds += (bounds.empty() ? "" : "; ") + a;
  out << fmt::format("check {} ({}){}{}\n", purpose_name(r.purpose), unit, bounds.empty() ? "" : " against ", bounds);
  size_t width = 5;
  for (const auto& m : r.models) width = std::max(width, m.key.size());
  width = std::min<size_t>(width, 60);
  const std::string row = "{:<{}}  {:>10}  {:>10}  {:>8}  {:>10}  {}\n";
  out << fmt::format(row, "model", width, "baseline", "now", "change", "budget", "verdict");
  for (const auto& m : r.models)
    out << fmt::format(row, m.key, width, format_number(m.baseline), format_number(m.now), change_text(m),
                       format_number(m.budget), verdict_text(m));
  for (const auto& m : r.models)
    for (const auto& f : m.findings) {
      if (f.kind == "new" || f.kind == "gone") continue;  // the verdict says it all
      out << fmt::format("  {}: {}{}\n", m.key, f.fails ? "" : "(reported) ", f.message);
    }
  for (const auto& n : r.notes) out << "note: " << n << "\n";
  out << summary(r) << "\n";
  bool against_baseline = false;  // a failure that --update-baseline would accept
  for (const auto& m : r.models)
    for (const auto& f : m.findings)
      against_baseline = against_baseline || (f.fails && (f.kind == "increase" || f.kind == "coverage"));
  if (against_baseline)
    out << "a change meant to be: accept it with --update-baseline (rewrites the baseline; budgets still hold)\n";
}

void write_check_json(std::ostream& out, const CheckResult& r) {
  ordered_json root;
  root["deepen_version"] = DEEPEN_VERSION;
  root["predictor"] = {{"name", r.predictor}, {"version", r.version}, {"device", r.device}};
  root["purpose"] = purpose_name(r.purpose);
  root["unit"] = purpose_unit(r.purpose);
  if (r.baseline_file.empty()) root["baseline"] = nullptr;
  else
    root["baseline"] = {{"file", r.baseline_file},
                        {"predictor", {{"name", r.baseline_predictor}, {"version", r.baseline_version}}},
                        {"predictor_changed", r.predictor_changed}};
  root["max_increase"] = r.baseline_file.empty() ? ordered_json(nullptr) : ordered_json(r.max_increase);
  root["min_coverage"] = text_or_null(r.min_coverage);
  root["budgets"] = text_or_null(r.budget_source);
  root["holds"] = r.holds();
  ordered_json counts = {{"checked", r.models.size() - r.count(Verdict::Gone)}};
  for (Verdict v : {Verdict::Ok, Verdict::Failed, Verdict::New, Verdict::Gone, Verdict::Error})
    counts[verdict_name(v)] = r.count(v);
  root["counts"] = counts;
  root["notes"] = r.notes;
  ordered_json models = ordered_json::array();
  for (const auto& m : r.models) {
    ordered_json j;
    j["model"] = m.key;
    j["file"] = text_or_null(m.file);
    j["baseline_model"] = text_or_null(m.baseline_model);
    j["verdict"] = verdict_name(m.verdict);
    j["baseline"] = number_or_null(m.baseline);
    j["now"] = number_or_null(m.now);
    j["change"] = number_or_null(m.change());
    j["relative_change"] = number_or_null(m.relative_change());
    j["budget"] = number_or_null(m.budget);
    j["budget_from"] = text_or_null(m.budget_from);
    j["coverage"] = {
        {"flops", {{"baseline", number_or_null(m.coverage_flops_baseline)}, {"now", number_or_null(m.coverage_flops_now)}}},
        {"kernels",
         {{"baseline", number_or_null(m.coverage_kernels_baseline)}, {"now", number_or_null(m.coverage_kernels_now)}}}};
    ordered_json findings = ordered_json::array();
    for (const auto& f : m.findings)
      findings.push_back({{"kind", f.kind}, {"fails", f.fails}, {"message", f.message}});
    j["findings"] = findings;
    models.push_back(std::move(j));
  }
  root["models"] = models;
  out << root.dump(2) << "\n";
}

void write_check_junit(std::ostream& out, const CheckResult& r) {
  const std::string unit = purpose_unit(r.purpose);
  const size_t tests = r.models.size(), failures = r.count(Verdict::Failed), errors = r.count(Verdict::Error),
               skipped = r.count(Verdict::Gone);
  const std::string suite = xml_escape(fmt::format("deepen check {} ({} {})", purpose_name(r.purpose), r.predictor,
                                                   r.version));
  const std::string counts = fmt::format("tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\"", tests, failures,
                                         errors, skipped);
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << fmt::format("<testsuites name=\"deepen check\" {}>\n", counts);
  out << fmt::format("  <testsuite name=\"{}\" {}>\n", suite, counts);
  out << "    <properties>\n";
  auto property = [&](const std::string& name, const std::string& value) {
    out << fmt::format("      <property name=\"{}\" value=\"{}\"/>\n", xml_escape(name), xml_escape(value));
  };
  property("predictor", r.predictor + " " + r.version);
  property("purpose", purpose_name(r.purpose));
  if (!r.baseline_file.empty()) {
    property("baseline", r.baseline_file);
    property("baseline_predictor", r.baseline_predictor + " " + r.baseline_version);
    property("max_increase", r.max_increase);
  }
  if (!r.budget_source.empty()) property("budgets", r.budget_source);
  if (!r.min_coverage.empty()) property("min_coverage", r.min_coverage);
  for (size_t i = 0; i < r.notes.size(); ++i) property(fmt::format("note{}", i + 1), r.notes[i]);
  out << "    </properties>\n";
  const std::string classname = xml_escape("deepen.check." + purpose_name(r.purpose));
  for (const auto& m : r.models) {
    out << fmt::format("    <testcase classname=\"{}\" name=\"{}\"", classname, xml_escape(m.key));
    if (!m.file.empty()) out << fmt::format(" file=\"{}\"", xml_escape(m.file));
    out << ">\n";
    std::string failing, kinds, reported;
    for (const auto& f : m.findings) {
      if (f.fails) {
        failing += (failing.empty() ? "" : "\n") + f.message;
        if (kinds.find(f.kind) == std::string::npos) kinds += (kinds.empty() ? "" : ",") + f.kind;
      } else {
        reported += (reported.empty() ? "" : "\n") + f.message;
      }
    }
    if (m.verdict == Verdict::Error)
      out << fmt::format("      <error type=\"error\" message=\"{}\">{}</error>\n", xml_escape(failing),
                         xml_escape(failing));
    else if (m.verdict == Verdict::Failed)
      out << fmt::format("      <failure type=\"{}\" message=\"{}\">{}</failure>\n", xml_escape(kinds),
                         xml_escape(failing), xml_escape(failing));
    else if (m.verdict == Verdict::Gone)
      out << fmt::format("      <skipped message=\"{}\"/>\n", xml_escape(reported));
    std::string numbers = fmt::format("{}: now {}, baseline {}, change {}, budget {} ({})", purpose_name(r.purpose),
                                      format_number(m.now), format_number(m.baseline), change_text(m),
                                      format_number(m.budget), unit);
    if (!reported.empty() && m.verdict != Verdict::Gone) numbers += "\n" + reported;
    out << fmt::format("      <system-out>{}</system-out>\n", xml_escape(numbers));
    out << "    </testcase>\n";
  }
  out << "  </testsuite>\n</testsuites>\n";
}

const OutputFormats<CheckResult>& check_formats() {
  static const OutputFormats<CheckResult> formats = {
      {"table", write_check_table},
      {"json", write_check_json},
  };
  return formats;
}

}  // namespace deepen
