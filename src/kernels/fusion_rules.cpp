#include <deepen/error.h>
#include <deepen/kernels.h>
#include <deepen/schema.h>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

namespace deepen {

std::string FusionRules::scored_as(const std::string& type) const {
  auto it = same_as.find(type);
  return it == same_as.end() ? type : it->second;
}

bool FusionRules::reaches(const std::string& type) const {
  for (const auto& [from, to] : same_as)
    if (to == type) return true;
  if (same_as.count(type)) return false;  // made, but scored as another type
  if (kernel_family(type) == type) return true;  // one op's kernel: made wherever the op is
  for (const auto& chain : chains) {
    std::string joined;
    for (const auto& op : chain) joined += (joined.empty() ? "" : "-") + op;
    if (joined == type) return true;
  }
  return false;
}

FusionRules fusion_rules_named(const std::string& name_or_path, std::string* yaml_text) {
  if (name_or_path == "default") {
    FusionRules rules = default_fusion_rules();
    if (yaml_text) *yaml_text = fusion_rules_to_yaml(rules);
    return rules;
  }
  if (const char* text = shipped_fusion_rules_text(name_or_path)) {
    if (yaml_text) *yaml_text = text;
    return parse_fusion_rules(text, "the shipped '" + name_or_path + "' fusion rules");
  }
  std::ifstream in(name_or_path, std::ios::binary);
  if (!in)
    throw Error(fmt::format("{}: cannot read the fusion rules (give a YAML file, or a shipped set: default, tflite)",
                            name_or_path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (yaml_text) *yaml_text = buffer.str();
  return parse_fusion_rules(buffer.str(), name_or_path);
}

FusionRules default_fusion_rules() {
  FusionRules rules;
  for (const char* head : {"conv", "dwconv", "gconv"}) {
    for (const char* act : {"relu", "relu6", "hswish", "sigmoid", "swish"}) {
      rules.chains.push_back({head, "bn", act});
      rules.chains.push_back({head, act});
    }
    rules.chains.push_back({head, "bn"});
  }
  rules.chains.push_back({"fc", "relu"});
  rules.chains.push_back({"fc", "relu6"});
  rules.chains.push_back({"fc", "hswish"});
  rules.chains.push_back({"add", "relu"});
  rules.chains.push_back({"add", "relu6"});
  rules.chains.push_back({"bn", "relu"});
  rules.chains.push_back({"bn", "relu6"});
  return rules;
}

namespace {
// Op and kernel type names are printable ASCII without spaces ("conv", "other:Erf"); anything
// else (control characters, broken UTF-8) cannot be written back and read as the same name.
bool is_name(const YAML::Node& node) {
  if (!node.IsScalar() || node.Scalar().empty()) return false;
  for (unsigned char c : node.Scalar())
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}
}  // namespace

FusionRules parse_fusion_rules(const std::string& yaml_text, const std::string& label) {
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    throw Error(fmt::format("{}: not valid YAML: {}", label, e.what()));
  }
  if (!root.IsMap())
    throw Error(fmt::format("{}: fusion rules must be a map with 'chains' (a list of op lists)", label));
  FusionRules rules;
  try {
    const YAML::Node chains = root["chains"];
    if (!chains || !chains.IsSequence())
      throw Error(fmt::format("{}: 'chains' must be a list of op lists, e.g. [conv, bn, relu]", label));
    for (size_t i = 0; i < chains.size(); ++i) {
      const YAML::Node chain = chains[i];
      if (!chain.IsSequence() || chain.size() < 2)
        throw Error(fmt::format("{}: chain {} must be a list of at least two ops", label, i + 1));
      std::vector<std::string> ops;
      for (const auto& op : chain) {
        if (!is_name(op))
          throw Error(fmt::format("{}: chain {} holds an entry that is not an op name", label, i + 1));
        ops.push_back(op.Scalar());
      }
      rules.chains.push_back(std::move(ops));
    }
    if (const YAML::Node same = root["same_as"]) {
      if (!same.IsMap()) throw Error(fmt::format("{}: 'same_as' must map kernel types to kernel types", label));
      for (const auto& kv : same) {
        if (!is_name(kv.first) || !is_name(kv.second))
          throw Error(fmt::format("{}: 'same_as' entries must be 'type: type', with kernel type names", label));
        rules.same_as[kv.first.Scalar()] = kv.second.Scalar();
      }
    }
  } catch (const YAML::Exception& e) {
    throw Error(fmt::format("{}: malformed fusion rules: {}", label, e.what()));
  }
  return rules;
}

FusionRules load_fusion_rules(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(fmt::format("{}: cannot open the fusion rules file", path));
  std::stringstream text;
  text << in.rdbuf();
  return parse_fusion_rules(text.str(), path);
}

std::string fusion_rules_to_yaml(const FusionRules& rules) {
  // The emitter quotes what needs quoting ("a, b", "x: y", "#"), so the text reads back as the
  // same rules whatever the names hold.
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "chains" << YAML::Value << YAML::BeginSeq;
  for (const auto& chain : rules.chains) {
    out << YAML::Flow << YAML::BeginSeq;
    for (const auto& op : chain) out << op;
    out << YAML::EndSeq;
  }
  out << YAML::EndSeq;
  if (!rules.same_as.empty()) {
    out << YAML::Key << "same_as" << YAML::Value << YAML::BeginMap;
    for (const auto& [from, to] : rules.same_as) out << YAML::Key << from << YAML::Value << to;
    out << YAML::EndMap;
  }
  out << YAML::EndMap;
  if (!out.good())
    throw Error(ErrorKind::Internal, fmt::format("cannot write the fusion rules as YAML: {}", out.GetLastError()));
  return "# Op chains that the runtime executes as one kernel (longest match wins), and kernel types\n"
         "# that a predictor of another type scores (same_as).\n" +
         std::string(out.c_str()) + "\n";
}

}  // namespace deepen
