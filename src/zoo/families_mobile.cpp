// The mobile families: MobileNetV1, MobileNetV2, MobileNetV3 (large and small, as torchvision),
// ProxylessNAS (mobile), MnasNet 1.0 and ShuffleNetV2 1.0x. Depthwise layers keep their input's
// channels; a stage's output width is drawn once where residual adds tie its blocks together.
#include "zoo/family_net.h"

namespace deepen::zoo {
namespace {

int64_t make_divisible(double v, int64_t divisor = 8) {
  auto d = static_cast<double>(divisor);
  int64_t r = std::max<int64_t>(divisor, static_cast<int64_t>(v + d / 2) / divisor * divisor);
  if (static_cast<double>(r) < 0.9 * v) r += divisor;
  return r;
}

// Inverted residual (MobileNetV2, MnasNet, ProxylessNAS, MobileNetV3): 1x1 expand, depthwise,
// optional SE, 1x1 project, and a residual add when the shapes allow.
std::string inverted_residual(Net& n, const std::string& x, int64_t expanded, int64_t out, int64_t ks,
                              int64_t stride, const std::string& act, int64_t se_mid) {
  std::string y = x;
  if (expanded != n.channels(x)) y = n.conv_bn_act(y, expanded, 1, 1, act);
  y = n.act(n.bn(n.dwconv(y, ks, stride)), act);
  if (se_mid > 0) y = n.se(y, se_mid);
  y = n.bn(n.conv(y, out, 1));
  if (stride == 1 && n.channels(x) == out) y = n.add(y, x);
  return y;
}

struct Bneck {
  int64_t ks, expanded, out;
  bool se;
  const char* act;
  int64_t stride;
};

void mobilenetv3(Net& n, const std::string& input, const std::vector<Bneck>& blocks, int64_t last) {
  std::string x = n.conv_bn_act(input, n.ch(16), n.ks(3), 2, "hswish");
  int64_t out = 0;
  for (size_t i = 0; i < blocks.size(); ++i) {
    const Bneck& b = blocks[i];
    // A new width where the published one changes; blocks that keep it share it (residuals).
    if (i == 0 || b.out != blocks[i - 1].out || b.stride != 1) out = n.ch(b.out);
    int64_t in = n.channels(x);
    // The published first block of the small net has no expansion; a variant keeps that shape.
    int64_t expanded = (i == 0 && b.expanded == 16) ? in : n.ch(b.expanded);
    int64_t se_mid = b.se ? make_divisible(static_cast<double>(expanded) / 4) : 0;
    x = inverted_residual(n, x, expanded, out, n.ks(b.ks), b.stride, b.act, se_mid);
  }
  x = n.conv_bn_act(x, n.ch(6 * blocks.back().out), 1, 1, "hswish");
  x = n.flatten(n.global_avgpool(x));
  x = n.act(n.fc(x, n.ch(last)), "hswish");
  n.output(n.fc(x, 1000));
}

}  // namespace

void build_mobilenetv1(Net& n, const std::string& input) {
  std::string x = n.conv_bn_act(input, n.ch(32), n.ks(3), 2, "relu");
  const std::pair<int64_t, int64_t> layers[] = {{64, 1},  {128, 2}, {128, 1}, {256, 2}, {256, 1},
                                                {512, 2}, {512, 1}, {512, 1}, {512, 1}, {512, 1},
                                                {512, 1}, {1024, 2}, {1024, 1}};
  for (auto [c, stride] : layers) {
    x = n.act(n.bn(n.dwconv(x, n.ks(3), stride)), "relu");
    x = n.conv_bn_act(x, n.ch(c), 1, 1, "relu");
  }
  classifier(n, x);
}

void build_mobilenetv2(Net& n, const std::string& input) {
  std::string x = n.conv_bn_act(input, n.ch(32), n.ks(3), 2, "relu6");
  const int64_t settings[][4] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                                 {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};
  for (const auto& s : settings) {
    int64_t out = n.ch(s[1]);
    for (int64_t i = 0; i < s[2]; ++i) {
      int64_t in = n.channels(x);
      int64_t expanded = s[0] == 1 ? in : (n.is_variant() ? n.ch(in * s[0]) : in * s[0]);
      x = inverted_residual(n, x, expanded, out, n.ks(3), i == 0 ? s[3] : 1, "relu6", 0);
    }
  }
  x = n.conv_bn_act(x, n.ch(1280), 1, 1, "relu6");
  classifier(n, x);
}

void build_mobilenetv3_large(Net& n, const std::string& x) {
  mobilenetv3(n, x,
              {{3, 16, 16, false, "relu", 1},    {3, 64, 24, false, "relu", 2},    {3, 72, 24, false, "relu", 1},
               {5, 72, 40, true, "relu", 2},     {5, 120, 40, true, "relu", 1},    {5, 120, 40, true, "relu", 1},
               {3, 240, 80, false, "hswish", 2}, {3, 200, 80, false, "hswish", 1}, {3, 184, 80, false, "hswish", 1},
               {3, 184, 80, false, "hswish", 1}, {3, 480, 112, true, "hswish", 1}, {3, 672, 112, true, "hswish", 1},
               {5, 672, 160, true, "hswish", 2}, {5, 960, 160, true, "hswish", 1}, {5, 960, 160, true, "hswish", 1}},
              1280);
}

void build_mobilenetv3_small(Net& n, const std::string& x) {
  mobilenetv3(n, x,
              {{3, 16, 16, true, "relu", 2},    {3, 72, 24, false, "relu", 2},  {3, 88, 24, false, "relu", 1},
               {5, 96, 40, true, "hswish", 2},  {5, 240, 40, true, "hswish", 1}, {5, 240, 40, true, "hswish", 1},
               {5, 120, 48, true, "hswish", 1}, {5, 144, 48, true, "hswish", 1}, {5, 288, 96, true, "hswish", 2},
               {5, 576, 96, true, "hswish", 1}, {5, 576, 96, true, "hswish", 1}},
              1024);
}

void build_proxylessnas(Net& n, const std::string& input) {
  // ProxylessNAS-Mobile as released (proxyless_mobile): {kernel, expansion, width, stride};
  // expansion 0 marks the searched identity (a skipped block).
  struct Block {
    int64_t ks, t, c, stride;
  };
  const std::vector<std::vector<Block>> stages = {
      {{5, 3, 24, 2}, {3, 3, 24, 1}, {0, 0, 24, 1}, {0, 0, 24, 1}},
      {{7, 3, 40, 2}, {3, 3, 40, 1}, {5, 3, 40, 1}, {5, 3, 40, 1}},
      {{7, 6, 80, 2}, {5, 3, 80, 1}, {5, 3, 80, 1}, {5, 3, 80, 1}},
      {{5, 6, 96, 1}, {5, 3, 96, 1}, {5, 3, 96, 1}, {5, 3, 96, 1}},
      {{7, 6, 192, 2}, {7, 6, 192, 1}, {7, 3, 192, 1}, {7, 3, 192, 1}},
      {{7, 6, 320, 1}}};
  std::string x = n.conv_bn_act(input, n.ch(32), n.ks(3), 2, "relu6");
  x = inverted_residual(n, x, n.channels(x), n.ch(16), n.ks(3), 1, "relu6", 0);
  for (const auto& stage : stages) {
    int64_t out = n.ch(stage[0].c);
    for (const auto& b : stage) {
      if (b.t == 0) continue;
      int64_t in = n.channels(x);
      int64_t expanded = n.is_variant() ? n.ch(in * b.t) : in * b.t;
      x = inverted_residual(n, x, expanded, out, n.ks(b.ks), b.stride, "relu6", 0);
    }
  }
  x = n.conv_bn_act(x, n.ch(1280), 1, 1, "relu6");
  classifier(n, x);
}

void build_mnasnet(Net& n, const std::string& input) {
  std::string x = n.conv_bn_act(input, n.ch(32), n.ks(3), 2, "relu");
  x = n.act(n.bn(n.dwconv(x, n.ks(3), 1)), "relu");
  x = n.bn(n.conv(x, n.ch(16), 1));
  const int64_t stacks[][5] = {{24, 3, 2, 3, 3}, {40, 5, 2, 3, 3}, {80, 5, 2, 6, 3},
                               {96, 3, 1, 6, 2}, {192, 5, 2, 6, 4}, {320, 3, 1, 6, 1}};
  for (const auto& s : stacks) {
    int64_t out = n.ch(s[0]);
    for (int64_t i = 0; i < s[4]; ++i) {
      int64_t in = n.channels(x);
      int64_t expanded = n.is_variant() ? n.ch(in * s[3]) : in * s[3];
      x = inverted_residual(n, x, expanded, out, n.ks(s[1]), i == 0 ? s[2] : 1, "relu", 0);
    }
  }
  x = n.conv_bn_act(x, n.ch(1280), 1, 1, "relu");
  classifier(n, x);
}

void build_shufflenetv2(Net& n, const std::string& input) {
  std::string x = n.conv_bn_act(input, n.ch(24), n.ks(3), 2, "relu");
  x = n.maxpool(x, 3, 2, 1);
  const int64_t repeats[] = {4, 8, 4};
  const int64_t widths[] = {116, 232, 464};
  for (int s = 0; s < 3; ++s) {
    int64_t out = n.ch(widths[s], 16);  // split in two halves of a multiple of 8
    int64_t half = out / 2;
    for (int64_t i = 0; i < repeats[s]; ++i) {
      std::string y;
      if (i == 0) {
        std::string b1 = n.bn(n.dwconv(x, n.ks(3), 2));
        b1 = n.conv_bn_act(b1, half, 1, 1, "relu");
        std::string b2 = n.conv_bn_act(x, half, 1, 1, "relu");
        b2 = n.bn(n.dwconv(b2, n.ks(3), 2));
        b2 = n.conv_bn_act(b2, half, 1, 1, "relu");
        y = n.concat({b1, b2});
      } else {
        auto parts = n.split(x, {half, half});
        std::string b2 = n.conv_bn_act(parts[1], half, 1, 1, "relu");
        b2 = n.bn(n.dwconv(b2, n.ks(3), 1));
        b2 = n.conv_bn_act(b2, half, 1, 1, "relu");
        y = n.concat({parts[0], b2});
      }
      x = n.channel_shuffle(y, 2);
    }
  }
  x = n.conv_bn_act(x, n.ch(1024), 1, 1, "relu");
  classifier(n, x);
}

}  // namespace deepen::zoo
