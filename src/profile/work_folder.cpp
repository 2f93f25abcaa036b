// The temporary model folder of a profiling run: created on start, removed when it is deepen's own.
#include "profile/work_folder.h"

#include <deepen/error.h>

#include <fmt/format.h>

#include <filesystem>
#include <system_error>

#include <unistd.h>

namespace fs = std::filesystem;

namespace deepen {

WorkFolder::WorkFolder(const std::string& given, const std::string& prefix) : path_(given), own_(given.empty()) {
  if (own_) path_ = (fs::temp_directory_path() / fmt::format("{}-{}", prefix, ::getpid())).string();
  std::error_code ec;
  fs::create_directories(path_, ec);
  if (ec) throw Error(fmt::format("{}: cannot create the work folder ({})", path_, ec.message()));
}

WorkFolder::~WorkFolder() {
  std::error_code ec;
  if (own_) fs::remove_all(path_, ec);
}

}  // namespace deepen
