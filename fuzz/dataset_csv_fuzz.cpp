// Fuzz target: kernel dataset CSV text -> parse_dataset_csv (with and without required targets),
// then features of every row and the CSV written back.
// Invariants: every accepted row has a schema, positive finite config values and targets, and
// finite features; what dataset_to_csv writes parses again to the same number of rows.
#include "fuzz_common.h"

#include <deepen/schema.h>
#include <deepen/train.h>

#include <cmath>

using namespace deepen;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz::run_one([&] {
    std::string text = fuzz::bytes_of(data, size);
    DatasetReadOptions loose;
    loose.require_target = false;
    for (const DatasetReadOptions& options : {DatasetReadOptions{}, loose}) {
      KernelDataset d;
      try {
        d = parse_dataset_csv(text, "fuzz.csv", options);
      } catch (const Error&) {
        continue;
      }
      for (const DatasetRow& row : d.rows) {
        FUZZ_CHECK(find_schema(row.kernel) != nullptr);
        for (const auto& [name, value] : row.config.fields) FUZZ_CHECK(std::isfinite(value) && value > 0);
        for (const auto& [name, value] : row.targets) FUZZ_CHECK(std::isfinite(value) && value > 0);
        for (double f : kernel_features(row.kernel, row.config)) FUZZ_CHECK(!std::isnan(f));
      }
      KernelDataset again = parse_dataset_csv(dataset_to_csv(d.rows), "again.csv", options);
      FUZZ_CHECK(again.rows.size() == d.rows.size());
    }
  });
}
