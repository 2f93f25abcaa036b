#include "cli/commands.h"

#include <deepen/error.h>
#include <deepen/train.h>

#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

namespace deepen::cli {
namespace {

struct ImportFlags {
  std::string config, values, target = "energy_mj", output;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot open", path));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int run_import(const ImportFlags& f) {
  size_t skipped = 0;
  std::vector<DatasetRow> rows =
      import_deepen2023(slurp(f.config), f.config, slurp(f.values), f.values, f.target, &skipped);
  std::string csv = dataset_to_csv(rows);
  parse_dataset_csv(csv, f.output.empty() ? "output" : f.output);  // what we write, we can read
  emit(csv, f.output);
  std::cerr << fmt::format("imported {} kernels{}\n", rows.size(),
                           skipped ? fmt::format(" ({} ids in {} have no value and were left out)", skipped, f.config)
                                   : "");
  return kExitOk;
}

}  // namespace

void add_dataset_command(CLI::App& app, int& exit_code) {
  CLI::App* cmd = app.add_subcommand("dataset", "Convert kernel datasets");
  cmd->require_subcommand(1);
  auto f = std::make_shared<ImportFlags>();
  CLI::App* imp = cmd->add_subcommand(
      "import", "Convert the DeepEn2023 JSON layout (config JSON + value JSON per kernel id) into the dataset CSV");
  imp->add_option("--config", f->config, "Config JSON: {kernel: {id: {config: {HW, CIN, COUT, KERNEL_SIZE, STRIDES}}}}")
      ->required();
  imp->add_option("--values,--energy", f->values, "Value JSON: {kernel: {id: {energy: \"0.91\"}}}")->required();
  imp->add_option("--target", f->target, "The column the values go to")
      ->check(CLI::IsMember({"energy_mj", "latency_ms", "power_mw"}))
      ->capture_default_str();
  imp->add_option("--output,-o", f->output, "Write the CSV to FILE instead of standard output");
  imp->callback([f, &exit_code] { exit_code = run_import(*f); });
}

}  // namespace deepen::cli
