// Fuzz target: a booster file's bytes -> Booster::load (through a file, as the CLI reads it),
// then one prediction on a row of zeros.
#include "fuzz_common.h"

#include <deepen/predict.h>

#include <fstream>
#include <unistd.h>

using namespace deepen;

namespace {
std::string temp_path() {
  static const std::string path = [] {
    const char* dir = std::getenv("TMPDIR");
    return std::string(dir && *dir ? dir : "/tmp") + "/deepen-booster-fuzz-" + std::to_string(getpid()) + ".ubj";
  }();
  return path;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  {
    std::ofstream out(temp_path(), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  return fuzz::run_one([&] {
    Booster b = Booster::load(temp_path());
    size_t n = b.num_features();
    FUZZ_CHECK(n > 0);
    if (n > 4096) return;
    std::vector<double> out = b.predict(std::vector<float>(n, 0.0f), n);
    FUZZ_CHECK(out.size() == 1);
  });
}
