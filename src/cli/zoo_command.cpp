#include "cli/commands.h"

#include <deepen/error.h>
#include <deepen/zoo.h>

#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <memory>

namespace fs = std::filesystem;

namespace deepen::cli {
namespace {

struct ZooFlags {
  bool list = false;
  std::string family, out, nb201, nb201_csv, dataset, kernel, config, weights = "random", graph = "pruned";
  int variants = 0, threads = 0;
  uint64_t seed = 1;
};

std::string make_dir(const std::string& dir) {
  if (dir.empty()) throw Error("--out names no folder; give --out DIR");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) throw Error(fmt::format("{}: cannot create the folder ({})", dir, ec.message()));
  return dir;
}

void need_file_out(const ZooFlags& f) {
  if (f.out.empty()) throw Error("give the output file with --out FILE.onnx");
  if (fs::is_directory(f.out)) throw Error(fmt::format("{}: is a folder; --out takes a file name here", f.out));
}

int run_zoo(const ZooFlags& f) {
  int modes = f.list + !f.family.empty() + !f.nb201.empty() + !f.nb201_csv.empty() + !f.kernel.empty();
  if (modes != 1)
    throw Error("give exactly one of --list, --family, --nb201, --nb201-csv, --kernel (see deepen zoo --help)");
  const ZooWeights weights = parse_zoo_weights(f.weights);
  const Nb201Graph form = parse_nb201_graph(f.graph);
  if (f.graph != "pruned" && f.nb201.empty() && f.nb201_csv.empty()) throw Error("--graph goes with --nb201 or --nb201-csv");
  if (f.list) {
    for (const auto& fam : zoo_families())
      std::cout << fmt::format("{:<18} {}x{}  {}\n", fam.name, fam.input_hw, fam.input_hw, fam.description);
    return kExitOk;
  }
  if (!f.family.empty()) {
    if (f.variants < 0) throw Error("--variants must be 0 or more");
    build_family(f.family);  // validates the name before touching the disk
    write_family(f.family, f.variants, f.seed, make_dir(f.out), f.threads, weights,
                 [](const std::string& path) { std::cout << path << "\n"; });
    return kExitOk;
  }
  if (!f.nb201.empty()) {
    need_file_out(f);
    write_onnx(build_nb201(f.nb201, f.dataset.empty() ? "cifar10" : f.dataset, form), f.out, f.seed, weights);
    std::cout << f.out << "\n";
    return kExitOk;
  }
  if (!f.nb201_csv.empty()) {
    std::vector<Nb201Row> rows = read_nb201_csv(f.nb201_csv);  // all parsed before the first file is written
    auto dataset_of = [&f](const Nb201Row& row) {
      return !f.dataset.empty() ? f.dataset : row.dataset.empty() ? "cifar10" : row.dataset;
    };
    for (size_t i = 0; i < rows.size(); ++i) {
      try {
        build_nb201(rows[i].arch, dataset_of(rows[i]), form);
      } catch (const Error& e) {
        throw Error(e.kind(), fmt::format("{}: row {}: {}", f.nb201_csv, i + 1, e.what()));
      }
    }
    std::string dir = make_dir(f.out);
    write_in_parallel(static_cast<int>(rows.size()), f.threads, [&](int i) {
      const Nb201Row& row = rows[static_cast<size_t>(i)];
      std::string path = (fs::path(dir) / fmt::format("nb201_{:05d}.onnx", i)).string();
      write_onnx(build_nb201(row.arch, dataset_of(row), form), path, f.seed, weights);
      return path;
    });
    std::cout << fmt::format("{}: {} models (nb201_00000.onnx ... nb201_{:05d}.onnx, in the rows' order)\n", dir,
                             rows.size(), rows.size() - 1);
    return kExitOk;
  }
  if (f.config.empty()) throw Error(fmt::format("give the kernel's config with --config, e.g. --config hw=56,cin=64,cout=128,ks=3,stride=1"));
  Graph g = build_kernel_model(f.kernel, parse_kernel_config(f.config));
  need_file_out(f);
  write_onnx(g, f.out, f.seed, weights);
  std::cout << f.out << "\n";
  return kExitOk;
}

}  // namespace

void add_zoo_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ZooFlags>();
  CLI::App* cmd = app.add_subcommand(
      "zoo", "Write ONNX models: study families and their variants, NAS-Bench-201 networks, single kernels");
  cmd->add_flag("--list", flags->list, "List the model families");
  cmd->add_option("--family", flags->family, "Write this family's reference network to --out DIR");
  cmd->add_option("--variants", flags->variants,
                  "With --family: also write N variants (channels x[0.2,1.8], kernel sizes from {1,3,5,7})")
      ->capture_default_str();
  cmd->add_option("--threads", flags->threads,
                  "With --family, --nb201-csv: write on N threads (0: one per core); the files are the same")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--seed", flags->seed, "Seed of the variants and of the random weights")->capture_default_str();
  cmd->add_option("--weights", flags->weights,
                  "random: seeded random weights; zeros: all-zero weights, stored as holes in the file where the "
                  "filesystem allows (nothing to write, for the largest families)")
      ->capture_default_str();
  cmd->add_option("--nb201", flags->nb201, "Write the NAS-Bench-201 network of this arch string to --out FILE");
  cmd->add_option("--nb201-csv", flags->nb201_csv, "Write one NAS-Bench-201 network per row of a CSV with an 'arch' column to --out DIR");
  cmd->add_option("--dataset", flags->dataset,
                  "NAS-Bench-201 dataset: cifar10 (default; or the CSV's dataset column), cifar100, ImageNet16-120");
  cmd->add_option("--graph", flags->graph,
                  "With --nb201, --nb201-csv: pruned (none and dead edges produce no operators), all-edges (every "
                  "edge computed, none as a multiplication by 0, as PyTorch runs it) or torch2trt (what TensorRT runs "
                  "of the network torch2trt traces)")
      ->capture_default_str();
  cmd->add_option("--kernel", flags->kernel, "Write a model of one kernel of this type (e.g. conv-bn-relu) to --out FILE");
  cmd->add_option("--config", flags->config, "With --kernel: its config, e.g. hw=56,cin=64,cout=128,ks=3,stride=1");
  cmd->add_option("--out,-o", flags->out, "Output folder (--family, --nb201-csv) or file (--nb201, --kernel)");
  cmd->callback([flags, &exit_code] { exit_code = run_zoo(*flags); });
}

}  // namespace deepen::cli
