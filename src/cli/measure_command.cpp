#include "cli/commands.h"

#include <deepen/error.h>
#include <deepen/measure.h>
#include <deepen/writers.h>

#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <sstream>

namespace deepen::cli {
namespace {

struct MeasureFlags {
  std::vector<std::string> models;
  std::string backend = "opencv", power = "none", rapl_root = "/sys/class/powercap", trace,
                         trace_time_unit = "auto", windows, windows_out, format = "table", output;
  double trace_rate = 0;
  int threads = 1, warmup = 10, runs = 50, pin = -1, rounds = 1;
};

void emit_measurements(const std::vector<Measurement>& ms, const MeasureFlags& f) {
  std::ostringstream text;
  find_format(measurement_formats(), f.format).write(text, ms);
  emit(text.str(), f.output);
}

// --windows: integrate a recorded trace over recorded windows, no model runs.
int run_integrate(const MeasureFlags& f) {
  if (f.power != "trace") throw Error("--windows integrates a recorded trace: give it with --power trace --trace FILE");
  if (f.trace.empty()) throw Error("--power trace needs --trace FILE: the power monitor's CSV");
  PowerTrace trace = read_power_trace(f.trace, parse_time_unit(f.trace_time_unit), f.trace_rate);
  if (!trace.note.empty()) print_note(trace.note);
  if (trace.merged_samples > 0)
    print_note(fmt::format("{}: {} samples shared a timestamp with the one before and were averaged into it "
                           "(--trace-rate re-stamps them instead)",
                           f.trace, trace.merged_samples));
  std::vector<RunWindow> windows = read_run_windows(f.windows);
  std::vector<double> energy = integrate_trace(trace, windows);
  Measurement m;
  m.model = f.windows;
  m.backend = "recorded";
  m.power_source = "trace";
  double total_mj = 0, total_ms = 0;
  for (size_t i = 0; i < windows.size(); ++i) {
    m.latencies_ms.push_back((windows[i].end_us - windows[i].start_us) / 1000.0);
    total_mj += energy[i];
    total_ms += m.latencies_ms.back();
  }
  m.windows = windows;
  m.latency_ms = spread_of(m.latencies_ms);
  m.energy_mj = total_mj / static_cast<double>(windows.size());
  m.energy_per_run_mj = spread_of(energy);
  if (total_ms > 0) m.power_mw = total_mj / (total_ms / 1000.0);
  emit_measurements({m}, f);
  return kExitOk;
}

int run_measure(const MeasureFlags& f) {
  if (!f.windows.empty()) return run_integrate(f);
  if (f.models.empty()) throw Error("deepen measure needs MODEL.onnx or a folder of models");
  std::vector<std::string> files;
  for (const auto& m : f.models)
    for (auto& file : model_files(m)) files.push_back(std::move(file));
  BackendOptions bo;
  bo.threads = f.threads;
  std::unique_ptr<Backend> backend = make_backend(f.backend, bo);
  PowerOptions po;
  po.source = f.power;
  po.rapl_root = f.rapl_root;
  po.trace_path = f.trace;
  po.trace_unit = parse_time_unit(f.trace_time_unit);
  po.trace_rate_hz = f.trace_rate;
  std::unique_ptr<PowerSource> power = make_power_source(po);
  if (f.pin >= 0) pin_to_cpu(f.pin);
  MeasureOptions mo;
  mo.warmup = f.warmup;
  mo.runs = f.runs;
  if (f.rounds < 1) throw Error("--rounds must be at least 1");
  if (f.rounds > 1 && power) throw Error("--rounds pools latencies only; measure energy with --rounds 1");
  std::vector<Measurement> ms(files.size());
  std::vector<RunWindow> all_windows;
  // Round r measures every model once more; a model's runs of all rounds are pooled, so that a
  // burst of load from elsewhere on a shared machine hits some of its runs, not all of them.
  for (int r = 0; r < f.rounds; ++r) {
    for (size_t i = 0; i < files.size(); ++i) {
      if (r > 0 && !ms[i].error.empty()) continue;
      Measurement m = measure_model(*backend, files[i], mo, power.get());
      m.threads = f.threads;
      all_windows.insert(all_windows.end(), m.windows.begin(), m.windows.end());
      if (r == 0 || !m.error.empty()) {
        ms[i] = std::move(m);
        continue;
      }
      ms[i].latencies_ms.insert(ms[i].latencies_ms.end(), m.latencies_ms.begin(), m.latencies_ms.end());
      ms[i].windows.insert(ms[i].windows.end(), m.windows.begin(), m.windows.end());
      ms[i].latency_ms = spread_of(ms[i].latencies_ms);
    }
  }
  size_t failed = 0;
  for (const auto& m : ms) failed += !m.error.empty();
  // A model's error is said once: in the table's row for it, or else on stderr (JSON and CSV carry
  // it as data too). One model that could not be run is the command's error, on stderr, and gets
  // no table of that one failure.
  const bool one_failed = files.size() == 1 && failed == 1;
  if (f.format != "table" || one_failed)
    for (const auto& m : ms)
      if (!m.error.empty()) print_error(m.error_names_model || one_failed ? m.error : m.model + ": " + m.error);
  if (!f.windows_out.empty()) emit(run_windows_csv(all_windows), f.windows_out);
  if (!(one_failed && f.format == "table")) emit_measurements(ms, f);
  if (failed == 0) return kExitOk;
  if (one_failed) return exit_code(ms[0].error_kind);
  return kExitPartial;
}

}  // namespace

void add_measure_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<MeasureFlags>();
  CLI::App* cmd = app.add_subcommand(
      "measure", "Run ONNX models for real on this machine: median latency with its spread, energy and power");
  cmd->add_option("models", flags->models, ".onnx files, or folders: every .onnx in them, by name");
  cmd->add_option("--backend,-b", flags->backend, "Runtime that runs the models")
      ->check(CLI::IsMember(backend_names()))
      ->capture_default_str();
  cmd->add_option("--threads,-t", flags->threads, "Threads the backend may use")->capture_default_str();
  cmd->add_option("--warmup", flags->warmup, "Untimed runs before timing")->capture_default_str();
  cmd->add_option("--runs,-r", flags->runs, "Timed runs (per round)")->capture_default_str();
  cmd->add_option("--rounds", flags->rounds,
                  "Measure all the models this many times over and pool each model's runs (latency only): spreads "
                  "a model's runs over time, against bursts of load on a shared machine")
      ->capture_default_str();
  cmd->add_option("--pin", flags->pin, "Pin deepen to this CPU (Linux), to keep the scheduler out of the figures");
  cmd->add_option("--power", flags->power, "Energy source: none (latency only), rapl (Linux powercap), trace "
                                           "(an external monitor's CSV)")
      ->check(CLI::IsMember(power_source_names()))
      ->capture_default_str();
  cmd->add_option("--rapl-root", flags->rapl_root, "Where the powercap counters are")->capture_default_str();
  cmd->add_option("--trace", flags->trace, "Power monitor CSV: time, current (mA), voltage (V), Monsoon style");
  cmd->add_option("--trace-rate", flags->trace_rate,
                  "Re-stamp trace samples at this fixed rate in Hz (Monsoon: 5000) instead of trusting batch timestamps");
  cmd->add_option("--trace-time-unit", flags->trace_time_unit,
                  "Unit of the trace's time column: auto (epoch timestamps by magnitude, else the header), s, ms, us")
      ->check(CLI::IsMember({"auto", "s", "ms", "us"}))
      ->capture_default_str();
  cmd->add_option("--windows", flags->windows,
                  "Integrate the trace over these recorded windows (CSV start_us,end_us) instead of running a model");
  cmd->add_option("--windows-out", flags->windows_out, "Write the timed runs' windows (wall clock, us) to FILE");
  add_format_option(cmd, flags->format, format_names(measurement_formats()));
  cmd->add_option("--output,-o", flags->output, "Write the output to FILE instead of standard output");
  cmd->callback([flags, &exit_code] { exit_code = run_measure(*flags); });
}

}  // namespace deepen::cli
