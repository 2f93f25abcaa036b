#!/usr/bin/env bash
# Benchmarks of deepen train and deepen eval on generated kernel data (no real data needed).
#   bench/train_bench.sh [path/to/deepen]
# Targets (issue 3): training a 1000-row kernel type, cross-validation included, under 5 s on
# one core; deepen eval on 10,000 rows under 1 s.
set -euo pipefail
DEEPEN=${1:-build/deepen}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# conv-bn-relu rows with energy = 0.8 mJ/GFLOP + 0.05 mJ/MB + 0.02 mJ, times 2% log-normal noise.
generate() {  # rows seed
  awk -v n="$1" -v seed="$2" 'BEGIN {
    srand(seed);
    split("7 14 28 56 112 13 27 224", hw, " "); split("16 24 32 48 64 96 128 160 192 256 384 512", ch, " ");
    split("1 3 5 7", ks, " ");
    print "kernel,hw,cin,cout,ks,stride,energy_mj,id";
    for (i = 0; i < n; i++) {
      h = hw[int(rand() * 8) + 1]; ci = ch[int(rand() * 12) + 1]; co = ch[int(rand() * 12) + 1];
      k = ks[int(rand() * 4) + 1]; s = int(rand() * 2) + 1; ho = int((h + s - 1) / s);
      flops = 2 * ho * ho * ci * k * k * co;
      bytes = 4 * (h * h * ci + ho * ho * co + ci * k * k * co + co);
      z = sqrt(-2 * log(rand() + 1e-12)) * cos(6.283185307 * rand());
      e = (0.8 * flops / 1e9 + 0.05 * bytes / 1e6 + 0.02) * exp(0.02 * z);
      printf "conv-bn-relu,%d,%d,%d,%d,%d,%.6g,k%d\n", h, ci, co, k, s, e, i;
    }
  }'
}
generate 1000 1 > "$WORK/train.csv"
generate 10000 2 > "$WORK/eval.csv"

pin() { if command -v taskset > /dev/null; then taskset -c 0 "$@"; else "$@"; fi; }
# Wall time, and CPU time (user + sys), which is what counts on a shared machine: on one core
# with nothing else running the two are the same.
TIMEFORMAT='%R %U %S'
{ time pin "$DEEPEN" train --dataset "$WORK/train.csv" --name bench --device generated --framework none \
    --predictors "$WORK/predictors" --quiet > "$WORK/train.out"; } 2> "$WORK/train.time"
{ time pin "$DEEPEN" eval --predictor bench --purpose energy --dataset "$WORK/eval.csv" \
    --predictors "$WORK/predictors" > "$WORK/eval.out"; } 2> "$WORK/eval.time"
read -r train_wall train_user train_sys < "$WORK/train.time"
read -r eval_wall eval_user eval_sys < "$WORK/eval.time"
train_s=$(echo "$train_user + $train_sys" | bc)
eval_s=$(echo "$eval_user + $eval_sys" | bc)
echo "train, 1000 rows, 5-fold CV + final fit, one core: ${train_s} s CPU, ${train_wall} s wall (target < 5 s)"
echo "eval, 10,000 rows, one core:                    ${eval_s} s CPU, ${eval_wall} s wall (target < 1 s)"
grep "conv-bn-relu energy" "$WORK/train.out" || true
grep "^all" "$WORK/eval.out" || true
ok=1
(( $(echo "$train_s < 5" | bc) )) || ok=0
(( $(echo "$eval_s < 1" | bc) )) || ok=0
[[ $ok == 1 ]] && echo "PASS" || { echo "FAIL"; exit 1; }
