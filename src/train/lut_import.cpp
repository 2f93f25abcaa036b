// Block look-up tables of Once-for-All (MobileNetV3 space, Note10) and ProxylessNAS (mobile):
// YAML maps from a block key to {count, mean (ms), std or var}. Every entry becomes one ONNX
// model of that block, built as the authors' PyTorch code builds it.
//
// Key forms (fields separated by '-', each NAME:VALUE after the block type):
//   expanded_conv-input:HxWxC-output:HxWxC-expand:E-kernel:K-stride:S-idskip:0|1[-se:0|1-hs:0|1]
//   Conv-input:..-output:..   Conv_1-..   Conv_2-..   Logits-input:HxWxC-output:N   AvgPool2D-..
// E is the middle channel count in OFA's tables and the expansion ratio in ProxylessNAS's: E <= 6
// is read as a ratio (MID = E * C), anything larger as the count itself. Channel counts in both
// search spaces are multiples of 8, so no real count is 6 or less.
#include <deepen/error.h>
#include <deepen/train.h>
#include <deepen/zoo.h>

#include "zoo/graph_builder.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

namespace deepen {
namespace {

struct Hwc {
  int64_t h = 0, w = 0, c = 0;
};

// The activation of a file's stem and head layers: h-swish in OFA's MobileNetV3 tables (whose
// blocks carry an hs field), ReLU6 in ProxylessNAS's.
enum class LutStyle { Ofa, Proxyless };

struct Block {
  std::string type;  // expanded_conv, Conv, Conv_1, Conv_2, Logits, AvgPool2D
  Hwc in, out;       // Logits: out.c is the class count
  int64_t expand = 0, kernel = 0, stride = 0, idskip = 0, se = 0, hs = 0;
  bool has_hs = false;
};

int64_t to_int(const std::string& s) {
  if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    throw Error(fmt::format("'{}' is not a positive whole number", s));
  int64_t v = std::stoll(s);
  if (v <= 0) throw Error(fmt::format("'{}' is not a positive whole number", s));
  return v;
}

Hwc to_hwc(const std::string& s) {
  size_t a = s.find('x'), b = a == std::string::npos ? a : s.find('x', a + 1);
  if (b == std::string::npos) throw Error(fmt::format("'{}' is not HxWxC", s));
  return {to_int(s.substr(0, a)), to_int(s.substr(a + 1, b - a - 1)), to_int(s.substr(b + 1))};
}

Block parse_key(const std::string& key) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dash = key.find('-', start);
    parts.push_back(key.substr(start, dash == std::string::npos ? std::string::npos : dash - start));
    if (dash == std::string::npos) break;
    start = dash + 1;
  }
  Block b;
  b.type = parts[0];
  static const std::set<std::string> kTypes = {"expanded_conv", "Conv", "Conv_1", "Conv_2", "Logits", "AvgPool2D"};
  if (!kTypes.count(b.type))
    throw Error(fmt::format("unknown block type '{}' (known: expanded_conv, Conv, Conv_1, Conv_2, Logits, AvgPool2D)",
                            b.type));
  std::map<std::string, std::string> fields;
  for (size_t i = 1; i < parts.size(); ++i) {
    size_t colon = parts[i].find(':');
    if (colon == std::string::npos) throw Error(fmt::format("field '{}' is not NAME:VALUE", parts[i]));
    if (!fields.emplace(parts[i].substr(0, colon), parts[i].substr(colon + 1)).second)
      throw Error(fmt::format("field '{}' appears twice", parts[i].substr(0, colon)));
  }
  auto take = [&](const std::string& name) {
    auto it = fields.find(name);
    if (it == fields.end()) throw Error(fmt::format("it lacks the field '{}'", name));
    std::string v = it->second;
    fields.erase(it);
    return v;
  };
  auto flag = [&](const std::string& name) {
    std::string v = take(name);
    if (v != "0" && v != "1") throw Error(fmt::format("{}:{} must be 0 or 1", name, v));
    return v == "1" ? int64_t{1} : int64_t{0};
  };
  b.in = to_hwc(take("input"));
  if (b.type == "Logits") b.out = {1, 1, to_int(take("output"))};
  else b.out = to_hwc(take("output"));
  if (b.type == "expanded_conv") {
    b.expand = to_int(take("expand"));
    b.kernel = to_int(take("kernel"));
    b.stride = to_int(take("stride"));
    b.idskip = flag("idskip");
    if (fields.count("se") || fields.count("hs")) {
      b.se = flag("se");
      b.hs = flag("hs");
      b.has_hs = true;
    }
  }
  if (!fields.empty()) throw Error(fmt::format("unexpected field '{}'", fields.begin()->first));
  if (b.in.h != b.in.w || b.out.h != b.out.w)
    throw Error("non-square inputs and outputs are not supported");
  return b;
}

// OFA's make_divisible(v, 8): the nearest multiple of 8, at least 8, not below 90% of v.
int64_t make_divisible(int64_t v) {
  int64_t r = std::max<int64_t>(8, (v + 4) / 8 * 8);
  if (static_cast<double>(r) < 0.9 * static_cast<double>(v)) r += 8;
  return r;
}

int64_t out_size(int64_t in, int64_t stride) { return (in + stride - 1) / stride; }

Graph build_block(const Block& k, LutStyle style) {
  zoo::GraphBuilder b(k.type);
  std::string x = b.input("input", {1, k.in.c, k.in.h, k.in.w});
  const std::string head_act = style == LutStyle::Ofa ? "hswish" : "relu6";
  auto check_out = [&](const std::string& y) {
    const int64_t h = b.shape(y).size() == 4 ? b.height(y) : 1;
    if (b.channels(y) != k.out.c || h != k.out.h)
      throw Error(fmt::format("the block gives {}x{}x{}, but the key says {}x{}x{}", h, h, b.channels(y), k.out.h,
                              k.out.w, k.out.c));
    b.output(y);
  };
  if (k.type == "expanded_conv") {
    const std::string act = k.has_hs ? (k.hs ? "hswish" : "relu") : "relu6";
    int64_t mid = k.expand <= 6 ? k.expand * k.in.c : k.expand;
    std::string y = x;
    if (mid != k.in.c) y = b.conv_bn_act(y, mid, 1, 1, act);
    y = b.act(b.bn(b.dwconv(y, k.kernel, k.stride)), act);
    if (k.se) y = b.se(y, make_divisible(mid / 4), "hsigmoid");
    y = b.bn(b.conv(y, k.out.c, 1, 1));
    if (k.idskip) {
      if (k.stride != 1 || k.in.c != k.out.c || k.in.h != k.out.h)
        throw Error("idskip:1 needs stride 1 and equal input and output shapes");
      y = b.add(x, y);
    }
    check_out(y);
  } else if (k.type == "Conv" || k.type == "Conv_1") {
    int64_t ks = k.type == "Conv" ? 3 : 1;
    int64_t stride = k.out.h > 0 ? std::max<int64_t>(1, k.in.h / k.out.h) : 1;
    if (out_size(k.in.h, stride) != k.out.h)
      throw Error(fmt::format("no stride maps {}x{} to {}x{}", k.in.h, k.in.w, k.out.h, k.out.w));
    check_out(b.conv_bn_act(x, k.out.c, ks, stride, head_act));
  } else if (k.type == "Conv_2") {
    if (k.in.h != k.out.h) throw Error("Conv_2 (a 1x1 conv) keeps its input size");
    check_out(b.act(b.conv(x, k.out.c, 1, 1), head_act));
  } else if (k.type == "Logits") {
    std::string y = k.in.h > 1 ? b.global_avgpool(x) : x;
    check_out(b.fc(b.flatten(y), k.out.c));
  } else {  // AvgPool2D
    if (k.out.h != 1 || k.out.c != k.in.c) throw Error("AvgPool2D pools globally: its output must be 1x1xC");
    check_out(b.global_avgpool(x));
  }
  return b.take();
}

std::string sanitize(const std::string& s) {
  std::string out;
  for (char c : s) out += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ? c : '_';
  return out;
}

// count, mean, std or var of an entry; false when `name` is absent.
bool number_field(const YAML::Node& entry, const std::string& name, double* out, const std::string& where) {
  const YAML::Node v = entry[name];
  if (!v) return false;
  try {
    if (!v.IsScalar()) throw YAML::Exception(YAML::Mark::null_mark(), "not a scalar");
    *out = v.as<double>();
  } catch (const YAML::Exception&) {
    throw Error(fmt::format("{}: {} is not a number", where, name));
  }
  if (!std::isfinite(*out)) throw Error(fmt::format("{}: {} is not a finite number", where, name));
  return true;
}

std::string number_text(double v) { return fmt::format("{}", v); }

}  // namespace

ImportedModels import_lut(const std::vector<std::pair<std::string, std::string>>& files) {
  if (files.empty()) throw Error("give at least one look-up table (YAML)");
  struct Entry {
    Block block;
    LutStyle style;
  };
  auto entries = std::make_shared<std::vector<Entry>>();
  ImportedModels out;
  out.columns = {"model", "latency_ms", "std_ms", "count", "source", "group"};
  std::set<std::string> names;
  for (const auto& [label, text] : files) {
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      throw Error(fmt::format("{}: not valid YAML ({})", label, e.what()));
    }
    if (!root.IsMap() || root.size() == 0)
      throw Error(fmt::format("{}: expected a map from block keys to {{count, mean, std}}", label));
    std::vector<std::pair<std::string, Block>> blocks;
    LutStyle style = LutStyle::Proxyless;
    for (const auto& item : root) {
      std::string key = item.first.as<std::string>();
      try {
        blocks.emplace_back(key, parse_key(key));
      } catch (const Error& e) {
        throw Error(e.kind(), fmt::format("{}: key '{}' does not parse: {}", label, key, e.what()));
      }
      if (blocks.back().second.has_hs) style = LutStyle::Ofa;
    }
    const std::string stem = sanitize(std::filesystem::path(label).stem().string());
    size_t index = 0;
    for (const auto& item : root) {
      const auto& [key, block] = blocks[index++];
      const std::string where = fmt::format("{}: key '{}'", label, key);
      const YAML::Node entry = item.second;
      if (!entry.IsMap()) throw Error(fmt::format("{}: expected a map {{count, mean, std}}", where));
      double mean = 0, sd = 0, var = 0, count = 0;
      if (!number_field(entry, "mean", &mean, where)) throw Error(fmt::format("{}: the entry has no mean", where));
      if (!(mean > 0)) throw Error(fmt::format("{}: the mean {} is not a positive latency (ms)", where, mean));
      std::string std_cell, count_cell;
      if (number_field(entry, "std", &sd, where)) std_cell = number_text(sd);
      else if (number_field(entry, "var", &var, where)) {
        if (var < 0) throw Error(fmt::format("{}: the variance {} is negative", where, var));
        std_cell = number_text(std::sqrt(var));
      }
      if (number_field(entry, "count", &count, where)) count_cell = number_text(count);
      try {
        build_block(block, style);  // every block is checked before anything is written
      } catch (const Error& e) {
        throw Error(e.kind(), fmt::format("{}: {}", where, e.what()));
      }
      std::string name = stem + "__" + sanitize(key);
      for (int n = 2; names.count(name + ".onnx"); ++n) name = fmt::format("{}__{}_{}", stem, sanitize(key), n);
      name += ".onnx";
      names.insert(name);
      out.files.push_back(name);
      entries->push_back({block, style});
      out.rows.push_back({name, number_text(mean), std_cell, count_cell, label + ":" + key, key});
    }
  }
  out.build = [entries](size_t i) { return build_block((*entries)[i].block, (*entries)[i].style); };
  return out;
}

}  // namespace deepen
