# SPDX-License-Identifier: MIT
# Integration tests: what decides how a connection ends (options, unread
# bytes at close, RST), held against the program's own results and,
# where the wire settles it, a packet capture.  Loaded by integration.py.


@test
def sockopts_and_setfl_same_and_recorded():
    procs, calls = same_run([PROBE, "sockopts"])
    so = calls_of(calls, "setsockopt")
    ok = [(c["level"], c["optname"], c["value"], c["value2"])
          for c in so if c["errno"] is None]
    check(ok == [(1, 2, 1, 0), (1, 9, 1, 0), (6, 1, 1, 0), (1, 8, 65536, 0),
                 (1, 7, 65536, 0), (1, 13, 1, 0)],
          f"each option set, with its value (SO_LINGER onoff, linger): {ok}")
    bad = [(c["errno"], c["value"]) for c in so if c["errno"]]
    check(bad == [("ENOPROTOOPT", 0), ("EFAULT", 0)],
          f"failed ones recorded without reading the value: {bad}")
    fl = calls_of(calls, "fcntl", cmd=4)
    check([(c["arg"] & 0o4000 != 0, c["errno"]) for c in fl] ==
          [(True, None), (False, None), (True, "EINVAL")],
          f"F_SETFL with its flags: {fl}")
    cl = [c for c in calls_of(calls, "close")
          if c["tcp_state"] == "ESTABLISHED"]
    check(len(cl) == 1 and cl[0]["unread"] == 12 and
          cl[0]["close_flags"] & 1 and cl[0]["close_flags"] & 2 and
          not cl[0]["close_flags"] & 4,
          f"the server's close found 12 unread bytes, no linger: {cl}")
    check(calls_of(calls, "read", errno="ECONNRESET"),
          "the client saw the reset")


@test
def view_options_and_unread_at_close():
    rc, by, err = run_json([PROBE, "sockopts"])
    check(rc == 0, f"probe exit {rc}: {err}")
    cl, sv = ends(by)
    check(len(cl) == 1 and len(sv) == 1, f"one connection: {by['conn']}")
    check(cl[0]["options"] == {"SO_LINGER": [1, 0], "SO_REUSEADDR": 1,
                               "SO_KEEPALIVE": 1, "TCP_NODELAY": 1,
                               "SO_RCVBUF": 65536, "SO_SNDBUF": 65536,
                               "O_NONBLOCK": 0},
          f"client options: {cl[0]['options']}")
    check(sv[0]["options"] == {} and sv[0]["unread_at_close"] == 12,
          f"server: no options, 12 unread at close: {sv[0]}")
    check(cl[0]["unread_at_close"] is None,
          "the client closed after the reset: nothing asked")
    with TraceDir() as t:
        rc, out, err = run([VIEWER, "run", "-o", t.dir, "--no-color", "--",
                            PROBE, "sockopts"])
        check("client options: SO_LINGER {1,0}, SO_REUSEADDR 1" in out and
              "setsockopt(4) SO_LINGER {1,0} = 0" in out and
              "close(5) unread 12 B" in out,
              f"the text view shows options and unread bytes: {out}")
