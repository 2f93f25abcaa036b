#!/usr/bin/env bash
# Benchmark of deepen predict (targets: one MobileNetV2-size model in under 50 ms as a whole
# process; a folder of 100 such models at more than 200 models per second on one core).
# Usage: bench/predict_bench.sh [path/to/deepen] [workdir]
# The models come from deepen zoo (MobileNetV2 at 224x224 and 99 variants, seed 11). CPU time
# (user+sys) is reported beside wall time: this machine is shared, and CPU time is what the
# process itself costs.
set -euo pipefail
DEEPEN=$(realpath "${1:-build/deepen}")
WORK=${2:-$(mktemp -d)}
PREDICTOR=${PREDICTOR:-cortexA76cpu_tflite}
mkdir -p "$WORK"
if [ ! -f "$WORK/models/mobilenetv2.onnx" ]; then
  "$DEEPEN" zoo --family mobilenetv2 --variants 99 --seed 11 --out "$WORK/models" > /dev/null
fi
one="$WORK/models/mobilenetv2.onnx"
count=$(ls "$WORK/models"/*.onnx | wc -l)
echo "models: $count in $WORK/models ($(du -sh "$WORK/models" | cut -f1))"
"$DEEPEN" predict -p "$PREDICTOR" -m "$one" > /dev/null  # warm the page cache

runs=20
TIMEFORMAT='%R %U %S'
best_wall=999; total_cpu=0
for _ in $(seq $runs); do
  t=$( { time taskset -c 0 "$DEEPEN" predict -p "$PREDICTOR" -m "$one" > /dev/null; } 2>&1 )
  read -r wall user sys <<< "$t"
  best_wall=$(echo "if ($wall < $best_wall) $wall else $best_wall" | bc)
  total_cpu=$(echo "$total_cpu + $user + $sys" | bc)
done
printf 'one model, whole process: best wall %.1f ms, mean CPU %.1f ms (%d runs)\n' \
  "$(echo "$best_wall * 1000" | bc)" "$(echo "$total_cpu * 1000 / $runs" | bc -l)" "$runs"

t=$( { time taskset -c 0 "$DEEPEN" predict -p "$PREDICTOR" -m "$WORK/models" --format json > /dev/null; } 2>&1 )
read -r wall user sys <<< "$t"
printf 'folder of %d models on one core: wall %.2f s (%.0f models/s), CPU %.2f s (%.0f models/s)\n' \
  "$count" "$wall" "$(echo "$count / $wall" | bc -l)" "$(echo "$user + $sys" | bc)" \
  "$(echo "$count / ($user + $sys)" | bc -l)"
