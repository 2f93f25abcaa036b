// The kernel dataset CSV (docs/train.md, "The kernel dataset CSV"): reader and writer. The
// reader is a function over text so that the fuzzer can drive it; every complaint names file,
// line, column.
#include <deepen/csv.h>
#include <deepen/error.h>
#include <deepen/schema.h>
#include <deepen/train.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace deepen {
namespace {

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t");
  if (a == std::string::npos) return "";
  size_t b = s.find_last_not_of(" \t");
  return s.substr(a, b - a + 1);
}

bool parse_number(const std::string& cell, double* out) {
  if (cell.empty()) return false;
  const char* begin = cell.c_str();
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(begin, &end);
  if (end != begin + cell.size() || errno == ERANGE || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

std::string known_types_text() {
  std::string s;
  for (const auto& t : known_kernel_types()) s += (s.empty() ? "" : ", ") + t;
  return s;
}

std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s.substr(0, 40)) out += (c >= 32 && c < 127) ? static_cast<char>(c) : '?';
  return s.size() > 40 ? out + "..." : out;
}

}  // namespace

const std::vector<std::string>& target_columns() {
  static const std::vector<std::string> columns = {"latency_ms", "energy_mj", "power_mw"};
  return columns;
}

size_t KernelDataset::count(const std::string& target) const {
  size_t n = 0;
  for (const auto& r : rows) n += r.targets.count(target);
  return n;
}

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  bool quoted = false, was_quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < line.size() && line[i + 1] == '"') {
          cell += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        cell += c;
      }
    } else if (c == '"') {
      quoted = true;
      was_quoted = true;
    } else if (c == ',') {
      cells.push_back(was_quoted ? cell : trim(cell));
      cell.clear();
      was_quoted = false;
    } else {
      cell += c;
    }
  }
  cells.push_back(was_quoted ? cell : trim(cell));
  return cells;
}

KernelDataset parse_dataset_csv(const std::string& text, const std::string& label, const DatasetReadOptions& options) {
  KernelDataset data;
  data.label = label;
  std::istringstream in(text);
  std::string line;
  size_t line_no = 0;
  bool have_header = false;
  std::map<std::string, size_t> column;  // name -> index
  size_t kernel_col = 0;
  size_t zero_cost_col = std::string::npos;  // a deepen kernels listing: its unscorable rows are skipped
  std::vector<std::pair<std::string, size_t>> targets;  // target columns present
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (trim(line).empty()) continue;
    std::vector<std::string> cells = split_csv_line(line);
    if (!have_header) {
      have_header = true;
      if (line_no == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) cells[0] = trim(cells[0].substr(3));
      for (size_t c = 0; c < cells.size(); ++c) {
        if (cells[c].empty())
          throw Error(fmt::format("{}: line {}, column {}: the header has an empty column name", label, line_no,
                                  c + 1));
        if (column.count(cells[c]))
          throw Error(fmt::format("{}: line {}, column {}: duplicate column '{}' (also column {})", label, line_no,
                                  c + 1, printable(cells[c]), column[cells[c]] + 1));
        column[cells[c]] = c;
      }
      data.header = cells;
      if (!column.count("kernel"))
        throw Error(fmt::format("{}: line {}: missing column 'kernel' (the header must name the kernel type "
                                "column, then its config columns, e.g. kernel,hw,cin,cout,ks,stride,energy_mj)",
                                label, line_no));
      kernel_col = column["kernel"];
      if (column.count("zero_cost")) zero_cost_col = column["zero_cost"];
      for (const auto& t : target_columns())
        if (column.count(t)) targets.emplace_back(t, column[t]);
      if (options.require_target && targets.empty())
        throw Error(fmt::format("{}: line {}: no target column: add latency_ms, energy_mj or power_mw", label,
                                line_no));
      continue;
    }
    if (cells.size() != data.header.size())
      throw Error(fmt::format("{}: line {}: {} cells, but the header has {} columns", label, line_no, cells.size(),
                              data.header.size()));
    DatasetRow row;
    row.line = line_no;
    row.kernel = cells[kernel_col];
    if (row.kernel.empty())
      throw Error(fmt::format("{}: line {}, column {} (kernel): empty cell", label, line_no, kernel_col + 1));
    const KernelSchema* schema = find_schema(row.kernel);
    if (zero_cost_col != std::string::npos &&
        (cells[zero_cost_col] == "1" || (!schema && row.kernel.rfind("other:", 0) == 0))) {
      ++data.skipped;
      continue;
    }
    if (!schema)
      throw Error(fmt::format("{}: line {}, column {} (kernel): unknown kernel type '{}' (known families: {})",
                              label, line_no, kernel_col + 1, printable(row.kernel), known_types_text()));
    if (std::string why = kernel_type_problem(row.kernel); !why.empty())
      throw Error(fmt::format("{}: line {}, column {} (kernel): unknown kernel type '{}': {} (known: {})", label,
                              line_no, kernel_col + 1, printable(row.kernel), why, known_types_text()));
    for (const auto& field : schema->config_fields) {
      auto it = column.find(field);
      if (it == column.end())
        throw Error(fmt::format("{}: line {}: missing column '{}': kernel type '{}' needs columns {}", label,
                                line_no, field, row.kernel, fmt::join(schema->config_fields, ",")));
      const std::string& cell = cells[it->second];
      double v = 0;
      if (cell.empty())
        throw Error(fmt::format("{}: line {}, column {} ({}): empty cell", label, line_no, it->second + 1, field));
      if (!parse_number(cell, &v))
        throw Error(fmt::format("{}: line {}, column {} ({}): '{}' is not a number", label, line_no, it->second + 1,
                                field, printable(cell)));
      if (v <= 0)
        throw Error(fmt::format("{}: line {}, column {} ({}): {} must be positive", label, line_no, it->second + 1,
                                field, printable(cell)));
      row.config.set(field, v);
    }
    for (const auto& field : optional_config_fields()) {
      auto it = column.find(field);
      if (it == column.end() || row.config.has(field) || cells[it->second].empty()) continue;
      double v = 0;
      if (!parse_number(cells[it->second], &v) || !(v > 0))
        throw Error(fmt::format("{}: line {}, column {} ({}): '{}' is not a positive number", label, line_no,
                                it->second + 1, field, printable(cells[it->second])));
      row.config.set(field, v);
    }
    std::string first_empty;
    size_t first_empty_col = 0;
    for (const auto& [name, c] : targets) {
      const std::string& cell = cells[c];
      if (cell.empty()) {
        if (first_empty.empty()) {
          first_empty = name;
          first_empty_col = c;
        }
        continue;
      }
      double v = 0;
      if (!parse_number(cell, &v))
        throw Error(fmt::format("{}: line {}, column {} ({}): '{}' is not a number", label, line_no, c + 1, name,
                                printable(cell)));
      if (v <= 0)
        throw Error(fmt::format("{}: line {}, column {} ({}): {} is not a measurement: targets must be positive",
                                label, line_no, c + 1, name, printable(cell)));
      row.targets[name] = v;
    }
    if (options.require_target && row.targets.empty())
      throw Error(fmt::format("{}: line {}, column {} ({}): empty cell: the row has no measured value", label,
                              line_no, first_empty_col + 1, first_empty));
    for (size_t c = 0; c < data.header.size(); ++c) {
      const std::string& name = data.header[c];
      if (c == kernel_col || std::find(target_columns().begin(), target_columns().end(), name) !=
                                 target_columns().end())
        continue;
      if (std::find(schema->config_fields.begin(), schema->config_fields.end(), name) !=
              schema->config_fields.end() ||
          (row.config.has(name) && std::find(optional_config_fields().begin(), optional_config_fields().end(),
                                             name) != optional_config_fields().end()))
        continue;
      row.extra.emplace_back(name, cells[c]);
    }
    row.cells = std::move(cells);
    data.rows.push_back(std::move(row));
  }
  if (!have_header) throw Error(fmt::format("{}: the file is empty (expected a header and kernel rows)", label));
  if (data.rows.empty())
    throw Error(data.skipped ? fmt::format("{}: none of its {} rows is a kernel deepen scores (all zero-cost or "
                                           "other:OP kernels)",
                                           label, data.skipped)
                             : fmt::format("{}: no data rows after the header", label));
  return data;
}

KernelDataset read_dataset_csv(const std::string& path, const DatasetReadOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot open the dataset", path));
  std::stringstream text;
  text << in.rdbuf();
  return parse_dataset_csv(text.str(), path, options);
}

std::string dataset_to_csv(const std::vector<DatasetRow>& rows) {
  std::vector<std::string> config, extra;
  std::set<std::string> targets;
  for (const auto& r : rows) {
    for (const auto& [k, v] : r.config.fields)
      if (std::find(config.begin(), config.end(), k) == config.end()) config.push_back(k);
    for (const auto& [k, v] : r.targets) targets.insert(k);
    for (const auto& [k, v] : r.extra)
      if (std::find(extra.begin(), extra.end(), k) == extra.end()) extra.push_back(k);
  }
  std::vector<std::string> target_list;
  for (const auto& t : target_columns())
    if (targets.count(t)) target_list.push_back(t);
  std::string out = "kernel";
  for (const auto& c : config) out += "," + c;
  for (const auto& t : target_list) out += "," + t;
  for (const auto& e : extra) out += "," + csv_escape(e);
  out += "\n";
  for (const auto& r : rows) {
    out += csv_escape(r.kernel);
    for (const auto& c : config) out += r.config.has(c) ? fmt::format(",{}", r.config.get(c)) : std::string(",");
    for (const auto& t : target_list) {
      auto it = r.targets.find(t);
      out += it == r.targets.end() ? std::string(",") : fmt::format(",{}", it->second);
    }
    for (const auto& e : extra) {
      std::string v;
      for (const auto& [k, x] : r.extra)
        if (k == e) v = x;
      out += "," + csv_escape(v);
    }
    out += "\n";
  }
  return out;
}

std::vector<std::string> csv_header(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot open the {}", path, what));
  std::string line;
  if (!std::getline(in, line)) throw Error(fmt::format("{}: the {} file is empty", path, what));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return split_csv_line(line);
}

}  // namespace deepen
