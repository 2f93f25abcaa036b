// Fuzz target: power-monitor trace text -> parse_power_trace (detected and explicit units, with
// and without re-stamping), the run-windows reader on the same bytes, and the integral of the
// trace over windows inside and outside its clock.
// Invariants: an accepted trace has increasing, finite timestamps and finite power; integration
// gives finite energies for windows inside the clock.
#include "fuzz_common.h"

#include <deepen/measure.h>

#include <cmath>

using namespace deepen;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return fuzz::run_one([&] {
    std::string text = fuzz::bytes_of(data, size);
    try {
      parse_run_windows(text, "fuzz-windows.csv");
    } catch (const Error&) {
    }
    for (TimeUnit unit : {TimeUnit::Auto, TimeUnit::Microseconds}) {
      for (double rate : {0.0, 5000.0}) {
        PowerTrace trace;
        try {
          trace = parse_power_trace(text, "fuzz-trace.csv", unit, rate);
        } catch (const Error&) {
          continue;
        }
        FUZZ_CHECK(trace.time_us.size() == trace.power_mw.size());
        for (size_t i = 0; i < trace.time_us.size(); ++i) {
          FUZZ_CHECK(std::isfinite(trace.time_us[i]) && std::isfinite(trace.power_mw[i]));
          if (i > 0) FUZZ_CHECK(trace.time_us[i] > trace.time_us[i - 1]);
        }
        if (trace.time_us.size() < 2) continue;
        double a = trace.time_us.front(), b = trace.time_us.back();
        std::vector<RunWindow> inside = {{a, a + (b - a) / 3}, {a + (b - a) / 3, b}};
        try {
          for (double e : integrate_trace(trace, inside)) FUZZ_CHECK(std::isfinite(e));
        } catch (const Error&) {
        }
        try {
          integrate_trace(trace, {{b + 1, b + 2}});
        } catch (const Error&) {
        }
      }
    }
  });
}
