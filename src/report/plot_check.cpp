// The chart of `deepen check --chart` (deepen/plot.h): per model, its baseline and its value now
// on one logarithmic axis, its budget, and what changed.
#include "report/plot_canvas.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace deepen {
namespace {

using namespace plot;

bool positive(double v) { return v > 0 && std::isfinite(v); }

Colour colour_of(Verdict v) { return v == Verdict::Failed || v == Verdict::Error ? kRed : kBlue; }

// The right-hand column: the change, and what fails the gate. "+12.3%, fails: increase, budget"
std::string outcome(const ModelCheck& m, const std::string& unit) {
  std::string fails;
  for (const auto& f : m.findings)
    if (f.fails && fails.find(f.kind) == std::string::npos) fails += (fails.empty() ? "" : ", ") + f.kind;
  std::string change;
  const double share = m.relative_change();
  if (std::isinf(share)) change = share > 0 ? "+inf%" : "-inf%";
  else if (!std::isnan(share)) change = fmt::format("{:+.1f}%", share * 100);
  else if (m.verdict == Verdict::New || m.verdict == Verdict::Gone || m.verdict == Verdict::Error)
    change = verdict_name(m.verdict);
  else if (m.verdict == Verdict::Failed && std::isnan(m.baseline))
    change = "new";
  else if (std::isfinite(m.now))  // no baseline to compare with: the value itself
    change = fmt::format("{:.4g} {}", m.now, unit);
  if (m.verdict == Verdict::Error) return change;
  if (fails.empty()) return change;
  return change.empty() ? "fails: " + fails : change + ", fails: " + fails;
}

}  // namespace

std::string draw_check_chart(const CheckResult& r, PlotFormat format) {
  const std::string unit = purpose_unit(r.purpose);
  const std::string title = fmt::format("deepen check: {} ({}) by {} {}", purpose_name(r.purpose), unit, r.predictor,
                                        r.version);
  std::vector<std::string> subtitle;
  {
    std::string against = r.baseline_file.empty()
                              ? "no baseline"
                              : fmt::format("baseline {} ({} {}), max increase {}", r.baseline_file,
                                            r.baseline_predictor, r.baseline_version, r.max_increase);
    if (!r.budget_source.empty()) against += "; budgets: " + r.budget_source;
    if (!r.min_coverage.empty()) against += "; min coverage " + r.min_coverage;
    subtitle.push_back(against);
    std::string counts;
    for (Verdict v : {Verdict::Ok, Verdict::Failed, Verdict::New, Verdict::Gone, Verdict::Error})
      if (size_t n = r.count(v)) counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", n, verdict_name(v));
    subtitle.push_back(fmt::format("{}: {}", r.holds() ? "check holds" : "check FAILED",
                                   counts.empty() ? "no model" : counts));
  }

  Canvas c(format, title);
  // One row per model; many models get thinner rows, so that the chart stays within what a PNG
  // can hold (32767 pixels).
  const size_t n = r.models.size();
  const double row_h = n == 0 ? 22 : std::min(22.0, 12000.0 / static_cast<double>(n));
  const double key_size = std::min(11.0, row_h * 0.55), edge = 16;
  const bool labelled = key_size >= 5;
  double key_w = 60, outcome_w = 40;
  std::vector<std::string> outcomes;
  for (const auto& m : r.models) {
    outcomes.push_back(outcome(m, unit));
    if (!labelled) continue;
    key_w = std::max(key_w, c.text_width(m.key, key_size));
    outcome_w = std::max(outcome_w, c.text_width(outcomes.back(), key_size));
  }
  key_w = std::min(key_w, 280.0);
  outcome_w = std::min(outcome_w, 360.0);
  const double L = edge + 8 + key_w + 12, R = outcome_w + 12 + 8 + edge;
  const double W = std::max(800.0, L + 360 + R);
  const Canvas::Fitted title_line = c.fitted(title, 15, W - 2 * edge, true);
  std::vector<Canvas::Fitted> lines;
  for (const auto& line : subtitle) lines.push_back(c.fitted(line, 12, W - 2 * edge));
  const double title_y = 28, legend_y = title_y + 19 * subtitle.size() + 24;
  const double T = legend_y + 34, rows_h = row_h * std::max<size_t>(n, 1);
  const double H = T + rows_h + 56;
  c.page(W, H);
  cairo_t* cr = c.cr();

  c.text(title_line.text, W / 2, title_y, title_line.size, Align::Centre, kBlack, true);
  for (size_t i = 0; i < lines.size(); ++i)
    c.text(lines[i].text, W / 2, title_y + 19 * (i + 1), lines[i].size, Align::Centre,
           i + 1 == lines.size() && !r.holds() ? kRed : kBlack, i + 1 == lines.size());

  // The legend: only what the chart shows.
  bool any_budget = false, any_baseline = false, any_failed = false;
  for (const auto& m : r.models) {
    any_budget = any_budget || positive(m.budget);
    any_baseline = any_baseline || positive(m.baseline);
    any_failed = any_failed || m.verdict == Verdict::Failed;
  }
  double lx = L;
  auto legend = [&](const std::string& label, auto&& icon) {
    icon(lx + 6, legend_y - 4);
    c.text(label, lx + 16, legend_y, 11, Align::Left);
    lx += 16 + c.text_width(label, 11) + 22;
  };
  if (any_baseline)
    legend("baseline", [&](double x, double y) { c.marker(Marker::Circle, x, y, 4.5, kBlack, 0, kGrey); });
  legend("now, holds", [&](double x, double y) { c.marker(Marker::Circle, x, y, 4.5, kBlue, 1, kBlue); });
  if (any_failed)
    legend("now, fails the gate", [&](double x, double y) { c.marker(Marker::Circle, x, y, 4.5, kRed, 1, kRed); });
  if (any_budget) legend("budget", [&](double x, double y) { c.line(x, y - 7, x, y + 7, kBlack, 2); });

  std::vector<double> values;
  for (const auto& m : r.models) values.insert(values.end(), {m.baseline, m.now, m.budget});
  const LogAxis axis = LogAxis::covering(values);
  const double x0 = L, x1 = W - R;
  auto px = [&](double v) { return axis.place(v, x0, x1); };

  for (size_t i = 0; i < n; i += 2) {  // stripes, so that a row's key leads the eye to its dots
    cairo_rectangle(cr, edge, T + i * row_h, W - 2 * edge, row_h);
    c.colour({0.96, 0.96, 0.96});
    cairo_fill(cr);
  }
  const std::vector<LogAxis::Tick> ticks = axis.ticks();
  for (const auto& t : ticks) {
    if (t.decade || !t.label.empty()) c.line(px(t.value), T, px(t.value), T + rows_h, kGrid, 0.8);
    const double len = t.decade ? 6 : 3;
    c.line(px(t.value), T - len, px(t.value), T, kBlack, 1);
    c.line(px(t.value), T + rows_h, px(t.value), T + rows_h + len, kBlack, 1);
    if (t.label.empty()) continue;
    c.text(t.label, px(t.value), T - 9, 11, Align::Centre);
    c.text(t.label, px(t.value), T + rows_h + 19, 11, Align::Centre);
  }
  c.line(x0, T, x1, T, kBlack, 1);
  c.line(x0, T + rows_h, x1, T + rows_h, kBlack, 1);
  c.text(fmt::format("{} ({})", purpose_name(r.purpose), unit), (x0 + x1) / 2, T + rows_h + 42, 13, Align::Centre);
  if (n == 0) c.text("no model to draw", (x0 + x1) / 2, T + rows_h / 2 + 4, 12, Align::Centre, kGrey);

  const double radius = std::min(4.5, row_h * 0.3);
  for (size_t i = 0; i < n; ++i) {
    const ModelCheck& m = r.models[i];
    const double y = T + (i + 0.5) * row_h;
    const Colour colour = colour_of(m.verdict);
    if (labelled) {
      const Colour key_colour = m.verdict == Verdict::Gone ? kGrey : m.verdict == Verdict::Ok ? kBlack : colour;
      c.text(c.shortened(m.key, key_size, key_w), L - 12, y + key_size * 0.35, key_size, Align::Right, key_colour);
      c.text(outcomes[i], x1 + 12, y + key_size * 0.35, key_size, Align::Left,
             m.verdict == Verdict::Failed || m.verdict == Verdict::Error ? kRed : kGrey);
    }
    if (positive(m.baseline) && positive(m.now)) c.line(px(m.baseline), y, px(m.now), y, {0.7, 0.7, 0.7}, 2);
    if (positive(m.budget)) c.line(px(m.budget), y - row_h * 0.35, px(m.budget), y + row_h * 0.35, kBlack, 2);
    // The baseline's ring over the dot: both show when nothing changed.
    if (positive(m.now)) c.marker(Marker::Circle, px(m.now), y, radius, colour, 1, colour);
    if (positive(m.baseline)) c.marker(Marker::Circle, px(m.baseline), y, radius + 1, kBlack, 0, kGrey);
  }
  return c.finish();
}

}  // namespace deepen
