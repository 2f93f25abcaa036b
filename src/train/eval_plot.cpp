// What `deepen eval --plot` draws: the evaluation's rows, titled with the predictor and its
// accuracy (drawn by deepen/plot.h).
#include <deepen/train.h>

#include <fmt/format.h>

#include <algorithm>

namespace deepen {
namespace {

// "85.0% within ±10%, MAPE 5.21%, n = 120"; or that there is no row, or none was scored.
std::string accuracy_text(const EvalResult& r, const std::string& group) {
  auto g = std::find_if(r.groups.begin(), r.groups.end(), [&](const EvalGroup& g) { return g.name == group; });
  if (g == r.groups.end() || (g->metrics.n == 0 && g->uncovered == 0)) return "no row";
  if (g->metrics.n == 0) return fmt::format("no row scored ({} uncovered)", g->uncovered);
  const Metrics& m = g->metrics;
  return fmt::format("{:.1f}% within ±10%, MAPE {:.2f}%, n = {}", 100 * m.acc10, m.mape, m.n);
}

}  // namespace

AccuracyPlot eval_plot(const EvalResult& result, const PredictorEntry& predictor, Purpose purpose,
                       const std::string& data) {
  AccuracyPlot plot;
  plot.title = fmt::format("{} {}: {} predicted against measured", predictor.name, predictor.version,
                           purpose_name(purpose));
  if (result.in_sample > 0) {
    plot.subtitle.push_back("held-out: " + accuracy_text(result, "all (held-out)"));
    plot.subtitle.push_back("in-sample (trained on): " + accuracy_text(result, "all (in-sample)"));
  } else if (result.training_set_known) {
    plot.subtitle.push_back("held-out (every row): " + accuracy_text(result, "all"));
  } else {
    plot.subtitle.push_back("all rows (no training set recorded): " + accuracy_text(result, "all"));
  }
  plot.subtitle.push_back(data);
  plot.quantity = purpose_name(purpose);
  plot.unit = purpose_unit(purpose);
  plot.training_set_known = result.training_set_known;
  for (const auto& p : result.points) plot.points.push_back({p.measured, p.predicted, p.source, p.in_sample});
  return plot;
}

}  // namespace deepen
