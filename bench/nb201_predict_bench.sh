#!/usr/bin/env bash
# Benchmark of deepen predict on a folder of NAS-Bench-201 networks (target: 2,000 networks per
# second or more on one core).
# Usage: bench/nb201_predict_bench.sh [path/to/deepen] [workdir] [N]
# The networks come from deepen zoo --nb201-csv (the first N rows of the LatBench NAS-Bench-201
# table, weights zeros: ~300 nodes each). The folder is predicted pinned to one core, 3 runs;
# CPU time (user+sys) is reported beside wall time: this machine is shared, and CPU time is
# what the process itself costs. The instruction count per network comes from callgrind on the
# first 100 networks (less a run on one network, so that start-up and the predictor's loading
# are left out): it is stable where times are not.
# Environment: PREDICTOR (default cortexA76cpu_tflite), PURPOSE (default latency),
# NB201_CSV (default /work/shared/data/latbench/nb201_latency.csv), CALLGRIND=0 to skip it.
set -euo pipefail
DEEPEN=$(realpath "${1:-build/deepen}")
WORK=${2:-$(mktemp -d)}
N=${3:-2000}
PREDICTOR=${PREDICTOR:-cortexA76cpu_tflite}
PURPOSE=${PURPOSE:-latency}
CSV=${NB201_CSV:-/work/shared/data/latbench/nb201_latency.csv}
mkdir -p "$WORK"
nets="$WORK/nets$N"
if [ "$(ls "$nets" 2>/dev/null | grep -c '\.onnx$' || true)" != "$N" ]; then
  rm -rf "$nets"
  head -n "$((N + 1))" "$CSV" > "$WORK/nb201_$N.csv"
  "$DEEPEN" zoo --nb201-csv "$WORK/nb201_$N.csv" --weights zeros --out "$nets" > /dev/null
fi
count=$(ls "$nets"/*.onnx | wc -l)
echo "networks: $count in $nets ($(du -sh "$nets" | cut -f1)); predictor $PREDICTOR, purpose $PURPOSE"
predict() { taskset -c 0 "$DEEPEN" predict -p "$PREDICTOR" --purpose "$PURPOSE" -m "$1" -f csv > /dev/null; }
predict "$nets"  # warm the page cache

TIMEFORMAT='%R %U %S'
for run in 1 2 3; do
  t=$( { time predict "$nets"; } 2>&1 )
  read -r wall user sys <<< "$t"
  cpu=$(echo "$user + $sys" | bc)
  printf 'run %d: wall %.2f s (%.0f networks/s), CPU %.2f s (%.0f networks/s)\n' "$run" "$wall" \
    "$(echo "$count / $wall" | bc -l)" "$cpu" "$(echo "$count / $cpu" | bc -l)"
done

if [ "${CALLGRIND:-1}" != 0 ] && command -v valgrind > /dev/null; then
  one="$WORK/cg_one" hundred="$WORK/cg_hundred"
  rm -rf "$one" "$hundred"
  mkdir -p "$one" "$hundred"
  files=("$nets"/*.onnx)  # in name order
  cp "${files[0]}" "$one/"
  cp "${files[@]:0:100}" "$hundred/"
  instructions() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$DEEPEN" predict -p "$PREDICTOR" --purpose "$PURPOSE" \
      -m "$1" -f csv 2>&1 > /dev/null | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
  }
  i1=$(instructions "$one")
  i100=$(instructions "$hundred")
  printf 'callgrind: %.2f M instructions per network (100 networks: %.0f M; one network, start-up included: %.0f M)\n' \
    "$(echo "($i100 - $i1) / 99 / 1000000" | bc -l)" "$(echo "$i100 / 1000000" | bc -l)" \
    "$(echo "$i1 / 1000000" | bc -l)"
fi
