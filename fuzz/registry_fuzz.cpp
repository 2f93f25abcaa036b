// Fuzz target: predictors.yaml text -> parse_registry, then look every entry up again.
// Invariants: every accepted path stays inside its predictor's folder; find() returns an entry
// of the name asked.
#include "fuzz_common.h"

#include <deepen/predict.h>

#include <filesystem>

using namespace deepen;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz::run_one([&] {
    const std::string root = "/nonexistent/deepen-fuzz/predictors";
    Registry reg = parse_registry(fuzz::bytes_of(data, size), root, "fuzz/predictors.yaml");
    for (const PredictorEntry& e : reg.entries) {
      FUZZ_CHECK(e.folder.rfind(root + "/", 0) == 0);
      for (const auto& [type, by_purpose] : e.kernels)
        for (const auto& [purpose, spec] : by_purpose) {
          std::string full = resolve_in_folder(e, spec.path);
          FUZZ_CHECK(full.rfind(e.folder + "/", 0) == 0);
        }
      const PredictorEntry& found = reg.find(e.name, e.version);
      FUZZ_CHECK(found.name == e.name);
      FUZZ_CHECK(compare_versions(e.version, e.version) == 0);
      reg.find(e.name);
    }
  });
}
