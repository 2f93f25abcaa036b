#!/usr/bin/env bash
# Times `deepen profile` of about 1000 kernels, single-threaded OpenCV, pinned to CPU $PIN.
# Default (in-network): every kernel of 3 variants each of the seven host-loop families (seed 1;
# the unseen test models use seed 4242), timed per layer inside the whole network, grouped into
# kernels by the backend's detected fusion rules ($RULES; detected first when missing).
# MODE=isolated: 800 sampled single-kernel models plus 200 in the fine-grained round (the old way).
# Usage: bench/profile_1000.sh [OUT.csv]   env: MODE, VARIANTS, RUNS, PIN, RULES, DEEPEN
set -euo pipefail
DEEPEN=${DEEPEN:-build/deepen}
OUT=${1:-bench/out/host_kernels.csv}
MODE=${MODE:-in-network}
PIN=${PIN:-1}
RULES=${RULES:-bench/out/host_loop/fusion_rules.yaml}
FAMILIES=${FAMILIES:-mobilenetv1,mobilenetv2,proxylessnas,mnasnet,resnet18,resnet34,resnet50}
mkdir -p "$(dirname "$OUT")"
start=$(date +%s)
if [ "$MODE" = isolated ]; then
  KERNELS=conv-bn-relu,conv-bn-relu6,conv-bn,dwconv-bn-relu,dwconv-bn-relu6,add,add-relu,maxpool,global-avgpool,fc
  "$DEEPEN" profile --backend opencv --threads 1 --pin "$PIN" --kernels "$KERNELS" --samples 800 --refine 200 --seed 1 \
    --out "$OUT" --quiet
else
  if [ ! -s "$RULES" ]; then
    mkdir -p "$(dirname "$RULES")"
    "$DEEPEN" profile --fusion-rules --backend opencv --pin "$PIN" --rules-out "$RULES"
  fi
  "$DEEPEN" profile --backend opencv --threads 1 --pin "$PIN" --in-network "$FAMILIES" --variants "${VARIANTS:-3}" \
    --seed 1 --rules "$RULES" ${RUNS:+--runs $RUNS} --out "$OUT" --quiet
fi
end=$(date +%s)
echo "profiled $(($(wc -l < "$OUT") - 1)) kernels ($MODE) in $((end - start)) s ($(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2))"
