#!/usr/bin/env bash
# Builds the libFuzzer targets with ASan and UBSan (clang) and runs each for SECONDS.
#   scripts/run-fuzzers.sh SECONDS [TARGET...]    targets: onnx registry fusion_rules booster dataset_csv power_trace
# Environment: BUILD_DIR (default build-fuzz), JOBS (default 2), FUZZ_ARGS (more libFuzzer flags).
# Corpora grow in $BUILD_DIR/corpus/TARGET, seeded from test_models/, predictors/ and fuzz/seeds/;
# crashing inputs land in $BUILD_DIR/findings/TARGET. Prints executions and findings per target
# and exits 1 when any target found something.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${1:?usage: scripts/run-fuzzers.sh SECONDS [TARGET...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(onnx registry fusion_rules booster dataset_csv power_trace)
build=${BUILD_DIR:-build-fuzz}
jobs=${JOBS:-2}

# The same configuration as scripts/sanitize.sh (tests and fuzz targets in one tree), so that
# running both on one BUILD_DIR compiles the library once.
CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DDEEPEN_FUZZ=ON -DDEEPEN_SANITIZE=ON -DDEEPEN_TESTS=ON -DDEEPEN_WITH_OPENCV=OFF >/dev/null
cmake --build "$build" --target deepen_fuzzers -j "$jobs"

# Seeds: the repository's own files of each kind (copied, so the corpus never writes into them).
seed() {  # seed TARGET FILE...
  local dir="$build/corpus/$1"
  shift
  mkdir -p "$dir"
  for f in "$@"; do [ -f "$f" ] && cp -f "$f" "$dir/seed-$(echo "$f" | tr '/' '_')"; done
  return 0
}
shopt -s nullglob globstar
# Past findings (tests/bad_inputs/fuzz_findings/TARGET) seed their target too.
seed onnx test_models/*.onnx tests/bad_inputs/**/*.onnx tests/bad_inputs/fuzz_findings/onnx/*
seed registry predictors/predictors.yaml fuzz/seeds/registry/*.yaml tests/bad_inputs/fuzz_findings/registry/*
seed fusion_rules predictors/**/fusion_rules*.yaml fuzz/seeds/fusion_rules/*.yaml \
  tests/bad_inputs/fuzz_findings/fusion_rules/*
seed dataset_csv fuzz/seeds/dataset_csv/*.csv ../shared/data/deepen2023/*.csv tests/bad_inputs/fuzz_findings/dataset_csv/*
seed power_trace fuzz/seeds/power_trace/*.csv tests/bad_inputs/fuzz_findings/power_trace/*
seed booster predictors/**/*.ubj predictors/**/*.json tests/bad_inputs/fuzz_findings/booster/*
mkdir -p "$build/corpus/booster"
"$build/fuzz/deepen_fuzz_seeds" "$build/corpus/booster"

declare -A dict=([onnx]=fuzz/onnx.dict [registry]=fuzz/yaml.dict [fusion_rules]=fuzz/yaml.dict)
declare -A max_len=([onnx]=262144 [registry]=16384 [fusion_rules]=8192 [booster]=65536)

# Leak checking stays on for our code; ONNX's and protobuf's schema registries are built once and
# kept for the life of the process, which LeakSanitizer sees as reachable, not as leaks.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_stack_use_after_return=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
summary=""
for t in "${targets[@]}"; do
  exe="$build/fuzz/${t}_fuzz"
  [ -x "$exe" ] || { echo "no fuzz target '$t'" >&2; exit 2; }
  rm -rf "$build/findings/$t"  # each run reports its own findings
  mkdir -p "$build/corpus/$t" "$build/findings/$t"
  log="$build/findings/$t.log"
  args=(-max_total_time="$seconds" -timeout=20 -rss_limit_mb=3072 -max_len="${max_len[$t]:-65536}"
        -print_final_stats=1 -artifact_prefix="$build/findings/$t/")
  [ -n "${dict[$t]:-}" ] && args+=(-dict="${dict[$t]}")
  echo "== $t: ${seconds}s"
  set +e
  # shellcheck disable=SC2086
  "$exe" "${args[@]}" ${FUZZ_ARGS:-} "$build/corpus/$t" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  findings=$(find "$build/findings/$t" -type f | wc -l)
  corpus=$(find "$build/corpus/$t" -type f | wc -l)
  line="$t: rc=$rc executions=${execs:-?} corpus=$corpus findings=$findings"
  echo "$line"
  summary+="$line"$'\n'
  if [ "$rc" -ne 0 ] || [ "$findings" -ne 0 ]; then
    status=1
    grep -m1 -A30 -E 'ERROR: |runtime error|FUZZ_CHECK|==[0-9]+==' "$log" || tail -30 "$log"
  fi
done
echo "== summary"
printf '%s' "$summary"
exit $status
