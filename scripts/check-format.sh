#!/usr/bin/env bash
# Checks what a change touches, against BASE (default HEAD~1: the last commit's change):
# clang-format (.clang-format) on the changed lines of C++ files, and clang-tidy (.clang-tidy) on
# the changed .cpp files of the library and CLI, with BUILD's compile_commands.json. Files and
# lines the change leaves alone are not judged, so the check never asks to reformat old code.
# Usage: scripts/check-format.sh [BASE] [BUILD]    (scripts/test.sh runs it after the build)
# Fix what clang-format reports with: git clang-format BASE
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:-${DEEPEN_CHECK_BASE:-HEAD~1}}
build=${2:-build}
if ! git rev-parse -q --verify "$base^{commit}" > /dev/null 2>&1; then
  echo "check-format: no commit '$base' to compare with; nothing checked"
  exit 0
fi
mapfile -t files < <(git diff --name-only --diff-filter=AMR "$base" -- 'src/*.cpp' 'src/*.h' 'include/*.h' \
  'tests/*.cpp' 'tests/*.h' 'python/*.cpp' 'fuzz/*.cpp')
if ((${#files[@]} == 0)); then
  echo "check-format: no C++ file changed since $base"
  exit 0
fi
status=0
formatted=$(git clang-format --diff "$base" -- "${files[@]}" 2>&1 || true)
first_line=${formatted%%$'\n'*}
if [ -n "$formatted" ] && [ "$first_line" != "no modified files to format" ] &&
  [ "$first_line" != "clang-format did not modify any files" ]; then
  echo "$formatted"
  echo "check-format: the lines above do not follow .clang-format; run: git clang-format $base"
  status=1
fi
tidy=0
for f in "${files[@]}"; do
  case "$f" in src/*.cpp) ;; *) continue ;; esac
  if ! clang-tidy -p "$build" --quiet "$f" 2> /dev/null; then
    echo "check-format: clang-tidy found the problems above in $f"
    status=1
  fi
  tidy=$((tidy + 1))
done
((status == 0)) && echo "check-format: ${#files[@]} changed C++ file(s) formatted, $tidy checked by clang-tidy"
exit $status
