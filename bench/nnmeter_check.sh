#!/usr/bin/env bash
# The check of issue 11 for cortexA76cpu_tflite's latency: deepen's figures for eight torchvision
# networks (built by deepen zoo, 224x224) beside nn-Meter's published latencies on the Pixel 4's
# Cortex-A76 CPU (TFLite 2.1, one thread), and their ratio. A check, never data: nothing is fitted
# to these eight figures. The phones and runtimes differ (the predictor's latency comes from a
# Note10's Once-for-All blocks), so a steady ratio is what to look for.
# Usage: bench/nnmeter_check.sh [path/to/deepen] [predictor] [version]
set -euo pipefail
DEEPEN=$(realpath "${1:-build/deepen}")
PREDICTOR=${2:-cortexA76cpu_tflite}
VERSION=${3:-}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
declare -A published=([resnet18]=216.2 [alexnet]=96.6 [squeezenet]=98.4 [googlenet]=167.6
  [shufflenetv2]=21.3 [mobilenetv2]=44.0 [mnasnet]=45.8 [vgg16]=1668.5)
declare -A torchvision=([resnet18]=resnet18 [alexnet]=alexnet [squeezenet]=squeezenet1_0 [googlenet]=googlenet
  [shufflenetv2]=shufflenet_v2_x1_0 [mobilenetv2]=mobilenet_v2 [mnasnet]=mnasnet1_0 [vgg16]=vgg16)
order=(resnet18 alexnet squeezenet googlenet shufflenetv2 mobilenetv2 mnasnet vgg16)
for f in "${order[@]}"; do "$DEEPEN" zoo --family "$f" --weights zeros --out "$WORK" > /dev/null; done
args=(-p "$PREDICTOR" --purpose latency -f csv)
[[ -n $VERSION ]] && args+=(--predictor-version "$VERSION")
echo "| model | nn-Meter, Pixel 4 A76 (ms) | deepen $PREDICTOR (ms) | deepen / nn-Meter |"
echo "|---|---|---|---|"
min=999; max=0
for f in "${order[@]}"; do
  ms=$("$DEEPEN" predict "${args[@]}" -m "$WORK/$f.onnx" 2>/dev/null | awk -F, 'NR==2 {print $2}')
  ratio=$(echo "scale=3; $ms / ${published[$f]}" | bc)
  min=$(echo "if ($ratio < $min) $ratio else $min" | bc)
  max=$(echo "if ($ratio > $max) $ratio else $max" | bc)
  printf '| %s | %s | %.1f | %.2f |\n' "${torchvision[$f]}" "${published[$f]}" "$ms" "$ratio"
done
printf '\nratio from %.2f to %.2f: the largest is %.2f times the smallest\n' "$min" "$max" "$(echo "scale=3; $max / $min" | bc)"
