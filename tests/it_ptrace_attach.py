# SPDX-License-Identifier: MIT
# attach to programs the library cannot see (issue 16): a running pure
# Go server followed with ptrace (PTRACE_SYSCALL) and let go, held
# against curl's own counts, ss and the server's own count of requests;
# a process another tracer holds is refused.  Run by
# tests/integration.py in its namespace (after it_go.py and
# it_ptrace.py: go_build, split_run, time_wait_pairs).

import resource


def tracer_pid(pid):
    """TracerPid of process PID, from /proc."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("TracerPid:"):
                return int(line.split()[1])
    return -1


def wait_for_text(path, text, what, timeout=30):
    """Waits until file PATH holds TEXT; returns what it holds."""
    end = time.time() + timeout
    while time.time() < end:
        with open(path) as f:
            got = f.read()
        if text in got:
            return got
        time.sleep(0.05)
    raise Fail(f"{what}: no '{text}' in {got!r}")


def curl_once(url):
    """One curl, untraced: (local port, request bytes, response bytes)."""
    rc, o, e = run(["curl", "-sS", "-o", "/dev/null", "-w",
                    "%{local_port} %{size_request} %{size_header} "
                    "%{size_download}", url], preload=False, timeout=30)
    check(rc == 0, f"curl: {e}")
    lport, req, hdr, body = map(int, o.split())
    return lport, req, hdr + body


@test
def ptrace_attach_go_server_and_detach():
    """A pure Go server running untraced: attach follows it with ptrace
    (and says so), shows each connection served meanwhile with curl's
    bytes and ss's closer, and on SIGTERM lets it go: no tracer left,
    and it serves the next request and ends as it would have."""
    before, during, after, size = 1, 3, 1, 2500
    with TraceDir() as t:
        exe = go_build(t.path, "http_server")
        total = before + during + after
        srv = subprocess.Popen([exe, str(total), str(size)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               env=base_env())
        att = None
        try:
            line = srv.stdout.readline().decode()
            check(line.startswith("port "), f"the server's port: {line}")
            url = f"http://127.0.0.1:{int(line.split()[1])}/"
            port = int(line.split()[1])
            pre = [curl_once(url) for _ in range(before)]
            out_path = os.path.join(t.path, "attach.out")
            with open(out_path, "w") as so, \
                    open(out_path + ".err", "w") as se:
                att = subprocess.Popen(
                    [VIEWER, "attach", "--json", "-o", t.dir,
                     str(srv.pid)], stdout=so, stderr=se, env=base_env())
            err = wait_for_text(out_path + ".err", "attached to",
                                "attach began")
            check("it is a Go program" in err and "with ptrace" in err and
                  "strace's cost" in err,
                  f"attach says it follows the Go server with ptrace and "
                  f"what that costs: {err}")
            check(tracer_pid(srv.pid) == att.pid or
                  tracer_pid(srv.pid) > 0, "the server is traced")
            seen = [curl_once(url) for _ in range(during)]
            # curl is done once it has the body; the server closes its
            # end after that: attach prints each end as it closes
            end = time.time() + 30
            while time.time() < end:
                with open(out_path) as f:
                    if f.read().count('"role":"server"') >= during:
                        break
                time.sleep(0.05)
            att.send_signal(signal.SIGTERM)
            rc = att.wait(60)
            check(rc == 0, f"attach ends on SIGTERM: {rc}")
            check(tracer_pid(srv.pid) == 0,
                  "no tracer is left on the server after attach")
            post = [curl_once(url) for _ in range(after)]
            check(all(b == post[0][2] for _, _, b in pre + seen + post),
                  f"the same answer before, during and after: "
                  f"{pre} {seen} {post}")
            srv.stdin.close()
            tail = srv.stdout.read().decode()
            check(srv.wait(30) == 0 and f"served {total}" in tail,
                  f"the server counted every request and ended: {tail}")
        finally:
            for p in (att, srv):
                if p and p.poll() is None:
                    p.kill()
                    p.wait()
        with open(out_path) as f:
            _, objs = split_run(f.read())
        with open(out_path + ".err") as f:
            err = f.read()
        check("data calls were not traced" in err,
              f"the view says data calls were not traced: {err}")
        procs = [o for o in objs if o["type"] == "process"]
        check(len(procs) == 1 and procs[0]["source"] == "ptrace" and
              procs[0]["pid"] == srv.pid, f"one process, by ptrace: {procs}")
        conns = [o for o in objs if o["type"] == "conn"]
        lst = [c for c in conns if c["role"] == "listener"]
        check(len(lst) == 1 and lst[0]["before_attach"] and
              lst[0]["local"] == f"127.0.0.1:{port}",
              f"the listener, open before attach: {lst}")
        served = [c for c in conns if c["role"] == "server"]
        check(sorted(int(c["peer"].rsplit(":", 1)[1]) for c in served) ==
              sorted(lp for lp, _, _ in seen),
              f"exactly the connections served while attached: "
              f"{[c['peer'] for c in served]} {seen}")
        tw = time_wait_pairs()
        for lport, req, resp in seen:
            sv = [c for c in served if c["peer"] == f"127.0.0.1:{lport}"][0]
            check(sv["bytes_in"] == req and sv["bytes_out"] == resp,
                  f"bytes (TCP_INFO) as curl counted them: curl "
                  f"{req}/{resp}, server {sv['bytes_in']}/"
                  f"{sv['bytes_out']}")
            check(sv["states"][-1][0] == "CLOSED",
                  f"the server end closed: {sv['states']}")
            srv_tw, cli_tw = (port, lport) in tw, (lport, port) in tw
            check(srv_tw or cli_tw, f"ss: a side in TIME_WAIT: {tw}")
            if srv_tw != cli_tw:
                want = ("local", "both") if srv_tw else ("peer", "both")
                check(sv["closed_by"] in want,
                      f"the closer as ss says (server TIME_WAIT "
                      f"{srv_tw}): {sv}")
        kinds = {f["kind"] for f in objs if f["type"] == "finding"}
        check(kinds <= {"server_time_wait"}, f"no false finding: {kinds}")


@test
def ptrace_attach_refuses_a_traced_process():
    """A process already under ptrace (here a first attach's tracer) is
    refused with the tracer's pid, and the first attach goes on."""
    with TraceDir() as t:
        exe = os.path.join(BUILD, "tests/progs/static_hello")
        p = subprocess.Popen([exe, "wait"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, env=base_env())
        first = None
        try:
            check(p.stdout.readline() == b"hello\n", "it runs")
            err_path = os.path.join(t.path, "first.err")
            with open(err_path, "w") as se:
                first = subprocess.Popen(
                    [VIEWER, "attach", "-o", t.dir, str(p.pid)],
                    stdout=subprocess.DEVNULL, stderr=se, env=base_env())
            wait_for_text(err_path, "attached to", "the first attach")
            rc, out, err = run([VIEWER, "attach", "--duration", "1", "-o",
                                t.dir, str(p.pid)], preload=False)
            check(rc == 1 and "already traced by process" in err,
                  f"the second attach refused, saying why: {rc} {err}")
            check(first.poll() is None and tracer_pid(p.pid) > 0,
                  "the first attach goes on")
            first.send_signal(signal.SIGTERM)
            check(first.wait(30) == 0 and tracer_pid(p.pid) == 0,
                  "and lets the program go")
        finally:
            for q in (first, p):
                if q and q.poll() is None:
                    q.kill()
                    q.wait()


@test
def ptrace_thousands_of_goroutines_connecting():
    """2,000 goroutines of a pure Go program dial its own listener at
    once (every connection open together, Go's threads all traced):
    run --ptrace prints what the program prints untraced, and shows
    every connection it counted, each client end joined to its server
    end, with the bytes it echoed, and nothing lost."""
    # each connection is two fds of the program: under a low fd limit
    # (Go raises its soft limit to the hard one) fewer, said in the name
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    n, size = min(2000, (hard - 100) // 2), 100
    with TraceDir() as t:
        exe = go_build(t.path, "many_conns")
        plain = run([exe, str(n), str(size)], preload=False, timeout=120)
        want = [f"dialed {n}", f"accepted {n}", f"bytes {n * size}"]
        check(plain[0] == 0 and plain[1].splitlines() == want,
              f"the program untraced: {plain}")
        rc, out, err = run([VIEWER, "run", "--json", "-o", t.dir, "--",
                            exe, str(n), str(size)], preload=False,
                           timeout=300)
        prog, objs = split_run(out)
        check(rc == 0 and prog == want and "tracing it with ptrace" in err,
              f"traced by ptrace, the same output: {rc} {prog} {err}")
        check("lost" not in err, f"no record lost: {err}")
        conns = {c["id"]: c for c in objs if c["type"] == "conn"}
        cl = [c for c in conns.values() if c["role"] == "client"]
        sv = [c for c in conns.values() if c["role"] == "server"]
        check(len(cl) == n and len(sv) == n,
              f"{n} client and {n} server ends: {len(cl)} {len(sv)}")
        bad = [c for c in cl if c["peer_conn"] not in conns or
               conns[c["peer_conn"]]["peer_conn"] != c["id"] or
               c["bytes_out"] != size or c["bytes_in"] != size or
               conns[c["peer_conn"]]["bytes_in"] != size]
        check(not bad, f"every end joined, {size} B each way: {bad[:3]}")
        kinds = {f["kind"] for f in objs if f["type"] == "finding"}
        check(not kinds, f"no finding: {kinds}")
