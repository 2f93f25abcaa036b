#!/usr/bin/env bash
# The Jetson TX2 predictor on an input size it never saw, by proxy (docs/predictors.md, "The
# Jetson TX2").
# ImageNet16-120's TX2 measurements are held back; on this device a NAS-Bench-201 network costs
# what it runs, not what its tensors weigh (../shared/notes/nas-bench-201-devices.md: a model that
# cannot see the input size predicts ImageNet16-120 forms from CIFAR-10 ones at 98.4%). So this
# trains on the CIFAR-10 and CIFAR-100 forms of four fifths of the archs (every fifth row of
# nb201_cifar10.csv held out) and the FBNet blocks, with the shipped flags, then predicts each
# network's ImageNet16-120 form (16x16, 120 classes) and scores it against the same network's
# CIFAR-10 measurement, for held-out and for trained archs.
#   bench/tx2_input_size_proxy.sh [WORK_DIR] [extra deepen train flags]
# About 20 GB of imports under WORK_DIR (default /tmp/tx2_proxy), removed at the end unless KEEP=1.
set -euo pipefail
DEEPEN=${DEEPEN:-build/deepen}
HW=${DEEPEN_DATA:-../shared/data}/hwnasbench
WORK=${1:-/tmp/tx2_proxy}
shift || true
TRAIN_FLAGS=("$@")
((${#TRAIN_FLAGS[@]})) || TRAIN_FLAGS=(--kernel-base launch --correction-features counts)
mkdir -p "$WORK"
awk -F, 'BEGIN{OFS=","} NR==1{print; next} {$2="ImageNet16-120"; $3=16; $4=120; print}' \
  "$HW/nb201_cifar10.csv" > "$WORK/i16.csv"
import() {  # import NAME CSV: NAS-Bench-201 networks as TensorRT runs them
  [[ -f $WORK/$1/measured.csv ]] || "$DEEPEN" dataset import --format nb201 "$2" --column tx2gpu_latency_ms \
    --graph torch2trt --out "$WORK/$1" >&2
}
import c10 "$HW/nb201_cifar10.csv"
import c100 "$HW/nb201_cifar100.csv"
import i16 "$WORK/i16.csv"
fbnet() {  # fbnet PURPOSE COLUMN
  [[ -f $WORK/fbnet_$1/measured.csv ]] || "$DEEPEN" dataset import --format fbnet "$HW/fbnet_blocks.csv" \
    --column "$2" --out "$WORK/fbnet_$1" >&2
}
fbnet latency tx2gpu_latency_ms
fbnet energy tx2gpu_energy_mj
# Per form: latency.csv and energy.csv (the same models, the measured value of the CSV whose
# values the form carries, joined by arch), each split into train (kept archs) and test (every
# fifth arch of nb201_cifar10.csv).
split() {  # split FORM SOURCE_CSV
  local form=$1 src=$2 t col
  for t in latency energy; do
    col=5
    [[ $t == energy ]] && col=6
    awk -F, -v col=$col -v t=$t 'BEGIN{OFS=","} NR==FNR{if(FNR>1) v[$1]=$col; next}
      FNR==1{$2=(t=="latency" ? "latency_ms" : "energy_mj"); print; next} {$2=v[$3]; print}' \
      "$src" "$WORK/$form/measured.csv" > "$WORK/$form/$t.csv"
    awk -F, -v dir="$WORK/$form" -v t=$t 'NR==FNR{if(FNR>1) held[$1]=((FNR-2)%5==0); next}
      FNR==1{print > (dir "/" t "_train.csv"); print > (dir "/" t "_test.csv"); next}
      {print > (dir "/" t (held[$3] ? "_test.csv" : "_train.csv"))}' "$HW/nb201_cifar10.csv" "$WORK/$form/$t.csv"
  done
}
split c10 "$HW/nb201_cifar10.csv"
split c100 "$HW/nb201_cifar100.csv"
split i16 "$HW/nb201_cifar10.csv"
rm -rf "$WORK/predictors"
"$DEEPEN" train --models "$WORK/c10/latency_train.csv" --models "$WORK/c10/energy_train.csv" \
  --models "$WORK/c100/latency_train.csv" --models "$WORK/c100/energy_train.csv" \
  --models "$WORK/fbnet_latency/measured.csv" --models "$WORK/fbnet_energy/measured.csv" \
  --purpose latency --purpose energy --name tx2proxy --device "Jetson TX2 (proxy)" --framework "TensorRT" \
  --predictors "$WORK/predictors" --seed 1 --quiet "${TRAIN_FLAGS[@]}"
score() {  # score LABEL CSV PURPOSE
  "$DEEPEN" eval -p tx2proxy --predictors "$WORK/predictors" --purpose "$3" --models "$2" --format csv |
    awk -F, -v l="$1" -v p="$3" '$1=="all"{printf "%-58s %-7s n=%5d within ±10%% %.1f%% (±20%% %.1f%%), MAPE %.1f%%\n", l, p, $2, 100*$7, 100*$8, $4}'
}
for p in latency energy; do
  score "ImageNet16-120 forms of held-out archs" "$WORK/i16/${p}_test.csv" $p
  score "ImageNet16-120 forms of trained archs" "$WORK/i16/${p}_train.csv" $p
  score "CIFAR-10 forms of held-out archs" "$WORK/c10/${p}_test.csv" $p
done
[[ ${KEEP:-0} == 1 ]] || rm -rf "$WORK"
