// deepen/check.h: the gate of `deepen check`. Every model is predicted as `deepen predict` does
// (predict_model), then compared with a baseline (the JSON that `deepen predict -f json` writes)
// and with absolute budgets; each model gets findings and a verdict, and the check holds when no
// finding fails it. The writers give a table for people, JSON for scripts and JUnit XML for CI.
//
//   CheckOptions o;
//   o.purpose = Purpose::Energy;
//   o.max_increase = parse_max_increase("5%", o.purpose);
//   Baseline b = read_baseline("baseline.json", o.purpose);
//   CheckResult r = run_check({{"models/a.onnx", "a.onnx"}}, predictor, {}, o, &b, budget_for_all("10mJ", o.purpose));
//   write_check_table(std::cout, r);  // r.holds() is the gate
//
// Models are matched with the baseline and the budgets by their key, the file's path under the
// model path it was found in (a file given by itself: its name), so that a baseline made in
// another checkout, or from another working folder, still matches.
#pragma once

#include <deepen/graph.h>
#include <deepen/predict.h>
#include <deepen/report.h>

#include <cmath>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace deepen {

// A model to check: the file as given, and its key.
struct CheckModel {
  std::string file;
  std::string key;
};
// The key of `file`, found under `modelpath` (a folder: the path inside it; a file: its name).
std::string model_key(const std::string& file, const std::string& modelpath);

// A quantity of the purpose with its unit: "10mJ", "0.01 J", "250us", "25ms", "2W". Returns it
// in the purpose's unit (mJ, ms, mW). Throws Error, naming `what` (the flag or file and key),
// for a number without a unit, a unit of another purpose, a negative or non-finite number.
double parse_quantity(const std::string& text, Purpose purpose, const std::string& what);
// "mJ", "ms" or "mW" with an example, for messages: the units the purpose takes.
std::string units_of(Purpose purpose);

// --max-increase: how much a model may rise over its baseline, as a share ("5%") or as a
// quantity of the purpose ("0.2mJ"). Default: no increase at all.
struct IncreaseBound {
  double relative = 0;       // share of the baseline; used when absolute is NaN
  double absolute = NAN;     // in the purpose's unit
  std::string text = "0%";   // as given, for messages
  // Whether `now` is more than the bound above `baseline` (changes within rounding are none).
  bool exceeded(double baseline, double now) const;
};
IncreaseBound parse_max_increase(const std::string& text, Purpose purpose);

// Budgets: the most a model may cost, in the purpose's unit, by key, and one for the others.
struct Budgets {
  double default_value = NAN;                              // NaN: none
  std::vector<std::pair<std::string, double>> per_model;   // key (or a path ending in it), value
  std::string source;  // "--budget 10mJ" or the file, for messages
  bool empty() const { return std::isnan(default_value) && per_model.empty(); }
};
// --budget 10mJ: one budget for every model.
Budgets budget_for_all(const std::string& text, Purpose purpose);
// --budget-file: a YAML map of model key to quantity, and `default` for the models it leaves
// out, e.g. {default: 10mJ, mobilenetv1.onnx: 2mJ}. Throws Error naming the file and the key.
Budgets read_budget_file(const std::string& path, Purpose purpose);

// A baseline: what `deepen predict -f json` wrote.
struct BaselineModel {
  std::string model;  // as the baseline names it
  std::string error;  // the model's error then, if any
  double value = NAN;  // for the purpose checked, in its unit; NaN: none
  double coverage_kernels = NAN, coverage_flops = NAN;
  double macs = NAN, flops = NAN, params = NAN, kernels = NAN;  // to recognise a renamed model
};
struct Baseline {
  std::string file;
  std::string predictor, version, purpose;
  std::vector<BaselineModel> models;
};
// Reads and checks a baseline; throws Error naming the file for anything that is not a predict
// JSON, or one without numbers for `purpose` (made for another purpose).
Baseline read_baseline(const std::string& path, Purpose purpose);
Baseline parse_baseline(const std::string& json_text, const std::string& label, Purpose purpose);

// One thing the check says of a model. kind: increase, budget, coverage, min-coverage, error
// (these fail the gate unless accepted), new, gone, renamed, predictor, no-baseline (reported).
struct Finding {
  std::string kind;
  std::string message;  // a sentence naming the numbers and the bound
  bool fails = false;
};

enum class Verdict { Ok, Failed, New, Gone, Error };
const char* verdict_name(Verdict v);  // ok, fail, new, gone, error

struct ModelCheck {
  std::string key;
  std::string file;            // as given now; empty for a model gone
  std::string baseline_model;  // the baseline entry it was compared with; empty when none
  double baseline = NAN, now = NAN, budget = NAN;  // in the purpose's unit
  std::string budget_from;     // "default", the budget file's key, or "--budget"
  double coverage_flops_baseline = NAN, coverage_flops_now = NAN;
  double coverage_kernels_baseline = NAN, coverage_kernels_now = NAN;
  std::vector<Finding> findings;
  Verdict verdict = Verdict::Ok;
  double change() const { return now - baseline; }  // NaN when either is missing
  double relative_change() const;                   // change over baseline; NaN when it has no meaning
};

struct CheckOptions {
  Purpose purpose = Purpose::Energy;
  LoadOptions load;
  bool use_fallback = true;
  IncreaseBound max_increase;
  CoverageBound min_coverage;
  // --update-baseline: increases and coverage drops against the baseline are accepted (reported,
  // not failed); budgets and --min-coverage still hold.
  bool accept_baseline = false;
};

struct CheckResult {
  std::string predictor, version, device;
  Purpose purpose = Purpose::Energy;
  std::string baseline_file;                          // empty: no baseline
  std::string baseline_predictor, baseline_version;   // as the baseline names them
  bool predictor_changed = false;
  std::string max_increase, min_coverage, budget_source;
  std::vector<ModelCheck> models;     // the models checked in the order given, then those gone
  std::vector<ModelReport> reports;   // every model as predicted (kernels dropped): a new baseline
  std::vector<std::string> notes;     // about the whole check (a predictor change, unused budgets)
  size_t count(Verdict v) const;
  bool holds() const { return count(Verdict::Failed) == 0 && count(Verdict::Error) == 0; }
};

// Predicts every model and checks it. `baseline` may be null (no comparison); `budgets` may be
// empty. Throws Error for inputs that do not fit together (two models with one key, a baseline
// entry matching two models); a model that cannot be predicted is a finding of kind `error`.
CheckResult run_check(const std::vector<CheckModel>& models, const Predictor& predictor, const CheckOptions& options,
                      const Baseline* baseline, const Budgets& budgets);

void write_check_table(std::ostream& out, const CheckResult& result);
void write_check_json(std::ostream& out, const CheckResult& result);
// JUnit XML: one testsuite, one testcase per model; failing findings are <failure>s, a model
// that could not be predicted an <error>, a model gone <skipped>. Text is XML-escaped, and bytes
// that XML cannot hold (control characters, broken UTF-8) are replaced.
void write_check_junit(std::ostream& out, const CheckResult& result);
// Text as XML character data or attribute value.
std::string xml_escape(const std::string& text);

}  // namespace deepen
