#!/usr/bin/env bash
# Trains the predictors deepen ships, from the DeepEn2023 kernel measurements in ../shared/data,
# into predictors/ (or the folder given with --predictors DIR). The data is read, never copied.
#   scripts/train-shipped-predictors.sh [--predictors DIR] [--force] [extra deepen train flags]
# Run it from the repository root after building (build/deepen). Training is deterministic:
# the same data, deepen version and seed give byte-identical boosters.
set -euo pipefail
DEEPEN=${DEEPEN:-build/deepen}
DATA=${DEEPEN_DATA:-../shared/data/deepen2023}
PREDICTORS=predictors
extra=()
while (($#)); do
  case "$1" in
    --predictors) PREDICTORS=$2; shift 2 ;;
    *) extra+=("$1"); shift ;;
  esac
done
for f in "$DATA/conv-bn-relu_cpu.csv" "$DATA/conv-bn-relu_gpu.csv"; do
  [[ -f $f ]] || { echo "train-shipped-predictors: $f is missing (set DEEPEN_DATA)" >&2; exit 2; }
done

# Phone CPU with Cortex-A76 cores under TFLite. The released files do not name the phone; the
# authors' own script trains this predictor from a folder named for the Huawei P40 Pro (Kirin
# 990 5G). Latency fallback from that SoC's published figures: 4 Cortex-A76 cores (2 x 2.86 GHz,
# 2 x 2.36 GHz) x 16 fp32 FLOP/cycle (two 128-bit NEON FMA pipes) = 167 GFLOP/s, and LPDDR4X-4266
# on a 64-bit bus = 34.1 GB/s.
"$DEEPEN" train --predictors "$PREDICTORS" \
  --dataset "$DATA/conv-bn-relu_cpu.csv" \
  --name cortexA76cpu_tflite --version 1.0 \
  --data-note "DeepEn2023 kernel-level dataset (Tu et al., SEC 2023), phone CPU" \
  --device "Cortex-A76 phone CPU (likely Huawei P40 Pro, Kirin 990 5G)" \
  --framework "TFLite, CPU" \
  --purpose energy --seed 1 --fusion-rules scripts/fusion-rules/tflite.yaml \
  --peak-gflops 167 --bandwidth-gbs 34.1 \
  "${extra[@]}"

# The mobile GPU of the same study. The released files do not name the phone or the GPU, so the
# predictor is named for what the data tells, and no published specs are assumed: kernels
# without a booster get the energy fallback fitted on this data, and no latency.
"$DEEPEN" train --predictors "$PREDICTORS" \
  --dataset "$DATA/conv-bn-relu_gpu.csv" \
  --name mobilegpu_tflite --version 1.0 \
  --data-note "DeepEn2023 kernel-level dataset (Tu et al., SEC 2023), mobile GPU" \
  --device "Mobile GPU of the DeepEn2023 study (the released files do not name the phone)" \
  --framework "TFLite, GPU delegate" \
  --purpose energy --seed 1 --fusion-rules scripts/fusion-rules/tflite.yaml \
  "${extra[@]}"
