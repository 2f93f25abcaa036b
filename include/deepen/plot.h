// deepen/plot.h: the charts deepen draws, as SVG, PNG or PDF. One drawing code (cairo) serves
// every format, chosen by the file's extension; a chart comes back as the file's bytes, for
// write_file_atomically. The same chart gives the same bytes (no dates, no ids that vary).
//
//   PlotFormat format = plot_format_of("accuracy.png", "--plot");  // Error for accuracy.jpg
//   AccuracyPlot p;
//   p.title = "cortexA76cpu_tflite 1.1: energy per kernel";
//   p.quantity = "energy";
//   p.unit = "mJ";
//   p.points = {{0.5, 0.52, "trained", false}};
//   write_file_atomically("accuracy.png", draw_accuracy_plot(p, format));
//
// Text in an SVG is drawn as glyph outlines (as cairo writes it); every string is also written as
// invisible <text> over its drawing, so the chart's words can be searched, selected and read by
// tools, and the title is the SVG's <title> (and the PDF's Title).
#pragma once

#include <deepen/check.h>

#include <string>
#include <vector>

namespace deepen {

enum class PlotFormat { Svg, Png, Pdf };
// The format of a chart file by its extension, in any letter case: .svg, .png or .pdf. Throws
// Error naming `flag`, the file and the extensions taken for any other.
PlotFormat plot_format_of(const std::string& path, const std::string& flag);

// ---- Predicted against measured ---------------------------------------------------------------

struct AccuracyPoint {
  double measured = 0, predicted = 0;
  std::string source;      // trained, fallback or partial: the marker's shape
  bool in_sample = false;  // the predictor was trained on it: the marker's colour
};

// Log-log axes over whole decades, the y = x line, the ±10% band shaded, a point per row and a
// legend of what the markers mean. Points whose values are not both positive and finite cannot
// sit on log axes: they are left out, and the plot says how many. With no point left it is still
// drawn, empty, saying so.
struct AccuracyPlot {
  std::string title;                  // first line, e.g. "cortexA76cpu_tflite 1.1: energy per kernel"
  std::vector<std::string> subtitle;  // the lines below it, e.g. the accuracy
  std::string quantity, unit;         // "energy", "mJ": the axes read "measured energy (mJ)"
  // The predictor records its training set: colours tell held-out from in-sample rows.
  bool training_set_known = false;
  std::vector<AccuracyPoint> points;
};
std::string draw_accuracy_plot(const AccuracyPlot& plot, PlotFormat format);

// ---- deepen check ----------------------------------------------------------------------------

// A row per model in the result's order, on one logarithmic axis of the purpose's unit: the
// baseline (hollow), now (filled; red when the model fails the gate), a line between them, its
// budget as a mark, and the change with what fails on the right.
std::string draw_check_chart(const CheckResult& result, PlotFormat format);

}  // namespace deepen
