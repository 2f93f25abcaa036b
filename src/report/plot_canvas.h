// What deepen's charts (deepen/plot.h) are drawn with: a cairo context on an SVG, PNG or PDF
// surface kept in memory, text that is measured before it is placed, the markers, and a
// logarithmic axis over whole decades. Sizes are in points; a PNG has kPngScale pixels a point.
#pragma once

#include <deepen/plot.h>

#include <cairo/cairo.h>

#include <string>
#include <vector>

namespace deepen::plot {

constexpr double kPngScale = 2;  // sharp on today's screens, and still legible when shrunk

struct Colour {
  double r, g, b;
};
constexpr Colour kBlack{0, 0, 0};
constexpr Colour kGrey{0.45, 0.45, 0.45};
constexpr Colour kGrid{0.86, 0.86, 0.86};
constexpr Colour kBlue{0.12, 0.47, 0.71};    // held-out rows; models that hold
constexpr Colour kOrange{1.0, 0.5, 0.05};    // in-sample rows
constexpr Colour kGreen{0.17, 0.63, 0.17};   // y = x and the ±10% band
constexpr Colour kRed{0.84, 0.1, 0.11};      // models that fail the gate

enum class Align { Left, Centre, Right };
enum class Marker { Circle, Square, Triangle, Diamond };

class Canvas {
 public:
  // `title` becomes the SVG's <title> and the PDF's Title. Text can be measured at once, to lay
  // the chart out; drawing starts with page().
  Canvas(PlotFormat format, const std::string& title);
  ~Canvas();
  Canvas(const Canvas&) = delete;
  Canvas& operator=(const Canvas&) = delete;

  // Starts the chart: a white page of width x height points. Once only.
  void page(double width, double height);
  cairo_t* cr() const { return cr_; }
  void colour(Colour c, double alpha = 1) const;
  void line(double x0, double y0, double x1, double y1, Colour c, double width) const;
  // A marker of `radius` centred on (x, y): filled with `fill` at `alpha` (none when alpha is 0),
  // edged with `edge`.
  void marker(Marker shape, double x, double y, double radius, Colour fill, double alpha, Colour edge) const;

  // Text with its baseline at y, aligned on x; `vertical` reads upwards, x then being the
  // baseline and y the point aligned on. Bytes that are not UTF-8 are drawn as U+FFFD.
  void text(const std::string& text, double x, double y, double size, Align align, Colour c = kBlack,
            bool bold = false, bool vertical = false);
  double text_width(const std::string& text, double size, bool bold = false) const;
  // The largest size up to `size` (not below min_size) at which `text` fits in `width`.
  double fitting_size(const std::string& text, double size, double width, bool bold = false,
                      double min_size = 7) const;
  // `text`, its start replaced by "…" as far as needed to fit in `width` (a path keeps its tail).
  std::string shortened(const std::string& text, double size, double width, bool bold = false) const;
  // A line of text that fits `width`: smaller, down to min_size, then shortened.
  struct Fitted {
    std::string text;
    double size;
  };
  Fitted fitted(const std::string& text, double size, double width, bool bold = false, double min_size = 9) const;

  // The file's bytes. Throws Error when cairo could not draw or write the chart.
  std::string finish();

 private:
  struct Text {
    std::string text;
    double x, y, size;
    Align align;
    bool bold, vertical;
  };
  void font(double size, bool bold) const;
  std::string svg_with_text(std::string svg) const;

  PlotFormat format_;
  std::string title_;
  std::string bytes_;  // what the SVG and PDF surfaces have written so far
  cairo_surface_t* surface_ = nullptr;
  cairo_t* cr_ = nullptr;
  std::vector<Text> texts_;  // for the SVG's text layer
};

// A logarithmic axis over whole decades: 10^lo .. 10^hi.
struct LogAxis {
  double lo = -1, hi = 1;
  // The fewest whole decades (one at least) holding every value that is positive and finite;
  // 0.1 .. 10 when there is none.
  static LogAxis covering(const std::vector<double>& values);
  // Where v lies between the positions `from` (10^lo) and `to` (10^hi).
  double place(double v, double from, double to) const;
  struct Tick {
    double value;
    std::string label;  // empty: a minor tick
    bool decade;
  };
  // The decades, and 2..9 times each; labels at decades (every other one over more than eight
  // decades), and at 2 and 5 too over two decades or fewer.
  std::vector<Tick> ticks() const;
};

// 0.001, 0.5, 200, 1e-5, 2e6: a tick's value as short as it reads.
std::string number_label(double v);

}  // namespace deepen::plot
