# SPDX-License-Identifier: MIT
# Integration tests: the kernel's figures at close (TCP_INFO), held against
# a packet capture over a lossy path, against ss, and against sysctl.
# Loaded by integration.py.

BULK = os.path.join(BUILD, "tests/progs/bulk")


def traced_env(tdir):
    e = base_env()
    e["SOCKTRACE_DIR"] = tdir
    e["LD_PRELOAD"] = LIB
    return e


def view_json(tdir):
    """socktrace view --json TDIR: the lines by type."""
    rc, out, err = run([VIEWER, "view", "--json", tdir])
    check(rc == 0, f"view exit {rc}: {err}")
    by = {"process": [], "call": [], "conn": [], "finding": []}
    for line in out.splitlines():
        if line.startswith("{"):
            o = json.loads(line)
            by.setdefault(o["type"], []).append(o)
    return by


def sh(*argv):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, f"{' '.join(argv)}: {r.stderr.strip()}")


class LossyPath:
    """Three network namespaces, sender - router - receiver, joined by
    two veth pairs.  The router forwards to the receiver through a tbf
    whose queue holds 12 kB: a bulk sender overruns it and loses
    segments.  (This kernel has neither sch_netem nor the tc actions a
    drop rule needs, nor iptables; a full queue is real loss.)  The
    router sees every segment the sender sent, dropped ones included,
    on its first link."""
    TX, RX = "10.201.1.1", "10.201.2.2"

    def __enter__(self):
        tag = os.getpid() % 100000
        self.tx, self.rt, self.rx = (f"st{n}{tag}" for n in ("tx", "rt",
                                                             "rx"))
        self.made = []
        try:
            self._make()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _make(self):
        for n in (self.tx, self.rt, self.rx):
            sh("ip", "netns", "add", n)
            self.made.append(n)
            sh("ip", "-n", n, "link", "set", "lo", "up")
        sh("ip", "link", "add", "a0", "netns", self.tx, "type", "veth",
           "peer", "name", "a1", "netns", self.rt)
        sh("ip", "link", "add", "b0", "netns", self.rt, "type", "veth",
           "peer", "name", "b1", "netns", self.rx)
        for ns, dev, addr in ((self.tx, "a0", "10.201.1.1/24"),
                              (self.rt, "a1", "10.201.1.2/24"),
                              (self.rt, "b0", "10.201.2.1/24"),
                              (self.rx, "b1", "10.201.2.2/24")):
            sh("ip", "-n", ns, "addr", "add", addr, "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
        sh("ip", "-n", self.tx, "route", "add", "default", "via",
           "10.201.1.2")
        sh("ip", "-n", self.rx, "route", "add", "default", "via",
           "10.201.2.1")
        sh("ip", "netns", "exec", self.rt, "sysctl", "-qw",
           "net.ipv4.ip_forward=1")
        sh("ip", "netns", "exec", self.rt, "tc", "qdisc", "add", "dev", "b0",
           "root", "tbf", "rate", "20mbit", "burst", "8kb", "limit", "12kb")

    def __exit__(self, *a):
        # our own namespaces, by name; their veths go with them
        for n in self.made:
            subprocess.run(["ip", "netns", "del", n], capture_output=True)

    def popen(self, ns, argv, env, **kw):
        return subprocess.Popen(["ip", "netns", "exec", ns] + argv, env=env,
                                **kw)


def wire_data(pcap, dst_port):
    """The sender's data segments toward DST_PORT in PCAP: (bytes sent,
    bytes sent again, segments sent again).  A segment's bytes below the
    highest sequence number sent before it are a retransmission (the
    path does not reorder); the segments are of the MSS the SYN offered
    less 12 bytes of timestamps, as the sender cut them."""
    r = subprocess.run(["tcpdump", "-r", pcap, "-n", "-S"],
                       capture_output=True, text=True, timeout=60)
    top = None
    sent = again = segs = 0
    mss = 0
    for line in r.stdout.splitlines():
        if f".{dst_port}: " not in line.split(" > ", 1)[-1][:40]:
            continue
        if "Flags [S]" in line and "mss " in line:
            mss = int(line.split("mss ", 1)[1].split(",", 1)[0]) - 12
        if " seq " not in line:
            continue
        rng = line.split(" seq ", 1)[1].split(",", 1)[0]
        if ":" not in rng:
            continue
        a, b = (int(x) for x in rng.split(":"))
        if b <= a:
            continue
        sent += b - a
        if top is not None and a < top:
            n = min(b, top) - a
            again += n
            segs += -(-n // mss)
        top = b if top is None else max(top, b)
    return sent, again, segs


@test
def wire_retransmits_match_capture():
    n = 4000000
    with LossyPath() as path, TraceDir() as t:
        os.mkdir(t.dir, 0o700)
        pcap = os.path.join(t.path, "a1.pcap")
        td = path.popen(path.rt, ["tcpdump", "-i", "a1", "-U", "-n",
                                  "-B", "16384", "-s", "96", "-w", pcap,
                                  "tcp port 5001"], base_env(),
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            check("listening" in td.stderr.readline().decode(),
                  "tcpdump did not start")
            time.sleep(2)  # it misses packets for a while after
            rx = path.popen(path.rx, [BULK, "recv", "5001"],
                            traced_env(t.dir), stdout=subprocess.PIPE)
            check(rx.stdout.readline() == b"ready\n", "receiver not ready")
            tx = path.popen(path.tx, [BULK, "send", path.RX, "5001",
                                      str(n)], traced_env(t.dir),
                            stdout=subprocess.PIPE)
            out, _ = tx.communicate(timeout=120)
            check(tx.returncode == 0, f"sender exit {tx.returncode}")
            got = rx.communicate(timeout=30)[0].decode()
            check(got == f"received {n}\n", f"receiver: {got}")
            time.sleep(1)
        finally:
            td.terminate()  # our own tcpdump, by its pid
            err = td.communicate(timeout=10)[1].decode()
        check(re.search(r"(^|\n)0 packets dropped by kernel", err),
              f"tcpdump dropped packets: {err}")
        sent, again, segs = wire_data(pcap, 5001)
        by = view_json(t.dir)
    check(again > 0, "the tbf queue dropped nothing: no retransmission")
    cl = [c for c in by["conn"] if c["role"] == "client"]
    sv = [c for c in by["conn"] if c["role"] == "server"]
    check(len(cl) == 1 and len(sv) == 1, f"one connection: {by['conn']}")
    k = cl[0]["tcp"]
    check(k is not None and k["bytes_sent"] == sent and
          k["bytes_retrans"] == again and k["total_retrans"] == segs,
          f"the wire: {sent} B sent, {again} B ({segs} segments) again; "
          f"TCP_INFO at close: {k}")
    # the kernel counts the SYN and FIN in sequence space: data + 2 acked
    check(k["bytes_acked"] == n + 2 and k["rtt_us"] > 0 and
          k["min_rtt_us"] <= k["rtt_us"] and k["busy_us"] > 0,
          f"all {n} bytes acked, an rtt: {k}")
    check(sv[0]["tcp"]["bytes_received"] == n + 1 and
          sv[0]["tcp"]["total_retrans"] == 0,
          f"the receiver got {n} bytes and their FIN: {sv[0]['tcp']}")
    rt = [f for f in by["finding"] if f["kind"] == "retransmits"]
    check(len(rt) == 1 and rt[0]["conn"] == cl[0]["id"] and
          f"retransmitted {segs} segments" in rt[0]["message"],
          f"one retransmits finding, the sender's: {by['finding']}")


def ss_recv_q(port):
    """The Recv-Q ss shows for the TCP listener on PORT: its accept
    queue's length."""
    r = subprocess.run(["ss", "-ltnH", f"sport = :{port}"],
                       capture_output=True, text=True, timeout=10)
    rows = [line.split() for line in r.stdout.splitlines() if line.strip()]
    check(len(rows) == 1, f"ss: one listener on {port}: {r.stdout}")
    return int(rows[0][1])


@test
def listener_queue_at_close_matches_ss():
    port = free_port()
    with TraceDir() as t:
        os.mkdir(t.dir, 0o700)
        p = subprocess.Popen([BULK, "queue", str(port), "3"],
                             env=traced_env(t.dir), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE)
        try:
            check(p.stdout.readline() == b"ready\n", "bulk queue not ready")
            queued = ss_recv_q(port)
            p.stdin.write(b"close\n")
            p.stdin.flush()
            check(p.wait(timeout=30) == 0, "bulk queue failed")
        finally:
            if p.poll() is None:
                p.kill()  # our own child, by its pid
                p.wait()
        by = view_json(t.dir)
    check(queued == 3, f"ss shows the 3 connections queued: {queued}")
    lis = [c for c in by["conn"] if c["role"] == "listener"]
    check(len(lis) == 1 and lis[0]["queue_len_at_close"] == queued and
          lis[0]["accepted"] == 0 and lis[0]["tcp"] is None,
          f"the listener's queue at close is ss's Recv-Q: {lis}")
    aq = [f for f in by["finding"] if f["kind"] == "accept_queue_full"]
    check(len(aq) == 1 and "closed with 3 connections" in aq[0]["message"],
          f"accept_queue_full, said at close: {by['finding']}")
    for name in ("tcp_fin_timeout", "tcp_syn_retries", "tcp_synack_retries",
                 "tcp_tw_reuse"):
        with open(f"/proc/sys/net/ipv4/{name}") as f:
            want = int(f.read())
        check(all(pr[name] == want for pr in by["process"]),
              f"{name} {want} in each process line: {by['process']}")


def window_fills(text, port):
    """Data segments toward PORT in tcpdump TEXT (-S) that end exactly at
    the right edge of the window the receiver last advertised (its ack
    plus its window, scaled as its SYN+ACK said): the sender sent all
    the window let it."""
    ack = edge = None
    scale = 0
    fills = 0
    for line in text.splitlines():
        f = line.split()
        if len(f) < 5 or f[1] != "IP":
            continue
        from_rx = f[2].rsplit(".", 1)[1] == str(port)
        if from_rx and "wscale " in line:
            scale = int(line.split("wscale ", 1)[1].split("]", 1)[0])
        if from_rx and " ack " in line and " win " in line:
            ack = int(line.split(" ack ", 1)[1].split(",", 1)[0])
            win = int(line.split(" win ", 1)[1].split(",", 1)[0])
            edge = ack + (win << scale)
        elif not from_rx and " seq " in line and edge is not None:
            rng = line.split(" seq ", 1)[1].split(",", 1)[0]
            if ":" in rng and int(rng.split(":")[1]) == edge:
                fills += 1
    return fills


@test
def wire_receive_window_limits_sender():
    """A reader that takes 4 kB every 2 ms through a small receive
    buffer: the capture shows the sender filling the window it
    advertised, and the
    sender's TCP_INFO must say the peer's window held it back (its share
    of the busy time varies with scheduling, so any window_limited
    finding must name the receive window, never the send buffer)."""
    port = free_port()
    n = 1000000
    with TraceDir() as t:
        os.mkdir(t.dir, 0o700)
        pcap = os.path.join(t.path, "lo.pcap")
        td = subprocess.Popen(["tcpdump", "-i", "lo", "-U", "-n", "-B",
                               "16384", "-s", "96", "-w", pcap,
                               f"tcp port {port}"],
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
        try:
            check("listening" in td.stderr.readline().decode(),
                  "tcpdump did not start")
            time.sleep(2)  # it misses packets for a while after
            rx = subprocess.Popen([BULK, "recv", str(port), "2048", "2000"],
                                  env=traced_env(t.dir),
                                  stdout=subprocess.PIPE)
            check(rx.stdout.readline() == b"ready\n", "receiver not ready")
            rc, out, err = run([BULK, "send", "127.0.0.1", str(port),
                                str(n)], trace=t.dir)
            check(rc == 0, f"sender exit {rc}: {err}")
            got = rx.communicate(timeout=60)[0].decode()
            check(got == f"received {n}\n", f"receiver: {got}")
            time.sleep(1)
        finally:
            td.terminate()  # our own tcpdump, by its pid
            td.wait(timeout=10)
        r = subprocess.run(["tcpdump", "-r", pcap, "-n", "-S"],
                           capture_output=True, text=True, timeout=60)
        by = view_json(t.dir)
    full = window_fills(r.stdout, port)
    check(full, "the capture shows the sender never filled the window")
    cl = [c for c in by["conn"] if c["role"] == "client"]
    check(len(cl) == 1, f"one client: {by['conn']}")
    k = cl[0]["tcp"]
    check(k["busy_us"] > 0 and k["rwnd_limited_us"] > 0 and
          k["rwnd_limited_us"] >= k["sndbuf_limited_us"] and
          k["rwnd_limited_us"] <= k["busy_us"],
          f"{full} segments filled the window on the wire; TCP_INFO: {k}")
    wl = [f for f in by["finding"] if f["kind"] == "window_limited"]
    check(all("the peer's receive window" in f["message"] and
              f["conn"] == cl[0]["id"] for f in wl),
          f"window_limited names the receive window: {wl}")
