#include <deepen/error.h>
#include <deepen/output_file.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <unistd.h>

namespace deepen {

void write_file_atomically(const std::string& path, const std::string& content) {
  namespace fs = std::filesystem;
  fs::path target(path);
  std::error_code ec;
  fs::file_status status = fs::status(target, ec);
  if (!ec && fs::exists(status) && !fs::is_regular_file(status)) {
    // /dev/null, a FIFO, a terminal: nothing to replace, and no temporary file can sit beside it.
    if (fs::is_directory(status)) throw Error(fmt::format("{}: is a folder; give a file name to write to", path));
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) throw Error(fmt::format("{}: cannot write ({})", path, std::strerror(errno)));
    bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size();
    ok = (std::fclose(f) == 0) && ok;
    if (!ok) throw Error(fmt::format("{}: cannot write ({})", path, std::strerror(errno)));
    return;
  }
  fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string tmp = (dir / fmt::format(".{}.tmp-{}", target.filename().string(), getpid())).string();
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw Error(fmt::format("{}: cannot write ({})", path, std::strerror(errno)));
  bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size();
  ok = (std::fflush(f) == 0) && ok;
  ok = (fsync(fileno(f)) == 0) && ok;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    throw Error(fmt::format("{}: cannot write ({})", path, std::strerror(err)));
  }
}

}  // namespace deepen
