#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The HTML report at scale: 'view --html' of a generated trace, loaded in
headless Chromium (tests/it_html.py's Browser, over the DevTools pipe).

Usage: ST_BUILD=build html_scale.py [CONNECTIONS...]  (make bench-html)
Prints per size: the viewer's time and peak memory, the file's size and
what the size budget kept; the page ready after navigation, its script,
the JavaScript heap and the resident memory of all Chromium's processes;
and how long narrowing the lanes to a histogram bar and brushing a range
take.  Numbers only: nothing here passes or fails on time.
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from measure import run_peak  # noqa: E402

# integration.py and its it_*.py files: run, check, TraceDir, Browser
sys.path.insert(0, os.path.dirname(HERE))
import integration as it  # noqa: E402

it.load_test_files()


def tree_rss(pid):
    """Resident MiB of PID and every process under it."""
    kids, total = {}, 0
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            kids.setdefault(ppid, []).append(int(p))
        except (OSError, ValueError, IndexError):
            pass
    pending = [pid]
    while pending:
        p = pending.pop()
        pending += kids.get(p, [])
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def one(n):
    gen = os.path.join(it.BUILD, "tests/bench/gen_trace")
    with it.TraceDir() as t:
        os.makedirs(t.dir)
        rc, out, err = it.run([gen, t.dir, str(n)])
        it.check(rc == 0, f"gen_trace: {err}")
        page = os.path.join(t.path, "big.html")
        el, mib, rc = run_peak([it.VIEWER, "view", "--html", page, t.dir])
        it.check(rc == 0, "view --html failed")
        size = os.path.getsize(page) / 2**20
        print(f"{n} connections: view --html {el:.1f} s, peak RSS "
              f"{mib:.0f} MiB, file {size:.1f} MiB")
        t0 = time.time()
        b = it.Browser("file://" + page, t.path)
        try:
            wall = time.time() - t0
            body = "document.body.dataset."
            b.send("Performance.enable")
            m = {x["name"]: x["value"] for x in
                 b.send("Performance.getMetrics")["metrics"]}
            print(f"  page ready {b.js(body + 'readyMs')} ms after "
                  f"navigation (script {b.js(body + 'scriptMs')} ms; "
                  f"Chromium start to ready {wall:.1f} s); JS heap "
                  f"{m['JSHeapUsedSize'] / 2**20:.0f} MiB, Chromium's "
                  f"processes {tree_rss(b.p.pid):.0f} MiB resident")
            count = "document.getElementById('st-count').textContent"
            print(f"  lanes: {b.js(count)}")
            ms = b.js("(function(){var t=performance.now();document."
                      "querySelector('#ov-hist .hit[data-n]:not("
                      "[data-n=\"0\"])').dispatchEvent(new MouseEvent("
                      "'click',{bubbles:true}));return performance.now()"
                      "-t})()")
            print(f"  a histogram bar narrows the lanes in {ms:.0f} ms: "
                  f"{b.js(body + 'pick')}")
            ms = b.js("(function(){var s=document.getElementById("
                      "'ov-conns'),r=s.getBoundingClientRect(),t="
                      "performance.now();function ev(k,x){window."
                      "dispatchEvent(new MouseEvent(k,{clientX:x,clientY:"
                      "r.top+20,button:0,bubbles:true}))}s.dispatchEvent("
                      "new MouseEvent('mousedown',{clientX:r.left+r.width*"
                      ".4,clientY:r.top+20,button:0,bubbles:true}));ev("
                      "'mousemove',r.left+r.width*.5);ev('mouseup',r.left+"
                      "r.width*.5);return performance.now()-t})()")
            print(f"  brushing a range zooms the lanes in {ms:.0f} ms: "
                  f"{b.js(body + 'pick')}")
        finally:
            b.close()


def main():
    for n in [int(a) for a in sys.argv[1:]] or [10000, 100000]:
        one(n)


if __name__ == "__main__":
    main()
