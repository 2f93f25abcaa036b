// zoo/family_net.h: what a family's builder draws its layer sizes from. The reference network
// takes the published sizes; a variant rescales each layer's output channels by a factor from
// [0.2, 1.8] (a multiple of 8, at least 8) and redraws spatial kernel sizes from {1, 3, 5, 7},
// as the DeepEn2023 and nn-Meter studies did. Builders ask for a size once per layer, and once
// per stage where a residual add or a channel split ties several layers to one width.
#pragma once

#include "zoo/graph_builder.h"
#include "zoo/prng.h"

#include <algorithm>
#include <cmath>
#include <optional>

namespace deepen::zoo {

class Net : public GraphBuilder {
 public:
  Net(std::string name, std::optional<uint64_t> variant_seed) : GraphBuilder(std::move(name)) {
    if (variant_seed) rng_.emplace(*variant_seed);
  }
  bool is_variant() const { return rng_.has_value(); }

  // Output channels of a layer whose published width is `base`; `multiple` keeps halves whole
  // (ShuffleNet splits a stage's channels in two).
  int64_t ch(int64_t base, int64_t multiple = 8) {
    if (!rng_) return base;
    double factor = 0.2 + 1.6 * rng_->uniform();
    auto c = static_cast<int64_t>(std::llround(static_cast<double>(base) * factor / static_cast<double>(multiple)));
    return std::max<int64_t>(multiple, c * multiple);
  }
  // Kernel size of a layer whose published size is `base`; 1x1 layers stay 1x1.
  int64_t ks(int64_t base) {
    if (!rng_ || base <= 1) return base;
    static const int64_t kSizes[] = {1, 3, 5, 7};
    return kSizes[rng_->below(4)];
  }

 private:
  std::optional<Rng> rng_;
};

// Every family's builder: the network for a 1x3xHWxHW input, with `classes` outputs.
using FamilyBuilder = void (*)(Net& net, const std::string& input);

void build_alexnet(Net& net, const std::string& x);
void build_vgg16(Net& net, const std::string& x);
void build_squeezenet(Net& net, const std::string& x);
void build_googlenet(Net& net, const std::string& x);
void build_densenet121(Net& net, const std::string& x);
void build_resnet18(Net& net, const std::string& x);
void build_resnet34(Net& net, const std::string& x);
void build_resnet50(Net& net, const std::string& x);
void build_mobilenetv1(Net& net, const std::string& x);
void build_mobilenetv2(Net& net, const std::string& x);
void build_mobilenetv3_large(Net& net, const std::string& x);
void build_mobilenetv3_small(Net& net, const std::string& x);
void build_proxylessnas(Net& net, const std::string& x);
void build_mnasnet(Net& net, const std::string& x);
void build_shufflenetv2(Net& net, const std::string& x);

// The classifier head most families share: global average pooling, flatten, fc to 1000.
inline std::string classifier(Net& net, const std::string& x, int64_t classes = 1000) {
  std::string y = net.fc(net.flatten(net.global_avgpool(x)), classes);
  net.output(y);
  return y;
}

}  // namespace deepen::zoo
