#!/usr/bin/env bash
# The host loop of issue 5: fusion rules and a kernel dataset from `deepen profile` on this machine,
# a latency predictor trained from it alone, and its predictions for 100 unseen zoo models
# (variants of seven families, seed 4242; profiling used seed 1) against `deepen measure`.
# Also the run-to-run noise: one model measured five times (noise), and all 100 measured again
# (repeat: the share of models whose two medians agree within 10%).
# Usage: bench/host_loop.sh [STEP...]
#   steps: rules kernels models measure noise repeat train eval families (default: all)
#   env: VARIANTS (per family for the in-network kernel profile, default 10), MODE=isolated (old
#   single-kernel profile), RUNS and ROUNDS (timed runs per model and passes, default 10 x 3),
#   PIN (default 1), MEASURED (the measured CSV the families step compares with), VERSION
#   (the predictor version it scores, default the newest)
set -euo pipefail
DEEPEN=${DEEPEN:-$PWD/build/deepen}
OUT=${OUT:-$PWD/bench/out/host_loop}
KERNELS_CSV=${KERNELS_CSV:-$PWD/bench/out/host_kernels.csv}
FAMILIES="mobilenetv1 mobilenetv2 proxylessnas mnasnet resnet18 resnet34 resnet50"
NAME=$("$DEEPEN" profile --backend opencv --print-name)
PIN=${PIN:-1}   # the CPU that measures; keep the other one for everything else
RUNS=${RUNS:-10}     # timed runs per model and round
ROUNDS=${ROUNDS:-3}  # passes over the 100 models, runs pooled (deepen measure --rounds)
mkdir -p "$OUT"
steps=${*:-rules kernels models measure noise repeat train eval families}

for step in $steps; do
  case $step in
    rules)
      "$DEEPEN" profile --fusion-rules --backend opencv --pin "$PIN" --rules-out "$OUT/fusion_rules.yaml" ;;
    kernels)
      [ -s "$KERNELS_CSV" ] || VARIANTS=${VARIANTS:-10} RULES="$OUT/fusion_rules.yaml" DEEPEN="$DEEPEN" PIN="$PIN" \
        bench/profile_1000.sh "$KERNELS_CSV" ;;
    models)
      rm -rf "$OUT/models" && mkdir -p "$OUT/models"
      for f in $FAMILIES; do "$DEEPEN" zoo --family "$f" --variants 15 --seed 4242 --out "$OUT/models" > /dev/null; done
      for f in $FAMILIES; do rm -f "$OUT/models/$f.onnx"; done    # variants only
      ls "$OUT"/models/*.onnx | sort | tail -n +101 | xargs -r rm -f  # 7 x 15 = 105: keep 100
      echo "$(ls "$OUT"/models/*.onnx | wc -l) unseen models in $OUT/models" ;;
    measure)
      "$DEEPEN" measure "$OUT/models" --backend opencv --threads 1 --pin "$PIN" --warmup 3 --runs "$RUNS" --rounds "$ROUNDS" \
        --format csv -o "$OUT/measured.csv"
      # eval --models wants: model (relative to the CSV), latency_ms
      awk -F, 'NR == 1 { print "model,latency_ms"; next } $15 == "" { n = split($1, p, "/"); print "models/" p[n] "," $5 }' \
        "$OUT/measured.csv" > "$OUT/models_measured.csv" ;;
    noise)
      model="$OUT/models/$(ls "$OUT/models" | grep mobilenetv2 | head -1)"
      for i in 1 2 3 4 5; do
        "$DEEPEN" measure "$model" --threads 1 --pin "$PIN" --warmup 3 --runs "$((RUNS * ROUNDS))" --format csv | tail -1
      done > "$OUT/noise.csv"
      awk -F, '{ m[NR] = $5; s += $5 } END { lo = m[1]; hi = m[1]; for (i in m) { if (m[i] < lo) lo = m[i]; if (m[i] > hi) hi = m[i] }
        printf "noise: 5 medians of %s, mean %.3f ms, range %.3f..%.3f ms (%.1f%% of the mean)\n", FILENAME, s / NR, lo, hi, 100 * (hi - lo) / (s / NR) }' \
        "$OUT/noise.csv" ;;
    repeat)
      "$DEEPEN" measure "$OUT/models" --backend opencv --threads 1 --pin "$PIN" --warmup 3 --runs "$RUNS" --rounds "$ROUNDS" \
        --format csv -o "$OUT/measured_again.csv"
      awk -F, 'FNR == 1 { next } NR == FNR { a[$1] = $5; next } ($1 in a) && a[$1] > 0 && $5 > 0 {
          n++; r = $5 / a[$1]; if (r > 1.1 || r < 1 / 1.1) off++; d = r > 1 ? r - 1 : 1 / r - 1; s += d }
        END { printf "repeat: %d models measured twice; %d (%.0f%%) of them have medians within 10%% of each other, mean gap %.1f%%\n",
              n, n - off, 100 * (n - off) / n, 100 * s / n }' "$OUT/measured.csv" "$OUT/measured_again.csv" ;;
    train)
      "$DEEPEN" train --dataset "$KERNELS_CSV" --name "$NAME" --device "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), 1 thread" \
        --framework "OpenCV DNN $(dpkg-query -W -f='${Version}' libopencv-dnn-dev 2>/dev/null || echo '?'), CPU" \
        --purpose latency --fusion-rules "$OUT/fusion_rules.yaml" --predictors "$OUT/predictors" --force ;;
    eval)
      "$DEEPEN" eval --predictor "$NAME" --purpose latency --models "$OUT/models_measured.csv" \
        --predictors "$OUT/predictors" ;;
    families)
      "$DEEPEN" predict -m "$OUT/models" --predictor "$NAME" ${VERSION:+--predictor-version "$VERSION"} --purpose latency \
        --predictors "$OUT/predictors" \
        --format csv -o "$OUT/predicted.csv"
      awk -F, 'FNR == 1 { next } NR == FNR { n = split($1, p, "/"); m[p[n]] = $2; next }
        { n = split($1, p, "/"); f = p[n]; sub(/_variant.*/, "", f); if (!(p[n] in m)) next
          r = $2 / m[p[n]]; fam[f]++; all++; e = r > 1 ? r - 1 : 1 - r
          if (e <= 0.1) { w10[f]++; a10++ } if (e <= 0.2) { w20[f]++; a20++ } ape[f] += e; aape += e; ratios[f] = ratios[f] " " r }
        END { printf "%-13s %4s %7s %7s %7s %s\n", "family", "n", "±10%", "±20%", "MAPE%", "predicted/measured (median)"
          for (f in fam) { k = split(ratios[f], v, " ")
            for (i = 2; i <= k; i++) { x = v[i] + 0; for (j = i - 1; j >= 1 && v[j] + 0 > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
            med = k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
            printf "%-13s %4d %6.0f%% %6.0f%% %7.1f %.2f\n", f, fam[f], 100 * w10[f] / fam[f], 100 * w20[f] / fam[f], 100 * ape[f] / fam[f], med }
          printf "%-13s %4d %6.0f%% %6.0f%% %7.1f\n", "all", all, 100 * a10 / all, 100 * a20 / all, 100 * aape / all }' \
        "$OUT/${MEASURED:-models_measured.csv}" "$OUT/predicted.csv" | sort ;;
    *) echo "unknown step $step" >&2; exit 2 ;;
  esac
done
