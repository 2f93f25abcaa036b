#include "cli/commands.h"

#include <deepen/error.h>

#include <iostream>
#include <new>
#include <string>

#include <malloc.h>

int main(int argc, char** argv) {
  // deepen loads model after model, each a burst of allocations freed at its end. glibc would
  // give the freed top of the heap back to the system after every model (and serve a model's
  // larger buffers with fresh mmaps), so that the next model page-faults it all in again: keep
  // up to 64 MiB of freed heap, and serve blocks of up to 32 MiB from the heap.
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  CLI::App app{"deepen: predict the latency, power and energy of a neural network on an edge device"};
  app.set_version_flag("--version", std::string("deepen ") + DEEPEN_VERSION);
  app.require_subcommand(1);
  int exit_code = deepen::cli::kExitOk;
  deepen::cli::add_predict_command(app, exit_code);
  deepen::cli::add_kernels_command(app, exit_code);
  deepen::cli::add_list_command(app, exit_code);
  deepen::cli::add_measure_command(app, exit_code);
  deepen::cli::add_profile_command(app, exit_code);
  deepen::cli::add_zoo_command(app, exit_code);
  deepen::cli::add_train_command(app, exit_code);
  deepen::cli::add_eval_command(app, exit_code);
  deepen::cli::add_dataset_command(app, exit_code);
  deepen::cli::add_check_command(app, exit_code);
  // One flag, one meaning: --version is the program's; after a subcommand it would read as a
  // predictor's version, which is --predictor-version.
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (argv[1][0] != '-' && (arg == "--version" || arg.rfind("--version=", 0) == 0)) {
      deepen::cli::print_error(std::string(argv[1]) + ": --version is the program's version (deepen --version); give "
                               "a predictor's version with --predictor-version");
      return deepen::cli::exit_code(deepen::ErrorKind::BadInput);
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    deepen::cli::print_error(std::string(e.what()) +
                             "\nRun 'deepen --help' or 'deepen SUBCOMMAND --help' for usage.");
    return deepen::cli::exit_code(deepen::ErrorKind::BadInput);
  } catch (const deepen::Error& e) {
    deepen::cli::print_error(e.what());
    return deepen::cli::exit_code(e.kind());
  } catch (const std::bad_alloc&) {
    deepen::cli::print_error("out of memory");
    return deepen::cli::exit_code(deepen::ErrorKind::Internal);
  } catch (const std::exception& e) {  // a library's exception that deepen let through: a bug
    deepen::cli::print_error(std::string("internal error: ") + e.what() +
                             " (a bug in deepen: please report it with the command that gave it)");
    return deepen::cli::exit_code(deepen::ErrorKind::Internal);
  }
  return exit_code;
}
