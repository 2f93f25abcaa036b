// Fuzz target: an ONNX model from anywhere -> load, fold, detect kernels, compute features.
// Invariants: a kernel's work is finite and non-negative; features of a detected kernel are
// finite numbers (a NaN or an infinity would be scored silently into a wrong estimate).
#include "fuzz_common.h"

#include <deepen/graph.h>
#include <deepen/kernels.h>
#include <deepen/schema.h>

#include <cmath>
#include <optional>
#include <string>

using namespace deepen;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz::run_one([&] {
    const std::string bytes = fuzz::bytes_of(data, size);
    Graph graph = load_onnx_bytes(bytes, "fuzz.onnx");
    // Differential: where deepen's own shape inference takes the model, ONNX's must give the
    // same shape and type for every tensor (the loader's fast path is exact or declines).
    LoadOptions fast, onnx;
    fast.shape_inference = LoadOptions::ShapeInference::Deepen;
    onnx.shape_inference = LoadOptions::ShapeInference::Onnx;
    std::optional<Graph> a;
    try {
      a = load_onnx_bytes(bytes, "fuzz.onnx", fast);
    } catch (const Error&) {
    }
    if (a) {
      Graph b;
      try {
        b = load_onnx_bytes(bytes, "fuzz.onnx", onnx);
      } catch (const Error& e) {
        std::fprintf(stderr, "the fast path took a model that ONNX's path refuses: %s\n", e.what());
        FUZZ_CHECK(false);
      }
      FUZZ_CHECK(a->nodes.size() == b.nodes.size() && a->tensors.size() == b.tensors.size());
      for (const auto& [name, t] : a->tensors) {
        const Tensor* u = b.find_tensor(name);
        FUZZ_CHECK(u && u->shape_known == t.shape_known && u->shape == t.shape && u->elem_type == t.elem_type);
      }
    }
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
