// deepen predict --kernels: the rows of a kernel CSV as read, with the prediction, its source
// and whether it extrapolates added; as CSV (also for the table format: rows in, the same rows
// out) and JSON. Layouts: docs/predict.md.
#include <deepen/csv.h>
#include <deepen/writers.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <cstdlib>

namespace deepen {
namespace {

using nlohmann::ordered_json;

std::string predicted_column(Purpose purpose) { return "predicted_" + purpose_field(purpose); }

// A cell as JSON: a number where it reads as one (42 as written, not 42.0), else the text.
ordered_json cell_json(const std::string& cell) {
  char* end = nullptr;
  double d = std::strtod(cell.c_str(), &end);
  const bool number = !cell.empty() && end == cell.c_str() + cell.size() && std::isfinite(d);
  const bool whole = number && cell.find_first_of(".eE") == std::string::npos && integral_count(d);
  if (whole) return static_cast<int64_t>(d);
  if (number) return d;
  return cell;
}

void write_estimates_json(std::ostream& out, const KernelEstimates& o) {
  auto rows = ordered_json::array();
  for (size_t i = 0; i < o.data.rows.size(); ++i) {
    const Estimate& e = o.estimates[i];
    ordered_json row = ordered_json::object();
    for (size_t c = 0; c < o.data.header.size(); ++c) row[o.data.header[c]] = cell_json(o.data.rows[i].cells[c]);
    double v = e.value(o.purpose);
    row[predicted_column(o.purpose)] = std::isfinite(v) ? ordered_json(v) : ordered_json(nullptr);
    row["source"] = source_name(e.source);
    row["extrapolated"] = e.extrapolated;
    if (e.extrapolated) row["extrapolated_why"] = e.extrapolated_why;
    rows.push_back(row);
  }
  ordered_json j = {{"predictor", o.predictor}, {"version", o.version}, {"purpose", purpose_name(o.purpose)},
                    {"kernels", rows}};
  out << j.dump(2) << "\n";
}

void write_estimates_csv(std::ostream& out, const KernelEstimates& o) {
  std::vector<std::string> head = o.data.header;
  for (std::string column : {predicted_column(o.purpose), std::string("source"), std::string("extrapolated"),
                             std::string("extrapolated_why")})
    head.push_back(std::move(column));
  out << csv_row(head);
  for (size_t i = 0; i < o.data.rows.size(); ++i) {
    const Estimate& e = o.estimates[i];
    std::vector<std::string> row;
    for (size_t c = 0; c < o.data.header.size(); ++c) row.push_back(o.data.rows[i].cells[c]);
    double v = e.value(o.purpose);
    for (std::string cell : {std::isfinite(v) ? fmt::format("{:.6g}", v) : std::string(),
                             std::string(source_name(e.source)), std::string(e.extrapolated ? "true" : "false"),
                             e.extrapolated_why})
      row.push_back(std::move(cell));
    out << csv_row(row);
  }
}

}  // namespace

const OutputFormats<KernelEstimates>& kernel_estimate_formats() {
  static const OutputFormats<KernelEstimates> formats = {
      {"table", write_estimates_csv},  // rows in, the same rows out
      {"json", write_estimates_json},
      {"csv", write_estimates_csv},
  };
  return formats;
}

}  // namespace deepen
