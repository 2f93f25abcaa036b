// The classic families, layer for layer as torchvision defines them: AlexNet, VGG-16,
// SqueezeNet 1.0, GoogLeNet (torchvision's, whose "5x5" branch is a 3x3), DenseNet-121 and
// ResNet-18/34/50 (v1.5: the stride on the bottleneck's 3x3).
#include "zoo/family_net.h"

namespace deepen::zoo {

void build_alexnet(Net& n, const std::string& input) {
  std::string x = n.act(n.conv(input, n.ch(64), n.ks(11), 4, 1, true, 2), "relu");
  x = n.maxpool(x, 3, 2);
  x = n.act(n.conv(x, n.ch(192), n.ks(5), 1, 1, true), "relu");
  x = n.maxpool(x, 3, 2);
  for (int64_t c : {384, 256, 256}) x = n.act(n.conv(x, n.ch(c), n.ks(3), 1, 1, true), "relu");
  x = n.maxpool(x, 3, 2);
  x = n.flatten(x);
  for (int i = 0; i < 2; ++i) x = n.act(n.fc(x, n.ch(4096)), "relu");
  n.output(n.fc(x, 1000));
}

void build_vgg16(Net& n, const std::string& input) {
  std::string x = input;
  const std::vector<std::vector<int64_t>> stages = {{64, 64}, {128, 128}, {256, 256, 256}, {512, 512, 512},
                                                    {512, 512, 512}};
  for (const auto& stage : stages) {
    for (int64_t c : stage) x = n.act(n.conv(x, n.ch(c), n.ks(3), 1, 1, true), "relu");
    x = n.maxpool(x, 2, 2);
  }
  x = n.flatten(x);
  for (int i = 0; i < 2; ++i) x = n.act(n.fc(x, n.ch(4096)), "relu");
  n.output(n.fc(x, 1000));
}

namespace {

std::string fire(Net& n, const std::string& x, int64_t squeeze, int64_t e1, int64_t e3) {
  std::string s = n.act(n.conv(x, n.ch(squeeze), 1, 1, 1, true), "relu");
  std::string a = n.act(n.conv(s, n.ch(e1), 1, 1, 1, true), "relu");
  std::string b = n.act(n.conv(s, n.ch(e3), n.ks(3), 1, 1, true), "relu");
  return n.concat({a, b});
}

std::string inception(Net& n, const std::string& x, int64_t c1, int64_t c3r, int64_t c3, int64_t c5r, int64_t c5,
                      int64_t pool_proj) {
  auto basic = [&](const std::string& in, int64_t c, int64_t ks) {
    return n.act(n.bn(n.conv(in, n.ch(c), n.ks(ks)), 1e-3), "relu");
  };
  std::string b1 = basic(x, c1, 1);
  std::string b2 = basic(basic(x, c3r, 1), c3, 3);
  std::string b3 = basic(basic(x, c5r, 1), c5, 3);
  std::string b4 = basic(n.maxpool(x, 3, 1, 1, true), pool_proj, 1);
  return n.concat({b1, b2, b3, b4});
}

}  // namespace

void build_squeezenet(Net& n, const std::string& input) {
  std::string x = n.act(n.conv(input, n.ch(96), n.ks(7), 2, 1, true, 0), "relu");
  x = n.maxpool(x, 3, 2, 0, true);
  x = fire(n, x, 16, 64, 64);
  x = fire(n, x, 16, 64, 64);
  x = fire(n, x, 32, 128, 128);
  x = n.maxpool(x, 3, 2, 0, true);
  x = fire(n, x, 32, 128, 128);
  x = fire(n, x, 48, 192, 192);
  x = fire(n, x, 48, 192, 192);
  x = fire(n, x, 64, 256, 256);
  x = n.maxpool(x, 3, 2, 0, true);
  x = fire(n, x, 64, 256, 256);
  x = n.act(n.conv(x, 1000, 1, 1, 1, true), "relu");
  n.output(n.flatten(n.global_avgpool(x)));
}

void build_googlenet(Net& n, const std::string& input) {
  auto basic = [&](const std::string& in, int64_t c, int64_t ks, int64_t stride) {
    return n.act(n.bn(n.conv(in, n.ch(c), n.ks(ks), stride), 1e-3), "relu");
  };
  std::string x = basic(input, 64, 7, 2);
  x = n.maxpool(x, 3, 2, 0, true);
  x = basic(x, 64, 1, 1);
  x = basic(x, 192, 3, 1);
  x = n.maxpool(x, 3, 2, 0, true);
  x = inception(n, x, 64, 96, 128, 16, 32, 32);
  x = inception(n, x, 128, 128, 192, 32, 96, 64);
  x = n.maxpool(x, 3, 2, 0, true);
  x = inception(n, x, 192, 96, 208, 16, 48, 64);
  x = inception(n, x, 160, 112, 224, 24, 64, 64);
  x = inception(n, x, 128, 128, 256, 24, 64, 64);
  x = inception(n, x, 112, 144, 288, 32, 64, 64);
  x = inception(n, x, 256, 160, 320, 32, 128, 128);
  x = n.maxpool(x, 2, 2, 0, true);
  x = inception(n, x, 256, 160, 320, 32, 128, 128);
  x = inception(n, x, 384, 192, 384, 48, 128, 128);
  classifier(n, x);
}

void build_densenet121(Net& n, const std::string& input) {
  std::string x = n.conv_bn_act(input, n.ch(64), n.ks(7), 2, "relu");
  x = n.maxpool(x, 3, 2, 1);
  const int blocks[] = {6, 12, 24, 16};
  for (int b = 0; b < 4; ++b) {
    std::vector<std::string> features = {x};
    for (int l = 0; l < blocks[b]; ++l) {
      std::string in = n.concat(features);
      std::string y = n.act(n.bn(in), "relu");
      y = n.act(n.bn(n.conv(y, n.ch(4 * 32), 1)), "relu");
      features.push_back(n.conv(y, n.ch(32), n.ks(3)));
    }
    x = n.concat(features);
    if (b < 3) {
      x = n.conv(n.act(n.bn(x), "relu"), n.ch(n.channels(x) / 2), 1);
      x = n.avgpool(x, 2, 2);
    }
  }
  classifier(n, n.act(n.bn(x), "relu"));
}

namespace {

void resnet(Net& n, const std::string& input, const std::vector<int>& blocks, bool bottleneck) {
  std::string x = n.conv_bn_act(input, n.ch(64), n.ks(7), 2, "relu");
  x = n.maxpool(x, 3, 2, 1);
  const int64_t widths[] = {64, 128, 256, 512};
  const int64_t expansion = bottleneck ? 4 : 1;
  for (int s = 0; s < 4; ++s) {
    int64_t out = n.ch(widths[s] * expansion);  // one width per stage: residual adds tie it
    for (int b = 0; b < blocks[s]; ++b) {
      int64_t stride = (s > 0 && b == 0) ? 2 : 1;
      std::string y;
      if (bottleneck) {
        y = n.conv_bn_act(x, n.ch(widths[s]), 1, 1, "relu");
        y = n.conv_bn_act(y, n.ch(widths[s]), n.ks(3), stride, "relu");
        y = n.bn(n.conv(y, out, 1));
      } else {
        y = n.conv_bn_act(x, n.ch(widths[s]), n.ks(3), stride, "relu");
        y = n.bn(n.conv(y, out, n.ks(3)));
      }
      std::string shortcut = x;
      if (stride != 1 || n.channels(x) != out) shortcut = n.bn(n.conv(x, out, 1, stride));
      x = n.act(n.add(y, shortcut), "relu");
    }
  }
  classifier(n, x);
}

}  // namespace

void build_resnet18(Net& n, const std::string& x) { resnet(n, x, {2, 2, 2, 2}, false); }
void build_resnet34(Net& n, const std::string& x) { resnet(n, x, {3, 4, 6, 3}, false); }
void build_resnet50(Net& n, const std::string& x) { resnet(n, x, {3, 4, 6, 3}, true); }

}  // namespace deepen::zoo
