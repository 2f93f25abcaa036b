// The profiling loop: sample, write a single-kernel model, measure it, append a row. Rows are
// appended one whole line at a time and flushed, so an interrupted run leaves a valid CSV that a
// rerun resumes (rows whose id is in the file are skipped).
#include <deepen/csv.h>
#include <deepen/error.h>
#include <deepen/profile.h>
#include <deepen/schema.h>
#include <deepen/zoo.h>

#include "profile/work_folder.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <cstring>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace deepen {
namespace {

// An error on one line: the dataset is read back a line at a time (resuming a run).
std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  std::replace(s.begin(), s.end(), '\r', ' ');
  return s;
}

std::vector<std::string> parse_csv_line(const std::string& line) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') cells.back() += '"', ++i;
      else if (c == '"') quoted = false;
      else cells.back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cells.emplace_back();
    } else if (c != '\r') {
      cells.back() += c;
    }
  }
  return cells;
}

std::string num(double v) { return std::isfinite(v) ? fmt::format("{:.6g}", v) : ""; }

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + v[i];
  return out;
}

}  // namespace

std::vector<std::string> dataset_columns(const std::vector<std::string>& kernel_types, bool with_energy) {
  std::vector<std::string> cols = {"kernel"};
  for (const auto& t : kernel_types) {
    const KernelSchema* s = find_schema(t);
    if (!s) throw Error(fmt::format("--kernels: '{}' is not a kernel type deepen knows", t));
    for (const auto& f : s->config_fields)
      if (std::find(cols.begin(), cols.end(), f) == cols.end()) cols.push_back(f);
  }
  cols.push_back("latency_ms");
  if (with_energy) {
    cols.push_back("energy_mj");
    cols.push_back("power_mw");
  }
  for (const char* c : {"id", "round", "error"}) cols.push_back(c);
  return cols;
}

std::string dataset_row_csv(const ProfiledRow& row, const std::vector<std::string>& columns) {
  std::vector<std::string> cells;
  for (const auto& c : columns) {
    if (c == "kernel") cells.push_back(row.sample.kernel);
    else if (c == "latency_ms") cells.push_back(num(row.latency_ms));
    else if (c == "energy_mj") cells.push_back(num(row.energy_mj));
    else if (c == "power_mw") cells.push_back(num(row.power_mw));
    else if (c == "id") cells.push_back(row.id);
    else if (c == "round") cells.push_back(std::to_string(row.round));
    else if (c == "error") cells.push_back(one_line(row.error));
    else cells.push_back(row.sample.config.has(c) ? num(row.sample.config.get(c)) : "");
  }
  return csv_row(cells);
}

std::vector<ProfiledRow> read_profiled_rows(const std::string& path, const std::vector<std::string>& columns) {
  std::vector<ProfiledRow> rows;
  std::error_code ec;
  if (!fs::exists(path, ec) || fs::file_size(path, ec) == 0) return rows;
  std::string text;
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw Error(fmt::format("{}: cannot read the dataset to resume it", path));
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  if (text.back() != '\n') {  // a write cut off by a kill: drop the partial line
    size_t keep = text.rfind('\n');
    keep = keep == std::string::npos ? 0 : keep + 1;
    text.resize(keep);
    fs::resize_file(path, keep, ec);
    if (ec) throw Error(fmt::format("{}: cannot drop the cut-off last line ({})", path, ec.message()));
  }
  std::stringstream in(text);
  std::string line;
  if (!std::getline(in, line)) return rows;
  if (line != join(columns))
    throw Error(fmt::format("{}: its columns ({}) are not those of this profile ({}); choose another --out or the same "
                            "--kernels and --power as the run that wrote it",
                            path, line, join(columns)));
  size_t lineno = 1;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty()) continue;
    std::vector<std::string> cells = parse_csv_line(line);
    if (cells.size() != columns.size())
      throw Error(fmt::format("{}:{}: expected {} columns, found {}", path, lineno, columns.size(), cells.size()));
    ProfiledRow r;
    for (size_t i = 0; i < columns.size(); ++i) {
      const std::string& c = columns[i];
      const std::string& v = cells[i];
      auto number = [&] {
        try {
          return v.empty() ? NAN : std::stod(v);
        } catch (const std::exception&) {
          throw Error(fmt::format("{}:{}: column '{}' holds '{}', not a number", path, lineno, c, v));
        }
      };
      if (c == "kernel") r.sample.kernel = v;
      else if (c == "latency_ms") r.latency_ms = number();
      else if (c == "energy_mj") r.energy_mj = number();
      else if (c == "power_mw") r.power_mw = number();
      else if (c == "id") r.id = v;
      else if (c == "round") r.round = static_cast<int>(number());
      else if (c == "error") r.error = v;
      else if (!v.empty()) r.sample.config.set(c, number());
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

std::string failures_path(const std::string& out) {
  fs::path p(out);
  std::string stem = p.extension() == ".csv" ? p.stem().string() : p.filename().string();
  return (p.parent_path() / (stem + ".failed.csv")).string();
}

KernelModelWriter zoo_kernel_writer() {
  return [](const KernelSample& s, const std::string& path) { write_onnx(build_kernel_model(s.kernel, s.config), path); };
}

ProfileSummary profile_kernels(Backend& backend, const ProfileOptions& o, PowerSource* power,
                               const std::atomic<bool>& stop,
                               const std::function<void(const ProfileProgress&)>& progress,
                               const KernelModelWriter& writer) {
  if (o.out.empty()) throw Error("--out: name the dataset CSV to write");
  std::vector<std::string> columns = dataset_columns(o.kernel_types, power != nullptr);
  std::string failed_path = failures_path(o.out);
  std::vector<ProfiledRow> rows = read_profiled_rows(o.out, columns);
  size_t failed_before = 0;
  for (auto& r : read_profiled_rows(failed_path, columns)) {
    rows.push_back(std::move(r));
    ++failed_before;
  }
  std::set<std::string> have;
  size_t round0 = 0, round1 = 0;
  for (const auto& r : rows) {
    have.insert(r.id);
    (r.round == 0 ? round0 : round1)++;
  }
  // Appends one whole row and flushes: the file is a valid CSV after every kernel.
  auto open_append = [&](const std::string& path) {
    std::error_code ec2;
    bool fresh = !fs::exists(path, ec2) || fs::file_size(path, ec2) == 0;
    auto f = std::make_unique<std::ofstream>(path, std::ios::app | std::ios::binary);
    if (!*f) throw Error(fmt::format("{}: cannot open the dataset for writing", path));
    if (fresh) *f << join(columns) << "\n" << std::flush;
    return f;
  };
  auto out = open_append(o.out);
  std::unique_ptr<std::ofstream> failed_out;
  (void)failed_before;

  const WorkFolder work(o.work_dir, "deepen-profile");
  std::error_code ec;

  ProfileSummary summary;
  summary.skipped = rows.size();
  ProfileProgress prog;
  prog.total = o.samples + o.refine_samples;
  prog.done = std::min(round0, o.samples) + std::min(round1, o.refine_samples);
  prog.skipped = prog.done;

  auto measure_one = [&](const KernelSample& s, const std::string& id, int round) {
    ProfiledRow row;
    row.sample = s;
    row.id = id;
    row.round = round;
    std::string model = (fs::path(work.path()) / (id + ".onnx")).string();
    prog.current = s.kernel;
    try {
      writer(s, model);
      MeasureOptions mo = o.measure;
      mo.max_seconds = o.max_seconds_per_kernel;
      Measurement m = measure_model(backend, model, mo, power);
      if (!m.error.empty()) {
        row.error = m.error;
      } else {
        row.latency_ms = m.latency_ms.median;
        if (power) {
          row.energy_mj = m.energy_mj;
          row.power_mw = m.power_mw;
        }
      }
    } catch (const Error& e) {
      row.error = e.what();
    }
    fs::remove(model, ec);
    // Failures go to the side file, so that the dataset holds only measurements (what train reads);
    // resumption reads both and does not retry a failed configuration.
    if (!row.error.empty() && !failed_out) failed_out = open_append(failed_path);
    std::ofstream& dst = row.error.empty() ? *out : *failed_out;
    dst << dataset_row_csv(row, columns) << std::flush;
    if (!dst) throw Error(fmt::format("{}: writing the dataset failed (disk full?)", row.error.empty() ? o.out : failed_path));
    have.insert(id);
    if (row.error.empty()) ++summary.measured;
    else ++summary.failed, ++prog.failed;
    ++prog.done;
    rows.push_back(std::move(row));
    if (progress) progress(prog);
  };

  // Round 0: prior and uniform samples, in the sampler's deterministic order.
  ConfigSampler sampler(o.kernel_types, o.prior ? *o.prior : zoo_prior(o.kernel_types, o.rules),
                        {o.seed, o.uniform_share});
  size_t guard = 0;
  while (round0 < o.samples && !stop.load()) {
    KernelSample s = sampler.next();
    std::string id = sample_id(s);
    if (have.count(id)) {
      if (++guard > 100 * o.samples + 1000) break;  // the space is exhausted
      continue;
    }
    measure_one(s, id, 0);
    ++round0;
  }

  // Round 1: around the configurations the data so far predicts badly.
  if (o.refine_samples > 0 && round1 < o.refine_samples && !stop.load()) {
    prog.round = 1;
    std::vector<KernelSample> bad = badly_predicted(rows, o.refine_threshold);
    ConfigSampler near(o.kernel_types, {}, {o.seed + 1, 1.0});
    guard = 0;
    for (size_t i = 0; !bad.empty() && round1 < o.refine_samples && !stop.load(); ++i) {
      KernelSample s = near.around(bad[i % bad.size()]);
      std::string id = sample_id(s);
      if (have.count(id)) {
        if (++guard > 100 * o.refine_samples + 1000) break;
        continue;
      }
      measure_one(s, id, 1);
      ++round1;
      ++summary.refined;
    }
  }
  summary.interrupted = stop.load();
  return summary;
}

std::string host_predictor_name(const std::string& backend) {
  std::string model;
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::string key = line.substr(0, line.find(':'));
    if ((key.rfind("model name", 0) == 0 || key.rfind("Hardware", 0) == 0 || key.rfind("CPU part", 0) == 0) &&
        line.find(':') != std::string::npos) {
      model = line.substr(line.find(':') + 1);
      if (key.rfind("model name", 0) == 0) break;
    }
  }
  std::string name;
  for (char c : model) {
    if (std::isalnum(static_cast<unsigned char>(c))) name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    else if (!name.empty() && name.back() != '_') name += '_';
  }
  for (const char* noise : {"_r_", "_tm_", "_cpu_"}) {
    size_t at;
    while ((at = name.find(noise)) != std::string::npos) name.replace(at, std::strlen(noise), "_");
  }
  while (!name.empty() && name.back() == '_') name.pop_back();
  if (name.empty()) name = "host";
  return name + "_" + backend;
}

}  // namespace deepen
