// deepen/report.h: per-model totals, the per-kernel breakdown and coverage, and the table,
// JSON and CSV writers. Latency and energy add up over kernels; the model's power is its energy
// divided by its latency (the average power over one inference).
#pragma once

#include <deepen/graph.h>
#include <deepen/kernels.h>
#include <deepen/predict.h>

#include <cmath>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace deepen {

struct ModelReport {
  std::string model;  // the file as given
  std::string error;  // non-empty when the model could not be predicted
  double latency_ms = NAN, energy_mj = NAN, power_mw = NAN;
  size_t kernel_count = 0;     // kernels that do work (zero-cost ones are not counted)
  size_t zero_cost_count = 0;
  size_t trained_count = 0, fallback_count = 0, uncovered_count = 0;
  double coverage_kernels = 0;  // share of working kernels scored by a trained booster
  double coverage_flops = 0;    // share of FLOPs in such kernels
  double uncovered_kernels = 0;  // share of working kernels scored by nothing (source uncovered)
  double uncovered_flops = 0;    // share of FLOPs in such kernels
  // Kernels whose number for the purpose came from a booster beyond its training ranges, and the
  // share of the model's estimate they make (by latency for latency, by energy for energy and
  // power: the model's power is its energy over its latency).
  size_t extrapolated_count = 0;
  double extrapolated_share = 0;
  double macs = 0, flops = 0, params = 0;
  // Model-level terms of a predictor learned from whole networks (deepen/predict.h, ModelTerms):
  // included in the totals above, owned by no kernel.
  double latency_ms_per_inference = 0, energy_mj_per_inference = 0;
  double latency_factor = 1, energy_factor = 1;  // the model-level correction the kernels carry
  // The model's power is outside its predictor's plausible envelope (PowerEnvelope), and how
  // many kernels' powers are.
  bool power_envelope_known = false;  // the predictor has one: the two flags below mean something
  bool power_outside_envelope = false;
  size_t power_outside_kernels = 0;
  std::vector<std::string> folded;  // nodes folded at load time
  std::vector<Kernel> kernels;
  std::vector<Estimate> estimates;
};

// purpose: the one the estimates were made for (PredictOptions::purpose); it weighs the
// extrapolated share.
ModelReport summarise(const std::string& model, std::vector<Kernel> kernels, std::vector<Estimate> estimates,
                      Purpose purpose = Purpose::Energy);
// The same with the predictor's model-level terms (Predictor::estimate_model).
ModelReport summarise(const std::string& model, std::vector<Kernel> kernels, ModelEstimate estimate,
                      Purpose purpose = Purpose::Energy);

// Predicts one loaded model as deepen predict does: its kernels by the predictor's fusion rules,
// their estimates with the predictor's model-level terms, summarised. When nothing could be
// scored for the purpose asked (every working kernel uncovered), the report's `error` says so.
// The graph's folded nodes move into the report. Throws Error when a kernel's shapes cannot be
// resolved.
ModelReport predict_model(const std::string& model, Graph graph, const Predictor& predictor,
                          const PredictOptions& options);

// The share of a model's estimate for `purpose` that each source gave, by source name
// (trained, fallback) and "per-inference" for the predictor's per-inference constant; shares add
// up to 1. Weighed by latency for latency and by energy for energy and power (the model's power
// is its energy over its latency), as the extrapolated share is. Empty when the estimate is 0 or
// not a number, or when the report keeps no kernels.
std::map<std::string, double> source_shares(const ModelReport& report, Purpose purpose);

// The same from an ONNX file: loaded, split into kernels by the predictor's fusion rules,
// scored for options.purpose, summarised. A file that cannot be read throws Error
// (naming it); a model of which nothing could be scored for the purpose comes back with `error`
// set. predict and check both call this, so that they give the same number for the same model.
ModelReport predict_model(const std::string& file, const Predictor& predictor, const LoadOptions& load,
                          const PredictOptions& options);

// --min-coverage: the least share of the FLOPs and/or of the kernels that trained boosters must
// score (neither fallback nor uncovered); a negative bound is not checked.
struct CoverageBound {
  double flops = -1, kernels = -1;
  std::string text;  // as given, for messages
  bool given() const { return flops >= 0 || kernels >= 0; }
};
// "90%", "0.9", "flops:90%", "kernels:95%", or both joined by a comma; empty: no bound. Throws
// Error on anything else.
CoverageBound parse_min_coverage(const std::string& text);
// What falls short of the bound, naming the kernels no trained booster scored (the report must
// still hold its kernels); empty when the model reaches it.
std::string coverage_shortfall(const ModelReport& report, const CoverageBound& bound);
// The kernels of a report that match `pick`, grouped by type and source, with the first nodes of
// each group (two at most): "other:Einsum (attn), matmul x3 (fallback: mm_1, mm_2, ...)".
std::string kernels_named(const ModelReport& report, const std::function<bool(const Estimate&)>& pick,
                          bool with_source);

struct ReportContext {
  std::string predictor;
  std::string version;
  std::string device;
  Purpose purpose = Purpose::Energy;
  bool per_kernel = false;
  // Report latency, energy and power, not only the purpose asked (whose figures are the ones
  // the estimates' sources and the coverage are about).
  bool all_purposes = false;
};

// The purposes a report shows: the one asked first, then (all_purposes) the other two.
std::vector<Purpose> reported_purposes(const ReportContext& context);
double value_of(const ModelReport& report, Purpose purpose);

void write_table(std::ostream& out, const std::vector<ModelReport>& reports, const ReportContext& context);
void write_json(std::ostream& out, const std::vector<ModelReport>& reports, const ReportContext& context);
void write_csv(std::ostream& out, const std::vector<ModelReport>& reports, const ReportContext& context);

// The registry as deepen list -f json writes it: {"registry": root, "predictors": [...]}.
void write_registry_json(std::ostream& out, const Registry& registry);

// A count (MACs, FLOPs, params, bytes) is written as an integer when it is one (below 2^53), so
// that scripts read 1385190, not 1.38519e+06.
inline bool integral_count(double v) { return std::fabs(v) < 9.0e15 && v == std::floor(v); }
// The count as CSV text: an integer, or the shortest float beyond; empty for NaN.
std::string count_text(double v);

// Formats a number for tables: 4 significant digits, or "-" for NaN.
std::string format_number(double value);
// Formats a share (0..1) as a percentage with as many decimals as it takes (up to 2) never to
// round a share below 1 up to 100% nor one above 0 down to 0%: 0.9995 is "99.95%", 0.99999
// ">99.99%", 0.96 "96%"; "-" for NaN.
std::string format_share(double share);
// The same rule for scripts: a share with `decimals` decimals, more where fewer would read 1 or 0.
std::string format_share_decimal(double share, int decimals = 4);

}  // namespace deepen
