#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Shared by the benchmarks: run a command, time it, and its peak memory."""
import subprocess
import time


def run_peak(argv, stdout=subprocess.DEVNULL):
    """Runs ARGV: (seconds, peak resident MiB, exit status).  The peak is
    the process's own VmHWM, polled: a child's rusage would also count
    what it shared with the (larger) Python process before exec."""
    t = time.time()
    p = subprocess.Popen(argv, stdout=stdout)
    hwm = 0
    while p.poll() is None:
        try:
            with open(f"/proc/{p.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        hwm = max(hwm, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.02)
    return time.time() - t, hwm / 1024, p.returncode
