#include "cli/commands.h"

#include <deepen/predict.h>
#include <deepen/schema.h>
#include <deepen/writers.h>

#include <memory>
#include <sstream>

namespace deepen::cli {
namespace {

struct ListFlags {
  std::string format = "table", predictors;
  bool schema = false;
};

int run_list(const ListFlags& f) {
  std::ostringstream out;
  if (f.schema) {
    find_format(schema_formats(), f.format).write(out, all_schemas());
  } else {
    Registry registry = load_registry(predictors_dir(f.predictors));
    find_format(registry_formats(), f.format).write(out, registry);
  }
  emit(out.str(), "");
  return kExitOk;
}

}  // namespace

void add_list_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ListFlags>();
  CLI::App* cmd = app.add_subcommand("list", "List the predictors in the registry");
  add_format_option(cmd, flags->format, format_names(registry_formats()));
  cmd->add_flag("--schema", flags->schema, "List the kernel families' config fields and features instead");
  cmd->add_option("--predictors", flags->predictors, "Registry folder (default: $DEEPEN_PREDICTORS or the built-in)");
  cmd->callback([flags, &exit_code] { exit_code = run_list(*flags); });
}

}  // namespace deepen::cli
