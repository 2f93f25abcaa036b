#include "cli/commands.h"

#include <deepen/error.h>
#include <deepen/train.h>

#include <fmt/format.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

namespace deepen::cli {
namespace {

struct ImportFlags {
  std::string format, config, values, target, output, column, dataset, graph = "auto", device;
  std::vector<std::string> files;
  int threads = 0;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot open", path));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The flags a format does not read are refused, so that a misplaced one is not silently ignored.
void refuse(const ImportFlags& f, const std::string& format, std::initializer_list<const char*> allowed) {
  auto allowed_flag = [&](const char* name) {
    for (const char* a : allowed)
      if (std::string(a) == name) return true;
    return false;
  };
  std::pair<const char*, bool> given[] = {
      {"--config", !f.config.empty()}, {"--values", !f.values.empty()}, {"--column", !f.column.empty()},
      {"--dataset", !f.dataset.empty()}, {"--graph", f.graph != "auto"}, {"--device", !f.device.empty()},
      {"--target", !f.target.empty()},  {"FILE", !f.files.empty()}};
  for (const auto& [name, set] : given)
    if (set && !allowed_flag(name))
      throw Error(fmt::format("--format {} does not take {}", format, std::string(name) == "FILE" ? "input files" : name));
}

std::string one_file(const ImportFlags& f, const std::string& what) {
  if (f.files.size() != 1) throw Error(fmt::format("--format {} takes one input file ({})", f.format, what));
  return f.files[0];
}

int run_deepen2023(const ImportFlags& f) {
  refuse(f, "deepen2023", {"--config", "--values", "--target"});
  if (f.config.empty() || f.values.empty()) throw Error("--format deepen2023 needs --config and --values");
  size_t skipped = 0;
  std::vector<DatasetRow> rows = import_deepen2023(slurp(f.config), f.config, slurp(f.values), f.values,
                                                   f.target.empty() ? "energy_mj" : f.target, &skipped);
  std::string csv = dataset_to_csv(rows);
  parse_dataset_csv(csv, f.output.empty() ? "output" : f.output);  // what we write, we can read
  emit(csv, f.output);
  std::cerr << fmt::format("imported {} kernels{}\n", rows.size(),
                           skipped ? fmt::format(" ({} ids in {} have no value and were left out)", skipped, f.config)
                                   : "");
  return kExitOk;
}

int write_models(const ImportFlags& f, const ImportedModels& models) {
  if (f.output.empty()) throw Error(fmt::format("--format {} writes a folder: give --out DIR", f.format));
  write_imported_models(models, f.output, f.threads);
  std::string note;
  if (models.skipped) note = fmt::format("; left out {} rows: {}", models.skipped, models.skipped_why);
  std::string dir = f.output;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  std::cerr << fmt::format("imported {} measurements as {} models into {}/ (measured.csv){}\n", models.rows.size(),
                           models.files.size(), dir, note);
  return kExitOk;
}

int run_import(const ImportFlags& flags) {
  ImportFlags f = flags;
  if (f.format.empty()) {
    if (f.config.empty())
      throw Error("give --format lut|nb201|fbnet|tophub (or --config and --values for the DeepEn2023 layout)");
    f.format = "deepen2023";
  }
  if (f.format == "deepen2023") return run_deepen2023(f);
  if (f.format == "lut") {
    refuse(f, "lut", {"FILE"});
    if (f.files.empty()) throw Error("--format lut takes one or more look-up tables (YAML)");
    std::vector<std::pair<std::string, std::string>> texts;
    for (const auto& file : f.files) texts.emplace_back(file, slurp(file));
    return write_models(f, import_lut(texts));
  }
  if (f.format == "nb201") {
    refuse(f, "nb201", {"FILE", "--column", "--target", "--dataset", "--graph"});
    const std::string file = one_file(f, "a CSV with an arch column");
    Nb201ImportOptions options;
    options.column = f.column, options.target = f.target, options.dataset = f.dataset, options.graph = f.graph;
    return write_models(f, import_nb201(slurp(file), file, options));
  }
  if (f.format == "fbnet") {
    refuse(f, "fbnet", {"FILE", "--column", "--target"});
    const std::string file = one_file(f, "HW-NAS-Bench's FBNet block CSV");
    return write_models(f, import_fbnet(slurp(file), file, f.column, f.target));
  }
  if (f.format == "tophub") {
    refuse(f, "tophub", {"FILE", "--device"});
    const std::string file = one_file(f, "a TVM AutoTVM log");
    TophubImport imported = import_tophub(slurp(file), file, f.device);
    std::string csv = dataset_to_csv(imported.rows);
    parse_dataset_csv(csv, f.output.empty() ? "output" : f.output);  // what we write, we can read
    emit(csv, f.output);
    size_t skipped = 0;
    std::vector<std::string> why;
    for (const auto& [reason, n] : imported.skipped) skipped += n, why.push_back(fmt::format("{} {}", n, reason));
    std::cerr << fmt::format("imported {} kernels{}\n", imported.rows.size(),
                             skipped ? fmt::format("; left out {} records: {}", skipped, fmt::join(why, ", ")) : "");
    return kExitOk;
  }
  throw Error(fmt::format("unknown --format '{}'; use deepen2023, lut, nb201, fbnet or tophub", f.format));
}

}  // namespace

void add_dataset_command(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand("dataset", "Convert kernel datasets");
  cmd->require_subcommand(1);
  auto f = std::make_shared<ImportFlags>();
  CLI::App* imp = cmd->add_subcommand(
      "import",
      "Convert public measurements: the DeepEn2023 JSON layout into the dataset CSV (--config, --values); "
      "block look-up tables (lut), NAS-Bench-201 (nb201) and FBNet block (fbnet) measurements into ONNX models and "
      "a models CSV; TVM tophub logs (tophub) into the dataset CSV");
  imp->add_option("--format", f->format, "deepen2023 (default with --config), lut, nb201, fbnet, tophub")
      ->check(CLI::IsMember({"deepen2023", "lut", "nb201", "fbnet", "tophub"}));
  imp->add_option("files", f->files, "Input files: look-up tables (lut), a CSV (nb201, fbnet), a log (tophub)");
  imp->add_option("--config", f->config, "deepen2023: config JSON {kernel: {id: {config: {HW, CIN, COUT, KERNEL_SIZE, STRIDES}}}}");
  imp->add_option("--values,--energy", f->values, "deepen2023: value JSON {kernel: {id: {energy: \"0.91\"}}}");
  imp->add_option("--target", f->target,
                  "The output column: deepen2023 (default energy_mj); nb201, fbnet (default: from --column's name)")
      ->check(CLI::IsMember({"energy_mj", "latency_ms", "power_mw"}));
  imp->add_option("--column", f->column, "nb201, fbnet: the CSV column holding the measured values");
  imp->add_option("--dataset", f->dataset,
                  "nb201: cifar10, cifar100 or ImageNet16-120 for rows without dataset/input_hw columns (default cifar10)")
      ->check(CLI::IsMember({"cifar10", "cifar100", "ImageNet16-120"}));
  imp->add_option("--graph", f->graph,
                  "nb201: pruned (none and dead edges produce no operators), all-edges (every edge computed, none "
                  "as a multiplication by 0, as PyTorch runs it), torch2trt (what TensorRT runs of the network "
                  "torch2trt traces: HW-NAS-Bench's Jetson TX2) or auto (torch2trt for tx2gpu_* columns, pruned "
                  "for the others: the form the measured runtime executed)")
      ->check(CLI::IsMember({"auto", "pruned", "all-edges", "torch2trt"}))
      ->capture_default_str();
  imp->add_option("--device", f->device, "tophub: keep records whose device (-model=) contains this");
  imp->add_option("--threads", f->threads, "lut, nb201, fbnet: write models on N threads (0: one per core)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  imp->add_option("--output,--out,-o", f->output,
                  "deepen2023, tophub: write the CSV to FILE instead of standard output; lut, nb201, fbnet: the "
                  "folder to create (models and measured.csv)");
  imp->callback([f, &exit_code] { exit_code = run_import(*f); });
}

}  // namespace deepen::cli
