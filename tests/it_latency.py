# SPDX-License-Identifier: MIT
# Integration tests: states across real latency (issue 13 item 5).  A
# client and a server namespace joined through a router namespace whose
# forwarded packets pass a delay line (tests/progs/delayline: this
# kernel may lack sch_netem) 50 ms each way; tcpdump on both sides says
# when each segment left and when it arrived.  Loaded by integration.py.

DELAYLINE = os.path.join(BUILD, "tests/progs/delayline")
LATENCY = os.path.join(BUILD, "tests/progs/latency")


def lat_sh(*argv):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, f"{' '.join(argv)}: {r.stderr.strip()}")


class DelayNet:
    """Namespaces c (10.215.N.1), r (the router) and s (10.216.N.1); r
    sends every packet it forwards through a TUN delay line of MS ms."""

    def __init__(self, ms):
        self.ms = ms

    def __enter__(self):
        n = os.getpid() % 250 + 1
        self.c, self.r, self.s = (f"st-lat-{x}{n}" for x in "crs")
        self.cip, self.sip = f"10.215.{n}.1", f"10.216.{n}.1"
        self.line = None
        for ns in (self.c, self.r, self.s):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        try:
            self.setup(n)
        except BaseException:
            self.__exit__()
            raise
        return self

    def setup(self, n):
        for ns in (self.c, self.r, self.s):
            lat_sh("ip", "netns", "add", ns)
            lat_sh("ip", "-n", ns, "link", "set", "lo", "up")
        for ns, dev, rdev, net in ((self.c, "c0", "r0", f"10.215.{n}"),
                                   (self.s, "s0", "r1", f"10.216.{n}")):
            lat_sh("ip", "link", "add", dev, "netns", ns, "type", "veth",
                   "peer", "name", rdev, "netns", self.r)
            lat_sh("ip", "-n", ns, "addr", "add", f"{net}.1/24", "dev", dev)
            lat_sh("ip", "-n", self.r, "addr", "add", f"{net}.2/24", "dev",
                   rdev)
            lat_sh("ip", "-n", ns, "link", "set", dev, "up")
            lat_sh("ip", "-n", self.r, "link", "set", rdev, "up")
            lat_sh("ip", "-n", ns, "route", "add", "default", "via",
                   f"{net}.2")
        # the delay line gives packets back on its own device: no
        # reverse-path check there
        lat_sh("ip", "netns", "exec", self.r, "sysctl", "-qw",
               "net.ipv4.ip_forward=1", "net.ipv4.conf.all.rp_filter=0",
               "net.ipv4.conf.default.rp_filter=0")
        self.line = subprocess.Popen(
            ["ip", "netns", "exec", self.r, DELAYLINE, "dl0", str(self.ms)],
            stdout=subprocess.PIPE)
        check(self.line.stdout.readline() == b"ready\n", "delay line up")
        lat_sh("ip", "-n", self.r, "link", "set", "dl0", "up")
        # what comes in from either side goes into the delay line; what
        # comes out of it is routed on by its destination
        for dev in ("r0", "r1"):
            lat_sh("ip", "-n", self.r, "rule", "add", "iif", dev, "lookup",
                   "100")
        lat_sh("ip", "-n", self.r, "route", "add", "default", "dev", "dl0",
               "table", "100")

    def __exit__(self, *a):
        if self.line:
            self.line.kill()  # our own child, by its pid
            self.line.wait(timeout=10)
        # the veths and the TUN device go with their namespaces
        for ns in (self.c, self.r, self.s):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def lat_tcpdump(ns, dev, pcap):
    td = subprocess.Popen(["ip", "netns", "exec", ns, "tcpdump", "-i", dev,
                           "-U", "-n", "-Z", "root", "-w", pcap, "tcp"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    check("listening" in td.stderr.readline().decode(),
          "tcpdump did not start")
    return td


def lat_packets(pcap):
    """The capture's TCP packets: time (s), from the client (bool),
    flags, payload length."""
    r = subprocess.run(["tcpdump", "-r", pcap, "-n", "-tt"],
                       capture_output=True, text=True, timeout=30)
    pk = []
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) > 6 and f[1] == "IP" and "Flags [" in line:
            pk.append({"t": float(f[0]),
                       "client": f[2].startswith("10.215."),
                       "flags": line.split("Flags [", 1)[1].split("]")[0],
                       "len": int(line.rsplit("length ", 1)[1])})
    return pk


def lat_segments(pk):
    """When the handshake's SYN and final ACK and each side's FIN
    passed this capture point (s)."""
    syn = [p for p in pk if p["flags"] == "S"]
    synack = [p for p in pk if p["flags"] == "S."]
    check(len(syn) == 1 and len(synack) == 1,
          f"one SYN, one SYN+ACK: {pk}")
    ack = [p for p in pk if p["client"] and p["flags"] == "." and
           p["t"] >= synack[0]["t"]][0]
    fin = {p["client"]: p["t"] for p in pk if "F" in p["flags"]}
    check(len(fin) == 2, f"a FIN each way: {pk}")
    return {"syn": syn[0]["t"], "ack": ack["t"], "fin_cl": fin[True],
            "fin_sv": fin[False]}


def lat_run(net, d):
    """The latency server in s and client in c, traced into D, both
    sides captured: (client-side and server-side segment times)."""
    pc, ps = os.path.join(d, "c.pcap"), os.path.join(d, "s.pcap")
    tc = lat_tcpdump(net.c, "c0", pc)
    ts = lat_tcpdump(net.s, "s0", ps)
    env = base_env()
    # only the programs traced, not ip
    pre = ["env", f"SOCKTRACE_DIR={os.path.join(d, 't')}", f"LD_PRELOAD={LIB}"]
    try:
        time.sleep(2)  # tcpdump misses packets for a while after
        srv = subprocess.Popen(["ip", "netns", "exec", net.s] + pre +
                               [LATENCY, "serve", net.sip, "7000"],
                               stdout=subprocess.PIPE, env=env)
        check(srv.stdout.readline() == b"ready\n", "the server is up")
        r = subprocess.run(["ip", "netns", "exec", net.c] + pre +
                           [LATENCY, "client", net.sip, "7000"], env=env,
                           timeout=60,
                           capture_output=True, text=True)
        check(r.returncode == 0, f"the client: {r.stderr}")
        check(srv.wait(timeout=60) == 0, "the server exited 0")
        time.sleep(1)
    finally:
        for td in (tc, ts):
            td.terminate()  # our own tcpdumps, by their pids
            td.wait(timeout=10)
    return lat_segments(lat_packets(pc)), lat_segments(lat_packets(ps))


def lat_view(d):
    rc, out, err = run([VIEWER, "view", "--json", os.path.join(d, "t")])
    check(rc == 0, f"view: {err}")
    by = {"conn": [], "call": []}
    for line in out.splitlines():
        o = json.loads(line)
        by.setdefault(o["type"], []).append(o)
    cl, sv = ends(by)
    check(len(cl) == 1 and len(sv) == 1 and cl[0]["peer_conn"] == sv[0]["id"],
          f"one connection, both ends joined: {by['conn']}")
    return by, cl[0], sv[0]


def lat_call_end(by, conn, name):
    """When NAME on connection CONN returned (accept: that made it)."""
    c = [x for x in by["call"] if x["call"] == name and
         x["conn2" if name == "accept" else "conn"] == conn]
    check(len(c) == 1, f"one {name} on {conn}: {by['call']}")
    return c[0]["ts"] + c[0]["dur"]


@test
def states_across_latency_match_both_captures():
    if os.geteuid() != 0:
        raise Fail("needs root for network namespaces")
    with DelayNet(50) as net, TraceDir() as t:
        wc, ws = lat_run(net, t.path)
        by, cl, sv = lat_view(t.path)
    # the wire: how long each segment took from one side to the other
    owd_ack = ws["ack"] - wc["ack"]
    owd_fin_cl = ws["fin_cl"] - wc["fin_cl"]
    owd_fin_sv = wc["fin_sv"] - ws["fin_sv"]
    syn_recv = ws["ack"] - ws["syn"]
    tol = min(owd_ack, owd_fin_cl, owd_fin_sv) / 3  # from the capture
    check(tol > 0.005, f"the delay line delays: {wc} {ws}")
    c = {s: (ts, src) for s, ts, src in cl["states"]}
    s = {st: (ts, src) for st, ts, src in sv["states"]}
    check(states(sv)[:2] == ["SYN_RECV", "ESTABLISHED"] and
          s["SYN_RECV"][0] < s["ESTABLISHED"][0] and
          c["ESTABLISHED"][0] < s["ESTABLISHED"][0],
          f"the server end in SYN_RECV, then ESTABLISHED after the "
          f"client's connect returned: {cl['states']} {sv['states']}")

    def near(what, ours_ns, wire_s):
        check(abs(ours_ns / 1e9 - wire_s) <= tol,
              f"{what}: socktrace {ours_ns / 1e6:.1f} ms, the wire "
              f"{wire_s * 1e3:.1f} ms (tolerance {tol * 1e3:.1f} ms): "
              f"{cl['states']} {sv['states']}")

    near("the final ACK's way to the server",
         s["ESTABLISHED"][0] - c["ESTABLISHED"][0], owd_ack)
    near("the server's SYN_RECV", s["ESTABLISHED"][0] - s["SYN_RECV"][0],
         syn_recv)
    # the queue: from the ACK's arrival to accept's return; the calls'
    # own times, less the ACK's way as the captures saw it
    wait = (lat_call_end(by, sv["id"], "accept") -
            lat_call_end(by, cl["id"], "connect")) / 1e9 - owd_ack
    near("the accept-queue wait", sv["accept_wait_ns"], wait)
    near("the client's FIN's way", s["CLOSE_WAIT"][0] - c["FIN_WAIT"][0],
         owd_fin_cl)
    near("the server's FIN's way", c["TIME_WAIT"][0] - s["LAST_ACK"][0],
         owd_fin_sv)
    check(s["SYN_RECV"][1] == s["ESTABLISHED"][1] == "inferred" and
          c["TIME_WAIT"][1] == "inferred" and
          s["CLOSE_WAIT"][1] in ("call", "inferred"),
          f"arrival times are estimates, or a read of 0 showed them: "
          f"{cl['states']} {sv['states']}")


OVERFLOW = os.path.join(BUILD, "tests/progs/overflow")
QUEUE_PROG = os.path.join(BUILD, "tests/progs/queue")


def lat_retransmits(pk):
    """Per client port: (SYNs sent, whether a data segment went twice)."""
    by = {}
    for line in pk:
        f = line.split()
        if len(f) < 7 or f[1] != "IP" or not f[2].startswith("10.215."):
            continue
        port = int(f[2].rsplit(".", 1)[1])
        flags = line.split("Flags [", 1)[1].split("]")[0]
        syns, segs = by.setdefault(port, [0, []])
        if flags == "S":
            by[port][0] += 1
        m = re.search(r"seq (\d+):(\d+)", line)
        if m:
            segs.append(m.group(1))
    return {p: (s, len(segs) != len(set(segs))) for p, (s, segs) in
            by.items()}


@test
def queue_overflow_at_syn_and_at_ack_as_the_wire_shows():
    if os.geteuid() != 0:
        raise Fail("needs root for network namespaces")
    with DelayNet(50) as net, TraceDir() as t:
        lat_sh("ip", "netns", "exec", net.s, "sysctl", "-qw",
               "net.ipv4.tcp_abort_on_overflow=0")
        pc = os.path.join(t.path, "c.pcap")
        pre = ["env", f"SOCKTRACE_DIR={t.dir}", f"LD_PRELOAD={LIB}"]
        tc = lat_tcpdump(net.c, "c0", pc)
        srv = None
        try:
            time.sleep(2)  # tcpdump misses packets for a while after
            srv = subprocess.Popen(["ip", "netns", "exec", net.s] + pre +
                                   [QUEUE_PROG, net.sip, "7001", "1"],
                                   stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, env=base_env())
            check(srv.stdout.readline() == b"ready\n", "the server is up")
            r = subprocess.run(["ip", "netns", "exec", net.c] + pre +
                               [OVERFLOW, net.sip, "7001", "4", "2",
                                "2500"], capture_output=True, text=True,
                               timeout=60, env=base_env())
            check(r.returncode == 0, f"the clients: {r.stderr}")
            ss = subprocess.run(["ip", "netns", "exec", net.s, "ss",
                                 "-ltnH", "sport = :7001"],
                                capture_output=True, text=True,
                                timeout=30).stdout.split()
            srv.stdin.write(b"close\n")
            srv.stdin.close()
            check(srv.wait(timeout=30) == 0, "the server exited 0")
            time.sleep(1)
        finally:
            if srv and srv.poll() is None:
                srv.kill()  # our own child, by its pid
            tc.terminate()  # our own tcpdump, by its pid
            tc.wait(timeout=10)
        wire = subprocess.run(["tcpdump", "-r", pc, "-n", "-tt"],
                              capture_output=True, text=True,
                              timeout=30).stdout.splitlines()
        rc, out, err = run([VIEWER, "view", "--json", t.dir])
    check(rc == 0, f"view: {err}")
    by = {"conn": [], "finding": []}
    for line in out.splitlines():
        o = json.loads(line)
        by.setdefault(o["type"], []).append(o)
    rt = lat_retransmits(wire)
    syn_lost = sorted(p for p, (syns, _) in rt.items() if syns > 1)
    ack_lost = sorted(p for p, (syns, again) in rt.items()
                      if syns == 1 and again)
    check(len(rt) == 6 and syn_lost and ack_lost,
          f"the wire: 6 clients, some retried their SYN, some connected "
          f"at once and sent their request again: {rt}")
    lis = [c for c in by["conn"] if c["role"] == "listener"]
    check(len(lis) == 1 and lis[0]["accepted"] == 0, f"the listener: {lis}")
    f = [x for x in by["finding"] if x["kind"] == "accept_queue_full"]
    check(len(f) == 1 and f[0]["conn"] == lis[0]["id"],
          f"one accept_queue_full, on the listener: {by['finding']}")
    f = f[0]
    check(ss[1:3] == [str(lis[0]["queue_len_at_close"]), "1"] and
          "that the program never accepted" in f["message"],
          f"the queue at the listener's close as ss saw it before: "
          f"{ss} {lis[0]} {f}")
    check(f["syn_dropped"] == len(syn_lost) and
          f["ack_dropped"] == len(ack_lost) and f["dropped_at"] == "both",
          f"the finding counts the clients the wire shows retrying their "
          f"SYN ({syn_lost}) and resending their request ({ack_lost}): "
          f"{f}")
    check("at SYN time" in f["message"] and
          "at the final ACK" in f["message"],
          f"its words say which: {f['message']}")
    cl = {int(c["local"].rsplit(":", 1)[1]): c for c in by["conn"]
          if c["role"] == "client"}
    check(all("ESTABLISHED" not in states(cl[p]) for p in syn_lost) and
          all("ESTABLISHED" in states(cl[p]) for p in ack_lost),
          f"the SYN-dropped clients never ESTABLISHED, the others did: "
          f"{[(p, states(c)) for p, c in cl.items()]}")
