#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the man pages from their one source each, so they cannot drift:
socktrace(1) from the built viewer's own --help texts (the command list,
then each command's usage and options), libsocktrace(7) from README's
table of environment variables.  Only the few lines no --help holds
(exit status, files, see also) are written here.
Usage: docs/mkman.py socktrace.1 SOCKTRACE > socktrace.1
       docs/mkman.py libsocktrace.7 README.md LIBDIR > libsocktrace.7"""
import re
import subprocess
import sys


def esc(text):
    """Plain text as roff: backslashes, and hyphens as minus signs where
    they start an option (so that they can be searched and copied)."""
    text = text.replace("\\", "\\e").replace("\u2026", "...")
    text = "".join(c if ord(c) < 128 else f"\\[u{ord(c):04X}]"
                   for c in text)
    return re.sub(r"(?<![\w-])-(?=[-\w])", r"\\-", text)


def line(text):
    """A text line that roff does not take for a request."""
    return "\\&" + text if text[:1] in (".", "'") else text


def md(text):
    """README's inline markdown as roff: `code` in bold."""
    out = []
    for i, part in enumerate(text.split("`")):
        out.append(f"\\fB{esc(part)}\\fR" if i % 2 else esc(part))
    return "".join(out).replace("\\|", "|")


def helptext(exe, *args):
    p = subprocess.run([exe, *args, "--help"], capture_output=True,
                       text=True, env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"})
    if p.returncode:
        sys.exit(f"mkman: {exe} {' '.join(args)} --help: exit "
                 f"{p.returncode}: {p.stderr}")
    return p.stdout.rstrip("\n").split("\n")


# an option line of a --help: two spaces, the option, two or more spaces,
# what it does (or nothing, when that starts on the next line)
OPT = re.compile(r"^  (-\S.*?)(?:\s{2,}(\S.*))?$")
# a command line of socktrace --help: "  name ARGS   what it does"
CMD = re.compile(r"^  ([a-z]\S*.*?)\s{2,}(\S.*)$")


def body(lines, tagged=OPT):
    """The lines of a --help after its usage lines, as roff: option
    lines become tagged paragraphs, their indented continuations their
    text; other lines run on as paragraphs."""
    out, para = [], False
    for text in lines:
        m = tagged.match(text)
        if m:
            out += [".TP", f"\\fB{esc(m.group(1))}\\fR"]
            if m.group(2):
                out.append(line(esc(m.group(2))))
            para = True
        elif text.startswith("    ") and para:
            out.append(line(esc(text.strip())))
        elif not text.strip():
            out.append(".PP")
            para = False
        else:
            if para or not out or out[-1] != ".PP" and out[-1][:1] == ".":
                out.append(".PP")
            out.append(line(esc(text.strip())))
            para = False
    return out


def usage_lines(lines):
    """How many lines a --help's usage takes: 'usage: socktrace ...' and
    the '       socktrace ...' lines under it."""
    n = 1 if lines and lines[0].startswith("usage: ") else 0
    while n < len(lines) and lines[n].startswith("       socktrace "):
        n += 1
    return n


def commands(top):
    """The command names, in the order socktrace --help lists them."""
    names, inside = [], False
    for text in top:
        if text == "commands:":
            inside = True
        elif inside and not text.strip():
            break
        elif inside and re.match(r"^  [a-z]", text):
            names.append(text.split()[0])
    return names


def socktrace1(exe):
    top = helptext(exe)
    version = subprocess.run([exe, "--version"], capture_output=True,
                             text=True).stdout.split()[-1]
    out = [f'.TH SOCKTRACE 1 "" "socktrace {version}" "User Commands"',
           ".SH NAME",
           "socktrace \\- per-connection timelines, states and findings "
           "of the socket calls libsocktrace.so recorded",
           ".SH SYNOPSIS"]
    names = commands(top)
    helps = {n: helptext(exe, n) for n in names}
    for n in names:
        for text in helps[n][:usage_lines(helps[n])]:
            out += [".br", f"\\fB{esc(text[7:].strip())}\\fR"]
    out += [".br", "\\fBsocktrace \\-\\-help\\fR | \\fB\\-\\-version\\fR",
            ".SH DESCRIPTION"]
    # the command list, as option lines: "  name ARGS  what it does"
    out += body(top[usage_lines(top):], CMD)
    out.append(".SH COMMANDS")
    for n in names:
        usage = helps[n][:usage_lines(helps[n])]
        out += [f".SS {n}"] + [f"\\fB{esc(u[7:].strip())}\\fR\n.br"
                               for u in usage]
        out += body(helps[n][len(usage):])
    out += [".SH ENVIRONMENT",
            ".TP", "\\fBSOCKTRACE_DIR\\fR",
            "the trace directory the commands read by default (and "
            "\\fBrun\\fR writes under); libsocktrace(7) has the "
            "variables the library reads.",
            ".TP", "\\fBSOCKTRACE_LIB\\fR",
            "where \\fBrun\\fR finds libsocktrace.so when it is not next "
            "to socktrace or in ../lib.",
            ".SH EXIT STATUS",
            "0 when all went well; 1 on a runtime error (a trace file "
            "that cannot be read, is truncated or corrupt, an output "
            "that cannot be written); 2 on a usage error.  "
            "\\fBrun\\fR passes its command's exit status through "
            "(128+N when it was killed by signal N).",
            ".SH FILES",
            ".TP", "\\fI$XDG_RUNTIME_DIR/socktrace\\fR, "
            "\\fI/tmp/socktrace\\-$UID\\fR",
            "the default trace directory: one \\fICOMM\\-PID.trace\\fR "
            "per traced process.",
            ".SH SEE ALSO",
            "libsocktrace(7), strace(1), ss(8), tcpdump(8)"]
    return out


def env_rows(readme):
    """README's rows of the library's environment variables."""
    with open(readme) as f:
        text = f.read()
    m = re.search(r"^### Environment variables.*?\n(.*?)\n(?=#)", text,
                  re.S | re.M)
    if not m:
        sys.exit("mkman: README has no 'Environment variables' section")
    rows = []
    for row in m.group(1).split("\n"):
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]
        if len(cells) == 3 and cells[0].startswith("`SOCKTRACE_"):
            rows.append(cells)
    return rows


def libsocktrace7(readme, libdir):
    out = ['.TH LIBSOCKTRACE 7 "" "socktrace" "Miscellaneous"',
           ".SH NAME",
           "libsocktrace.so \\- record every socket call of a program "
           "into a trace file",
           ".SH SYNOPSIS",
           f"\\fBLD_PRELOAD={esc(libdir)}/libsocktrace.so\\fR "
           "\\fIPROGRAM\\fR [\\fIARGS\\fR...]",
           ".SH DESCRIPTION",
           "Preloaded into a dynamically linked program, libsocktrace.so "
           "records each socket call (socket, bind, listen, connect, "
           "accept, reads, writes, close and their relatives) with its "
           "time, result, addresses and the TCP state at close, into "
           "one trace file per process.  Children inherit LD_PRELOAD "
           "and are traced too.  The program sees exactly what the real "
           "calls return; on an internal failure the library stops "
           "tracing and never aborts the program.  socktrace(1) reads "
           "the files back.",
           ".SH ENVIRONMENT"]
    for name, meaning, default in env_rows(readme):
        out += [".TP", md(name), md(meaning) + ".", ".br",
                "Default: " + md(default) + "."]
    out += [".SH SEE ALSO", "socktrace(1), ld.so(8)"]
    return out


def main(argv):
    if len(argv) == 3 and argv[1] == "socktrace.1":
        out = socktrace1(argv[2])
    elif len(argv) == 4 and argv[1] == "libsocktrace.7":
        out = libsocktrace7(argv[2], argv[3])
    else:
        sys.exit(__doc__)
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main(sys.argv)
