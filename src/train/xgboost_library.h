// XGBoost's C API, loaded with dlopen on first use: training (train, eval's refits, profile's
// refinement) needs XGBoost, prediction does not (deepen scores boosters with its own tree
// walker), so a process that never trains never loads libxgboost and its start-up cost.
// The C API header gives the signatures; this table gives the functions.
#pragma once

#include <xgboost/c_api.h>

namespace deepen {

struct XGBoostLibrary {
  decltype(&::XGBGetLastError) GetLastError;
  decltype(&::XGBRegisterLogCallback) RegisterLogCallback;
  decltype(&::XGDMatrixCreateFromMat) DMatrixCreateFromMat;
  decltype(&::XGDMatrixSetFloatInfo) DMatrixSetFloatInfo;
  decltype(&::XGDMatrixFree) DMatrixFree;
  decltype(&::XGBoosterCreate) BoosterCreate;
  decltype(&::XGBoosterFree) BoosterFree;
  decltype(&::XGBoosterSetParam) BoosterSetParam;
  decltype(&::XGBoosterUpdateOneIter) BoosterUpdateOneIter;
  decltype(&::XGBoosterBoostOneIter) BoosterBoostOneIter;
  decltype(&::XGBoosterPredict) BoosterPredict;
  decltype(&::XGBoosterSaveModelToBuffer) BoosterSaveModelToBuffer;
};

// The C API of the first library that loads: $DEEPEN_XGBOOST_LIBRARY when set (and then only
// it), else the one deepen was built against, else libxgboost.so.0 / libxgboost.so on the
// loader's path. Loaded once per process; Error saying what to install when none loads.
const XGBoostLibrary& xgboost_library();

struct TrainParams;
// Sets deepen's training parameters on a booster (one thread, the seed, squared error, hist
// trees, p's tree settings) with the given base score; Error when XGBoost refuses one.
void set_training_params(void* booster, const TrainParams& p, double base_score);

}  // namespace deepen
