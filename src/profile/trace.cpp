// Energy from an external power monitor's trace: the monitor samples current and voltage on its
// own clock; each run's window (same clock) is integrated with the trapezoidal rule.
#include <deepen/error.h>
#include <deepen/measure.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <sstream>

namespace deepen {
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r\"");
  if (a == std::string::npos) return "";
  size_t b = s.find_last_not_of(" \t\r\"");
  return s.substr(a, b - a + 1);
}

std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, ',')) cells.push_back(trim(cell));
  return cells;  // a trailing comma (Monsoon writes one) gives no extra cell
}

// Calls row(cells, lineno) for each non-blank line left in `in` (the header already read), after
// checking it has at least `need` cells; lineno counts the header as line 1.
template <typename Row>
void for_each_data_row(std::istream& in, const std::string& label, size_t need, Row row) {
  std::string line;
  size_t lineno = 1;
  while (std::getline(in, line)) {
    ++lineno;
    if (trim(line).empty()) continue;
    std::vector<std::string> cells = split_csv(line);
    if (cells.size() < need)
      throw Error(fmt::format("{}:{}: expected at least {} columns, found {}", label, lineno, need, cells.size()));
    row(cells, lineno);
  }
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot open the file", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

double parse_cell(const std::string& cell, const std::string& label, size_t line, const std::string& column) {
  try {
    size_t used = 0;
    double v = std::stod(cell, &used);
    if (used != cell.size() || !std::isfinite(v)) throw std::invalid_argument("junk");
    return v;
  } catch (const std::exception&) {
    throw Error(fmt::format("{}:{}: column '{}' holds '{}', not a number", label, line, column, cell));
  }
}

double us_per(TimeUnit unit) {
  switch (unit) {
    case TimeUnit::Seconds: return 1e6;
    case TimeUnit::Milliseconds: return 1e3;
    default: return 1.0;
  }
}

// The unit in a column name: "Time(ms)", "start_us", "t [s]".
TimeUnit unit_in_name(const std::string& name) {
  std::string n = lower(name);
  for (const auto& [suffix, unit] : std::vector<std::pair<std::string, TimeUnit>>{
           {"(us)", TimeUnit::Microseconds}, {"_us", TimeUnit::Microseconds}, {"[us]", TimeUnit::Microseconds},
           {"(ms)", TimeUnit::Milliseconds}, {"_ms", TimeUnit::Milliseconds}, {"[ms]", TimeUnit::Milliseconds},
           {"(s)", TimeUnit::Seconds}, {"_s", TimeUnit::Seconds}, {"[s]", TimeUnit::Seconds}}) {
    if (n.size() >= suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) return unit;
  }
  return TimeUnit::Auto;
}

// Timestamps since the Unix epoch (2001 to 2286) reveal their unit by their magnitude.
TimeUnit unit_from_epoch_magnitude(double t) {
  if (t >= 1e9 && t < 1e10) return TimeUnit::Seconds;
  if (t >= 1e12 && t < 1e13) return TimeUnit::Milliseconds;
  if (t >= 1e15 && t < 1e16) return TimeUnit::Microseconds;
  return TimeUnit::Auto;
}

}  // namespace

TimeUnit parse_time_unit(const std::string& text) {
  std::string t = lower(text);
  if (t == "auto") return TimeUnit::Auto;
  if (t == "s") return TimeUnit::Seconds;
  if (t == "ms") return TimeUnit::Milliseconds;
  if (t == "us") return TimeUnit::Microseconds;
  throw Error(fmt::format("time unit '{}': use auto, s, ms or us", text));
}

std::string time_unit_name(TimeUnit unit) {
  switch (unit) {
    case TimeUnit::Seconds: return "s";
    case TimeUnit::Milliseconds: return "ms";
    case TimeUnit::Microseconds: return "us";
    default: return "auto";
  }
}

PowerTrace parse_power_trace(const std::string& text, const std::string& label, TimeUnit unit,
                             double sample_rate_hz) {
  std::stringstream in(text);
  std::string line;
  if (!std::getline(in, line)) throw Error(fmt::format("{}: empty power trace", label));
  std::vector<std::string> header = split_csv(line);
  int time_col = -1, current_col = -1, voltage_col = -1;
  for (size_t i = 0; i < header.size(); ++i) {
    std::string h = lower(header[i]);
    if (time_col < 0 && h.rfind("time", 0) == 0) time_col = static_cast<int>(i);
    else if (current_col < 0 && (h.find("(ma)") != std::string::npos || h.find("current") != std::string::npos))
      current_col = static_cast<int>(i);
    else if (voltage_col < 0 && (h.find("(v)") != std::string::npos || h.find("voltage") != std::string::npos))
      voltage_col = static_cast<int>(i);
  }
  if (time_col < 0 || current_col < 0 || voltage_col < 0)
    throw Error(fmt::format("{}: a power trace needs a time column, a current column in mA and a voltage column in V "
                            "(e.g. 'Time(ms),Main(mA),Main Voltage(V)'); the header is '{}'",
                            label, line));
  PowerTrace trace;
  std::vector<double> raw_time;
  std::vector<double> raw_power;
  size_t need = static_cast<size_t>(std::max({time_col, current_col, voltage_col})) + 1;
  for_each_data_row(in, label, need, [&](const std::vector<std::string>& cells, size_t lineno) {
    double t = parse_cell(cells[time_col], label, lineno, header[time_col]);
    double ma = parse_cell(cells[current_col], label, lineno, header[current_col]);
    double v = parse_cell(cells[voltage_col], label, lineno, header[voltage_col]);
    if (!raw_time.empty() && t < raw_time.back())
      throw Error(fmt::format("{}:{}: time {} goes back (previous {})", label, lineno, cells[time_col],
                              raw_time.back()));
    raw_time.push_back(t);
    raw_power.push_back(ma * v);
  });
  if (raw_time.size() < 2) throw Error(fmt::format("{}: a power trace needs at least two samples", label));

  TimeUnit header_unit = unit_in_name(header[time_col]);
  if (unit == TimeUnit::Auto) {
    TimeUnit detected = unit_from_epoch_magnitude(raw_time.front());
    if (detected != TimeUnit::Auto) {
      unit = detected;
      if (header_unit != TimeUnit::Auto && header_unit != detected)
        trace.note = fmt::format("{}: the header says '{}' but the timestamps are {} since the epoch; read as {} "
                                 "(pass --trace-time-unit to override)",
                                 label, header[time_col], time_unit_name(detected), time_unit_name(detected));
    } else if (header_unit != TimeUnit::Auto) {
      unit = header_unit;
    } else {
      throw Error(fmt::format("{}: cannot tell the unit of the time column '{}'; pass --trace-time-unit s|ms|us",
                              label, header[time_col]));
    }
  }
  trace.unit = unit;
  double scale = us_per(unit);
  // Timestamps must increase once in microseconds: huge values in a coarse unit can collapse
  // into one double (a fuzzer found 1.7e14 "seconds" re-stamped at 5 kHz).
  auto check_increasing = [&](const PowerTrace& t) {
    for (size_t i = 1; i < t.time_us.size(); ++i)
      if (!(t.time_us[i] > t.time_us[i - 1]) || !std::isfinite(t.time_us[i]))
        throw Error(fmt::format("{}: timestamps do not increase at sample {} once read as {}: check the time unit "
                                "(--trace-time-unit)",
                                label, i + 1, time_unit_name(unit)));
  };
  if (sample_rate_hz > 0) {
    // The monitor samples at a fixed rate; its software stamps samples as batches arrive.
    // Re-stamping sample i at first + i / rate recovers the sampling times, provided none was lost.
    double stamped_us = (raw_time.back() - raw_time.front()) * scale;
    double restamped_us = static_cast<double>(raw_time.size() - 1) * 1e6 / sample_rate_hz;
    if (std::fabs(restamped_us - stamped_us) > 0.02 * stamped_us + 1000)
      throw Error(fmt::format("{}: {} samples at {} Hz span {:.4f} s but the timestamps span {:.4f} s: samples were "
                              "lost or the rate is wrong; leave --trace-rate out to use the timestamps",
                              label, raw_time.size(), sample_rate_hz, restamped_us / 1e6, stamped_us / 1e6));
    for (size_t i = 0; i < raw_time.size(); ++i) {
      trace.time_us.push_back(raw_time.front() * scale + static_cast<double>(i) * 1e6 / sample_rate_hz);
      trace.power_mw.push_back(raw_power[i]);
    }
    check_increasing(trace);
    return trace;
  }
  size_t same = 1;
  for (size_t i = 0; i < raw_time.size(); ++i) {
    if (i > 0 && raw_time[i] == raw_time[i - 1]) {
      // Samples stamped together (Monsoon stamps batches) become one with their mean power.
      trace.power_mw.back() = (trace.power_mw.back() * static_cast<double>(same) + raw_power[i]) /
                              static_cast<double>(same + 1);
      ++same;
      ++trace.merged_samples;
      continue;
    }
    same = 1;
    trace.time_us.push_back(raw_time[i] * scale);
    trace.power_mw.push_back(raw_power[i]);
  }
  if (trace.time_us.size() < 2) throw Error(fmt::format("{}: a power trace needs samples at two times at least", label));
  check_increasing(trace);
  return trace;
}

PowerTrace read_power_trace(const std::string& path, TimeUnit unit, double sample_rate_hz) {
  return parse_power_trace(read_text(path), path, unit, sample_rate_hz);
}

std::vector<RunWindow> parse_run_windows(const std::string& text, const std::string& label) {
  std::stringstream in(text);
  std::string line;
  if (!std::getline(in, line)) throw Error(fmt::format("{}: empty windows file", label));
  std::vector<std::string> header = split_csv(line);
  int start_col = -1, end_col = -1;
  for (size_t i = 0; i < header.size(); ++i) {
    std::string h = lower(header[i]);
    if (start_col < 0 && h.rfind("start", 0) == 0) start_col = static_cast<int>(i);
    if (end_col < 0 && h.rfind("end", 0) == 0) end_col = static_cast<int>(i);
  }
  if (start_col < 0 || end_col < 0)
    throw Error(fmt::format("{}: a windows file needs start and end columns with their unit (start_us,end_us); the "
                            "header is '{}'",
                            label, line));
  TimeUnit unit = unit_in_name(header[start_col]);
  if (unit == TimeUnit::Auto || unit_in_name(header[end_col]) != unit)
    throw Error(fmt::format("{}: columns '{}' and '{}' must name one unit (_s, _ms or _us)", label, header[start_col],
                            header[end_col]));
  double scale = us_per(unit);
  std::vector<RunWindow> windows;
  size_t need = static_cast<size_t>(std::max(start_col, end_col)) + 1;
  for_each_data_row(in, label, need, [&](const std::vector<std::string>& cells, size_t lineno) {
    RunWindow w;
    w.start_us = parse_cell(cells[start_col], label, lineno, header[start_col]) * scale;
    w.end_us = parse_cell(cells[end_col], label, lineno, header[end_col]) * scale;
    if (w.end_us < w.start_us) throw Error(fmt::format("{}:{}: the window ends before it starts", label, lineno));
    windows.push_back(w);
  });
  if (windows.empty()) throw Error(fmt::format("{}: no windows", label));
  return windows;
}

std::vector<RunWindow> read_run_windows(const std::string& path) { return parse_run_windows(read_text(path), path); }

std::string run_windows_csv(const std::vector<RunWindow>& windows) {
  std::string out = "inference_index,start_us,end_us,duration_us\n";
  for (size_t i = 0; i < windows.size(); ++i)
    out += fmt::format("{},{:.0f},{:.0f},{:.0f}\n", i, windows[i].start_us, windows[i].end_us,
                       windows[i].end_us - windows[i].start_us);
  return out;
}

std::vector<double> integrate_trace(const PowerTrace& trace, const std::vector<RunWindow>& windows) {
  const auto& t = trace.time_us;
  const auto& p = trace.power_mw;
  if (t.size() < 2 || t.size() != p.size()) throw Error("a power trace needs at least two samples");
  auto power_at = [&](double x, size_t i) {  // t[i] <= x <= t[i+1]
    double f = (x - t[i]) / (t[i + 1] - t[i]);
    return p[i] + (p[i + 1] - p[i]) * f;
  };
  std::vector<double> energies;
  energies.reserve(windows.size());
  for (size_t w = 0; w < windows.size(); ++w) {
    double a = windows[w].start_us, b = windows[w].end_us;
    if (a < t.front() || b > t.back())
      throw Error(fmt::format("run window {} ({:.0f} to {:.0f} us) lies outside the trace's clock ({:.0f} to {:.0f} "
                              "us): the monitor did not record it, or the clocks or time units differ",
                              w, a, b, t.front(), t.back()));
    // i: the last sample at or before a.
    size_t i = static_cast<size_t>(std::upper_bound(t.begin(), t.end(), a) - t.begin());
    i = i == 0 ? 0 : i - 1;
    if (i + 1 >= t.size()) i = t.size() - 2;
    double energy_uw_us = 0;  // mW x us
    double x = a, px = power_at(a, i);
    while (x < b) {
      double seg_end = std::min(b, t[i + 1]);
      double pe = power_at(seg_end, i);
      energy_uw_us += 0.5 * (px + pe) * (seg_end - x);
      x = seg_end;
      px = pe;
      ++i;  // when x < b, x == t[i+1] < b <= t.back(), so the next segment exists
    }
    energies.push_back(energy_uw_us * 1e-6);  // mW x s = mJ
  }
  return energies;
}

namespace {
class TraceSource : public PowerSource {
 public:
  TraceSource(std::string path, TimeUnit unit, double rate) : path_(std::move(path)), unit_(unit), rate_(rate) {}
  std::string name() const override { return "trace"; }
  EnergyMeasurement finish(const std::vector<RunWindow>& windows) override {
    // Read after the runs: the monitor keeps writing while they happen.
    PowerTrace trace = read_power_trace(path_, unit_, rate_);
    EnergyMeasurement e;
    e.per_run_mj = integrate_trace(trace, windows);
    e.total_mj = 0;
    for (double v : e.per_run_mj) e.total_mj += v;
    return e;
  }

 private:
  std::string path_;
  TimeUnit unit_;
  double rate_;
};
}  // namespace

std::unique_ptr<PowerSource> make_trace_source(const std::string& path, TimeUnit unit, double sample_rate_hz) {
  std::ifstream in(path);
  if (!in) throw Error(fmt::format("--trace {}: cannot open the power trace", path));
  return std::make_unique<TraceSource>(path, unit, sample_rate_hz);
}

std::vector<std::string> power_source_names() { return {"none", "rapl", "trace"}; }

std::unique_ptr<PowerSource> make_power_source(const PowerOptions& options) {
  if (options.source == "none") return nullptr;
  if (options.source == "rapl") return make_rapl_source(options.rapl_root);
  if (options.source == "trace") {
    if (options.trace_path.empty())
      throw Error("--power trace needs --trace FILE: the power monitor's CSV (time, current mA, voltage V)");
    return make_trace_source(options.trace_path, options.trace_unit, options.trace_rate_hz);
  }
  throw Error(fmt::format("--power {}: use none, rapl or trace", options.source));
}

}  // namespace deepen
