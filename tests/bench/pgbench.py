# SPDX-License-Identifier: MIT
"""make bench's fork-per-connection row as users meet it: PostgreSQL under
'pgbench -C' (a connection, so a forked backend, per transaction), the
server untraced and preloaded, in pairs of runs.  Imported by bench.py.
"""
import glob
import os
import pwd
import re
import shutil
import statistics
import subprocess
import tempfile


def pg_bin(name):
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else None


def as_postgres(argv, env=None, timeout=120):
    """ARGV as user postgres (PostgreSQL refuses root), ENV for it alone:
    (exit status, stdout, stderr)."""
    e = [f"{k}={v}" for k, v in (env or {}).items()]
    p = subprocess.run(["runuser", "-u", "postgres", "--", "env"] + e + argv,
                       capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


class Cluster:
    """A PostgreSQL cluster in a temporary directory, on loopback PORT,
    stopped and removed on exit."""

    def __init__(self, port, error):
        self.port, self.error = port, error
        self.d = tempfile.mkdtemp(prefix="socktrace-pg-")
        self.data = f"{self.d}/data"
        pg = pwd.getpwnam("postgres")
        os.chown(self.d, pg.pw_uid, pg.pw_gid)
        rc, _, err = as_postgres([pg_bin("initdb"), "-D", self.data, "-A",
                                  "trust", "--no-sync"])
        if rc:
            raise error(f"initdb: {err}")

    def start(self, env):
        rc, out, err = as_postgres(
            [pg_bin("pg_ctl"), "-D", self.data, "-l", f"{self.d}/log", "-w",
             "-o", f"-p {self.port} -k {self.d} "
             "-c listen_addresses=127.0.0.1 -c fsync=off", "start"], env=env)
        if rc:
            raise self.error(f"pg_ctl start: {out} {err}")

    def stop(self):
        as_postgres([pg_bin("pg_ctl"), "-D", self.data, "-m", "fast", "-w",
                     "stop"])

    def remove(self):
        self.stop()
        shutil.rmtree(self.d, ignore_errors=True)


def bench_pgbench(txns, pairs, lib, record_counts, error, port):
    """Transactions per second of 'pgbench -C -S -c 2 -t TXNS' (a
    connection, so a backend, per transaction), the server untraced and
    preloaded with LIB, in PAIRS pairs of runs back to back (the order
    alternating).  Returns (untraced tps, traced tps, ratios): medians,
    and each pair's traced/untraced ratio, which a slow drift of the
    machine's load moves less than rounds far apart.  Every traced run
    must have recorded an accept per connection and lost nothing."""
    if not pg_bin("pgbench"):
        raise error("PostgreSQL is not installed: run 'make deps'")
    pg = pwd.getpwnam("postgres")
    c = Cluster(port, error)
    tps = {"untraced": [], "socktrace": []}
    try:
        c.start({})
        rc, _, err = as_postgres([pg_bin("pgbench"), "-i", "-q", "-h",
                                  "127.0.0.1", "-p", str(port), "postgres"])
        if rc:
            raise error(f"pgbench -i: {err}")
        c.stop()
        for r in range(pairs):
            order = ["untraced", "socktrace"]
            if r % 2:
                order.reverse()
            for name in order:
                tps[name].append(one_run(c, name, txns, lib, record_counts,
                                         error, pg))
    finally:
        c.remove()
    ratios = [t / u for t, u in zip(tps["socktrace"], tps["untraced"])]
    return (statistics.median(tps["untraced"]),
            statistics.median(tps["socktrace"]), ratios)


def one_run(c, name, txns, lib, record_counts, error, pg):
    """One pgbench run against cluster C, the server untraced or
    preloaded (NAME): its tps."""
    tdir = f"{c.d}/trace"
    os.makedirs(tdir, exist_ok=True)
    os.chown(tdir, pg.pw_uid, pg.pw_gid)
    c.start({"LD_PRELOAD": lib, "SOCKTRACE_DIR": tdir}
            if name == "socktrace" else {})
    try:
        rc, out, err = as_postgres(
            [pg_bin("pgbench"), "-C", "-S", "-c", "2", "-t", str(txns),
             "-h", "127.0.0.1", "-p", str(c.port), "postgres"],
            timeout=600)
    finally:
        c.stop()
    if rc:
        raise error(f"pgbench: {out} {err}")
    done = int(re.search(r"actually processed: (\d+)", out).group(1))
    if name == "socktrace":
        calls, lost = record_counts(tdir)
        if lost or calls.get("accept", 0) < done:
            raise error(f"PostgreSQL trace: {calls.get('accept')} accepts "
                        f"for {done} connections, lost {lost}: records "
                        f"are missing")
    shutil.rmtree(tdir)
    return float(re.search(r"^tps = ([\d.]+)", out, re.M).group(1))
