// Fuzz target: fusion_rules.yaml text -> parse_fusion_rules; the rules written back as YAML must
// read as the same rules; detection of a real model with the rules must cover every node.
#include "fuzz_common.h"

#include <deepen/graph.h>
#include <deepen/kernels.h>

using namespace deepen;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz::run_one([&] {
    FusionRules rules = parse_fusion_rules(fuzz::bytes_of(data, size), "fuzz/fusion_rules.yaml");
    FusionRules again = parse_fusion_rules(fusion_rules_to_yaml(rules), "round trip");
    FUZZ_CHECK(again.chains == rules.chains);
    FUZZ_CHECK(again.same_as == rules.same_as);
    static const Graph graph = load_onnx(DEEPEN_TEST_MODELS "/mobilenetv3.onnx");
    size_t covered = 0;
    for (const Kernel& k : detect_kernels(graph, rules)) covered += k.nodes.size();
    FUZZ_CHECK(covered == graph.nodes.size());
  });
}
