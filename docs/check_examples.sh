#!/usr/bin/env bash
# Runs the examples of docs/check.md with the built binary, in a scratch folder, and prints each
# command with its output and exit code: what the page shows. Usage: bash docs/check_examples.sh
set -uo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
deepen="${DEEPEN:-$repo/build/deepen}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
ln -s "$repo/test_models" test_models
run() {
  echo "\$ $*"
  "${@/#deepen/$deepen}" 2>&1
  echo "[exit $?]"
  echo
}
mkdir models
cp test_models/mobilenetv1.onnx test_models/resnet_basic.onnx test_models/squeezenet_fire.onnx models/
run deepen predict -p cortexA76cpu_tflite -m models/ -f json -o baseline.json
run deepen check -p cortexA76cpu_tflite -m models/ --baseline baseline.json --max-increase 5%
# A change: mobilenetv1.onnx grows, mobilenetv3.onnx is new, resnet_basic.onnx is renamed,
# squeezenet_fire.onnx is gone.
cp test_models/mobilenetv2.onnx models/mobilenetv1.onnx
cp test_models/mobilenetv3.onnx models/
mv models/resnet_basic.onnx models/resnet.onnx
rm models/squeezenet_fire.onnx
printf '# energy per inference (--purpose energy)\ndefault: 1mJ\nmobilenetv3.onnx: 0.3mJ\n' > budgets.yaml
run deepen check -p cortexA76cpu_tflite -m models/ --baseline baseline.json --max-increase 5% \
  --budget-file budgets.yaml --junit check.xml
sed -n '1,3p;/name="mobilenetv3.onnx"/,/<\/testcase>/p;/name="squeezenet_fire.onnx"/,$p' check.xml
echo
run deepen check -p cortexA76cpu_tflite -m models/ --baseline baseline.json --update-baseline
# A predictor version change.
run deepen predict -p cortexA76cpu_tflite --predictor-version 1.0 --purpose latency -m models/ -f json \
  -o latency-baseline.json
run deepen check -p cortexA76cpu_tflite --purpose latency -m models/ --baseline latency-baseline.json \
  --max-increase 5% --budget 20ms
run deepen check -p cortexA76cpu_tflite -m models/ --budget 10ms
