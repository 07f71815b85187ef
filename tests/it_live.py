# SPDX-License-Identifier: MIT
# Integration tests of socktrace live, driven as a person would use it:
# in a detached 80x24 tmux session (send-keys to type, capture-pane to
# read the screen) while examples/echo_server runs.  Run by
# integration.py in its namespace; start_echo, hold, stop_proc and echo
# come from it_attach.py, loaded before this file.
import itertools
import math

_TMUX_IDS = itertools.count()
PANES = ("LISTENERS", "CONNECTIONS", "CLOSES", "FINDINGS")


class Tmux:
    """A tmux server of its own with one detached 80x24 session running
    the shell line CMD; the pane stays after CMD ends."""

    def __init__(self, cmd, width=80, height=24):
        self.sock = f"st-live-{os.getpid()}-{next(_TMUX_IDS)}"
        self.env = base_env()
        self.env["TERM"] = "xterm"
        self.tmux("new-session", "-d", "-x", str(width), "-y", str(height),
                  f"{cmd}; echo \"live exited $?\"; exec sleep 600")

    def tmux(self, *args):
        p = subprocess.run(["tmux", "-L", self.sock, "-f", "/dev/null"]
                           + list(args), capture_output=True, env=self.env,
                           timeout=30)
        check(p.returncode == 0,
              f"tmux {' '.join(args)}: {p.stderr.decode(errors='replace')}")
        return p.stdout.decode(errors="replace")

    def screen(self):
        return self.tmux("capture-pane", "-p")

    def keys(self, *keys):
        self.tmux("send-keys", *keys)

    def fmt(self, f):
        return self.tmux("display-message", "-p", f).strip()

    def wait(self, pred, what, timeout=20):
        """Polls the screen until PRED(screen) holds; returns the screen."""
        end = time.time() + timeout
        while True:
            s = self.screen()
            if pred(s):
                return s
            check(time.time() < end, f"{what}: never shown; the screen:\n{s}")
            time.sleep(0.1)

    def viewer_pid(self):
        """The socktrace process: the child of the pane's shell."""
        sh = self.fmt("#{pane_pid}")
        with open(f"/proc/{sh}/task/{sh}/children") as f:
            kids = f.read().split()
        check(len(kids) == 1, f"one process under the pane's shell: {kids}")
        return int(kids[0])

    def close(self):
        subprocess.run(["tmux", "-L", self.sock, "kill-server"],
                       capture_output=True, env=self.env, timeout=30)


def panes(screen):
    """The screen's lines by pane: 'header' (the first line), each pane's
    rows under its name, 'footer' (the last line)."""
    lines = screen.rstrip("\n").split("\n")
    out = {"header": lines[:1], "footer": lines[-1:]}
    cur = None
    for line in lines[1:-1]:
        word = line.split(" ", 1)[0]
        if word in PANES:
            cur = word
            out[cur] = []
        elif cur:
            out[cur].append(line)
    return out


def rows(screen, pane, text):
    """Rows of PANE holding TEXT."""
    return [r for r in panes(screen).get(pane, []) if text in r]


def restored(tm, how):
    """After the viewer ended (HOW): its exit status 0 on the screen the
    shell had, the terminal out of the alternate screen, the cursor on."""
    s = tm.wait(lambda s: "live exited" in s, f"the shell after {how}")
    check("live exited 0" in s, f"live exits 0 on {how}: {s}")
    check(not any(p in s for p in PANES),
          f"nothing of the view is left after {how}: {s}")
    check(tm.fmt("#{alternate_on}") == "0",
          f"the terminal is out of the alternate screen after {how}")
    check(tm.fmt("#{cursor_flag}") == "1",
          f"the cursor is visible again after {how}")


def heading(screen, pane):
    """The heading line of PANE ('' if not shown), without trailing
    blanks."""
    for line in screen.split("\n"):
        if line.startswith(pane + " "):
            return line.rstrip()
    return ""


def port_of(sock):
    return sock.getsockname()[1]


@test
def live_dir_follows_echo_server_in_tmux():
    with TraceDir() as t:
        srv, port = start_echo(trace=t.dir)
        tm = Tmux(f"{VIEWER} live {t.dir}")
        held = []
        try:
            lis = f"127.0.0.1:{port}"
            s = tm.wait(lambda s: rows(s, "LISTENERS", lis),
                        "the echo server's listener")
            r = rows(s, "LISTENERS", lis)[0]
            check("echo_server[" in r and " 64/" in r,
                  f"the listener's process and backlog 64: {r}")
            check(t.dir in panes(s)["header"][0],
                  f"the header names the directory: {s}")

            # a new connection, held open: ESTABLISHED, with its port
            a = hold(port)
            held.append(a)
            pa = f":{port_of(a)}"
            s = tm.wait(lambda s: [r for r in rows(s, "CONNECTIONS", pa)
                                   if "ESTABLISHED" in r],
                        f"the new connection {pa} ESTABLISHED")
            r = rows(s, "CONNECTIONS", pa)[0]
            check(r.startswith(lis) and "echo_" in r,
                  f"the server end, on the listener's address: {r}")
            check(not rows(s, "CLOSES", pa), "not closed yet")

            # a second one; the keys: s sorts, / filters
            b = hold(port)
            held.append(b)
            pb = f":{port_of(b)}"
            s = tm.wait(lambda s: rows(s, "CONNECTIONS", pb),
                        "the second connection")
            check("sort:age" in panes(s)["header"][0],
                  f"sorted by age at first: {s}")
            tm.keys("s")
            tm.wait(lambda s: "sort:bytes" in panes(s)["header"][0],
                    "s: the sort by bytes")
            tm.keys("/")
            tm.keys("-l", str(port_of(a)))
            tm.keys("Enter")
            s = tm.wait(lambda s: not rows(s, "CONNECTIONS", pb),
                        f"the filter {pa} hiding {pb}")
            check(rows(s, "CONNECTIONS", pa),
                  f"the filter keeps the connection it names: {s}")
            check(f"filter:{port_of(a)}" in panes(s)["header"][0],
                  f"the header shows the filter: {s}")
            tm.keys("/", "Escape")  # the same filter, kept
            tm.keys("/", "BSpace", "BSpace", "BSpace", "BSpace", "BSpace",
                    "Enter")
            s = tm.wait(lambda s: rows(s, "CONNECTIONS", pb),
                        "the filter cleared: both connections again")

            # closed: it leaves the open connections for the closes
            a.close()
            held.remove(a)
            s = tm.wait(lambda s: rows(s, "CLOSES", pa) and
                        not rows(s, "CONNECTIONS", pa),
                        f"{pa} moved to the recent closes")
            r = rows(s, "CLOSES", pa)[0]
            check("CLOSED" in r and "peer" in r,
                  f"the server end closed, the peer (client) first: {r}")
            check(rows(s, "CONNECTIONS", pb), "the other is still open")

            tm.keys("q")
            restored(tm, "q")
        finally:
            for c in held:
                c.close()
            tm.close()
            stop_proc(srv)


@test
def live_attach_unpreloaded_echo_server_in_tmux():
    with TraceDir() as t:
        os.makedirs(t.dir, mode=0o700)
        srv, port = start_echo()
        held = []
        tm = None
        try:
            before = hold(port)
            held.append(before)
            tm = Tmux(f"{VIEWER} live -o {t.dir} --attach {srv.pid}")
            lis = f"127.0.0.1:{port}"
            s = tm.wait(lambda s: rows(s, "LISTENERS", lis),
                        "the listener found by attach")
            # open before the attach: shown with its age since then
            pb = f":{port_of(before)}"
            s = tm.wait(lambda s: rows(s, "CONNECTIONS", pb),
                        "the connection open before the attach")
            r = rows(s, "CONNECTIONS", pb)[0]
            check("ESTABLISHED" in r and " >" in r,
                  f"open before: ESTABLISHED, age marked '>': {r}")
            # the accept the server was blocked in returns unseen: one
            # request goes first, then a new connection is followed
            check(echo(port, 1) == 1, "a request answered under attach")
            a = hold(port)
            held.append(a)
            pa = f":{port_of(a)}"
            s = tm.wait(lambda s: [r for r in rows(s, "CONNECTIONS", pa)
                                   if "ESTABLISHED" in r],
                        f"the new connection {pa} ESTABLISHED")
            r = rows(s, "CONNECTIONS", pa)[0]
            # the server's last call: the write of the echo (at 80
            # columns the call's name is cut to fit how long ago)
            check(" wri" in r, f"its last call is shown: {r}")
            tm.keys("C-c")
            restored(tm, "Ctrl-C")
            # like attach: recording stops in the process when live ends
            _, calls = dump(t.dir)
            check(calls, "live's attach recorded the calls")
            check(echo(port, 3) == 3, "answered after live ended")
            _, after = dump(t.dir)
            check(len(after) == len(calls),
                  f"nothing recorded after live ended: {len(calls)} -> "
                  f"{len(after)}")
        finally:
            for c in held:
                c.close()
            if tm:
                tm.close()
            stop_proc(srv)


@test
def live_sigterm_resize_and_errors():
    with TraceDir() as t:
        os.makedirs(t.dir, mode=0o700)
        # an empty directory: live waits for trace files, and takes a
        # process started later
        tm = Tmux(f"{VIEWER} live {t.dir}")
        srv = None
        try:
            tm.wait(lambda s: "LISTENERS 0" in s, "an empty view")
            srv, port = start_echo(trace=t.dir)
            tm.wait(lambda s: rows(s, "LISTENERS", f"127.0.0.1:{port}"),
                    "a process started later, followed")
            # wider and taller: the panes follow the terminal's size
            tm.tmux("resize-window", "-x", "132", "-y", "40")
            s = tm.wait(lambda s: len(heading(s, "CONNECTIONS")) > 80,
                        "the columns widened at 132 columns")
            lines = s.rstrip("\n").split("\n")
            check(len(lines) == 40 and lines[-1].startswith("q quit"),
                  f"the keys on the last of 40 lines: {s}")
            check(rows(s, "LISTENERS", f"127.0.0.1:{port}"),
                  "the listener still shown after the resize")
            os.kill(tm.viewer_pid(), signal.SIGTERM)
            restored(tm, "SIGTERM")
        finally:
            tm.close()
            if srv:
                stop_proc(srv)

        # not a terminal: refused with what to use instead
        rc, out, err = run([VIEWER, "live", t.dir])
        check(rc == 2 and "not a terminal" in err and "attach" in err and
              "view --json" in err, f"live without a terminal: {rc} {err}")
        for args, code, says in (
                (["--sort", "size"], 2, "--sort"),
                (["--attach"], 2, "process ids"),
                (["--attach", "x1"], 2, "not a process id"),
                (["--children", t.dir], 2, "--attach"),
                ([t.dir, t.dir], 2, "one directory"),
                (["--bogus"], 2, "usage")):
            rc, out, err = run([VIEWER, "live"] + args)
            check(rc == code and says in err,
                  f"live {args}: exit {rc}, {err}")
        rc, out, err = run([VIEWER, "live", "--help"])
        check(rc == 0 and "--attach" in out, f"live --help: {rc} {out}")

    # errors that need a terminal to be reached: a missing directory, a
    # process that does not exist; said on the restored terminal
    missing = "/nonexistent/socktrace-live"
    for cmd, says in ((f"{VIEWER} live {missing}", "no such directory"),
                      (f"{VIEWER} live --attach 999999999",
                       "no such process")):
        tm = Tmux(f"{cmd} 2>&1")
        try:
            s = tm.wait(lambda s: "live exited" in s, f"'{cmd}' ending")
            check("live exited 1" in s and says in s,
                  f"'{cmd}': exit 1 saying '{says}': {s}")
        finally:
            tm.close()


FORGETFUL = """
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
while c.recv(100):
    pass
time.sleep(600)  # EOF read, never closed: CLOSE_WAIT
"""


@test
def live_findings_as_they_appear():
    """A server that reads EOF and never closes: its connection shows in
    CLOSE_WAIT with a finding that holds now; killed, the connection
    moves to the closes and the finding stays."""
    with TraceDir() as t:
        env = base_env()
        env.update(SOCKTRACE_DIR=t.dir, LD_PRELOAD=LIB)
        srv = subprocess.Popen([sys.executable, "-c", FORGETFUL], env=env,
                               stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
        tm = None
        try:
            port = int(srv.stdout.readline())
            tm = Tmux(f"{VIEWER} live {t.dir}")
            tm.wait(lambda s: rows(s, "LISTENERS", f"127.0.0.1:{port}"),
                    "the forgetful server's listener")
            c = socket.create_connection(("127.0.0.1", port), 10)
            pc = f":{port_of(c)}"
            c.close()
            s = tm.wait(lambda s: [r for r in rows(s, "CONNECTIONS", pc)
                                   if "CLOSE_WAIT" in r],
                        f"{pc} in CLOSE_WAIT")
            s = tm.wait(lambda s: rows(s, "FINDINGS", "now close_wait"),
                        "the CLOSE_WAIT finding while it lasts")
            # a finding wraps over up to 3 lines: read them as one text
            text = " ".join(" ".join(panes(s).get("FINDINGS", [])).split())
            check("has not closed it" in text,
                  f"the finding says it is not closed yet: {s}")
            srv.kill()
            srv.wait()
            s = tm.wait(lambda s: rows(s, "CLOSES", pc) and
                        not rows(s, "CONNECTIONS", pc),
                        "the killed server's connection in the closes")
            check("killed" in rows(s, "CLOSES", pc)[0],
                  f"ended by the process's death: {s}")
            s = tm.wait(lambda s: [r for r in rows(s, "FINDINGS",
                                                   "close_wait:")
                                   if not r.startswith("now")],
                        "the CLOSE_WAIT finding kept after the end")
            check(not rows(s, "FINDINGS", "now close_wait"),
                  f"no longer a finding of now: {s}")
            tm.keys("q")
            restored(tm, "q")
        finally:
            if tm:
                tm.close()
            stop_proc(srv)


# A server that waits DELAY before each accept, then reads each
# connection to its EOF and never closes one: CLOSE_WAIT for all.  It
# prints, per accept, the monotonic clock before and after the call.
SLOW_ACCEPT = """
import socket, sys, time
n, delay = int(sys.argv[1]), float(sys.argv[2])
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(64)
print(s.getsockname()[1], flush=True)
conns = []
for i in range(n):
    time.sleep(delay)
    b = time.monotonic()
    c, _ = s.accept()
    a = time.monotonic()
    conns.append(c)
    print(b, a, flush=True)
for c in conns:
    while c.recv(100):
        pass
print("eof", flush=True)
time.sleep(600)
"""

# A client that makes N connections at once, prints the monotonic clock
# before and after each connect, and closes them all on a line of stdin.
CONNECTOR = """
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
held = []
for i in range(n):
    c = socket.socket()
    b = time.monotonic()
    c.connect(("127.0.0.1", port))
    a = time.monotonic()
    held.append(c)
    print(b, a, flush=True)
sys.stdin.readline()
for c in held:
    c.close()
print("closed", flush=True)
sys.stdin.readline()
"""

DUR_UNIT = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def dur_s(num, unit):
    """A duration as st_fmt_dur prints it, in seconds, and the half unit
    of its last digit (what the printing may have rounded away)."""
    dec = len(num.split(".")[1]) if "." in num else 0
    return float(num) * DUR_UNIT[unit], 0.5 * 10 ** -dec * DUR_UNIT[unit]


def rates(screen):
    """The last-10-s figures under the first line: conns, rate per s,
    and for 'connect' and 'accept wait' (p50, p99) in seconds with the
    rounding slack each, or None when not shown."""
    lines = screen.split("\n")
    text = " ".join(lines[1:3])
    m = re.search(r"last 10s: ([\d,]+) conns?, ([\d.]+)/s", text)
    if not m:
        return None
    out = {"conns": int(m.group(1).replace(",", "")),
           "rate": float(m.group(2))}
    for key in ("connect", "accept wait"):
        m = re.search(key + r" p50 ([\d.]+) (\w+) p99 ([\d.]+) (\w+)", text)
        out[key] = ((dur_s(m.group(1), m.group(2)),
                     dur_s(m.group(3), m.group(4))) if m else None)
    return out


def nearest_rank(values, p):
    v = sorted(values)
    return v[max(1, math.ceil(p / 100 * len(v))) - 1]


def within(shown, lo, hi, what):
    """SHOWN (value, rounding) lies in [LO, HI], widened by the
    histogram's 1% and the printing's rounding."""
    v, r = shown
    check(lo * 0.99 - r <= v <= hi * 1.01 + r,
          f"{what}: {v:.6f} s shown, the test measured it in "
          f"[{lo:.6f}, {hi:.6f}] s")


@test
def live_rates_and_grouped_findings():
    """N connections, traced at both ends, to a server that waits DELAY
    before each accept and leaves them all in CLOSE_WAIT: the header
    counts N in the last 10 s, at a rate, connect and accept-queue
    percentiles within what the test measured around the calls; the
    findings pane has one close_wait line xN; 10 s on, the window is
    empty and the findings stay."""
    n, delay = 6, 0.1
    with TraceDir() as t:
        env = base_env()
        env.update(SOCKTRACE_DIR=t.dir, LD_PRELOAD=LIB)
        srv = subprocess.Popen([sys.executable, "-c", SLOW_ACCEPT, str(n),
                                str(delay)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
        cli = tm = None
        try:
            port = int(srv.stdout.readline())
            started = time.monotonic()
            tm = Tmux(f"{VIEWER} live {t.dir}")
            s = tm.wait(lambda s: rows(s, "LISTENERS", f"127.0.0.1:{port}"),
                        "the slow server's listener")
            r = rates(s)
            check(r and r["conns"] == 0 and r["connect"] is None and
                  r["accept wait"] is None,
                  f"nothing in the last 10 s before any connection: {s}")
            cli = subprocess.Popen([sys.executable, "-c", CONNECTOR,
                                    str(port), str(n)], env=env,
                                   stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, text=True)
            conn = [tuple(map(float, cli.stdout.readline().split()))
                    for _ in range(n)]
            acc = [tuple(map(float, srv.stdout.readline().split()))
                   for _ in range(n)]
            # every end is joined once the server accepted them all;
            # closed by the client, the server ends stay in CLOSE_WAIT
            cli.stdin.write("\n")
            cli.stdin.flush()
            check(cli.stdout.readline().strip() == "closed",
                  "the client closed its connections")
            check(srv.stdout.readline().strip() == "eof",
                  "the server read every EOF")

            def grouped(s):
                return [x for x in rows(s, "FINDINGS", "close_wait")
                        if re.match(r"now close_wait: x\d+ ", x)]
            s = tm.wait(grouped, "the grouped CLOSE_WAIT finding")
            seen = time.monotonic()
            g = grouped(s)
            check(len(g) == 1 and g[0].startswith(f"now close_wait: x{n} ")
                  and f":{port}" in g[0],
                  f"one close_wait line x{n}, on the server's port: {s}")
            check(len(rows(s, "FINDINGS", "close_wait:")) == 1,
                  f"no other close_wait line: {s}")
            r = rates(s)
            # counted at the connects and accepts; the window keeps
            # them for 9 s at least
            if seen - conn[0][0] >= 9:
                print("  (too slow to check the last 10 s: "
                      f"{seen - conn[0][0]:.1f} s since the connects)",
                      file=sys.stderr)
            else:
                check(r["conns"] == n,
                      f"{n} connections in the last 10 s: {r} {s}")
                # the rate is over at most 10 s and at most since live
                # began; at least from the first connection counted (at
                # its connect or accept) to the last
                lo = n / min(10, seen - started)
                hi = n / max(0.1, conn[-1][0] - acc[0][1])
                check(lo - 0.05 <= r["rate"] <= hi + 0.05,
                      f"the rate {r['rate']}/s within [{lo}, {hi}]: {s}")
                # a connect lasted at most from before to after its call
                spans = [a - b for b, a in conn]
                within(r["connect"][0], 0, nearest_rank(spans, 50),
                       "connect p50")
                within(r["connect"][1], 0, nearest_rank(spans, 99),
                       "connect p99")
                # queued from the connect's return to the accept's
                lo = [ab - ca for (cb, ca), (ab, aa) in zip(conn, acc)]
                hi = [aa - cb for (cb, ca), (ab, aa) in zip(conn, acc)]
                for p, k in ((50, 0), (99, 1)):
                    within(r["accept wait"][k], nearest_rank(lo, p),
                           nearest_rank(hi, p), f"accept wait p{p}")
                check(nearest_rank(lo, 99) >= (n - 1) * delay * 0.9,
                      f"the test's own delay shows in its bounds: {lo}")

            # the window slides: each figure leaves it 10 s after the
            # second it was counted in (a connect's, an accept's), never
            # before 9 s after the first connect
            s = tm.wait(lambda s: rates(s) and rates(s)["conns"] == 0 and
                        rates(s)["connect"] is None and
                        rates(s)["accept wait"] is None,
                        "the last 10 s empty again", timeout=40)
            check(time.monotonic() - conn[0][0] >= 9,
                  "the connections left the window after 9 s at least")
            check(grouped(s) and grouped(s)[0].startswith(
                  f"now close_wait: x{n} "),
                  f"the findings are not windowed: {s}")

            # the server ends: the group is of ended connections now
            srv.kill()
            srv.wait()
            s = tm.wait(lambda s: rows(s, "FINDINGS", f"close_wait: x{n} ")
                        and not grouped(s),
                        "the CLOSE_WAIT group after the server's death")
            check(len(rows(s, "FINDINGS", "close_wait:")) == 1,
                  f"still one close_wait line: {s}")
            tm.keys("q")
            restored(tm, "q")
        finally:
            if tm:
                tm.close()
            if cli:
                stop_proc(cli)
            stop_proc(srv)
