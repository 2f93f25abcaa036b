#include "train/xgboost_library.h"

#include <deepen/error.h>

#include <fmt/format.h>

#include <dlfcn.h>

#include <cstdlib>
#include <type_traits>
#include <string>
#include <vector>

namespace deepen {
namespace {

XGBoostLibrary load() {
  std::vector<std::string> candidates;
  const char* env = std::getenv("DEEPEN_XGBOOST_LIBRARY");
  if (env && *env) {
    candidates.push_back(env);
  } else {
#ifdef DEEPEN_XGBOOST_LIBRARY_PATH
    candidates.push_back(DEEPEN_XGBOOST_LIBRARY_PATH);
#endif
    candidates.push_back("libxgboost.so.0");
    candidates.push_back("libxgboost.so");
  }
  void* handle = nullptr;
  std::string tried;
  for (const auto& c : candidates) {
    handle = dlopen(c.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle) break;
    const char* why = dlerror();
    tried += fmt::format("{}{}", tried.empty() ? "" : "; ", why ? why : c);
  }
  if (!handle)
    throw Error(fmt::format("training needs XGBoost's library, which could not be loaded ({}); install it "
                            "(Debian/Ubuntu: 'sudo apt-get install libxgboost0') or set DEEPEN_XGBOOST_LIBRARY "
                            "to the path of libxgboost.so",
                            tried));
  // The library stays loaded for the life of the process: boosters made by it may live that long.
  XGBoostLibrary api{};
  auto bind = [&](auto& fn, const char* name) {
    void* sym = dlsym(handle, name);
    if (!sym)
      throw Error(fmt::format("the XGBoost library that was loaded lacks {}: deepen needs XGBoost 1.6 or newer "
                              "(Debian/Ubuntu: 'sudo apt-get install libxgboost0')",
                              name));
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(sym);
  };
  bind(api.GetLastError, "XGBGetLastError");
  bind(api.RegisterLogCallback, "XGBRegisterLogCallback");
  bind(api.DMatrixCreateFromMat, "XGDMatrixCreateFromMat");
  bind(api.DMatrixSetFloatInfo, "XGDMatrixSetFloatInfo");
  bind(api.DMatrixFree, "XGDMatrixFree");
  bind(api.BoosterCreate, "XGBoosterCreate");
  bind(api.BoosterFree, "XGBoosterFree");
  bind(api.BoosterSetParam, "XGBoosterSetParam");
  bind(api.BoosterUpdateOneIter, "XGBoosterUpdateOneIter");
  bind(api.BoosterBoostOneIter, "XGBoosterBoostOneIter");
  bind(api.BoosterPredict, "XGBoosterPredict");
  bind(api.BoosterSaveModelToBuffer, "XGBoosterSaveModelToBuffer");
  return api;
}

}  // namespace

const XGBoostLibrary& xgboost_library() {
  // A failed load throws out of the initialiser, so the next call tries again.
  static const XGBoostLibrary api = load();
  return api;
}

}  // namespace deepen
