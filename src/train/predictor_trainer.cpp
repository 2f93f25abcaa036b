// deepen train: datasets in, one booster per kernel type and purpose out, cross-validated, with
// the fallback's coefficients, the fusion rules and a registry entry that records all of it.
#include <deepen/error.h>
#include <deepen/schema.h>
#include <deepen/train.h>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace deepen {
namespace {

constexpr size_t kMinRows = 5;  // fewer rows of a kernel type: no booster, the fallback scores it

std::string g4(double v) { return fmt::format("{:.4g}", v); }
std::string g6(double v) { return fmt::format("{:.6g}", v); }

void check_name(const std::string& name) {
  if (name.empty()) throw Error("--name is empty: name the predictor, e.g. mydevice_tflite");
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
      throw Error(fmt::format("predictor name '{}': use letters, digits, '_', '-' and '.' only (it names a folder)",
                              name));
  if (name == "." || name == "..") throw Error(fmt::format("predictor name '{}' is not a folder name", name));
}

// The command that trains the same predictor again (same data, parameters and seed).
std::string reproduce_command(const TrainRequest& req, const std::string& purpose) {
  std::string cmd = "deepen train";
  for (const auto& m : req.models) cmd += " --models " + m;
  for (const auto& d : req.datasets) cmd += " --dataset " + d;
  const TrainParams& p = req.params;
  cmd += fmt::format(" --name {} --purpose {} --seed {} --folds {} --rounds {} --max-depth {} --eta {:g}", req.name,
                     purpose, p.seed, p.folds, p.rounds, p.max_depth, p.eta);
  if (req.correction != "auto") cmd += " --model-correction " + req.correction;
  if (req.kernel_base != "work") cmd += " --kernel-base " + req.kernel_base;
  if (req.correction_features != "all") cmd += " --correction-features " + req.correction_features;
  if (!req.fusion_rules_path.empty()) cmd += " --fusion-rules " + req.fusion_rules_path;
  return cmd;
}

}  // namespace

PowerEnvelope measured_power_envelope(const KernelDataset& data) {
  double lo = INFINITY, hi = 0;
  size_t n = 0;
  for (const auto& r : data.rows) {
    double mw = NAN;
    if (auto p = r.targets.find("power_mw"); p != r.targets.end()) mw = p->second;
    auto e = r.targets.find("energy_mj"), l = r.targets.find("latency_ms");
    if (std::isnan(mw) && e != r.targets.end() && l != r.targets.end() && l->second > 0)
      mw = e->second / l->second * 1000.0;
    if (!(mw > 0) || !std::isfinite(mw)) continue;
    lo = std::min(lo, mw), hi = std::max(hi, mw), ++n;
  }
  PowerEnvelope pe;
  if (n == 0) return pe;
  pe.min_mw = lo / 2;
  pe.max_mw = hi * 2;
  pe.note = fmt::format("half to twice the {:.3g}-{:.3g} W measured on {} rows", lo / 1000, hi / 1000, n);
  return pe;
}

TrainResult train_predictor(const TrainRequest& req, const std::function<void(const std::string&)>& progress) {
  check_name(req.name);
  if (req.datasets.empty() && req.models.empty())
    throw Error("nothing to train on: give --dataset (measured kernels) and/or --models (measured models or blocks)");
  if (req.correction != "auto" && req.correction != "on" && req.correction != "off")
    throw Error(fmt::format("--model-correction '{}': use auto, on or off", req.correction));
  if (req.kernel_base != "work" && req.kernel_base != "launch")
    throw Error(fmt::format("--kernel-base '{}': use work or launch", req.kernel_base));
  if (req.correction_features != "all" && req.correction_features != "counts")
    throw Error(fmt::format("--correction-features '{}': use all or counts", req.correction_features));
  if (!req.version.empty() && req.version.find_first_not_of("0123456789.") != std::string::npos)
    throw Error(fmt::format("--version '{}': use numbers and dots, e.g. 1.2", req.version));
  auto say = [&](const std::string& s) {
    if (progress) progress(s);
  };

  // Data.
  KernelDataset all;
  std::vector<std::pair<std::string, size_t>> files;
  for (const auto& path : req.datasets) {
    KernelDataset d = read_dataset_csv(path);
    files.emplace_back(path, d.rows.size());
    for (auto& r : d.rows) all.rows.push_back(std::move(r));
  }
  // Purposes learned from measured models (composite) and from kernel rows alone.
  std::set<std::string> model_columns;
  for (const auto& path : req.models)
    for (const auto& c : csv_header(path, "model measurements")) model_columns.insert(c);
  auto in_models = [&](const std::string& purpose) {
    return !req.models.empty() && purpose != "power" && model_columns.count(purpose_field(parse_purpose(purpose)));
  };
  std::vector<std::string> purposes;
  if (req.purposes.empty()) {
    for (const auto& t : target_columns()) {
      std::string purpose = t.substr(0, t.find('_'));
      if (all.count(t) || in_models(purpose)) purposes.push_back(purpose);
    }
    if (purposes.empty())
      throw Error("the data has no measured values: expected a latency_ms or energy_mj column (power_mw in kernel "
                  "datasets)");
  } else {
    for (const auto& p : req.purposes) {
      Purpose pp = parse_purpose(p);
      if (!all.count(purpose_field(pp)) && !in_models(purpose_name(pp)))
        throw Error(fmt::format("--purpose {}: no dataset row and no models CSV has a value in column {}",
                                purpose_name(pp), purpose_field(pp)));
      if (std::find(purposes.begin(), purposes.end(), purpose_name(pp)) == purposes.end())
        purposes.push_back(purpose_name(pp));
    }
  }

  TrainResult result;
  result.name = req.name;
  result.version = req.version.empty() ? next_version(req.predictors_dir, req.name) : req.version;
  result.folder = (fs::path(req.predictors_dir) / req.name).string();
  {
    fs::path reg = fs::path(req.predictors_dir) / "predictors.yaml";
    std::error_code ec;
    if (fs::exists(reg, ec)) {
      Registry r = load_registry(req.predictors_dir);
      // Names are matched in any letter case: one that differs from a registered name only in
      // case would shadow it.
      for (const auto& e : r.entries)
        if (e.name != req.name && same_predictor_name(e.name, req.name))
          throw Error(fmt::format("{}: predictor '{}' is already registered as '{}'; names differ by more than "
                                  "letter case (or use '{}')",
                                  reg.string(), req.name, e.name, e.name));
      for (const auto& e : r.entries)
        if (!req.force && e.name == req.name && compare_versions(e.version, result.version) == 0)
          throw Error(fmt::format("{}: predictor '{}' version {} already exists; give another --version, or "
                                  "--force to overwrite it",
                                  reg.string(), req.name, result.version));
    }
  }
  std::string rules_text;
  const FusionRules rules = fusion_rules_named(req.fusion_rules_path.empty() ? "default" : req.fusion_rules_path,
                                               &rules_text);

  // One booster per kernel type and purpose.
  std::map<std::string, std::vector<const DatasetRow*>> by_type;
  for (const auto& r : all.rows) by_type[r.kernel].push_back(&r);
  const std::string rules_name = req.fusion_rules_path.empty() ? "default" : req.fusion_rules_path;
  for (const auto& [type, rows] : by_type)
    if (!rules.reaches(type)) {
      std::string aliases;  // what the rules score this family's kernels as instead
      for (const auto& [from, to] : rules.same_as)
        if (kernel_family(from) == kernel_family(type) && aliases.find(to) == std::string::npos)
          aliases += (aliases.empty() ? "" : ", ") + to;
      result.warnings.push_back(fmt::format(
          "{}: {} dataset rows of kernel type '{}', which the fusion rules stored with the predictor ({}) never "
          "make nor map to (same_as){}: its booster would score no kernel of any model; give --fusion-rules that "
          "make it (for TFLite-style exports with BN folded: tflite)",
          rules_name, rows.size(), type, rules_name,
          aliases.empty() ? "" : fmt::format("; they score the family as {}", aliases)));
    }
  std::vector<PendingFile> pending;
  std::string v = result.version;
  for (const auto& purpose : purposes) {
    std::string field = purpose_field(parse_purpose(purpose));
    if (in_models(purpose)) {  // kernel rows of this purpose join the composite fit below
      result.composites.push_back(train_composite(req, purpose, all, rules, v, &pending, &result.kernels, say));
      continue;
    }
    for (const auto& [type, rows_all] : by_type) {
      std::vector<const DatasetRow*> rows;
      for (const DatasetRow* r : rows_all)
        if (r->targets.count(field)) rows.push_back(r);
      if (rows.empty()) continue;
      std::vector<std::string> keys;
      for (const DatasetRow* r : rows) keys.push_back(config_key(*r));
      std::set<std::string> distinct(keys.begin(), keys.end());
      if (rows.size() < kMinRows || distinct.size() < 2) {
        say(fmt::format("skipping {} {}: {} rows are too few to train on (the fallback scores it)", type, purpose,
                        rows.size()));
        continue;
      }
      std::vector<float> x = feature_matrix(type, rows);
      size_t ncols = find_schema(type)->feature_names.size();
      for (size_t r = 0; r < rows.size(); ++r)
        result.training_set.kernels[purpose].insert(
            kernel_fingerprint(type, std::vector<float>(x.begin() + r * ncols, x.begin() + (r + 1) * ncols)));
      std::vector<double> y;
      for (const DatasetRow* r : rows) y.push_back(r->targets.at(field));
      TrainedKernel tk;
      tk.kernel = type;
      tk.purpose = purpose;
      tk.rows = rows.size();
      int folds = std::min<int>(req.params.folds, static_cast<int>(distinct.size()));
      say(fmt::format("training {} {}: {} rows ({} distinct configs), {} features, {}-fold CV + final fit", type,
                      purpose, rows.size(), distinct.size(), ncols, folds));
      std::vector<KernelWork> work;
      std::vector<WorkSample> samples;
      for (const DatasetRow* r : rows) {
        work.push_back(kernel_work(type, r->config));
        samples.push_back({work.back().flops, work.back().bytes, r->targets.at(field)});
      }
      if (req.params.transform == "log-ratio") tk.base = fit_work_model(samples);
      tk.params = req.params;
      if (req.tune) {
        bool first = true;
        for (int depth : {3, 4, 6})
          for (double eta : {0.03, 0.1})
            for (int rounds : {300, 600}) {
              TrainParams candidate = req.params;
              candidate.max_depth = depth;
              candidate.eta = eta;
              candidate.rounds = rounds;
              CrossValidation cv = cross_validate(x, ncols, y, keys, candidate, work);
              if (first || cv.metrics.mape < tk.cv.metrics.mape) {
                tk.cv = std::move(cv);
                tk.params = candidate;
                first = false;
              }
            }
        say(fmt::format("  tuned {} {}: max-depth {}, eta {}, rounds {}", type, purpose, tk.params.max_depth,
                        tk.params.eta, tk.params.rounds));
      } else {
        tk.cv = cross_validate(x, ncols, y, keys, req.params, work);
      }
      TrainedBooster b = train_booster(x, ncols, y, tk.params, work, tk.base);
      tk.booster_file = fmt::format("{}.{}.v{}.ubj", type, purpose, v);
      tk.spec = b.spec();
      tk.spec.path = tk.booster_file;
      tk.spec.ranges = feature_ranges(x, ncols);
      pending.push_back({tk.booster_file, b.to_ubj()});
      say(fmt::format("  {} {}: {:.1f}% within ±10%, MAPE {:.1f}% ({}-fold group CV)", type, purpose,
                      100 * tk.cv.metrics.acc10, tk.cv.metrics.mape, tk.cv.folds));
      result.kernels.push_back(std::move(tk));
    }
  }
  {
    std::vector<WorkSample> latency, energy;
    std::string latency_source = "measured kernels", energy_source = "measured kernels";
    for (const auto& r : all.rows) {
      KernelWork w = kernel_work(r.kernel, r.config);
      for (const auto& [field, value] : r.targets)
        if (field != "power_mw" && !in_models(field.substr(0, field.find('_'))))
          (field == "latency_ms" ? latency : energy).push_back({w.flops, w.bytes, value});
    }
    for (const auto& c : result.composites) {  // calibrated on the kernels learned from the models
      (c.purpose == "latency" ? latency : energy) = c.kernel_costs;
      (c.purpose == "latency" ? latency_source : energy_source) = "kernel configurations learned from measured models";
    }
    result.fallback = build_fallback(latency, energy, req.specs, latency_source, energy_source);
  }
  result.power_envelope = req.power_envelope.known() ? req.power_envelope : measured_power_envelope(all);
  std::string rules_file = fmt::format("fusion_rules.v{}.yaml", v);
  pending.push_back({rules_file, rules_text});
  for (const auto& c : result.composites) {
    result.training_set.models[c.purpose].insert(c.model_fingerprints.begin(), c.model_fingerprints.end());
    result.training_set.kernels[c.purpose].insert(c.kernel_fingerprints.begin(), c.kernel_fingerprints.end());
  }
  std::string training_set_file = fmt::format("training_set.v{}.txt", v);
  pending.push_back({training_set_file, result.training_set.to_text()});

  // The registry entry.
  const TrainParams& p = req.params;
  YAML::Emitter e;
  e << YAML::BeginSeq << YAML::BeginMap;
  e << YAML::Key << "name" << YAML::Value << req.name;
  e << YAML::Key << "version" << YAML::Value << v;
  e << YAML::Key << "device" << YAML::Value << req.device;
  e << YAML::Key << "framework" << YAML::Value << req.framework;
  std::set<std::string> trained_purposes;
  for (const auto& k : result.kernels) trained_purposes.insert(k.purpose);
  e << YAML::Key << "purposes" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const auto& pp : purposes)
    if (trained_purposes.count(pp)) e << pp;
  e << YAML::EndSeq;
  e << YAML::Key << "fusion_rules" << YAML::Value << rules_file;
  std::set<std::string> trained_types;
  for (const auto& k : result.kernels) trained_types.insert(k.kernel);
  e << YAML::Key << "kernels" << YAML::Value << YAML::BeginMap;
  for (const auto& type : trained_types) {
    e << YAML::Key << type << YAML::Value << YAML::BeginMap;
    for (const auto& k : result.kernels)
      if (k.kernel == type) {
        e << YAML::Key << k.purpose << YAML::Value;
        emit_booster_spec(e, k.spec, type);
      }
    e << YAML::EndMap;
  }
  e << YAML::EndMap;
  if (!result.composites.empty()) {  // what was learned from whole models, on top of the kernels
    e << YAML::Key << "model" << YAML::Value << YAML::BeginMap;
    for (const auto& c : result.composites) {
      e << YAML::Key << c.purpose << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "per_inference"
        << YAML::Value << fmt::format("{:.17g}", c.per_inference);
      if (!c.correction_file.empty()) {
        e << YAML::Key << "correction" << YAML::Value << c.correction_file << YAML::Key << "features" << YAML::Value
          << YAML::Flow << YAML::BeginSeq;
        for (const auto& f : c.correction_features) e << f;
        e << YAML::EndSeq;
      }
      e << YAML::EndMap;
    }
    e << YAML::EndMap;
  }
  std::vector<std::pair<std::string, size_t>> model_files;  // every models CSV once, in the order given
  for (const auto& c : result.composites)
    for (size_t i = 0; i < c.files.size(); ++i)
      if (std::find_if(model_files.begin(), model_files.end(), [&](const auto& f) { return f.first == c.files[i]; }) ==
          model_files.end())
        model_files.emplace_back(c.files[i], c.file_rows[i]);
  std::string data_text;
  size_t total = 0;
  for (const auto& [path, n] : files) {
    data_text += fmt::format("{}{} ({} rows)", data_text.empty() ? "" : ", ", fs::path(path).filename().string(), n);
    total += n;
  }
  std::string kernels_text = total ? fmt::format("; {} kernels", total) : std::string();
  for (const auto& [path, n] : model_files)
    data_text += fmt::format("{}{} ({} models)", data_text.empty() ? "" : ", ", fs::path(path).filename().string(), n);
  e << YAML::Key << "data" << YAML::Value
    << fmt::format("{}{}{}", req.data_note.empty() ? "" : req.data_note + ": ", data_text, kernels_text);
  e << YAML::Key << "training" << YAML::Value << YAML::BeginMap;
  e << YAML::Key << "datasets" << YAML::Value << YAML::BeginSeq;
  for (const auto& [path, n] : files)
    e << YAML::Flow << YAML::BeginMap << YAML::Key << "file" << YAML::Value << path << YAML::Key << "rows"
      << YAML::Value << n << YAML::EndMap;
  e << YAML::EndSeq;
  if (!model_files.empty()) {
    e << YAML::Key << "models" << YAML::Value << YAML::BeginSeq;
    for (const auto& [path, n] : model_files)
      e << YAML::Flow << YAML::BeginMap << YAML::Key << "file" << YAML::Value << path << YAML::Key << "rows"
        << YAML::Value << n << YAML::EndMap;
    e << YAML::EndSeq;
  }
  e << YAML::Key << "params" << YAML::Value << YAML::Flow << YAML::BeginMap;
  e << YAML::Key << "max_depth" << YAML::Value << p.max_depth << YAML::Key << "eta" << YAML::Value << g6(p.eta)
    << YAML::Key << "rounds" << YAML::Value << p.rounds << YAML::Key << "min_child_weight" << YAML::Value
    << g6(p.min_child_weight) << YAML::Key << "subsample" << YAML::Value << g6(p.subsample) << YAML::Key
    << "colsample" << YAML::Value << g6(p.colsample) << YAML::Key << "lambda" << YAML::Value << g6(p.lambda)
    << YAML::Key << "transform" << YAML::Value << p.transform << YAML::Key << "seed" << YAML::Value << p.seed;
  // Composite options, written where they differ from the defaults (entries trained before them
  // read the same).
  if (req.kernel_base != "work") e << YAML::Key << "kernel_base" << YAML::Value << req.kernel_base;
  if (req.correction_features != "all")
    e << YAML::Key << "correction_features" << YAML::Value << req.correction_features;
  e << YAML::EndMap;
  e << YAML::Key << "tool" << YAML::Value << std::string("deepen ") + DEEPEN_VERSION;
  e << YAML::EndMap;
  std::set<std::string> kernel_cv_types;  // types with a kernel-level CV (not those learned from models)
  for (const auto& k : result.kernels)
    if (k.cv.metrics.n > 0) kernel_cv_types.insert(k.kernel);
  if (!kernel_cv_types.empty() || !result.composites.empty()) {
    e << YAML::Key << "accuracy" << YAML::Value << YAML::BeginMap;
    if (!result.composites.empty()) {
      e << YAML::Key << "model" << YAML::Value << YAML::BeginMap;
      for (const auto& c : result.composites) {
        const Metrics& m = c.cv.chosen;
        e << YAML::Key << c.purpose << YAML::Value << YAML::Flow << YAML::BeginMap;
        e << YAML::Key << "acc5" << YAML::Value << g4(m.acc5) << YAML::Key << "acc10" << YAML::Value << g4(m.acc10)
          << YAML::Key << "acc20" << YAML::Value << g4(m.acc20) << YAML::Key << "mape" << YAML::Value << g4(m.mape)
          << YAML::Key << "rmspe" << YAML::Value << g4(m.rmspe) << YAML::Key << "n" << YAML::Value << m.n
          << YAML::Key << "kernel_sum_acc10" << YAML::Value << g4(c.cv.kernel_sum.acc10) << YAML::Key << "method"
          << YAML::Value
          << fmt::format("{}-fold CV over models (copies of a network in one fold), seed {}{}", c.cv.folds, p.seed,
                         c.cv.use_correction ? ", with the model-level correction" : "")
          << YAML::Key << "reproduce" << YAML::Value << reproduce_command(req, c.purpose) << YAML::EndMap;
      }
      e << YAML::EndMap;
    }
    for (const auto& type : kernel_cv_types) {
      e << YAML::Key << type << YAML::Value << YAML::BeginMap;
      for (const auto& k : result.kernels) {
        if (k.kernel != type || k.cv.metrics.n == 0) continue;
        const Metrics& m = k.cv.metrics;
        e << YAML::Key << k.purpose << YAML::Value << YAML::Flow << YAML::BeginMap;
        e << YAML::Key << "acc5" << YAML::Value << g4(m.acc5) << YAML::Key << "acc10" << YAML::Value << g4(m.acc10)
          << YAML::Key << "acc20" << YAML::Value << g4(m.acc20) << YAML::Key << "mape" << YAML::Value << g4(m.mape)
          << YAML::Key << "rmspe" << YAML::Value << g4(m.rmspe) << YAML::Key << "n" << YAML::Value << m.n
          << YAML::Key << "method" << YAML::Value
          << fmt::format("{}-fold group CV, seed {}{}", k.cv.folds, p.seed,
                         req.tune ? ", hyperparameters tuned on the same folds" : "");
        if (req.tune)
          e << YAML::Key << "params" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "max_depth"
            << YAML::Value << k.params.max_depth << YAML::Key << "eta" << YAML::Value << g6(k.params.eta)
            << YAML::Key << "rounds" << YAML::Value << k.params.rounds << YAML::EndMap;
        e << YAML::EndMap;
      }
      e << YAML::EndMap;
    }
    e << YAML::EndMap;
  }
  e << YAML::Key << "training_set" << YAML::Value << training_set_file;
  if (const PowerEnvelope& pe = result.power_envelope; pe.known())
    e << YAML::Key << "power_envelope" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "min_w"
      << YAML::Value << g6(pe.min_mw / 1000) << YAML::Key << "max_w" << YAML::Value << g6(pe.max_mw / 1000)
      << YAML::Key << "note" << YAML::Value << pe.note << YAML::EndMap;
  const FallbackModel& fb = result.fallback;
  if (fb.has_energy || fb.has_latency) {
    e << YAML::Key << "fallback" << YAML::Value << YAML::BeginMap;
    if (fb.has_energy)
      e << YAML::Key << "energy" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "mj_per_gflop"
        << YAML::Value << g6(fb.energy_mj_per_gflop) << YAML::Key << "mj_per_mb" << YAML::Value
        << g6(fb.energy_mj_per_mb) << YAML::Key << "mj_per_kernel" << YAML::Value << g6(fb.energy_mj_per_kernel)
        << YAML::EndMap;
    if (fb.has_latency)
      e << YAML::Key << "latency" << YAML::Value << YAML::Flow << YAML::BeginMap << YAML::Key << "peak_gflops"
        << YAML::Value << g6(fb.peak_gflops) << YAML::Key << "bandwidth_gbs" << YAML::Value << g6(fb.bandwidth_gbs)
        << YAML::Key << "ms_per_kernel" << YAML::Value << g6(fb.latency_ms_per_kernel);
    if (fb.has_latency && (fb.cores != 1 || fb.threads != 1 || fb.sustained != 1))
      e << YAML::Key << "threads" << YAML::Value << g6(fb.threads) << YAML::Key << "cores" << YAML::Value
        << g6(fb.cores) << YAML::Key << "sustained" << YAML::Value << g6(fb.sustained);
    if (fb.has_latency) e << YAML::EndMap;
    e << YAML::Key << "note" << YAML::Value << fb.note;
    e << YAML::EndMap;
  }
  e << YAML::EndMap << YAML::EndSeq;
  if (!e.good())
    throw Error(ErrorKind::Internal, fmt::format("internal error writing the registry entry: {}", e.GetLastError()));
  result.entry_yaml = std::string(e.c_str()) + "\n";
  if (result.kernels.empty() && !fb.has_energy && !fb.has_latency)
    throw Error("nothing to register: no kernel type has enough rows to train on");

  write_registry_entry(req.predictors_dir, req.name, v, req.name, result.entry_yaml, pending, req.force);
  return result;
}

}  // namespace deepen
