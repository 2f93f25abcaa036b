#include <deepen/error.h>
#include <deepen/predict.h>

#include "predict/booster_check.h"

#include <fmt/format.h>
#include <xgboost/c_api.h>

#include <fstream>
#include <sstream>

namespace deepen {
namespace {

void quiet_log(const char*) {}

// XGBoost's message without its timestamp, source location and stack trace.
std::string last_error() {
  std::string m = XGBGetLastError();
  m = m.substr(0, m.find('\n'));
  if (!m.empty() && m[0] == '[') {
    size_t close = m.find("] ");
    if (close != std::string::npos) m = m.substr(close + 2);
  }
  size_t location = m.find(": ");
  if (location != std::string::npos && m.find(".h:") < location + 1) m = m.substr(location + 2);
  if (location != std::string::npos && m.find(".cc:") < location + 1) m = m.substr(location + 2);
  return m;
}

void check(int rc, const std::string& what) {
  if (rc != 0) throw Error(fmt::format("{}: {}", what, last_error()));
}

}  // namespace

Booster Booster::load(const std::string& path) {
  static const bool silenced = [] {
    XGBRegisterLogCallback(quiet_log);
    return true;
  }();
  (void)silenced;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot open the booster file (is the registry entry right?)", path));
  std::stringstream bytes;
  bytes << in.rdbuf();
  std::string buffer = bytes.str();
  size_t first = buffer.find_first_not_of(" \t\r\n");
  // XGBoost's JSON and UBJSON models both open with '{'; anything else (pickles, the legacy
  // binary format, garbage) is refused here rather than handed to a parser that trusts it.
  if (first == std::string::npos || buffer[first] != '{')
    throw Error(fmt::format("{}: not an XGBoost booster in JSON or UBJSON format", path));
  std::string problem = check_booster_bytes(buffer.data() + first, buffer.size() - first);
  if (!problem.empty()) throw Error(fmt::format("{}: not a readable XGBoost booster ({})", path, problem));
  Booster b;
  b.path_ = path;
  check(XGBoosterCreate(nullptr, 0, &b.handle_), path);
  int rc = XGBoosterLoadModelFromBuffer(b.handle_, buffer.data() + first, buffer.size() - first);
  if (rc != 0)
    throw Error(fmt::format("{}: not a readable XGBoost booster ({})", path, last_error()));
  check(XGBoosterSetParam(b.handle_, "nthread", "1"), path);
  bst_ulong features = 0;
  if (XGBoosterGetNumFeature(b.handle_, &features) != 0 || features == 0)
    throw Error(fmt::format("{}: the booster declares no features", path));
  return b;
}

Booster::Booster(Booster&& other) noexcept : handle_(other.handle_), path_(std::move(other.path_)) {
  other.handle_ = nullptr;
}

Booster& Booster::operator=(Booster&& other) noexcept {
  if (this != &other) {
    if (handle_) XGBoosterFree(handle_);
    handle_ = other.handle_;
    path_ = std::move(other.path_);
    other.handle_ = nullptr;
  }
  return *this;
}

Booster::~Booster() {
  if (handle_) XGBoosterFree(handle_);
}

size_t Booster::num_features() const {
  bst_ulong n = 0;
  check(XGBoosterGetNumFeature(handle_, &n), path_);
  return static_cast<size_t>(n);
}

std::vector<double> Booster::predict(const std::vector<float>& rows, size_t ncols) const {
  if (ncols == 0 || rows.size() % ncols != 0) throw Error(fmt::format("{}: bad feature matrix", path_));
  size_t nrows = rows.size() / ncols;
  if (nrows == 0) return {};
  if (ncols != num_features())
    throw Error(fmt::format("{}: the booster expects {} features but the schema gives {}; retrain it with this "
                            "version of deepen",
                            path_, num_features(), ncols));
  DMatrixHandle matrix = nullptr;
  check(XGDMatrixCreateFromMat(rows.data(), nrows, ncols, NAN, &matrix), path_);
  bst_ulong length = 0;
  const float* result = nullptr;
  int rc = XGBoosterPredict(handle_, matrix, 0, 0, 0, &length, &result);
  std::vector<double> out;
  if (rc == 0) out.assign(result, result + length);
  XGDMatrixFree(matrix);
  check(rc, path_);
  if (out.size() != nrows) throw Error(fmt::format("{}: the booster returned {} values for {} rows", path_, out.size(), nrows));
  // A booster file can hold any leaf value (UBJSON stores NaN and infinity); never pass one on.
  for (double v : out)
    if (!std::isfinite(v)) throw Error(fmt::format("{}: the booster gave {}; the booster file is broken", path_, v));
  return out;
}

}  // namespace deepen
