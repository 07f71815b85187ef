# SPDX-License-Identifier: MIT
# Integration tests: TIME_WAIT against the wire and ss (issue 13 items 9
# and 10): a 4-tuple used again ends the old TIME_WAIT; an end whose peer
# is not traced shows its TIME_WAIT as a guess.  Loaded by integration.py.

REUSE = os.path.join(BUILD, "tests/progs/reuse")


def lo_capture(port, fn):
    """Runs FN() while tcpdump captures PORT on lo: (FN's result, the
    packets as dicts: src and dst port, flags)."""
    with TraceDir() as t:
        pcap = os.path.join(t.path, "lo.pcap")
        td = subprocess.Popen(["tcpdump", "-i", "lo", "-U", "-n", "-Z",
                               "root", "-w", pcap, f"tcp port {port}"],
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
        try:
            check("listening" in td.stderr.readline().decode(),
                  "tcpdump did not start")
            time.sleep(2)  # here it misses packets for a while after
            got = fn()
            time.sleep(1)
        finally:
            td.terminate()  # our own tcpdump, by its pid
            td.wait(timeout=10)
        r = subprocess.run(["tcpdump", "-r", pcap, "-n"],
                           capture_output=True, text=True, timeout=30)
    pk = []
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) > 6 and f[1] == "IP" and "Flags [" in line:
            pk.append({"src": int(f[2].rsplit(".", 1)[1]),
                       "dst": int(f[4].rstrip(":").rsplit(".", 1)[1]),
                       "flags": line.split("Flags [", 1)[1].split("]")[0]})
    return got, pk


def fins_first_from(pk, port):
    """Per connection (split at each SYN), which end's FIN came first."""
    first, seen = [], False
    for p in pk:
        if p["flags"] == "S":
            seen = False
        elif "F" in p["flags"] and not seen:
            seen = True
            first.append(p["src"] == port)
    return first


@test
def time_wait_ended_by_a_reused_tuple():
    port, cport = free_port(), free_port()
    (rc, by, err), pk = lo_capture(
        port, lambda: run_json([REUSE, "both", str(port), str(cport)]))
    check(rc == 0, f"reuse both exit {rc}: {err}")
    syns = [p for p in pk if p["flags"] == "S"]
    check([p["src"] for p in syns] == [cport, cport] and
          not [p for p in pk if "R" in p["flags"]],
          f"the wire: two SYNs from {cport}, no RST: {pk}")
    check(fins_first_from(pk, port) == [True, True],
          f"the wire: the server's FIN first each time: {pk}")
    cl, sv = ends(by)
    check(len(cl) == 2 and len(sv) == 2, f"two connections: {by['conn']}")
    first, second = sorted(sv, key=lambda c: c["open_ts"])
    new = [c for c in cl if c["peer_conn"] == second["id"]][0]
    st = first["states"]
    check([s for s, ts, src in st][-3:] == ["FIN_WAIT", "TIME_WAIT",
                                             "CLOSED"],
          f"the first server end: TIME_WAIT, then CLOSED: {st}")
    check(st[-1][1] == new["states"][0][1] < st[-2][1] + 60 * 10**9 and
          first["time_wait_reused_by"] == new["id"],
          f"its TIME_WAIT ended when the second SYN went out (the new "
          f"connect), not 60 s on: {st} {new['states']}")
    tw = second["states"][-2]
    check(tw[0] == "TIME_WAIT" and
          second["states"][-1] == ["CLOSED", tw[1] + 60 * 10**9,
                                   "inferred"] and
          second["time_wait_reused_by"] is None,
          f"the second keeps its 60 s: {second['states']}")
    with TraceDir() as t:
        run([VIEWER, "run", "-o", t.dir, "--", REUSE, "both",
             str(free_port()), str(free_port())])
        rc, out, err = run([VIEWER, "view", "--no-color", t.dir])
    check(re.search(r"server TIME_WAIT ended at \+[0-9.]+: 4-tuple reused "
                    r"by conn \d+:\d+", out),
          f"the text says the 4-tuple was reused: {out}")


def run_json_in(d, argv):
    """run_json, keeping the trace in D."""
    rc, out, err = run([VIEWER, "run", "-o", d, "--json", "--"] + argv)
    by = {"process": [], "call": [], "conn": [], "finding": []}
    for line in out.splitlines():
        if line.startswith("{"):
            o = json.loads(line)
            by.setdefault(o["type"], []).append(o)
    return rc, by, err


def ss_time_wait(cport, port):
    r = subprocess.run(["ss", "-tanH", "state", "time-wait"],
                       capture_output=True, text=True, timeout=30)
    return [x.split() for x in r.stdout.splitlines()
            if f"127.0.0.1:{cport}" in x and f"127.0.0.1:{port}" in x]


@test
def untraced_peer_time_wait_is_a_guess():
    port, cport = free_port(), free_port()
    srv = subprocess.Popen([REUSE, "serve", str(port), "2"],
                           stdout=subprocess.PIPE, env=base_env())
    try:
        check(srv.stdout.readline() == b"ready\n", "the server is up")
        with TraceDir() as t:
            argv = [REUSE, "client", str(port), str(cport), "2"]
            (rc, by, err), pk = lo_capture(
                port, lambda: run_json_in(t.dir, argv))
            tw = ss_time_wait(cport, port)
            text = run([VIEWER, "view", "--no-color", t.dir])[1]
    finally:
        srv.wait(timeout=30)
    check(rc == 0, f"reuse client exit {rc}: {err}")
    check(fins_first_from(pk, port) == [False, False] and
          [p["src"] for p in pk if p["flags"] == "S"] == [cport, cport],
          f"the wire: two SYNs from {cport}, the client's FIN first "
          f"each time (the active closer): {pk}")
    check(len(tw) == 1, f"ss: the 4-tuple in TIME-WAIT once (the first "
          f"was taken over by the second): {tw}")
    cl = sorted(by["conn"], key=lambda c: c["open_ts"])
    cl = [c for c in cl if c["role"] == "client"]
    check(len(cl) == 2 and not cl[0]["peer_conn"],
          f"two client ends, the server not traced: {by['conn']}")
    a, b = cl
    check(a["states"][-3:-1] == [["FIN_WAIT", a["close_ts"], "call"],
                                 ["TIME_WAIT", a["close_ts"], "inferred"]],
          f"TIME_WAIT after the close, a guess: {a['states']}")
    check(a["states"][-1][0] == "CLOSED" and
          a["states"][-1][2] == "call" and
          a["time_wait_reused_by"] == b["id"],
          f"the first's TIME_WAIT ended by the second: {a['states']}")
    check(b["states"][-2:] == [["TIME_WAIT", b["close_ts"], "inferred"],
                               ["CLOSED", b["close_ts"] + 60 * 10**9,
                                "inferred"]],
          f"the second, in TIME_WAIT (ss agrees), a guess: {b['states']}")
    check(text.count("-> FIN_WAIT -> TIME_WAIT?") == 2 and
          "client in TIME_WAIT? until" in text and
          text.count("STATE? is a guess") == 1,
          f"the text marks the guess, and says once what it means: {text}")
