#!/usr/bin/env python3
"""Writes the man page deepen(1) from the manual itself: README.md, then every page that
docs/README.md links to, in the index's order. Nothing is written by hand twice.

    scripts/make-manpage.py [--root DIR] [--version V] -o deepen.1
    scripts/make-manpage.py [--root DIR] [--version V] --check deepen.1

The Markdown the manual uses becomes roff for the man macros: a page's title a section (.SH), its
headings subsections (.SS) or bold lines, paragraphs, bullet and numbered lists, code blocks
(no fill), tables (a two-column table as tagged paragraphs, flag and meaning; a wider one as one
tagged paragraph per row, each cell after the first under its column's name), `code` and
**bold** in bold, *emphasis* in italics, links as their text. --check regenerates the page and
fails when the file differs (a build that is out of date), when a page of the index is missing
from it, or when groff, where installed, warns while formatting it.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)")


def esc(text):
    """Plain text as roff: backslashes and hyphen-minus escaped (options stay copy-pasteable)."""
    return text.replace("\\", "\\e").replace("-", "\\-")


def code(text):
    """A code span in bold; a long one may break after , | / : or - (never inside a word)."""
    text = esc(text.replace("\\|", "|"))
    text = re.sub(r"\S{41,}", lambda m: re.sub(r"(,|\||/|:|(?<=[A-Za-z0-9])\\-)(?=\S)",
                                                 r"\1\\:", m.group(0)), text)
    return "\\fB" + text + "\\fR"


def inline(text):
    """Markdown prose as roff, with `code`, **bold**, *italic* and links (as their text)."""
    text = LINK.sub(lambda m: m.group(1) if not re.match(r"^[a-z]+:", m.group(2))
                    else f"{m.group(1)} <{m.group(2)}>", text)
    text = re.sub(r"\*\*(`[^`]*`)\*\*", r"\1", text)  # bold code is code
    out = []
    for i, part in enumerate(re.split(r"(`[^`]*`)", text)):
        if i % 2:
            out.append(code(part[1:-1]))
            continue
        part = part.replace("\\|", "|").replace("\\*", "*").replace("\\_", "_")
        part = esc(part)
        part = re.sub(r"\*\*([^*]+)\*\*", r"\\fB\1\\fR", part)
        part = re.sub(r"(?<![\w*])\*([^*\s][^*]*?)\*(?![\w*])", r"\\fI\1\\fR", part)
        out.append(part)
    return "".join(out)


def line_out(text):
    """A text line that roff will not take for a request."""
    text = text.strip()
    return "\\&" + text if text.startswith((".", "'")) else text


def cells(row):
    row = row.strip()
    if row.startswith("|"):
        row = row[1:]
    if row.endswith("|") and not row.endswith("\\|"):
        row = row[:-1]
    return [c.strip() for c in re.split(r"(?<!\\)\|", row)]


def table(rows):
    head = cells(rows[0])
    body = [cells(r) for r in rows[2:]]
    out = []
    for row in body:
        out += [".TP", line_out(inline(row[0]) or "\\&")]
        rest = row[1:]
        if len(head) == 2:
            out.append(line_out(inline(rest[0]) if rest else ""))
            continue
        first = True
        for name, cell in zip(head[1:], rest):
            if not cell:
                continue
            if not first:
                out.append(".br")
            first = False
            out.append(line_out(inline(f"{name}: {cell}" if name else cell)))
    return out


def convert(markdown, level_shift):
    """A Markdown page as roff lines. level_shift: 0 when its # title is a section of its own."""
    lines = markdown.split("\n")
    out, i = [], 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("<!--"):
            toc = stripped == "<!-- toc -->"
            while i < len(lines) and "-->" not in lines[i]:
                i += 1
            i += 1
            while toc and i < len(lines) and lines[i].strip():  # the page's own contents list
                i += 1
            continue
        if stripped.startswith("```"):
            out += [".PP", ".RS 4", ".nf"]
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                out.append("\\&" + esc(lines[i]))
                i += 1
            out += [".fi", ".RE"]
            i += 1
            continue
        m = re.match(r"^(#{1,6}) +(.*?) *$", line)
        if m:
            level = len(m.group(1)) + level_shift
            title = inline(m.group(2))
            if level == 1:
                out += [".SH " + '"' + title.upper().replace('"', "'") + '"']
            elif level == 2:
                out += [".SS " + '"' + title.replace('"', "'") + '"']
            else:
                out += [".PP", "\\fB" + title + "\\fR", ".br"]
            i += 1
            continue
        if stripped.startswith("|") and i + 1 < len(lines) and re.match(r"^\|[-:| ]+\|?$", lines[i + 1].strip()):
            j = i
            while j < len(lines) and lines[j].strip().startswith("|"):
                j += 1
            out += table(lines[i:j])
            out.append(".PP")
            i = j
            continue
        item = re.match(r"^( *)([-*]|\d+\.) +(.*)$", line)
        if item:
            indent = len(item.group(1))
            mark = "\\(bu" if item.group(2) in "-*" else item.group(2)
            text = [item.group(3)]
            i += 1
            while i < len(lines) and lines[i].strip() and lines[i].startswith(" " * (indent + 2)) \
                    and not re.match(r"^ *([-*]|\d+\.) ", lines[i]):
                text.append(lines[i].strip())
                i += 1
            if indent:
                out += [".RS 4"]
            out += [f".IP {mark} 4", line_out(inline(" ".join(text)))]
            if indent:
                out += [".RE"]
            continue
        if not stripped:
            if out and out[-1] not in (".PP", ".br") and not out[-1].startswith((".SH", ".SS")):
                out.append(".PP")
            i += 1
            continue
        para = [stripped]  # a paragraph: its lines up to a blank line or another block
        i += 1
        while i < len(lines) and lines[i].strip() and not re.match(
                r"^(#{1,6} |```|\||<!--| *([-*]|\d+\.) )", lines[i]):
            para.append(lines[i].strip())
            i += 1
        out.append(line_out(inline(" ".join(para))))
    return out


def index_pages(root):
    """The pages docs/README.md links to, in its order, once each."""
    pages = []
    for m in LINK.finditer(open(os.path.join(root, "docs", "README.md"), encoding="utf-8").read()):
        target = m.group(2).partition("#")[0]
        if target.endswith(".md") and "/" not in target and target not in pages:
            pages.append(target)
    return pages


def manpage(root, version):
    readme = open(os.path.join(root, "README.md"), encoding="utf-8").read()
    title, _, rest = readme.partition("\n")
    intro, _, sections = rest.partition("\n## ")
    out = [
        '.\\" Generated by scripts/make-manpage.py from README.md and docs/*.md; edit those.',
        f'.TH DEEPEN 1 "" "deepen {version}" "deepen manual"',
        ".ad l",  # ragged right, no hyphenation: option names and code stay whole
        ".nh",
        ".SH NAME",
        "deepen \\- predict the latency, power and energy of neural networks on edge devices",
        ".SH SYNOPSIS",
        ".B deepen",
        ".I command",
        "[\\fIoptions\\fR] [\\fImodel.onnx\\fR|\\fIfolder\\fR ...]",
        ".br",
        ".B deepen",
        ".I command",
        "\\fB\\-\\-help\\fR",
        ".br",
        ".B deepen \\-\\-version",
        ".SH DESCRIPTION",
    ]
    out += convert(intro, 1)
    out += convert("## " + sections, -1)
    pages = index_pages(root)
    for page in pages:
        out += convert(open(os.path.join(root, "docs", page), encoding="utf-8").read(), 0)
    out += [".SH \"SEE ALSO\"",
            "The same manual as Markdown: \\fBREADME.md\\fR and \\fBdocs/\\fR in deepen's source "
            "tree (\\fBdocs/README.md\\fR is the index)."]
    while ".PP" in out[-1:]:
        out.pop()
    text = "\n".join(l for l in out) + "\n"
    return re.sub(r"\n\.PP\n(?=\.(SH|SS|PP|TP|IP) )", "\n", re.sub(r"\n\.PP\n\.PP\n", "\n.PP\n", text)), pages


def check(path, fresh, pages, root):
    problems = []
    if not os.path.exists(path):
        return [f"{path} was not generated"]
    if open(path, encoding="utf-8").read() != fresh:
        problems.append(f"{path} differs from what the manual gives now: rebuild (cmake --build)")
    for page in pages:
        first = open(os.path.join(root, "docs", page), encoding="utf-8").readline()
        title = inline(first.lstrip("#").strip()).upper().replace('"', "'")
        if f'.SH "{title}"' not in fresh:
            problems.append(f"{path}: docs/{page} has no section")
    groff = shutil.which("groff")
    if groff:
        done = subprocess.run([groff, "-k", "-man", "-Tutf8", "-ww", "-z", path],
                              capture_output=True, text=True)
        if done.returncode != 0 or done.stderr.strip():
            problems.append(f"groff warns on {path}:\n{done.stderr.strip()}")
    else:
        print("make-manpage: groff not found: formatting not checked", file=sys.stderr)
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    ap.add_argument("--version", default="0.1.0")
    ap.add_argument("-o", "--output")
    ap.add_argument("--check", metavar="FILE")
    args = ap.parse_args()
    if not args.output and not args.check:
        ap.error("give -o FILE or --check FILE")
    fresh, pages = manpage(args.root, args.version)
    if args.check:
        problems = check(args.check, fresh, pages, args.root)
        for p in problems:
            print("make-manpage: " + p, file=sys.stderr)
        return 1 if problems else 0
    tmp = args.output + ".tmp"
    open(tmp, "w", encoding="utf-8").write(fresh)
    os.replace(tmp, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
