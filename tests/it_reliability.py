# SPDX-License-Identifier: MIT
# Reliability: real programs from Debian traced and untraced, and the
# faults a traced program may meet (many processes and threads, vfork,
# a full or read-only trace directory, a killed viewer).  Run by
# tests/integration.py in its namespace: its helpers and @test.


def view_json(path):
    """'socktrace view --json PATH' as lines by type."""
    rc, out, err = run([VIEWER, "view", "--json", path], preload=False)
    check(rc == 0, f"view exited {rc}: {err}")
    by = {"process": [], "conn": [], "call": [], "finding": []}
    for line in out.splitlines():
        if line.startswith("{"):
            o = json.loads(line)
            by.setdefault(o["type"], []).append(o)
    return by


def same_run_view(argv, env=None, timeout=120):
    """Like same_run, and also the timelines of the traced run."""
    with TraceDir() as t:
        plain = run(argv, env=env, timeout=timeout)
        traced = run(argv, trace=t.dir, env=env, timeout=timeout)
        check(plain == traced, f"the run differs with the preload:\n"
              f"untraced {plain}\ntraced {traced}")
        return dump(t.dir), view_json(t.dir), plain


def all_joined(conns, clients, exact=True):
    """Each client end in CLIENTS is joined to a server end whose byte
    counts mirror its own (not EXACT: neither end got more than the other
    sent, for clients that exit with data in flight); returns the server
    ends."""
    ids = {c["id"]: c for c in conns}
    servers = []
    for c in clients:
        s = ids.get(c["peer_conn"])
        check(s is not None and s["role"] == "server" and
              s["peer_conn"] == c["id"], f"client {c['id']} is joined: {c}")
        if exact:
            check(c["bytes_out"] == s["bytes_in"] and
                  c["bytes_in"] == s["bytes_out"],
                  f"bytes match both ways: {c} {s}")
        else:
            check(c["bytes_out"] >= s["bytes_in"] and
                  s["bytes_out"] >= c["bytes_in"],
                  f"bytes: neither end got more than was sent: {c} {s}")
        servers.append(s)
    return servers


class Server:
    """A server started with the preload in trace directory TRACE, on a
    loopback PORT; stopped by SIG (and waited for) on exit."""

    def __init__(self, argv, trace, port, sig=signal.SIGTERM, preload=True,
                 env=None):
        self.argv, self.trace, self.port, self.sig = argv, trace, port, sig
        self.preload, self.env = preload, env or {}

    def __enter__(self):
        env = base_env()
        if self.preload:
            env.update(SOCKTRACE_DIR=self.trace, LD_PRELOAD=LIB)
        env.update(self.env)
        self.p = subprocess.Popen(self.argv, env=env,
                                  stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)
        try:
            wait_port(self.port, self.p)
        except Exception:
            self.__exit__()
            raise
        return self

    def __exit__(self, *a):
        if self.p.poll() is None:
            self.p.send_signal(self.sig)
        try:
            self.p.wait(20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def need(prog):
    path = shutil.which(prog) or os.path.join("/usr/sbin", prog)
    if not os.path.exists(path):
        raise Fail(f"{prog} is not installed: run 'make deps'")
    return path


# --- real programs --------------------------------------------------------

@test
def redis_benchmark_and_replies():
    server, bench, cli = need("redis-server"), need("redis-benchmark"), \
        need("redis-cli")
    n, clients = 2000, 4
    # one script of commands; its replies must not depend on tracing
    script = "".join(f"SET k{i} v{i}\nINCRBY n {i}\nRPUSH l {i}\n"
                     for i in range(50)) + "GET k7\nGET n\nLRANGE l 0 5\n" \
        "LLEN l\nDEL k1 k2 nosuch\nGET k1\n"
    replies = []
    with TraceDir() as t:
        for preload in (False, True):
            port = free_port()
            data = os.path.join(t.path, f"data{int(preload)}")
            os.makedirs(data)
            with Server([server, "--port", str(port), "--bind", "127.0.0.1",
                         "--save", "", "--appendonly", "no", "--dir", data,
                         "--daemonize", "no"], t.dir, port,
                        preload=preload):
                p = subprocess.run([cli, "-p", str(port)],
                                   input=script.encode(),
                                   capture_output=True,
                                   env=dict(base_env(), SOCKTRACE_DIR=t.dir,
                                            LD_PRELOAD=LIB) if preload
                                   else base_env(), timeout=60)
                check(p.returncode == 0, f"redis-cli: {p.stderr}")
                replies.append(p.stdout.decode())
                if not preload:
                    continue
                rc, out, err = run([bench, "-p", str(port), "-n", str(n),
                                    "-c", str(clients), "-t", "set,get",
                                    "--csv"], trace=t.dir)
                check(rc == 0, f"redis-benchmark exited {rc}: {err}")
                rows = [r for r in out.splitlines() if r.startswith('"')]
                check(len(rows) == 3, f"header, SET and GET rows: {out}")
                info = run([cli, "-p", str(port), "INFO", "stats"],
                           preload=False)[1]
                stats = dict(x.split(":", 1) for x in info.split()
                             if ":" in x)
        check(replies[0] == replies[1] and "v7" in replies[0],
              f"redis replies the same to a traced server:\n{replies}")
        # every connection redis saw (wait_port's probes and the INFO
        # query are untraced) against the timelines
        by = view_json(t.dir)
        check(all(p["lost"] == 0 for p in by["process"]),
              f"nothing lost: {by['process']}")
        srv_pid = [p["pid"] for p in by["process"]
                   if p["comm"].startswith("redis-server")]
        check(len(srv_pid) == 1, f"the traced server: {by['process']}")
        cl = [c for c in by["conn"] if c["role"] == "client" and
              c["peer"].endswith(f":{port}")]
        sv = [c for c in by["conn"] if c["role"] == "server" and
              c["pid"] == srv_pid[0]]
        check(len(sv) == int(stats["total_connections_received"]),
              f"{len(sv)} server ends for the "
              f"{stats['total_connections_received']} connections redis "
              f"counted")
        bench_cl = [c for c in cl if c["comm"] == "redis-benchmark"]
        check(len(bench_cl) >= clients,
              f"redis-benchmark's {clients} clients (and its CONFIG "
              f"query): {len(bench_cl)}")
        check(len(cl) == len(bench_cl) + 1, "and redis-cli's one")
        joined = all_joined(by["conn"], cl)
        check(sum(s["bytes_in"] for s in joined) > n * 2 * 20,
              "the benchmark's requests are in the byte counts")


@test
def socat_relay_joined():
    socat = need("socat")
    msgs = [f"message {i} " * (i + 1) for i in range(3)]
    outs = []
    with TraceDir() as t:
        for preload in (False, True):
            back, front = free_port(), free_port()
            # an echo server, and a relay in front of it: each
            # connection is handled by a forked child
            with Server([socat, f"TCP-LISTEN:{back},bind=127.0.0.1,"
                         "fork,reuseaddr", "PIPE"], t.dir, back,
                        preload=preload), \
                Server([socat, f"TCP-LISTEN:{front},bind=127.0.0.1,"
                        "fork,reuseaddr", f"TCP:127.0.0.1:{back}"],
                       t.dir, front, preload=preload):
                got = []
                for m in msgs:
                    p = subprocess.run(
                        [socat, "-t", "2", "-", f"TCP:127.0.0.1:{front}"],
                        input=m.encode(), capture_output=True, timeout=30,
                        env=dict(base_env(), SOCKTRACE_DIR=t.dir,
                                 LD_PRELOAD=LIB) if preload
                        else base_env())
                    got.append((p.returncode, p.stdout.decode()))
                outs.append(got)
        check(outs[0] == outs[1] == [(0, m) for m in msgs],
              f"each message comes back through the relay, traced or "
              f"not: {outs}")
        by = view_json(t.dir)
        check(all(p["lost"] == 0 for p in by["process"]),
              f"nothing lost: {by['process']}")
        conns = by["conn"]
        # three hops of three connections: client -> relay, relay ->
        # echo server, each joined end to end
        to_front = [c for c in conns if c["role"] == "client" and
                    c["peer"] == f"127.0.0.1:{front}"]
        to_back = [c for c in conns if c["role"] == "client" and
                   c["peer"] == f"127.0.0.1:{back}"]
        # wait_port's probe of the relay is untraced, but the relay's
        # connection onward for it is
        check(len(to_front) == 3 and len(to_back) == 4,
              f"3 connections to the relay, 3 + 1 from it: "
              f"{len(to_front)} {len(to_back)}")
        all_joined(conns, to_front)
        all_joined(conns, to_back)
        check(sorted(c["bytes_out"] for c in to_front) ==
              sorted(len(m) for m in msgs), "the clients' bytes")
        check(sorted(c["bytes_out"] for c in to_back) ==
              sorted([0] + [len(m) for m in msgs]), "relayed as they were")


@test
def nginx_and_wrk_all_joined():
    wrk = need("wrk")
    with TraceDir() as t:
        argv, port = nginx_site(t.path, {"index.html": "hello\n" * 100})
        with Server(argv, t.dir, port, sig=signal.SIGQUIT):
            rc, out, err = run([wrk, "-t", "2", "-c", "4", "-d", "1",
                                f"http://127.0.0.1:{port}/"], trace=t.dir)
            # nginx's own count of the connections it accepted
            st = run(["curl", "-sS", f"http://127.0.0.1:{port}/status"],
                     preload=False)
            check(st[0] == 0, f"nginx status: {st}")
            accepts = int(st[1].splitlines()[2].split()[0])
        check(rc == 0 and "Non-2xx" not in out and "Socket errors" not in
              out, f"wrk ran without errors: {out} {err}")
        reqs = int(out.split(" requests in ")[0].split()[-1])
        by = view_json(t.dir)
        check(all(p["lost"] == 0 for p in by["process"]),
              f"nothing lost: {by['process']}")
        cl = [c for c in by["conn"] if c["role"] == "client" and
              c["comm"].startswith("wrk")]
        # nginx keeps a connection for up to 1000 requests: wrk makes
        # new ones; all but wait_port's and the status query are wrk's
        check(len(cl) == accepts - 2 and len(cl) >= 4,
              f"wrk's connections: {len(cl)}, nginx accepted {accepts}")
        # wrk stops after 1 s with requests in flight, and exits without
        # closing: its ends end at its exit, with bytes not yet read
        sv = all_joined(by["conn"], cl, exact=False)
        check(all(s["comm"] == "nginx" for s in sv), "served by nginx")
        resp = len("hello\n" * 100)
        check(sum(c["bytes_in"] for c in cl) >= reqs * resp,
              f"{reqs} responses' bytes reached wrk")


@test
def ring_wrapped_still_joined():
    """One nginx process and wrk, each in a 1 MiB ring that wraps many
    times: nginx's listener's socket, bind and listen records are
    overwritten.  Every wrk connection opened inside nginx's kept window
    is still joined to the end nginx accepted (before: none was, their
    server ends were of kind 'other'), and the loss is said."""
    wrk = need("wrk")
    small = {"SOCKTRACE_MAX_SIZE": "1M"}
    with TraceDir() as t:
        argv, port = nginx_site(t.path, {"p.txt": "x" * 100})
        conf = f"{t.path}/nginx.conf"
        with open(conf) as f:
            text = f.read()
        with open(conf, "w") as f:  # one process holds the listener
            f.write(text.replace("master_process on", "master_process off"))
        with Server(argv, t.dir, port, sig=signal.SIGQUIT, env=small):
            rc, out, err = run([wrk, "-t", "1", "-c", "4", "-d", "2", "-H",
                                "Connection: close",
                                f"http://127.0.0.1:{port}/p.txt"],
                               trace=t.dir, env=small)
        check(rc == 0 and "Socket errors" not in out, f"wrk: {out} {err}")
        rc, vout, verr = run([VIEWER, "view", "--json", t.dir], preload=False)
        check(rc == 0, f"view: {verr}")
        by = {"process": [], "conn": []}
        for line in vout.splitlines():
            o = json.loads(line)
            by.setdefault(o["type"], []).append(o)
        procs = {p["comm"]: p for p in by["process"]}
        check(procs["nginx"]["lost"] > 0 and procs["wrk"]["lost"] > 0,
              f"both rings wrapped: {by['process']}")
        check("ring was full" in verr, f"the loss is said: {verr}")
        # the kept window of nginx's ring: its oldest record's end
        _, calls = dump(t.dir)
        ng_pid = procs["nginx"]["pid"]
        first = min(c["ts"] + c["dur"] for c in calls if c["pid"] == ng_pid)
        conns = by["conn"]
        sv = [c for c in conns if c["comm"] == "nginx" and
              c["role"] == "server"]
        check(sv and all(c["kind"] == "tcp" for c in sv),
              f"nginx's accepted ends are TCP: "
              f"{set(c['kind'] for c in sv)}")
        cl = [c for c in conns if c["comm"] == "wrk" and
              c["role"] == "client" and not c["start_lost"] and
              c["open_ts"] > first]
        check(len(cl) > 100, f"wrk connections inside the window: {len(cl)}")
        all_joined(conns, cl, exact=False)
        lost = [c for c in conns if c["start_lost"]]
        check(lost and all(c["before_trace"] for c in lost),
              "ends cut by the wrap say their start was lost")


# --- many processes, many threads, vfork ----------------------------------

@test
def hundred_forked_clients():
    (procs, calls), by, out = same_run_view([PROBE, "forks", "100"])
    check("100 children exited 0, sum 5050 of 5050" in out[1],
          f"the probe's own check: {out[1]}")
    check(len(procs) == 101 and all(p["lost"] == 0 for p in procs),
          f"101 trace files, nothing lost: {len(procs)}")
    cl = [c for c in by["conn"] if c["role"] == "client"]
    check(len(cl) == 100, f"100 client connections: {len(cl)}")
    check(len({c["pid"] for c in cl}) == 100, "one per child")
    all_joined(by["conn"], cl)
    lis = [c for c in by["conn"] if c["role"] == "listener"]
    check(len(lis) == 1 and lis[0]["accepted"] == 100 and
          lis[0]["end"] == "closed", f"the listener, closed by the parent "
          f"after the children that inherited it exited: {lis}")
    check(by["finding"] == [], f"no findings: {by['finding']}")


@test
def thousand_threads():
    (procs, calls), by, out = same_run_view([PROBE, "manythreads", "1000"])
    check(procs[0]["lost"] == 0, "nothing lost")
    sp = calls_of(calls, "socketpair")
    check(len(sp) == 1000, f"1000 socketpairs: {len(sp)}")
    check(len({c["tid"] for c in sp}) == 1000, "each from its own thread")
    data = [c for c in calls if c["call"] in ("read", "write")]
    check(len(data) == 4000 and all(c["bytes"] == 1 for c in data),
          f"4000 one-byte calls: {len(data)}")
    pairs = [c for c in by["conn"] if c["role"] == "pair"]
    check(len(pairs) == 2000 and all(c["end"] == "closed" for c in pairs),
          f"2000 pair ends, all closed: {len(pairs)}")


@test
def vfork_exec_and_cleared_preload():
    (procs, calls), by, out = same_run_view([PROBE, "vfork"])
    check(len(procs) == 2, f"the parent and the exec'd child: {procs}")
    parent = [p for p in procs if p["comm"] == "probe"][0]
    child = [p for p in procs if p is not parent][0]
    check(child["ppid"] == parent["pid"], "the exec'd child's own file")
    check([c["call"] for c in calls if c["pid"] == child["pid"]] ==
          ["socket", "close"], "the exec'd image traces itself")
    mine = [c for c in calls if c["pid"] == parent["pid"]]
    check([c["call"] for c in mine] ==
          ["socketpair", "write", "read", "close", "close"],
          f"the vfork child's close of its copy is not the parent's: "
          f"{[c['call'] for c in mine]}")
    sp = mine[0]
    check(mine[2]["conn"] == sp["conn"] and mine[3]["conn"] == sp["conn"],
          "the parent's read and close are on the socket it made")
    # the exec'd child runs without LD_PRELOAD: untraced, and the same
    (procs, calls), by, out = same_run_view([PROBE, "vfork-clearenv"])
    check(len(procs) == 1, f"only the parent is traced: {procs}")
    check(len(calls) == 5 and procs[0]["lost"] == 0, f"its 5 calls: {calls}")


@test
def vfork_failure_keeps_errno():
    if os.geteuid() != 0:
        print("  (skipped: needs root to switch users)")
        return
    # RLIMIT_NPROC of 1 for an unprivileged user: vfork fails with EAGAIN
    argv = ["prlimit", "--nproc=1", "setpriv", "--reuid=nobody",
            "--regid=nogroup", "--clear-groups", PROBE, "vfork"]
    with TraceDir() as t:
        os.chmod(t.path, 0o777)
        plain = run(argv)
        traced = run(argv, trace=t.dir)
        check(plain == traced, f"same with the preload: {plain} {traced}")
        check("vfork()" in plain[1] and "EAGAIN" in plain[1],
              f"vfork failed with EAGAIN: {plain[1]}")


@test
def signals_landing_inside_the_library():
    # a 50 us timer interrupts the data loop anywhere, our wrappers
    # included; each handler makes and closes a socket
    (procs, calls), by, out = same_run_view([PROBE, "async-signals", "2000"])
    check(procs[0]["lost"] == 0, f"nothing lost: {procs}")
    udp = [c for c in calls_of(calls, "socket") if c["socktype"] == 2]
    check(len(udp) == 2000, f"2000 handler sockets: {len(udp)}")
    closed = {c["conn"] for c in calls_of(calls, "close")}
    check(all(c["conn"] in closed for c in udp), "each closed")
    w, r = calls_of(calls, "write"), calls_of(calls, "read")
    check(len(w) == len(r) > 0 and all(c["bytes"] == 1 for c in w + r),
          f"the loop's writes and reads pair up: {len(w)} {len(r)}")
    check(all(c["end"] == "closed" for c in by["conn"]), "all closed")


# --- faults ---------------------------------------------------------------

@test
def sigkill_marks_connections_open_at_death():
    with TraceDir() as t:
        rc, out, err = run([PROBE, "kill"], trace=t.dir)
        check(rc == -signal.SIGKILL, f"probe should die by SIGKILL: {rc}")
        by = view_json(t.dir)
        tcp = [c for c in by["conn"] if c["kind"] == "tcp"]
        check(len(tcp) == 3, f"listener, client and server ends: {tcp}")
        check(all(c["end"] == "death" for c in tcp),
              f"all open at death: {[c['end'] for c in tcp]}")
        cl = [c for c in tcp if c["role"] == "client"]
        check(cl and cl[0]["bytes_out"] == 1, "the byte written before")


def mount_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=700",
                        "tmpfs", path], capture_output=True)
    return r.returncode == 0


def lost_reported(path, kept, lost):
    """The viewer shows KEPT records of the one process, LOST lost, and
    a finding that says so."""
    by = view_json(path)
    p = by["process"]
    check(len(p) == 1 and p[0]["records"] == kept and p[0]["lost"] == lost,
          f"{kept} records kept, {lost} counted as lost: {p}")
    f = [x for x in by["finding"] if x["kind"] == "lost_records"]
    check(len(f) == 1 and f" {lost} records" in f[0]["message"],
          f"and reported: {by['finding']}")


# A trace file holds 96 records when it is made, and each growth doubles
# it (192, 384, ... records) up to 1 MiB chunks: with 6,144 records it is
# 772 KiB, and the next growth, to 12,288 (1.5 MiB), does not fit in a
# 1.2 MB tmpfs
KEPT_IN_SMALL_FS = 6144


@test
def trace_dir_full():
    if os.geteuid() != 0:
        print("  (skipped: needs root to mount a tmpfs)")
        return
    with TraceDir() as t:
        mnt = os.path.join(t.path, "small")
        if not mount_tmpfs(mnt, "1200k"):
            raise Fail("cannot mount a tmpfs")
        try:
            # 1 + 40000 + 2 records; room for 6,144 of them
            argv = [PROBE, "threads", "1", "40000"]
            plain = run(argv)
            traced = run(argv, trace=os.path.join(mnt, "t"))
            check(plain == traced, f"the program runs on untouched: "
                  f"{plain} {traced}")
            lost_reported(os.path.join(mnt, "t"), KEPT_IN_SMALL_FS,
                          40003 - KEPT_IN_SMALL_FS)
        finally:
            subprocess.run(["umount", "-l", mnt])


@test
def trace_dir_made_unreachable():
    if os.geteuid() != 0:
        print("  (skipped: needs root to switch users)")
        return
    with TraceDir() as t:
        os.chmod(t.path, 0o755)
        os.makedirs(t.dir)
        shutil.chown(t.dir, "nobody")
        argv = ["setpriv", "--reuid=nobody", "--regid=nogroup",
                "--clear-groups", PROBE, "pause", "100", "40000"]
        outs = []
        for traced in (False, True):
            env = base_env()
            if traced:
                env.update(SOCKTRACE_DIR=t.dir, LD_PRELOAD=LIB)
            p = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
            check(p.stdout.readline() == b"paused\n", "first part ran")
            if traced:  # the program's own user can no longer reach it
                os.chmod(t.dir, 0)
            out, err = p.communicate(b"x", timeout=60)
            outs.append((p.returncode, out, err))
        check(outs[0] == outs[1], f"the program runs on untouched: {outs}")
        # 1 + 100 + 40000 + 2 records; the file held 96 records when it
        # was made and 192 after it grew, while the directory was
        # reachable; the next growth is refused
        lost_reported(t.dir, 192, 40103 - 192)


@test
def killed_viewer_goes_unnoticed():
    # 'socktrace run' is killed while its program runs: the program
    # finishes on its own, as it would have, and its trace is whole
    with TraceDir() as t:
        out = os.path.join(t.path, "out")
        cmd = f"{PROBE} threads 4 20000 </dev/null 2>/dev/null | cat"
        sh = f"read x; {cmd} > {out}.part; mv {out}.part {out}"
        p = subprocess.Popen([VIEWER, "run", "-o", t.dir, "--", "sh", "-c",
                              sh], env=base_env(), stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(0.2)
        p.kill()
        p.wait()
        # the shell was waiting on its stdin; it is still running
        time.sleep(0.1)
        p.stdin.write(b"go\n")
        p.stdin.close()
        end = time.time() + 60
        while time.time() < end:
            if os.path.exists(out):
                break
            time.sleep(0.05)
        plain = run(["sh", "-c", cmd])
        check(os.path.exists(out), "the program ran to the end")
        with open(out) as f:
            check(f.read() == plain[1], "and printed what it does untraced")
        procs, calls = dump(t.dir)
        probe = [x for x in procs if x["comm"] == "probe"]
        check(len(probe) == 1 and probe[0]["lost"] == 0 and
              probe[0]["exit_ts"] is not None and
              len(calls_of(calls, "write", pid=probe[0]["pid"])) == 40000,
              f"its trace is whole: {probe}")


# --- hostile trace directories --------------------------------------------

@test
def planted_files_and_foreign_dirs():
    argv = [PROBE, "nonblock"]
    plain = run(argv)
    with TraceDir() as t:
        # the trace file's names are planted before the program makes
        # it: a symlink to a victim file and a file of someone else's
        os.makedirs(t.dir, mode=0o700)
        victim = os.path.join(t.path, "victim")
        with open(victim, "w") as f:
            f.write("precious\n")
        env = base_env()
        env.update(SOCKTRACE_DIR=t.dir, LD_PRELOAD=LIB)
        # sh makes no socket call, so no file, and exec keeps the pid
        p = subprocess.Popen(["sh", "-c", f"read x; exec {PROBE} nonblock </dev/null"],
                             env=env, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        os.symlink(victim, os.path.join(t.dir, f"probe-{p.pid}.trace"))
        other = os.path.join(t.dir, f"probe-{p.pid}.1.trace")
        with open(other, "w") as f:
            f.write("not yours\n")
        out, err = p.communicate(b"x\n", timeout=60)
        check((p.returncode, out.decode(), err.decode()) == plain,
              "the program is unaffected")
        check(open(victim).read() == "precious\n" and
              open(other).read() == "not yours\n",
              "nothing followed or overwritten")
        procs, calls = dump(os.path.join(t.dir, f"probe-{p.pid}.2.trace"))
        check(procs[0]["pid"] == p.pid and calls,
              "the trace went to the next free name")
    if os.geteuid() != 0:
        return
    with TraceDir() as t:
        # a directory that belongs to another user is refused
        os.makedirs(t.dir, mode=0o700)
        shutil.chown(t.dir, "nobody")
        rc, out, err = run(argv, trace=t.dir, env={"SOCKTRACE_DEBUG": "1"})
        check(out == plain[1] and rc == plain[0], "the program is unaffected")
        check(os.listdir(t.dir) == [], "nothing written in nobody's dir")
        check("not owned by this user" in err, f"debug says why: {err}")
