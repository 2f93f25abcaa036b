#!/usr/bin/env bash
# Writes every zoo reference model and prints its MACs and parameters as `deepen kernels`
# reports them (Markdown rows for docs/zoo.md). Usage: bench/zoo_table.sh [path/to/deepen] [tmpdir]
set -euo pipefail
DEEPEN=${1:-build/deepen}
TMP=${2:-$(mktemp -d)}
mkdir -p "$TMP"
row() {  # name file
  local line
  "$DEEPEN" kernels "$2" >"$TMP/kernels.txt"
  line=$(head -1 "$TMP/kernels.txt")
  local macs params
  macs=$(sed -E 's/.* ([0-9.]+) MMACs.*/\1/' <<<"$line")
  params=$(sed -E 's/.*MMACs, ([0-9.]+) M params.*/\1/' <<<"$line")
  echo "| $1 | $params | $macs |"
}
echo "| model | params (M) | MACs (M) |"
echo "|---|---|---|"
for f in $("$DEEPEN" zoo --list | awk '{print $1}'); do
  [ "$f" = mobilenetv3 ] && continue  # the alias of mobilenetv3_large
  "$DEEPEN" zoo --family "$f" --out "$TMP" >/dev/null
  row "$f" "$TMP/$f.onnx"
  rm -f "$TMP/$f.onnx"
done
"$DEEPEN" zoo --nb201 '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|' \
  --dataset cifar10 --out "$TMP/nb201.onnx" >/dev/null
row "nb201 (all nor_conv_3x3, cifar10)" "$TMP/nb201.onnx"
rm -f "$TMP/nb201.onnx"
