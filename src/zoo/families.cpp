// The family table: name, description, input size, builder; reference and variant builds.
#include <deepen/error.h>
#include <deepen/zoo.h>

#include "zoo/family_net.h"

#include <fmt/format.h>

namespace deepen {
namespace {

struct FamilyEntry {
  FamilyInfo info;
  zoo::FamilyBuilder build;
};

const std::vector<FamilyEntry>& entries() {
  static const std::vector<FamilyEntry> table = {
      {{"alexnet", "AlexNet (torchvision): 5 convs, 3 fc; DeepEn2023", 224}, zoo::build_alexnet},
      {{"densenet", "DenseNet-121: growth 32, blocks 6-12-24-16; DeepEn2023", 224}, zoo::build_densenet121},
      {{"googlenet", "GoogLeNet (torchvision, no aux heads): 9 inception blocks; DeepEn2023", 224},
       zoo::build_googlenet},
      {{"mobilenetv1", "MobileNetV1 1.0: depthwise separable convs; DeepEn2023", 224}, zoo::build_mobilenetv1},
      {{"mobilenetv2", "MobileNetV2 1.0: inverted residuals, ReLU6; DeepEn2023", 224}, zoo::build_mobilenetv2},
      {{"mobilenetv3", "MobileNetV3-Large (alias mobilenetv3_large): SE, hard-swish; DeepEn2023", 224},
       zoo::build_mobilenetv3_large},
      {{"proxylessnas", "ProxylessNAS-Mobile: searched MBConv 3/5/7, ReLU6; DeepEn2023", 224},
       zoo::build_proxylessnas},
      {{"resnet18", "ResNet-18: basic blocks 2-2-2-2; DeepEn2023", 224}, zoo::build_resnet18},
      {{"squeezenet", "SqueezeNet 1.0: fire modules; DeepEn2023", 224}, zoo::build_squeezenet},
      {{"mobilenetv3_small", "MobileNetV3-Small: SE, hard-swish", 224}, zoo::build_mobilenetv3_small},
      {{"mobilenetv3_large", "MobileNetV3-Large: SE, hard-swish", 224}, zoo::build_mobilenetv3_large},
      {{"resnet34", "ResNet-34: basic blocks 3-4-6-3", 224}, zoo::build_resnet34},
      {{"resnet50", "ResNet-50 (v1.5): bottlenecks 3-4-6-3", 224}, zoo::build_resnet50},
      {{"shufflenetv2", "ShuffleNetV2 1.0x: channel split and shuffle", 224}, zoo::build_shufflenetv2},
      {{"mnasnet", "MnasNet 1.0 (torchvision mnasnet1_0)", 224}, zoo::build_mnasnet},
      {{"vgg16", "VGG-16 (configuration D, no BN)", 224}, zoo::build_vgg16},
  };
  return table;
}

const FamilyEntry& find(const std::string& family) {
  for (const auto& e : entries())
    if (e.info.name == family) return e;
  std::string names;
  for (const auto& e : entries()) names += (names.empty() ? "" : ", ") + e.info.name;
  throw Error(fmt::format("unknown model family '{}'; the families are: {}", family, names));
}

Graph build(const FamilyEntry& e, const std::string& name, std::optional<uint64_t> variant_seed) {
  zoo::Net net(name, variant_seed);
  std::string x = net.input("input", {1, 3, e.info.input_hw, e.info.input_hw});
  e.build(net, x);
  return net.take();
}

}  // namespace

const std::vector<FamilyInfo>& zoo_families() {
  static const std::vector<FamilyInfo> infos = [] {
    std::vector<FamilyInfo> v;
    for (const auto& e : entries()) v.push_back(e.info);
    return v;
  }();
  return infos;
}

Graph build_family(const std::string& family) {
  const FamilyEntry& e = find(family);
  return build(e, family, std::nullopt);
}

Graph build_family_variant(const std::string& family, uint64_t seed, int index) {
  const FamilyEntry& e = find(family);
  uint64_t state = seed ^ zoo::stable_hash(family);
  for (int i = 0; i <= index; ++i) zoo::splitmix64(state);
  uint64_t variant_seed = zoo::splitmix64(state);
  return build(e, fmt::format("{}_variant{:03d}", family, index), variant_seed);
}

}  // namespace deepen
