// The kinds of KernelScorer (deepen/kernel_scorer.h), each in its own file; the table that names
// them is in kernel_scorer.cpp.
#pragma once

#include <deepen/kernel_scorer.h>
#include <deepen/predict.h>

#include <memory>
#include <string>

namespace deepen {

// Whole-kernel value from one run's: latency and energy grow with the runs a kernel's batch
// repeats (kernel_repeats), power does not. Negative values are clipped to 0.
double whole_kernel_value(double per_run, const Kernel& kernel, const std::string& target);

// kind xgboost: an XGBoost booster and its transform (booster.cpp reads the file).
std::unique_ptr<KernelScorer> make_booster_scorer(const ScorerSpec& spec, const std::string& type,
                                                  const std::string& target, const std::string& path,
                                                  const std::string& where);
// kind table: measured values per configuration, from a CSV file.
std::unique_ptr<KernelScorer> make_table_scorer(const ScorerSpec& spec, const std::string& type,
                                                const std::string& target, const std::string& path,
                                                const std::string& where);

}  // namespace deepen
