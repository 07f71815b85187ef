# SPDX-License-Identifier: MIT
# recv(MSG_PEEK) and its relatives: what a peek sees stays queued, so it
# is not received; the two ends of a connection agree on the bytes.  Run
# by tests/integration.py in its namespace: its helpers and @test.

PEEK = os.path.join(BUILD, "tests/progs/peek")


@test
def peek_same_and_not_received():
    procs, calls = same_run([PEEK])
    check(len(procs) == 1 and procs[0]["lost"] == 0, "one process, no loss")
    peeks = [(c["call"], c["ret"], c["bytes"], c.get("peeked"))
             for c in calls if c.get("dir") == "in" and c["flags"] & 2]
    expect = [("recv", 11, 0, 11), ("recvfrom", 5, 0, 5),
              ("recvmsg", 11, 0, 11), ("recvmmsg", 1, 0, 11),
              ("recvfrom", 11, 0, 11), ("recv", -1, None, None),
              ("recv", 3, 0, 3), ("recv", 0, 0, 0)]
    check(peeks == expect, f"peek records:\n{peeks}\nexpected\n{expect}")
    rc, by, err = run_json([PEEK])
    check(rc == 0, f"peek exit {rc}: {err}")
    cl, sv = ends(by)
    check(len(cl) == 1 and len(sv) == 1, f"one connection: {by['conn']}")
    cl, sv = cl[0], sv[0]
    check(cl["bytes_in"] == sv["bytes_out"] == 11 and
          sv["bytes_in"] == cl["bytes_out"] == 3,
          f"bytes both ways, peeks not counted: {cl} {sv}")
    check(by["finding"] == [], f"no findings: {by['finding']}")
    with TraceDir() as t:
        run([PEEK], trace=t.dir)
        rc, out, err = run([VIEWER, "view", "--no-color", t.dir])
        check(rc == 0 and "recv(4) peeked 11 B" in out and
              "recvmmsg(4) peeked 11 B" in out and
              "read(4) 11 B" in out, f"peeks in the timeline:\n{out}")


@test
def wget_peek_bytes_agree():
    """wget reads a reply's headers by peeking first: its bytes in equal
    the traced server's bytes out."""
    with TraceDir() as t:
        with HttpServer(t, "f.txt", "peeked, then read\n" * 50) as h:
            srv, port = h.srv, h.port
            argv = ["wget", "-q", "-O", "-", h.url]
            plain = run(argv)
            traced = run(argv, trace=t.dir)
            check(plain == traced and plain[0] == 0 and
                  plain[1] == "peeked, then read\n" * 50,
                  f"wget the same with and without the preload: {traced}")
            end = time.time() + 10
            while time.time() < end:
                procs, calls = dump(t.dir)
                if calls_of(calls, "close", pid=srv.pid):
                    break
                time.sleep(0.05)
        procs, calls = dump(t.dir)
        check(any(c.get("peeked") for c in calls),
              "wget peeked at the reply")
        rc, out, err = run([VIEWER, "view", "--json", t.dir])
        conns = [json.loads(x) for x in out.splitlines()
                 if '"type":"conn"' in x]
        cl = [c for c in conns if c["comm"] == "wget" and
              c["role"] == "client" and c["peer"].endswith(f":{port}")]
        check(len(cl) == 1, f"one wget connection: {conns}")
        cl = cl[0]
        sv = [c for c in conns if c["id"] == cl["peer_conn"]]
        check(len(sv) == 1, f"wget's end joined: {cl}")
        sv = sv[0]
        check(cl["bytes_in"] == sv["bytes_out"] > 900 and
              cl["bytes_out"] == sv["bytes_in"] > 0,
              f"both ends agree: wget in {cl['bytes_in']} out "
              f"{cl['bytes_out']}, server out {sv['bytes_out']} in "
              f"{sv['bytes_in']}")
