#!/usr/bin/env bash
# The README's second command (and what CI runs): install what is missing, build with warnings
# as errors, and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DDEEPEN_WERROR=ON -DCMAKE_EXPORT_COMPILE_COMMANDS=ON
cmake --build build -j"$(nproc)"
# The last commit's C++ lines follow .clang-format and its changed sources pass .clang-tidy.
bash scripts/check-format.sh HEAD~1 build
ctest --test-dir build --output-on-failure -j"$(nproc)"
# Bad input never crashes deepen: the whole suite again under AddressSanitizer and
# UndefinedBehaviorSanitizer, then every fuzz target for 60 s (one clang build serves both).
BUILD_DIR=build-asan bash scripts/sanitize.sh
BUILD_DIR=build-asan bash scripts/run-fuzzers.sh 60
