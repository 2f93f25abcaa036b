// The charts (src/report/plot*.cpp, deepen/plot.h): every format is a valid file of its kind (the
// PNG read back by cairo, the SVG by Python's XML parser), holds its words, and is the same bytes
// for the same chart; bad extensions, empty and unplottable data.
#include <deepen/error.h>
#include <deepen/plot.h>
#include <deepen/train.h>

#include <cairo/cairo.h>
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "test_util.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sys/wait.h>

using namespace deepen;
using deepen::test::TempDir;

namespace {

AccuracyPlot sample_plot() {
  AccuracyPlot p;
  p.title = "gen 1.0: energy predicted against measured";
  p.subtitle = {"held-out: 50.0% within ±10%, MAPE 27.50%, n = 2"};
  p.quantity = "energy";
  p.unit = "mJ";
  p.training_set_known = true;
  p.points = {{0.01, 0.0105, "trained", false}, {10, 15, "trained", false},   {1, 0.95, "trained", true},
              {2, 3, "fallback", false},        {0.2, NAN, "uncovered", false}};
  return p;
}

struct PngSize {
  uint32_t width = 0, height = 0;
};
// The size in the PNG's IHDR chunk, after checking the signature.
PngSize png_size(const std::string& png) {
  EXPECT_GE(png.size(), 33u);
  if (png.size() < 33) return {};
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(png.substr(12, 4), "IHDR");
  auto be32 = [&](size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(png[at + i]);
    return v;
  };
  return {be32(16), be32(20)};
}

struct PngReader {
  const std::string* data;
  size_t at = 0;
};
cairo_status_t read_png(void* closure, unsigned char* out, unsigned int length) {
  auto* r = static_cast<PngReader*>(closure);
  if (r->at + length > r->data->size()) return CAIRO_STATUS_READ_ERROR;
  std::copy_n(r->data->data() + r->at, length, out);
  r->at += length;
  return CAIRO_STATUS_SUCCESS;
}
// How many pixels of the PNG (decoded by cairo) are within `tolerance` of the colour.
size_t pixels_of_colour(const std::string& png, int r, int g, int b, int tolerance) {
  PngReader reader{&png};
  cairo_surface_t* s = cairo_image_surface_create_from_png_stream(read_png, &reader);
  EXPECT_EQ(cairo_surface_status(s), CAIRO_STATUS_SUCCESS);
  size_t n = 0;
  if (cairo_surface_status(s) == CAIRO_STATUS_SUCCESS) {
    const unsigned char* px = cairo_image_surface_get_data(s);
    const int stride = cairo_image_surface_get_stride(s);
    for (int y = 0; y < cairo_image_surface_get_height(s); ++y)
      for (int x = 0; x < cairo_image_surface_get_width(s); ++x) {
        uint32_t v;
        std::copy_n(px + y * stride + 4 * x, 4, reinterpret_cast<unsigned char*>(&v));  // native-endian xRGB
        const int pr = (v >> 16) & 0xFF, pg = (v >> 8) & 0xFF, pb = v & 0xFF;
        n += std::abs(pr - r) <= tolerance && std::abs(pg - g) <= tolerance && std::abs(pb - b) <= tolerance;
      }
  }
  cairo_surface_destroy(s);
  return n;
}

// Python's XML parser reads the file: "" when it parses (or there is no python3), its complaint
// otherwise.
std::string xml_parse_error(const std::string& path) {
  std::string cmd = "python3 -c 'import sys, xml.etree.ElementTree as ET; ET.parse(sys.argv[1])' " + path + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[512];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = pclose(p);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) return "";  // no python3: nothing to ask
  return status == 0 ? "" : out.empty() ? "python3 failed" : out;
}

bool has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

}  // namespace

TEST(PlotFormat, ChosenByTheExtensionInAnyCase) {
  EXPECT_EQ(plot_format_of("a.svg", "--plot"), PlotFormat::Svg);
  EXPECT_EQ(plot_format_of("dir/a.PNG", "--plot"), PlotFormat::Png);
  EXPECT_EQ(plot_format_of("a.b.Pdf", "--plot"), PlotFormat::Pdf);
  for (const char* bad : {"a.jpg", "a", "a.svg.txt", "dir.svg/a", "a."}) {
    try {
      plot_format_of(bad, "--chart");
      ADD_FAILURE() << bad << " was taken";
    } catch (const Error& e) {
      const std::string m = e.what();
      EXPECT_TRUE(has(m, "--chart ") && has(m, bad) && has(m, ".svg, .png or .pdf")) << m;
    }
  }
}

TEST(AccuracyPlot, SvgIsXmlWithItsWords) {
  AccuracyPlot p = sample_plot();
  p.title = "t <&> 1.0";
  const std::string svg = draw_accuracy_plot(p, PlotFormat::Svg);
  EXPECT_TRUE(has(svg, "<svg")) << svg.substr(0, 200);
  TempDir dir;
  const std::string path = dir.write("p.svg", svg);
  EXPECT_EQ(xml_parse_error(path), "");
  EXPECT_TRUE(has(svg, "<title>t &lt;&amp;&gt; 1.0</title>"));
  EXPECT_TRUE(has(svg, ">measured energy (mJ)</text>"));
  EXPECT_TRUE(has(svg, ">predicted energy (mJ)</text>"));
  EXPECT_TRUE(has(svg, ">held-out: 50.0% within ±10%, MAPE 27.50%, n = 2</text>"));
  EXPECT_TRUE(has(svg, ">within ±10%</text>"));  // the band's legend
  EXPECT_TRUE(has(svg, ">held-out, trained (2)</text>"));
  EXPECT_TRUE(has(svg, ">in-sample, trained (1)</text>"));
  EXPECT_TRUE(has(svg, ">held-out, fallback (1)</text>"));
  EXPECT_TRUE(has(svg, ">1 of 5 rows not drawn: no prediction, or a value not above 0 (log axes)</text>"));
  // Decade labels of an axis from 0.01 to 100.
  for (const char* tick : {">0.01</text>", ">0.1</text>", ">1</text>", ">10</text>", ">100</text>"})
    EXPECT_TRUE(has(svg, tick)) << tick;
  EXPECT_FALSE(has(svg, ">0.001</text>"));
  EXPECT_FALSE(has(svg, ">1000</text>"));
  EXPECT_TRUE(has(svg, "id=\"glyph")) << "the text is drawn, not only in the text layer";
  EXPECT_EQ(draw_accuracy_plot(p, PlotFormat::Svg), svg) << "the same chart gives the same SVG";
}

TEST(AccuracyPlot, PngShowsTheBandAndThePoints) {
  const std::string png = draw_accuracy_plot(sample_plot(), PlotFormat::Png);
  const PngSize size = png_size(png);
  EXPECT_GE(size.width, 1200u);
  EXPECT_GE(size.height, size.width);  // the square plot, and the title and legend
  // The band: green at 18% over white (some of it under the grid and the y = x line).
  EXPECT_GT(pixels_of_colour(png, 217, 238, 217, 3), 20000u);
  // The points' blue and orange, at half strength over white or over the band.
  EXPECT_GT(pixels_of_colour(png, 143, 186, 216, 12) + pixels_of_colour(png, 117, 182, 181, 12), 40u);
  EXPECT_GT(pixels_of_colour(png, 255, 192, 134, 12) + pixels_of_colour(png, 227, 189, 114, 12), 40u);
  EXPECT_GT(pixels_of_colour(png, 0, 0, 0, 40), 3000u);  // the frame, ticks and text
  EXPECT_EQ(draw_accuracy_plot(sample_plot(), PlotFormat::Png), png) << "PNG is byte-stable";
}

TEST(AccuracyPlot, PdfIsAPdfWithItsTitleAndNoDate) {
  const std::string pdf = draw_accuracy_plot(sample_plot(), PlotFormat::Pdf);
  EXPECT_EQ(pdf.rfind("%PDF-", 0), 0u);
  EXPECT_TRUE(has(pdf.substr(pdf.size() - 8), "%%EOF"));
  EXPECT_TRUE(has(pdf, "/Title"));
  EXPECT_FALSE(has(pdf, "/CreationDate"));
  EXPECT_EQ(draw_accuracy_plot(sample_plot(), PlotFormat::Pdf), pdf);
}

// No point, or none that log axes can hold: the plot is drawn, empty, and says why.
TEST(AccuracyPlot, EmptyAndUnplottablePointsDrawAnEmptyPlotThatSaysSo) {
  AccuracyPlot p = sample_plot();
  p.points.clear();
  std::string svg = draw_accuracy_plot(p, PlotFormat::Svg);
  EXPECT_TRUE(has(svg, ">no point to draw</text>"));
  EXPECT_FALSE(has(svg, "rows not drawn"));
  EXPECT_TRUE(has(svg, ">0.1</text>") && has(svg, ">10</text>"));  // the axes of no data
  p.points = {{0, 1, "trained", false}, {1, -2, "trained", false}, {INFINITY, 1, "trained", false},
              {1, NAN, "uncovered", false}};
  svg = draw_accuracy_plot(p, PlotFormat::Svg);
  EXPECT_TRUE(has(svg, ">no point to draw</text>"));
  EXPECT_TRUE(has(svg, ">4 of 4 rows not drawn"));
  EXPECT_EQ(png_size(draw_accuracy_plot(p, PlotFormat::Png)).width, png_size(draw_accuracy_plot(sample_plot(), PlotFormat::Png)).width);
  EXPECT_EQ(draw_accuracy_plot(p, PlotFormat::Pdf).rfind("%PDF-", 0), 0u);
}

// Labels are drawn by cairo, which stops at broken UTF-8: such bytes become U+FFFD.
TEST(AccuracyPlot, BrokenUtf8AndLongTitlesStillDraw) {
  AccuracyPlot p = sample_plot();
  p.title = "bad \xff\xfe name \x01 " + std::string(300, 'x');
  const std::string svg = draw_accuracy_plot(p, PlotFormat::Svg);
  EXPECT_TRUE(has(svg, "<title>bad \xEF\xBF\xBD\xEF\xBF\xBD name \xEF\xBF\xBD xxx"));
  TempDir dir;
  EXPECT_EQ(xml_parse_error(dir.write("p.svg", svg)), "");
  EXPECT_GT(png_size(draw_accuracy_plot(p, PlotFormat::Png)).width, 0u);
}

TEST(AccuracyPlot, ManyDecadesLabelEveryOtherOneAndFewLabel2And5) {
  AccuracyPlot p = sample_plot();
  p.points = {{1e-6, 1e-6, "trained", false}, {1e5, 1e5, "trained", false}};
  std::string svg = draw_accuracy_plot(p, PlotFormat::Svg);
  for (const char* tick : {">1e-6</text>", ">0.0001</text>", ">1</text>", ">10000</text>"})
    EXPECT_TRUE(has(svg, tick)) << tick;
  for (const char* tick : {">1e-5</text>", ">0.001</text>", ">100000</text>"}) EXPECT_FALSE(has(svg, tick)) << tick;
  p.points = {{3, 3.1, "trained", false}, {40, 38, "trained", false}};  // 1 .. 100
  svg = draw_accuracy_plot(p, PlotFormat::Svg);
  for (const char* tick : {">1</text>", ">2</text>", ">5</text>", ">10</text>", ">20</text>", ">50</text>", ">100</text>"})
    EXPECT_TRUE(has(svg, tick)) << tick;
  EXPECT_FALSE(has(svg, ">3</text>"));
}

// eval's plot: the predictor, version and purpose in the title, the accuracy below it.
TEST(EvalPlot, TitleNamesPredictorAndAccuracy) {
  PredictorEntry entry;
  entry.name = "gen";
  entry.version = "2.1";
  // Within ±10%: the first only; MAPE (5% + 50%) / 2.
  EvalResult r = summarise_points({{"conv", 1, 1.05, "trained", false}, {"conv", 2, 3, "trained", false}});
  r.training_set_known = true;
  AccuracyPlot p = eval_plot(r, entry, Purpose::Latency, "kernels of k.csv");
  EXPECT_EQ(p.title, "gen 2.1: latency predicted against measured");
  ASSERT_EQ(p.subtitle.size(), 2u);
  EXPECT_EQ(p.subtitle[0], "held-out (every row): 50.0% within ±10%, MAPE 27.50%, n = 2");
  EXPECT_EQ(p.subtitle[1], "kernels of k.csv");
  EXPECT_EQ(p.quantity, "latency");
  EXPECT_EQ(p.unit, "ms");
  EXPECT_EQ(p.points.size(), 2u);

  r = summarise_points({{"conv", 1, 1.05, "trained", false}, {"conv", 2, 2.1, "trained", true},
                        {"conv", 4, 1, "fallback", true}});
  r.training_set_known = true;
  p = eval_plot(r, entry, Purpose::Energy, "models of m.csv");
  ASSERT_EQ(p.subtitle.size(), 3u);
  EXPECT_EQ(p.subtitle[0], "held-out: 100.0% within ±10%, MAPE 5.00%, n = 1");
  EXPECT_EQ(p.subtitle[1], "in-sample (trained on): 50.0% within ±10%, MAPE 40.00%, n = 2");
  const std::string svg = draw_accuracy_plot(p, PlotFormat::Svg);
  EXPECT_TRUE(has(svg, ">in-sample, fallback (1)</text>"));

  r = summarise_points({{"conv", 1, NAN, "uncovered", false}});
  p = eval_plot(r, entry, Purpose::Energy, "kernels of k.csv");
  EXPECT_EQ(p.subtitle[0], "all rows (no training set recorded): no row scored (1 uncovered)");
  r = summarise_points({{"conv", 1, 1, "trained", true}});
  r.training_set_known = true;
  p = eval_plot(r, entry, Purpose::Energy, "kernels of k.csv");
  EXPECT_EQ(p.subtitle[0], "held-out: no row");
  EXPECT_EQ(p.subtitle[1], "in-sample (trained on): 100.0% within ±10%, MAPE 0.00%, n = 1");
}

namespace {

CheckResult sample_check(size_t extra_models = 0) {
  CheckResult r;
  r.predictor = "stub";
  r.version = "2.0";
  r.purpose = Purpose::Energy;
  r.baseline_file = "base.json";
  r.baseline_predictor = "stub";
  r.baseline_version = "1.0";
  r.max_increase = "5%";
  r.budget_source = "--budget 30mJ";
  ModelCheck ok;
  ok.key = "a/mobilenet.onnx";
  ok.baseline = 2;
  ok.now = 2.02;
  ok.budget = 30;
  ModelCheck failed;
  failed.key = "resnet.onnx";
  failed.baseline = 20;
  failed.now = 25;
  failed.budget = 30;
  failed.verdict = Verdict::Failed;
  failed.findings = {{"increase", "energy rose +25.0%", true}};
  ModelCheck fresh;
  fresh.key = "new.onnx";
  fresh.now = 40;
  fresh.budget = 30;
  fresh.verdict = Verdict::Failed;
  fresh.findings = {{"new", "not in the baseline", false}, {"budget", "over budget", true}};
  ModelCheck gone;
  gone.key = "old.onnx";
  gone.baseline = 0.5;
  gone.verdict = Verdict::Gone;
  ModelCheck broken;
  broken.key = "broken.onnx";
  broken.verdict = Verdict::Error;
  r.models = {ok, failed, fresh, broken};
  for (size_t i = 0; i < extra_models; ++i) {
    ModelCheck m = ok;
    m.key = fmt::format("extra/model_{}.onnx", i);
    r.models.push_back(m);
  }
  r.models.push_back(gone);
  return r;
}

}  // namespace

TEST(CheckChart, SvgNamesEveryModelAndWhatFails) {
  const CheckResult r = sample_check();
  const std::string svg = draw_check_chart(r, PlotFormat::Svg);
  TempDir dir;
  EXPECT_EQ(xml_parse_error(dir.write("c.svg", svg)), "");
  EXPECT_TRUE(has(svg, "<title>deepen check: energy (mJ) by stub 2.0</title>"));
  for (const char* key : {">a/mobilenet.onnx<", ">resnet.onnx<", ">new.onnx<", ">old.onnx<", ">broken.onnx<"})
    EXPECT_TRUE(has(svg, key)) << key;
  EXPECT_TRUE(has(svg, ">+1.0%</text>"));
  EXPECT_TRUE(has(svg, ">+25.0%, fails: increase</text>"));
  EXPECT_TRUE(has(svg, ">new, fails: budget</text>"));
  EXPECT_TRUE(has(svg, ">gone</text>"));
  EXPECT_TRUE(has(svg, ">error</text>"));
  EXPECT_TRUE(has(svg, ">check FAILED: 1 ok, 2 fail, 1 gone, 1 error</text>"));
  for (const char* legend : {">baseline</text>", ">now, holds</text>", ">now, fails the gate</text>", ">budget</text>"})
    EXPECT_TRUE(has(svg, legend)) << legend;
  EXPECT_TRUE(has(svg, ">energy (mJ)</text>"));
  EXPECT_TRUE(has(svg, ">1</text>") && has(svg, ">100</text>"));  // 0.5 .. 40 mJ: 0.1 .. 100
  EXPECT_EQ(draw_check_chart(r, PlotFormat::Svg), svg);
}

TEST(CheckChart, EveryFormatAndRowsForManyModels) {
  const std::string png = draw_check_chart(sample_check(), PlotFormat::Png);
  const PngSize few = png_size(png);
  EXPECT_GE(few.width, 1600u);
  EXPECT_GT(pixels_of_colour(png, 214, 26, 28, 10), 50u);  // red: the models failing the gate
  const PngSize more = png_size(draw_check_chart(sample_check(20), PlotFormat::Png));
  EXPECT_GT(more.height, few.height + 20 * 30u);  // a row each
  // Thousands of models: thinner rows, within what a PNG can hold.
  const PngSize many = png_size(draw_check_chart(sample_check(5000), PlotFormat::Png));
  EXPECT_GT(many.height, more.height);
  EXPECT_LT(many.height, 32767u);
  const std::string pdf = draw_check_chart(sample_check(), PlotFormat::Pdf);
  EXPECT_EQ(pdf.rfind("%PDF-", 0), 0u);
  EXPECT_EQ(draw_check_chart(sample_check(), PlotFormat::Png), png);

  CheckResult none;
  none.predictor = "stub";
  EXPECT_TRUE(has(draw_check_chart(none, PlotFormat::Svg), ">no model to draw</text>"));
}
