# SPDX-License-Identifier: MIT
# Integration tests: the accept queue (issue 13 item 6).  accept's
# "queue N/M" is the queue as the kernel had it before the accept took
# one, which ss shows as the listener's Recv-Q.  Loaded by
# integration.py.

QUEUE = os.path.join(BUILD, "tests/progs/queue")


def ss_listen_q(port):
    """The Recv-Q (connections queued) and Send-Q (limit) ss shows for
    the listener on PORT, or None."""
    r = subprocess.run(["ss", "-ltnH", f"sport = :{port}"],
                       capture_output=True, text=True, timeout=30)
    for x in r.stdout.splitlines():
        f = x.split()
        return int(f[1]), int(f[2])
    return None


def connect_until_queued(port, n, q):
    """N untraced connects to PORT, waiting until ss counts Q queued."""
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.settimeout(10)
        s.connect(("127.0.0.1", port))
        socks.append(s)
    for _ in range(100):
        if ss_listen_q(port)[0] == q:
            break
        time.sleep(0.05)
    return socks


@test
def accept_queue_is_the_length_before_the_accept():
    port = free_port()
    with TraceDir() as t:
        env = base_env()
        env.update(SOCKTRACE_DIR=t.dir, LD_PRELOAD=LIB)
        srv = subprocess.Popen([QUEUE, "127.0.0.1", str(port), "8"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               env=env)
        try:
            check(srv.stdout.readline() == b"ready\n", "the server is up")
            socks = connect_until_queued(port, 3, 3)
            before = ss_listen_q(port)
            srv.stdin.write(b"accept 3\n")
            srv.stdin.flush()
            check(srv.stdout.readline() == b"accepted\n", "it accepted 3")
            after = ss_listen_q(port)
            srv.stdin.write(b"close\n")
            srv.stdin.close()
            srv.wait(timeout=30)
        finally:
            if srv.poll() is None:
                srv.kill()  # our own child, by its pid
            for s in socks:
                s.close()
        procs, calls = dump(t.dir)
    check(before == (3, 8) and after == (0, 8),
          f"ss: 3 of 8 queued before the accepts, none after: "
          f"{before} {after}")
    acc = [(c["queue_len"], c["queue_max"]) for c in calls
           if c["call"] == "accept"]
    check(acc == [(3, 8), (2, 8), (1, 8)],
          f"each accept says the queue it found, as ss counted it "
          f"before the first: {acc}")
