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


WIRE = os.path.join(BUILD, "tests/progs/wire")


def capture(scenario):
    """Runs wire SCENARIO traced while tcpdump captures its port: (the
    port, the run's lines by type, the packets as (SRCPORT, FLAGS))."""
    port, by, pk = capture_full(scenario)
    return port, by, [(p["src"], p["flags"]) for p in pk]


def capture_full(scenario):
    """capture, with each packet a dict: src, dst, flags, seq (the last
    byte's relative sequence number, FIN counted), ack."""
    port = free_port()
    with TraceDir() as t:
        pcap = os.path.join(t.path, "lo.pcap")
        td = subprocess.Popen(["tcpdump", "-i", "lo", "-U", "-n", "-Z", "root",
                               "-w", pcap,
                               f"tcp port {port}"],
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
        try:
            # it says "listening on lo" once it captures
            check("listening" in td.stderr.readline().decode(),
                  "tcpdump did not start")
            time.sleep(2)  # here it misses packets for a while after
            rc, by, err = run_json([WIRE, scenario, str(port)], timeout=30)
            time.sleep(1)
        finally:
            td.terminate()  # our own tcpdump, by its pid
            td.wait(timeout=10)
        check(rc == 0, f"wire {scenario} exit {rc}: {err}")
        r = subprocess.run(["tcpdump", "-r", pcap, "-n", "-tt"],
                           capture_output=True, text=True, timeout=30)
    pk = []
    for line in r.stdout.splitlines():
        # "ts IP 127.0.0.1.A > 127.0.0.1.B: Flags [R.], ..."
        f = line.split()
        if len(f) > 6 and f[1] == "IP" and "Flags" in line:
            p = {"src": int(f[2].rsplit(".", 1)[1]),
                 "dst": int(f[4].rstrip(":").rsplit(".", 1)[1]),
                 "flags": line.split("Flags [", 1)[1].split("]", 1)[0],
                 "seq": None, "ack": None}
            for k in ("seq", "ack"):
                if f" {k} " in line:
                    v = line.split(f" {k} ", 1)[1].split(",", 1)[0]
                    p[k] = int(v.split(":")[-1])
            pk.append(p)
    return port, by, pk


def wire_check(scenario, sender):
    port, by, pk = capture(scenario)
    if not pk:
        raise Fail("tcpdump captured nothing on lo")
    cl, sv = ends(by)
    cl, sv = cl[0], sv[0]
    rst = [(s, f) for s, f in pk if "R" in f]
    fin = [(s, f) for s, f in pk if "F" in f]
    check(len(rst) == 1 and not fin, f"the wire: one RST, no FIN: {pk}")
    from_server = rst[0][0] == port
    check(from_server == (sender == "server"),
          f"the RST came from the {sender}: {pk}")
    rs, other = (sv, cl) if sender == "server" else (cl, sv)
    check(rs["close_how"] == other["close_how"] == "rst" and
          rs["reset_by"] == "local" and other["reset_by"] == "peer",
          f"close_how and reset_by match the wire: {rs} {other}")
    for c in (cl, sv):
        bad = {"FIN_WAIT", "TIME_WAIT", "CLOSE_WAIT", "LAST_ACK"}
        check(not bad & set(states(c)), f"no FIN states: {states(c)}")
    kinds = [f["kind"] for f in by["finding"]]
    check(kinds == ["reset"], f"findings: only reset: {kinds}")
    return rs


@test
def wire_rst_unread_close():
    rs = wire_check("unread", "server")
    check(rs["reset_reason"] == "unread" and rs["unread_at_close"] == 5,
          f"the reason: 5 unread bytes: {rs}")


@test
def wire_econnreset_seen_by_peer():
    port, by, pk = capture("unread")
    rst = [s for s, f in pk if "R" in f]
    check(rst == [port], f"the wire: one RST, from the server: {pk}")
    cl, sv = ends(by)
    got = calls_of(by["call"], "read", errno="ECONNRESET")
    check(len(got) == 1 and got[0]["pid"] == cl[0]["pid"],
          f"the client's read got ECONNRESET: {got}")
    msg = [f["message"] for f in by["finding"] if f["kind"] == "reset"]
    check(len(msg) == 1 and "the other side saw ECONNRESET" in msg[0],
          f"the reset finding says the client saw ECONNRESET: {msg}")
    check(cl[0]["reset_by"] == "peer" and states(cl[0])[-1] == "CLOSED"
          and "CLOSE_WAIT" not in states(cl[0]),
          f"the client: reset by the peer, no CLOSE_WAIT: {cl[0]}")


@test
def wire_half_close():
    port, by, pk = capture_full("half")
    fin = [p["src"] for p in pk if "F" in p["flags"]]
    cl, sv = ends(by)
    cl, sv = cl[0], sv[0]
    check(len(fin) == 2 and fin[0] != port and fin[1] == port and
          not [p for p in pk if "R" in p["flags"]],
          f"the wire: the client's FIN (its shutdown), then the "
          f"server's, no RST: {pk}")
    check(cl["closed_by"] == "local" and sv["closed_by"] == "peer",
          f"closed_by: the client: {cl['closed_by']} {sv['closed_by']}")
    st = dict((s, ts) for s, ts, *_ in cl["states"])
    sst = dict((s, ts) for s, ts, *_ in sv["states"])
    check(states(cl)[-3:] == ["FIN_WAIT", "TIME_WAIT", "CLOSED"] and
          sst["LAST_ACK"] <= st["TIME_WAIT"] < cl["close_ts"],
          f"the client's TIME_WAIT starts when the server's FIN (its "
          f"close) arrives, before its own close, and stands: "
          f"{cl['states']} {sv['states']}")
    check(states(sv)[-3:] == ["CLOSE_WAIT", "LAST_ACK", "CLOSED"],
          f"the server: CLOSE_WAIT, LAST_ACK: {sv['states']}")
    check(by["finding"] == [], f"no findings: {by['finding']}")


@test
def wire_simultaneous_close():
    port, by, pk = capture_full("simul")
    fin = [p for p in pk if "F" in p["flags"]]
    check(len(fin) == 2 and not [p for p in pk if "R" in p["flags"]],
          f"the wire: two FINs, no RST: {pk}")
    # crossed FINs: the second does not acknowledge the first
    crossed = fin[1]["ack"] is None or fin[1]["ack"] <= fin[0]["seq"]
    cl, sv = ends(by)
    cl, sv = cl[0], sv[0]
    both = cl["closed_by"] == sv["closed_by"] == "both"
    check(both == crossed,
          f"closed_by both ({both}) exactly when the FINs crossed on the "
          f"wire ({crossed}): {fin} {cl['closed_by']} {sv['closed_by']}")
    first, second = (cl, sv) if fin[0]["src"] != port else (sv, cl)
    if both:
        for c in (cl, sv):
            check(states(c)[-2:] == ["TIME_WAIT", "CLOSED"],
                  f"both ends in TIME_WAIT: {states(c)}")
    else:
        check(first["closed_by"] == "local" and
              states(first)[-2:] == ["TIME_WAIT", "CLOSED"] and
              "TIME_WAIT" not in states(second),
              f"the end whose FIN went first closed first and alone "
              f"gets TIME_WAIT: {first} {second}")


@test
def wire_abandoned_connect():
    port, by, pk = capture_full("abandon")
    cl = [c for c in by["conn"] if c["role"] == "client" and
          "ESTABLISHED" not in states(c)]
    check(len(cl) == 1, f"one client never established: {by['conn']}")
    me = int(cl[0]["local"].rsplit(":", 1)[1])
    mine = [p for p in pk if me in (p["src"], p["dst"])]
    check(len(mine) >= 2 and all(p["src"] == me and p["flags"] == "S"
                                 for p in mine),
          f"the wire: only its SYNs (retransmitted), no answer: {mine}")
    check(states(cl[0]) == ["SYN_SENT", "CLOSED"],
          f"socktrace: SYN_SENT, then CLOSED: {states(cl[0])}")
    f = [f for f in by["finding"] if f["kind"] == "connect_failed" and
         f["conn"] == cl[0]["id"]]
    # the program gives up after its 1.5 s poll: no sooner, later under
    # load
    m = len(f) == 1 and re.search(r"abandoned after ([\d.]+) s in SYN_SENT",
                                  f[0]["message"])
    check(m and float(m.group(1)) >= 1.5,
          f"connect_failed says abandoned: {f}")


@test
def wire_rst_linger0():
    rs = wire_check("linger0", "client")
    check(rs["reset_reason"] == "linger0" and
          rs["options"]["SO_LINGER"] == [1, 0], f"the reason: {rs}")


@test
def wire_fin_close():
    port, by, pk = capture("fin")
    check(pk and not [f for s, f in pk if "R" in f] and
          len([f for s, f in pk if "F" in f]) == 2,
          f"the wire: two FINs, no RST: {pk}")
    cl, sv = ends(by)
    check(cl[0]["close_how"] == sv[0]["close_how"] == "fin" and
          cl[0]["reset_by"] is None, "close_how fin, no reset")
    check(states(cl[0])[-2:] == ["TIME_WAIT", "CLOSED"],
          f"the client, which closed first, in TIME_WAIT: {states(cl[0])}")
    check(by["finding"] == [], f"no findings: {by['finding']}")


@test
def example_rst_close():
    rc, by, err = run_json([os.path.join(EXAMPLES, "rst_close")])
    check(rc == 0, f"rst_close exit {rc}: {err}")
    cl, sv = ends(by)
    check(sv[0]["close_how"] == "rst" and sv[0]["reset_by"] == "local" and
          sv[0]["reset_reason"] == "unread" and
          sv[0]["unread_at_close"] == 6, f"the server reset: {sv[0]}")
    check([f["kind"] for f in by["finding"]] == ["reset"],
          f"findings: reset only: {by['finding']}")


@test
def example_half_close():
    rc, by, err = run_json([os.path.join(EXAMPLES, "half_close")])
    check(rc == 0, f"half_close exit {rc}: {err}")
    cl, sv = ends(by)
    check(states(cl[0])[-3:] == ["FIN_WAIT", "TIME_WAIT", "CLOSED"] and
          cl[0]["closed_by"] == "local",
          f"the client closed first and stays in TIME_WAIT: {cl[0]}")
    check(by["finding"] == [], f"no findings: {by['finding']}")
