#include <deepen/error.h>
#include <deepen/graph.h>

#include <fmt/format.h>

#include <cmath>
#include <deque>
#include <string_view>
#include <unordered_set>

namespace deepen {

int64_t Node::attr_int(const std::string& key, int64_t fallback) const {
  auto it = attrs.find(key);
  if (it == attrs.end()) return fallback;
  if (auto v = std::get_if<int64_t>(&it->second)) return *v;
  // A float beyond int64's range (or NaN) has no integer value; casting it would be undefined.
  if (auto v = std::get_if<double>(&it->second); v && std::isfinite(*v) && std::abs(*v) < 9.2e18)
    return static_cast<int64_t>(*v);
  throw Error(fmt::format("node '{}' ({}): attribute '{}' should be an integer", name, op, key));
}

double Node::attr_float(const std::string& key, double fallback) const {
  auto it = attrs.find(key);
  if (it == attrs.end()) return fallback;
  if (auto v = std::get_if<double>(&it->second)) return *v;
  if (auto v = std::get_if<int64_t>(&it->second)) return static_cast<double>(*v);
  throw Error(fmt::format("node '{}' ({}): attribute '{}' should be a number", name, op, key));
}

std::string Node::attr_string(const std::string& key, const std::string& fallback) const {
  auto it = attrs.find(key);
  if (it == attrs.end()) return fallback;
  if (auto v = std::get_if<std::string>(&it->second)) return *v;
  throw Error(fmt::format("node '{}' ({}): attribute '{}' should be a string", name, op, key));
}

std::vector<int64_t> Node::attr_ints(const std::string& key, std::vector<int64_t> fallback) const {
  auto it = attrs.find(key);
  if (it == attrs.end()) return fallback;
  if (auto v = std::get_if<std::vector<int64_t>>(&it->second)) return *v;
  if (auto v = std::get_if<int64_t>(&it->second)) return {*v};
  throw Error(fmt::format("node '{}' ({}): attribute '{}' should be a list of integers", name, op, key));
}

const Tensor* Graph::find_tensor(const std::string& tensor_name) const {
  auto it = tensors.find(tensor_name);
  return it == tensors.end() ? nullptr : &it->second;
}

const Tensor& Graph::tensor(const std::string& tensor_name) const {
  if (auto t = find_tensor(tensor_name)) return *t;
  throw Error(fmt::format("model '{}': tensor '{}' is not defined", name, tensor_name));
}

std::unordered_map<std::string, std::vector<size_t>> Graph::consumers() const {
  std::unordered_map<std::string, std::vector<size_t>> result;
  result.reserve(nodes.size() * 2);
  for (size_t i = 0; i < nodes.size(); ++i)
    for (const auto& in : nodes[i].inputs)
      if (!in.empty()) {
        auto& list = result[in];
        if (list.empty() || list.back() != i) list.push_back(i);
      }
  return result;
}

std::unordered_map<std::string, size_t> Graph::producers() const {
  std::unordered_map<std::string, size_t> result;
  result.reserve(nodes.size() * 2);
  for (size_t i = 0; i < nodes.size(); ++i)
    for (const auto& out : nodes[i].outputs)
      if (!out.empty()) result[out] = i;
  return result;
}

void sort_topologically(Graph& graph) {
  std::unordered_map<std::string_view, size_t> producer;  // views of the nodes' own names
  producer.reserve(graph.nodes.size() * 2);
  for (size_t i = 0; i < graph.nodes.size(); ++i)
    for (const auto& out : graph.nodes[i].outputs) {
      if (out.empty()) continue;
      if (!producer.emplace(out, i).second)
        throw Error(fmt::format("model '{}': tensor '{}' is written by two nodes ('{}' and '{}')", graph.name,
                                out, graph.nodes[producer[out]].name, graph.nodes[i].name));
    }
  std::vector<size_t> pending(graph.nodes.size(), 0);
  std::vector<std::vector<size_t>> dependents(graph.nodes.size());
  std::vector<size_t> seen_by(graph.nodes.size(), static_cast<size_t>(-1));  // the last node that read each
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    for (const auto& in : graph.nodes[i].inputs) {
      if (in.empty()) continue;
      auto it = producer.find(in);
      if (it == producer.end()) {
        const Tensor* t = graph.find_tensor(in);
        if (!t)
          throw Error(fmt::format("model '{}': node '{}' ({}) reads tensor '{}', which no node, input or "
                                  "initializer provides",
                                  graph.name, graph.nodes[i].name, graph.nodes[i].op, in));
        continue;
      }
      if (it->second == i)
        throw Error(fmt::format("model '{}': node '{}' ({}) reads its own output '{}': the graph has a cycle",
                                graph.name, graph.nodes[i].name, graph.nodes[i].op, in));
      if (seen_by[it->second] != i) {
        seen_by[it->second] = i;
        ++pending[i];
        dependents[it->second].push_back(i);
      }
    }
  }
  std::deque<size_t> ready;
  for (size_t i = 0; i < graph.nodes.size(); ++i)
    if (pending[i] == 0) ready.push_back(i);
  std::vector<size_t> order;
  order.reserve(graph.nodes.size());
  while (!ready.empty()) {
    size_t i = ready.front();
    ready.pop_front();
    order.push_back(i);
    for (size_t d : dependents[i])
      if (--pending[d] == 0) ready.push_back(d);
  }
  if (order.size() != graph.nodes.size()) {
    for (size_t i = 0; i < graph.nodes.size(); ++i)
      if (pending[i] != 0)
        throw Error(fmt::format("model '{}': the graph has a cycle through node '{}' ({})", graph.name,
                                graph.nodes[i].name, graph.nodes[i].op));
  }
  bool already_sorted = true;
  for (size_t k = 0; k < order.size(); ++k) already_sorted = already_sorted && order[k] == k;
  if (already_sorted) return;
  std::vector<Node> sorted;
  sorted.reserve(order.size());
  for (size_t i : order) sorted.push_back(std::move(graph.nodes[i]));
  graph.nodes = std::move(sorted);
}

std::pair<std::string, Shape> parse_input_shape(const std::string& spec) {
  auto colon = spec.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == spec.size())
    throw Error(fmt::format("--input-shape '{}': expected NAME:DIMS, for example input:1x3x224x224", spec));
  std::string name = spec.substr(0, colon);
  Shape shape;
  std::string dims = spec.substr(colon + 1);
  size_t start = 0;
  while (start <= dims.size()) {
    size_t x = dims.find_first_of("x,", start);
    std::string part = dims.substr(start, x == std::string::npos ? std::string::npos : x - start);
    int64_t value = 0;
    bool ok = !part.empty() && part.size() <= 12;
    for (char c : part) {
      if (c < '0' || c > '9') ok = false;
      else value = value * 10 + (c - '0');
    }
    if (!ok || value <= 0)
      throw Error(fmt::format("--input-shape '{}': dimension '{}' is not a positive integer", spec, part));
    shape.push_back(value);
    if (x == std::string::npos) break;
    start = x + 1;
  }
  return {name, shape};
}

}  // namespace deepen
