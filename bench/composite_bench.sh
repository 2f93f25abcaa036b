#!/usr/bin/env bash
# Benchmark of composite training (target: importing LatBench's 12,263 NAS-Bench-201 networks and
# training one predictor from them, cross-validation included, in under 2 minutes on one core).
# Usage: bench/composite_bench.sh [path/to/deepen] [column]
# Needs ../shared/data/latbench/nb201_latency.csv. Both steps run pinned to one core
# (taskset -c 0); CPU time (user + sys) is reported beside wall time, as this machine is shared.
set -euo pipefail
DEEPEN=$(realpath "${1:-build/deepen}")
COLUMN=${2:-snapdragon855_adreno640gpu_int8_ms}
CSV=${DEEPEN_DATA:-../shared/data}/latbench/nb201_latency.csv
[[ -f $CSV ]] || { echo "composite_bench: $CSV is missing (set DEEPEN_DATA)" >&2; exit 2; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
TIMEFORMAT='%R %U %S'
step() {  # step LABEL COMMAND...
  local label=$1 t wall user sys
  shift
  t=$( { time taskset -c 0 "$@" > "$WORK/$label.log" 2>&1; } 2>&1 )
  read -r wall user sys <<< "$t"
  printf '%-8s wall %6.1f s, CPU %6.1f s\n' "$label" "$wall" "$(echo "$user + $sys" | bc)"
  echo "$wall $(echo "$user + $sys" | bc)" >> "$WORK/times"
}
step import "$DEEPEN" dataset import --format nb201 "$CSV" --column "$COLUMN" --threads 1 --out "$WORK/models"
step train "$DEEPEN" train --models "$WORK/models/measured.csv" --name bench --device d --framework f \
  --predictors "$WORK/predictors" --quiet
awk '{w += $1; c += $2} END {printf "total    wall %6.1f s, CPU %6.1f s (target: under 120 s)\n", w, c}' "$WORK/times"
grep -E 'latency from' "$WORK/train.log" || true
