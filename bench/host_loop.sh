#!/usr/bin/env bash
# The host loop of issue 5: fusion rules and a kernel dataset from `deepen profile` on this machine,
# a latency predictor trained from it alone, and its predictions for 100 unseen zoo models
# (variants of seven families, seed 4242; sampling used seed 1) against `deepen measure`.
# Also the run-to-run noise: one model measured five times.
# Usage: bench/host_loop.sh [STEP...]  steps: rules kernels models measure noise train eval (default: all)
set -euo pipefail
DEEPEN=${DEEPEN:-$PWD/build/deepen}
OUT=${OUT:-$PWD/bench/out/host_loop}
KERNELS_CSV=${KERNELS_CSV:-$PWD/bench/out/host_kernels.csv}
FAMILIES="mobilenetv1 mobilenetv2 proxylessnas mnasnet resnet18 resnet34 resnet50"
NAME=$("$DEEPEN" profile --backend opencv --print-name)
PIN=${PIN:-1}   # the CPU that measures; keep the other one for everything else
RUNS=${RUNS:-10}
mkdir -p "$OUT"
steps=${*:-rules kernels models measure noise train eval}

for step in $steps; do
  case $step in
    rules)
      "$DEEPEN" profile --fusion-rules --backend opencv --pin "$PIN" --rules-out "$OUT/fusion_rules.yaml" ;;
    kernels)
      [ -s "$KERNELS_CSV" ] || bench/profile_1000.sh "$KERNELS_CSV" ;;
    models)
      rm -rf "$OUT/models" && mkdir -p "$OUT/models"
      for f in $FAMILIES; do "$DEEPEN" zoo --family "$f" --variants 15 --seed 4242 --out "$OUT/models" > /dev/null; done
      for f in $FAMILIES; do rm -f "$OUT/models/$f.onnx"; done    # variants only
      ls "$OUT"/models/*.onnx | sort | tail -n +101 | xargs -r rm -f  # 7 x 15 = 105: keep 100
      echo "$(ls "$OUT"/models/*.onnx | wc -l) unseen models in $OUT/models" ;;
    measure)
      "$DEEPEN" measure "$OUT/models" --backend opencv --threads 1 --pin "$PIN" --warmup 3 --runs "$RUNS" \
        --format csv -o "$OUT/measured.csv"
      # eval --models wants: model (relative to the CSV), latency_ms
      awk -F, 'NR == 1 { print "model,latency_ms"; next } $15 == "" { n = split($1, p, "/"); print "models/" p[n] "," $5 }' \
        "$OUT/measured.csv" > "$OUT/models_measured.csv" ;;
    noise)
      model="$OUT/models/$(ls "$OUT/models" | grep mobilenetv2 | head -1)"
      for i in 1 2 3 4 5; do
        "$DEEPEN" measure "$model" --threads 1 --pin "$PIN" --warmup 3 --runs "$RUNS" --format csv | tail -1
      done > "$OUT/noise.csv"
      awk -F, '{ m[NR] = $5; s += $5 } END { lo = m[1]; hi = m[1]; for (i in m) { if (m[i] < lo) lo = m[i]; if (m[i] > hi) hi = m[i] }
        printf "noise: 5 medians of %s, mean %.3f ms, range %.3f..%.3f ms (%.1f%% of the mean)\n", FILENAME, s / NR, lo, hi, 100 * (hi - lo) / (s / NR) }' \
        "$OUT/noise.csv" ;;
    train)
      "$DEEPEN" train --dataset "$KERNELS_CSV" --name "$NAME" --device "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), 1 thread" \
        --framework "OpenCV DNN $(dpkg-query -W -f='${Version}' libopencv-dnn-dev 2>/dev/null || echo '?'), CPU" \
        --purpose latency --fusion-rules "$OUT/fusion_rules.yaml" --predictors "$OUT/predictors" --force ;;
    eval)
      "$DEEPEN" eval --predictor "$NAME" --purpose latency --models "$OUT/models_measured.csv" \
        --predictors "$OUT/predictors" ;;
    *) echo "unknown step $step" >&2; exit 2 ;;
  esac
done
