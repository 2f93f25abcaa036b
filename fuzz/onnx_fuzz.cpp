// Fuzz target: an ONNX model from anywhere -> load, fold, detect kernels, compute features.
// Invariants: a kernel's work is finite and non-negative; features of a detected kernel are
// finite numbers (a NaN or an infinity would be scored silently into a wrong estimate).
#include "fuzz_common.h"

#include <deepen/graph.h>
#include <deepen/kernels.h>
#include <deepen/schema.h>

#include <cmath>

using namespace deepen;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz::run_one([&] {
    Graph graph = load_onnx_bytes(fuzz::bytes_of(data, size), "fuzz.onnx");
    static const FusionRules rules = default_fusion_rules();
    std::vector<Kernel> kernels = detect_kernels(graph, rules);
    for (const Kernel& k : kernels) {
      for (double v : {k.macs, k.flops, k.params, k.bytes}) FUZZ_CHECK(std::isfinite(v) && v >= 0);
      if (k.zero_cost || !find_schema(k.type)) continue;
      std::vector<double> features;
      try {
        features = kernel_features(k.type, k.config);
      } catch (const Error&) {
        continue;  // a config without a field its schema needs: said as an Error
      }
      for (double f : features) FUZZ_CHECK(std::isfinite(f));
    }
  });
}
