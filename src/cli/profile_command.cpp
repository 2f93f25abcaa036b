#include "cli/commands.h"

#include <deepen/error.h>
#include <deepen/kernels.h>
#include <deepen/measure.h>
#include <deepen/profile.h>

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>

namespace deepen::cli {
namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_interrupt(int) {
  g_stop.store(true);
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the process at once
}

struct ProfileFlags {
  std::string backend = "opencv", kernels, out, power = "none", rapl_root = "/sys/class/powercap", trace,
              trace_time_unit = "auto", work_dir, rules_out = "fusion_rules.yaml", fusion_pairs, in_network, rules;
  size_t samples = 100, refine = 0;
  uint64_t seed = 1;
  double uniform_share = 0.2, max_seconds = 1.0, threshold = 0.10;
  double trace_rate = 0;
  int threads = 1, warmup = -1, runs = -1, pin = -1, variants = 10;
  bool fusion_rules = false, quiet = false, print_name = false;
};

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string format_duration(double s) {
  if (!(s >= 0) || s > 1e7) return "--";
  int total = static_cast<int>(s + 0.5);
  if (total >= 3600) return fmt::format("{}h{:02}m", total / 3600, total / 60 % 60);
  return fmt::format("{}m{:02}s", total / 60, total % 60);
}

int run_fusion(const ProfileFlags& f, Backend& backend) {
  FusionDetectOptions o;
  if (f.warmup >= 0) o.measure.warmup = f.warmup;
  if (f.runs > 0) o.measure.runs = f.runs;
  o.work_dir = f.work_dir;
  for (const auto& pair : split_list(f.fusion_pairs)) {
    size_t dash = pair.find('-');
    if (dash == std::string::npos) throw Error(fmt::format("--pairs: '{}' is not op1-op2", pair));
    o.pairs.emplace_back(pair.substr(0, dash), pair.substr(dash + 1));
  }
  std::vector<FusionTest> tests = detect_fusion_tests(backend, o);
  std::cerr << fmt::format("{:<8} {:<7} {:>9} {:>9} {:>9}  {}\n", "op1", "op2", "op1_ms", "op2_ms", "pair_ms", "fused");
  for (const auto& t : tests) {
    if (!t.error.empty()) std::cerr << fmt::format("{:<8} {:<7} failed: {}\n", t.op1, t.op2, t.error);
    else
      std::cerr << fmt::format("{:<8} {:<7} {:>9.4f} {:>9.4f} {:>9.4f}  {}\n", t.op1, t.op2, t.op1_ms, t.op2_ms,
                               t.pair_ms, t.fused ? "yes" : "no");
  }
  if (!tests.empty()) std::cerr << fmt::format("(per-model overhead {:.4f} ms, taken off every time)\n", tests[0].overhead_ms);
  std::string yaml = fusion_rules_to_yaml(fusion_rules_from_tests(tests));
  yaml = fmt::format("# Detected by deepen profile --fusion-rules --backend {} ({}).\n", f.backend,
                     host_predictor_name(f.backend)) + yaml;
  emit(yaml, f.rules_out);
  if (f.rules_out != "-") std::cerr << "wrote " << f.rules_out << "\n";
  return kExitOk;
}

// A progress line on stderr with an ETA from the pace since the first item (nothing when quiet).
std::function<void(const ProfileProgress&)> progress_bar(bool quiet, std::chrono::steady_clock::time_point t0) {
  auto first_done = std::make_shared<size_t>(SIZE_MAX);
  return [quiet, t0, first_done](const ProfileProgress& p) {
    if (quiet) return;
    if (*first_done == SIZE_MAX) *first_done = p.done - 1;
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    double per = elapsed / static_cast<double>(p.done - *first_done);
    double eta = per * static_cast<double>(p.total > p.done ? p.total - p.done : 0);
    size_t width = 30, filled = p.total ? width * std::min(p.done, p.total) / p.total : width;
    std::cerr << fmt::format("\r[{}{}] {}/{} {:<16} round {} failed {} ETA {}   ", std::string(filled, '#'),
                             std::string(width - filled, '.'), p.done, p.total, p.current, p.round, p.failed,
                             format_duration(eta))
              << std::flush;
  };
}

// Runs a profile with Ctrl-C setting g_stop (the profile stops after the current item).
ProfileSummary until_interrupted(bool quiet, const std::function<ProfileSummary()>& profile) {
  g_stop.store(false);
  auto previous = std::signal(SIGINT, on_interrupt);
  ProfileSummary s;
  try {
    s = profile();
  } catch (...) {
    std::signal(SIGINT, previous);
    if (!quiet) std::cerr << "\n";
    throw;
  }
  std::signal(SIGINT, previous);
  return s;
}

int run_in_network(const ProfileFlags& f, Backend& backend) {
  if (f.out.empty()) throw Error("--out: name the dataset CSV to write (rerunning with the same file resumes it)");
  if (f.power != "none") throw Error("--power: energy needs isolated kernels; --in-network measures latency only");
  if (f.refine > 0) throw Error("--refine: the fine-grained round samples isolated kernels; not with --in-network");
  InNetworkOptions o;
  o.families = split_list(f.in_network);
  o.variants = f.variants;
  o.seed = f.seed;
  o.kernel_types = split_list(f.kernels);
  if (f.warmup >= 0) o.measure.warmup = f.warmup;
  if (f.runs > 0) o.measure.runs = f.runs;
  if (!f.rules.empty()) o.rules = load_fusion_rules(f.rules);
  o.out = f.out;
  o.work_dir = f.work_dir;
  auto t0 = std::chrono::steady_clock::now();
  auto progress = progress_bar(f.quiet, t0);
  ProfileSummary s = until_interrupted(f.quiet, [&] { return profile_in_network(backend, o, g_stop, progress); });
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!f.quiet) std::cerr << "\n";
  std::cerr << fmt::format("{}: {} kernels measured in whole networks, {} models failed, {} models already there; "
                           "per model: {}; {}{}\n",
                           f.out, s.measured, s.failed, s.skipped, models_path(f.out), format_duration(elapsed),
                           s.interrupted ? "; interrupted: rerun the same command to resume" : "");
  std::cerr << fmt::format("suggested predictor name for this host: {}\n", host_predictor_name(f.backend));
  return s.interrupted ? kExitPartial : kExitOk;
}

int run_profile(const ProfileFlags& f) {
  if (f.print_name) {
    std::cout << host_predictor_name(f.backend) << "\n";
    return kExitOk;
  }
  BackendOptions bo;
  bo.threads = f.threads;
  std::unique_ptr<Backend> backend = make_backend(f.backend, bo);
  if (f.pin >= 0) pin_to_cpu(f.pin);
  if (f.fusion_rules) return run_fusion(f, *backend);

  if (!f.in_network.empty()) return run_in_network(f, *backend);
  if (f.kernels.empty()) throw Error("--kernels: name the kernel types to profile, e.g. conv-bn-relu,dwconv-bn-relu");
  if (f.out.empty()) throw Error("--out: name the dataset CSV to write (rerunning with the same file resumes it)");
  PowerOptions po;
  po.source = f.power;
  po.rapl_root = f.rapl_root;
  po.trace_path = f.trace;
  po.trace_unit = parse_time_unit(f.trace_time_unit);
  po.trace_rate_hz = f.trace_rate;
  std::unique_ptr<PowerSource> power = make_power_source(po);

  ProfileOptions o;
  o.kernel_types = split_list(f.kernels);
  o.samples = f.samples;
  o.refine_samples = f.refine;
  o.refine_threshold = f.threshold;
  o.seed = f.seed;
  o.uniform_share = f.uniform_share;
  if (f.warmup >= 0) o.measure.warmup = f.warmup;
  if (f.runs > 0) o.measure.runs = f.runs;
  o.max_seconds_per_kernel = f.max_seconds;
  o.out = f.out;
  o.work_dir = f.work_dir;

  auto t0 = std::chrono::steady_clock::now();
  auto progress = progress_bar(f.quiet, t0);
  ProfileSummary s =
      until_interrupted(f.quiet, [&] { return profile_kernels(*backend, o, power.get(), g_stop, progress); });
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!f.quiet) std::cerr << "\n";
  std::cerr << fmt::format("{}: {} kernels measured ({} in the fine-grained round), {} failed, {} already there; {}{}\n",
                           f.out, s.measured, s.refined, s.failed, s.skipped, format_duration(elapsed),
                           s.interrupted ? "; interrupted: rerun the same command to resume" : "");
  std::cerr << fmt::format("suggested predictor name for this host: {}\n", host_predictor_name(f.backend));
  if (s.interrupted) return kExitPartial;
  return kExitOk;
}

}  // namespace

void add_profile_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ProfileFlags>();
  CLI::App* cmd = app.add_subcommand(
      "profile", "Build a kernel dataset on this machine (or find the backend's fusion rules with --fusion-rules)");
  cmd->add_option("--backend,-b", flags->backend, "Runtime that runs the kernels")
      ->check(CLI::IsMember(backend_names()))
      ->capture_default_str();
  cmd->add_option("--kernels,-k", flags->kernels, "Kernel types to sample, comma-separated, e.g. conv-bn-relu,dwconv-bn-relu");
  cmd->add_option("--samples,-n", flags->samples, "Kernels of the first round (rows already in --out count)")
      ->capture_default_str();
  cmd->add_option("--refine", flags->refine,
                  "Kernels of the fine-grained round, sampled around configurations predicted >10% off")
      ->capture_default_str();
  cmd->add_option("--refine-threshold", flags->threshold, "Relative error that marks a configuration for refinement")
      ->capture_default_str();
  cmd->add_option("--out,-o", flags->out, "Dataset CSV; rerunning with the same file skips rows already measured");
  cmd->add_option("--seed", flags->seed, "Sampling seed")->capture_default_str();
  cmd->add_option("--uniform-share", flags->uniform_share, "Share of samples drawn uniformly over the valid ranges")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--threads,-t", flags->threads, "Threads the backend may use")->capture_default_str();
  cmd->add_option("--warmup", flags->warmup, "Untimed runs per kernel (default 5; fusion tests 10; per model with --in-network: 3)");
  cmd->add_option("--runs,-r", flags->runs, "Timed runs per kernel (default 15; fusion tests 50; per model with --in-network: 15)");
  cmd->add_option("--max-seconds", flags->max_seconds, "Stop timing a kernel after this long (at least 3 runs)")
      ->capture_default_str();
  cmd->add_option("--pin", flags->pin, "Pin deepen to this CPU (Linux)");
  cmd->add_option("--power", flags->power, "Energy source: none, rapl, trace")
      ->check(CLI::IsMember(power_source_names()))
      ->capture_default_str();
  cmd->add_option("--rapl-root", flags->rapl_root, "Where the powercap counters are")->capture_default_str();
  cmd->add_option("--trace", flags->trace, "Power monitor CSV (time, current mA, voltage V)");
  cmd->add_option("--trace-rate", flags->trace_rate,
                  "Re-stamp trace samples at this fixed rate in Hz (Monsoon: 5000) instead of trusting batch timestamps");
  cmd->add_option("--trace-time-unit", flags->trace_time_unit, "auto, s, ms or us")
      ->check(CLI::IsMember({"auto", "s", "ms", "us"}))
      ->capture_default_str();
  cmd->add_option("--work-dir", flags->work_dir, "Where the kernel models are written (default: a temporary folder)");
  cmd->add_flag("--fusion-rules", flags->fusion_rules,
                "Find which op pairs the backend fuses (times op1, op2 and the pair) and write fusion_rules.yaml");
  cmd->add_option("--pairs", flags->fusion_pairs, "With --fusion-rules: the pairs to test, e.g. conv-relu,bn-relu");
  cmd->add_option("--rules-out", flags->rules_out, "With --fusion-rules: where to write the rules ('-': stdout)")
      ->capture_default_str();
  cmd->add_option("--in-network", flags->in_network,
                  "Profile kernels inside whole networks: variants of these zoo families, comma-separated, timed per "
                  "layer (fusions and caches as in real models)");
  cmd->add_option("--variants", flags->variants, "With --in-network: variants per family (seeded by --seed)")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--rules", flags->rules,
                  "With --in-network: fusion_rules.yaml that groups ops into kernels (the one the predictor is trained "
                  "with; default: deepen's default rules)");
  cmd->add_flag("--quiet,-q", flags->quiet, "No progress bar");
  cmd->add_flag("--print-name", flags->print_name, "Print the predictor name suggested for this host and backend");
  cmd->callback([flags, &exit_code] { exit_code = run_profile(*flags); });
}

}  // namespace deepen::cli
