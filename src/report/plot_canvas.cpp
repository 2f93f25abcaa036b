// The drawing surface of deepen's charts (plot_canvas.h), and plot_format_of.
#include "report/plot_canvas.h"

#include <deepen/check.h>
#include <deepen/error.h>

#include <cairo/cairo-pdf.h>
#include <cairo/cairo-svg.h>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace deepen {

PlotFormat plot_format_of(const std::string& path, const std::string& flag) {
  const auto dot = path.rfind('.');
  const auto slash = path.find_last_of("/\\");
  std::string ext = dot == std::string::npos || (slash != std::string::npos && dot < slash) ? "" : path.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == "svg") return PlotFormat::Svg;
  if (ext == "png") return PlotFormat::Png;
  if (ext == "pdf") return PlotFormat::Pdf;
  throw Error(fmt::format("{} {}: the file must end in .svg, .png or .pdf, which chooses the format{}", flag, path,
                          ext.empty() ? "" : fmt::format(" (.{} is none of them)", ext)));
}

namespace plot {
namespace {

constexpr double kPi = 3.14159265358979323846;

cairo_status_t append_bytes(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

// `text` as cairo takes it, valid UTF-8: a byte that begins no valid sequence, and a control
// character, becomes U+FFFD (cairo refuses broken UTF-8 and would stop drawing).
std::string displayable(const std::string& text) {
  std::string out;
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  for (size_t i = 0; i < n;) {
    size_t len = s[i] < 0x80 ? 1 : s[i] >= 0xC2 && s[i] <= 0xDF ? 2 : s[i] >= 0xE0 && s[i] <= 0xEF ? 3
                                 : s[i] >= 0xF0 && s[i] <= 0xF4 ? 4 : 0;
    bool ok = len > 0 && i + len <= n;
    for (size_t k = 1; ok && k < len; ++k) ok = (s[i + k] & 0xC0) == 0x80;
    // Overlong forms, surrogates and code points past U+10FFFF, by their second byte.
    if (ok && len == 3) ok = !(s[i] == 0xE0 && s[i + 1] < 0xA0) && !(s[i] == 0xED && s[i + 1] >= 0xA0);
    if (ok && len == 4) ok = !(s[i] == 0xF0 && s[i + 1] < 0x90) && !(s[i] == 0xF4 && s[i + 1] >= 0x90);
    if (ok && len == 1 && (s[i] < 0x20 || s[i] == 0x7F)) ok = false;
    if (ok) {
      out.append(text, i, len);
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

// Text advances as the font designs them, not rounded to the device's pixels: text measures the
// same on every surface and at every scale, so a layout measured once holds in every format.
void set_font_options(cairo_t* cr) {
  cairo_font_options_t* options = cairo_font_options_create();
  cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF);
  cairo_set_font_options(cr, options);
  cairo_font_options_destroy(options);
}

}  // namespace

Canvas::Canvas(PlotFormat format, const std::string& title) : format_(format), title_(displayable(title)) {
  // Until page(): a context to measure text on.
  surface_ = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
  cr_ = cairo_create(surface_);
  set_font_options(cr_);
}

void Canvas::page(double width, double height) {
  cairo_destroy(cr_);
  cairo_surface_destroy(surface_);
  switch (format_) {
    case PlotFormat::Png:
      surface_ = cairo_image_surface_create(CAIRO_FORMAT_RGB24, static_cast<int>(std::ceil(width * kPngScale)),
                                            static_cast<int>(std::ceil(height * kPngScale)));
      break;
    case PlotFormat::Svg:
      surface_ = cairo_svg_surface_create_for_stream(append_bytes, &bytes_, width, height);
      cairo_svg_surface_set_document_unit(surface_, CAIRO_SVG_UNIT_PX);
      break;
    case PlotFormat::Pdf:
      surface_ = cairo_pdf_surface_create_for_stream(append_bytes, &bytes_, width, height);
      cairo_pdf_surface_set_metadata(surface_, CAIRO_PDF_METADATA_TITLE, title_.c_str());
      cairo_pdf_surface_set_metadata(surface_, CAIRO_PDF_METADATA_CREATOR, "deepen " DEEPEN_VERSION);
      // No creation date (cairo writes the time by default): the same chart gives the same file.
      cairo_pdf_surface_set_metadata(surface_, CAIRO_PDF_METADATA_CREATE_DATE, "");
      break;
  }
  cr_ = cairo_create(surface_);
  set_font_options(cr_);
  if (format_ == PlotFormat::Png) cairo_scale(cr_, kPngScale, kPngScale);
  cairo_set_source_rgb(cr_, 1, 1, 1);
  cairo_paint(cr_);
  cairo_set_line_join(cr_, CAIRO_LINE_JOIN_ROUND);
}

Canvas::~Canvas() {
  if (cr_) cairo_destroy(cr_);
  if (surface_) cairo_surface_destroy(surface_);
}

void Canvas::colour(Colour c, double alpha) const { cairo_set_source_rgba(cr_, c.r, c.g, c.b, alpha); }

void Canvas::line(double x0, double y0, double x1, double y1, Colour c, double width) const {
  colour(c);
  cairo_set_line_width(cr_, width);
  cairo_move_to(cr_, x0, y0);
  cairo_line_to(cr_, x1, y1);
  cairo_stroke(cr_);
}

void Canvas::marker(Marker shape, double x, double y, double r, Colour fill, double alpha, Colour edge) const {
  switch (shape) {
    case Marker::Circle:
      cairo_new_sub_path(cr_);
      cairo_arc(cr_, x, y, r, 0, 2 * kPi);
      break;
    case Marker::Square:
      cairo_rectangle(cr_, x - 0.85 * r, y - 0.85 * r, 1.7 * r, 1.7 * r);
      break;
    case Marker::Triangle:
      cairo_move_to(cr_, x, y - 1.15 * r);
      cairo_line_to(cr_, x + r, y + 0.7 * r);
      cairo_line_to(cr_, x - r, y + 0.7 * r);
      cairo_close_path(cr_);
      break;
    case Marker::Diamond:
      cairo_move_to(cr_, x, y - 1.2 * r);
      cairo_line_to(cr_, x + r, y);
      cairo_line_to(cr_, x, y + 1.2 * r);
      cairo_line_to(cr_, x - r, y);
      cairo_close_path(cr_);
      break;
  }
  if (alpha > 0) {
    colour(fill, alpha);
    cairo_fill_preserve(cr_);
  }
  colour(edge);
  cairo_set_line_width(cr_, 1);
  cairo_stroke(cr_);
}

void Canvas::font(double size, bool bold) const {
  cairo_select_font_face(cr_, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr_, size);
}

double Canvas::text_width(const std::string& text, double size, bool bold) const {
  font(size, bold);
  cairo_text_extents_t e;
  cairo_text_extents(cr_, displayable(text).c_str(), &e);
  return e.x_advance;
}

void Canvas::text(const std::string& text, double x, double y, double size, Align align, Colour c, bool bold,
                  bool vertical) {
  if (text.empty()) return;
  const std::string shown = displayable(text);
  const double w = text_width(shown, size, bold);
  const double shift = align == Align::Left ? 0 : align == Align::Centre ? w / 2 : w;
  cairo_save(cr_);
  cairo_translate(cr_, x, y);
  if (vertical) cairo_rotate(cr_, -kPi / 2);
  cairo_move_to(cr_, -shift, 0);
  colour(c);
  cairo_show_text(cr_, shown.c_str());
  cairo_new_path(cr_);
  cairo_restore(cr_);
  texts_.push_back({shown, x, y, size, align, bold, vertical});
}

double Canvas::fitting_size(const std::string& text, double size, double width, bool bold, double min_size) const {
  while (size > min_size && text_width(text, size, bold) > width) size = std::max(min_size, size - 0.5);
  return size;
}

std::string Canvas::shortened(const std::string& text, double size, double width, bool bold) const {
  std::string rest = displayable(text);
  if (text_width(rest, size, bold) <= width) return rest;
  while (!rest.empty()) {
    size_t cut = 1;  // one whole character off the start
    while (cut < rest.size() && (static_cast<unsigned char>(rest[cut]) & 0xC0) == 0x80) ++cut;
    rest.erase(0, cut);
    if (text_width("…" + rest, size, bold) <= width) break;
  }
  return "…" + rest;
}

Canvas::Fitted Canvas::fitted(const std::string& text, double size, double width, bool bold, double min_size) const {
  size = fitting_size(text, size, width, bold, min_size);
  return {shortened(text, size, width, bold), size};
}

std::string Canvas::svg_with_text(std::string svg) const {
  // cairo numbers its surfaces across the process ("surface7"): one name, so equal charts are equal files.
  const std::string group = "<g id=\"surface";
  const auto at = svg.find(group);
  if (at != std::string::npos) {
    const auto end = svg.find('"', at + group.size());
    if (end != std::string::npos) svg.replace(at + group.size(), end - at - group.size(), "1");
  }
  const auto open = svg.find("<svg");
  const auto open_end = open == std::string::npos ? open : svg.find('>', open);
  const auto close = svg.rfind("</svg>");
  if (open_end == std::string::npos || close == std::string::npos || close < open_end)
    throw Error("drawing the chart: cairo wrote an SVG without its <svg> element");
  std::string layer = "<g fill=\"black\" fill-opacity=\"0\" font-family=\"DejaVu Sans, sans-serif\">\n";
  for (const Text& t : texts_) {
    const char* anchor = t.align == Align::Left ? "start" : t.align == Align::Centre ? "middle" : "end";
    layer += fmt::format("<text x=\"{:.2f}\" y=\"{:.2f}\" font-size=\"{:.1f}\" text-anchor=\"{}\"{}{}>{}</text>\n", t.x,
                         t.y, t.size, anchor, t.bold ? " font-weight=\"bold\"" : "",
                         t.vertical ? fmt::format(" transform=\"rotate(-90 {:.2f} {:.2f})\"", t.x, t.y) : "",
                         xml_escape(t.text));
  }
  layer += "</g>\n";
  svg.insert(close, layer);
  svg.insert(open_end + 1, "\n<title>" + xml_escape(title_) + "</title>");
  return svg;
}

std::string Canvas::finish() {
  const cairo_status_t drawn = cairo_status(cr_);
  cairo_destroy(cr_);
  cr_ = nullptr;
  if (drawn != CAIRO_STATUS_SUCCESS)
    throw Error(fmt::format("drawing the chart failed: {}", cairo_status_to_string(drawn)));
  if (format_ == PlotFormat::Png) {
    cairo_surface_flush(surface_);
    const cairo_status_t written = cairo_surface_write_to_png_stream(surface_, append_bytes, &bytes_);
    if (written != CAIRO_STATUS_SUCCESS)
      throw Error(fmt::format("writing the chart as PNG failed: {}", cairo_status_to_string(written)));
  } else {
    cairo_surface_finish(surface_);
  }
  const cairo_status_t status = cairo_surface_status(surface_);
  cairo_surface_destroy(surface_);
  surface_ = nullptr;
  if (status != CAIRO_STATUS_SUCCESS)
    throw Error(fmt::format("writing the chart failed: {}", cairo_status_to_string(status)));
  return format_ == PlotFormat::Svg ? svg_with_text(std::move(bytes_)) : std::move(bytes_);
}

LogAxis LogAxis::covering(const std::vector<double>& values) {
  double lo = INFINITY, hi = -INFINITY;
  for (double v : values) {
    if (!(v > 0) || !std::isfinite(v)) continue;
    lo = std::min(lo, std::log10(v));
    hi = std::max(hi, std::log10(v));
  }
  if (!std::isfinite(lo)) return {};
  // A value that is a decade within rounding (log10(0.001) is not exactly -3) ends the axis there.
  lo = std::floor(lo + 1e-9);
  hi = std::ceil(hi - 1e-9);
  if (hi <= lo) hi = lo + 1;
  return {lo, hi};
}

double LogAxis::place(double v, double from, double to) const {
  return from + (std::log10(v) - lo) / (hi - lo) * (to - from);
}

std::vector<LogAxis::Tick> LogAxis::ticks() const {
  std::vector<Tick> out;
  const int first = static_cast<int>(lo), last = static_cast<int>(hi);
  const bool every_other = last - first > 8, with_2_5 = last - first <= 2;
  for (int d = first; d <= last; ++d) {
    const double decade = std::pow(10.0, d);
    const bool labelled = !every_other || (d - first) % 2 == 0;
    out.push_back({decade, labelled ? number_label(decade) : "", true});
    if (d == last) break;
    for (int m = 2; m <= 9; ++m)
      out.push_back({m * decade, with_2_5 && (m == 2 || m == 5) ? number_label(m * decade) : "", false});
  }
  return out;
}

std::string number_label(double v) {
  if (v >= 1e-4 && v < 1e6) return fmt::format("{:g}", v);
  const int e = static_cast<int>(std::floor(std::log10(v) + 1e-9));
  return fmt::format("{:g}e{}", std::round(v / std::pow(10.0, e) * 1000) / 1000, e);
}

}  // namespace plot
}  // namespace deepen
