# SPDX-License-Identifier: MIT
# Integration tests: record timestamps are the program's CLOCK_MONOTONIC.
# (exec()d by integration.py: its helpers are in scope.)

CLOCKS = os.path.join(BUILD, "tests/progs/clocks")

# How far a record's time may be off the kernel's clock: where the
# library reads the TSC itself (preload/clock.c) it is off by at most
# about 200 ns by construction (25 ns seen); elsewhere by nothing.  A
# rate off by 0.05% would show as 500 ns.
CLOCK_SLACK_NS = 500


@test
def record_times_agree_with_the_programs_clock():
    """Each record's start and end lie between the CLOCK_MONOTONIC
    readings the program took just before and after the call, over calls
    spread across a few hundred ms (many clock anchors, rate updates) in
    two threads."""
    with TraceDir() as t:
        rc, out, err = run([CLOCKS, "2", "3000"], trace=t.dir)
        check(rc == 0, f"clocks exited {rc}: {err}")
        procs, calls = dump(t.dir)
    brackets = {}
    for line in out.splitlines():
        tid, name, before, after = line.split()
        brackets.setdefault(int(tid), []).append((name, int(before),
                                                  int(after)))
    check(len(brackets) == 2, f"two threads printed: {list(brackets)}")
    worst = 0
    for tid, want in brackets.items():
        got = sorted((c for c in calls if c["tid"] == tid
                      and c["call"] in ("read", "write")),
                     key=lambda c: c["ts"])
        check(len(got) == len(want) == 6000,
              f"thread {tid}: {len(got)} records for {len(want)} calls")
        check(want[-1][2] - want[0][1] > 150_000_000,
              "the calls span more than 150 ms")
        for c, (name, before, after) in zip(got, want):
            check(c["call"] == name, f"{c['call']} recorded for {name}")
            off = max(before - c["ts"], c["ts"] + c["dur"] - after, 0)
            worst = max(worst, off)
            check(off <= CLOCK_SLACK_NS,
                  f"{name} at {c['ts']}+{c['dur']} outside the program's "
                  f"[{before}, {after}] by {off} ns")
