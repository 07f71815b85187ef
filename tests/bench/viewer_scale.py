#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Viewer at scale: 'socktrace view' on a generated N-connection trace.

Usage: viewer_scale.py GEN_TRACE SOCKTRACE [CONNECTIONS]  (make bench-viewer)
Prints, for 'view --json', text 'view' and 'stats': seconds, records per
second and the viewer's peak resident memory, and checks that every
connection came out joined and that stats counted every one.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from measure import run_peak


def measure(argv, out):
    el, mib, rc = run_peak(argv, out)
    if rc:
        sys.exit(f"{argv} exited {rc}")
    return el, round(mib)


def main():
    gen, viewer = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 1000000
    d = tempfile.mkdtemp(prefix="socktrace-scale-")
    try:
        subprocess.run([gen, d, str(n)], check=True)
        # the trace's 1.2 GB written back now, not while the viewer runs
        os.sync()
        records = n * 10 + 4
        size = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
        print(f"trace: {n} connections, {records} records, "
              f"{size / 2**20:.0f} MiB in 2 files")
        with tempfile.TemporaryFile() as out:
            el, rss = measure([viewer, "view", "--json", d], out)
            out.seek(0)
            os.sync()  # nor view's 3 GB of JSON while the rest run
            joined = conns = 0
            for line in out:
                if line.startswith(b'{"type":"conn"'):
                    c = json.loads(line)
                    conns += 1
                    joined += c["peer_conn"] is not None
        print(f"view --json: {el:.2f} s, {records / el / 1e6:.2f} M "
              f"records/s, peak RSS {rss} MiB")
        if joined != 2 * n:
            sys.exit(f"only {joined} of {2 * n} ends joined ({conns} conns)")
        el, rss = measure([viewer, "view", "--no-color", d],
                          subprocess.DEVNULL)
        print(f"view (text): {el:.2f} s, {records / el / 1e6:.2f} M "
              f"records/s, peak RSS {rss} MiB")
        with tempfile.TemporaryFile() as out:
            el, rss = measure([viewer, "stats", "--json", d], out)
            out.seek(0)
            lis = [json.loads(x) for x in out
                   if b'"by":"listener"' in x]
        print(f"stats: {el:.2f} s, {records / el / 1e6:.2f} M "
              f"records/s, peak RSS {rss} MiB (bounded by groups)")
        if len(lis) != 1 or lis[0]["conns"] != n:
            sys.exit(f"stats counted {lis}, not {n} connections")
    finally:
        shutil.rmtree(d)


if __name__ == "__main__":
    main()
