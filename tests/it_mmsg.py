# SPDX-License-Identifier: MIT
# sendmmsg and recvmmsg: the program sees what it saw without the
# preload (results, errno, the mmsghdr arrays), and the records hold the
# bytes moved, so the timelines count them.  Run by tests/integration.py
# in its namespace: its helpers and @test.

MMSG = os.path.join(BUILD, "tests/progs/mmsg")


@test
def mmsg_same_and_recorded():
    procs, calls = same_run([MMSG])
    check(len(procs) == 1 and procs[0]["lost"] == 0, "one process, no loss")
    mm = [c for c in calls if c["call"] in ("sendmmsg", "recvmmsg")]
    got = [(c["call"], c["ret"], c["errno"], c["bytes"], c["vlen"])
           for c in mm]
    expect = [
        # UDP: libc, then syscall(3), then none offered
        ("sendmmsg", 3, None, 15, 3), ("recvmmsg", 3, None, 15, 4),
        ("sendmmsg", 2, None, 8, 2), ("recvmmsg", 2, None, 8, 4),
        ("sendmmsg", 0, None, 0, 0), ("recvmmsg", 0, None, 0, 0),
        # the receive timeout; a partial send and what came of it
        ("recvmmsg", -1, "EAGAIN", None, 4),
        ("sendmmsg", 1, None, 3, 3), ("recvmmsg", 1, None, 3, 4),
        # an unmapped array: libc twice, syscall(3) once
        ("sendmmsg", -1, "EFAULT", None, 2),
        ("recvmmsg", -1, "EFAULT", None, 2),
        ("sendmmsg", -1, "EFAULT", None, 2),
        ("sendmmsg", -1, "EDESTADDRREQ", None, 1),
        # TCP: two messages read at once; syscall(3); EOF
        ("sendmmsg", 2, None, 8, 2), ("recvmmsg", 1, None, 8, 2),
        ("sendmmsg", 1, None, 7, 1), ("recvmmsg", 1, None, 7, 1),
        ("recvmmsg", 2, None, 0, 2)]
    check(got == expect, f"mmsg records:\n{got}\nexpected\n{expect}")
    check(all(c["moved"] == (c["bytes"] or 0) for c in mm),
          "moved is the bytes")
    check(not calls_of(calls, errno="EBADF") and
          not calls_of(calls, errno="ENOTSOCK"),
          "calls on bad fds and a pipe pass through unrecorded")


@test
def mmsg_bytes_in_timelines():
    rc, by, err = run_json([MMSG])
    check(rc == 0, f"mmsg exit {rc}: {err}")
    udp = sorted((c["bytes_out"], c["bytes_in"]) for c in by["conn"]
                 if c["kind"] == "udp")
    check(udp == [(0, 0), (8, 18), (18, 8)], f"UDP bytes: {udp}")
    tcp = [c for c in by["conn"] if c["kind"] == "tcp"]
    cl = [c for c in tcp if c["role"] == "client"]
    sv = [c for c in tcp if c["role"] == "server"]
    check(len(cl) == 1 and len(sv) == 1, f"one TCP connection: {tcp}")
    cl, sv = cl[0], sv[0]
    check(cl["bytes_out"] == sv["bytes_in"] == 8 and
          sv["bytes_out"] == cl["bytes_in"] == 7,
          f"TCP bytes both ways: {cl} {sv}")
    check(states(sv)[:3] == ["SYN_RECV", "ESTABLISHED", "CLOSE_WAIT"],
          f"recvmmsg's EOF moves the server to CLOSE_WAIT: {states(sv)}")
    check(by["finding"] == [], f"no findings: {by['finding']}")
