#!/usr/bin/env python3
"""Re-runs the `$ deepen ...` examples of README.md with the current build and writes their output
back, so that every output the README shows comes from the current binary.

    scripts/update-readme-outputs.py [--check] [--deepen build/deepen]

An example is a line `$ deepen <predict|kernels|list|eval> ...` inside a ``` block whose output
runs to the end of the block. Examples that read ../shared (data a fresh clone lacks) are kept
unless ../shared is there. Run from the repository root. --check exits 1 if anything would change.
"""
import argparse
import os
import re
import subprocess
import sys

RUNNABLE = re.compile(r"^\$ deepen (predict|kernels|list|eval)\b")


def run(command, deepen):
    shell = re.sub(r"^deepen ", deepen + " ", command)
    done = subprocess.run(["bash", "-c", shell + " 2>&1"], capture_output=True, text=True)
    out = done.stdout.replace(os.getcwd() + "/", "")
    return out.rstrip("\n").split("\n") if out.strip() else []


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--deepen", default="build/deepen")
    args = ap.parse_args()
    lines = open("README.md", encoding="utf-8").read().split("\n")
    out, i, changed = [], 0, 0
    while i < len(lines):
        line = lines[i]
        out.append(line)
        i += 1
        if not RUNNABLE.match(line) or ("../shared" in line and not os.path.isdir("../shared")):
            continue
        j = i  # the example's output: up to the block's end or the next command
        while j < len(lines) and not lines[j].startswith("```") and not lines[j].startswith("$ "):
            j += 1
        shown = lines[i:j]
        if not shown:  # a command alone, shown as an illustration: nothing to compare
            continue
        fresh = run(line[2:], args.deepen)
        if any("no such file" in x or "cannot open" in x for x in fresh):
            print(f"README.md:{i}: kept (its input is not here): {line}", file=sys.stderr)
            out.extend(shown)
            i = j
            continue
        if shown[-1] == "...":  # a shortened output stays as short
            fresh = fresh[: len(shown) - 1] + ["..."]
        if fresh != shown:
            changed += 1
            print(f"README.md:{i}: {line}", file=sys.stderr)
        out.extend(fresh)
        i = j
    if args.check:
        return 1 if changed else 0
    open("README.md", "w", encoding="utf-8").write("\n".join(out))
    print(f"{changed} example(s) updated", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
