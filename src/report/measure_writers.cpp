// The table, JSON and CSV output of `deepen measure` (documented in docs/measure.md).
#include <deepen/csv.h>
#include <deepen/measure.h>
#include <deepen/writers.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace deepen {
namespace {

std::string num(double v) { return std::isfinite(v) ? fmt::format("{:.4g}", v) : "-"; }
std::string csv_num(double v) { return std::isfinite(v) ? fmt::format("{:.6g}", v) : ""; }
nlohmann::json json_num(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

}  // namespace

void write_measurements_table(std::ostream& out, const std::vector<Measurement>& ms) {
  bool energy = std::any_of(ms.begin(), ms.end(), [](const Measurement& m) { return m.power_source != "none"; });
  size_t width = 5;
  for (const auto& m : ms) width = std::max(width, m.model.size());
  out << fmt::format("{:<{}}  {:>4}  {:>10}  {:>9}  {:>9}  {:>9}  {:>9}", "model", width, "runs", "median_ms",
                     "min_ms", "p10_ms", "p90_ms", "max_ms");
  if (energy) out << fmt::format("  {:>10}  {:>9}  {:>9}", "energy_mj", "power_mw", "source");
  out << "\n";
  for (const auto& m : ms) {
    if (!m.error.empty()) {
      out << fmt::format("{:<{}}  failed: {}\n", m.model, width, m.error);
      continue;
    }
    const Spread& s = m.latency_ms;
    out << fmt::format("{:<{}}  {:>4}  {:>10}  {:>9}  {:>9}  {:>9}  {:>9}", m.model, width, s.n, num(s.median),
                       num(s.min), num(s.p10), num(s.p90), num(s.max));
    if (energy) out << fmt::format("  {:>10}  {:>9}  {:>9}", num(m.energy_mj), num(m.power_mw), m.power_source);
    out << "\n";
  }
  if (!ms.empty())
    out << fmt::format("backend {}, {} thread(s); latency: median and spread over the timed runs\n", ms[0].backend,
                       ms[0].threads);
}

void write_measurements_json(std::ostream& out, const std::vector<Measurement>& ms) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& m : ms) {
    nlohmann::json j;
    j["model"] = m.model;
    j["backend"] = m.backend;
    j["threads"] = m.threads;
    if (!m.error.empty()) {
      j["error"] = m.error;
      list.push_back(j);
      continue;
    }
    const Spread& s = m.latency_ms;
    j["runs"] = s.n;
    j["latency_ms"] = {{"median", json_num(s.median)}, {"min", json_num(s.min)}, {"p10", json_num(s.p10)},
                       {"p90", json_num(s.p90)},       {"max", json_num(s.max)}, {"mean", json_num(s.mean)}};
    j["power_source"] = m.power_source;
    if (m.power_source != "none") {
      j["energy_mj"] = json_num(m.energy_mj);
      j["power_mw"] = json_num(m.power_mw);
      const Spread& e = m.energy_per_run_mj;
      if (e.n > 0)
        j["energy_per_run_mj"] = {{"median", json_num(e.median)}, {"min", json_num(e.min)},
                                  {"p10", json_num(e.p10)},       {"p90", json_num(e.p90)},
                                  {"max", json_num(e.max)},       {"mean", json_num(e.mean)}};
    }
    list.push_back(j);
  }
  out << nlohmann::json{{"measurements", list}}.dump(2) << "\n";
}

void write_measurements_csv(std::ostream& out, const std::vector<Measurement>& ms) {
  out << csv_row({"model", "backend", "threads", "runs", "latency_ms", "latency_min_ms", "latency_p10_ms",
                  "latency_p90_ms", "latency_max_ms", "power_source", "energy_mj", "energy_p10_mj", "energy_p90_mj",
                  "power_mw", "error"});
  for (const auto& m : ms) {
    const Spread& s = m.latency_ms;
    const Spread& e = m.energy_per_run_mj;
    out << csv_row({m.model, m.backend, fmt::format("{}", m.threads), fmt::format("{}", s.n), csv_num(s.median),
                    csv_num(s.min), csv_num(s.p10), csv_num(s.p90), csv_num(s.max), m.power_source,
                    csv_num(m.energy_mj), csv_num(e.p10), csv_num(e.p90), csv_num(m.power_mw), m.error});
  }
}

const OutputFormats<std::vector<Measurement>>& measurement_formats() {
  static const OutputFormats<std::vector<Measurement>> formats = {
      {"table", write_measurements_table},
      {"json", write_measurements_json},
      {"csv", write_measurements_csv},
  };
  return formats;
}

}  // namespace deepen
