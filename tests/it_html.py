# SPDX-License-Identifier: MIT
# view --html: the report loaded in real headless Chromium, checked by what
# its scripts drew (the DOM after they ran) against view --json of the
# same trace.  Runs inside tests/integration.py (its helpers and @test).
import html.parser
import re

CHROMIUM = shutil.which("chromium")


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.kids, self.parts = [], []

    def cls(self):
        return (self.attrs.get("class") or "").split()

    def text(self):
        return "".join(p if isinstance(p, str) else p.text()
                       for p in self.parts)

    def find(self, pred):
        """Every node under this one (itself included) PRED accepts."""
        out = [self] if pred(self) else []
        for k in self.kids:
            out += k.find(pred)
        return out

    def by_class(self, c):
        return self.find(lambda n: c in n.cls())


class Tree(html.parser.HTMLParser):
    """The dumped DOM as a tree of Nodes (stdlib only)."""
    VOID = {"meta", "input", "br", "img", "link", "hr", "col", "wbr"}

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.root = self.cur = Node("#root", {}, None)
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.kids.append(n)
        self.cur.parts.append(n)
        if tag not in self.VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.kids.append(n)
        self.cur.parts.append(n)

    def handle_endtag(self, tag):
        n = self.cur
        while n.parent and n.tag != tag:
            n = n.parent
        if n.parent:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.parts.append(data)


def chromium(page, out_dir, frag="", shot=None, size="1500,1000"):
    """Loads PAGE in headless Chromium; the DOM after its scripts ran, or
    with SHOT a screenshot there."""
    check(CHROMIUM, "chromium is missing: run 'make deps'")
    prof = tempfile.mkdtemp(prefix="chromium-", dir=out_dir)
    argv = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu",
            "--no-first-run", "--hide-scrollbars", f"--user-data-dir={prof}",
            f"--window-size={size}"]
    argv += [f"--screenshot={shot}"] if shot else ["--dump-dom"]
    rc, out, err = run(argv + ["file://" + page + frag], timeout=300)
    check(rc == 0, f"chromium exited {rc}: {err[-2000:]}")
    if shot:
        check(os.path.getsize(shot) > 10000, f"no screenshot in {shot}")
        return None
    tree = Tree(out).root
    body = tree.find(lambda n: n.tag == "body")[0]
    check(body.attrs.get("data-ready") == "yes" and
          "data-error" not in body.attrs,
          f"the page's script ran without error: {body.attrs}")
    return tree


def view_json(trace):
    rc, out, err = run([VIEWER, "view", "--json", trace])
    check(rc == 0, f"view --json exited {rc}: {err}")
    by = {"process": [], "call": [], "conn": [], "finding": []}
    for line in out.splitlines():
        o = json.loads(line)
        by.setdefault(o["type"], []).append(o)
    return by


def make_page(t, names):
    trace_examples(t, names)  # from it_perfetto.py
    page = os.path.join(t.path, "report.html")
    rc, out, err = run([VIEWER, "view", "--html", page, t.dir])
    check(rc == 0 and f"wrote {page}" in err, f"view --html: {rc} {err}")
    with open(page, encoding="utf-8") as f:
        text = f.read()
    # offline: nothing to fetch, no scheme-less or absolute URL to load
    for bad in ("http://", "https://", "src=", "<link", "@import", "url(",
                "fetch(", "XMLHttpRequest", "import("):
        check(bad not in text, f"the page refers to {bad!r}: it must work "
              f"offline")
    return page, view_json(t.dir)


def lanes_of(tree):
    return {n.attrs["data-conn"]: n for n in tree.by_class("lane")}


def rows_of(lane):
    return [n for n in lane.kids if "row" in n.cls()]


def drawn_calls(row):
    return [n.text() for n in row.by_class("cl")]


@test
def html_report_in_chromium():
    with TraceDir() as t:
        page, js = make_page(t, ["echo", "close_wait", "backlog",
                                 "refused"])
        tree = chromium(page, t.path)
        lanes = lanes_of(tree)
        conns = {c["id"]: c for c in js["conn"]}
        # one lane per connection; joined ends share one, client first
        want = set()
        for c in js["conn"]:
            o = conns.get(c["peer_conn"])
            if o and c["role"] == "server":
                continue
            want.add(c["id"] + (" " + o["id"] if o else ""))
        check(set(lanes) == want, f"lanes {sorted(lanes)}, connections "
              f"{sorted(want)}")
        count = tree.find(lambda n: n.attrs.get("id") == "st-count")[0]
        check(count.text() == f"{len(want)} connections",
              f"the count says {count.text()}")
        for ids, lane in lanes.items():
            rows = rows_of(lane)
            check(len(rows) == len(ids.split()), f"a row per end: {ids}")
            for cid, row in zip(ids.split(), rows):
                c = conns[cid]
                label = row.by_class("lbl")[0].text()
                for part in (c["role"], c["local"] or "(unbound)", cid,
                             f"{c['comm']}[{c['pid']}]"):
                    check(part in label, f"{cid}'s label '{label}' "
                          f"lacks {part}")
                if c["peer"]:
                    check(c["peer"] in label, f"{cid}: peer in '{label}'")
                # states as text, in order, as the model inferred them
                drawn = [n.text() for n in row.by_class("st")]
                # a guess (source "inferred") is drawn as one: "STATE?"
                expect = [s + q if s != "TIME_WAIT" else
                          f"TIME_WAIT{q} (60 s)"
                          for s, ts, src in c["states"]
                          if s not in ("NONE", "CLOSED")
                          for q in ["?" if src == "inferred" else ""]]
                check(drawn == expect, f"{cid} states drawn {drawn}, "
                      f"view --json says {expect}")
                if c["role"] == "server" and c["peer_conn"] and \
                        c["accept_wait_ns"] > 300 * 10**6:
                    check([n.text() for n in row.by_class("aq")] ==
                          ["accept queue"],
                          f"{cid} waited in the accept queue: drawn")
            if len(rows) == 2 and conns[ids.split()[0]]["role"] == "client":
                check(lane.find(lambda n: n.tag == "line"),
                      f"{ids}: connect joined to accept by a line")
        queued = [n for lane in lanes.values() for n in lane.by_class("aq")
                  if n.text() == "accept queue"]
        check(len(queued) >= 3, "backlog's queued connections show the wait")
        # a failed call is marked as an error, with its errno
        errs = [n.text() for n in tree.by_class("err")
                if "call" in n.cls()]
        check("connect ECONNREFUSED" in errs, f"refused connect: {errs}")
        # findings listed, each linked to the lane of its connection
        items = tree.find(lambda n: n.attrs.get("id") == "st-findings")[0]
        items = [li for li in items.kids if li.tag == "li"]
        check(len(items) == len(js["finding"]), f"{len(items)} findings "
              f"listed, view --json has {len(js['finding'])}")
        for f, li in zip(js["finding"], items):
            check(f["kind"] in li.text() and f["message"] in li.text(),
                  f"finding {f['kind']}: {li.text()}")
            if f["conn"]:
                a = li.find(lambda n: n.tag == "a")
                check(a and a[0].attrs.get("href") == "#conn=" + f["conn"],
                      f"{f['kind']} links to its connection")
                check(any(f["conn"] in ids.split() for ids in lanes),
                      f"{f['conn']} has a lane")
        cw = [f for f in js["finding"] if f["kind"] == "close_wait"]
        check(len(cw) == 1, f"close_wait's finding: {js['finding']}")
        # every process listed
        procs = tree.find(lambda n: n.attrs.get("id") == "st-procs")[0]
        for p in js["process"]:
            check(f"{p['comm']}[{p['pid']}]" in procs.text(),
                  f"process {p['pid']} listed")

        # zoomed to the echo's connection (a link the findings use too):
        # every call of both ends drawn and named, in order
        cl = [c for c in js["conn"] if c["role"] == "client" and
              c["comm"] == "echo"][0]
        tree = chromium(page, t.path, "#conn=" + cl["id"])
        lane = lanes_of(tree)[cl["id"] + " " + cl["peer_conn"]]
        check("sel" in lane.cls(), "the linked connection is selected")
        for cid, row in zip((cl["id"], cl["peer_conn"]), rows_of(lane)):
            # a tcpinfo record is the kernel's figures, not a call
            calls = [c["call"] for c in js["call"]
                     if c["call"] != "tcpinfo" and
                     (c["conn"] == cid or
                      (c["call"].startswith("accept") and
                       c.get("conn2") == cid))]
            check(drawn_calls(row) == calls,
                  f"{cid}: calls drawn {drawn_calls(row)}, made {calls}")
        details = tree.find(lambda n: n.attrs.get("id") == "st-details")[0]
        check(cl["id"] in details.text() and "lasted" in details.text(),
              f"its details are shown: {details.text()}")
        # run --html writes the page of the command it ran
        run_page = os.path.join(t.path, "run.html")
        rc, out, err = run([VIEWER, "run", "-o", t.dir + "-run", "--html",
                            run_page, "--", os.path.join(EXAMPLES, "echo")])
        check(rc == 0 and f"wrote {run_page}" in err and out.startswith(
              "echo:"), f"run --html: {rc} {err}")
        with open(run_page) as f:
            check(f.read().count('{"type":"lane"') == 2,
                  "the echo's listener and its connection")
        shot = os.path.join(t.path, "report.png")
        chromium(page, t.path, shot=shot)
        print(f"  screenshot: {shot} (removed with the test's directory)")


@test
def html_report_ten_thousand_connections():
    gen = os.path.join(BUILD, "tests/bench/gen_trace")
    check(os.path.exists(gen), f"{gen} is missing: run 'make test'")
    with TraceDir() as t:
        os.makedirs(t.dir)
        rc, out, err = run([gen, t.dir, "10000"])
        check(rc == 0, f"gen_trace: {err}")
        page = os.path.join(t.path, "big.html")
        rc, out, err = run([VIEWER, "view", "--html", page, t.dir])
        check(rc == 0, f"view --html: {rc} {err}")
        t0 = time.time()
        tree = chromium(page, t.path)
        wall = time.time() - t0
        body = tree.find(lambda n: n.tag == "body")[0]
        lanes = lanes_of(tree)
        count = tree.find(lambda n: n.attrs.get("id") == "st-count")[0]
        check(count.text() == "10001 connections",
              f"10,000 connections and the listener: {count.text()}")
        # only what is in view is in the DOM, and it is complete
        check(5 <= len(lanes) <= 100, f"{len(lanes)} lanes drawn")
        check(all(len(rows_of(n)) in (1, 2) for n in lanes.values()),
              "drawn lanes have their rows")
        # a connection deep in the list: scrolled to and drawn
        tree = chromium(page, t.path, "#conn=1000:7000")
        lanes = lanes_of(tree)
        hit = [k for k in lanes if k.split()[0] == "1000:7000"]
        check(hit and "sel" in lanes[hit[0]].cls() and
              "connect" in drawn_calls(rows_of(lanes[hit[0]])[0]),
              f"lane 1000:7000 drawn: {sorted(lanes)[:5]}")
        body2 = tree.find(lambda n: n.tag == "body")[0]
        print(f"  10,000 connections, {os.path.getsize(page) >> 20} MiB: "
              f"page ready {body.attrs['data-ready-ms']} ms after "
              f"navigation (script {body.attrs['data-script-ms']} ms); "
              f"scrolling to and drawing one deep in the list "
              f"{body2.attrs['data-draw-ms']} ms; chromium start to DOM "
              f"dump {wall:.1f} s")


class Browser:
    """Headless Chromium driven over the DevTools protocol on a pipe
    (--remote-debugging-pipe: commands on fd 3, replies on fd 4, each a
    JSON message ended by a NUL), to use the page as a person would."""

    def __init__(self, url, out_dir):
        import fcntl
        import select
        self.select = select.select
        check(CHROMIUM, "chromium is missing: run 'make deps'")
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()
        # above fd 4, so placing them at 3 and 4 cannot clobber either
        a = fcntl.fcntl(to_r, fcntl.F_DUPFD, 10)
        b = fcntl.fcntl(from_w, fcntl.F_DUPFD, 10)
        for fd in (to_r, from_w):
            os.close(fd)
        prof = tempfile.mkdtemp(prefix="chromium-", dir=out_dir)

        def fds():
            os.dup2(a, 3)
            os.dup2(b, 4)
        self.p = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--remote-debugging-pipe",
             f"--user-data-dir={prof}", "--window-size=1500,900", url],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, close_fds=False, preexec_fn=fds)
        os.close(a)
        os.close(b)
        self.n, self.buf = 0, b""
        self.session = None
        deadline = time.time() + 60
        while not self.session:
            pages = [t for t in self.send("Target.getTargets")
                     ["targetInfos"] if t["type"] == "page"]
            if pages:
                self.session = self.send("Target.attachToTarget", {
                    "targetId": pages[0]["targetId"],
                    "flatten": True})["sessionId"]
            check(time.time() < deadline, "chromium opened no page")
        body = "(document.body ? document.body.dataset.%s || '' : '')"
        while self.js(body % "ready") != "yes":
            check(time.time() < deadline, "the page never got ready: " +
                  self.js(body % "error"))
            time.sleep(0.1)

    def send(self, method, params=None):
        self.n += 1
        m = {"id": self.n, "method": method, "params": params or {}}
        if self.session:
            m["sessionId"] = self.session
        os.write(self.to_w, json.dumps(m).encode() + b"\0")
        deadline = time.time() + 60
        while True:
            while b"\0" not in self.buf:
                left = deadline - time.time()
                check(left > 0 and self.select([self.from_r], [], [],
                                               left)[0],
                      f"chromium did not answer {method}")
                chunk = os.read(self.from_r, 1 << 16)
                check(chunk, f"chromium exited during {method}")
                self.buf += chunk
            msg, self.buf = self.buf.split(b"\0", 1)
            o = json.loads(msg)
            if o.get("id") == self.n:
                check("error" not in o, f"{method}: {o.get('error')}")
                return o["result"]

    def js(self, expr):
        r = self.send("Runtime.evaluate", {"expression": expr,
                                           "returnByValue": True})
        check("exceptionDetails" not in r, f"{expr}: {r}")
        return r["result"].get("value")

    def until(self, expr, ok, timeout=10):
        """EXPR's value once OK accepts it (or the last one, in time)."""
        deadline = time.time() + timeout
        v = self.js(expr)
        while not ok(v) and time.time() < deadline:
            time.sleep(0.05)
            v = self.js(expr)
        return v

    def mouse(self, kind, x, y, **kw):
        self.send("Input.dispatchMouseEvent",
                  dict(type=kind, x=x, y=y, **kw))

    def close(self):
        self.p.kill()
        self.p.wait()
        os.close(self.to_w)
        os.close(self.from_r)


@test
def html_report_hover_zoom_pan_filter():
    with TraceDir() as t:
        page, js = make_page(t, ["echo", "close_wait", "refused"])
        b = Browser("file://" + page, t.path)
        try:
            # ctrl+wheel zooms in where the pointer is, drag pans
            rng = "document.getElementById('st-range').textContent"
            text = "document.getElementById(%r).textContent"
            before = b.js(rng)
            x, y = b.js("(function(){var r=document.getElementById("
                        "'st-scroll').getBoundingClientRect();"
                        "return [r.left+r.width*0.7, r.top+20]})()")
            b.send("Input.dispatchMouseEvent", {
                "type": "mouseWheel", "x": x, "y": y, "deltaX": 0,
                "deltaY": -100, "modifiers": 2})
            zoomed = b.js(rng)

            def span(r):
                return r.split("(")[1]
            check(zoomed != before and span(zoomed) != span(before),
                  f"ctrl+wheel zooms: {before} -> {zoomed}")
            b.mouse("mousePressed", x, y, button="left", clickCount=1)
            b.mouse("mouseMoved", x - 300, y, button="left")
            b.mouse("mouseReleased", x - 300, y, button="left",
                    clickCount=1)
            panned = b.until(rng, lambda v: v != zoomed)  # next frame
            check(panned != zoomed and span(panned) == span(zoomed),
                  f"dragging pans, same span: {zoomed} -> {panned}")
            # filters: a state, then a process
            n = b.js("(function(){var s=document.getElementById('f-state');"
                     "s.value='CLOSE_WAIT';s.dispatchEvent(new Event("
                     "'change'));return document.querySelectorAll('.lane')"
                     ".length})()")
            want = [c for c in js["conn"] if "CLOSE_WAIT" in states(c)]
            check(n == len({frozenset((c["id"], c["peer_conn"]))
                            for c in want}),
                  f"CLOSE_WAIT filter: {n} lanes for {want}")
            check("showing" in b.js(text % "st-count"), "says it filters")
            # a finding's link shows its connection
            cw = [f for f in js["finding"] if f["kind"] == "close_wait"][0]
            b.js("document.getElementById('f-state').value='';"
                 "document.querySelector('#st-findings a[href=\"#conn=" +
                 cw["conn"] + "\"]').click()")
            sel = b.js("Array.prototype.map.call(document.querySelectorAll("
                       "'.lane.sel'), function(e){return e.dataset.conn})")
            check(len(sel) == 1 and cw["conn"] in sel[0].split(),
                  f"the finding's connection selected: {sel}")
            check(cw["conn"] in b.js(text % "st-details"),
                  "and its details shown")
            # the refused connect's finding links to it; hovering its
            # connect there shows the call's details from the trace
            cf = [f for f in js["finding"] if f["kind"] ==
                  "connect_failed"][0]
            b.js("document.querySelector('#st-findings a[href=\"#conn=" +
                 cf["conn"] + "\"]').click()")
            x, y = b.js("(function(){var r=document.querySelector("
                        "'.call.err').getBoundingClientRect();"
                        "return [r.left+1, r.top+5]})()")
            b.mouse("mouseMoved", x, y)
            tip = b.js(text % "st-tip")
            check(b.js("document.getElementById('st-tip').hidden") is False
                  and "connect(" in tip and "ECONNREFUSED" in tip,
                  f"hovering the refused connect explains it: {tip!r}")
            check(b.js("document.body.dataset.error || ''") == "",
                  "no script error")
        finally:
            b.close()


# --- the overview above the lanes, against view --json -------------------

def connections(js):
    """The connections as the overview counts them, from view --json's
    conn lines: a joined pair or a lone end, listeners aside; each with
    its ends, its opening, and its close (None: an end still open)."""
    by = {c["id"]: c for c in js["conn"]}
    out, seen = [], set()
    for c in js["conn"]:
        if c["id"] in seen or c["role"] == "listener":
            continue
        ends = [c] + ([by[c["peer_conn"]]] if c["peer_conn"] in by else [])
        seen.update(e["id"] for e in ends)
        closes = [e["close_ts"] for e in ends]
        out.append({"ids": {e["id"] for e in ends}, "ends": ends,
                    "open": min(e["open_ts"] for e in ends),
                    "close": None if None in closes else max(closes)})
    return out


def latency_row(ns):
    """Power-of-two ranges of microseconds, as stats draws them: 0 under
    2 us, K from 2^K to 2^(K+1) us."""
    return 0 if ns < 2000 else (ns // 1000).bit_length() - 1


def lanes_left(b):
    """The connection ids of each lane drawn (every lane of these small
    traces fits the view), and the count the page states."""
    ids = b.js("Array.prototype.map.call(document.querySelectorAll("
               "'.lane'), function(e){return e.dataset.conn})")
    return ({frozenset(i.split()) for i in ids},
            b.js("document.getElementById('st-count').textContent"))


def click_at(b, selector):
    """A left click in the middle of SELECTOR's element, as a mouse."""
    x, y = b.js("(function(){var r=document.querySelector(%r)"
                ".getBoundingClientRect();return [r.left+r.width/2,"
                "r.top+r.height/2]})()" % selector)
    b.mouse("mousePressed", x, y, button="left", clickCount=1)
    b.mouse("mouseReleased", x, y, button="left", clickCount=1)


@test
def html_overview_counts_and_narrows_the_lanes():
    with TraceDir() as t:
        page, js = make_page(t, ["echo", "close_wait", "backlog", "refused",
                                 "rst_close"])
        conns = connections(js)
        t0 = min(c["ts"] for c in js["call"])
        b = Browser("file://" + page, t.path)
        try:
            # opened and closed per interval, as the bars say on hover
            bin_ns = int(b.js("document.getElementById('ov-conns')"
                              ".dataset.bin"))
            bars = b.js("Array.prototype.map.call(document.querySelectorAll("
                        "'#ov-conns .hit'), function(e){return [+e.dataset"
                        ".col, +e.dataset.opened, +e.dataset.closed]})")
            opened, closed = {}, {}
            for c in conns:
                k = (c["open"] - t0) // bin_ns
                opened[k] = opened.get(k, 0) + 1
                if c["close"] is not None:
                    k = (c["close"] - t0) // bin_ns
                    closed[k] = closed.get(k, 0) + 1
            got_o = {k: o for k, o, _ in bars if o}
            got_c = {k: n for k, _, n in bars if n}
            check(got_o == opened and got_c == closed,
                  f"per {bin_ns} ns: opened {got_o} closed {got_c}; "
                  f"view --json: {opened} {closed}")
            # the connect histogram, bar by bar
            want = {}
            for c in js["conn"]:
                if c["connect_ns"] is not None:
                    r = latency_row(c["connect_ns"])
                    want[r] = want.get(r, 0) + 1
            hist = b.js("Array.prototype.map.call(document.querySelectorAll("
                        "'#ov-hist .hit'), function(e){return [+e.dataset"
                        ".row, +e.dataset.n]})")
            check({r: n for r, n in hist if n} == want,
                  f"connect histogram {hist}, view --json {want}")
            # who closed first
            who = {}
            for c in conns:
                e = c["ends"][0]
                k = {"both": "both", None: "unknown"}.get(e["closed_by"])
                if not k:
                    mine = (e["closed_by"] == "local") != \
                        (e["role"] == "server")
                    k = "client" if mine else "server"
                who[k] = who.get(k, 0) + 1
            got = b.js("(function(){var o={};document.querySelectorAll("
                       "'#ov-closer [data-key]').forEach(function(e){o[e."
                       "dataset.key]=+e.dataset.n});return o})()")
            check(got == who, f"who closed first {got}, view --json {who}")

            # click the slowest connect's bar: its lanes, and only those
            slow = max(want)
            click_at(b, f"#ov-hist .hit[data-row='{slow}']")
            left, count = lanes_left(b)
            expect = {frozenset(c["ids"]) for c in conns
                      if any(e["connect_ns"] is not None and
                             latency_row(e["connect_ns"]) == slow
                             for e in c["ends"])}
            check(left == expect and f"showing {len(expect)} of" in count,
                  f"bar {slow}: lanes {left} ({count}), want {expect}")
            check("Lanes narrowed to connect" in
                  b.js("document.getElementById('ov-pick').textContent"),
                  "the page says what the lanes are narrowed to")

            # the heat map cell of the slowest connect: its lanes
            e = max((e for c in conns for e in c["ends"]
                     if e["connect_ns"] is not None),
                    key=lambda e: e["connect_ns"])
            col = (e["open_ts"] - t0) // bin_ns
            row = latency_row(e["connect_ns"])
            x, y = b.js("(function(c,r){var v=document.getElementById("
                        "'ov-heat'),b=v.getBoundingClientRect(),d=v.dataset,"
                        "n=d.hi-d.lo+1;return [b.left+(c+.5)*b.width/d.cols,"
                        "b.bottom-(r-d.lo+.5)*b.height/n]})(%d,%d)"
                        % (col, row))
            b.mouse("mousePressed", x, y, button="left", clickCount=1)
            b.mouse("mouseReleased", x, y, button="left", clickCount=1)
            left, count = lanes_left(b)
            expect = {frozenset(c["ids"]) for c in conns
                      if any(e["connect_ns"] is not None and
                             latency_row(e["connect_ns"]) == row and
                             (e["open_ts"] - t0) // bin_ns == col
                             for e in c["ends"])}
            print(f"  heat cell {col},{row}: {len(expect)} lanes")
            check(left == expect, f"heat cell {col},{row}: lanes {left}, "
                  f"want {expect}")

            # brush 30%..60% of the connections chart: the lanes open then
            x0, x1, y = b.js("(function(){var r=document.getElementById("
                             "'ov-conns').getBoundingClientRect();return "
                             "[r.left+r.width*0.3,r.left+r.width*0.6,"
                             "r.top+r.height/2]})()")
            before = b.js("document.getElementById('st-range').textContent")
            b.mouse("mousePressed", x0, y, button="left", clickCount=1)
            b.mouse("mouseMoved", (x0 + x1) / 2, y, button="left")
            b.mouse("mouseMoved", x1, y, button="left")
            b.mouse("mouseReleased", x1, y, button="left", clickCount=1)
            a, z = map(float, b.js("document.body.dataset.brush").split())
            left, count = lanes_left(b)
            expect = {frozenset(c["ids"]) for c in conns
                      if c["open"] - t0 <= z and
                      (c["close"] is None or c["close"] - t0 >= a)}
            check(expect and left == expect,
                  f"brushed {a:.0f}..{z:.0f} ns: lanes {left}, want "
                  f"{expect}")
            print(f"  {len(conns)} connections; connect bar {slow}: "
                  f"{len(want)} bars; brushed {(z - a) / 1e6:.1f} ms: "
                  f"{len(expect)} lanes")
            after = b.js("document.getElementById('st-range').textContent")
            check(after != before, f"the lanes zoom: {before} -> {after}")

            # an outlier: its connection's lane alone, selected
            out = b.js("document.querySelector('#ov-outliers tbody tr')"
                       ".dataset.conn")
            click_at(b, "#ov-outliers tbody tr td")
            left, count = lanes_left(b)
            sel = b.js("Array.prototype.map.call(document.querySelectorAll("
                       "'.lane.sel'), function(e){return e.dataset.conn})")
            check(len(left) == 1 and out in list(left)[0] and
                  len(sel) == 1 and out in sel[0].split(),
                  f"outlier {out}: lanes {left}, selected {sel}")
            # "show all" gives every lane back
            click_at(b, "#ov-pick-clear")
            left, count = lanes_left(b)
            check(not count.startswith("showing"), f"all again: {count}")
            check(b.js("document.body.dataset.error || ''") == "",
                  "no script error")
        finally:
            b.close()


@test
def html_overview_past_the_size_budget():
    gen = os.path.join(BUILD, "tests/bench/gen_trace")
    check(os.path.exists(gen), f"{gen} is missing: run 'make test'")
    with TraceDir() as t:
        os.makedirs(t.dir)
        n = 16000  # about 48 MiB of lanes: past the 40 MiB budget
        rc, out, err = run([gen, t.dir, str(n)])
        check(rc == 0, f"gen_trace: {err}")
        page = os.path.join(t.path, "big.html")
        rc, out, err = run([VIEWER, "view", "--html", page, t.dir])
        check(rc == 0 and "past the HTML size budget (40 MiB)" in err and
              f"of {n:,} connections" in err, f"view --html says: {err}")
        check(os.path.getsize(page) < 44 << 20,
              f"the file stays near its budget: {os.path.getsize(page)}")
        tree = chromium(page, t.path)
        note = tree.find(lambda n: n.attrs.get("id") == "ov-budget")[0]
        check("hidden" not in note.attrs and "size budget" in note.text()
              and f"all {n} connections" in note.text(),
              f"the page says it: {note.text()!r}")
        # the overview still counts every connection, the lanes fewer
        hits = tree.find(lambda x: "hit" in x.cls() and
                         "data-opened" in x.attrs)
        total = sum(int(h.attrs["data-opened"]) for h in hits)
        check(total == n, f"the overview counts {total} opened, not {n}")
        count = tree.find(lambda x: x.attrs.get("id") == "st-count")[0]
        kept = int(count.text().split()[0])
        check(1000 < kept < n, f"lanes kept: {count.text()}")
        head = tree.find(lambda x: x.attrs.get("id") == "st-summary")[0]
        check(head.text().startswith(f"{n} connections, {kept - 1} with "
                                     f"timelines"),
              f"the summary counts all, and the lanes: {head.text()}")
