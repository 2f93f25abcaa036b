// The subcommands of the deepen CLI: each file adds one to the app; flags in, library call, and
// the output written by the writer the --format flag names (deepen/writers.h): no command
// formats output itself. No logic lives here that a library user would need.
#pragma once

#include <deepen/error.h>

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace deepen::cli {

// Exit codes (docs/output-formats.md#exit-codes-and-errors): 0 all fine, 1 some models failed
// (the others are reported), 2 bad usage or input, 3 every model failed, 4 deepen check's gate
// failed, 70 an internal error. A command that an Error ends exits with exit_code(its kind).
constexpr int kExitOk = 0;
constexpr int kExitPartial = 1;
constexpr int kExitBadInput = 2;
constexpr int kExitAllFailed = 3;  // several models (or one under --strict), and every one failed
constexpr int kExitCheckFailed = 4;  // deepen check: every model was predicted, and some check did not hold
constexpr int kExitInternal = 70;  // not the input's doing (sysexits' EX_SOFTWARE): a bug, or out of memory

// The exit code of an error of this kind: kExitBadInput for every kind the user can fix (bad input
// or usage, an unknown predictor, an unsupported model or purpose, a broken registry), kExitInternal
// for Internal.
int exit_code(ErrorKind kind);

// What deepen says on stderr, one style in every command: "deepen: error: MESSAGE",
// "deepen: warning: MESSAGE", "deepen: note: MESSAGE". An error about a file names it first
// ("deepen: error: PATH: what").
void print_error(const std::string& message);
void print_warning(const std::string& message);
void print_note(const std::string& message);
// The error of one model among several, naming the model first: the error's message when it
// starts with the model (its file), else "MODEL: message".
std::string model_error(const std::string& model, const Error& e);

// Each add_*_command registers a subcommand; its callback sets `exit_code`.
void add_predict_command(CLI::App& app, int& exit_code);
void add_list_command(CLI::App& app, int& exit_code);
void add_kernels_command(CLI::App& app, int& exit_code);
void add_measure_command(CLI::App& app, int& exit_code);
void add_profile_command(CLI::App& app, int& exit_code);
void add_zoo_command(CLI::App& app, int& exit_code);
void add_train_command(CLI::App& app, int& exit_code);
void add_eval_command(CLI::App& app, int& exit_code);
void add_dataset_command(CLI::App& app, int& exit_code);
void add_check_command(CLI::App& app, int& exit_code);

// The models a command reads, the same way in every command: repeatable -m/--modelpath and
// positional paths, each an .onnx file or a folder (see model_files). Returns the two options.
std::pair<CLI::Option*, CLI::Option*> add_model_paths(CLI::App* cmd, std::vector<std::string>& paths);
// The .onnx files a --modelpath names: the file itself, or every .onnx in the folder, sorted.
std::vector<std::string> model_files(const std::string& modelpath);
// Every path's files, in the order given, each file once.
std::vector<std::string> model_files(const std::vector<std::string>& modelpaths);
// The threads a --jobs N asks for: N, or for 0 one per core this process may run on. Error below 0.
unsigned parse_jobs(int jobs);
// Calls work(0..n-1) on up to `jobs` threads (the caller's among them), each index once, in no
// set order; work must write only to what index i owns. The first exception thrown stops the
// remaining indices and is rethrown here once every thread has finished.
void parallel_for(size_t n, unsigned jobs, const std::function<void(size_t)>& work);
// --format: its choices are `names`, a report kind's formats (deepen/writers.h) in their table's
// order, so a format added to that table is a choice here, in the help too.
CLI::Option* add_format_option(CLI::App* cmd, std::string& format, const std::vector<std::string>& names);
// Writes text to stdout, or to a file (atomically) when path is non-empty.
void emit(const std::string& text, const std::string& path);
// The registry folder: the --predictors flag if given, else the default.
std::string predictors_dir(const std::string& flag);

}  // namespace deepen::cli
