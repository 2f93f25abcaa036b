#!/usr/bin/env bash
# Benchmark: time to write a family's reference model and 50 variants (target: under 5 s).
# Usage: bench/zoo_bench.sh [path/to/deepen] [outdir] [families...]
# Give an outdir on a RAM disk (/dev/shm) to time the tool rather than the disk: variants are
# 0.4 to 5 GB per family of random fp32 weights.
set -euo pipefail
DEEPEN=${1:-build/deepen}
OUT=${2:-$(mktemp -d)}
shift 2 || true
FAMILIES=${*:-mobilenetv2 squeezenet shufflenetv2 mobilenetv3 proxylessnas mnasnet mobilenetv1 resnet18}
for f in $FAMILIES; do
  rm -rf "$OUT/$f"
  start=$(date +%s.%N)
  "$DEEPEN" zoo --family "$f" --variants 50 --seed 7 --out "$OUT/$f" >/dev/null
  end=$(date +%s.%N)
  size=$(du -sh "$OUT/$f" | cut -f1)
  printf '%-14s 50 variants + reference: %6.2f s, %s\n' "$f" "$(echo "$end - $start" | bc)" "$size"
  rm -rf "$OUT/$f"
done
