// Writes seed boosters for the booster fuzz target: a few trees trained on 16 rows of 3
// features, saved as JSON and as UBJSON. Usage: deepen_fuzz_seeds OUTPUT_DIR
#include <xgboost/c_api.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

static void check(int rc) {
  if (rc != 0) {
    std::fprintf(stderr, "xgboost: %s\n", XGBGetLastError());
    std::exit(1);
  }
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: deepen_fuzz_seeds OUTPUT_DIR\n");
    return 2;
  }
  std::vector<float> rows, labels;
  for (int i = 0; i < 16; ++i) {
    rows.insert(rows.end(), {float(i), float(i % 4), float(i * i)});
    labels.push_back(float(2 * i + 1));
  }
  DMatrixHandle m;
  check(XGDMatrixCreateFromMat(rows.data(), 16, 3, -1e30f, &m));
  check(XGDMatrixSetFloatInfo(m, "label", labels.data(), 16));
  BoosterHandle b;
  check(XGBoosterCreate(&m, 1, &b));
  check(XGBoosterSetParam(b, "max_depth", "2"));
  check(XGBoosterSetParam(b, "nthread", "1"));
  for (int it = 0; it < 3; ++it) check(XGBoosterUpdateOneIter(b, it, m));
  for (const char* format : {"json", "ubj"}) {
    bst_ulong len = 0;
    const char* buf = nullptr;
    std::string config = std::string("{\"format\": \"") + format + "\"}";
    check(XGBoosterSaveModelToBuffer(b, config.c_str(), &len, &buf));
    std::ofstream(std::string(argv[1]) + "/seed." + format, std::ios::binary).write(buf, static_cast<std::streamsize>(len));
  }
  XGBoosterFree(b);
  XGDMatrixFree(m);
  return 0;
}
