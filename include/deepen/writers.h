// deepen/writers.h: every output deepen writes, by report kind. A kind is the data a command
// hands over (a struct below) and a table of its output formats, name -> writer; the command's
// --format choices are the names in that table, in its order (the first is the default). The
// writers themselves live in src/report/, one file per kind, and every CSV goes through
// deepen/csv.h.
//
//   PredictOutput output{reports, context};
//   find_format(predict_formats(), "json").write(std::cout, output);
//
// A new output format is one row in the kind's table (src/report/<kind>_writers.cpp) and its
// writer beside it; the CLI picks it up as a --format choice with no change of its own.
#pragma once

#include <deepen/check.h>
#include <deepen/error.h>
#include <deepen/kernels.h>
#include <deepen/measure.h>
#include <deepen/predict.h>
#include <deepen/report.h>
#include <deepen/schema.h>
#include <deepen/train.h>

#include <ostream>
#include <string>
#include <vector>

namespace deepen {

// One output format of a report kind: the --format name and the function that writes it.
template <class Output>
struct OutputFormat {
  const char* name;
  void (*write)(std::ostream& out, const Output& output);
};

template <class Output>
using OutputFormats = std::vector<OutputFormat<Output>>;

// The names of a table, in its order: the --format choices.
template <class Output>
std::vector<std::string> format_names(const OutputFormats<Output>& formats) {
  std::vector<std::string> names;
  for (const auto& f : formats) names.emplace_back(f.name);
  return names;
}

// The format of that name. Throws Error naming the formats there are.
template <class Output>
const OutputFormat<Output>& find_format(const OutputFormats<Output>& formats, const std::string& name) {
  std::string known;
  for (const auto& f : formats) {
    if (name == f.name) return f;
    known += (known.empty() ? "" : ", ") + std::string(f.name);
  }
  throw Error("unknown output format '" + name + "'; use one of " + known);
}

// ---- deepen predict --------------------------------------------------------------------------

// Models' reports (write_table, write_json, write_csv in deepen/report.h).
struct PredictOutput {
  const std::vector<ModelReport>& reports;
  const ReportContext& context;
};
// table, json, csv.
const OutputFormats<PredictOutput>& predict_formats();

// predict --kernels: the rows of a kernel CSV as read, each with its estimate for the purpose.
struct KernelEstimates {
  const KernelDataset& data;
  const std::vector<Estimate>& estimates;  // one per row of data
  std::string predictor, version;
  Purpose purpose = Purpose::Energy;
};
// table, json, csv, by the names of predict_formats(); table is the CSV (rows in, the same rows
// out).
const OutputFormats<KernelEstimates>& kernel_estimate_formats();

// ---- deepen kernels --------------------------------------------------------------------------

// One model split into kernels, or the error that kept it from being read.
struct ModelKernels {
  std::string model;
  std::vector<Kernel> kernels;
  std::vector<std::string> folded;  // nodes folded at load time
  std::string error;
};
struct KernelListing {
  const std::vector<ModelKernels>& models;
  const FusionRules& rules;  // name the types the features are scored as
  std::string rules_from;    // where the rules came from, in words
};
// table, json, csv (the kernel dataset CSV layout, which predict --kernels and eval read).
const OutputFormats<KernelListing>& kernel_listing_formats();

// ---- deepen eval -----------------------------------------------------------------------------

struct EvalOutput {
  const EvalResult& result;
  std::string predictor, version, device;
  Purpose purpose = Purpose::Energy;
  std::string data;       // the CSV evaluated on
  bool by_model = false;  // whole models (eval --models), not kernels (eval --dataset)
};
// table, json, csv.
const OutputFormats<EvalOutput>& eval_formats();

// ---- deepen list -----------------------------------------------------------------------------

// The registry's predictors. table, json (write_registry_json in deepen/report.h).
const OutputFormats<Registry>& registry_formats();
// The kernel families' config fields and features (list --schema). table, json, by the names of
// registry_formats().
const OutputFormats<std::vector<KernelSchema>>& schema_formats();

// ---- deepen check, deepen measure -----------------------------------------------------------

// table, json (write_check_table, write_check_json in deepen/check.h; JUnit XML is a file of
// its own, --junit, not a format).
const OutputFormats<CheckResult>& check_formats();
// table, json, csv (write_measurements_* in deepen/measure.h).
const OutputFormats<std::vector<Measurement>>& measurement_formats();

}  // namespace deepen
