#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make bench: what tracing costs, beside strace, as ratios from one run.

Usage: bench.py [--quick] BUILD_DIR SOCKTRACE LIBSOCKTRACE

Each workload runs untraced, with libsocktrace.so, with 'strace -f' and
with 'strace -f --seccomp-bpf', all tracing the same calls.  The variants
alternate, round after round, and each figure is the median of its
rounds, so a noisy machine moves every variant alike.  Every traced run
must leave exactly the records the workload makes, none lost: a fast
run that recorded nothing fails the benchmark.

Then the viewer: 'view --json' and 'stats' over gen_trace's 1,000,000
connections (10 M records), records per second (median of 3 runs) and
peak resident memory; stats must count every connection.

--quick runs few rounds of small loops: a smoke test of the record
counts (CI), not a measurement; its viewer run is one of 100,000
connections.
"""
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

from measure import run_peak
from pgbench import bench_pgbench

# the calls socktrace records, for strace's -e trace=
TRACED = ("socket,socketpair,bind,connect,listen,accept,accept4,getsockopt,"
          "shutdown,close,read,readv,recvfrom,recvmsg,write,writev,sendto,"
          "sendmsg,sendfile,dup,dup2,dup3,fcntl,close_range")

QUICK = "--quick" in sys.argv
args = [a for a in sys.argv[1:] if a != "--quick"]
if len(args) != 3:
    sys.exit(__doc__)
BUILD, VIEWER, LIB = (os.path.abspath(a) for a in args)
LOOPS = os.path.join(BUILD, "tests/bench/loops")
GEN = os.path.join(BUILD, "tests/bench/gen_trace")
ROUNDS = 2 if QUICK else 5


class BenchError(Exception):
    pass


def variants(lean=False):
    """(name, command prefix); None: with libsocktrace.so, "lean": with it
    and SOCKTRACE_TCP_INFO=0."""
    v = [("untraced", []), ("socktrace", "lean" if lean else None)]
    if shutil.which("strace") and not QUICK and not lean:
        v += [("strace -f", ["strace", "-f", "-qq", "-o", "/dev/null",
                             "-e", "trace=" + TRACED]),
              ("strace --seccomp-bpf", ["strace", "-f", "-qq",
                                        "--seccomp-bpf", "-o", "/dev/null",
                                        "-e", "trace=" + TRACED])]
    return v


def traced_env(d, size="64M"):
    env = dict(os.environ)
    env["LD_PRELOAD"] = LIB
    env["SOCKTRACE_DIR"] = d
    env["SOCKTRACE_MAX_SIZE"] = size
    return env


def record_counts(d):
    """Calls recorded in trace dir D, by name, and records lost."""
    if not any(f.endswith(".trace") for f in os.listdir(d)):
        return {}, 0  # no socket call: no file at all
    p = subprocess.run([VIEWER, "dump", "--json", d], capture_output=True,
                       text=True)
    if p.returncode:
        raise BenchError(f"socktrace dump failed: {p.stderr}")
    calls, lost = {}, 0
    for line in p.stdout.splitlines():
        if line.startswith('{"type":"call"'):
            name = re.search(r'"call":"([^"]+)"', line).group(1)
            calls[name] = calls.get(name, 0) + 1
        elif line.startswith('{"type":"process"'):
            lost += json.loads(line)["lost"]
    return calls, lost


def run_loop(kind, n, prefix):
    """One run of 'loops KIND N'; returns (loop ns, trace dir or None)."""
    d = None
    env = None
    if prefix is None or prefix == "lean":
        d = tempfile.mkdtemp(prefix="socktrace-bench-")
        env = traced_env(d)
        if prefix == "lean":
            env["SOCKTRACE_TCP_INFO"] = "0"
        prefix = []
    p = subprocess.run(prefix + [LOOPS, kind, str(n)], capture_output=True,
                       text=True, env=env)
    if p.returncode:
        raise BenchError(f"loops {kind} failed: {p.stderr}")
    return int(p.stdout.split("ns=")[1]), d


# records each workload must leave: {call: count}; LEAN: with
# SOCKTRACE_TCP_INFO=0, no tcpinfo record at a TCP close
def expect(kind, n, lean=False):
    if kind == "churn":
        # the listener: socket, bind, listen, close; per connection
        # socket, connect, accept, write, read, close x2 (and a tcpinfo
        # record after each connection's close)
        return {"socket": n + 1, "bind": 1, "listen": 1, "connect": n,
                "accept": n, "write": n, "read": n, "close": 2 * n + 1,
                **({} if lean else {"tcpinfo": 2 * n})}
    if kind == "forks":
        # the server: socket, bind, listen, a fork for the client, then
        # per connection accept, fork, close of its copy, and close of
        # the listener; each child: close of the listener, read, write,
        # close; the client: close of the listener, then per connection
        # socket, connect, write, read, close; a tcpinfo record after
        # the server's, the child's and the client's close
        return {"socket": n + 1, "bind": 1, "listen": 1, "fork": n + 1,
                "connect": n, "accept": n, "write": 2 * n, "read": 2 * n,
                "close": 4 * n + 2, **({} if lean else {"tcpinfo": 3 * n})}
    if kind == "data":
        return {"socket": 2, "bind": 1, "listen": 1, "connect": 1,
                "accept": 1, "write": n, "read": n, "close": 3,
                **({} if lean else {"tcpinfo": 2})}
    return {}  # a pipe is not a socket: nothing at all


def check_records(kind, n, d, lean=False):
    calls, lost = record_counts(d)
    want = expect(kind, n, lean)
    if lost or calls != want:
        raise BenchError(f"{kind}: trace holds {calls}, lost {lost}; "
                         f"expected {want}")


def bench_loop(kind, n, calls_per_iter, lean=False):
    """Alternates the variants ROUNDS times; returns {variant: median}."""
    times = {name: [] for name, _ in variants(lean)}
    for r in range(ROUNDS):
        vs = variants(lean)
        if r % 2:
            vs.reverse()
        for name, prefix in vs:
            ns, d = run_loop(kind, n, prefix)
            if d:
                try:
                    check_records(kind, n, d, prefix == "lean")
                finally:
                    shutil.rmtree(d)
            times[name].append(ns)
    med = {k: statistics.median(v) for k, v in times.items()}
    calls = n * calls_per_iter
    return med, calls


def bench_ptrace(kind, n):
    """loops KIND N untraced, under 'socktrace run --ptrace' (lifecycle
    calls stopped), with --data (every read and write stopped too) and
    under 'strace -f --seccomp-bpf' of the calls socktrace records;
    {variant: (median ns, median of its ratios to the untraced run of
    the same round)}.  Each ptrace run's records are checked."""
    vs = [("untraced", None), ("run --ptrace", [])]
    if kind == "data":
        vs.append(("run --ptrace --data", ["--data"]))
    if shutil.which("strace") and not QUICK:
        vs.append(("strace --seccomp-bpf", variants()[-1][1]))
    times = {name: [] for name, _ in vs}
    for r in range(ROUNDS):
        for name, how in (vs if r % 2 == 0 else vs[::-1]):
            d = tempfile.mkdtemp(prefix="socktrace-bench-")
            try:
                cmd = [LOOPS, kind, str(n)]
                ptrace = name.startswith("run")
                if ptrace:
                    cmd = [VIEWER, "run", "--ptrace"] + how + \
                        ["--stats", "-o", d, "--"] + cmd
                elif how:
                    cmd = how + cmd
                p = subprocess.run(cmd, capture_output=True, text=True)
                if p.returncode:
                    raise BenchError(f"{name}: {p.stderr}")
                times[name].append(int(p.stdout.split("ns=")[1].split()[0]))
                if ptrace:
                    # without --data, the lifecycle calls only
                    want = {k: v for k, v in expect(kind, n).items()
                            if how or k not in ("read", "write")}
                    calls, lost = record_counts(d)
                    if lost or calls != want:
                        raise BenchError(f"{name} {kind}: trace holds "
                                         f"{calls}, lost {lost}; expected "
                                         f"{want}")
            finally:
                shutil.rmtree(d)
    # each round's variants ran back to back: their ratios to that
    # round's untraced run drift less than medians far apart
    return {k: (statistics.median(v),
                statistics.median(x / u for x, u in
                                  zip(v, times["untraced"])))
            for k, v in times.items()}


def ptrace_row(what, kind, n, calls):
    med = bench_ptrace(kind, n)
    base = med["untraced"][0]
    unit = "connection" if kind == "churn" else "call"
    print(f"| {what} under run --ptrace, median of each round's ratios: " +
          ", ".join(f"{k} {r:.2f}x" for k, (_, r) in med.items()
                    if k != "untraced") +
          f" (untraced {base / calls:.0f} ns per {unit}) |",
          flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise BenchError(f"nginx did not listen on {port}")


with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                       "nginx.conf.in")) as f:
    NGINX_CONF = f.read()


def wrk_once(prefix, secs):
    """nginx (under PREFIX) serving a small file to wrk for SECS seconds:
    (requests/s, median latency ms, requests, trace dir or None)."""
    d = tempfile.mkdtemp(prefix="socktrace-nginx-")
    os.chmod(d, 0o755)  # nginx workers run as another user when root
    os.makedirs(f"{d}/www")
    os.makedirs(f"{d}/tmp")
    with open(f"{d}/www/index.html", "w") as f:
        f.write("x" * 612)  # the size of nginx's own welcome page
    port = free_port()
    with open(f"{d}/nginx.conf", "w") as f:
        f.write(NGINX_CONF.format(d=d, port=port, workers=1))
    env = None
    tdir = None
    if prefix is None:
        tdir = f"{d}/trace"
        env = traced_env(tdir, "1G")  # room for every request's records
        prefix = []
    ng = subprocess.Popen(prefix + ["nginx", "-e", f"{d}/error.log", "-c",
                                    f"{d}/nginx.conf", "-p", d],
                          env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE)
    try:
        wait_port(port)
        w = subprocess.run(["wrk", "-t1", "-c10", f"-d{secs}", "--latency",
                            f"http://127.0.0.1:{port}/index.html"],
                           capture_output=True, text=True)
        if w.returncode:
            raise BenchError(f"wrk failed: {w.stderr}")
    finally:
        # graceful: workers finish, exit.  Signal nginx itself: under
        # strace, ng is strace, which would detach and leave nginx running
        try:
            with open(f"{d}/nginx.pid") as f:
                os.kill(int(f.read()), signal.SIGQUIT)
        except (OSError, ValueError):
            ng.send_signal(signal.SIGQUIT)
        try:
            ng.wait(20)
        except subprocess.TimeoutExpired:
            ng.kill()
            ng.wait()
    out = w.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = re.search(r"\s50%\s+([\d.]+)(us|ms|s)\b", out)
    ms = float(lat.group(1)) * {"us": 1e-3, "ms": 1, "s": 1e3}[lat.group(2)]
    reqs = int(re.search(r"(\d+) requests in", out).group(1))
    errs = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errs:
        raise BenchError(f"nginx answered {errs.group(1)} errors")
    if tdir:
        calls, lost = record_counts(tdir)
        reads = sum(calls.get(c, 0) for c in ("recv", "recvfrom", "read"))
        if lost or calls.get("accept4", 0) < 10 or reads < reqs:
            shutil.rmtree(d)
            raise BenchError(f"nginx trace: {calls}, lost {lost}, for "
                             f"{reqs} requests: records are missing")
    shutil.rmtree(d)
    return rps, ms, reqs


def bench_nginx(secs):
    rps = {name: [] for name, _ in variants()}
    lat = {name: [] for name, _ in variants()}
    for r in range(max(3, ROUNDS // 2) if not QUICK else 1):
        vs = variants()
        if r % 2:
            vs.reverse()
        for name, prefix in vs:
            a, b, _ = wrk_once(prefix, secs)
            rps[name].append(a)
            lat[name].append(b)
    return ({k: statistics.median(v) for k, v in rps.items()},
            {k: statistics.median(v) for k, v in lat.items()})


def viewer_scale(n, runs):
    """The viewer over gen_trace's N connections (10 N + 4 records):
    {command: (records/s, peak RSS MiB)} for 'view --json' and 'stats',
    the median rate of RUNS runs and the largest peak; stats must have
    counted every connection in its one listener."""
    d = tempfile.mkdtemp(prefix="socktrace-scale-")
    try:
        subprocess.run([GEN, d, str(n)], check=True)
        os.sync()  # the trace written back now, not while the viewer runs
        records = n * 10 + 4
        res = {}
        for name, argv in (("view --json", [VIEWER, "view", "--json", d]),
                           ("stats", [VIEWER, "stats", "--json", d])):
            rates, peak = [], 0
            for _ in range(runs):
                # view's 3 GB of JSON go nowhere; stats' few lines are
                # read back
                with tempfile.TemporaryFile() as out:
                    el, mib, rc = run_peak(
                        argv, out if name == "stats" else
                        subprocess.DEVNULL)
                    if rc:
                        raise BenchError(f"{name} exited {rc}")
                    if name == "stats":
                        out.seek(0)
                        lis = [json.loads(x) for x in out
                               if b'"by":"listener"' in x]
                        if len(lis) != 1 or lis[0]["conns"] != n:
                            raise BenchError(f"stats counted {lis}, "
                                             f"not {n} connections")
                rates.append(records / el)
                peak = max(peak, mib)
            res[name] = (statistics.median(rates), peak)
        return res
    finally:
        shutil.rmtree(d)


def row(label, med, calls):
    base = med["untraced"]
    cells = [label, f"{base / calls:.0f} ns"]
    for name, _ in variants()[1:]:
        cells.append(f"{med[name] / base:.2f}x "
                     f"(+{(med[name] - base) / calls:.0f} ns)"
                     if name in med else "")
    return cells


def show(cells):
    """Prints a table row as soon as it is measured."""
    widths = [44, 10] + [22] * (len(cells) - 2)
    print("| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) +
          " |", flush=True)


def main():
    for tool in ("nginx", "wrk"):
        if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}"):
            raise BenchError(f"{tool} is not installed: run 'make deps'")
    os.environ["PATH"] += ":/usr/sbin"
    names = [n for n, _ in variants()]
    print(f"socktrace bench: {ROUNDS} alternating rounds, medians; "
          f"{os.cpu_count()} CPUs, {os.uname().release}")
    print("ratios are to the untraced run; (+N ns) is the time added per "
          "traced call")
    if QUICK:
        print("--quick: too few rounds for the ratios to mean anything; "
              "this run checks that every traced run recorded everything")
    show(["workload", "untraced"] + names[1:])
    show(["-" * 44, "-" * 10] + ["-" * 22] * (len(names) - 1))
    n = 500 if QUICK else 2000
    med, calls = bench_loop("churn", n, 1)
    show(row("connection churn (per connection)", med, calls))
    med, calls = bench_loop("churn", n, 1, lean=True)
    show(row("churn, SOCKTRACE_TCP_INFO=0", med, calls))
    med, calls = bench_loop("forks", 100 if QUICK else 300, 1)
    show(row("fork per connection (per connection)", med, calls))
    n = 2000 if QUICK else 50000
    med, calls = bench_loop("data", n, 2)
    show(row("data path, 1-byte write+read (per call)", med, calls))
    med, calls = bench_loop("pipe", n, 2)
    show(row("pipe write+read, not a socket (per call)", med, calls))
    n = 500 if QUICK else 2000
    ptrace_row("connection churn", "churn", n, n)
    n = 2000 if QUICK else 20000
    ptrace_row("data path, 1-byte write+read", "data", n, 2 * n)
    rps, lat = bench_nginx(1 if QUICK else 3)
    cells = ["nginx + wrk: requests/s", f"{rps['untraced']:.0f}"]
    for name in names[1:]:
        cells.append(f"{rps[name] / rps['untraced']:.2f}x")
    show(cells)
    cells = ["nginx + wrk: median latency", f"{lat['untraced']:.3f} ms"]
    for name in names[1:]:
        cells.append(f"{lat[name] / lat['untraced']:.2f}x")
    show(cells)
    if not QUICK:
        # the server alone is traced; strace is not run on it
        untraced, traced, ratios = bench_pgbench(
            60, 5, LIB, record_counts, BenchError, free_port())
        show(["PostgreSQL pgbench -C -S: tps (server)", f"{untraced:.0f}",
              f"{statistics.median(ratios):.2f}x (pairs "
              f"{min(ratios):.2f}-{max(ratios):.2f}x)"])
    n = 100000 if QUICK else 1000000
    for name, (rate, rss) in viewer_scale(n, 1 if QUICK else 3).items():
        print(f"viewer: {name} of {n:,} connections ({n * 10 + 4:,} "
              f"records): {rate / 1e6:.2f} M records/s, "
              f"peak RSS {rss:.1f} MiB", flush=True)
    print("all traced runs left exactly the expected records, none lost")


if __name__ == "__main__":
    try:
        main()
    except BenchError as e:
        sys.exit(f"bench: {e}")
