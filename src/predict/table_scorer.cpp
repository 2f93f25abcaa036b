// Kind table: measured values per kernel configuration, read from a CSV file whose header names
// the kernel type's config fields (its schema's, plus any optional field such as groups) and
// `value`, the measurement of one run of that configuration in the target's unit (ms, mJ, mW):
//
//     hw,cin,cout,ks,stride,value
//     56,64,64,3,1,1.42
//
// A kernel whose configuration the table holds gets that value (source `trained`: it came from a
// measurement); any other kernel is left to the next source, the fallback.
#include "predict/scorers.h"

#include <deepen/error.h>
#include <deepen/schema.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string_view>
#include <unordered_map>

namespace deepen {
namespace {

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r");
  size_t b = s.find_last_not_of(" \t\r");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream in(line);
  std::string cell;
  while (std::getline(in, cell, ',')) cells.push_back(trim(cell));
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

std::string key_of(const std::vector<float>& row) {
  return std::string(reinterpret_cast<const char*>(row.data()), row.size() * sizeof(float));
}

class TableScorer : public KernelScorer {
 public:
  TableScorer(std::string target, std::unordered_map<std::string, double> values)
      : target_(std::move(target)), values_(std::move(values)) {}
  const char* kind() const override { return "table"; }
  bool learned() const override { return true; }

  std::vector<double> score(const KernelRows& in) const override {
    std::vector<double> per_row(in.num_rows(), NAN);
    for (size_t r = 0; r < per_row.size(); ++r) {
      auto it = values_.find(std::string(reinterpret_cast<const char*>(in.row(r)), in.ncols * sizeof(float)));
      if (it != values_.end()) per_row[r] = it->second;
    }
    std::vector<double> out(in.kernels.size());
    for (size_t i = 0; i < out.size(); ++i) {
      const double v = per_row[in.row_of[i]];
      out[i] = std::isnan(v) ? v : whole_kernel_value(v, *in.kernels[i], target_);
    }
    return out;
  }

 private:
  std::string target_;
  std::unordered_map<std::string, double> values_;  // the features of a configuration, as floats -> value
};

}  // namespace

std::unique_ptr<KernelScorer> make_table_scorer(const ScorerSpec&, const std::string& type, const std::string& target,
                                                const std::string& path, const std::string& where) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(ErrorKind::Registry, fmt::format("{}: {}: cannot open the table (is the registry entry right?)", where, path));
  const KernelSchema& schema = *find_schema(type);
  std::string line;
  size_t line_no = 0;
  while (std::getline(file, line)) {
    ++line_no;
    if (!trim(line).empty()) break;
  }
  const std::vector<std::string> header = split(line);
  if (trim(line).empty()) throw Error(ErrorKind::Registry, fmt::format("{}: {}: the table is empty", where, path));
  // Columns: the schema's config fields (each required), optional config fields, and value.
  const std::vector<std::string>& optional = optional_config_fields();
  size_t value_col = header.size();
  for (size_t c = 0; c < header.size(); ++c) {
    const std::string& name = header[c];
    if (std::count(header.begin(), header.end(), name) > 1)
      throw Error(ErrorKind::Registry, fmt::format("{}: {}:{}: column '{}' is given twice", where, path, line_no, name));
    if (name == "value") value_col = c;
    else if (std::find(schema.config_fields.begin(), schema.config_fields.end(), name) == schema.config_fields.end() &&
             std::find(optional.begin(), optional.end(), name) == optional.end())
      throw Error(ErrorKind::Registry, fmt::format("{}: {}:{}: column '{}' is not a config field of {} (its fields: {})", where, path,
                              line_no, name, type, fmt::join(schema.config_fields, ", ")));
  }
  if (value_col == header.size())
    throw Error(ErrorKind::Registry, fmt::format("{}: {}:{}: no 'value' column (the measurement of one run, in the target's unit)", where,
                            path, line_no));
  for (const std::string& field : schema.config_fields)
    if (std::find(header.begin(), header.end(), field) == header.end())
      throw Error(ErrorKind::Registry, fmt::format("{}: {}:{}: no '{}' column ({} needs {})", where, path, line_no, field, type,
                              fmt::join(schema.config_fields, ", ")));

  std::unordered_map<std::string, double> values;
  std::unordered_map<std::string, size_t> line_of;
  while (std::getline(file, line)) {
    ++line_no;
    if (trim(line).empty()) continue;
    const std::vector<std::string> cells = split(line);
    if (cells.size() != header.size())
      throw Error(ErrorKind::Registry, fmt::format("{}: {}:{}: {} cells where the header names {}", where, path, line_no, cells.size(),
                              header.size()));
    KernelConfig config;
    double value = NAN;
    for (size_t c = 0; c < cells.size(); ++c) {
      const char* begin = cells[c].c_str();
      char* end = nullptr;
      errno = 0;
      const double v = std::strtod(begin, &end);
      if (cells[c].empty() || end != begin + cells[c].size() || errno == ERANGE || !std::isfinite(v))
        throw Error(ErrorKind::Registry, fmt::format("{}: {}:{}: {} '{}' is not a number", where, path, line_no, header[c], cells[c]));
      if (c == value_col) value = v;
      else config.set(header[c], v);
    }
    if (!(value > 0))
      throw Error(ErrorKind::Registry, fmt::format("{}: {}:{}: value {} is not positive (a measurement of one run)", where, path, line_no,
                              cells[value_col]));
    std::vector<double> features;
    try {
      features = kernel_features(type, config);
    } catch (const Error& e) {
      throw Error(ErrorKind::Registry, fmt::format("{}: {}:{}: {}", where, path, line_no, e.what()));
    }
    std::vector<float> row(features.begin(), features.end());
    const std::string key = key_of(row);
    auto [it, inserted] = values.emplace(key, value);
    if (!inserted && it->second != value)
      throw Error(ErrorKind::Registry, fmt::format("{}: {}:{}: the configuration of line {} again, with another value ({} against {}): "
                              "give one value per configuration (their mean)",
                              where, path, line_no, line_of[key], value, it->second));
    line_of.emplace(key, line_no);
  }
  if (values.empty()) throw Error(ErrorKind::Registry, fmt::format("{}: {}: the table has no rows", where, path));
  return std::make_unique<TableScorer>(target, std::move(values));
}

}  // namespace deepen
