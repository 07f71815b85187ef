# SPDX-License-Identifier: MIT
# Fork-per-connection servers as users run them: PostgreSQL's postmaster
# accepts, forks a backend per connection and closes its copy; the
# backend serves and exits.  The timelines are checked against
# PostgreSQL's own account (log_connections, with each backend's pid).
# Run by tests/integration.py in its namespace: its helpers and @test.

import glob
import pwd

PG_BIN = "/usr/lib/postgresql/*/bin"


def pg_bin(name):
    found = sorted(glob.glob(f"{PG_BIN}/{name}"))
    if not found:
        raise Fail("PostgreSQL is not installed: run 'make deps'")
    return found[-1]


def as_postgres(argv, env=None, timeout=120):
    """Runs ARGV as user postgres (PostgreSQL refuses root), with ENV
    given to the program alone, not to runuser."""
    e = [f"{k}={v}" for k, v in (env or {}).items()]
    return run(["runuser", "-u", "postgres", "--", "env"] + e + argv,
               preload=False, timeout=timeout)


class Postgres:
    """A PostgreSQL cluster in D (made with initdb), preloaded into
    TRACE, on a loopback PORT and a Unix socket in D/sock; every
    connection and its backend's pid logged.  Stopped, and its
    processes gone, on exit."""

    def __init__(self, d, trace, preload=True):
        self.d, self.trace, self.preload = d, trace, preload
        self.data, self.sock = f"{d}/data", f"{d}/sock"
        self.port = free_port()

    def __enter__(self):
        pg = pwd.getpwnam("postgres")
        for p in (self.d, self.trace, self.sock):
            os.makedirs(p, exist_ok=True)
            os.chown(p, pg.pw_uid, pg.pw_gid)
        rc, out, err = as_postgres([pg_bin("initdb"), "-D", self.data,
                                    "-A", "trust", "--no-sync"])
        check(rc == 0, f"initdb: {err}")
        self.log = f"{self.d}/log"
        rc, out, err = as_postgres(
            [pg_bin("pg_ctl"), "-D", self.data, "-l", self.log, "-w",
             "-o", f"-p {self.port} -k {self.sock} "
             "-c listen_addresses=127.0.0.1 -c log_connections=on "
             "-c log_line_prefix='%p '", "start"],
            env={"LD_PRELOAD": LIB, "SOCKTRACE_DIR": self.trace}
            if self.preload else {})
        check(rc == 0, f"pg_ctl start: {out} {err}")
        return self

    def __exit__(self, *a):
        as_postgres([pg_bin("pg_ctl"), "-D", self.data, "-m", "fast", "-w",
                     "stop"])
        pidfile = f"{self.data}/postmaster.pid"
        if os.path.exists(pidfile):  # stop failed: end it by its pid
            with open(pidfile) as f:
                try:
                    os.kill(int(f.readline()), signal.SIGKILL)
                except (ValueError, ProcessLookupError):
                    pass

    def postmaster(self):
        with open(f"{self.data}/postmaster.pid") as f:
            return int(f.readline())

    def backends(self, since=0):
        """PostgreSQL's own account: (backend pid, client port or
        'local') of every connection it received (after byte SINCE of
        its log)."""
        got = []
        with open(self.log) as f:
            f.seek(since)
            for line in f:
                m = re.match(r"(\d+) LOG:  connection received: "
                             r"host=(\S+)(?: port=(\d+))?", line)
                if m:
                    got.append((int(m.group(1)),
                                int(m.group(3)) if m.group(3) else "local"))
        return got


@test
def postgres_pgbench_psql_joined():
    """pgbench -C (a connection per transaction) and psql over TCP and the
    Unix socket, both sides traced: one server end per connection
    PostgreSQL logged, each served by the backend that logged it, every
    traced client joined with bytes mirrored, and no false finding
    (the postmaster's close of its copy is not the connection's close;
    a backend's exit closes it)."""
    with TraceDir() as t:
        os.makedirs(t.dir)
        with Postgres(t.path, t.dir) as pg:
            env = {"LD_PRELOAD": LIB, "SOCKTRACE_DIR": t.dir}
            tcp = ["-h", "127.0.0.1", "-p", str(pg.port)]
            rc, out, err = as_postgres([pg_bin("pgbench"), "-i", "-q"] +
                                       tcp + ["postgres"], env=env)
            check(rc == 0, f"pgbench -i: {err}")
            rc, out, err = as_postgres([pg_bin("pgbench"), "-C", "-c", "2",
                                        "-t", "10"] + tcp + ["postgres"],
                                       env=env)
            check(rc == 0 and "processed: 20/20" in out,
                  f"pgbench: {out} {err}")
            for host in ("127.0.0.1", pg.sock):
                rc, out, err = as_postgres(
                    ["psql", "-X", "-At", "-h", host, "-p", str(pg.port),
                     "-c", "select 41 + 1", "postgres"], env=env)
                check(rc == 0 and out.strip() == "42", f"psql: {out} {err}")
            # the kernel's word on who closed first: a server-side
            # TIME_WAIT (60 s) for each connection the backend ended
            rc, ss, err = run(["ss", "-Htn", "state", "time-wait",
                               f"sport = :{pg.port}"], preload=False)
            check(rc == 0, f"ss: {err}")
        server_tw = sorted(int(line.split()[-1].rsplit(":", 1)[1])
                           for line in ss.splitlines() if line.strip())
        backends = pg.backends()
        rc, out, err = run([VIEWER, "view", "--json", t.dir], preload=False)
        check(rc == 0, f"view: {err}")
        by = {"conn": [], "finding": []}
        for line in out.splitlines():
            o = json.loads(line)
            by.setdefault(o["type"], []).append(o)
        conns = by["conn"]
        sv = [c for c in conns if c["role"] == "server"]
        tcp_ports = sorted(int(c["peer"].rsplit(":", 1)[1]) for c in sv
                           if c["kind"] == "tcp")
        check(tcp_ports == sorted(p for _, p in backends if p != "local"),
              f"one server end per TCP connection PostgreSQL logged: "
              f"{tcp_ports} against {backends}")
        check(len([c for c in sv if c["kind"] == "unix"]) ==
              len([p for _, p in backends if p == "local"]),
              "one server end per Unix connection PostgreSQL logged")
        cl = [c for c in conns if c["role"] == "client"]
        check(len(cl) >= 23, f"pgbench's and psql's connections: {len(cl)}")
        all_joined(conns, cl)
        bad = [f for f in by["finding"] if f["kind"] in
               ("fd_leak", "close_wait")]
        check(not bad, f"no false finding: {bad}")
        # a backend may exit before its client's close (a race of the
        # Terminate message): who closed first must agree with the kernel
        first = sorted(int(c["peer"].rsplit(":", 1)[1]) for c in sv
                       if c["kind"] == "tcp" and c["closed_by"] in
                       ("local", "both"))
        check(first == server_tw, f"server ends that closed first {first} "
              f"are the server-side TIME_WAITs ss shows {server_tw}")
        stw = {f["conn"] for f in by["finding"]
               if f["kind"] == "server_time_wait"}
        check(stw <= {c["id"] for c in sv if c["closed_by"] in
                      ("local", "both")},
              f"server_time_wait only where the server closed first: {stw}")
        # the backend that logged a port serves that connection: --pid
        # shows it, its calls labelled with the backend
        pid, port = next((b, p) for b, p in backends if p != "local")
        rc, out, err = run([VIEWER, "view", "--json", "--pid", str(pid),
                            t.dir], preload=False)
        mine = [json.loads(line) for line in out.splitlines()
                if '"type":"conn"' in line]
        check(rc == 0 and any(c["peer"] == f"127.0.0.1:{port}"
                              for c in mine),
              f"view --pid {pid} shows its connection from port {port}: "
              f"{mine} {err}")
        rc, out, err = run([VIEWER, "view", "--pid", str(pid), t.dir],
                           preload=False)
        check(f"server postgres[{pid}] recv(" in out,
              f"the backend's calls are labelled with its pid: {out}")


@test
def postgres_attach_children_once():
    """attach --children to a PostgreSQL started without the preload:
    each connection PostgreSQL logged during the attach is shown once,
    served by its backend, though the postmaster closed its copy before
    the backend's trace file appeared (before: twice, one copy an
    unaddressed end)."""
    with TraceDir() as t:
        os.makedirs(t.dir)
        with Postgres(t.path, t.dir, preload=False) as pg:
            pm = pg.postmaster()
            rc, out, err = as_postgres([pg_bin("pgbench"), "-i", "-q", "-h",
                                        "127.0.0.1", "-p", str(pg.port),
                                        "postgres"])
            check(rc == 0, f"pgbench -i: {err}")
            a = Attach(["--json", "--children", "-o", t.dir, str(pm)],
                       wait=0)
            try:
                a.wait_for(f"attached to postgres[{pm}]")
                since = os.path.getsize(pg.log)
                rc, out, err = as_postgres(
                    [pg_bin("pgbench"), "-C", "-c", "2", "-t", "5", "-h",
                     "127.0.0.1", "-p", str(pg.port), "postgres"])
                check(rc == 0 and "processed: 10/10" in out,
                      f"pgbench: {out} {err}")
                logged = pg.backends(since)
                end = time.time() + 60
                while time.time() < end:  # each shown when its backend ends
                    with a.lock:
                        n = sum('"role":"server"' in x and
                                '"before_attach":false' in x for x in a.out)
                    if n >= len(logged):
                        break
                    time.sleep(0.2)
            finally:
                rc, by, err = a.stop()
        check(rc == 0, f"attach: {rc} {err}")
        sv = [c for c in by["conn"] if c["role"] == "server" and
              not c["before_attach"]]
        ports = sorted(int(c["peer"].rsplit(":", 1)[1]) for c in sv)
        check(ports == sorted(p for _, p in logged),
              f"each connection PostgreSQL logged shown once: {ports} "
              f"against {logged}")
        pids = {b: p for b, p in logged}
        for c in sv:
            port = int(c["peer"].rsplit(":", 1)[1])
            backend = next(b for b, p in pids.items() if p == port)
            check(c["end"] == "exit" and c["bytes_in"] > 0,
                  f"served by backend {backend} until it exited: {c}")
        stray = [c for c in by["conn"] if c["role"] == "socket"]
        check(not stray, f"no unaddressed copy of a connection: {stray}")


SSHD_CONFIG = """Port {port}
ListenAddress 127.0.0.1
HostKey {d}/host_key
PidFile {d}/sshd.pid
AuthorizedKeysFile {d}/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
"""


def sshd_setup(d):
    """Keys and an sshd_config in D for an sshd on a free loopback port:
    (port, the ssh command line that logs in as root)."""
    keygen = need("ssh-keygen")
    for name in ("host_key", "user_key"):
        rc, out, err = run([keygen, "-q", "-t", "ed25519", "-N", "",
                            "-f", f"{d}/{name}"], preload=False)
        check(rc == 0, f"ssh-keygen: {err}")
    shutil.copy(f"{d}/user_key.pub", f"{d}/authorized_keys")
    os.makedirs("/run/sshd", exist_ok=True)  # privilege separation
    port = free_port()
    with open(f"{d}/sshd_config", "w") as f:
        f.write(SSHD_CONFIG.format(port=port, d=d))
    return port, ["ssh", "-p", str(port), "-i", f"{d}/user_key", "-F",
                  "/dev/null", "-o", "StrictHostKeyChecking=no", "-o",
                  "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
                  "-o", "LogLevel=ERROR", "root@127.0.0.1"]


@test
def sshd_reexec_one_connection():
    """sshd forks a child per connection, which re-execs sshd with the
    socket inherited on a new image: each ssh connection is one joined
    connection (before: the listener's end ended at the exec with no
    bytes, and the new image's end stood apart), with bytes that agree
    with the kernel's count on both sides."""
    sshd = need("sshd")
    with TraceDir() as t:
        d = t.path
        port, ssh = sshd_setup(d)
        with Server([sshd, "-D", "-e", "-f", f"{d}/sshd_config"], t.dir,
                    port):
            plain = run(ssh + ["echo", "over ssh"], preload=False)
            traced = run(ssh + ["echo", "over ssh"], trace=t.dir)
            check(plain == traced and plain[1] == "over ssh\n",
                  f"ssh the same traced: {plain} {traced}")
            rc, out, err = run(ssh + ["true"], trace=t.dir)
            check(rc == 0, f"ssh true: {err}")
        by = view_json(t.dir)
        conns = by["conn"]
        cl = [c for c in conns if c["comm"] == "ssh" and
              c["role"] == "client"]
        sv = [c for c in conns if c["comm"] == "sshd" and
              c["kind"] == "tcp" and c["role"] == "server"]
        check(len(cl) == 2, f"two traced ssh connections: {cl}")
        # wait_port's probe and the untraced ssh are accepted too
        check(len(sv) == 4, f"one server end per connection: {sv}")
        all_joined(conns, cl)
        for c in cl:
            s = next(x for x in sv if x["id"] == c["peer_conn"])
            # the client's own close (or exit) read the kernel's count:
            # all it read, and what came after its last read (the
            # server's last holder exits: its figures are an earlier
            # copy's close)
            check(c["tcp"] and c["tcp"]["bytes_received"] >=
                  c["bytes_in"] > 0, f"bytes as the kernel counted: {c}")
            check(s["bytes_in"] == c["bytes_out"] and
                  s["bytes_out"] == c["bytes_in"],
                  f"served end to end: {s} {c}")


@test
def postgres_untraced_clients_closed_by_kernel_word():
    """The server traced alone: its backends exit holding the client's
    socket.  Who closed first comes from the kernel's state recorded as
    each backend exited (exit_close) or is marked a guess; checked
    against ss's TIME_WAITs on either side (the active closer's)."""
    with TraceDir() as t:
        os.makedirs(t.dir)
        with Postgres(t.path, t.dir) as pg:
            rc, out, err = as_postgres(
                [pg_bin("pgbench"), "-i", "-q", "-h", "127.0.0.1", "-p",
                 str(pg.port), "postgres"])
            check(rc == 0, f"pgbench -i: {err}")
            rc, out, err = as_postgres(
                [pg_bin("pgbench"), "-C", "-c", "2", "-t", "20", "-h",
                 "127.0.0.1", "-p", str(pg.port), "postgres"])
            check(rc == 0 and "processed: 40/40" in out, f"pgbench: {out}")
            ss = {}
            for side, flt in (("server", f"sport = :{pg.port}"),
                              ("client", f"dport = :{pg.port}")):
                rc, o, err = run(["ss", "-Htn", "state", "time-wait", flt],
                                 preload=False)
                check(rc == 0, f"ss: {err}")
                ss[side] = len([x for x in o.splitlines() if x.strip()])
        by = view_json(t.dir)
        sv = [c for c in by["conn"] if c["role"] == "server" and
              c["kind"] == "tcp" and c["end"] == "exit"]
        check(len(sv) >= 40, f"the backends' ends, closed by exit: {sv}")
        sure = [c for c in sv if not c["closed_by_guess"]]
        local = [c for c in sure if c["closed_by"] == "local"]
        peer = [c for c in sure if c["closed_by"] == "peer"]
        guess = [c for c in sv if c["closed_by_guess"]]
        check(sure, "the kernel's word decided some")
        check(len(local) <= ss["server"] <= len(local) + len(guess) and
              len(peer) <= ss["client"],
              f"the verdicts agree with ss: server first {len(local)}, "
              f"client first {len(peer)}, guessed {len(guess)}; ss: {ss}")
        stw = [f for f in by["finding"] if f["kind"] == "server_time_wait"]
        check(len(stw) <= len(local),
              f"server_time_wait only on the kernel's word: {stw}")


@test
def attach_children_follows_sshd_reexec():
    """attach --children to an sshd started without the preload: the
    child it forks per connection inherits the library, then re-execs
    sshd, an image without it; attach loads it into the new image, so
    the connection is followed through the session it serves (before:
    recording stopped at the exec, the connection ended there with the
    session's bytes unseen)."""
    sshd = need("sshd")
    with TraceDir() as t:
        d = t.path
        os.makedirs(t.dir)
        port, ssh = sshd_setup(d)
        with open(f"{d}/sshd_config", "a") as f:
            f.write("LogLevel VERBOSE\n")  # each connection's port
        with Server([sshd, "-D", "-E", f"{d}/log", "-f",
                     f"{d}/sshd_config"], t.dir, port, preload=False) as s:
            a = Attach(["--json", "--children", "-o", t.dir, str(s.p.pid)])
            try:
                rc, out, err = run(ssh + ["sleep 2; head -c 100000 "
                                          "/dev/zero | base64"],
                                   preload=False)
                check(rc == 0 and len(out) > 100000, f"ssh: {rc} {err}")
                with open(f"{d}/log") as f:
                    ports = re.findall(r"Connection from 127\.0\.0\.1 port "
                                       r"(\d+)", f.read())
                end = time.time() + 30
                while time.time() < end:  # shown once its end is seen
                    with a.lock:
                        if any(f'"peer":"127.0.0.1:{ports[-1]}"' in x
                               for x in a.out):
                            break
                    time.sleep(0.2)
            finally:
                rc, by, err = a.stop()
        check(rc == 0, f"attach: {rc} {err}")
        mine = [c for c in by["conn"] if c["role"] == "server" and
                c["peer"] == f"127.0.0.1:{ports[-1]}"]
        check(len(mine) == 1, f"the ssh connection shown once: {mine}")
        c = mine[0]
        check(c["bytes_out"] > 100000,
              f"the session's output is seen (the exec'd image records): "
              f"{c}")
