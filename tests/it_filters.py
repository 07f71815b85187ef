# SPDX-License-Identifier: MIT
# The filters --state, --finding, --since/--until, --min-duration, --peer
# and --listener, shared by view, stats, run, --html and --perfetto: each
# filtered output is held against what this file computes by itself from
# view --json's unfiltered lines over the same trace (the examples, and
# curl against python3's http.server).
# Runs inside tests/integration.py (its helpers and @test).

FILTER_EXAMPLES = ["echo", "backlog", "close_wait", "server_close",
                   "refused", "rst_close"]


def json_by_type(argv):
    rc, out, err = run(argv, preload=False)
    check(rc == 0, f"{' '.join(argv)} exited {rc}: {err}")
    by = {"process": [], "call": [], "conn": [], "finding": []}
    for line in out.splitlines():
        o = json.loads(line)
        by.setdefault(o["type"], []).append(o)
    return by


CONN_IDS = {}  # trace -> every end id, unfiltered


class Conns:
    """The connections of view --json's unfiltered conn lines: the ends
    of one connection are joined by peer_conn."""

    def __init__(self, by):
        self.by = by
        self.ends = {c["id"]: c for c in by["conn"]}
        self.t0 = by["call"][0]["ts"]  # the first call, in view's order
        self.end_of_trace = max(c["ts"] + c["dur"] for c in by["call"])
        self.conns = []
        seen = set()
        for c in by["conn"]:
            if c["id"] in seen:
                continue
            group = [c]
            o = self.ends.get(c["peer_conn"])
            if o:
                group.append(o)
            seen.update(e["id"] for e in group)
            self.conns.append(group)

    def ids(self, pred):
        """The end ids of the connections one of whose ends has PRED."""
        return {e["id"] for g in self.conns if any(pred(e, g) for e in g)
                for e in g}

    def closed(self, e):
        return e["close_ts"] if e["close_ts"] is not None \
            else self.end_of_trace

    def duration(self, g):
        return max(self.closed(e) - e["open_ts"] for e in g)


def shown_ids(trace, *opts):
    by = json_by_type([VIEWER, "view", "--json", *opts, trace])
    return {c["id"] for c in by["conn"]}, by


def expect_ids(trace, want, what, *opts):
    got, by = shown_ids(trace, *opts)
    check(want and want != set(CONN_IDS[trace]),
          f"{what}: the trace must hold such connections, and others")
    check(got == want, f"{' '.join(opts)}: {what}: shown {sorted(got)}, "
          f"expected {sorted(want)}")
    return by


def filter_trace(t):
    """The examples, then curl fetching twice from python3 -m
    http.server, all into t.dir; returns the server's port."""
    os.makedirs(t.dir)
    for name in FILTER_EXAMPLES:
        rc, _, err = run([os.path.join(EXAMPLES, name)], trace=t.dir)
        check(rc == 0, f"{name} exited {rc}: {err}")
    www = os.path.join(t.path, "www")
    os.mkdir(www)
    with open(os.path.join(www, "a.txt"), "w") as f:
        f.write("filters\n" * 50)
    port = free_port()
    env = base_env()
    env.update(SOCKTRACE_DIR=t.dir, LD_PRELOAD=LIB)
    srv = subprocess.Popen(
        ["python3", "-m", "http.server", str(port), "--bind", "127.0.0.1",
         "--directory", www],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, srv)
        for _ in range(2):
            rc, _, err = run(["curl", "-sS", "-o", "/dev/null",
                              f"http://127.0.0.1:{port}/a.txt"],
                             trace=t.dir)
            check(rc == 0, f"curl: {err}")
        # the server's records of the second request are written after
        # curl has its reply: wait for its close
        end = time.time() + 10
        while time.time() < end:
            procs, calls = dump(t.dir)
            if len(calls_of(calls, "close", pid=srv.pid)) >= 4:
                break
            time.sleep(0.05)
    finally:
        srv.terminate()
        srv.wait(10)
    return port


def check_state_and_finding(t, cs):
    for st in ("CLOSE_WAIT", "TIME_WAIT", "SYN_SENT", "LISTEN"):
        expect_ids(t.dir, cs.ids(lambda e, g: st in states(e)),
                   f"passed through {st}", "--state", st)
    expect_ids(t.dir, cs.ids(lambda e, g: "CLOSE_WAIT" in states(e) or
                             "LISTEN" in states(e)),
               "CLOSE_WAIT or LISTEN", "--state", "close_wait,LISTEN")
    for kind in ("reset", "server_time_wait", "connect_failed",
                 "close_wait"):
        found = [f for f in cs.by["finding"] if f["kind"] == kind]
        on = {f["conn"] for f in found}
        by = expect_ids(t.dir, cs.ids(lambda e, g: e["id"] in on),
                        f"with a {kind} finding", "--finding", kind)
        check(sorted(map(json.dumps, by["finding"])) ==
              sorted(map(json.dumps, found)),
              f"--finding {kind} shows those findings, and only them: "
              f"{by['finding']}")
    # filters add up: both must hold
    expect_ids(t.dir, cs.ids(lambda e, g: "TIME_WAIT" in states(e) and
                             any(f["kind"] == "server_time_wait" and
                                 f["conn"] == x["id"]
                                 for f in cs.by["finding"] for x in g)),
               "TIME_WAIT with server_time_wait", "--state", "TIME_WAIT",
               "--finding", "server_time_wait")


def wall_forms(by, ts):
    """Trace time TS (ns, a whole microsecond) as a time of day and an
    ISO time, local, from the first process line's clock anchors."""
    p = by["process"][0]
    wall = p["start_wall_ns"] + ts - p["start_ts"]
    wall -= wall % 1000
    ts = wall - p["start_wall_ns"] + p["start_ts"]
    tm = time.localtime(wall // 10**9)
    us = f".{wall % 10**9 // 1000:06d}"
    return (ts, time.strftime("%H:%M:%S", tm) + us,
            time.strftime("%Y-%m-%dT%H:%M:%S", tm) + us)


def check_window(t, cs):
    span = cs.end_of_trace - cs.t0
    for frac in (0.3, 0.6):
        ts, clock, iso = wall_forms(cs.by, cs.t0 + int(span * frac))
        rel = f"{(ts - cs.t0) / 1e9:.6f}"
        want = cs.ids(lambda e, g: max(cs.closed(x) for x in g) >= ts)
        for form in (rel, clock, iso):
            expect_ids(t.dir, want, f"open at or after {form}",
                       "--since", form)
        want = cs.ids(lambda e, g: min(x["open_ts"] for x in g) <= ts)
        for form in (rel, clock, iso):
            expect_ids(t.dir, want, f"opened by {form}", "--until", form)
    a, b = cs.t0 + span // 4, cs.t0 + span // 2
    got, by = shown_ids(t.dir, "--since", f"{(a - cs.t0) / 1e9:.9f}",
                        "--until", f"{(b - cs.t0) / 1e9:.9f}")
    want = cs.ids(lambda e, g: min(x["open_ts"] for x in g) <= b and
                  max(cs.closed(x) for x in g) >= a)
    check(got == want, f"the window: {sorted(got)} != {sorted(want)}")
    check(all(a <= c["ts"] + c["dur"] and c["ts"] <= b
              for c in by["call"]) and by["call"],
          "the calls shown are those at work within the window")


def check_duration(t, cs):
    for d, ns in (("250ms", 250 * 10**6), ("1s", 10**9), ("1.2", 12 * 10**8),
                  ("500us", 500 * 10**3)):
        expect_ids(t.dir, cs.ids(lambda e, g: cs.duration(g) >= ns),
                   f"lasting {d} or more", "--min-duration", d)


def check_addresses(t, cs, port):
    srv = f"127.0.0.1:{port}"
    want = cs.ids(lambda e, g: e["peer"] == srv)
    expect_ids(t.dir, want, f"to {srv}", "--peer", srv)
    expect_ids(t.dir, want, f"to :{port}", "--peer", f":{port}")
    curl = [e for e in cs.by["conn"] if e["comm"] == "curl" and
            e["peer"] == srv][0]
    expect_ids(t.dir, cs.ids(lambda e, g: e["peer"] == curl["local"]),
               f"from {curl['local']}", "--peer", curl["local"])
    lis = {e["id"]: e for e in cs.by["conn"] if e["role"] == "listener"}

    def on(e, addr):
        if e["role"] == "listener":
            return e["local"] == addr
        return e["role"] == "server" and (
            e["local"] == addr or
            (e["listener"] in lis and lis[e["listener"]]["local"] == addr))
    for addr in (srv, [e["local"] for e in lis.values()
                       if e["comm"] == "echo"][0]):
        by = expect_ids(t.dir, cs.ids(lambda e, g: on(e, addr)),
                        f"on listener {addr}", "--listener", addr)
        acc = [e["accepted"] for e in lis.values() if e["local"] == addr]
        check(len([c for c in by["conn"] if c["role"] == "server"]) ==
              sum(acc) > 0, f"the ends it accepted: {by['conn']}")
    expect_ids(t.dir, cs.ids(lambda e, g: on(e, srv)), "[::ffff:] form",
               "--listener", f"[::ffff:127.0.0.1]:{port}")
    got, _ = shown_ids(t.dir, "--peer", "/no/such.sock")
    check(not got, f"a Unix path nobody used: {got}")


@test
def filters_narrow_as_documented():
    with TraceDir() as t:
        port = filter_trace(t)
        cs = Conns(json_by_type([VIEWER, "view", "--json", t.dir]))
        CONN_IDS[t.dir] = set(cs.ends)
        check_state_and_finding(t, cs)
        check_window(t, cs)
        check_duration(t, cs)
        check_addresses(t, cs, port)


@test
def filters_in_stats_html_perfetto_and_run():
    with TraceDir() as t:
        os.makedirs(t.dir)
        for name in ("echo", "server_close"):
            rc, _, err = run([os.path.join(EXAMPLES, name)], trace=t.dir)
            check(rc == 0, f"{name}: {err}")
        by = json_by_type([VIEWER, "view", "--json", t.dir])
        sv = [c for c in by["conn"] if c["role"] == "server" and
              c["comm"] == "server_close"][0]
        rc, out, err = run([VIEWER, "stats", "--json", "--finding",
                            "server_time_wait", t.dir])
        groups = [json.loads(x) for x in out.splitlines()]
        lis = [g for g in groups if g["type"] == "stats_group" and
               g["by"] == "listener"]
        check(rc == 0 and len(lis) == 1 and lis[0]["conns"] == 1 and
              "server_close" in lis[0]["name"],
              f"stats --finding: the one listener with it: {lis}")
        for opt in ("--html", "--perfetto"):
            out = os.path.join(t.path, "out" + opt)
            rc, _, err = run([VIEWER, "view", opt, out, "--state",
                              "TIME_WAIT", "--peer", sv["peer"], t.dir])
            check(rc == 0 and "(1 connection)" in err,
                  f"{opt} with filters: one connection: {err}")
            with open(out) as f:
                text = f.read()
            check(sv["id"] in text or conn_hex(sv["id"]) in text,
                  f"{opt}: the server_close connection is in it")
        with TraceDir() as t2:
            rc, out, err = run([VIEWER, "run", "-o", t2.dir, "--json",
                                "--finding", "server_time_wait", "--",
                                os.path.join(EXAMPLES, "server_close")])
            conns = [json.loads(x) for x in out.splitlines()
                     if '"type":"conn"' in x]
            check(rc == 0 and {c["role"] for c in conns} ==
                  {"client", "server"}, f"run with a filter: {conns}")


@test
def filters_bad_values_are_usage_errors():
    bad = [("--state", "OPENED"), ("--state", ""), ("--finding", "slow"),
           ("--since", "yesterday"), ("--until", "25:00:00"),
           ("--since", "2024-13-01T00:00:00"), ("--min-duration", "-1s"),
           ("--min-duration", "fast"), ("--min-duration", "2 weeks"),
           ("--peer", "localhost:80"), ("--peer", "1.2.3.4:99999"),
           ("--listener", "nowhere")]
    for opt, val in bad:
        for cmd in ("view", "stats"):
            rc, out, err = run([VIEWER, cmd, opt, val, "/nonexistent"],
                               preload=False)
            check(rc == 2 and f"bad value for {opt}: '{val}'" in err
                  and "expected" in err and not out,
                  f"{cmd} {opt} {val!r}: exit {rc}, {err}")
    with TraceDir() as t:
        rc, out, err = run([VIEWER, "run", "-o", t.dir, "--state", "x",
                            "--", "touch", os.path.join(t.path, "ran")])
        check(rc == 2 and not os.path.exists(os.path.join(t.path, "ran")),
              f"run refuses a bad filter before it runs CMD: {rc} {err}")


@test
def filters_in_live_in_tmux():
    """live --peer: of two connections held open, only the one from
    that address is listed (not the listener, which has no peer), and
    only its close."""
    with TraceDir() as t:
        srv, port = start_echo(trace=t.dir)
        a, b = hold(port), hold(port)
        pa, pb = f":{port_of(a)}", f":{port_of(b)}"
        tm = Tmux(f"{VIEWER} live --peer 127.0.0.1{pa} {t.dir}")
        try:
            s = tm.wait(lambda s: rows(s, "CONNECTIONS", pa),
                        f"the connection from {pa}")
            check(not rows(s, "CONNECTIONS", pb) and
                  not rows(s, "LISTENERS", f"127.0.0.1:{port}"),
                  f"only the connection from {pa}: {s}")
            b.close()  # closed first: its close comes first too
            a.close()
            s = tm.wait(lambda s: rows(s, "CLOSES", pa), f"{pa} closed")
            check(not rows(s, "CLOSES", pb), f"{pb}'s close is not: {s}")
            tm.keys("q")
            restored(tm, "q")
        finally:
            a.close()
            b.close()
            tm.close()
            stop_proc(srv)


def gen_view(t, n, *opts):
    """view's text over gen_trace's N connections."""
    if not os.path.exists(t.dir):
        os.makedirs(t.dir)
        rc, _, err = run([GEN_TRACE, t.dir, str(n)], preload=False)
        check(rc == 0, f"gen_trace: {err}")
    rc, out, err = run([VIEWER, "view", "--no-color", *opts, t.dir],
                       preload=False)
    check(rc == 0, f"view {opts}: {rc} {err}")
    return out


@test
def view_of_many_connections_starts_with_the_summary():
    """Over 300 connections, view's text starts with the stats summary
    and says how to narrow down; fewer (also once filtered) do not."""
    with TraceDir() as t:
        out = gen_view(t, 1000)
        by = json_by_type([VIEWER, "view", "--json", t.dir])
        n = len(Conns(by).conns)
        check(n == 1001, f"1,000 joined connections and the listener: {n}")
        first = out.index("tcp client ")
        head = out[:first]
        check(head.startswith("2,001 connection ends") and
              "Listeners" in head and "Outliers" in head and
              "Findings" in head, f"the summary first: {head[:300]}")
        check(f"{n:,} connections: the summary above" in head and
              "--state S" in head and "--conn ID" in head,
              f"how to narrow down: {head[-400:]}")
        check(out.count("tcp client ") == 1000 and
              out.count("\nFindings\n") == 2,
              "then every timeline, and the findings after them")
        # narrowed below the limit: timelines alone; --until 2ms keeps
        # the connections opened in the first 2 ms (20 us apart)
        opened = sorted(g[0]["open_ts"] for g in Conns(by).conns)
        keep = sum(1 for ts in opened if ts - Conns(by).t0 <= 2 * 10**6)
        out = gen_view(t, 1000, "--until", "2ms")
        check(0 < keep < 300 and not out.startswith("2,001") and
              "the summary above" not in out and
              out.count("tcp client ") == keep - 1,
              f"{keep} connections (the listener one): no summary")
        check("Listeners" not in gen_view(t, 1000, "--json"),
              "JSON lines are not summed up")
    with TraceDir() as t:
        out = gen_view(t, 250)
        check(out.startswith("tcp ") and "summary above" not in out,
              f"250 connections: timelines only: {out[:200]}")
