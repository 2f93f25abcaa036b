// What the model-level imports share: the models CSV and writing it with its models into a
// folder that appears whole or not at all.
#include <deepen/csv.h>
#include <deepen/error.h>
#include <deepen/train.h>
#include <deepen/zoo.h>

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace fs = std::filesystem;

namespace deepen {

std::string target_for_column(const std::string& column) {
  auto ends_with = [&](const std::string& suffix) {
    return column.size() >= suffix.size() && column.compare(column.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with("_ms") || column.find("latency") != std::string::npos) return "latency_ms";
  if (ends_with("_mj") || column.find("energy") != std::string::npos) return "energy_mj";
  throw Error(fmt::format("column '{}': cannot tell whether it holds a latency (ms) or an energy (mJ); "
                          "give --target latency_ms or --target energy_mj",
                          column));
}

std::string imported_models_csv(const ImportedModels& models) {
  std::string out;
  for (size_t c = 0; c < models.columns.size(); ++c) out += (c ? "," : "") + csv_escape(models.columns[c]);
  out += "\n";
  for (const auto& row : models.rows) {
    for (size_t c = 0; c < row.size(); ++c) out += (c ? "," : "") + csv_escape(row[c]);
    out += "\n";
  }
  return out;
}

void write_imported_models(const ImportedModels& models, const std::string& dir, int threads) {
  if (dir.empty()) throw Error("give the output folder with --out DIR");
  fs::path target = fs::path(dir).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();  // "out/" -> "out"
  std::error_code ec;
  if (fs::exists(target, ec)) {
    if (!fs::is_directory(target, ec) || !fs::is_empty(target, ec))
      throw Error(fmt::format("{}: already exists and is not an empty folder; remove it or choose another --out", dir));
  }
  fs::path parent = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  if (!fs::is_directory(parent, ec))
    throw Error(fmt::format("{}: the folder {} does not exist", dir, parent.string()));
  std::string tmpl = (parent / fmt::format(".{}.import-XXXXXX", target.filename().string())).string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) throw Error(fmt::format("{}: cannot create a folder in {}", dir, parent.string()));
  const fs::path tmp = buf.data();
  try {
    write_in_parallel(static_cast<int>(models.files.size()), threads, [&](int i) {
      std::string path = (tmp / models.files[static_cast<size_t>(i)]).string();
      write_onnx(models.build(static_cast<size_t>(i)), path, 1, ZooWeights::Zeros);
      return path;
    });
    {
      std::ofstream out(tmp / "measured.csv", std::ios::binary);
      out << imported_models_csv(models);
      if (!out.flush()) throw Error(fmt::format("{}: cannot write measured.csv", tmp.string()));
    }
    if (fs::exists(target, ec)) fs::remove(target);  // an empty folder, checked above
    fs::rename(tmp, target, ec);
    if (ec) throw Error(fmt::format("{}: cannot rename {} to it ({})", dir, tmp.string(), ec.message()));
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
}

}  // namespace deepen
