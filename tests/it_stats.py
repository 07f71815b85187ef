# SPDX-License-Identifier: MIT
# socktrace stats and grouped findings, checked against the truth: the
# exact timings gen_trace writes, nginx's own stub_status counters, and
# percentiles computed here from view --json's connection lines.
# Runs inside tests/integration.py (its helpers and @test).

import math
import urllib.request

GEN_TRACE = os.path.join(BUILD, "tests/bench/gen_trace")


def stats_json(path, *opts):
    rc, out, err = run([VIEWER, "stats", "--json", *opts, path],
                       preload=False)
    check(rc == 0, f"stats failed ({rc}): {err}")
    lines = [json.loads(x) for x in out.splitlines()]
    return ([x for x in lines if x["type"] == "stats_group"],
            [x for x in lines if x["type"] == "outlier"],
            [x for x in lines if x["type"] == "finding_group"])


def view_lines(path):
    rc, out, err = run([VIEWER, "view", "--json", path], preload=False)
    check(rc == 0, f"view failed ({rc}): {err}")
    return [json.loads(x) for x in out.splitlines()]


def nearest_rank(vals, p):
    v = sorted(vals)
    return v[max(1, math.ceil(p / 100 * len(v))) - 1]


def close_to(got, exact, what):
    """Within the histogram's 1% (and exact for the maximum)."""
    check(abs(got - exact) <= 0.01 * exact,
          f"{what}: stats says {got}, the exact value is {exact}")


def check_pcts(h, vals, what):
    check(h is not None and h["count"] == len(vals),
          f"{what}: {len(vals)} values, stats has {h}")
    for p in (50, 90, 99):
        close_to(h[f"p{p}"], nearest_rank(vals, p), f"{what} p{p}")
    check(h["max"] == max(vals), f"{what} max {h['max']} != {max(vals)}")


@test
def stats_gen_trace_exact_timings():
    """gen_trace writes N connections 20 us apart with fixed offsets:
    connect 500 ns, accept-queue wait 1 us, TTFB 5.5 us; 50,000/s."""
    n = 3000
    with TraceDir() as t:
        os.makedirs(t.dir)
        rc, _, err = run([GEN_TRACE, t.dir, str(n)], preload=False)
        check(rc == 0, f"gen_trace failed: {err}")
        groups, outliers, fgroups = stats_json(t.dir, "--top", "5")
        by = {(g["by"], g["name"]): g for g in groups}
        lis = by[("listener", "server[1001] :80")]
        check(lis["conns"] == n, f"{n} accepted: {lis['conns']}")
        check(abs(lis["rate"] - 50000) < 1, f"50,000/s: {lis['rate']}")
        for k, v in (("p50", 1000), ("p99", 1000), ("max", 1000)):
            check(lis["accept_queue_wait"][k] == v, f"queue {k}: {lis}")
        check(lis["queue_max"] == 511 and lis["backlog"] == 511,
              f"the listener's limit: {lis}")
        check(lis["closed_first_peer"] == n and lis["bytes_in"] == 100 * n
              and lis["bytes_out"] == 200 * n, f"closes, bytes: {lis}")
        peer = by[("peer", "client to 127.0.0.1:80")]
        check(peer["connect"]["p50"] == 500 and
              peer["ttfb"]["p99"] == 5500 and peer["conns"] == n,
              f"connect and TTFB: {peer}")
        procs = [g for g in groups if g["by"] == "process"]
        check(sorted(p["opened"] for p in procs) == [n, n + 1],
              f"sockets per process: {procs}")
        check(len(outliers) == 4 * 5, f"5 outliers per latency: {outliers}")
        check(not fgroups, f"no findings: {fgroups}")
        rc, out, _ = run([VIEWER, "stats", "--by", "peer", t.dir],
                         preload=False)
        check(rc == 0 and "Peers" in out and "Listeners" not in out and
              "50000.0/s" in out, f"--by peer: {out}")
        rc, _, err = run([VIEWER, "stats", "--by", "nope", t.dir],
                         preload=False)
        check(rc == 2 and "--by" in err, f"a bad --by is a usage error: {err}")


def stub_status(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/status",
                                timeout=10) as r:
        words = r.read().decode().split()
    i = words.index("requests")
    return int(words[i + 1]), int(words[i + 2])  # accepts, handled


@test
def stats_nginx_wrk_against_stub_status():
    """nginx and wrk both traced, one connection per request: the
    listener's count is nginx's own accepts; every percentile is the
    exact one from view --json's connections within 1%; grouped
    findings add up to the per-instance lines."""
    with TraceDir() as t:
        argv, port = nginx_site(t.path, {"p.txt": "x" * 500})
        env = base_env()
        env.update(SOCKTRACE_DIR=t.dir, LD_PRELOAD=LIB)
        ng = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        try:
            wait_port(port, ng)
            rc, out, err = run(["wrk", "-t", "2", "-c", "8", "-d", "2s",
                                "-H", "Connection: close",
                                f"http://127.0.0.1:{port}/p.txt"],
                               trace=t.dir)
            check(rc == 0, f"wrk failed: {err}")
            accepts, handled = stub_status(port)  # counts itself
        finally:
            ng.send_signal(signal.SIGQUIT)
            try:
                ng.wait(20)
            except subprocess.TimeoutExpired:
                ng.kill()
                ng.wait()
        groups, outliers, fgroups = stats_json(t.dir)
        lis = [g for g in groups if g["by"] == "listener"]
        check(len(lis) == 1, f"one listener: {lis}")
        lis = lis[0]
        check(lis["conns"] == accepts == handled,
              f"stats counts {lis['conns']}, nginx accepted {accepts}")
        check(accepts > 500, f"wrk made connections: {accepts}")

        lines = view_lines(t.dir)
        conns = [x for x in lines if x["type"] == "conn"]
        srv = [c for c in conns if c["role"] == "server"]
        check(len(srv) == accepts, f"{len(srv)} server ends")
        waits = [c["accept_wait_ns"] for c in srv
                 if c["accept_wait_ns"] is not None]
        check_pcts(lis["accept_queue_wait"], waits, "accept-queue wait")
        check(lis["bytes_out"] == sum(c["bytes_out"] for c in srv),
              "bytes out")
        check(lis["closed_first_self"] ==
              sum(1 for c in srv if c["closed_by"] == "local"),
              "server closed first")
        check(lis["closed_first_both"] ==
              sum(1 for c in srv if c["closed_by"] == "both"),
              "both closed first")

        cl = [c for c in conns if c["role"] == "client" and
              c["peer"] == f"127.0.0.1:{port}"]
        peer = [g for g in groups if g["by"] == "peer" and
                g["name"] == f"wrk to 127.0.0.1:{port}"]
        check(len(peer) == 1 and peer[0]["conns"] == len(cl) > 0,
              f"wrk's connections: {len(cl)}, stats {peer}")
        check_pcts(peer[0]["connect"],
                   [c["connect_ns"] for c in cl if c["connect_ns"]
                    is not None], "connect")
        check_pcts(peer[0]["ttfb"],
                   [c["ttfb_ns"] for c in cl if c["ttfb_ns"] is not None],
                   "ttfb")
        # every outlier is a real connection with that value
        ids = {c["id"]: c for c in conns}
        for o in outliers:
            c = ids.get(o["conn"])
            key = {"connect": "connect_ns", "ttfb": "ttfb_ns",
                   "accept_queue_wait": "accept_wait_ns"}.get(o["metric"])
            check(c is not None and (key is None or c[key] == o["ns"]),
                  f"outlier {o} is connection {c}")
        check_groups(lines, fgroups)
        # view --json's own finding_group lines say the same
        check(fgroups == [x for x in lines if x["type"] == "finding_group"],
              "stats and view group findings alike")
        rc, out, _ = run([VIEWER, "view", t.dir], preload=False)
        text = out[out.rindex("Findings"):]
        for g in fgroups:
            if g["count"] > 1:
                check(f"{g['kind']}: x{g['count']:,} " in text,
                      f"view's grouped line for {g}: {text[:2000]}")


def check_groups(lines, fgroups):
    """Per kind, the groups' counts add up to the finding lines."""
    per = {}
    for x in lines:
        if x["type"] == "finding":
            per[x["kind"]] = per.get(x["kind"], 0) + 1
    grouped = {}
    for g in fgroups:
        grouped[g["kind"]] = grouped.get(g["kind"], 0) + g["count"]
        check(len(g["examples"]) == min(3, g["count"]) or
              g["kind"] == "lost_records", f"examples: {g}")
    check(per == grouped, f"findings {per}, grouped {grouped}")


@test
def run_stats_summarizes_the_run():
    """run --stats (and view --stats) print stats' summary of the same
    trace instead of the timelines: the echo example's one joined
    connection, its accept-queue wait the one view --json reports."""
    with TraceDir() as t:
        rc, out, err = run([VIEWER, "run", "-o", t.dir, "--stats", "--",
                            os.path.join(EXAMPLES, "echo")])
        check(rc == 0 and "Listeners" in out and "Findings" in out and
              "+0." not in out, f"run --stats: {rc} {out} {err}")
        rc, again, _ = run([VIEWER, "view", "--stats", t.dir],
                           preload=False)
        # (after what echo itself printed)
        check(rc == 0 and out.endswith(again) and "Listeners" in again,
              f"view --stats says the same: {again}")
        rc, js, _ = run([VIEWER, "run", "-o", t.path + "/j", "--stats",
                         "--json", "--", os.path.join(EXAMPLES, "echo")])
        groups = [json.loads(x) for x in js.splitlines()
                  if x.startswith("{")]
        check(rc == 0 and all(g["type"] in ("stats_group", "outlier",
                                            "finding_group")
                              for g in groups), f"only stats lines: {js}")
        lines = view_lines(t.path + "/j")
        srv = [c for c in lines if c["type"] == "conn" and
               c["role"] == "server"]
        lis = [g for g in groups if g["type"] == "stats_group" and
               g["by"] == "listener"]
        check(len(srv) == 1 and len(lis) == 1 and lis[0]["conns"] == 1 and
              lis[0]["accept_queue_wait"]["max"] == srv[0]["accept_wait_ns"],
              f"one accepted connection: {lis} {srv}")


@test
def stats_redis_benchmark_against_info():
    """redis-server and redis-benchmark (a new connection per request)
    both traced: the listener's count is redis's own
    total_connections_received; connect and TTFB percentiles are the
    exact ones from view --json within 1%."""
    server, bench, cli = need("redis-server"), need("redis-benchmark"), \
        need("redis-cli")
    n = 1500
    with TraceDir() as t:
        port = free_port()
        data = os.path.join(t.path, "data")
        os.makedirs(data)
        with Server([server, "--port", str(port), "--bind", "127.0.0.1",
                     "--save", "", "--appendonly", "no", "--dir", data,
                     "--daemonize", "no"], t.dir, port):
            rc, out, err = run([bench, "-p", str(port), "-n", str(n), "-c",
                                "4", "-k", "0", "-t", "ping", "--csv"],
                               trace=t.dir)
            check(rc == 0, f"redis-benchmark exited {rc}: {err}")
            info = run([cli, "-p", str(port), "INFO", "stats"],
                       preload=False)[1]
            got = dict(x.split(":", 1) for x in info.split() if ":" in x)
        groups, outliers, fgroups = stats_json(t.dir)
        lis = [g for g in groups if g["by"] == "listener" and
               g["name"].startswith("redis-server")]
        total = int(got["total_connections_received"])
        check(len(lis) == 1 and lis[0]["conns"] == total,
              f"stats {lis}, redis counted {total}")
        check(total >= n, f"one connection per request: {total}")
        lines = view_lines(t.dir)
        cl = [c for c in lines if c["type"] == "conn" and
              c["role"] == "client" and c["comm"] == "redis-benchmark" and
              c["peer"] == f"127.0.0.1:{port}"]
        peer = [g for g in groups if g["by"] == "peer" and
                g["name"] == f"redis-benchmark to 127.0.0.1:{port}"]
        check(len(peer) == 1 and peer[0]["conns"] == len(cl),
              f"redis-benchmark's {len(cl)} connections: {peer}")
        check_pcts(peer[0]["connect"], [c["connect_ns"] for c in cl
                                        if c["connect_ns"] is not None],
                   "connect")
        check_pcts(peer[0]["ttfb"], [c["ttfb_ns"] for c in cl
                                     if c["ttfb_ns"] is not None], "ttfb")
        check_groups(lines, fgroups)
