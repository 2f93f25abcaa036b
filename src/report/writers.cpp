// deepen predict: the table (for people), JSON and CSV (for scripts) writers of models' reports.
// The JSON and CSV layouts are documented in docs/output-formats.md and kept stable.
#include <deepen/csv.h>
#include <deepen/report.h>
#include <deepen/writers.h>

#include "report/json_counts.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace deepen {
namespace {

using nlohmann::ordered_json;

ordered_json number_or_null(double v) { return std::isnan(v) ? ordered_json(nullptr) : ordered_json(v); }


std::string config_text(const KernelConfig& c) {
  std::string s;
  for (const auto& [k, v] : c.fields) s += fmt::format("{}{}={}", s.empty() ? "" : " ", k, format_number(v));
  return s;
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string s;
  for (size_t i = 0; i < parts.size(); ++i) s += (i ? sep : "") + parts[i];
  return s;
}

std::string csv_number(double v) { return std::isnan(v) ? "" : fmt::format("{:.6g}", v); }

std::string percent(double share) { return format_share(share); }  // never 100% for less, never 0% for more

bool shows(const ReportContext& ctx, Purpose p) { return ctx.all_purposes || ctx.purpose == p; }

}  // namespace

std::string count_text(double v) {
  if (std::isnan(v)) return "";
  return integral_count(v) ? fmt::format("{}", static_cast<int64_t>(v)) : fmt::format("{:.6g}", v);
}

std::vector<Purpose> reported_purposes(const ReportContext& ctx) {
  std::vector<Purpose> out = {ctx.purpose};
  if (ctx.all_purposes)
    for (Purpose p : {Purpose::Latency, Purpose::Energy, Purpose::Power})
      if (p != ctx.purpose) out.push_back(p);
  return out;
}

double value_of(const ModelReport& r, Purpose p) {
  return p == Purpose::Latency ? r.latency_ms : p == Purpose::Power ? r.power_mw : r.energy_mj;
}

void write_table(std::ostream& out, const std::vector<ModelReport>& reports, const ReportContext& ctx) {
  const std::vector<Purpose> purposes = reported_purposes(ctx);
  auto head_of = [](Purpose p) { return fmt::format("{} ({})", purpose_name(p), purpose_unit(p)); };
  const std::string head = head_of(ctx.purpose);
  std::string also_heads;  // --all-purposes: the other purposes' columns after the asked one
  for (size_t i = 1; i < purposes.size(); ++i) also_heads += fmt::format("  {:>14}", head_of(purposes[i]));
  size_t name_width = 5;
  for (const auto& r : reports) name_width = std::max(name_width, r.model.size());
  name_width = std::min<size_t>(name_width, 60);
  out << fmt::format("predictor {} {} ({})\n", ctx.predictor, ctx.version, ctx.device);
  out << fmt::format("{:<{}}  {:>14}{}  {:>7}  {:>9}  {:>9}  {:>9}  {:>9}  {:>9}  {:>10}\n", "model", name_width, head,
                     also_heads, "kernels", "coverage", "flops cov", "fallback", "uncovered", "unc flops", "MFLOPs");
  for (const auto& r : reports) {
    if (!r.error.empty()) {
      out << fmt::format("{:<{}}  error: {}\n", r.model, name_width, r.error);
      continue;
    }
    double fallback_share = r.kernel_count ? static_cast<double>(r.fallback_count) / r.kernel_count : 0.0;
    std::string also;
    for (size_t i = 1; i < purposes.size(); ++i) also += fmt::format("  {:>14}", format_number(value_of(r, purposes[i])));
    out << fmt::format("{:<{}}  {:>14}{}  {:>7}  {:>9}  {:>9}  {:>9}  {:>9}  {:>9}  {:>10}\n", r.model, name_width,
                       format_number(value_of(r, ctx.purpose)), also, r.kernel_count, percent(r.coverage_kernels),
                       percent(r.coverage_flops), percent(fallback_share), percent(r.uncovered_kernels),
                       percent(r.uncovered_flops), format_number(r.flops / 1e6));
    if (r.extrapolated_count)
      out << fmt::format("  {} kernel(s) extrapolate beyond their predictor's training data ({} of the estimate){}\n",
                         r.extrapolated_count, percent(r.extrapolated_share),
                         ctx.per_kernel ? "" : "; --per-kernel says which and why");
    if (!ctx.per_kernel) continue;
    // One value and source column per purpose reported, the asked one first.
    std::string heads;
    for (Purpose p : purposes) heads += fmt::format(" {:>12}  {:<9}", head_of(p), "source");
    out << fmt::format("  {:>3}  {:<26}{}  {:<44}  {}\n", "#", "kernel", heads, "config", "nodes");
    for (size_t i = 0; i < r.kernels.size(); ++i) {
      const Kernel& k = r.kernels[i];
      const Estimate& e = r.estimates[i];
      std::string cells;
      for (Purpose p : purposes)
        cells += fmt::format(" {:>12}  {:<9}", format_number(e.value(p)), source_name(e.source_of(p)));
      out << fmt::format("  {:>3}  {:<26}{}  {:<44}  {}\n", i + 1, k.type, cells, config_text(k.config),
                         join(k.nodes, ", "));
      if (e.extrapolated) out << fmt::format("  {:>3}  extrapolated: {}\n", "", e.extrapolated_why);
    }
    if (r.uncovered_count)
      out << fmt::format("  {} kernel(s) uncovered: they add nothing to the total; see coverage\n",
                         r.uncovered_count);
    if (ctx.purpose != Purpose::Power) {
      bool latency = ctx.purpose == Purpose::Latency;
      double constant = latency ? r.latency_ms_per_inference : r.energy_mj_per_inference;
      double factor = latency ? r.latency_factor : r.energy_factor;
      if (constant > 0)
        out << fmt::format("  {:>3}  {:<26} {:>12}  learned from whole networks, once per inference\n", "+",
                           "per inference", format_number(constant));
      if (factor != 1)
        out << fmt::format("  kernels above include the model-level correction x{:.3f}\n", factor);
    }
  }
}

void write_json(std::ostream& out, const std::vector<ModelReport>& reports, const ReportContext& ctx) {
  ordered_json root;
  root["deepen_version"] = DEEPEN_VERSION;
  root["predictor"] = {{"name", ctx.predictor}, {"version", ctx.version}, {"device", ctx.device}};
  root["purpose"] = purpose_name(ctx.purpose);
  ordered_json models = ordered_json::array();
  for (const auto& r : reports) {
    ordered_json m;
    m["model"] = r.model;
    if (!r.error.empty()) {
      m["error"] = r.error;
      models.push_back(m);
      continue;
    }
    // The purposes reported, in a fixed order; the others are left out (--all-purposes).
    for (Purpose p : {Purpose::Latency, Purpose::Energy, Purpose::Power})
      if (shows(ctx, p)) m[purpose_field(p)] = number_or_null(value_of(r, p));
    if (shows(ctx, Purpose::Power) && r.power_envelope_known && !std::isnan(r.power_mw)) {
      m["power_outside_envelope"] = r.power_outside_envelope;
      m["power_outside_envelope_kernels"] = r.power_outside_kernels;
    }
    m["kernels"] = r.kernel_count;
    m["zero_cost_kernels"] = r.zero_cost_count;
    m["coverage"] = {{"kernels", r.coverage_kernels}, {"flops", r.coverage_flops}, {"trained", r.trained_count},
                     {"fallback", r.fallback_count}, {"uncovered", r.uncovered_count},
                     {"uncovered_kernels", r.uncovered_kernels}, {"uncovered_flops", r.uncovered_flops}};
    m["extrapolated_kernels"] = r.extrapolated_count;
    m["extrapolated_share"] = r.extrapolated_share;
    m["macs"] = count_json(r.macs);
    m["flops"] = count_json(r.flops);
    m["params"] = count_json(r.params);
    // Terms a predictor learned from whole networks: in the totals, in no kernel.
    if (r.latency_ms_per_inference > 0 || r.energy_mj_per_inference > 0)
      m["per_inference"] = {{"latency_ms", r.latency_ms_per_inference}, {"energy_mj", r.energy_mj_per_inference}};
    if (r.latency_factor != 1 || r.energy_factor != 1)
      m["model_correction"] = {{"latency", r.latency_factor}, {"energy", r.energy_factor}};
    if (ctx.per_kernel) {
      ordered_json list = ordered_json::array();
      for (size_t i = 0; i < r.kernels.size(); ++i) {
        const Kernel& k = r.kernels[i];
        const Estimate& e = r.estimates[i];
        ordered_json config = ordered_json::object();
        for (const auto& [key, v] : k.config.fields) config[key] = v;
        ordered_json item = {{"type", k.type},
                        {"nodes", k.nodes},
                        {"ops", k.ops},
                        {"config", config},
                        {"macs", count_json(k.macs)},
                        {"flops", count_json(k.flops)},
                        {"params", count_json(k.params)},
                        {"bytes", count_json(k.bytes)}};
        ordered_json sources = ordered_json::object();
        for (Purpose p : {Purpose::Latency, Purpose::Energy, Purpose::Power})
          if (shows(ctx, p)) {
            item[purpose_field(p)] = number_or_null(e.value(p));
            sources[purpose_name(p)] = source_name(e.source_of(p));
          }
        item["source"] = source_name(e.source);  // of the purpose asked
        item["sources"] = sources;
        item["scored_as"] = e.scored_as;
        item["extrapolated"] = e.extrapolated;
        if (e.extrapolated) item["extrapolated_why"] = e.extrapolated_why;
        if (shows(ctx, Purpose::Power) && r.power_envelope_known && !std::isnan(e.power_mw))
          item["power_outside_envelope"] = e.power_outside_envelope;
        list.push_back(std::move(item));
      }
      m["kernel_list"] = list;
    }
    models.push_back(m);
  }
  root["models"] = models;
  out << root.dump(2) << "\n";
}

void write_csv(std::ostream& out, const std::vector<ModelReport>& reports, const ReportContext& ctx) {
  if (!ctx.per_kernel) {
    // New columns go after error, so that scripts reading columns by position keep working.
    out << csv_row({"model", "latency_ms", "energy_mj", "power_mw", "kernels", "coverage_kernels", "coverage_flops",
                    "flops", "params", "error", "extrapolated_share", "uncovered_kernels", "uncovered_flops"});
    for (const auto& r : reports) {
      if (!r.error.empty()) {
        out << csv_row({r.model, "", "", "", "", "", "", "", "", r.error, "", "", ""});
        continue;
      }
      auto shown = [&](Purpose p) { return csv_number(shows(ctx, p) ? value_of(r, p) : NAN); };
      out << csv_row({r.model, shown(Purpose::Latency), shown(Purpose::Energy), shown(Purpose::Power),
                      std::to_string(r.kernel_count), format_share_decimal(r.coverage_kernels),
                      format_share_decimal(r.coverage_flops), count_text(r.flops), count_text(r.params), "",
                      format_share_decimal(r.extrapolated_share), format_share_decimal(r.uncovered_kernels),
                      format_share_decimal(r.uncovered_flops)});
    }
    return;
  }
  out << csv_row({"model", "index", "type", "config", "nodes", "flops", "params", "latency_ms", "energy_mj",
                  "power_mw", "source", "extrapolated", "extrapolated_why", "latency_source", "energy_source",
                  "power_source"});
  for (const auto& r : reports) {
    if (!r.error.empty()) continue;
    for (size_t i = 0; i < r.kernels.size(); ++i) {
      const Kernel& k = r.kernels[i];
      const Estimate& e = r.estimates[i];
      // A purpose not reported leaves its value and source cells empty.
      auto value = [&](Purpose p) { return csv_number(shows(ctx, p) ? e.value(p) : NAN); };
      auto source = [&](Purpose p) { return shows(ctx, p) ? std::string(source_name(e.source_of(p))) : std::string(); };
      out << csv_row({r.model, std::to_string(i + 1), k.type, config_text(k.config), join(k.nodes, " "),
                      count_text(k.flops), count_text(k.params), value(Purpose::Latency), value(Purpose::Energy),
                      value(Purpose::Power), source_name(e.source), e.extrapolated ? "true" : "false",
                      e.extrapolated_why, source(Purpose::Latency), source(Purpose::Energy), source(Purpose::Power)});
    }
  }
}

const OutputFormats<PredictOutput>& predict_formats() {
  static const OutputFormats<PredictOutput> formats = {
      {"table", [](std::ostream& out, const PredictOutput& o) { write_table(out, o.reports, o.context); }},
      {"json", [](std::ostream& out, const PredictOutput& o) { write_json(out, o.reports, o.context); }},
      {"csv", [](std::ostream& out, const PredictOutput& o) { write_csv(out, o.reports, o.context); }},
  };
  return formats;
}

}  // namespace deepen
