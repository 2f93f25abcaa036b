// Whole-model measurement: warm-up, timed runs on a monotonic clock, windows on the wall clock
// (the one a power monitor's trace uses), then the power source's energy for those windows.
#include <deepen/error.h>
#include <deepen/measure.h>

#include <fmt/format.h>

#include <chrono>
#include <cmath>

#ifdef __linux__
#include <sched.h>
#endif

namespace deepen {

double wall_clock_us() {
  using namespace std::chrono;
  return static_cast<double>(duration_cast<microseconds>(system_clock::now().time_since_epoch()).count());
}

void pin_to_cpu(int cpu) {
#ifdef __linux__
  if (cpu < 0 || cpu >= CPU_SETSIZE) throw Error(fmt::format("--pin {}: no such CPU", cpu));
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof(set), &set) != 0)
    throw Error(fmt::format("--pin {}: this process may not run on CPU {} (see 'nproc' and taskset)", cpu, cpu));
#else
  (void)cpu;
  throw Error("--pin is supported on Linux only");
#endif
}

Measurement measure_model(Backend& backend, const std::string& model_path, const MeasureOptions& options,
                          PowerSource* power) {
  if (options.runs < 1) throw Error("--runs must be at least 1");
  if (options.warmup < 0) throw Error("--warmup must not be negative");
  Measurement m;
  m.model = model_path;
  m.backend = backend.name();
  m.power_source = power ? power->name() : "none";
  try {
    backend.load(model_path);
    auto w0 = std::chrono::steady_clock::now();
    for (int i = 0; i < options.warmup; ++i) {
      backend.run();
      if (options.max_seconds > 0 &&
          std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count() > options.max_seconds / 2)
        break;
    }
  } catch (const Error& e) {
    m.error = e.what();
    m.error_kind = e.kind();
    m.error_names_model = e.file() == model_path;
    return m;
  }
  m.latencies_ms.reserve(static_cast<size_t>(options.runs));
  m.windows.reserve(static_cast<size_t>(options.runs));
  if (power) power->start();
  double timed_s = 0;
  try {
    for (int i = 0; i < options.runs; ++i) {
      if (options.max_seconds > 0 && i >= 3 && timed_s > options.max_seconds) break;
      RunWindow w;
      w.start_us = wall_clock_us();
      auto t0 = std::chrono::steady_clock::now();
      backend.run();
      auto t1 = std::chrono::steady_clock::now();
      w.end_us = wall_clock_us();
      if (power) power->after_run();
      m.latencies_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      timed_s += m.latencies_ms.back() / 1000.0;
      m.windows.push_back(w);
    }
  } catch (const Error& e) {
    m.error = e.what();
    m.error_kind = e.kind();
    m.error_names_model = e.file() == model_path;
    return m;
  }
  m.latency_ms = spread_of(m.latencies_ms);
  if (power) {
    EnergyMeasurement e = power->finish(m.windows);
    m.energy_mj = e.total_mj / static_cast<double>(m.latencies_ms.size());
    if (!e.per_run_mj.empty()) m.energy_per_run_mj = spread_of(e.per_run_mj);
    double total_ms = 0;
    for (double l : m.latencies_ms) total_ms += l;
    if (total_ms > 0) m.power_mw = e.total_mj / (total_ms / 1000.0);
  }
  return m;
}

}  // namespace deepen
