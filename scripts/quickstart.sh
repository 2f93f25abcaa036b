#!/usr/bin/env bash
# The README's first command: install what is missing, build, and predict the energy of the
# models shipped in test_models/ on the Cortex-A76 phone CPU predictor.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release > build.log 2>&1 || { cat build.log; exit 1; }
cmake --build build -j"$(nproc)" >> build.log 2>&1 || { tail -50 build.log; exit 1; }
./build/deepen predict --predictor cortexA76cpu_tflite --purpose energy --modelpath test_models/
