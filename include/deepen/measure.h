// deepen/measure.h: running models for real on the machine deepen runs on. A Backend loads an
// ONNX model and runs one inference; measure_model() warms it up, times the runs and summarises
// them (median and spread); a PowerSource (RAPL counters or an external monitor's trace) turns the
// runs' windows into energy. Statistics: percentiles with linear interpolation.
#pragma once

#include <deepen/error.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace deepen {

// ---- statistics

// The p-th percentile (0..100) with linear interpolation between closest ranks; Error when empty.
double percentile(std::vector<double> values, double p);

struct Spread {
  size_t n = 0;
  double median = NAN, min = NAN, p10 = NAN, p90 = NAN, max = NAN, mean = NAN;
};
Spread spread_of(const std::vector<double>& values);

// ---- clocks and run windows

// Microseconds since the Unix epoch from the system clock: the clock an external power monitor's
// trace is aligned with (synchronise the machines with NTP/PTP when the monitor is elsewhere).
double wall_clock_us();

// Start and end of one timed inference, microseconds on the trace's clock.
struct RunWindow {
  double start_us = 0, end_us = 0;
};

// ---- backends

struct BackendOptions {
  int threads = 1;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // Loads a model and prepares an input of its shape; Error when the backend cannot run it.
  virtual void load(const std::string& onnx_path) = 0;
  // One inference on the loaded model; Error when it fails.
  virtual void run() = 0;
  // The time of each of the backend's layers in the last run(), in ms, in execution order, keyed by
  // layer name (OpenCV: the ONNX node's first output, or that plus "/suffix" for helper layers;
  // layers fused into another take ~0). Empty when the backend cannot tell.
  virtual std::vector<std::pair<std::string, double>> layer_times_ms() { return {}; }
};

// The backends this build knows (whether or not they are available).
std::vector<std::string> backend_names();
// Whether this build can run the backend; when not, `why` says how to get it.
bool backend_available(const std::string& name, std::string* why = nullptr);
// Error for an unknown backend or one this build lacks (the message says how to get it).
std::unique_ptr<Backend> make_backend(const std::string& name, const BackendOptions& options = {});

// ---- power sources

struct EnergyMeasurement {
  double total_mj = NAN;           // over all timed runs
  std::vector<double> per_run_mj;  // one per run when the source resolves single runs
};

class PowerSource {
 public:
  virtual ~PowerSource() = default;
  virtual std::string name() const = 0;
  virtual void start() {}      // just before the first timed run
  virtual void after_run() {}  // after each timed run
  // The energy of the timed runs, given their windows, once they are all done.
  virtual EnergyMeasurement finish(const std::vector<RunWindow>& windows) = 0;
};

// RAPL: the Linux powercap energy counters (/sys/class/powercap/intel-rapl:N, the package
// domains; intel-rapl:N:M subdomains are parts of a package and not added again).
struct RaplDomain {
  std::string path;  // the domain's folder
  std::string name;  // its `name` file: package-0, ...
  double max_energy_range_uj = 0;
};
// The package domains under root; Error when there are none (with what to do).
std::vector<RaplDomain> find_rapl_domains(const std::string& root = "/sys/class/powercap");
// The energy between two readings of a counter that wraps to 0 after max_range_uj.
double rapl_delta_uj(double before_uj, double after_uj, double max_range_uj);
std::unique_ptr<PowerSource> make_rapl_source(const std::string& root = "/sys/class/powercap");

// Traces of an external power monitor: CSV with a time column, current (mA) and voltage (V), as a
// Monsoon monitor writes it (`Time(ms),Main(mA),Main Voltage(V),`).
enum class TimeUnit { Auto, Seconds, Milliseconds, Microseconds };
TimeUnit parse_time_unit(const std::string& text);  // auto, s, ms, us; Error otherwise
std::string time_unit_name(TimeUnit unit);

struct PowerTrace {
  std::vector<double> time_us;   // increasing
  std::vector<double> power_mw;  // current (mA) x voltage (V)
  TimeUnit unit = TimeUnit::Auto;  // the unit the time column was read in
  std::string note;  // e.g. that the header's unit was overridden by detection
  size_t merged_samples = 0;  // samples that shared a timestamp with the one before (averaged into it)
};
// Auto: epoch timestamps are recognised by magnitude (s ~1e9, ms ~1e12, us ~1e15); otherwise
// the header's unit (`Time(ms)`) is used; without either, Error asking for the unit.
// Samples that share a timestamp (Monsoon's software stamps batches as they arrive) become one
// sample with their mean power; or, with sample_rate_hz > 0, sample i is re-stamped at
// first + i / rate (Error when the count and the rate do not fit the stamped span: lost samples).
PowerTrace read_power_trace(const std::string& path, TimeUnit unit = TimeUnit::Auto, double sample_rate_hz = 0);
PowerTrace parse_power_trace(const std::string& text, const std::string& label, TimeUnit unit = TimeUnit::Auto,
                             double sample_rate_hz = 0);
// Windows CSV: start and end columns whose names give the unit (start_us, end_us, or _ms, _s).
std::vector<RunWindow> read_run_windows(const std::string& path);
std::vector<RunWindow> parse_run_windows(const std::string& text, const std::string& label);
std::string run_windows_csv(const std::vector<RunWindow>& windows);
// Energy (mJ) of each window: the trapezoidal integral of power over it, with the power at the
// window's edges interpolated linearly. Error naming the first window outside the trace's clock.
std::vector<double> integrate_trace(const PowerTrace& trace, const std::vector<RunWindow>& windows);
std::unique_ptr<PowerSource> make_trace_source(const std::string& path, TimeUnit unit = TimeUnit::Auto,
                                               double sample_rate_hz = 0);

struct PowerOptions {
  std::string source = "none";  // none, rapl, trace
  std::string rapl_root = "/sys/class/powercap";
  std::string trace_path;
  TimeUnit trace_unit = TimeUnit::Auto;
  double trace_rate_hz = 0;  // > 0: re-stamp samples at this rate (see read_power_trace)
};
std::vector<std::string> power_source_names();
// nullptr for "none"; Error for an unknown or absent source.
std::unique_ptr<PowerSource> make_power_source(const PowerOptions& options);

// ---- measuring whole models

struct MeasureOptions {
  int warmup = 10;
  int runs = 50;
  // When > 0, warm-up stops past half of this and timed runs past all of it (after 3 runs):
  // profiling thousands of kernels must not spend a minute on one big convolution.
  double max_seconds = 0;
};

struct Measurement {
  std::string model;
  std::string backend;
  int threads = 1;
  std::string error;  // non-empty when the model could not be run
  ErrorKind error_kind = ErrorKind::BadInput;  // with error: the kind of the Error that stopped it
  bool error_names_model = false;              // with error: it starts with the model ("MODEL: ...")
  std::vector<double> latencies_ms;
  Spread latency_ms;
  std::vector<RunWindow> windows;
  std::string power_source = "none";
  double energy_mj = NAN;  // per inference (mean)
  Spread energy_per_run_mj;  // when the source resolves single runs
  double power_mw = NAN;   // average over the runs: energy / latency
};

// Loads the model into the backend, runs `warmup` untimed and `runs` timed inferences. A failure
// of the model is recorded in `error`; errors of the power source propagate.
Measurement measure_model(Backend& backend, const std::string& model_path, const MeasureOptions& options,
                          PowerSource* power = nullptr);

// Pins the calling thread to one CPU (Linux); Error when the CPU does not exist or is not allowed.
void pin_to_cpu(int cpu);

// Output of `deepen measure` (formats documented in docs/measure.md).
void write_measurements_table(std::ostream& out, const std::vector<Measurement>& ms);
void write_measurements_json(std::ostream& out, const std::vector<Measurement>& ms);
void write_measurements_csv(std::ostream& out, const std::vector<Measurement>& ms);

}  // namespace deepen
