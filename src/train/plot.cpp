// Predicted against measured on log-log axes, with the y = x line and the ±10% band: SVG with
// labelled axes, or PNG (the same drawing without text) for tools that do not show SVG.
#include <deepen/error.h>
#include <deepen/train.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

namespace deepen {
namespace {

struct Range {
  double lo, hi;  // decades: log10 of the axis ends
};

Range axis_range(const std::vector<EvalPoint>& points) {
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& p : points) {
    for (double v : {p.measured, p.predicted}) {
      if (!(v > 0) || !std::isfinite(v)) continue;
      lo = std::min(lo, std::log10(v));
      hi = std::max(hi, std::log10(v));
    }
  }
  if (!std::isfinite(lo)) return {-1, 1};
  lo = std::floor(lo);
  hi = std::ceil(hi);
  if (hi <= lo) hi = lo + 1;
  return {lo, hi};
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else if (c == '"') out += "&quot;";
    else out += c;
  }
  return out;
}

const char* colour(const std::string& source) {
  return source == "trained" ? "#1f77b4" : source == "fallback" ? "#ff7f0e" : "#7f7f7f";
}

}  // namespace

std::string plot_svg(const std::vector<EvalPoint>& points, const std::string& title, const std::string& unit) {
  const double W = 640, H = 640, L = 80, R = 20, T = 50, B = 70;
  Range r = axis_range(points);
  auto sx = [&](double v) { return L + (std::log10(v) - r.lo) / (r.hi - r.lo) * (W - L - R); };
  auto sy = [&](double v) { return H - B - (std::log10(v) - r.lo) / (r.hi - r.lo) * (H - T - B); };
  double a = std::pow(10.0, r.lo), b = std::pow(10.0, r.hi);
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      W, H);
  s += fmt::format("<text x=\"{}\" y=\"28\" text-anchor=\"middle\" font-size=\"15\">{}</text>\n", W / 2,
                   xml_escape(title));
  // ±10% band (between y = 1.1x and y = 0.9x) and y = x, clipped to the plot area.
  s += fmt::format("<clipPath id=\"area\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/></clipPath>\n", L, T,
                   W - L - R, H - T - B);
  s += fmt::format("<polygon clip-path=\"url(#area)\" points=\"{:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f} {:.1f},{:.1f}\" "
                   "fill=\"#2ca02c\" fill-opacity=\"0.15\" stroke=\"none\"/>\n",
                   sx(a), sy(a * 1.1), sx(b), sy(b * 1.1), sx(b), sy(b * 0.9), sx(a), sy(a * 0.9));
  s += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#2ca02c\"/>\n", sx(a),
                   sy(a), sx(b), sy(b));
  // Axes, decade ticks and grid.
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"black\"/>\n", L, T,
                   W - L - R, H - T - B);
  for (int d = static_cast<int>(r.lo); d <= static_cast<int>(r.hi); ++d) {
    double v = std::pow(10.0, d);
    std::string label = fmt::format("{:g}", v);
    s += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#ddd\"/>\n", sx(v), T, H - B);
    s += fmt::format("<line x1=\"{1}\" y1=\"{0:.1f}\" x2=\"{2}\" y2=\"{0:.1f}\" stroke=\"#ddd\"/>\n", sy(v), L, W - R);
    s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", sx(v), H - B + 18, label);
    s += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", L - 6, sy(v) + 4, label);
  }
  s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">measured ({})</text>\n", (L + W - R) / 2, H - 25,
                   xml_escape(unit));
  s += fmt::format("<text x=\"20\" y=\"{0}\" text-anchor=\"middle\" transform=\"rotate(-90 20 {0})\">predicted "
                   "({1})</text>\n",
                   (T + H - B) / 2, xml_escape(unit));
  for (const auto& p : points) {
    if (!(p.measured > 0) || !(p.predicted > 0) || !std::isfinite(p.predicted)) continue;
    s += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\" fill-opacity=\"0.6\"><title>{}: "
                     "measured {:g}, predicted {:g}</title></circle>\n",
                     sx(p.measured), sy(p.predicted), colour(p.source), xml_escape(p.kernel), p.measured, p.predicted);
  }
  s += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"#2ca02c\">band: ±10%</text>\n", L + 8, T + 16);
  s += "</svg>\n";
  return s;
}

namespace {

uint32_t crc32(const std::string& data) {
  static std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : data) c = table[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

void put32(std::string& s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s += static_cast<char>((v >> (8 * i)) & 0xFF);
}

void chunk(std::string& png, const char* type, const std::string& data) {
  put32(png, static_cast<uint32_t>(data.size()));
  std::string body = std::string(type, 4) + data;
  png += body;
  put32(png, crc32(body));
}

}  // namespace

std::string plot_png(const std::vector<EvalPoint>& points, const std::string&, const std::string&) {
  const int W = 640, H = 640, L = 60, R = 20, T = 20, B = 60;
  std::vector<std::array<uint8_t, 3>> px(static_cast<size_t>(W * H), {255, 255, 255});
  auto blend = [&](int x, int y, std::array<uint8_t, 3> c, double alpha) {
    if (x < 0 || y < 0 || x >= W || y >= H) return;
    auto& p = px[static_cast<size_t>(y * W + x)];
    for (int i = 0; i < 3; ++i) p[i] = static_cast<uint8_t>(p[i] * (1 - alpha) + c[i] * alpha);
  };
  Range r = axis_range(points);
  auto fx = [&](double lv) { return L + (lv - r.lo) / (r.hi - r.lo) * (W - L - R); };
  auto fy = [&](double lv) { return H - B - (lv - r.lo) / (r.hi - r.lo) * (H - T - B); };
  // Band: pixels whose predicted/measured ratio is within ±10%.
  for (int y = T; y < H - B; ++y)
    for (int x = L; x < W - R; ++x) {
      double lm = r.lo + (x - L) * (r.hi - r.lo) / (W - L - R);
      double lp = r.lo + (H - B - y) * (r.hi - r.lo) / (H - T - B);
      double ratio = std::pow(10.0, lp - lm);
      if (ratio >= 0.9 && ratio <= 1.1) blend(x, y, {44, 160, 44}, 0.18);
    }
  for (int d = static_cast<int>(r.lo); d <= static_cast<int>(r.hi); ++d) {
    int x = static_cast<int>(std::lround(fx(d))), y = static_cast<int>(std::lround(fy(d)));
    for (int t = T; t < H - B; ++t) blend(x, t, {200, 200, 200}, 1);
    for (int t = L; t < W - R; ++t) blend(t, y, {200, 200, 200}, 1);
    for (int t = 0; t < 6; ++t) {
      blend(x, H - B + t, {0, 0, 0}, 1);
      blend(L - t, y, {0, 0, 0}, 1);
    }
  }
  for (int t = 0; t < W - L - R; ++t) {
    int y = static_cast<int>(std::lround(H - B - t * double(H - T - B) / (W - L - R)));
    blend(L + t, y, {44, 160, 44}, 1);
  }
  for (int x = L; x <= W - R; ++x) {
    blend(x, T, {0, 0, 0}, 1);
    blend(x, H - B, {0, 0, 0}, 1);
  }
  for (int y = T; y <= H - B; ++y) {
    blend(L, y, {0, 0, 0}, 1);
    blend(W - R, y, {0, 0, 0}, 1);
  }
  for (const auto& p : points) {
    if (!(p.measured > 0) || !(p.predicted > 0) || !std::isfinite(p.predicted)) continue;
    double cx = fx(std::log10(p.measured)), cy = fy(std::log10(p.predicted));
    std::array<uint8_t, 3> c = p.source == "trained" ? std::array<uint8_t, 3>{31, 119, 180}
                               : p.source == "fallback" ? std::array<uint8_t, 3>{255, 127, 14}
                                                        : std::array<uint8_t, 3>{127, 127, 127};
    for (int dy = -3; dy <= 3; ++dy)
      for (int dx = -3; dx <= 3; ++dx)
        if (dx * dx + dy * dy <= 9)
          blend(static_cast<int>(std::lround(cx)) + dx, static_cast<int>(std::lround(cy)) + dy, c, 0.6);
  }
  // PNG: 8-bit RGB, zlib stream of stored (uncompressed) deflate blocks.
  std::string raw;
  raw.reserve(static_cast<size_t>(H * (W * 3 + 1)));
  for (int y = 0; y < H; ++y) {
    raw += '\0';
    for (int x = 0; x < W; ++x)
      for (int i = 0; i < 3; ++i) raw += static_cast<char>(px[static_cast<size_t>(y * W + x)][i]);
  }
  std::string z = "\x78\x01";
  for (size_t pos = 0; pos < raw.size(); pos += 65535) {
    size_t len = std::min<size_t>(65535, raw.size() - pos);
    z += static_cast<char>(pos + len == raw.size() ? 1 : 0);
    z += static_cast<char>(len & 0xFF);
    z += static_cast<char>(len >> 8);
    z += static_cast<char>(~len & 0xFF);
    z += static_cast<char>((~len >> 8) & 0xFF);
    z.append(raw, pos, len);
  }
  uint32_t a = 1, b = 0;
  for (unsigned char c : raw) {
    a = (a + c) % 65521;
    b = (b + a) % 65521;
  }
  put32(z, (b << 16) | a);
  std::string png = "\x89PNG\r\n\x1a\n";
  std::string ihdr;
  put32(ihdr, W);
  put32(ihdr, H);
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);
  chunk(png, "IHDR", ihdr);
  chunk(png, "IDAT", z);
  chunk(png, "IEND", "");
  return png;
}

}  // namespace deepen
