// deepen/kernel_scorer.h: what gives a kernel its number for one purpose. A predictor holds, per
// kernel type and target (latency, energy, power), the scorer its registry entry names with
// `kind:` (docs/how-it-works.md, "Kinds of scorer"), and one fallback scorer per target for the
// kernels no trained scorer has a number for.
//
// Adding a kind of scorer: implement KernelScorer in src/predict/<kind>_scorer.cpp and add one
// row to the table in src/predict/kernel_scorer.cpp.
#pragma once

#include <deepen/kernels.h>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace deepen {

struct PredictorEntry;
struct FallbackModel;

// The kernels of one type asked of a scorer at once. A network repeats its kernels (a cell stacked
// five times), so their feature rows (the type's schema, in order) are given once per distinct
// configuration: kernels[i] has the features rows[row_of[i] * ncols ...].
struct KernelRows {
  std::string type;  // the kernel type that scores them (after the fusion rules' same_as)
  std::vector<const Kernel*> kernels;
  std::vector<float> rows;  // distinct feature rows, row-major
  size_t ncols = 0;
  std::vector<size_t> row_of;  // per kernel: its row
  size_t num_rows() const { return ncols ? rows.size() / ncols : 0; }
  const float* row(size_t r) const { return rows.data() + r * ncols; }
};

class KernelScorer {
 public:
  virtual ~KernelScorer() = default;
  // The registry's name of this kind: "xgboost", "table", "roofline".
  virtual const char* kind() const = 0;
  // Whether its numbers come from measurements (a trained booster, a measured table): the
  // estimate's source is then `trained`; otherwise `fallback`.
  virtual bool learned() const = 0;
  // One number per kernel, for the whole kernel (all the runs its batch repeats), in the target's
  // unit (ms, mJ, mW); NaN where the scorer has no number, so that the next source is asked.
  virtual std::vector<double> score(const KernelRows& kernels) const = 0;
  // Per distinct row: why it lies outside what the scorer learned from ("hw 224 > 32"); empty
  // when inside or when the scorer cannot tell.
  virtual std::vector<std::string> outside(const KernelRows& kernels) const;
};

// The scorer an entry names for a kernel type and target (its spec's kind), reading its file
// from the predictor's folder; throws Error naming the predictor, the file and the problem.
std::unique_ptr<KernelScorer> make_kernel_scorer(const PredictorEntry& entry, const std::string& type,
                                                 const std::string& target);
// Whether `kind` names a kind of scorer the registry may give; the kinds, comma-separated.
bool valid_scorer_kind(const std::string& kind);
std::string scorer_kinds();

// The analytical fallback for one target (latency or energy) from the kernels' FLOPs and bytes;
// nullptr when the model has no coefficients for that target.
std::unique_ptr<KernelScorer> make_fallback_scorer(const FallbackModel& model, const std::string& target);

}  // namespace deepen
