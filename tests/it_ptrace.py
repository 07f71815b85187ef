# SPDX-License-Identifier: MIT
# run --ptrace (issue 16): a static client and server, a pure Go HTTP
# server with curl traced by the preload, the tracer killed mid-run, a
# setuid program refused, signals and exit status passed through.  Held
# against the programs' own output and ss, not our own.  Run by
# tests/integration.py in its namespace: its helpers and @test.

import errno
import re

PINGPONG = os.path.join(BUILD, "tests/progs/static_pingpong")


def split_run(out):
    """run --json's stdout: (the program's lines, JSON objects)."""
    prog, objs = [], []
    for line in out.splitlines():
        if line.startswith('{"type":'):
            objs.append(json.loads(line))
        else:
            prog.append(line)
    return prog, objs


def no_ports(lines):
    """The program's lines sorted, ports left out (they differ)."""
    return sorted(re.sub(r"-?\d+(->|<-)-?\d+", "P", x) for x in lines)


def time_wait_pairs():
    """(local, peer) port pairs ss shows in TIME_WAIT on loopback."""
    rc, out, err = run(["ss", "-tanH", "state", "time-wait"], preload=False)
    check(rc == 0, f"ss: {err}")
    pairs = set()
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 4 and f[-2].startswith("127.0.0.1:"):
            pairs.add((int(f[-2].rsplit(":", 1)[1]),
                       int(f[-1].rsplit(":", 1)[1])))
    return pairs


@test
def ptrace_static_client_server():
    plain = run([PINGPONG, "3", "7"], preload=False)
    check(plain[0] == 7, f"the program untraced: {plain}")
    with TraceDir() as t:
        rc, out, err = run([VIEWER, "run", "--ptrace", "--json", "-o",
                            t.dir, "--", PINGPONG, "3", "7"],
                           preload=False, timeout=60)
        check_pingpong(plain, rc, out, err, False)
    with TraceDir() as t:
        rc, out, err = run([VIEWER, "run", "--ptrace", "--data", "--json",
                            "-o", t.dir, "--", PINGPONG, "3", "7"],
                           preload=False, timeout=60)
        check_pingpong(plain, rc, out, err, True)


def check_pingpong(plain, rc, out, err, data):
    """A static client and server run by run --ptrace (with --data
    when DATA), held against the untraced run PLAIN and ss."""
    prog, objs = split_run(out)
    check(rc == 7, f"exit status passed through: {rc} {err}")
    check(no_ports(prog) == no_ports(plain[1].splitlines()),
          f"the program printed the same: {prog} {plain[1]}")
    check(("data calls were not traced" in err) != data,
          f"the view says what this mode misses: {err}")
    tw = time_wait_pairs()
    conns = {c["id"]: c for c in objs if c["type"] == "conn"}
    procs = [o for o in objs if o["type"] == "process"]
    check(len(procs) == 2 and all(p["source"] == ("ptrace_data" if data
                                                  else "ptrace")
                                  for p in procs),
          f"two processes, from ptrace: {procs}")
    if data:
        calls = [o for o in objs if o["type"] == "call"]
        check(len([c for c in calls if c["call"] == "write"]) == 6 and
              len([c for c in calls if c["call"] == "read"]) == 12,
              f"--data: each side's write and reads (EOF included), "
              f"its output to a file not recorded: {calls}")
    clients = [x for x in prog if x.startswith("client")]
    check(len(clients) == 3, f"three connections: {prog}")
    for line in clients:
        local, peer = map(int, re.findall(r"(\d+)->(\d+)", line)[0])
        cl = [c for c in conns.values() if c["role"] == "client" and
              c["local"] == f"127.0.0.1:{local}"]
        check(len(cl) == 1 and cl[0]["peer"] == f"127.0.0.1:{peer}",
              f"the client end of {line}: {cl}")
        cl = cl[0]
        sv = conns.get(cl["peer_conn"])
        check(sv is not None and sv["role"] == "server" and
              sv["peer_conn"] == cl["id"],
              f"joined with its server end: {cl} {sv}")
        # what each side said it moved; bytes from TCP_INFO at close
        check(cl["bytes_out"] == 6 == sv["bytes_in"] and
              cl["bytes_in"] == 5 == sv["bytes_out"],
              f"bytes as the program counted: {cl} {sv}")
        # the client shut down first: the kernel holds its TIME_WAIT
        check((local, peer) in tw and (peer, local) not in tw,
              f"ss shows {local}->{peer} in TIME_WAIT, not its "
              f"server end: {(local, peer) in tw} {(peer, local) in tw}")
        check(cl["states"][-2][0] == "TIME_WAIT" and
              cl["closed_by"] == "local",
              f"so does the timeline: {cl['states']}")
        check(sv["states"][-1][0] == "CLOSED" and
              "TIME_WAIT" not in [s[0] for s in sv["states"]],
              f"the server end ends CLOSED: {sv['states']}")
    lis = [c for c in conns.values() if c["role"] == "listener"]
    check(len(lis) == 1 and lis[0]["accepted"] == 3,
          f"the listener: {lis}")
    findings = [o for o in objs if o["type"] == "finding"]
    check(not findings, f"no findings: {findings}")


def go_server_and_curl(data):
    """The Go server under run (with --data when DATA), curl under the
    preload: every connection joined, bytes as curl counted them."""
    requests, size = 4, 3000
    with TraceDir() as t:
        srv_exe = go_build(t.path, "http_server")
        env = base_env()
        out_path = os.path.join(t.path, "run.out")
        with open(out_path, "w") as so, open(out_path + ".err", "w") as se:
            p = subprocess.Popen(
                [VIEWER, "run", "--json", "-o", t.dir] +
                (["--ptrace", "--data"] if data else []) +
                ["--", srv_exe, str(requests), str(size)],
                stdin=subprocess.PIPE, stdout=so, stderr=se, env=env)
        try:
            port, end = None, time.time() + 30
            while port is None and time.time() < end:
                with open(out_path) as f:
                    m = re.search(r"^port (\d+)$", f.read(), re.M)
                port = m and int(m.group(1))
                time.sleep(0.05)
            check(port, "the Go server printed its port")
            url = f"http://127.0.0.1:{port}/"
            seen = []
            for _ in range(requests):
                rc, o, e = run(["curl", "-sS", "-o", "/dev/null", "-w",
                                "%{local_port} %{size_request} "
                                "%{size_header} %{size_download}", url],
                               trace=t.dir, timeout=30)
                check(rc == 0, f"curl: {e}")
                seen.append(tuple(map(int, o.split())))
            # every curl has exited, its trace complete: the server may
            # end, and run show the traces
            p.stdin.close()
            rc = p.wait(60)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        with open(out_path) as f:
            out = f.read()
        with open(out_path + ".err") as f:
            err = f.read()
        check(rc == 0 and (data or ("it is a Go program" in err and
                                    "tracing it with ptrace" in err)),
              f"the Go server chosen for ptrace, its status: {rc} {err}")
        check(("data calls were not traced" in err) != data,
              f"the view says whether data calls were traced: {err}")
        prog, objs = split_run(out)
        procs = [o for o in objs if o["type"] == "process"
                 and o["comm"] == "http_server"]
        check(len(procs) == 1 and procs[0]["source"] ==
              ("ptrace_data" if data else "ptrace"), f"source: {procs}")
        check(f"served {requests}" in prog, f"served: {prog}")
        conns = {c["id"]: c for c in objs if c["type"] == "conn"}
        tw = time_wait_pairs()
        findings = [o for o in objs if o["type"] == "finding"]
        server_first = 0
        for lport, req, hdr, body in seen:
            cl = [c for c in conns.values() if c["role"] == "client" and
                  c["local"] == f"127.0.0.1:{lport}"]
            check(len(cl) == 1, f"curl's end from port {lport}: {cl}")
            cl = cl[0]
            sv = conns.get(cl["peer_conn"])
            check(sv is not None and sv["pid"] != cl["pid"] and
                  sv["peer_conn"] == cl["id"],
                  f"joined end to end with the Go server: {cl} {sv}")
            # curl's own counts (and its data calls) against the Go
            # server's TCP_INFO, or its data calls with --data
            check(cl["bytes_out"] == req == sv["bytes_in"] and
                  cl["bytes_in"] == hdr + body == sv["bytes_out"],
                  f"bytes: curl {req}/{hdr + body}, preload "
                  f"{cl['bytes_out']}/{cl['bytes_in']}, Go server (TCP_INFO)"
                  f" {sv['bytes_in']}/{sv['bytes_out']}")
            check(sv["states"][0][0] in ("SYN_RECV", "ESTABLISHED") and
                  sv["states"][-1][0] == "CLOSED",
                  f"the server end's states: {sv['states']}")
            # "Connection: close": the Go server closes, and so does
            # curl once it has the body; who closes first is a race the
            # kernel's TIME_WAIT (ss) settles, and the view must agree
            srv_tw, cli_tw = (port, lport) in tw, (lport, port) in tw
            check(srv_tw or cli_tw, f"ss: a side in TIME_WAIT: {tw}")
            kinds = [f["kind"] for f in findings if f["conn"] == sv["id"]]
            if srv_tw and cli_tw:
                # a simultaneous close: both ends active closers
                check(cl["closed_by"] == sv["closed_by"] == "both",
                      f"both closed first, as ss says: {cl} {sv}")
                check(kinds in ([], ["server_time_wait"]),
                      f"findings: {kinds}")
                server_first += len(kinds)
                continue
            # both closes may ask the kernel just before the other's FIN
            # arrives: then the view says both closed first ("both"),
            # no claim of a single closer, though one FIN came first
            first = sv if srv_tw else cl
            check(first["closed_by"] in ("local", "both") and
                  "TIME_WAIT" in [s[0] for s in first["states"]],
                  f"the view's active closer is ss's: {first}")
            want = ["server_time_wait"] if srv_tw else []
            check(kinds == want or (first["closed_by"] == "both" and
                                    kinds in ([], ["server_time_wait"])),
                  f"server_time_wait when the server closed first: "
                  f"{srv_tw} {kinds} {cl} {sv}")
            server_first += len(kinds)
        check(len(findings) == server_first,
              f"no other finding: {findings}")
        if data:
            calls = [o for o in objs if o["type"] == "call" and
                     o["pid"] == procs[0]["pid"]]
            check({"read", "write"} <= {c["call"] for c in calls},
                  f"Go's reads and writes recorded: "
                  f"{sorted({c['call'] for c in calls})}")


@test
def ptrace_go_http_server_and_preloaded_curl():
    go_server_and_curl(False)


@test
def ptrace_data_go_http_server_and_preloaded_curl():
    go_server_and_curl(True)


@test
def ptrace_tracer_killed_program_ends():
    """SIGKILL to socktrace: PTRACE_O_EXITKILL ends the program (its
    filtered calls would fail with ENOSYS otherwise), and what was
    recorded reads."""
    with TraceDir() as t:
        p = subprocess.Popen([VIEWER, "run", "--ptrace", "-o", t.dir, "--",
                              PINGPONG, "wait", "2"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=base_env())
        try:
            end, procs, calls = time.time() + 20, [], []
            while time.time() < end:
                if os.path.isdir(t.dir) and os.listdir(t.dir):
                    procs, calls = dump(t.dir)
                    if len(calls_of(calls, "close")) >= 4:
                        break
                time.sleep(0.05)
            check(len(calls_of(calls, "connect")) == 2,
                  f"both connections recorded before the kill: {calls}")
            p.kill()
            p.wait(10)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        main = [x["pid"] for x in procs if x["ppid"] not in
                [y["pid"] for y in procs]]
        check(len(main) == 1, f"the program's process: {procs}")
        end = time.time() + 10
        while time.time() < end and os.path.exists(f"/proc/{main[0]}"):
            time.sleep(0.05)
        check(not os.path.exists(f"/proc/{main[0]}"),
              "the program ended with its tracer")
        rc, out, err = run([VIEWER, "view", "--json", t.dir])
        conns = [json.loads(x) for x in out.splitlines()
                 if x.startswith('{"type":"conn"')]
        joined = [c for c in conns if c["role"] == "client" and
                  c["peer_conn"]]
        check(rc == 0 and len(joined) == 2,
              f"the trace reads, both connections joined: {rc} {err} "
              f"{conns}")


@test
def ptrace_refuses_setuid():
    with TraceDir() as t:
        exe = os.path.join(t.path, "suid_hello")
        shutil.copy(os.path.join(BUILD, "tests/progs/static_hello"), exe)
        os.chmod(exe, 0o4755)
        rc, out, err = run([VIEWER, "run", "--ptrace", "-o", t.dir, "--",
                            exe], preload=False)
        check(rc == 1 and "setuid" in err and "NO_NEW_PRIVS" in err and
              out == "" and not os.path.exists(t.dir),
              f"refused before it ran: {rc} {out} {err}")
        os.chmod(exe, 0o2755)
        rc, out, err = run([VIEWER, "run", "-o", t.dir, "--", exe],
                           preload=False)
        check(rc == 1 and "setgid" in err and out == "",
              f"setgid, chosen for ptrace by itself, refused: {rc} {err}")
        os.chmod(exe, 0o755)
        rc, o, e = run(["setcap", "cap_net_bind_service+ep", exe],
                       preload=False)
        check(rc == 0, f"setcap: {e}")
        rc, out, err = run([VIEWER, "run", "--ptrace", "-o", t.dir, "--",
                            exe], preload=False)
        check(rc == 1 and "file capabilities" in err and out == "",
              f"file capabilities refused: {rc} {err}")


@test
def ptrace_signals_and_status_pass_through():
    with TraceDir() as t:
        rc, out, err = run([VIEWER, "run", "--ptrace", "-o", t.dir, "--",
                            "sh", "-c", "kill -TERM $$"], preload=False)
        check(rc == 128 + signal.SIGTERM, f"killed by SIGTERM: {rc} {err}")
        # a handled signal reaches the handler; a stop and a continue
        # work as untraced (group-stop)
        script = ("trap 'echo got USR1' USR1; kill -USR1 $$; "
                  "kill -STOP $$; echo resumed; exit 5")
        p = subprocess.Popen([VIEWER, "run", "--ptrace", "-o", t.dir + "2",
                              "--", "sh", "-c", script],
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=base_env())
        try:
            sh, end = None, time.time() + 10
            while time.time() < end and sh is None:
                try:
                    with open(f"/proc/{p.pid}/task/{p.pid}/children") as f:
                        kids = f.read().split()
                    if kids:
                        with open(f"/proc/{kids[0]}/stat") as f:
                            if f.read().rsplit(")", 1)[1].split()[0] in \
                                    ("T", "t"):
                                sh = int(kids[0])
                except OSError:
                    pass
                time.sleep(0.05)
            check(sh, "the shell stopped itself")
            time.sleep(0.2)
            check(p.poll() is None, "and stays stopped")
            os.kill(sh, signal.SIGCONT)
            o, e = p.communicate(timeout=10)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        check(p.returncode == 5 and o.decode() == "got USR1\nresumed\n",
              f"handler ran, resumed, status 5: {p.returncode} {o} {e}")


@test
def ptrace_fork_exec_followed_fds_unchanged():
    """A shell that forks and execs the static client and server: its
    grandchildren are followed; and the program's fds are the ones it
    has untraced (the tracer's copies never reach it)."""
    with TraceDir() as t:
        script = f"ls /proc/self/fd; {PINGPONG} 2; exec {PINGPONG} 1 3"
        plain = run(["sh", "-c", script], preload=False)
        rc, out, err = run([VIEWER, "run", "--ptrace", "--json", "-o",
                            t.dir, "--", "sh", "-c", script],
                           preload=False, timeout=60)
        prog, objs = split_run(out)
        check(rc == plain[0] == 3 and
              no_ports(prog) == no_ports(plain[1].splitlines()),
              f"same output and status: {rc} {prog} {plain}")
        conns = [c for c in objs if c["type"] == "conn"]
        cl = [c for c in conns if c["role"] == "client"]
        check(len(cl) == 3 and all(c["peer_conn"] for c in cl),
              f"the three connections of both runs, joined: {cl}")
        exes = {p["exe"] for p in objs if p["type"] == "process"}
        check(exes == {PINGPONG}, f"the exec'd images' files: {exes}")


@test
def ptrace_go_connect_refused():
    """Go's non-blocking connect to a closed port: EINPROGRESS, then
    getsockopt(SO_ERROR) says ECONNREFUSED, as the kernel told Go."""
    with TraceDir() as t:
        pure = go_build(t.path, "net_client")
        port = free_port()
        plain = run([pure, str(port)], preload=False)
        rc, out, err = run([VIEWER, "run", "--ptrace", "--json", "-o",
                            t.dir, "--", pure, str(port)], preload=False)
        prog, objs = split_run(out)
        check(rc == plain[0] == 1 and prog == plain[1].splitlines() and
              "connection refused" in plain[1],
              f"the program's own error, traced or not: {rc} {prog}")
        calls = [o for o in objs if o["type"] == "call"]
        con = [c for c in calls if c["call"] == "connect"]
        opt = [c for c in calls if c["call"] == "getsockopt"]
        check(len(con) == 1 and con[0]["errno"] == "EINPROGRESS" and
              any(c["value"] == errno.ECONNREFUSED for c in opt),
              f"non-blocking connect, then SO_ERROR: {con} {opt}")
        f = [o["kind"] for o in objs if o["type"] == "finding"]
        check(f == ["connect_failed"],
              f"the finding: {f}")


@test
def ptrace_sigterm_to_socktrace_reaches_program():
    """SIGTERM to socktrace under --ptrace goes to the program (killing
    the tracer would take the program with it): the program ends by it,
    run says so by its status, and shows the trace."""
    with TraceDir() as t:
        p = subprocess.Popen([VIEWER, "run", "--ptrace", "--json", "-o",
                              t.dir, "--", PINGPONG, "wait", "1"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=base_env())
        try:
            end, calls = time.time() + 20, []
            while time.time() < end and len(calls_of(calls, "close")) < 2:
                if os.path.isdir(t.dir) and os.listdir(t.dir):
                    calls = dump(t.dir)[1]
                time.sleep(0.05)
            p.send_signal(signal.SIGTERM)
            # stdin stays open: the program ends by the signal or not
            p.wait(20)
            out, err = p.stdout.read(), p.stderr.read()
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        prog, objs = split_run(out.decode())
        conns = [o for o in objs if o["type"] == "conn" and
                 o["role"] == "client"]
        check(p.returncode == 128 + signal.SIGTERM and len(conns) == 1,
              f"the program's death by SIGTERM, its trace shown: "
              f"{p.returncode} {conns} {err}")
