#include <deepen/error.h>
#include <deepen/predict.h>

#include "predict/tree_ensemble.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <memory>

namespace deepen {

Booster Booster::load(const std::string& path) {
  // One read into a buffer of the file's size: a stream copy costs more than reading the model.
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!file)
    throw Error::in_file(ErrorKind::Registry, path, "cannot open the booster file (is the registry entry right?)");
  std::string buffer;
  char chunk[65536];
  size_t n;
  while ((n = std::fread(chunk, 1, sizeof chunk, file.get())) > 0) buffer.append(chunk, n);
  if (std::ferror(file.get())) throw Error::in_file(ErrorKind::Registry, path, "cannot read the booster file");
  size_t first = buffer.find_first_not_of(" \t\r\n");
  // XGBoost's JSON and UBJSON models both open with '{'; anything else (pickles, the legacy
  // binary format, another library's model, garbage) is refused.
  if (first == std::string::npos || buffer[first] != '{')
    throw Error::in_file(ErrorKind::Registry, path, "not an XGBoost booster in JSON or UBJSON format");
  auto model = std::make_shared<TreeEnsemble>();
  std::string problem = read_tree_ensemble(buffer.data() + first, buffer.size() - first, model.get());
  if (!problem.empty())
    throw Error::in_file(ErrorKind::Registry, path, fmt::format("not a readable XGBoost booster ({})", problem));
  Booster b;
  b.path_ = path;
  b.model_ = std::move(model);
  return b;
}

size_t Booster::num_features() const { return model_->num_feature; }

std::vector<double> Booster::predict(const std::vector<float>& rows, size_t ncols) const {
  if (ncols == 0 || rows.size() % ncols != 0) throw Error::in_file(ErrorKind::Internal, path_, "bad feature matrix");
  if (ncols != model_->num_feature)
    throw Error::in_file(ErrorKind::Registry, path_,
                         fmt::format("the booster expects {} features but the schema gives {}; retrain it with this "
                                     "version of deepen",
                                     model_->num_feature, ncols));
  size_t nrows = rows.size() / ncols;
  std::vector<double> out(nrows);
  for (size_t r = 0; r < nrows; ++r) {
    float v = model_->predict(rows.data() + r * ncols);
    if (!std::isfinite(v))
      throw Error::in_file(ErrorKind::Registry, path_, "the booster's output is not a finite number");
    out[r] = v;
  }
  return out;
}

}  // namespace deepen
