# SPDX-License-Identifier: MIT
# view --perfetto: the Chrome Trace Event JSON checked against the format's
# rules and against the connections view --json reports for the same trace.
# Runs inside tests/integration.py (its helpers and @test).

# phases this checker knows, and the fields each must carry
TEF_REQUIRED = {
    "X": ("name", "cat", "ts", "dur", "pid", "tid"),
    "B": ("name", "ts", "pid", "tid"),
    "E": ("ts", "pid", "tid"),
    "b": ("name", "cat", "id", "ts", "pid"),
    "e": ("cat", "id", "ts", "pid"),
    "n": ("name", "cat", "id", "ts", "pid"),
    "s": ("name", "cat", "id", "ts", "pid", "tid"),
    "t": ("name", "cat", "id", "ts", "pid", "tid"),
    "f": ("name", "cat", "id", "ts", "pid", "tid"),
    "i": ("name", "ts", "pid", "tid"),
    "M": ("name", "pid", "args"),
    "C": ("name", "ts", "pid", "args"),
}
TEF_META = ("process_name", "process_labels", "process_sort_index",
            "thread_name", "thread_sort_index")


def tef_check(doc):
    """Checks DOC (a parsed Trace Event JSON object) against the format's
    rules; returns its events by phase."""
    check(isinstance(doc, dict) and isinstance(doc.get("traceEvents"), list),
          "JSON object form with a traceEvents array")
    check(doc.get("displayTimeUnit", "ms") in ("ms", "ns"),
          f"displayTimeUnit: {doc.get('displayTimeUnit')}")
    by = {}
    for e in doc["traceEvents"]:
        ph = e.get("ph")
        check(ph in TEF_REQUIRED, f"unknown phase {ph!r}: {e}")
        for k in TEF_REQUIRED[ph]:
            check(k in e, f"'{ph}' event without {k}: {e}")
        for k in ("pid", "tid"):
            check(k not in e or isinstance(e[k], int), f"{k} not int: {e}")
        if "ts" in e:
            check(isinstance(e["ts"], (int, float)) and e["ts"] >= 0,
                  f"ts is a number of microseconds: {e}")
        if ph == "X":
            check(isinstance(e["dur"], (int, float)) and e["dur"] >= 0,
                  f"dur is a non-negative number: {e}")
        if ph in "bensft":
            check(isinstance(e["id"], (str, int)), f"id: {e}")
        if ph == "f":
            check(e.get("bp", "e") == "e", f"bp is 'e' if given: {e}")
        if ph == "i":
            check(e.get("s", "t") in ("g", "p", "t"), f"instant scope: {e}")
        if ph == "C":
            check(all(isinstance(v, (int, float))
                      for v in e["args"].values()), f"counter values: {e}")
        if ph == "M":
            check(e["name"] in TEF_META, f"metadata name: {e}")
            check(isinstance(e["args"].get("name", ""), str) or
                  e["name"].endswith("sort_index"), f"metadata args: {e}")
        by.setdefault(ph, []).append(e)
    by["*"] = doc["traceEvents"]
    return by


def tef_names(by):
    """Every process has a process_name and every thread with slices a
    thread_name."""
    pnames = {e["pid"]: e["args"]["name"] for e in by.get("M", [])
              if e["name"] == "process_name"}
    tnames = {(e["pid"], e["tid"]): e["args"]["name"]
              for e in by.get("M", []) if e["name"] == "thread_name"}
    for ph, evs in by.items():
        for e in evs:
            if ph == "*":
                continue
            if ph != "M":
                check(e["pid"] in pnames, f"no process_name for {e}")
            if ph in "XBE":
                check((e["pid"], e["tid"]) in tnames,
                      f"no thread_name for {e}")
    return pnames, tnames


def tef_nesting(by):
    """Complete slices nest per thread; async begin/end pairs match per
    (cat, id), in time order, with end >= begin.  At the same time an end
    comes before a begin (a state ends where the next begins); otherwise
    file order breaks ties.
    Returns the async tree: {(cat, id): [(name, ts, end_ts, depth)]}."""
    threads = {}
    for e in by.get("X", []):
        threads.setdefault((e["pid"], e["tid"]), []).append(e)
    for key, xs in threads.items():
        xs.sort(key=lambda e: (e["ts"], -e["dur"]))
        stack = []
        for e in xs:
            while stack and stack[-1] <= e["ts"]:
                stack.pop()
            end = e["ts"] + e["dur"]
            check(not stack or end <= stack[-1] + 1e-9,
                  f"slices overlap without nesting on thread {key}: {e}")
            stack.append(end)
    tracks = {}
    order = [e for e in by["*"] if e["ph"] in "ben"]
    order.sort(key=lambda e: (e["ts"], e["ph"] == "b"))  # stable
    for e in order:
        tracks.setdefault((e["cat"], e["id"]), []).append(e)
    tree = {}
    for key, evs in tracks.items():
        stack, out = [], []
        for e in evs:
            if e["ph"] == "b":
                stack.append((e["name"], e["ts"], len(out)))
                out.append(None)
            elif e["ph"] == "e":
                check(stack, f"async end without begin on {key}: {e}")
                name, ts, slot = stack.pop()
                check(e.get("name", name) == name,
                      f"async end {e.get('name')} closes {name} on {key}")
                check(e["ts"] >= ts, f"async end before its begin: {e}")
                out[slot] = (name, ts, e["ts"], len(stack))
            else:
                out.append((e["name"], e["ts"], e["ts"], len(stack)))
        check(not stack, f"async begins never ended on {key}: {stack}")
        tree[key] = out
    return tree


def tef_flows(by):
    """Every flow start has exactly one end (same cat, name and id), not
    before it; each binds to the complete slice around it on its thread.
    Returns [(start slice, end slice)]."""
    flows = {}
    for ph in "stf":
        for e in by.get(ph, []):
            flows.setdefault((e["cat"], e["name"], e["id"]), []).append(e)

    def around(e):
        inside = [x for x in by.get("X", []) if x["pid"] == e["pid"] and
                  x["tid"] == e["tid"] and
                  x["ts"] <= e["ts"] <= x["ts"] + x["dur"]]
        check(inside, f"flow event inside no slice of its thread: {e}")
        return min(inside, key=lambda x: x["dur"])

    out = []
    for key, evs in flows.items():
        s = [e for e in evs if e["ph"] == "s"]
        f = [e for e in evs if e["ph"] == "f"]
        check(len(s) == 1 and len(f) == 1,
              f"flow {key}: {len(s)} starts, {len(f)} ends")
        check(f[0]["ts"] >= s[0]["ts"], f"flow {key} ends before it starts")
        out.append((around(s[0]), around(f[0])))
    return out


def conn_hex(cid):
    pid, n = cid.split(":")
    return hex(int(pid) << 32 | int(n))


def perfetto_of(trace, *opts):
    """view --perfetto and view --json of the same trace directory."""
    out = os.path.join(os.path.dirname(trace), "trace.json")
    rc, _, err = run([VIEWER, "view", "--perfetto", out, *opts, trace])
    check(rc == 0, f"view --perfetto exited {rc}: {err}")
    check(f"wrote {out}" in err, f"says where it wrote: {err}")
    m = re.search(r"\((\d+) connection(s?)\)", err)
    check(m and (m.group(2) == "") == (m.group(1) == "1"),
          f"the count agrees with its noun: {err}")
    with open(out) as f:
        doc = json.load(f)
    rc, text, err = run([VIEWER, "view", "--json", *opts, trace])
    check(rc == 0, f"view --json exited {rc}: {err}")
    by = {"process": [], "call": [], "conn": [], "finding": []}
    for line in text.splitlines():
        o = json.loads(line)
        by.setdefault(o["type"], []).append(o)
    return doc, by


def trace_examples(t, names):
    os.makedirs(t.dir)
    for name in names:
        rc, out, err = run([os.path.join(EXAMPLES, name)], trace=t.dir)
        check(rc == 0, f"{name} exited {rc}: {err}")


STATE_NAMES = ("SYN_SENT", "SYN_RECV", "ESTABLISHED", "LISTEN",
               "FIN_WAIT", "TIME_WAIT", "CLOSE_WAIT", "LAST_ACK")


@test
def perfetto_follows_the_format_and_the_trace():
    with TraceDir() as t:
        trace_examples(t, ["echo", "backlog", "close_wait", "refused"])
        doc, js = perfetto_of(t.dir)
        by = tef_check(doc)
        pnames, tnames = tef_names(by)
        tree = tef_nesting(by)
        flows = tef_flows(by)
        # every process of the trace named, every call a slice
        for p in js["process"]:
            check(pnames.get(p["pid"]) == f"{p['comm']}[{p['pid']}]",
                  f"process {p['pid']} named {pnames.get(p['pid'])}")
        xs = by["X"]
        check(len(xs) == len(js["call"]),
              f"{len(xs)} slices for {len(js['call'])} calls")
        want = sorted((c["pid"], c["tid"], c["call"], c["ts"], c["dur"])
                      for c in js["call"])
        got = sorted((x["pid"], x["tid"], x["name"], round(x["ts"] * 1000),
                      round(x["dur"] * 1000)) for x in xs)
        check(want == got, "each call is a slice at its time, with its "
              "duration, on its thread (to the nanosecond)")
        soft = ("EINPROGRESS", "EALREADY", "EAGAIN", "EINTR")
        errs = [x for x in xs if x["args"]["errno"]]
        check(errs and all(bool(x.get("cname")) ==
                           (x["args"]["errno"] not in soft) for x in errs),
              "failed calls are coloured (not EINPROGRESS and the like)")
        # one async track per connection end, holding its states in order
        conns = js["conn"]
        tracks = {k: v for k, v in tree.items() if k[0] == "conn"}
        check(len(tracks) == len(conns),
              f"{len(tracks)} async tracks for {len(conns)} connections")
        for c in conns:
            key = ("conn", conn_hex(c["id"]))
            check(key in tracks, f"no track for connection {c['id']}")
            slices = tracks[key]
            top = [s for s in slices if s[3] == 0]
            check(len(top) == 1 and c["role"] in top[0][0] and
                  (c["local"] or "(unbound)") in top[0][0],
                  f"one slice for the whole of {c['id']}: {top}")
            states = [s[0] for s in slices if s[3] == 1 and
                      not s[0].startswith("finding: ")]
            expect = [s for s, ts, *_ in c["states"]
                      if s not in ("NONE", "CLOSED")]
            check(states == expect,
                  f"{c['id']} states {states}, view --json says {expect}")
            # each state's args: what showed it, as view --json says
            srcs = [e["args"]["source"] for e in by["*"]
                    if e.get("id") == key[1] and e["ph"] in "bn" and
                    e["name"] in STATE_NAMES]
            expect = [src for s, ts, src in c["states"]
                      if s not in ("NONE", "CLOSED")]
            check(srcs == expect,
                  f"{c['id']} state sources {srcs}, view --json {expect}")
            if c["role"] == "server" and c["peer_conn"] and \
                    c["accept_wait_ns"]:
                q = [s for s in slices if s[0] == "accept queue"]
                check(len(q) == 1 and q[0][3] == 2 and
                      round((q[0][2] - q[0][1]) * 1000) ==
                      c["accept_wait_ns"],
                      f"{c['id']}: the accept-queue wait inside "
                      f"ESTABLISHED, as long as view says: {q}")
        # a flow from each joined client's connect to the server's accept
        joined = [c for c in conns if c["role"] == "client" and
                  c["peer_conn"] and c["kind"] == "tcp"]
        check(len(joined) >= 7, f"echo, backlog (5), close_wait: {joined}")
        check(len(flows) == len(joined),
              f"{len(flows)} flows for {len(joined)} joined clients")
        ends = {(s["args"]["conn"], f["args"]["conn2"]) for s, f in flows}
        for s, f in flows:
            check(s["name"] == "connect" and f["name"] in ("accept",
                                                          "accept4"),
                  f"a flow joins connect to accept: {s['name']}, "
                  f"{f['name']}")
        for c in joined:
            check((c["id"], c["peer_conn"]) in ends,
                  f"no flow from {c['id']}'s connect to the accept of "
                  f"{c['peer_conn']}")
        # findings on the connection they name
        for fnd in js["finding"]:
            if fnd["conn"]:
                key = ("conn", conn_hex(fnd["conn"]))
                check(any(s[0] == "finding: " + fnd["kind"]
                          for s in tree.get(key, [])),
                      f"finding {fnd['kind']} on {fnd['conn']}'s track")


@test
def perfetto_filters_and_errors():
    with TraceDir() as t:
        trace_examples(t, ["echo"])
        _, js = perfetto_of(t.dir)
        client = [c for c in js["conn"] if c["role"] == "client"][0]
        # one process: its calls and connections only, still well formed
        doc, one = perfetto_of(t.dir, "--pid", str(client["pid"]))
        by = tef_check(doc)
        tef_names(by)
        tef_nesting(by)
        check({x["pid"] for x in by["X"]} == {client["pid"]},
              "--pid keeps that process's calls")
        check(len(by["X"]) == len(one["call"]), "as many as view --json")
        check(not by.get("s") and not by.get("f"),
              "no flow to a slice that is not in the file")
    with TraceDir() as t:
        # one connection: "wrote FILE (1 connection)"
        trace_examples(t, ["refused"])
        _, js = perfetto_of(t.dir)
        cid = js["conn"][0]["id"]
        out = os.path.join(t.path, "one.json")
        rc, _, err = run([VIEWER, "view", "--perfetto", out, "--conn", cid,
                          t.dir])
        check(rc == 0 and f"wrote {out} (1 connection)\n" in err,
              f"singular: {rc} {err}")
    with TraceDir() as t:
        trace_examples(t, ["echo"])
        bad = os.path.join(t.path, "no", "such", "dir", "x.json")
        rc, out, err = run([VIEWER, "view", "--perfetto", bad, t.dir])
        check(rc == 1 and "cannot write" in err and bad in err,
              f"an unwritable file is an error naming it: {rc} {err}")
        rc, out, err = run([VIEWER, "view", "--perfetto"])
        check(rc == 2 and "usage" in err, f"--perfetto needs a file: {err}")
        rc, out, err = run([VIEWER, "run", "-o", t.dir + "2", "--perfetto",
                            bad, "--", os.path.join(EXAMPLES, "echo")])
        check(rc == 1 and "cannot write" in err and
              not os.path.exists(t.dir + "2"),
              f"run says so before running the command: {rc} {err}")
        out_file = os.path.join(t.path, "run.json")
        rc, out, err = run([VIEWER, "run", "-o", t.dir + "3", "--perfetto",
                            out_file, "--", os.path.join(EXAMPLES, "echo")])
        check(rc == 0, f"run --perfetto: {rc} {err}")
        with open(out_file) as f:
            by = tef_check(json.load(f))
        check(len(by.get("s", [])) == 1, "run --perfetto writes the file")


@test
def perfetto_past_its_size_budget():
    """20,000 generated connections with a 2 MiB --budget: detail stops
    near the budget, said on stderr and in the file, and the counter
    track still counts every connection view --json shows."""
    with TraceDir() as t:
        os.makedirs(t.dir)
        rc, _, err = run([GEN_TRACE, t.dir, "20000"], preload=False)
        check(rc == 0, f"gen_trace: {err}")
        out = os.path.join(t.path, "big.json")
        rc, _, err = run([VIEWER, "view", "--perfetto", out, "--budget",
                          "2M", t.dir], preload=False)
        check(rc == 0 and "past the size budget (2 MiB" in err,
              f"said on stderr: {rc} {err}")
        size = os.path.getsize(out)
        check(2 << 20 <= size < 3 << 20, f"about the budget: {size} B")
        with open(out) as f:
            doc = json.load(f)
        tef_check(doc)
        ev = doc["traceEvents"]
        note = [e for e in ev if e.get("s") == "g"]
        check(len(note) == 1 and "not drawn" in note[0]["args"]["message"],
              f"said in the file: {note}")
        counted = sum(e["args"]["connections"] for e in ev
                      if e["ph"] == "C")
        rc, text, err = run([VIEWER, "view", "--json", t.dir],
                            preload=False)
        ends = [json.loads(x) for x in text.splitlines()
                if x.startswith('{"type":"conn"')]
        pairs = len([c for c in ends if not c["peer_conn"]]) + \
            len([c for c in ends if c["peer_conn"]]) // 2
        check(counted == pairs, f"every connection counted: {counted} "
              f"against {pairs} in view --json")
        rc, _, err = run([VIEWER, "view", "--perfetto", out, "--budget",
                          "2X", t.dir], preload=False)
        check(rc == 2 and "bad value for --budget" in err,
              f"a bad budget is a usage error: {rc} {err}")


@test
def exports_clean_under_valgrind():
    vg = valgrind()
    if not vg:
        return
    with TraceDir() as t:
        trace_examples(t, ["echo", "close_wait", "refused", "nonblock"])
        page = os.path.join(t.path, "r.html")
        pf = os.path.join(t.path, "r.json")
        rc, out, err = run([vg, "-q", "--error-exitcode=99",
                            "--leak-check=full",
                            "--errors-for-leak-kinds=definite", VIEWER,
                            "view", "--html", page, "--perfetto", pf,
                            t.dir], preload=False)
        check(rc == 0, f"view --html --perfetto under valgrind exited "
              f"{rc}: {err[-2000:]}")
        check(os.path.getsize(page) > 10000 and os.path.getsize(pf) > 1000,
              "both files written")
        with open(pf) as f:
            tef_check(json.load(f))
