#include "train/import_util.h"

#include <deepen/error.h>
#include <deepen/train.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace deepen::import {

size_t CsvTable::column(const std::string& name, const std::string& why) const {
  auto it = columns.find(name);
  if (it == columns.end())
    throw Error(fmt::format("{}: line 1: missing column '{}' ({}); the columns are {}", label, name, why,
                            fmt::join(header, ", ")));
  return it->second;
}

CsvTable read_csv(const std::string& text, const std::string& label) {
  CsvTable t;
  t.label = label;
  size_t pos = 0, line_no = 0;
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) pos = 3;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    std::string line = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    pos = end == std::string::npos ? text.size() : end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    std::vector<std::string> cells = split_csv_line(line);
    if (t.header.empty()) {
      t.header = cells;
      for (size_t c = 0; c < cells.size(); ++c)
        if (!t.columns.emplace(cells[c], c).second)
          throw Error(fmt::format("{}: line {}: duplicate column '{}'", label, line_no, cells[c]));
      continue;
    }
    if (cells.size() != t.header.size())
      throw Error(fmt::format("{}: line {}: {} cells, but the header has {} columns", label, line_no, cells.size(),
                              t.header.size()));
    t.rows.emplace_back(line_no, std::move(cells));
  }
  if (t.header.empty()) throw Error(fmt::format("{}: the file is empty", label));
  if (t.rows.empty()) throw Error(fmt::format("{}: the file has a header but no rows", label));
  return t;
}

bool parse_number(const std::string& cell, double* out) {
  if (cell.empty()) return false;
  char* end = nullptr;
  double v = std::strtod(cell.c_str(), &end);
  if (end != cell.c_str() + cell.size() || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

namespace {

// FNV-1a and a multiply-xorshift mix over the same bytes.
struct Hasher {
  uint64_t a = 1469598103934665603ull, b = 0x9E3779B97F4A7C15ull;
  void bytes(const void* data, size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) {
      a = (a ^ p[i]) * 1099511628211ull;
      b = (b ^ p[i]) * 0xBF58476D1CE4E5B9ull;
      b ^= b >> 29;
    }
  }
  void str(const std::string& s) {
    uint64_t n = s.size();
    bytes(&n, sizeof n);
    bytes(s.data(), s.size());
  }
  void i64(int64_t v) { bytes(&v, sizeof v); }
  void f64(double v) { bytes(&v, sizeof v); }
};

}  // namespace

std::pair<uint64_t, uint64_t> graph_fingerprint(const Graph& g) {
  Hasher h;
  auto tensor = [&](const std::string& name) {
    const Tensor* t = g.find_tensor(name);
    if (!t || !(t->is_constant || std::find(g.inputs.begin(), g.inputs.end(), name) != g.inputs.end())) return;
    h.str(name);
    for (int64_t d : t->shape) h.i64(d);
    for (int64_t v : t->int_values) h.i64(v);
    for (double v : t->float_values) h.f64(v);
  };
  for (const auto& in : g.inputs) tensor(in);
  for (const auto& n : g.nodes) {
    h.str(n.op);
    for (const auto& [key, value] : n.attrs) {
      h.str(key);
      std::visit(
          [&](const auto& v) {
            using V = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<V, int64_t>) h.i64(v);
            else if constexpr (std::is_same_v<V, double>) h.f64(v);
            else if constexpr (std::is_same_v<V, std::string>) h.str(v);
            else
              for (const auto& x : v) h.bytes(&x, sizeof x);
          },
          value);
    }
    for (const auto& in : n.inputs) {
      h.str(in);
      tensor(in);
    }
    for (const auto& out : n.outputs) h.str(out);
  }
  for (const auto& out : g.outputs) h.str(out);
  return {h.a, h.b};
}

}  // namespace deepen::import
