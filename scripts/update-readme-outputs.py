#!/usr/bin/env python3
"""Re-runs the `$ deepen ...` examples of README.md and of every docs/*.md page with the current
build and writes their output back, so that every output the manual shows comes from the current
binary; also checks that every relative link of those pages names a file (and a heading) that
exists.

    scripts/update-readme-outputs.py [--check] [--deepen build/deepen] [FILE.md ...]

An example is a line `$ deepen <predict|kernels|list|eval|check> ...` inside a ``` block; its
output runs to the end of the block or to the next `$ ` line. A shown output with a line `...`
is a shortened one: the lines above it are the start of the output, the lines below its end, and
they stay as many. Examples that read ../shared (data a fresh clone lacks) are kept unless
../shared is there, and so is an example whose input is missing. A command shown without output
is an illustration and is not run. Run from the repository root (ctest does). --check writes
nothing and exits 1 when an output would change or a link is broken, naming each.

A page may show a session that needs files made on the way (a baseline, then a changed model):
its blocks end each command's output with `[exit N]`, and a script docs/PAGE_examples.sh runs
that session in a scratch folder and prints it the same way. Those blocks are not run one by one;
instead every command of the script's transcript, with its output and exit code, must appear
verbatim in docs/PAGE.md (it cannot be written back: paste the script's output into the page).
"""
import argparse
import glob
import os
import re
import subprocess
import sys

RUNNABLE = re.compile(r"^\$ deepen (predict|kernels|list|eval|check)\b")
LINK = re.compile(r"(?<!!)\[([^\]]*)\]\(([^)\s]+)\)")
HEADING = re.compile(r"^(#{1,6}) +(.*?) *#* *$")
EXIT = re.compile(r"^\[exit \d+\]$")


def transcript_drift(script, deepen):
    """The commands of a docs/PAGE_examples.sh transcript that docs/PAGE.md does not show as the
    script prints them (command, output and exit code)."""
    page = script[: -len("_examples.sh")] + ".md"
    env = {k: v for k, v in os.environ.items() if k != "DEEPEN_PREDICTORS"}
    env["DEEPEN"] = os.path.abspath(deepen)
    done = subprocess.run(["bash", script], capture_output=True, text=True, env=env)
    shown = open(page, encoding="utf-8").read()
    drift = []
    for chunk in re.split(r"\n\n(?=\$ )", done.stdout.strip("\n")):
        chunk = chunk.rstrip("\n")
        if not chunk.startswith("$ deepen"):
            continue
        # Only the command and what it printed up to its exit code: anything the script shows after
        # (a file it wrote) is the page's business.
        lines = chunk.split("\n")
        end = next((k for k, x in enumerate(lines) if EXIT.match(x)), len(lines) - 1)
        if "\n".join(lines[: end + 1]) not in shown:
            drift.append(f"{page}: {lines[0]} (run bash {script} and paste its output)")
    return drift


def pages(named):
    if named:
        return named
    return ["README.md"] + sorted(glob.glob("docs/*.md"))


def run(command, deepen):
    shell = re.sub(r"^deepen ", deepen + " ", command)
    env = {k: v for k, v in os.environ.items() if k != "DEEPEN_PREDICTORS"}  # the source tree's
    done = subprocess.run(["bash", "-c", shell + " 2>&1"], capture_output=True, text=True, env=env)
    out = done.stdout.replace(os.getcwd() + "/", "").replace(deepen + ":", "deepen:")
    return out.rstrip("\n").split("\n") if out.strip() else []


def shorten(fresh, shown):
    """The fresh output cut as the shown one is: as many lines before and after its `...`."""
    cut = shown.index("...")
    head, tail = cut, len(shown) - cut - 1
    if head + tail >= len(fresh):
        return fresh
    return fresh[:head] + ["..."] + (fresh[len(fresh) - tail:] if tail else [])


def update_examples(path, deepen):
    """The page's text with fresh example outputs, and the examples that changed."""
    lines = open(path, encoding="utf-8").read().split("\n")
    out, i, changed, fence = [], 0, [], False
    while i < len(lines):
        line = lines[i]
        out.append(line)
        i += 1
        if line.startswith("```"):
            fence = not fence
            continue
        if not fence or not RUNNABLE.match(line):
            continue
        if "../shared" in line and not os.path.isdir("../shared"):
            continue
        j = i  # the example's output: up to the block's end or the next command
        while j < len(lines) and not lines[j].startswith("```") and not lines[j].startswith("$ "):
            j += 1
        shown = lines[i:j]
        if not shown:  # a command alone, shown as an illustration: nothing to compare
            continue
        if any(EXIT.match(x) for x in shown):  # a session's transcript: checked by transcript_drift
            continue
        fresh = run(line[2:], deepen)
        if any("no such file" in x.lower() or "cannot open" in x for x in fresh):
            print(f"{path}:{i}: kept (its input is not here): {line}", file=sys.stderr)
            out.extend(shown)
            i = j
            continue
        if "..." in shown:
            fresh = shorten(fresh, shown)
        if fresh != shown:
            changed.append(f"{path}:{i}: {line}")
        out.extend(fresh)
        i = j
    return "\n".join(out), changed


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces made hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def anchors(path, cache={}):
    if path not in cache:
        found, seen, fence = set(), {}, False
        for line in open(path, encoding="utf-8"):
            if line.startswith("```"):
                fence = not fence
            m = None if fence else HEADING.match(line.rstrip("\n"))
            if m:
                base = slug(m.group(2))
                n = seen.get(base, 0)
                seen[base] = n + 1
                found.add(base if n == 0 else f"{base}-{n}")
        cache[path] = found
    return cache[path]


def broken_links(path):
    """Relative links of the page whose file or heading does not exist."""
    bad, fence = [], False
    for number, line in enumerate(open(path, encoding="utf-8"), 1):
        if line.startswith("```"):
            fence = not fence
        if fence:
            continue
        prose = re.sub(r"`[^`]*`", "", line)
        for m in LINK.finditer(prose):
            target = m.group(2)
            if re.match(r"^[a-z]+:", target):  # https:, mailto:
                continue
            file, _, anchor = target.partition("#")
            where = os.path.normpath(os.path.join(os.path.dirname(path), file)) if file else path
            if not os.path.exists(where):
                bad.append(f"{path}:{number}: link to a missing file: {target}")
            elif anchor and where.endswith(".md") and anchor not in anchors(where):
                bad.append(f"{path}:{number}: link to a missing heading: {target}")
    return bad


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--deepen", default="build/deepen")
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    if not os.access(args.deepen, os.X_OK):
        print(f"update-readme-outputs: {args.deepen} is not an executable; build deepen first or "
              "pass --deepen", file=sys.stderr)
        return 2
    changed, broken = [], []
    for path in pages(args.files):
        text, page_changed = update_examples(path, args.deepen)
        changed += page_changed
        broken += broken_links(path)
        if page_changed and not args.check:
            open(path, "w", encoding="utf-8").write(text)
    drift = []
    if not args.files:
        for script in sorted(glob.glob("docs/*_examples.sh")):
            drift += transcript_drift(script, args.deepen)
    broken += drift  # not written back: a session's transcript is pasted by hand
    for line in changed:
        print(("differs from the binary's output: " if args.check else "updated: ") + line,
              file=sys.stderr)
    for line in broken:
        print(line, file=sys.stderr)
    if args.check:
        if changed:
            print("run scripts/update-readme-outputs.py to write the binary's outputs, and read "
                  "the diff", file=sys.stderr)
        return 1 if changed or broken else 0
    print(f"{len(changed)} example(s) updated", file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
