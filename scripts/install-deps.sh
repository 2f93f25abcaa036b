#!/usr/bin/env bash
# Installs the Debian 12 packages deepen needs to build and test; does nothing for those present.
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  libonnx-dev libprotobuf-dev protobuf-compiler
  libcli11-dev libyaml-cpp-dev libxgboost-dev libfmt-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libopencv-dnn-dev
  libcairo2-dev  # the charts of eval --plot and check --chart (SVG, PNG, PDF)
  clang libclang-rt-14-dev
  clang-format clang-tidy  # scripts/check-format.sh: the style and checks of the lines a change touches
  python3 groff-base  # the man page (written by python3, checked by groff); the manual's examples and deepen check's JUnit XML are checked by Python
  python3-dev pybind11-dev python3-pytest  # the Python module and its tests
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deepen: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
