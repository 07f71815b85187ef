# SPDX-License-Identifier: MIT
# syscall(3): socket system calls made without their libc names (libuv,
# so Node.js, closes every socket that way), traced as the libc calls
# are, and nothing else changed.  Run by tests/integration.py in its
# namespace: its helpers and @test.

RAWSYS = os.path.join(BUILD, "tests/progs/rawsys")
NODE_JS = os.path.join(ROOT, "tests/node/conns.js")
# Debian's Node (make deps); a node elsewhere on PATH may be another build
NODE = "/usr/bin/node"


@test
def syscall_same_and_recorded():
    procs, calls = same_run([RAWSYS])
    check(len(procs) == 1 and procs[0]["lost"] == 0, "one process, no loss")
    check(not calls_of(calls, errno="EBADF") and
          not calls_of(calls, errno="ENOSYS"),
          "bad fds and numbers pass through unrecorded")
    socks = calls_of(calls, "socket", errno=None)
    check(len(socks) == 2, f"two sockets made through syscall(): {socks}")
    conns = {c["conn"] for c in socks}
    acc = calls_of(calls, "accept4", errno=None)
    check(len(acc) == 1 and acc[0]["peer"], f"accept4 and its peer: {acc}")
    conns.add(acc[0]["conn2"])
    closes = calls_of(calls, "close", errno=None)
    closed = {c["conn"] for c in closes}
    check(conns <= closed, f"every socket's close is seen: made {conns}, "
          f"closed {closed}")
    check(len([c for c in closes if c["conn"] == acc[0]["conn2"]]) == 3,
          "the server end's dup and fcntl copies are closed too")
    for name in ("bind", "listen", "connect", "write", "read", "writev",
                 "readv", "sendto", "recvfrom", "dup", "fcntl",
                 "getsockopt", "setsockopt", "shutdown", "socketpair",
                 "close_range"):
        check(calls_of(calls, name), f"{name} through syscall() recorded")
    out = sum(c["bytes"] or 0 for c in calls if c.get("dir") == "out")
    got = sum(c["bytes"] or 0 for c in calls if c.get("dir") == "in")
    check(out == got == 14, f"bytes out {out}, in {got}: 14 each")


def check_node(args, most):
    """Runs Node's server and client (tests/node/conns.js ARGS) under
    socktrace run: all the connections Node counted, at most MOST, are
    in the view, joined, every close seen, and no findings."""
    if not os.path.exists(NODE):
        print(f"  (skipped: {NODE} missing: 'make deps' installs nodejs)")
        return
    with TraceDir() as t:
        rc, out, err = run([VIEWER, "run", "-o", t.dir, "--json", "--",
                            NODE, NODE_JS] + args, timeout=120)
        check(rc == 0, f"node {args} exited {rc}: {err}")
        by = {"process": [], "call": [], "conn": [], "finding": []}
        counted = {}
        for line in out.splitlines():
            if line.startswith("{"):
                o = json.loads(line)
                if "type" in o:
                    by[o["type"]].append(o)
                else:
                    counted.update(o)
    check(0 < counted.get("accepted", 0) == counted.get("closed") ==
          counted.get("opened") <= most,
          f"Node counted {counted}, 1 to {most} connections wanted")
    tcp = [c for c in by["conn"] if c["kind"] == "tcp"]
    servers = [c for c in tcp if c["role"] == "server"]
    clients = [c for c in tcp if c["role"] == "client"]
    check(len(servers) == counted["accepted"] and
          len(clients) == counted["opened"],
          f"{len(servers)} server and {len(clients)} client ends, Node "
          f"counted {counted}")
    for c in tcp:
        check(c["end"] == "closed" and not c.get("closed_unseen"),
              f"every close seen: {c['id']} ended {c['end']}")
        check(c["role"] == "listener" or c["peer_conn"],
              f"end {c['id']} is joined to its peer")
    check(by["finding"] == [], f"no findings: {by['finding']}")


@test
def node_http_keepalive_closes_seen():
    check_node(["http", "20", "keepalive"], 2)


@test
def node_http_no_keepalive_closes_seen():
    check_node(["http", "20", "close"], 20)


@test
def node_net_closes_seen():
    check_node(["net", "10"], 10)


@test
def view_closed_unseen_when_fd_comes_back():
    """A close no wrapper sees (the instruction itself) and a new socket
    on the same fd: the old socket shows as closed unseen, not open
    beside the new one."""
    with TraceDir() as t:
        rc, out, err = run([RAWSYS, "unseen"], trace=t.dir)
        check(rc == 0 and "same fd again: 1" in out, f"rawsys: {out} {err}")
        by = view_json(t.dir)
        rc, text, err = run([VIEWER, "view", t.dir], preload=False)
    conns = by["conn"]
    check(len(conns) == 2, f"two sockets: {conns}")
    old, new = sorted(conns, key=lambda c: c["open_ts"])
    check(old["end"] == "closed" and old["closed_unseen"] is True and
          old["fd"] == new["fd"], f"the first closed unseen: {old}")
    check(new["end"] == "closed" and new["closed_unseen"] is False,
          f"the second closed as recorded: {new}")
    check(f"closed unseen: its fd {old['fd']} was reused" in text,
          f"the text view says so:\n{text}")
    check(by["finding"] == [], f"no findings: {by['finding']}")


@test
def attach_node_server_closes_seen():
    """attach redirects a running Node's syscall() like the libc names:
    the closes libuv makes through it are recorded; after detach the
    server still answers and records nothing."""
    if not os.path.exists(NODE):
        print(f"  (skipped: {NODE} missing: 'make deps' installs nodejs)")
        return
    with TraceDir() as t:
        os.makedirs(t.dir, mode=0o700)
        port = free_port()
        srv = subprocess.Popen([NODE, NODE_JS, "serve", str(port)],
                               env=base_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}/"
        try:
            wait_port(port, srv)
            a = Attach(["--json", "-o", t.dir, str(srv.pid)])
            for _ in range(3):
                rc, out, err = run(["curl", "-sS", url], preload=False)
                check(rc == 0 and out == "hello\n", f"curl: {err}")
            a.wait_closed(3)
            rc, by, err = a.stop()
            check(rc == 0, f"attach exit {rc}: {err}")
            ends = [c for c in by["conn"] if c["role"] == "server"
                    and not c["before_attach"]]
            check(len(ends) == 3 and
                  all(c["end"] == "closed" and not c["closed_unseen"]
                      for c in ends),
                  f"3 connections, each close recorded: {ends}")
            check(all(c["call"] != "close" or c["pid"] == srv.pid
                      for c in by["call"]), "the closes are Node's")
            rc, out, err = run([VIEWER, "detach", str(srv.pid)],
                               preload=False)
            check(rc == 0, f"detach: {err}")
            _, calls = dump(t.dir)
            rc, out, err = run(["curl", "-sS", url], preload=False)
            check(rc == 0 and out == "hello\n", f"curl after detach: {err}")
            time.sleep(0.2)
            _, after = dump(t.dir)
            check(len(after) == len(calls), "no records after detach")
        finally:
            stop_proc(srv)
