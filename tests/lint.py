#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The house limits HACKING.md states, checked: no C function over 80
lines, no C source file over 700 lines, no line over 80 columns, an SPDX
line and a purpose line opening every file, and every source file named
in HACKING.md's file map.  Prints each breach; exits 1 if there is any.
Usage: tests/lint.py (from anywhere)."""
import glob
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_FUNC, MAX_FILE, MAX_COL = 80, 700, 80
# Where the limits hold: the products' sources (tests and generated
# files aside).
SOURCES = ["preload/*.[ch]", "viewer/*.[ch]", "include/socktrace/*.h"]


def width(line):
    return len(line.expandtabs(8))


def functions(lines):
    """(name, first line, length) of each function defined at column 0:
    its body runs from a '{' line to the next '}' line, both at column 0."""
    start = name = None
    for i, l in enumerate(lines):
        if l.startswith("{") and start is None:
            start = i
            # the declarator is on the lines just above
            for j in range(i - 1, max(i - 6, -1), -1):
                m = re.search(r"(\w+)\s*\(", lines[j])
                if m:
                    name = m.group(1)
                    break
        elif l.startswith("}") and start is not None:
            yield name or "?", start + 1, i - start + 1
            start = name = None


def main():
    bad = []
    files = sorted(f for p in SOURCES for f in glob.glob(os.path.join(ROOT, p)))
    with open(os.path.join(ROOT, "HACKING.md")) as f:
        hacking = f.read()
    for path in files:
        rel = os.path.relpath(path, ROOT)
        with open(path) as f:
            lines = f.read().split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if len(lines) > MAX_FILE:
            bad.append(f"{rel}: {len(lines)} lines (at most {MAX_FILE})")
        if not lines or "SPDX-License-Identifier" not in lines[0]:
            bad.append(f"{rel}:1: no SPDX line")
        elif len(lines) < 2 or not lines[1].startswith(("/*", "#")):
            bad.append(f"{rel}:2: no purpose line")
        for i, l in enumerate(lines, 1):
            if width(l) > MAX_COL:
                bad.append(f"{rel}:{i}: {width(l)} columns")
        if rel.endswith(".c"):
            for name, at, n in functions(lines):
                if n > MAX_FUNC:
                    bad.append(f"{rel}:{at}: {name}() is {n} lines "
                               f"(at most {MAX_FUNC})")
        if f"`{rel}`" not in hacking:
            bad.append(f"{rel}: not in HACKING.md's file map")
    for b in bad:
        print("lint:", b)
    print(f"lint: {len(files)} files, {len(bad)} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
