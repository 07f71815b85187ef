# haproxy in front of python3 -m http.server, every process traced, held to
# haproxy's own counters and to ss.  Runs in integration.py's namespace.

HAPROXY_CONFIG = """global
    maxconn 64
    stats socket {d}/admin.sock mode 600 level admin
defaults
    mode http
    timeout connect 5s
    timeout client 10s
    timeout server 10s
frontend fe
    bind 127.0.0.1:{front}
    default_backend be
backend be
    server s1 127.0.0.1:{back}
"""


def haproxy_ask(sock, command):
    """One command on haproxy's stats socket (not traced)."""
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(sock)
    s.sendall(command.encode() + b"\n")
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
    s.close()
    return out.decode()


def haproxy_counts(sock):
    """haproxy's connections accepted by frontend fe (show stat's stot of
    its FRONTEND row: sessions, one per connection) and connections it
    opened to server s1 (its connect column)."""
    rows = haproxy_ask(sock, "show stat").splitlines()
    head = rows[0].lstrip("# ").split(",")
    row = {tuple(r.split(",")[:2]): dict(zip(head, r.split(",")))
           for r in rows[1:] if r}
    return int(row["fe", "FRONTEND"]["stot"]), int(row["be", "s1"]["connect"])


def time_wait_ports(port):
    """The client ports of the connections ss shows in TIME-WAIT on the
    side that listens on PORT (that side closed first)."""
    rc, out, err = run(["ss", "-Htn", "state", "time-wait",
                        f"sport = :{port}"], preload=False)
    check(rc == 0, f"ss: {err}")
    return sorted(int(line.split()[-1].rsplit(":", 1)[1])
                  for line in out.splitlines() if line.strip())


@test
def haproxy_http_proxy_joined():
    """curl -> haproxy -> python http.server, all traced: curl gets the
    same bytes as untraced; haproxy's ends are as many as its own counters
    say (connections accepted, connections opened to the server); every
    end is joined across both hops with bytes mirrored; which side closed
    first agrees with the TIME-WAITs ss shows; no false finding."""
    haproxy = need("haproxy")
    with TraceDir() as t:
        os.makedirs(t.dir)
        www = os.path.join(t.path, "www")
        os.mkdir(www)
        with open(os.path.join(www, "page.txt"), "w") as f:
            f.write("through haproxy\n" * 300)
        front, back = free_port(), free_port()
        cfg = os.path.join(t.path, "haproxy.cfg")
        with open(cfg, "w") as f:
            f.write(HAPROXY_CONFIG.format(d=t.path, front=front, back=back))
        url = f"http://127.0.0.1:{front}/page.txt"
        got = []
        with Server(["python3", "-m", "http.server", str(back), "--bind",
                     "127.0.0.1", "--directory", www], t.dir, back):
            for preload in (False, True):
                with Server([haproxy, "-db", "-f", cfg], t.dir, front,
                            preload=preload):
                    out = [run(["curl", "-sS", url], trace=t.dir,
                               preload=preload) for _ in range(4)]
                    got.append(out)
                    if preload:
                        accepted, opened = haproxy_counts(
                            os.path.join(t.path, "admin.sock"))
                        front_tw = time_wait_ports(front)
                        back_tw = time_wait_ports(back)
        check(got[0] == got[1] and
              got[0][0] == (0, "through haproxy\n" * 300, ""),
              f"curl the same through a traced haproxy: {got}")
        by = view_json(t.dir)
        conns = [c for c in by["conn"] if c["kind"] == "tcp"]
        hp = [c for c in conns if c["comm"] == "haproxy"]
        hp_srv = [c for c in hp if c["role"] == "server"]
        hp_cl = [c for c in hp if c["role"] == "client"]
        check(len(hp_srv) == accepted,
              f"haproxy's server ends {len(hp_srv)} are the connections it "
              f"counted (its stot {accepted})")
        check(len(hp_cl) == opened,
              f"haproxy's client ends {len(hp_cl)} are the connections it "
              f"opened to the server ('connect' {opened})")
        curls = [c for c in conns if c["comm"] == "curl"]
        check(len(curls) == 4, f"four traced curl connections: {curls}")
        all_joined(conns, curls)
        all_joined(conns, hp_cl)
        # the listening side is in TIME_WAIT exactly where ss shows it
        # (haproxy towards curl; http.server towards haproxy), where the
        # other end was traced too: haproxy may close its server
        # connections with SO_LINGER {1,0}, and its RST after the
        # server's FIN ends the server's FIN_WAIT or TIME_WAIT at once
        pys = [c for c in conns if c["comm"].startswith("python") and
               c["role"] == "server"]
        for ends, tw, who in ((hp_srv, front_tw, "haproxy"),
                              (pys, back_tw, "http.server")):
            ends = [c for c in ends if c["peer_conn"]]
            said = sorted(int(c["peer"].rsplit(":", 1)[1]) for c in ends
                          if "TIME_WAIT" in [s[0] for s in c["states"]])
            traced = {int(c["peer"].rsplit(":", 1)[1]) for c in ends}
            check(said == [p for p in tw if p in traced],
                  f"{who}'s ends in TIME_WAIT {said} are the TIME-WAITs "
                  f"ss shows {tw}")
            check(all(c["closed_by"] in ("local", "both") for c in ends
                      if c["peer"].rsplit(":", 1)[1] in map(str, said)),
                  f"{who}: a TIME_WAIT end closed first: {ends}")
        reset = [c for c in hp_cl if c["close_how"] == "rst"]
        check(all(c["reset_reason"] == "linger0" and
                  c["options"].get("SO_LINGER") == [1, 0] for c in reset),
              f"haproxy's RSTs are its SO_LINGER {{1,0}} closes: {reset}")
        # with haproxy untraced, http.server's TIME_WAITs are guesses
        for c in pys:
            if not c["peer_conn"] and c["closed_by"] == "local":
                check(c["states"][-2][0] == "TIME_WAIT" and
                      c["states"][-2][2] == "inferred",
                      f"an untraced peer's TIME_WAIT is a guess: {c}")
        # server_time_wait: a fact where haproxy was traced (ss shows
        # each), a guess where it was not (its RST may have ended it)
        ids = {c["id"]: c for c in pys}
        for f in by["finding"]:
            c = ids.get(f.get("conn"))
            if f["kind"] != "server_time_wait" or not c:
                continue
            port = int(c["peer"].rsplit(":", 1)[1])
            check(f["guess"] == (not c["peer_conn"]) and
                  (f["guess"] or port in back_tw) and
                  ("likely" in f["message"]) == f["guess"],
                  f"server_time_wait on the evidence: {f} {c} {back_tw}")
        check(any(f["kind"] == "server_time_wait" and f["guess"]
                  for f in by["finding"]),
              "http.server closed first towards the untraced haproxy")
        bad = [f for f in by["finding"] if f["kind"] in
               ("fd_leak", "close_wait")]
        check(not bad, f"no false finding: {bad}")
