// TVM's pre-tuned AutoTVM logs ("tophub"): one JSON record per line, {"input": [target, task,
// args, {}], "result": [[seconds, ...], error_code, ...], ...}. conv2d, depthwise_conv2d and
// dense workloads become kernel dataset rows. The time is the mean of result[0], the figure
// AutoTVM itself compares schedules by (the released logs hold one number per record).
#include <deepen/error.h>
#include <deepen/train.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cmath>

namespace deepen {
namespace {

using Json = nlohmann::json;

// A record the schema cannot express: why, counted.
struct Skip {
  std::string why;
};

std::vector<int64_t> ints(const Json& v, const std::string& what) {
  std::vector<int64_t> out;
  if (v.is_number_integer()) return {v.get<int64_t>()};
  if (!v.is_array()) throw Error(fmt::format("{} is not a list of integers", what));
  for (const auto& x : v) {
    if (!x.is_number_integer()) throw Error(fmt::format("{} is not a list of integers", what));
    out.push_back(x.get<int64_t>());
  }
  return out;
}

// ["TENSOR", shape, dtype] -> shape (and dtype).
std::vector<int64_t> tensor_shape(const Json& v, const std::string& what, std::string* dtype = nullptr) {
  if (!v.is_array() || v.size() < 2 || v[0] != "TENSOR") throw Error(fmt::format("{} is not [\"TENSOR\", shape, dtype]", what));
  if (dtype && v.size() > 2 && v[2].is_string()) *dtype = v[2].get<std::string>();
  std::vector<int64_t> s = ints(v[1], what + "'s shape");
  for (int64_t d : s)
    if (d <= 0) throw Error(fmt::format("{} has a dimension {}", what, d));
  return s;
}

std::string target_device(const std::string& target) {
  for (const char* key : {"-model=", "-device="}) {
    size_t at = target.find(key);
    if (at == std::string::npos) continue;
    at += std::string(key).size();
    return target.substr(at, target.find(' ', at) - at);
  }
  return target.substr(0, target.find(' '));
}

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

// The kernel a conv2d / depthwise_conv2d record describes.
DatasetRow conv_row(const std::string& task, const Json& args, std::string* dtype) {
  if (!args.is_array() || args.size() < 5) throw Error("its args are not [data, weight, strides, padding, dilation, ...]");
  std::vector<int64_t> data = tensor_shape(args[0], "the data", dtype), weight = tensor_shape(args[1], "the weight");
  std::vector<int64_t> strides = ints(args[2], "strides"), pads = ints(args[3], "padding"),
                       dilation = ints(args[4], "dilation");
  if (data.size() != 4 || weight.size() != 4) throw Skip{"not 4-D NCHW data and weights"};
  if (data[0] != 1) throw Skip{"batch != 1"};
  const int64_t c = data[1], h = data[2], w = data[3], kh = weight[2], kw = weight[3];
  if (h != w) throw Skip{"non-square input"};
  if (kh != kw) throw Skip{"non-square kernel"};
  if (strides.size() == 1) strides.push_back(strides[0]);
  if (strides.size() != 2 || strides[0] != strides[1] || strides[0] <= 0) throw Skip{"unequal strides"};
  for (int64_t d : dilation)
    if (d != 1) throw Skip{"dilation != 1"};
  if (pads.size() == 1) pads = {pads[0], pads[0], pads[0], pads[0]};
  if (pads.size() == 2) pads = {pads[0], pads[1], pads[0], pads[1]};
  if (pads.size() != 4) throw Error("padding is not [top, left, bottom, right]");
  const int64_t s = strides[0], same = (h + s - 1) / s;
  if ((h + pads[0] + pads[2] - kh) / s + 1 != same || (w + pads[1] + pads[3] - kw) / s + 1 != same)
    throw Skip{"padding other than 'same' (output != ceil(hw / stride))"};
  DatasetRow row;
  int64_t groups = 1, cout = weight[0];
  if (starts_with(task, "depthwise_conv2d")) {
    if (weight[0] != c) throw Error(fmt::format("a depthwise weight of {} channels on {} input channels", weight[0], c));
    groups = c, cout = c * weight[1];
  } else {
    if (weight[1] <= 0 || c % weight[1]) throw Error(fmt::format("the weight's {} input channels do not divide {}", weight[1], c));
    groups = c / weight[1];
  }
  if (groups == 1) row.kernel = "conv";
  else if (groups == c && cout == c) row.kernel = "dwconv";
  else row.kernel = "gconv";
  row.config.set("hw", static_cast<double>(h));
  row.config.set("cin", static_cast<double>(c));
  if (row.kernel != "dwconv") row.config.set("cout", static_cast<double>(cout));
  row.config.set("ks", static_cast<double>(kh));
  row.config.set("stride", static_cast<double>(s));
  if (row.kernel == "gconv") row.config.set("groups", static_cast<double>(groups));
  return row;
}

DatasetRow dense_row(const Json& args, std::string* dtype) {
  if (!args.is_array() || args.size() < 2) throw Error("its args are not [data, weight, ...]");
  std::vector<int64_t> data = tensor_shape(args[0], "the data", dtype), weight = tensor_shape(args[1], "the weight");
  if (data.size() != 2 || weight.size() != 2) throw Skip{"not 2-D dense data and weights"};
  if (data[0] != 1) throw Skip{"batch != 1"};
  if (weight[1] != data[1]) throw Error(fmt::format("the weight takes {} inputs, the data has {}", weight[1], data[1]));
  DatasetRow row;
  row.kernel = "fc";
  row.config.set("cin", static_cast<double>(data[1]));
  row.config.set("cout", static_cast<double>(weight[0]));
  return row;
}

}  // namespace

TophubImport import_tophub(const std::string& text, const std::string& label, const std::string& device_filter) {
  TophubImport out;
  size_t pos = 0, line_no = 0, records = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    std::string line = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    pos = end == std::string::npos ? text.size() : end + 1;
    ++line_no;
    size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    const std::string where = fmt::format("{}:{}", label, line_no);
    Json record;
    try {
      record = Json::parse(line);
    } catch (const Json::exception& e) {
      throw Error(fmt::format("{}: not a JSON record ({})", where, e.what()));
    }
    ++records;
    try {
      if (!record.is_object() || !record.contains("input") || !record.contains("result"))
        throw Error("expected an object with \"input\" and \"result\"");
      const Json& input = record["input"];
      const Json& result = record["result"];
      if (!input.is_array() || input.size() < 3 || !input[0].is_string() || !input[1].is_string())
        throw Error("\"input\" is not [target, task, args, ...]");
      if (!result.is_array() || result.size() < 2 || !result[0].is_array() || !result[1].is_number_integer())
        throw Error("\"result\" is not [[seconds, ...], error_code, ...]");
      const std::string target = input[0].get<std::string>(), task = input[1].get<std::string>();
      const std::string device = target_device(target);
      if (!device_filter.empty() && device.find(device_filter) == std::string::npos) {
        ++out.skipped[fmt::format("device other than '{}'", device_filter)];
        continue;
      }
      if (result[1].get<int64_t>() != 0) {
        ++out.skipped["a failed measurement (error code != 0)"];
        continue;
      }
      double sum = 0;
      for (const auto& s : result[0]) {
        if (!s.is_number()) throw Error("result[0] holds something other than seconds");
        sum += s.get<double>();
      }
      const double seconds = result[0].empty() ? 0 : sum / static_cast<double>(result[0].size());
      std::string dtype;
      DatasetRow row;
      try {
        if (task.find("conv2d_transpose") != std::string::npos) throw Skip{"conv2d_transpose"};
        if (starts_with(task, "conv2d") || starts_with(task, "depthwise_conv2d")) row = conv_row(task, input[2], &dtype);
        else if (starts_with(task, "dense")) row = dense_row(input[2], &dtype);
        else throw Skip{fmt::format("task {}", task.substr(0, task.find('.')))};
      } catch (const Skip& s) {
        ++out.skipped[s.why];
        continue;
      }
      if (!(seconds > 0) || !std::isfinite(seconds)) {
        ++out.skipped["no positive time"];
        continue;
      }
      row.targets["latency_ms"] = seconds * 1000;
      row.extra = {{"device", device}, {"task", task}, {"dtype", dtype}};
      row.line = line_no;
      out.rows.push_back(std::move(row));
    } catch (const Error& e) {
      throw Error(e.kind(), fmt::format("{}: {}", where, e.what()));
    }
  }
  if (records == 0) throw Error(fmt::format("{}: no records (JSON lines)", label));
  if (out.rows.empty())
    throw Error(fmt::format("{}: none of its {} records is a conv2d, depthwise_conv2d or dense workload deepen can "
                            "express{}",
                            label, records, device_filter.empty() ? "" : fmt::format(" on a device matching '{}'", device_filter)));
  return out;
}

}  // namespace deepen
