#!/usr/bin/env bash
# Benchmark: `deepen zoo --family F --variants 50 --seed 7` (the reference model and 50 variants;
# target: under 5 s), per family: wall and CPU time, bytes written, and the floor the output
# folder's filesystem sets: dd writing the same number of bytes from /dev/zero in 256 KiB blocks,
# which is what the kernel takes to absorb them from a process that computes nothing (no fsync,
# like deepen). Once at the start, dd of 2 GB with conv=fdatasync gives the device's own speed.
# Usage: bench/zoo_bench.sh [path/to/deepen] [outdir] [families...]
# Environment: THREADS (--threads; default 0, one per core), WEIGHTS (--weights; default random).
# Each family's files are removed after timing; outdir needs room for the largest family
# (vgg16: 28 GB, alexnet 13 GB of random weights). /dev/shm times the tool rather than the disk.
set -euo pipefail
DEEPEN=$(realpath "${1:-build/deepen}")
OUT=${2:-$(mktemp -d)}
shift 2 || true
FAMILIES=${*:-squeezenet shufflenetv2 mobilenetv3_small proxylessnas mobilenetv1 mobilenetv2 mnasnet mobilenetv3 densenet googlenet resnet18 resnet50 resnet34 alexnet vgg16}
THREADS=${THREADS:-0}
WEIGHTS=${WEIGHTS:-random}
mkdir -p "$OUT"
TIMES=$(mktemp)
trap 'rm -f "$TIMES" "$OUT/dd.bin"' EXIT

sync
dd if=/dev/zero of="$OUT/dd.bin" bs=1M count=2048 conv=fdatasync 2>&1 | tail -1 |
  sed -E 's/.*copied, ([0-9.]+) s, (.*)/device: 2 GB with fdatasync in \1 s (\2)/'
rm -f "$OUT/dd.bin"
echo "output: $OUT; --threads $THREADS --weights $WEIGHTS; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-18s %10s %8s %8s %8s %14s\n' family bytes wall_s user_s sys_s dd_floor_s
for f in $FAMILIES; do
  rm -rf "${OUT:?}/$f"
  sync
  /usr/bin/time -o "$TIMES" -f '%e %U %S' \
    "$DEEPEN" zoo --family "$f" --variants 50 --seed 7 --threads "$THREADS" --weights "$WEIGHTS" --out "$OUT/$f" >/dev/null
  read -r wall user sys <"$TIMES"
  bytes=$(find "$OUT/$f" -type f -printf '%s\n' | awk '{s += $1} END {printf "%.0f\n", s}')
  rm -rf "${OUT:?}/$f"
  sync
  start=$(date +%s.%N)
  dd if=/dev/zero of="$OUT/dd.bin" bs=256K count=$(( (bytes + 262143) / 262144 )) 2>/dev/null
  floor=$(echo "$(date +%s.%N) - $start" | bc)
  rm -f "$OUT/dd.bin"
  printf '%-18s %10s %8s %8s %8s %14.2f\n' "$f" "$bytes" "$wall" "$user" "$sys" "$floor"
done
