# SPDX-License-Identifier: MIT
# Integration tests of socktrace attach and detach: servers already
# running, with the preload and without it.  Run by integration.py, in
# its namespace (test, check, run, dump, TraceDir, free_port, ...).
import threading

ECHO_SERVER = os.path.join(EXAMPLES, "echo_server")
HELLO = os.path.join(BUILD, "tests/progs/hello")
STATIC_HELLO = os.path.join(BUILD, "tests/progs/static_hello")
GO_HELLO = os.path.join(BUILD, "tests/progs/go_hello")


class Attach:
    """'socktrace attach ARGS' running in the background; stop() sends
    Ctrl-C (SIGINT) and returns (exit status, lines by type, stderr)."""

    def __init__(self, args, env=None, wait=1, prefix=()):
        e = base_env()
        e.update(env or {})
        self.p = subprocess.Popen(list(prefix) + [VIEWER, "attach"] + args,
                                  stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=e)
        self.out, self.err = [], []
        self.lock = threading.Condition()
        self.threads = [threading.Thread(target=self._read, args=(f, l))
                        for f, l in ((self.p.stdout, self.out),
                                     (self.p.stderr, self.err))]
        for t in self.threads:
            t.start()
        if wait:
            self.wait_for("attached to", wait)

    def _read(self, f, into):
        for line in f:
            with self.lock:
                into.append(line.decode(errors="replace"))
                self.lock.notify_all()

    def stderr(self):
        with self.lock:
            return "".join(self.err)

    def wait_for(self, text, count=1, timeout=60):
        """Waits until stderr says TEXT COUNT times (or the viewer ends)."""
        end = time.time() + timeout
        with self.lock:
            while sum(text in x for x in self.err) < count:
                if self.p.poll() is not None and \
                        not any(t.is_alive() for t in self.threads):
                    raise Fail(f"attach ended: {''.join(self.err)}")
                left = end - time.time()
                check(left > 0, f"attach never said '{text}': "
                      f"{''.join(self.err)}")
                self.lock.wait(min(left, 0.5))

    def wait_closed(self, n, timeout=60):
        """Waits until N new server connections were printed as closed
        (--json prints a connection when it closes): the server has
        finished with them, so stopping now loses none of their calls."""
        def closed():
            k = 0
            for line in self.out:
                if line.startswith('{"type":"conn"'):
                    o = json.loads(line)
                    k += o["role"] == "server" and not o["before_attach"] \
                        and o["end"] == "closed"
            return k
        end = time.time() + timeout
        with self.lock:
            while closed() < n:
                left = end - time.time()
                check(left > 0 and self.p.poll() is None,
                      f"{n} closed connections never shown: "
                      f"{''.join(self.err)}")
                self.lock.wait(min(left, 0.5))

    def stop(self, sig=signal.SIGINT):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        return self.finish()

    def finish(self, timeout=60):
        try:
            self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise Fail("attach did not stop")
        for t in self.threads:
            t.join()
        by = {"process": [], "call": [], "conn": [], "finding": []}
        text = []
        for line in self.out:
            if line.startswith("{"):
                o = json.loads(line)
                by.setdefault(o["type"], []).append(o)
            else:
                text.append(line)
        by["text"] = "".join(text)
        return self.p.returncode, by, "".join(self.err)


def echo(port, n, tag=b"req"):
    """N connections to the echo server, one message each; how many
    were answered correctly."""
    ok = 0
    for i in range(n):
        try:
            with socket.create_connection(("127.0.0.1", port), 10) as c:
                msg = tag + b"-%d" % i
                c.sendall(msg)
                got = b""
                while len(got) < len(msg):
                    d = c.recv(100)
                    if not d:
                        break
                    got += d
                ok += got == msg
        except OSError:
            pass
    return ok


def hold(port):
    """A connection to the echo server, open and used once."""
    c = socket.create_connection(("127.0.0.1", port), 10)
    c.sendall(b"held")
    check(c.recv(10) == b"held", "the held connection is answered")
    return c


def start_echo(trace=None):
    port = free_port()
    env = base_env()
    if trace:
        env.update(SOCKTRACE_DIR=trace, LD_PRELOAD=LIB)
    srv = subprocess.Popen([ECHO_SERVER, str(port)], env=env,
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    wait_port(port, srv)
    return srv, port


def stop_proc(p):
    if p.poll() is None:
        p.kill()
    p.wait()


def new_servers(by, n, port):
    """The server ends made after the attach: N of them, each answered
    (bytes in == bytes out), closed, on PORT."""
    srv = [c for c in by["conn"] if c["role"] == "server"
           and not c["before_attach"]]
    check(len(srv) == n, f"{n} new connections: {len(srv)} {srv}")
    for c in srv:
        check(c["local"] == f"127.0.0.1:{port}" and c["end"] == "closed"
              and c["bytes_in"] == c["bytes_out"] > 0
              and c["states"][-1][0] == "CLOSED",
              f"a new connection, answered and closed: {c}")
    return srv


def before(by, held, port):
    """The connection held open across the attach, and the listener:
    both shown as opened before attach."""
    local, peer = held.getpeername(), held.getsockname()
    mine = [c for c in by["conn"]
            if c["peer"] == f"{peer[0]}:{peer[1]}"]
    check(len(mine) == 1, f"the held connection appears once: {mine}")
    h = mine[0]
    check(h["before_attach"] and h["role"] == "server" and
          h["local"] == f"{local[0]}:{local[1]}" and h["end"] == "open" and
          h["states"][-1][0] == "ESTABLISHED",
          f"held connection: before attach, server, ESTABLISHED: {h}")
    lis = [c for c in by["conn"] if c["role"] == "listener"]
    check(len(lis) == 1 and lis[0]["before_attach"] and
          lis[0]["local"] == f"127.0.0.1:{port}" and
          lis[0]["states"][-1][0] == "LISTEN",
          f"the listener, opened before attach: {lis}")
    return h


@test
def attach_preloaded_follows_live():
    n = 5
    with TraceDir() as t:
        srv, port = start_echo(trace=t.dir)
        try:
            held = hold(port)
            # wait_port's probe connection: closed before the attach
            end = time.time() + 60
            while not calls_of(dump(t.dir)[1], "close"):
                check(time.time() < end, "the probe is never closed")
                time.sleep(0.05)
            a = Attach(["--json", str(srv.pid)])
            check(echo(port, n) == n, f"all {n} requests answered")
            a.wait_closed(n)
            rc, by, err = a.stop()
            check(rc == 0, f"attach exit {rc}: {err}")
            new_servers(by, n, port)
            h = before(by, held, port)
            # history is not shown: not the accept of the held
            # connection, nor wait_port's probe (closed before attach)
            check(not [c for c in by["call"] if c.get("conn2") == h["id"]],
                  "the held connection's accept (history) is not shown")
            check(len([c for c in by["conn"] if c["role"] == "server"])
                  == n + 1, "connections closed before attach not shown")
            check(len(by["process"]) == 1 and
                  by["process"][0]["pid"] == srv.pid, "one process line")

            # --history shows what was recorded before, accepts included
            a = Attach(["--json", "--history", str(srv.pid)])
            rc, by, err = a.stop()
            check(rc == 0, f"attach --history exit {rc}: {err}")
            acc = [c for c in by["call"] if c["call"] == "accept"]
            check(len(acc) == n + 2, f"--history: the probe's, the held "
                  f"one's and {n} accepts: {len(acc)}")
            check(any(c["conn2"] == h["id"] for c in acc),
                  "--history shows the held connection's accept")
            held.close()
        finally:
            stop_proc(srv)


@test
def attach_loads_library_detach_and_again():
    n = 5
    with TraceDir() as t:
        os.makedirs(t.dir, mode=0o700)
        srv, port = start_echo()
        try:
            held = hold(port)
            check(not os.listdir(t.dir), "not traced before attach")
            a = Attach(["--json", "-o", t.dir, str(srv.pid)])
            check("library loaded" in a.stderr(), "the library is loaded")
            check(echo(port, n) == n, f"all {n} requests answered")
            a.wait_closed(n)
            rc, by, err = a.stop()
            check(rc == 0, f"attach exit {rc}: {err}")
            srv_ends = new_servers(by, n, port)
            # the accept the main thread was blocked in when the library
            # arrived returns unseen; every later one is recorded
            with_accept = [c for c in srv_ends if not c["before_trace"]]
            check(len(with_accept) >= n - 1,
                  f"accepts recorded: {len(with_accept)} of {n}")
            for c in srv_ends:
                calls = [x["call"] for x in by["call"]
                         if x["conn"] == c["id"]]
                check(calls.count("read") == 2 and "write" in calls and
                      "close" in calls,
                      f"the connection's calls: read, write, EOF, close: "
                      f"{calls}")
            before(by, held, port)
            _, calls = dump(t.dir)
            recorded = len(calls)

            # the viewer stopped: still answered, nothing recorded
            check(echo(port, n) == n, "answered after the viewer stopped")
            _, calls = dump(t.dir)
            check(len(calls) == recorded,
                  f"no records after the viewer stopped: {recorded} -> "
                  f"{len(calls)}")
            rc, out, err = run([VIEWER, "detach", str(srv.pid)],
                               preload=False)
            check(rc == 0, f"detach exit {rc}: {err}")
            # a second detach: loaded by attach, but no longer attached
            rc, out, err = run([VIEWER, "detach", str(srv.pid)],
                               preload=False)
            check(rc == 1 and "not attached" in err and
                  "detached already" in err, f"second detach: {rc} {err}")
            check(echo(port, n) == n, "answered after detach")
            check(held.send(b"x") == 1 and held.recv(1) == b"x",
                  "the held connection still works")
            _, calls = dump(t.dir)
            check(len(calls) == recorded, "no records after detach")

            # attaching again works
            a = Attach(["--json", "-o", t.dir, str(srv.pid)])
            check(echo(port, 3) == 3, "answered, attached again")
            a.wait_closed(3)
            rc, by, err = a.stop()
            check(rc == 0, f"second attach exit {rc}: {err}")
            new_servers(by, 3, port)
            before(by, held, port)
            held.close()
            check(srv.poll() is None, "the server is still running")
        finally:
            stop_proc(srv)


@test
def attach_text_duration_and_exit():
    with TraceDir() as t:
        os.makedirs(t.dir, mode=0o700)
        srv, port = start_echo()
        try:
            # --duration ends it by itself; text timelines
            a = Attach(["--duration", "1", "--no-color", "-o", t.dir,
                        str(srv.pid)])
            check(echo(port, 2) == 2, "answered")
            rc, by, err = a.finish()
            check(rc == 0, f"attach --duration exit {rc}: {err}")
            check("tcp listener 127.0.0.1:%d" % port in by["text"] and
                  "(opened before attach)" in by["text"] and
                  "Findings" in by["text"],
                  f"text timelines: {by['text']}")
            # the process exiting ends it too: said once, and with
            # --verbose for the process itself
            a = Attach(["--no-color", "-o", t.dir, str(srv.pid)])
            srv.kill()
            srv.wait()
            rc, by, err = a.finish()
            check(rc == 0 and "every process followed has exited" in err
                  and f"process {srv.pid} exited" not in err,
                  f"attach ends when the process exits: {rc} {err}")
            srv, port = start_echo()
            a = Attach(["--verbose", "--no-color", "-o", t.dir,
                        str(srv.pid)])
            srv.kill()
            srv.wait()
            rc, by, err = a.finish()
            check(rc == 0 and f"process {srv.pid} exited" in err,
                  f"--verbose says which exited: {rc} {err}")
        finally:
            stop_proc(srv)


@test
def attach_errors_are_clear():
    def attach(args, env=None, user=None):
        argv = [VIEWER, "attach"] + args
        if user:
            argv = ["setpriv", "--reuid=65534", "--regid=65534",
                    "--clear-groups"] + argv
        return run(argv, env=env, preload=False)

    # usage
    rc, out, err = attach([])
    check(rc == 2 and "no process given" in err, f"no pid: {rc} {err}")
    rc, out, err = attach(["abc"])
    check(rc == 2 and "not a process id" in err, f"bad pid: {rc} {err}")
    rc, out, err = attach(["--duration", "x", "1"])
    check(rc == 2 and "--duration" in err, f"bad duration: {rc} {err}")
    # no such process: one that has been reaped
    p = subprocess.Popen(["true"])
    p.wait()
    rc, out, err = attach([str(p.pid)])
    check(rc == 1 and f"no such process: {p.pid}" in err,
          f"no such process: {rc} {err}")
    # exited, not reaped yet (a zombie)
    p = subprocess.Popen([HELLO], stdout=subprocess.PIPE)
    p.stdout.read()
    time.sleep(0.1)
    while st_state(p.pid) != "Z":
        time.sleep(0.05)
    rc, out, err = attach([str(p.pid)])
    p.wait()
    check(rc == 1 and "has exited" in err, f"zombie: {rc} {err}")
    # static and Go binaries: followed with ptrace, said with why; as
    # another user, refused as ptrace would be
    for exe, why in ((STATIC_HELLO, "statically linked"),
                     (GO_HELLO, "Go program")):
        p = subprocess.Popen([exe, "wait"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE)
        try:
            p.stdout.readline()
            with TraceDir() as t:
                rc, out, err = attach(["--duration", "0.5", "-o", t.dir,
                                       str(p.pid)])
            check(rc == 0 and why in err and "with ptrace" in err,
                  f"{exe}: {rc} {err}")
            rc, out, err = attach([str(p.pid)], user="nobody")
            check(rc == 1 and "permission denied" in err and
                  "as root" in err,
                  f"{exe} as another user: {rc} {err}")
            check(p.poll() is None, f"{exe} runs on")
        finally:
            p.stdin.close()
            p.wait()
    srv, port = start_echo()
    try:
        # another user's process
        rc, out, err = attach([str(srv.pid)], user="nobody")
        check(rc == 1 and "permission denied" in err and
              "as root" in err, f"another user's process: {rc} {err}")
        # the library cannot be found
        rc, out, err = attach([str(srv.pid)], env={
            "SOCKTRACE_LIB": "/nonexistent/libsocktrace.so"})
        check(rc == 1 and "SOCKTRACE_LIB=/nonexistent/libsocktrace.so"
              in err, f"library not found: {rc} {err}")
        check(echo(port, 2) == 2, "the server was not disturbed")
        # detach of a process that was never attached
        rc, out, err = run([VIEWER, "detach", str(srv.pid)], preload=False)
        check(rc == 1 and "not attached" in err, f"detach: {rc} {err}")
    finally:
        stop_proc(srv)
    # a process that exits during the attach: one that never waits in
    # a system call is waited for; it is killed meanwhile
    p = subprocess.Popen([HELLO, "spin"], stdout=subprocess.PIPE)
    try:
        p.stdout.readline()
        a = Attach([str(p.pid)], wait=0)
        a.wait_for("waiting for a thread")
        p.kill()
        rc, by, err = a.finish()
        check(rc == 1 and "exited during attach" in err,
              f"exit during attach: {rc} {err}")
    finally:
        stop_proc(p)
    # detach of a preloaded process: nothing to undo
    with TraceDir() as t:
        srv, port = start_echo(trace=t.dir)
        try:
            rc, out, err = run([VIEWER, "detach", str(srv.pid)],
                               preload=False)
            check(rc == 1 and "preloaded" in err, f"detach: {rc} {err}")
        finally:
            stop_proc(srv)


def st_state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return ""


@test
def attach_detach_loop_under_load():
    rounds = 50
    with TraceDir() as t:
        os.makedirs(t.dir, mode=0o700)
        srv, port = start_echo()
        stats = {"ok": 0, "failed": 0}
        done = threading.Event()

        def load():
            while not done.is_set():
                if echo(port, 1, b"load") == 1:
                    stats["ok"] += 1
                else:
                    stats["failed"] += 1
        workers = [threading.Thread(target=load) for _ in range(2)]
        try:
            for w in workers:
                w.start()
            recorded = 0
            for i in range(rounds):
                a = Attach(["--json", "-o", t.dir, str(srv.pid)])
                ok_before = stats["ok"]
                while stats["ok"] < ok_before + 2:
                    time.sleep(0.01)
                    check(srv.poll() is None, "the server died")
                rc, by, err = a.stop()
                check(rc == 0, f"round {i}: attach exit {rc}: {err}")
                recorded += len([c for c in by["conn"]
                                 if c["role"] == "server"
                                 and not c["before_attach"]])
                rc, out, err = run([VIEWER, "detach", str(srv.pid)],
                                   preload=False)
                check(rc == 0, f"round {i}: detach exit {rc}: {err}")
        finally:
            done.set()
            for w in workers:
                w.join()
            alive = srv.poll() is None
            stop_proc(srv)
        check(alive, "the server survived")
        check(stats["failed"] == 0,
              f"no failed request: {stats['failed']} of "
              f"{stats['ok'] + stats['failed']}")
        check(recorded >= 2 * rounds,
              f"each attach saw the load: {recorded} connections")


@test
def attach_nginx_tree_with_children():
    n = 8
    with TraceDir() as t:
        d = t.path
        body = "".join(f"line {i}\n" for i in range(2000))
        argv, port = nginx_site(d, {"page.txt": body})
        ng = subprocess.Popen(argv, env=base_env(),
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        files = []
        url = f"http://127.0.0.1:{port}/page.txt"
        try:
            wait_port(port, ng)
            workers = []
            while len(workers) < 2:
                workers = [int(p) for p in os.listdir("/proc")
                           if p.isdigit() and
                           st_ppid(int(p)) == ng.pid]
                time.sleep(0.05)
            # one full request first: wait_port's probe, queued before
            # it, has been accepted before the attach
            rc, out, err = run(["curl", "-sS", url], preload=False)
            check(rc == 0 and out == body, f"curl gets the page: {err}")
            # the workers are nobody: their files go to their own dir
            a = Attach(["--json", "--children", str(ng.pid)], wait=3)
            for _ in range(n):
                rc, out, err = run(["curl", "-sS", url], preload=False)
                check(rc == 0 and out == body, f"curl gets the page: {err}")
            a.wait_closed(n)
            rc, by, err = a.stop()
            files = [p["file"] for p in by["process"]]
            check(rc == 0, f"attach exit {rc}: {err}")
            pids = {p["pid"] for p in by["process"]}
            check(pids == {ng.pid} | set(workers),
                  f"master and both workers followed: {by['process']}")
            srv = [c for c in by["conn"] if c["role"] == "server"
                   and not c["before_attach"]]
            check(len(srv) == n and all(c["pid"] in workers for c in srv),
                  f"{n} connections, in the workers: {srv}")
            for c in srv:
                check(c["bytes_out"] > len(body) and c["bytes_in"] > 0 and
                      c["end"] == "closed", f"a served request: {c}")
            lis = [c for c in by["conn"] if c["role"] == "listener"]
            check({c["pid"] for c in lis} == pids and
                  all(c["before_attach"] and
                      c["local"] == f"127.0.0.1:{port}" for c in lis),
                  f"the listener, open before attach in each: {lis}")
            rc, out, err = run([VIEWER, "detach"] +
                               [str(p) for p in sorted(pids)],
                               preload=False)
            check(rc == 0, f"detach exit {rc}: {err}")
            for _ in range(3):
                rc, out, err = run(["curl", "-sS", url], preload=False)
                check(rc == 0 and out == body, f"curl after detach: {err}")
        finally:
            ng.send_signal(signal.SIGQUIT)
            try:
                ng.wait(20)
            except subprocess.TimeoutExpired:
                ng.kill()
                ng.wait()
            for f in files:  # they went to the default directories
                try:
                    os.unlink(f)
                except OSError:
                    pass


def st_ppid(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


@test
def attach_python_http_server():
    with TraceDir() as t:
        os.makedirs(t.dir, mode=0o700)
        www = os.path.join(t.path, "www")
        os.mkdir(www)
        body = "hello from socktrace\n" * 100
        with open(os.path.join(www, "hello.txt"), "w") as f:
            f.write(body)
        port = free_port()
        srv = subprocess.Popen(
            ["python3", "-m", "http.server", str(port), "--bind",
             "127.0.0.1", "--directory", www], env=base_env(),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}/hello.txt"
        try:
            wait_port(port, srv)
            # as with nginx: the probe is accepted before the attach
            rc, out, err = run(["curl", "-sS", url], preload=False)
            check(rc == 0 and out == body, f"curl: {err}")
            a = Attach(["--json", "-o", t.dir, str(srv.pid)])
            for _ in range(3):
                rc, out, err = run(["curl", "-sS", url], preload=False)
                check(rc == 0 and out == body, f"curl: {err}")
            a.wait_closed(3)
            rc, by, err = a.stop()
            check(rc == 0, f"attach exit {rc}: {err}")
            srv_ends = [c for c in by["conn"] if c["role"] == "server"
                        and not c["before_attach"]]
            check(len(srv_ends) == 3 and
                  all(c["bytes_out"] > len(body) and c["bytes_in"] > 0
                      and c["end"] == "closed" for c in srv_ends),
                  f"3 requests served, with their bytes: {srv_ends}")
            rc, out, err = run([VIEWER, "detach", str(srv.pid)],
                               preload=False)
            check(rc == 0, f"detach: {err}")
            rc, out, err = run(["curl", "-sS", url], preload=False)
            check(rc == 0 and out == body, f"curl after detach: {err}")
        finally:
            stop_proc(srv)


@test
def attach_clean_under_valgrind():
    vg = valgrind()
    if not vg:
        return
    prefix = [vg, "-q", "--error-exitcode=99", "--leak-check=full",
              "--errors-for-leak-kinds=definite"]
    with TraceDir() as t:
        os.makedirs(t.dir, mode=0o700)
        for preload in (True, False):
            srv, port = start_echo(trace=t.dir if preload else None)
            try:
                held = hold(port)
                args = [] if preload else ["-o", t.dir]
                for json_args in (["--json"], ["--no-color"]):
                    a = Attach(json_args + args + [str(srv.pid)],
                               prefix=prefix)
                    check(echo(port, 3) == 3, "answered")
                    rc, by, err = a.stop()
                    check(rc == 0, f"attach {json_args} (preload "
                          f"{preload}) under valgrind exited {rc}: "
                          f"{err[-2000:]}")
                held.close()
            finally:
                stop_proc(srv)
