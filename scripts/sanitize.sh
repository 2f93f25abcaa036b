#!/usr/bin/env bash
# Builds deepen and its tests with AddressSanitizer and UndefinedBehaviorSanitizer in build-asan
# (or $BUILD_DIR) and runs the whole test suite. Any memory error, leak or undefined behaviour
# fails the run. Usage: scripts/sanitize.sh [ctest arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build-asan}
jobs=${JOBS:-2}
# clang's -fsanitize=undefined also checks float-to-integer overflow, which GCC's does not.
export CC=${CC:-clang} CXX=${CXX:-clang++}
# The same configuration as scripts/run-fuzzers.sh (tests and fuzz targets in one tree), so that
# running both on one BUILD_DIR compiles the library once.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDEEPEN_SANITIZE=ON -DDEEPEN_FUZZ=ON -DDEEPEN_TESTS=ON \
  -DDEEPEN_WITH_OPENCV=OFF >/dev/null
cmake --build "$build" -j "$jobs"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(pwd)/scripts/lsan.supp}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build" --output-on-failure -j "$jobs" "$@"
