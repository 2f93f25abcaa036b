#!/usr/bin/env bash
# Trains the predictors deepen ships, from the measurements in ../shared/data, into predictors/
# (or the folder given with --predictors DIR). The data is read, never copied: `deepen dataset
# import` turns look-up tables and NAS-Bench-201 tables into ONNX models and models CSVs under
# $WORK (default build/shipped-data), and `deepen train` learns from them.
#   scripts/train-shipped-predictors.sh [--predictors DIR] [--only NAME] [extra deepen train flags]
# Run it from the repository root after building (build/deepen). Training is deterministic:
# the same data, deepen version and seed give byte-identical boosters. --force is passed to
# every train, so a shipped version is rewritten in place.
set -euo pipefail
DEEPEN=${DEEPEN:-build/deepen}
SHARED=${DEEPEN_DATA:-../shared/data}
WORK=${WORK:-build/shipped-data}
PREDICTORS=predictors
ONLY=""
extra=()
while (($#)); do
  case "$1" in
    --predictors) PREDICTORS=$2; shift 2 ;;
    --only) ONLY=$2; shift 2 ;;
    *) extra+=("$1"); shift ;;
  esac
done
for f in deepen2023/conv-bn-relu_cpu.csv deepen2023/conv-bn-relu_gpu.csv latbench/nb201_latency.csv \
  hwnasbench/nb201_cifar10.csv hwnasbench/nb201_cifar100.csv hwnasbench/fbnet_blocks.csv \
  luts/ofa_note10/224_lookup_table.yaml luts/proxylessnas_mobile/mobile_trim.yaml; do
  [[ -f $SHARED/$f ]] || { echo "train-shipped-predictors: $SHARED/$f is missing (set DEEPEN_DATA)" >&2; exit 2; }
done
mkdir -p "$WORK"
# TFLite's fusion rules; the 1.0 energy predictors keep the copy they were trained with
# (tflite-v1.0.yaml, stored verbatim in their folders), so that they are reproduced byte for byte.
RULES=scripts/fusion-rules/tflite.yaml
wanted() { [[ -z $ONLY || $ONLY == "$1" ]]; }
train() { "$DEEPEN" train --predictors "$PREDICTORS" --seed 1 --force "$@" "${extra[@]}"; }
# import NAME ARGS...: `deepen dataset import ARGS --out $WORK/NAME`, once. The models are only
# needed while their predictor trains (a NAS-Bench-201 table is 2 GB of ONNX files): `done_with`
# removes them afterwards unless KEEP_IMPORTS=1.
import() {
  local name=$1
  shift
  [[ -f $WORK/$name/measured.csv ]] || "$DEEPEN" dataset import "$@" --out "$WORK/$name" >&2
  echo "$WORK/$name/measured.csv"
}
done_with() {  # done_with CSV...
  [[ ${KEEP_IMPORTS:-0} == 1 ]] && return 0
  local csv
  for csv in "$@"; do rm -rf "$(dirname "$csv")"; done
}

# ---- Energy from DeepEn2023's measured kernels ------------------------------------------------
# The power a phone can draw, for the power-envelope warning: the DeepEn2023 data holds energy
# only, so it comes from published figures (a whole phone: about 0.1 W idle to 8 W at full SoC
# load; a Kirin 990 5G with every CPU core busy draws about 6 W).
PHONE_POWER=(--power-envelope-w 0.1 8 --power-envelope-note
  "a phone: about 0.1 W idle to 8 W at full SoC load (published figures; the data holds no power)")
# Phone CPU with Cortex-A76 cores under TFLite. The released files do not name the phone; the
# authors' own script trains this predictor from a folder named for the Huawei P40 Pro (Kirin
# 990 5G). Version 1.0: latency fallback from that SoC's published figures: 4 Cortex-A76 cores
# (2 x 2.86 GHz, 2 x 2.36 GHz) x 16 fp32 FLOP/cycle = 167 GFLOP/s, LPDDR4X-4266 on 64 bits = 34.1 GB/s,
# used as DeepEn2023 (and nn-Meter) measured: TFLite on one thread, so one core's quarter of the
# peak, at the default sustained share (50%) and per-kernel overhead (0.01 ms).
if wanted cortexA76cpu_tflite; then
  train --dataset "$SHARED/deepen2023/conv-bn-relu_cpu.csv" \
    --name cortexA76cpu_tflite --predictor-version 1.0 \
    --data-note "DeepEn2023 kernel-level dataset (Tu et al., SEC 2023), phone CPU" \
    --device "Cortex-A76 phone CPU (likely Huawei P40 Pro, Kirin 990 5G)" \
    --framework "TFLite, CPU, 1 thread" \
    --purpose energy --fusion-rules scripts/fusion-rules/tflite-v1.0.yaml \
    --peak-gflops 167 --bandwidth-gbs 34.1 --cores 4 --runtime-threads 1 "${PHONE_POWER[@]}"
  # Version 1.1: the same energy, and latency learned from Once-for-All's measured blocks on a
  # Samsung Note10 (Snapdragon 855, Cortex-A76-class Kryo 485), five input resolutions.
  note10=$(import note10_blocks --format lut "$SHARED"/luts/ofa_note10/*_lookup_table.yaml)
  train --dataset "$SHARED/deepen2023/conv-bn-relu_cpu.csv" --models "$note10" \
    --name cortexA76cpu_tflite --predictor-version 1.1 \
    --data-note "energy: DeepEn2023 kernel-level dataset (Tu et al., SEC 2023), phone CPU; latency: Once-for-All's measured block look-up tables of a Samsung Note10 (Cai et al., ICLR 2020)" \
    --device "Cortex-A76 phone CPU (energy: likely Huawei P40 Pro, Kirin 990 5G; latency: Samsung Note10, Snapdragon 855 Kryo 485)" \
    --framework "TFLite, CPU (energy: 1 thread; latency: threads not stated by Once-for-All)" \
    --purpose energy --purpose latency --fusion-rules "$RULES" "${PHONE_POWER[@]}"
fi

# The mobile GPU of the same study. The released files do not name the phone or the GPU, so the
# predictor is named for what the data tells, and no published specs are assumed.
if wanted mobilegpu_tflite; then
  train --dataset "$SHARED/deepen2023/conv-bn-relu_gpu.csv" \
    --name mobilegpu_tflite --predictor-version 1.0 \
    --data-note "DeepEn2023 kernel-level dataset (Tu et al., SEC 2023), mobile GPU" \
    --device "Mobile GPU of the DeepEn2023 study (the released files do not name the phone)" \
    --framework "TFLite, GPU delegate" \
    --purpose energy --fusion-rules scripts/fusion-rules/tflite-v1.0.yaml "${PHONE_POWER[@]}"
fi

# ---- Latency from whole NAS-Bench-201 networks: LatBench (Dudziak et al., BRP-NAS, NeurIPS 2020)
# 12,263 networks in CIFAR-10 form (32x32 input), int8 as LatBench labels its mobile columns.
latbench() {  # latbench NAME COLUMN DEVICE FRAMEWORK
  local name=$1 column=$2 device=$3 framework=$4
  wanted "$name" || return 0
  local csv
  csv=$(import "latbench_$name" --format nb201 "$SHARED/latbench/nb201_latency.csv" --column "$column")
  train --models "$csv" --name "$name" --predictor-version 1.0 --purpose latency --fusion-rules "$RULES" \
    --data-note "LatBench (Dudziak et al., BRP-NAS, NeurIPS 2020), column $column: NAS-Bench-201 networks in CIFAR-10 form" \
    --device "$device" --framework "$framework"
  done_with "$csv"
}
latbench snapdragon855cpu_int8 snapdragon855_kryo485cpu_int8_ms "Snapdragon 855 Kryo 485 CPU" "int8 (LatBench)"
latbench adreno640gpu_int8 snapdragon855_adreno640gpu_int8_ms "Snapdragon 855 Adreno 640 GPU" "int8 (LatBench)"
latbench hexagon690dsp_int8 snapdragon855_hexagon690dsp_int8_ms "Snapdragon 855 Hexagon 690 DSP" "int8 (LatBench)"
latbench snapdragon675cpu_int8 snapdragon675_kryo460cpu_int8_ms "Snapdragon 675 Kryo 460 CPU" "int8 (LatBench)"
latbench adreno612gpu_int8 snapdragon675_adreno612gpu_int8_ms "Snapdragon 675 Adreno 612 GPU" "int8 (LatBench)"
latbench cortexA53cpu_int8 snapdragon450_cortexA53cpu_int8_ms "Snapdragon 450 Cortex-A53 CPU" "int8 (LatBench)"
latbench adreno506gpu_int8 snapdragon450_adreno506gpu_int8_ms "Snapdragon 450 Adreno 506 GPU" "int8 (LatBench)"
latbench edgetpu_int8 edgetpu_int8_ms "Edge TPU (Coral)" "Edge TPU, int8 (LatBench)"

# ---- HW-NAS-Bench (Li et al., ICLR 2021): NAS-Bench-201 networks in CIFAR-10 and CIFAR-100 form
# (a network's two forms share its arch string, and so a cross-validation fold) and FBNet blocks.
# HWNAS_GRAPH (the nb201 import's --graph) and HWNAS_TRAIN (extra train flags) are set per device.
HWNAS_POWER=()  # --power-envelope-w flags for the next hwnas
hwnas() {  # hwnas NAME DEVICE FRAMEWORK PURPOSE:COLUMN...
  local name=$1 device=$2 framework=$3
  shift 3
  wanted "$name" || return 0
  local args=() purposes=() spec purpose column graph=${HWNAS_GRAPH:-pruned} suffix=""
  [[ $graph == pruned ]] || suffix="_$graph"
  for spec in "$@"; do
    purpose=${spec%%:*}
    column=${spec#*:}
    purposes+=(--purpose "$purpose")
    args+=(--models "$(import "hwnas_${column}_c10$suffix" --format nb201 "$SHARED/hwnasbench/nb201_cifar10.csv" --column "$column" --graph "$graph")")
    args+=(--models "$(import "hwnas_${column}_c100$suffix" --format nb201 "$SHARED/hwnasbench/nb201_cifar100.csv" --column "$column" --graph "$graph")")
    args+=(--models "$(import "hwnas_${column}_fbnet" --format fbnet "$SHARED/hwnasbench/fbnet_blocks.csv" --column "$column")")
  done
  # shellcheck disable=SC2086  # HWNAS_TRAIN is a list of flags
  train "${args[@]}" "${purposes[@]}" --name "$name" --predictor-version 1.0 ${HWNAS_TRAIN:-} "${HWNAS_POWER[@]}" \
    --data-note "HW-NAS-Bench (Li et al., ICLR 2021): NAS-Bench-201 networks (CIFAR-10 and CIFAR-100 forms${suffix:+, imported with --graph $graph, the form to predict NAS-Bench-201 networks in}) and FBNet blocks" \
    --device "$device" --framework "$framework"
  local i
  for ((i = 1; i < ${#args[@]}; i += 2)); do done_with "${args[i]}"; done
}
# The TX2 measurements are torch2trt engines (HW-NAS-Bench's EdgeGPU_Benchmark.py): the networks
# are imported as TensorRT runs them (--graph torch2trt), and on these small tensors a kernel costs
# a launch whatever its size, so the kernel bases and the correction use nothing that moves with
# the input size (the predictor is meant for other input sizes, such as ImageNet16-120's 16x16).
# Its power envelope: the TX2 module's published 7.5 W (Max-Q) to 15 W (Max-N) budget; the
# measured energy over latency of these networks is about 4 W (the GPU's share).
HWNAS_POWER=(--power-envelope-w 1 15 --power-envelope-note
  "Jetson TX2 module: 7.5 W (Max-Q) to 15 W (Max-N) published; HW-NAS-Bench's energy over latency is about 4 W")
HWNAS_GRAPH=torch2trt HWNAS_TRAIN="--kernel-base launch --correction-features counts" \
  hwnas jetsontx2gpu "NVIDIA Jetson TX2 GPU" "TensorRT via torch2trt, fp32 (HW-NAS-Bench's TX2 setup)" \
  latency:tx2gpu_latency_ms energy:tx2gpu_energy_mj
HWNAS_POWER=()
hwnas pixel3cpu "Google Pixel 3 CPU" "TFLite (HW-NAS-Bench)" latency:pixel3cpu_latency_ms
hwnas raspi4cpu "Raspberry Pi 4 CPU (Cortex-A72)" "HW-NAS-Bench's Raspberry Pi 4 setup" latency:raspi4cpu_latency_ms

# ---- ProxylessNAS's mobile look-up table (the paper's phone: Google Pixel 1) ------------------
if wanted pixel1cpu_tflite; then
  pixel1=$(import pixel1_blocks --format lut "$SHARED/luts/proxylessnas_mobile/mobile_trim.yaml")
  train --models "$pixel1" --name pixel1cpu_tflite --predictor-version 1.0 --purpose latency --fusion-rules "$RULES" \
    --data-note "ProxylessNAS's measured mobile look-up table (Cai et al., ICLR 2019)" \
    --device "Google Pixel 1 CPU (Snapdragon 821 Kryo)" --framework "TFLite, CPU"
fi
