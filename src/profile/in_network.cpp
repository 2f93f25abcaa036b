// Profiling kernels where they run: whole zoo variants are measured with the backend's per-layer
// timer, and each detected kernel gets the time of the backend layers of its nodes. What an
// isolated single-kernel model misses is then in the data: layers the runtime fuses into their
// neighbour (OpenCV folds the ReLU after a residual Add into the Add: its layer takes 0), and
// inputs and weights in the caches as they are mid-network rather than warm from the previous run.
#include <deepen/csv.h>
#include <deepen/error.h>
#include <deepen/profile.h>
#include <deepen/schema.h>
#include <deepen/zoo.h>

#include "profile/work_folder.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

namespace fs = std::filesystem;

namespace deepen {
namespace {

constexpr double kMinKernelMs = 1e-5;  // a fused-away layer's timer reading; targets must be positive

double median_of(const std::vector<double>& v) { return v.empty() ? NAN : percentile(v, 50); }

// The kernel each backend layer belongs to: layers are named after their node ("onnx_node!" plus
// the node name in OpenCV 4.6 as Debian ships it) or its first output (other OpenCV versions),
// helper layers after that plus "/suffix"; -1 for layers of no kernel.
std::vector<int> layer_owners(const std::vector<std::pair<std::string, double>>& layers, const Graph& graph,
                              const std::vector<Kernel>& kernels) {
  std::map<std::string, const Node*> by_name;
  for (const auto& n : graph.nodes) by_name[n.name] = &n;
  std::map<std::string, int> owner;  // node name or first output -> kernel
  for (size_t k = 0; k < kernels.size(); ++k)
    for (const auto& name : kernels[k].nodes) {
      owner[name] = static_cast<int>(k);
      auto it = by_name.find(name);
      if (it != by_name.end() && !it->second->outputs.empty()) owner[it->second->outputs[0]] = static_cast<int>(k);
    }
  const std::string prefix = "onnx_node!";
  std::vector<int> owners;
  for (const auto& [layer, ms] : layers) {
    (void)ms;
    std::string key = layer.rfind(prefix, 0) == 0 ? layer.substr(prefix.size()) : layer;
    auto it = owner.find(key);
    if (it == owner.end()) it = owner.find(key.substr(0, key.find('/')));
    owners.push_back(it == owner.end() ? -1 : it->second);
  }
  return owners;
}

std::vector<std::string> kernel_types_of(const std::vector<std::string>& families, const FusionRules& rules) {
  std::set<std::string> types;
  for (const auto& f : families)
    for (const auto& k : detect_kernels(build_family(f), rules))
      if (!k.zero_cost && find_schema(k.type)) types.insert(k.type);
  return {types.begin(), types.end()};
}

}  // namespace

std::string models_path(const std::string& out) {
  fs::path p(out);
  std::string stem = p.extension() == ".csv" ? p.stem().string() : p.filename().string();
  return (p.parent_path() / (stem + ".models.csv")).string();
}

ProfileSummary profile_in_network(Backend& backend, const InNetworkOptions& o, const std::atomic<bool>& stop,
                                  const std::function<void(const ProfileProgress&)>& progress) {
  if (o.out.empty()) throw Error("--out: name the dataset CSV to write");
  if (o.families.empty()) throw Error("--in-network: name at least one zoo family, e.g. mobilenetv2,resnet18");
  if (o.variants < 1) throw Error("--variants must be at least 1");
  if (o.measure.runs < 1) throw Error("--runs must be at least 1");
  for (const auto& f : o.families) build_family(f);  // Error for an unknown family, before any work
  std::vector<std::string> types = o.kernel_types.empty() ? kernel_types_of(o.families, o.rules) : o.kernel_types;
  std::vector<std::string> columns = dataset_columns(types, false);
  std::set<std::string> wanted(types.begin(), types.end());

  std::set<std::string> have;
  for (const auto& r : read_profiled_rows(o.out, columns)) have.insert(r.id);
  auto open_append = [&](const std::string& path, const std::string& header) {
    std::error_code ec;
    bool fresh = !fs::exists(path, ec) || fs::file_size(path, ec) == 0;
    std::ofstream f(path, std::ios::app | std::ios::binary);
    if (!f) throw Error(fmt::format("{}: cannot open it for writing", path));
    if (fresh) f << header << "\n" << std::flush;
    return f;
  };
  std::string header;
  for (size_t i = 0; i < columns.size(); ++i) header += (i ? "," : "") + columns[i];
  std::ofstream out = open_append(o.out, header);
  std::ofstream models = open_append(models_path(o.out), "model,latency_ms,kernel_medians_ms,unattributed_ms,kernels,error");

  const WorkFolder work(o.work_dir, "deepen-profile-net");
  std::error_code ec;

  ProfileSummary summary;
  ProfileProgress prog;
  prog.total = o.families.size() * static_cast<size_t>(o.variants);
  for (const auto& family : o.families) {
    for (int v = 0; v < o.variants && !stop.load(); ++v) {
      std::string name = fmt::format("{}_s{}_v{:03}", family, o.seed, v);
      auto row_id = [&](size_t k, const std::string& type) { return sample_id({fmt::format("{}#{}#{}", name, k, type), {}}); };
      prog.current = name;
      Graph graph = build_family_variant(family, o.seed, v);
      std::string path = (fs::path(work.path()) / (name + ".onnx")).string();
      write_onnx(graph, path);
      Graph loaded = load_onnx(path);
      std::vector<Kernel> kernels = detect_kernels(loaded, o.rules);
      size_t first = 0;
      while (first < kernels.size() && !(wanted.count(kernels[first].type) && !kernels[first].zero_cost)) ++first;
      if (first == kernels.size() || have.count(row_id(first, kernels[first].type))) {
        ++prog.done, ++prog.skipped, ++summary.skipped;
        fs::remove(path, ec);
        if (progress) progress(prog);
        continue;
      }
      std::string error;
      std::vector<std::vector<double>> per_kernel(kernels.size());
      std::vector<double> forward_ms, unattributed_ms;
      bool no_layer_timer = false;
      try {
        backend.load(path);
        for (int i = 0; i < o.measure.warmup; ++i) backend.run();
        std::vector<int> owners;
        for (int r = 0; r < o.measure.runs; ++r) {
          auto t0 = std::chrono::steady_clock::now();
          backend.run();
          auto t1 = std::chrono::steady_clock::now();
          forward_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
          auto layers = backend.layer_times_ms();
          if (layers.empty()) {
            no_layer_timer = true;
            break;
          }
          if (owners.size() != layers.size()) owners = layer_owners(layers, loaded, kernels);
          std::vector<double> sum(kernels.size(), 0.0);
          double loose = 0;
          for (size_t l = 0; l < layers.size(); ++l)
            (owners[l] < 0 ? loose : sum[static_cast<size_t>(owners[l])]) += layers[l].second;
          for (size_t k = 0; k < kernels.size(); ++k) per_kernel[k].push_back(sum[k]);
          unattributed_ms.push_back(loose);
        }
      } catch (const Error& e) {
        error = e.what();
      }
      fs::remove(path, ec);
      if (no_layer_timer)
        throw Error(fmt::format("backend {} does not report per-layer times: profile isolated kernels instead "
                                "(without --in-network)", backend.name()));
      size_t rows = 0;
      double kernels_ms = 0;
      if (error.empty()) {
        // Each kernel's median, scaled so that the model's medians add up to its forward median:
        // the per-layer medians drop the slow runs of every layer (on a shared machine, bursts of
        // contention), which the whole model's median, what is predicted, keeps.
        std::vector<double> med(kernels.size());
        double sum = median_of(unattributed_ms);
        for (size_t k = 0; k < kernels.size(); ++k) sum += med[k] = median_of(per_kernel[k]);
        double scale = sum > 0 ? median_of(forward_ms) / sum : 1.0;
        for (size_t k = 0; k < kernels.size(); ++k) {
          const Kernel& kn = kernels[k];
          double ms = med[k] * scale;
          kernels_ms += med[k];
          if (kn.zero_cost || !wanted.count(kn.type)) continue;
          ProfiledRow row;
          row.sample.kernel = kn.type;
          bool complete = true;
          for (const auto& f : find_schema(kn.type)->config_fields) {
            if (!kn.config.has(f)) complete = false;
            else row.sample.config.set(f, kn.config.get(f));
          }
          if (!complete) continue;
          row.id = row_id(k, kn.type);
          row.latency_ms = std::max(ms, kMinKernelMs);
          out << dataset_row_csv(row, columns);
          ++rows;
        }
        out << std::flush;
        if (!out) throw Error(fmt::format("{}: writing the dataset failed (disk full?)", o.out));
        summary.measured += rows;
      } else {
        ++summary.failed, ++prog.failed;
      }
      models << csv_row({name, fmt::format("{:.6g}", median_of(forward_ms)), fmt::format("{:.6g}", kernels_ms),
                         fmt::format("{:.6g}", median_of(unattributed_ms)), fmt::format("{}", rows), error})
             << std::flush;
      ++prog.done;
      if (progress) progress(prog);
    }
  }
  summary.interrupted = stop.load();
  return summary;
}

}  // namespace deepen
