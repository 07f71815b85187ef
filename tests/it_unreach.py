# SPDX-License-Identifier: MIT
# Integration tests: unreachable peers (issue 13 item 8).  Two network
# namespaces joined by a veth pair, made here and removed after, give
# each cause of EHOSTUNREACH its own signature on the wire; the
# findings must name the cause the capture shows.  Loaded by
# integration.py.

UNREACH = os.path.join(BUILD, "tests/progs/unreach")


def sh(*argv):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, f"{' '.join(argv)}: {r.stderr.strip()}")


def iptables():
    """An iptables that works in a new namespace here, or None."""
    for name in ("iptables", "iptables-legacy"):
        if shutil.which(name):
            return name
    return None


class Netns:
    """Client and server namespaces on 10.213.N.0/24 (.1 the client, .2
    the server); 10.214.N.0/24 is unreachable from the client; .9 answers
    no ARP; the server rejects TCP port 7 with ICMP host unreachable."""

    def __enter__(self):
        n = os.getpid() % 250 + 1
        self.c, self.s = f"st-unr-c{n}", f"st-unr-s{n}"
        self.dev = f"stu{n}"
        self.net = f"10.213.{n}"
        self.far = f"10.214.{n}.1"
        for ns in (self.c, self.s):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        try:
            sh("ip", "netns", "add", self.c)
            sh("ip", "netns", "add", self.s)
            sh("ip", "link", "add", self.dev + "c", "netns", self.c, "type",
               "veth", "peer", "name", self.dev + "s", "netns", self.s)
            for ns, dev, host in ((self.c, self.dev + "c", 1),
                                  (self.s, self.dev + "s", 2)):
                sh("ip", "-n", ns, "addr", "add", f"{self.net}.{host}/24",
                   "dev", dev)
                sh("ip", "-n", ns, "link", "set", dev, "up")
                sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", self.c, "route", "add", "unreachable",
               f"10.214.{n}.0/24")
            ipt = iptables()
            check(ipt, "no iptables: cannot make the ICMP reject (make deps)")
            sh("ip", "netns", "exec", self.s, ipt, "-A", "INPUT", "-p", "tcp",
               "--dport", "7", "-j", "REJECT", "--reject-with",
               "icmp-host-unreachable")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *a):
        # the veth pair goes with its namespaces
        for ns in (self.c, self.s):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def tcpdump_in(ns, dev, pcap):
    td = subprocess.Popen(["ip", "netns", "exec", ns, "tcpdump", "-i", dev,
                           "-U", "-n", "-Z", "root", "-w", pcap],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    check("listening" in td.stderr.readline().decode(),
          "tcpdump did not start")
    time.sleep(2)  # it misses packets for a while after saying so
    return td


@test
def unreachable_causes_named_as_the_wire_shows():
    if os.geteuid() != 0:
        raise Fail("needs root for network namespaces")
    with Netns() as ns, TraceDir() as t:
        pcap = os.path.join(t.path, "veth.pcap")
        td = tcpdump_in(ns.c, ns.dev + "c", pcap)
        try:
            r = subprocess.run(
                ["ip", "netns", "exec", ns.c, VIEWER, "run", "-o", t.dir,
                 "--json", "--", UNREACH, ns.far, f"{ns.net}.9",
                 f"{ns.net}.2", "7", "9"],
                capture_output=True, text=True, timeout=60, env=base_env())
            time.sleep(1)
        finally:
            td.terminate()  # our own tcpdump, by its pid
            td.wait(timeout=10)
        wire = subprocess.run(["tcpdump", "-r", pcap, "-n", "not ip6"],
                              capture_output=True, text=True,
                              timeout=30).stdout
        run_check_unreach(ns, r, wire)


def run_check_unreach(ns, r, wire):
    said = dict(line.split() for line in r.stdout.splitlines()
                if not line.startswith("{"))
    check(said == {"route": "EHOSTUNREACH", "neigh": "EHOSTUNREACH",
                   "reject": "EHOSTUNREACH", "udp": "ECONNREFUSED"},
          f"the program saw each error: {said} {r.stderr}")
    lines = [json.loads(x) for x in r.stdout.splitlines()
             if x.startswith("{")]
    conns = {c["peer"]: c for c in lines if c["type"] == "conn"}
    found = [f for f in lines if f["type"] == "finding"]

    def finding(peer, kind):
        got = [f for f in found if f["kind"] == kind and
               f["conn"] == conns[peer]["id"]]
        check(len(got) == 1, f"one {kind} for {peer}: {found}")
        return got[0]

    # the wire: nothing to the unreachable route's address
    check(ns.far not in wire, f"a packet to {ns.far} on the wire: {wire}")
    f = finding(f"{ns.far}:80", "connect_failed")
    check(f["cause"] == "route" and "routing table" in f["message"] and
          "SYN_SENT" not in states(conns[f"{ns.far}:80"]),
          f"route: no SYN, the finding says the route: {f} "
          f"{conns[ns.far + ':80']['states']}")
    # the wire: ARP requests for .9 and no answer, no SYN to it
    neigh = f"{ns.net}.9"
    asks = [x for x in wire.splitlines() if f"who-has {neigh}" in x]
    check(len(asks) >= 2 and f"{neigh} is-at" not in wire and
          f"> {neigh}." not in wire,
          f"the wire: ARP for {neigh} unanswered, no SYN: {wire}")
    f = finding(f"{neigh}:80", "connect_failed")
    check(f["cause"] == "neighbour" and "ARP" in f["message"],
          f"neigh: the finding says no ARP answer: {f}")
    # the wire: a SYN to port 7, answered with ICMP host unreachable
    rej = f"{ns.net}.2"
    syn = wire.find(f"> {rej}.7: Flags [S]")
    check(0 <= syn < wire.find(f"ICMP host {rej} unreachable"),
          f"the wire: SYN, then ICMP host unreachable: {wire}")
    f = finding(f"{rej}:7", "connect_failed")
    check(f["cause"] == "icmp" and "ICMP unreachable" in f["message"],
          f"reject: the finding says ICMP: {f}")
    # the wire: a datagram to port 9, then ICMP port unreachable
    check(f"{rej} udp port 9 unreachable" in wire,
          f"the wire: ICMP port unreachable for UDP 9: {wire}")
    f = finding(f"{rej}:9", "udp_refused")
    check("ECONNREFUSED" in f["message"] and
          "ICMP port unreachable" in f["message"], f"udp: {f}")
