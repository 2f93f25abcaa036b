// The chart of `deepen eval --plot` (deepen/plot.h): predicted against measured on log-log axes,
// with y = x, the ±10% band, a marker per row and a legend.
#include "report/plot_canvas.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <tuple>

namespace deepen {
namespace {

using namespace plot;

// Shapes tell where a prediction came from; colours whether the predictor was trained on the row.
int source_rank(const std::string& source) {
  return source == "trained" ? 0 : source == "fallback" ? 1 : source == "partial" ? 2 : 3;
}
Marker marker_of(const std::string& source) {
  constexpr Marker kByRank[] = {Marker::Circle, Marker::Square, Marker::Triangle, Marker::Diamond};
  return kByRank[source_rank(source)];
}
Colour colour_of(bool in_sample) { return in_sample ? kOrange : kBlue; }

struct Series {
  bool in_sample;
  std::string source;
  size_t n;
};

struct LegendItem {
  enum Kind { Band, Line, Points } kind;
  std::string label;
  Marker shape = Marker::Circle;
  Colour colour = kBlack;
};

bool drawable(const AccuracyPoint& p) {
  return p.measured > 0 && p.predicted > 0 && std::isfinite(p.measured) && std::isfinite(p.predicted);
}

}  // namespace

std::string draw_accuracy_plot(const AccuracyPlot& plot, PlotFormat format) {
  std::vector<const AccuracyPoint*> drawn;
  std::vector<double> values;
  std::vector<Series> series;
  for (const auto& p : plot.points) {
    if (!drawable(p)) continue;
    drawn.push_back(&p);
    values.push_back(p.measured);
    values.push_back(p.predicted);
    auto s = std::find_if(series.begin(), series.end(),
                          [&](const Series& s) { return s.in_sample == p.in_sample && s.source == p.source; });
    if (s == series.end()) series.push_back({p.in_sample, p.source, 1});
    else ++s->n;
  }
  std::sort(series.begin(), series.end(), [](const Series& a, const Series& b) {
    return std::make_tuple(a.in_sample, source_rank(a.source), a.source) <
           std::make_tuple(b.in_sample, source_rank(b.source), b.source);
  });
  std::vector<std::string> subtitle = plot.subtitle;
  if (drawn.size() < plot.points.size())
    subtitle.push_back(fmt::format("{} of {} rows not drawn: no prediction, or a value not above 0 (log axes)",
                                   plot.points.size() - drawn.size(), plot.points.size()));

  Canvas c(format, plot.title);
  // Layout, in points: the title lines, the square plot, its axis labels, the legend rows.
  const double L = 84, R = 32, S = 600, W = L + S + R, edge = 16;
  const Canvas::Fitted title = c.fitted(plot.title, 15, W - 2 * edge, true);
  std::vector<Canvas::Fitted> lines;
  for (const auto& line : subtitle) lines.push_back(c.fitted(line, 12, W - 2 * edge));
  const double title_y = 28, T = title_y + 19 * subtitle.size() + 24;

  std::vector<LegendItem> items = {{LegendItem::Band, "within ±10%"}, {LegendItem::Line, "y = x"}};
  for (const auto& s : series) {
    std::string what = s.source;
    if (plot.training_set_known) what = (s.in_sample ? "in-sample, " : "held-out, ") + what;
    items.push_back({LegendItem::Points, fmt::format("{} ({})", what, s.n), marker_of(s.source), colour_of(s.in_sample)});
  }
  const double legend_size = 11, icon = 16, gap = 22;
  std::vector<std::vector<std::pair<double, const LegendItem*>>> legend_rows(1);  // x of each item, by row
  double next_x = L;
  for (const auto& item : items) {
    const double w = icon + 6 + c.text_width(item.label, legend_size);
    if (next_x > L && next_x + w > W - edge) {
      legend_rows.emplace_back();
      next_x = L;
    }
    legend_rows.back().push_back({next_x, &item});
    next_x += w + gap;
  }
  const double legend_y = T + S + 66, row_h = 18;
  const double H = legend_y + row_h * (legend_rows.size() - 1) + 16;
  c.page(W, H);
  cairo_t* cr = c.cr();

  c.text(title.text, W / 2, title_y, title.size, Align::Centre, kBlack, true);
  for (size_t i = 0; i < lines.size(); ++i) c.text(lines[i].text, W / 2, title_y + 19 * (i + 1), lines[i].size, Align::Centre);

  const LogAxis axis = LogAxis::covering(values);
  auto px = [&](double v) { return axis.place(v, L, L + S); };
  auto py = [&](double v) { return axis.place(v, T + S, T); };
  const std::vector<LogAxis::Tick> ticks = axis.ticks();

  cairo_save(cr);
  cairo_rectangle(cr, L, T, S, S);
  cairo_clip(cr);
  for (const auto& t : ticks)
    if (t.decade || !t.label.empty()) {
      const Colour grid = t.decade ? kGrid : Colour{0.93, 0.93, 0.93};
      c.line(px(t.value), T, px(t.value), T + S, grid, 0.8);
      c.line(L, py(t.value), L + S, py(t.value), grid, 0.8);
    }
  // The band: between y = 1.1x and y = 0.9x, straight lines on log-log axes.
  const double a = std::pow(10.0, axis.lo), b = std::pow(10.0, axis.hi);
  cairo_move_to(cr, px(a), py(a * 1.1));
  cairo_line_to(cr, px(b), py(b * 1.1));
  cairo_line_to(cr, px(b), py(b * 0.9));
  cairo_line_to(cr, px(a), py(a * 0.9));
  cairo_close_path(cr);
  c.colour(kGreen, 0.18);
  cairo_fill(cr);
  c.line(px(a), py(a), px(b), py(b), kGreen, 1.2);
  // Held-out rows over in-sample ones: they are the figures to judge the predictor by.
  for (bool in_sample : {true, false})
    for (const AccuracyPoint* p : drawn)
      if (p->in_sample == in_sample)
        c.marker(marker_of(p->source), px(p->measured), py(p->predicted), 3.2, colour_of(in_sample), 0.5,
                 colour_of(in_sample));
  cairo_restore(cr);

  cairo_rectangle(cr, L, T, S, S);
  c.colour(kBlack);
  cairo_set_line_width(cr, 1);
  cairo_stroke(cr);
  for (const auto& t : ticks) {
    const double len = t.decade ? 6 : 3;
    c.line(px(t.value), T + S, px(t.value), T + S + len, kBlack, 1);
    c.line(L - len, py(t.value), L, py(t.value), kBlack, 1);
    if (t.label.empty()) continue;
    c.text(t.label, px(t.value), T + S + 19, 11, Align::Centre);
    c.text(t.label, L - 9, py(t.value) + 4, 11, Align::Right);
  }
  c.text(fmt::format("measured {} ({})", plot.quantity, plot.unit), L + S / 2, T + S + 42, 13, Align::Centre);
  c.text(fmt::format("predicted {} ({})", plot.quantity, plot.unit), 24, T + S / 2, 13, Align::Centre, kBlack, false,
         true);
  if (drawn.empty()) {
    c.text("no point to draw", L + S / 2, T + S / 2 - 8, 15, Align::Centre, kGrey, true);
    c.text("no row has a prediction and a measured value above 0", L + S / 2, T + S / 2 + 14, 12, Align::Centre, kGrey);
  }

  for (size_t r = 0; r < legend_rows.size(); ++r) {
    const double y = legend_y + r * row_h;
    for (const auto& [x, item] : legend_rows[r]) {
      switch (item->kind) {
        case LegendItem::Band:
          cairo_rectangle(cr, x, y - 9, icon, 10);
          c.colour(kGreen, 0.18);
          cairo_fill(cr);
          break;
        case LegendItem::Line:
          c.line(x, y - 4, x + icon, y - 4, kGreen, 1.2);
          break;
        case LegendItem::Points:
          c.marker(item->shape, x + icon / 2, y - 4, 3.2, item->colour, 0.5, item->colour);
          break;
      }
      c.text(item->label, x + icon + 6, y, legend_size, Align::Left);
    }
  }
  return c.finish();
}

}  // namespace deepen
