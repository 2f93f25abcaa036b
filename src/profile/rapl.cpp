// RAPL through Linux powercap: each package domain's energy_uj counter is read before the first
// run and after every run, so a wrap-around (at max_energy_range_uj) between two reads is caught
// as long as one run takes less than a wrap period (minutes at full power).
#include <deepen/error.h>
#include <deepen/measure.h>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace deepen {
namespace {

std::string read_line(const fs::path& file) {
  std::ifstream in(file);
  if (!in) {
    int err = errno;
    if (err == EACCES)
      throw Error(fmt::format("{}: permission denied; RAPL counters are root-only on recent kernels: run as root "
                              "or 'sudo chmod a+r {}'",
                              file.string(), file.string()));
    throw Error(fmt::format("{}: cannot read ({})", file.string(), std::strerror(err ? err : ENOENT)));
  }
  std::string line;
  std::getline(in, line);
  return line;
}

double read_number(const fs::path& file) {
  std::string text = read_line(file);
  try {
    size_t used = 0;
    double v = std::stod(text, &used);
    if (v < 0) throw std::invalid_argument("negative");
    return v;
  } catch (const std::exception&) {
    throw Error(fmt::format("{}: expected a counter value, found '{}'", file.string(), text));
  }
}

class RaplSource : public PowerSource {
 public:
  explicit RaplSource(std::vector<RaplDomain> domains) : domains_(std::move(domains)) {}
  std::string name() const override { return "rapl"; }
  void start() override {
    last_ = read_all();
    total_uj_ = 0;
    per_run_.clear();
  }
  void after_run() override {
    std::vector<double> now = read_all();
    double run_uj = 0;
    for (size_t i = 0; i < now.size(); ++i)
      run_uj += rapl_delta_uj(last_[i], now[i], domains_[i].max_energy_range_uj);
    last_ = std::move(now);
    total_uj_ += run_uj;
    per_run_.push_back(run_uj / 1000.0);
  }
  EnergyMeasurement finish(const std::vector<RunWindow>&) override {
    EnergyMeasurement e;
    e.total_mj = total_uj_ / 1000.0;
    // The counters update about once a millisecond: single runs shorter than that are not resolved.
    e.per_run_mj = per_run_;
    return e;
  }

 private:
  std::vector<double> read_all() const {
    std::vector<double> v;
    for (const auto& d : domains_) v.push_back(read_number(fs::path(d.path) / "energy_uj"));
    return v;
  }
  std::vector<RaplDomain> domains_;
  std::vector<double> last_;
  double total_uj_ = 0;
  std::vector<double> per_run_;
};

}  // namespace

double rapl_delta_uj(double before_uj, double after_uj, double max_range_uj) {
  if (after_uj >= before_uj) return after_uj - before_uj;
  // The counter passed max_range_uj and restarted at 0.
  return (max_range_uj - before_uj) + after_uj;
}

std::vector<RaplDomain> find_rapl_domains(const std::string& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec))
    throw Error(fmt::format("--power rapl: {} does not exist: this machine exposes no RAPL energy counters (a VM, "
                            "a non-Intel/AMD CPU or a kernel without intel_rapl); use --power trace with an "
                            "external monitor, or --power none",
                            root));
  std::vector<RaplDomain> domains;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    std::string dir = entry.path().filename().string();
    // Top-level domains only: intel-rapl:N (intel-rapl:N:M are parts of package N).
    if (dir.rfind("intel-rapl:", 0) != 0) continue;
    if (dir.find(':', std::strlen("intel-rapl:")) != std::string::npos) continue;
    if (!fs::exists(entry.path() / "energy_uj", ec)) continue;
    RaplDomain d;
    d.path = entry.path().string();
    d.name = fs::exists(entry.path() / "name", ec) ? read_line(entry.path() / "name") : dir;
    // psys covers the whole SoC, packages included: adding it would count them twice.
    if (d.name == "psys") continue;
    d.max_energy_range_uj = read_number(entry.path() / "max_energy_range_uj");
    domains.push_back(d);
  }
  if (domains.empty())
    throw Error(fmt::format("--power rapl: {} holds no intel-rapl:N package domains with an energy_uj counter; "
                            "use --power trace or --power none",
                            root));
  std::sort(domains.begin(), domains.end(), [](const RaplDomain& a, const RaplDomain& b) { return a.path < b.path; });
  return domains;
}

std::unique_ptr<PowerSource> make_rapl_source(const std::string& root) {
  auto domains = find_rapl_domains(root);
  // Read once now, so that a permission problem shows before any model runs.
  for (const auto& d : domains) read_number(fs::path(d.path) / "energy_uj");
  return std::make_unique<RaplSource>(std::move(domains));
}

}  // namespace deepen
