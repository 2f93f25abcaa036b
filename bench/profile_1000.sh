#!/usr/bin/env bash
# Times `deepen profile` of 1000 kernels (800 sampled, 200 in the fine-grained round) of the kernel
# types that the host-loop families use, single-threaded OpenCV. Usage: bench/profile_1000.sh [OUT.csv]
set -euo pipefail
DEEPEN=${DEEPEN:-build/deepen}
OUT=${1:-bench/out/host_kernels.csv}
mkdir -p "$(dirname "$OUT")"
KERNELS=conv-bn-relu,conv-bn-relu6,conv-bn,dwconv-bn-relu,dwconv-bn-relu6,add,add-relu,maxpool,global-avgpool,fc
start=$(date +%s)
"$DEEPEN" profile --backend opencv --threads 1 ${PIN:+--pin $PIN} --kernels "$KERNELS" --samples 800 --refine 200 --seed 1 \
  --out "$OUT" --quiet
end=$(date +%s)
echo "profiled $(($(wc -l < "$OUT") - 1)) kernels in $((end - start)) s ($(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2))"
