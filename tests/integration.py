#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Integration tests: real programs run with and without libsocktrace.so.

Each test runs programs the way a user would and asserts what the user
would notice: the program behaves identically under the preload, and the
trace says what the program did.  More tests are in tests/it_*.py, one
file per area.  Run all: tests/integration.py; some: tests/integration.py
NAME...  Ends with a line 'N passed, N failed'.
"""
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# make test says where the products are (build-san/ for SANITIZE=...)
OUT = os.path.join(ROOT, os.environ.get("ST_OUT", "."))
BUILD = os.path.join(ROOT, os.environ.get("ST_BUILD", "build"))
LIB = os.path.join(OUT, "libsocktrace.so")
VIEWER = os.path.join(OUT, "socktrace")
PROBE = os.path.join(BUILD, "tests/progs/probe")
PROBE_FORTIFY = os.path.join(BUILD, "tests/progs/probe_fortify")

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def base_env():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SOCKTRACE_") and k != "LD_PRELOAD"}
    env["LC_ALL"] = "C"
    return env


def run(argv, trace=None, env=None, timeout=120, preload=True):
    """Runs argv; with trace (a directory), under the preload."""
    e = base_env()
    if trace:
        e["SOCKTRACE_DIR"] = trace
        if preload:
            e["LD_PRELOAD"] = LIB
    e.update(env or {})
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                       env=e, timeout=timeout, close_fds=True)
    return p.returncode, p.stdout.decode(errors="replace"), \
        p.stderr.decode(errors="replace")


def dump(path, expect_rc=0):
    """Process and call lines of 'socktrace dump --json PATH'."""
    rc, out, err = run([VIEWER, "dump", "--json", path])
    check(rc == expect_rc, f"dump exited {rc}, stderr: {err}")
    procs, calls = [], []
    for line in out.splitlines():
        o = json.loads(line)
        (procs if o["type"] == "process" else calls).append(o)
    return procs, calls


class TraceDir:
    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="socktrace-test-")
        os.chmod(self.path, 0o700)
        self.dir = os.path.join(self.path, "t")
        return self

    def __exit__(self, *a):
        shutil.rmtree(self.path, ignore_errors=True)


def same_run(argv, env=None, timeout=120):
    """Runs argv without and with the preload; both must print the same.
    Returns the trace (procs, calls) of the traced run."""
    with TraceDir() as t:
        plain = run(argv, env=env, timeout=timeout)
        traced = run(argv, trace=t.dir, env=env, timeout=timeout)
        check(plain[0] == traced[0],
              f"exit status {plain[0]} untraced, {traced[0]} traced")
        for name, a, b in (("stdout", plain[1], traced[1]),
                           ("stderr", plain[2], traced[2])):
            if a != b:
                import difflib
                d = "\n".join(difflib.unified_diff(
                    a.splitlines(), b.splitlines(), "untraced", "traced",
                    lineterm=""))
                raise Fail(f"{name} differs with the preload:\n{d}")
        return dump(t.dir)


def calls_of(calls, name=None, **kw):
    out = []
    for c in calls:
        if name and c["call"] != name:
            continue
        if all(c.get(k) == v for k, v in kw.items()):
            out.append(c)
    return out


# --- transparency: identical behaviour, and records that match ---------

@test
def errors_same_and_unrecorded_for_non_sockets():
    procs, calls = same_run([PROBE, "errors"])
    check(len(procs) == 1 and procs[0]["lost"] == 0, "one process, no loss")
    refused = calls_of(calls, "connect", errno="ECONNREFUSED")
    check(len(refused) == 2, f"2 refused connects, got {len(refused)}")
    check(refused[0]["addr"] and refused[0]["addr"].startswith("127.0.0.1:"),
          "a refused connect records the address it tried")
    efault = calls_of(calls, "connect", errno="EFAULT")
    check(len(efault) == 1 and efault[0]["addr"] is None,
          "EFAULT connect recorded without reading the bad address")
    check(not calls_of(calls, errno="ENOTSOCK"),
          "calls on a pipe are not recorded")
    check(not calls_of(calls, errno="EBADF"),
          "calls on closed fds are not recorded")
    check(not [c for c in calls if c["call"] in ("read", "write")
               and c["errno"] is None],
          "the pipe's successful read and write are not recorded")


@test
def echo_same_and_recorded():
    procs, calls = same_run([PROBE, "echo"])
    pid = procs[0]["pid"]
    conn_of = {}
    connect = calls_of(calls, "connect")[0]
    accept = calls_of(calls, "accept")[0]
    check(connect["errno"] is None and connect["ret"] == 0, "connect ok")
    check(connect["local"] == accept["peer"],
          f"connect local {connect['local']} == accept peer {accept['peer']}")
    check(connect["addr"] == accept["local"], "connect addr == accept local")
    check(accept["conn2"] and accept["conn2"] != accept["conn"],
          "accept names the new connection")
    server, client = accept["conn2"], connect["conn"]
    listen = calls_of(calls, "listen")[0]
    check(listen["backlog"] == 16 and listen["effective_backlog"] == 16,
          "listen backlog and effective backlog")
    check(listen["somaxconn"] > 0, "somaxconn recorded")
    check(accept["queue_max"] == 16, "accept sees the queue limit")
    # every data call on the right connection with the right byte counts
    expect = [("write", client, 5, 5), ("read", server, 5, 64),
              ("send", server, 6, 6), ("recv", client, 6, 64),
              ("writev", client, 5, 5), ("readv", server, 5, 11),
              ("sendto", server, 3, 3), ("recvfrom", client, 3, 64),
              ("sendmsg", client, 5, 5), ("recvmsg", server, 5, 11)]
    data = [c for c in calls if c.get("dir")]
    for (name, conn, nbytes, asked), c in zip(expect, data):
        check(c["call"] == name and c["conn"] == conn
              and c["bytes"] == nbytes and c["asked"] == asked,
              f"expected {name} {nbytes}/{asked} on {conn}, got {c}")
    so = calls_of(calls, "getsockopt")[0]
    check(so["value"] == 0 and so["conn"] == client, "SO_ERROR 0 recorded")
    dup = calls_of(calls, "dup")[0]
    check(dup["conn"] == server, "dup of the server end")
    via_dup = [c for c in calls if c["call"] == "write" and c["fd"] ==
               dup["ret"]][0]
    check(via_dup["conn"] == server, "a dup'd fd shares the connection id")
    fdup = calls_of(calls, "fcntl")[0]
    check(fdup["ret"] == 50 and fdup["conn"] == server, "F_DUPFD_CLOEXEC")
    check(calls_of(calls, "dup2")[0]["conn"] == client, "dup2 recorded")
    check(calls_of(calls, "dup3")[0]["ret"] == 61, "dup3 recorded")
    sh = calls_of(calls, "shutdown")[0]
    check(sh["how"] == 1 and sh["conn"] == client, "shutdown(SHUT_WR)")
    eof = [c for c in calls if c["call"] == "read" and c["bytes"] == 0]
    check(len(eof) == 2 and eof[0]["conn"] == server, "EOF reads recorded")
    closes = calls_of(calls, "close", conn=server)
    check([c["tcp_state"] for c in closes] == ["CLOSE_WAIT"] * 3,
          "the passive closer closes in CLOSE_WAIT, each fd recorded")
    fc = calls_of(calls, "fclose")
    check(len(fc) == 1 and fc[0]["conn"] == client, "fclose of a socket")
    sp = calls_of(calls, "socketpair")[0]
    check(sp["domain"] == socket.AF_UNIX and sp["fd2"] == sp["fd"] + 1,
          "socketpair records both fds")
    cr = calls_of(calls, "close_range")
    check(sorted(c["conn"] for c in cr) == sorted([sp["conn"], sp["conn2"]]),
          "close_range closes both socketpair ends, one record each")
    a4 = calls_of(calls, "accept4")
    check(len(a4) == 1 and a4[0]["peer"].startswith("127.0.0.1:"),
          "accept4 with the peer address")
    check(all(c["pid"] == pid and c["tid"] == pid for c in calls),
          "pid and tid of a single-threaded program")
    ts = [c["ts"] for c in calls]
    check(ts == sorted(ts), "dump prints in time order")


@test
def nonblocking_connect_completion():
    procs, calls = same_run([PROBE, "nonblock"])
    c = calls_of(calls, "connect")[0]
    check(c["errno"] == "EINPROGRESS" and c["local"], "EINPROGRESS + local")
    g = calls_of(calls, "getsockopt")[0]
    check(g["value"] == 111 and g["conn"] == c["conn"],
          "SO_ERROR=ECONNREFUSED completes the connect")


@test
def threads_exact_record_count():
    procs, calls = same_run([PROBE, "threads", "8", "10000"])
    data = [c for c in calls if c["call"] in ("read", "write")]
    check(len(data) == 80000, f"80000 records, got {len(data)}")
    check(procs[0]["lost"] == 0, "nothing lost")
    check(len({c["tid"] for c in data}) == 8, "8 threads seen")


@test
def calls_inside_signal_handlers():
    procs, calls = same_run([PROBE, "signals", "500"])
    udp = [c for c in calls if c["call"] == "socket" and c["socktype"] == 2]
    check(len(udp) == 500, f"500 handler sockets recorded, got {len(udp)}")
    check(len(calls_of(calls, "read")) == 500, "500 reads in main")


@test
def before_constructor():
    procs, calls = same_run([PROBE, "echo"], env={"PROBE_EARLY": "1"})
    early = calls[:4]
    check([c["call"] for c in early] ==
          ["socketpair", "write", "close", "close"],
          f"calls from .preinit_array recorded: {early}")


@test
def close_everything_and_dup2_over_numbers():
    procs, calls = same_run([PROBE, "closeall"])
    cr = calls_of(calls, "close_range")
    check(len(cr) == 2 and {c["tcp_state"] for c in cr} ==
          {"LISTEN", "ESTABLISHED"}, f"close_range closes 2 sockets: {cr}")
    check(not [c for c in calls if c["call"] == "write" and c["errno"]],
          "the write on the closed fd is not recorded as a socket call")
    d2 = calls_of(calls, "dup2")
    check(len(d2) == 4, f"4 dup2 records, got {len(d2)}")
    check(d2[1]["replaced_conn"] == d2[0]["conn"],
          "dup2 over a socket names the connection it replaced")
    acc = calls_of(calls, "accept")[0]
    check(acc["fd"] == 100 and acc["conn"] == d2[1]["conn"],
          "accept on a dup2'd listener is on the listener's connection")
    con = calls_of(calls, "connect")[-1]
    check(con["fd"] == 200 and con["local"] == acc["peer"],
          "connect via fd 200 joins the accept")
    check(d2[3]["conn"] is None and d2[3]["replaced_conn"] == acc["conn2"],
          "dup2 of /dev/null over a socket closes that socket")
    cf = calls_of(calls, "closefrom")
    check(len(cf) >= 3, f"closefrom records each socket, got {len(cf)}")
    last = calls_of(calls, "socket")[-1]
    check(calls[-1]["call"] == "close" and calls[-1]["conn"] ==
          last["conn"], "sockets made after closefrom are traced")


@test
def fork_child_gets_own_trace():
    # the child ends with _exit; all the same with the preload
    procs, calls = same_run([PROBE, "fork"])
    check(len(procs) == 2, f"two trace files, got {len(procs)}")
    parent = [p for p in procs if p["ppid"] != procs[0]["pid"]
              and p["ppid"] != procs[1]["pid"]][0]
    child = [p for p in procs if p is not parent][0]
    check(child["ppid"] == parent["pid"], "child names its parent")
    check(child["exit_ts"] is not None and parent["exit_ts"] is not None,
          "the child's _exit is an exit, as the parent's exit is")
    f = calls_of(calls, "fork")[0]
    check(f["pid"] == parent["pid"] and f["ret"] == child["pid"],
          "the parent records the fork with the child's pid")
    sp = calls_of(calls, "socketpair")[0]
    cw = calls_of(calls, "write", pid=child["pid"])
    check(len(cw) == 1 and cw[0]["conn"] == sp["conn2"],
          "the child's write is on the inherited connection")


@test
def dropping_root_keeps_recording():
    if os.geteuid() != 0:
        print("  (skipped: needs root to drop it)")
        return
    procs, calls = same_run([PROBE, "setuid"])
    # the parent only forks: it has no file
    child = [p for p in procs if p["ppid"] != os.getpid()]
    check(len(child) == 1 and len(procs) == 1,
          f"the child has its trace: {procs}")
    socks = calls_of(calls, "socket", pid=child[0]["pid"])
    check(len(socks) == 5003, f"the child's 5003 sockets, all made after "
          f"it dropped root, are recorded: {len(socks)}")
    check(child[0]["lost"] == 0, "nothing lost")


@test
def exec_gets_new_trace():
    with TraceDir() as t:
        rc, out, err = run([PROBE, "exec"], trace=t.dir)
        check(rc == 0, f"probe exec failed: {err} {out}")
        procs, calls = dump(t.dir)
        check(len(procs) == 2 and procs[0]["pid"] == procs[1]["pid"],
              "two files for one pid: before and after exec")
        fams = sorted(c["domain"] for c in calls_of(calls, "socket"))
        check(fams == [socket.AF_INET, socket.AF_INET6],
              "the socket before exec and the one after")


@test
def sigkill_leaves_readable_trace():
    with TraceDir() as t:
        rc, out, err = run([PROBE, "kill"], trace=t.dir)
        check(rc == -signal.SIGKILL, f"probe should die by SIGKILL: {rc}")
        procs, calls = dump(t.dir)
        names = [c["call"] for c in calls]
        check(names[:6] == ["socket", "bind", "listen", "socket", "connect",
                            "accept"] and names[-1] == "write",
              f"every call before the kill is there: {names}")
        check(procs[0]["exit_ts"] is None, "no normal exit recorded")


@test
def fortified_reads_recorded():
    procs, calls = same_run([PROBE_FORTIFY, "fortify", "20"])
    names = [c["call"] for c in calls if c.get("dir") == "in"]
    check(names == ["__read_chk", "__recv_chk", "__recvfrom_chk"],
          f"fortified entry points recorded by name: {names}")
    check([c["bytes"] for c in calls if c.get("dir") == "in"] == [9, 5, 3],
          "with their byte counts")


@test
def secure_execution_disables_tracing():
    if os.geteuid() != 0:
        print("  (skipped: needs root to make a setuid binary)")
        return
    with TraceDir() as t:
        os.makedirs(t.dir, mode=0o700)
        # control: the same dlopen path does trace when not setuid
        rc, out, err = run([PROBE, "secure", LIB], trace=t.dir,
                           preload=False)
        check(rc == 0 and "ok" in out, f"probe secure: {out} {err}")
        check(len(os.listdir(t.dir)) == 1, "the control run traces")
        shutil.rmtree(t.dir)
        os.makedirs(t.dir, mode=0o700)
        nobody = 65534
        os.chown(t.dir, nobody, nobody)
        exe = os.path.join(t.path, "probe-setuid")
        shutil.copy(PROBE, exe)
        # the setuid program runs as nobody: give it a library it can
        # read whatever the permissions of the checkout
        lib = os.path.join(t.path, "libsocktrace.so")
        shutil.copy(LIB, lib)
        os.chmod(lib, 0o644)
        os.chmod(t.path, 0o755)
        os.chown(exe, nobody, nobody)
        os.chmod(exe, 0o4755)
        rc, out, err = run([exe, "secure", lib], trace=t.dir, preload=False)
        check(rc == 0 and "ok" in out, f"setuid probe: {out} {err}")
        check(os.listdir(t.dir) == [], "a setuid program writes no trace")


@test
def unsafe_trace_dirs_refused():
    with TraceDir() as t:
        os.makedirs(t.dir, mode=0o700)
        os.chmod(t.dir, 0o777)
        argv = [PROBE, "nonblock"]
        plain = run(argv)
        rc, out, err = run(argv, trace=t.dir)
        check((rc, out, err) == plain, "program unaffected")
        check(os.listdir(t.dir) == [], "world-writable dir refused")
        rc, out, err = run(argv, trace=t.dir, env={"SOCKTRACE_DEBUG": "1"})
        check("writable by others" in err, f"debug says why: {err}")
        os.rmdir(t.dir)
        other = os.path.join(t.path, "elsewhere")
        os.mkdir(other, 0o700)
        os.symlink(other, t.dir)
        rc, out, err = run(argv, trace=t.dir)
        check((rc, out, err) == plain and os.listdir(other) == [],
              "a symlinked trace dir is not followed")


@test
def ring_and_stop_when_full():
    with TraceDir() as t:
        env = {"SOCKTRACE_MAX_SIZE": "64K"}
        rc, out, err = run([PROBE, "threads", "1", "2000"], trace=t.dir,
                           env=env)
        check(rc == 0, "program unaffected by a full trace")
        procs, calls = dump(t.dir)
        cap = (64 * 1024 - 4096) // 128
        check(len(calls) == cap, f"ring keeps {cap} records: {len(calls)}")
        check(procs[0]["lost"] == procs[0]["records"] + procs[0]["lost"] -
              cap and procs[0]["lost"] > 1500, "the loss is counted")
        check(calls[-1]["call"] == "close", "ring keeps the newest")
        rc, o2, err = run([VIEWER, "dump", t.dir])
        check("lost" in err and "SOCKTRACE_MAX_SIZE" in err,
              f"dump warns about the loss: {err}")
        shutil.rmtree(t.dir)
        env["SOCKTRACE_FULL"] = "stop"
        run([PROBE, "threads", "1", "2000"], trace=t.dir, env=env)
        procs, calls = dump(t.dir)
        check(len(calls) == cap and calls[0]["call"] == "socketpair",
              "stop keeps the oldest")


@test
def no_fd_thread_or_output_added():
    # the probe's footer lists fds and threads: same_run compares them
    same_run([PROBE, "echo"])
    same_run([PROBE, "threads", "4", "100"])


# --- the viewer's errors ------------------------------------------------

@test
def dump_errors_are_clear():
    with TraceDir() as t:
        rc, out, err = run([VIEWER, "dump", os.path.join(t.path, "nope")])
        check(rc == 1 and "nope" in err, f"missing path: {rc} {err}")
        os.makedirs(t.dir)
        rc, out, err = run([VIEWER, "dump", t.dir])
        check(rc == 1 and "no trace files" in err, f"empty dir: {err}")
        rc, out, err = run([VIEWER, "dump", "--bogus"])
        check(rc == 2 and "usage" in err, "bad option is a usage error")
        rc, out, err = run([VIEWER, "frobnicate"])
        check(rc == 2, "unknown command is a usage error")
        run([PROBE, "echo"], trace=t.dir)
        good = os.listdir(t.dir)[0]
        with open(os.path.join(t.dir, "zero.trace"), "w"):
            pass
        with open(os.path.join(t.dir, good), "rb") as f:
            data = f.read()
        with open(os.path.join(t.dir, "short.trace"), "wb") as f:
            f.write(data[:4096 + 128 * 3 + 50])
        rc, out, err = run([VIEWER, "dump", "--json", t.dir])
        check(rc == 1, "a bad file makes the exit status 1")
        check("zero.trace: empty file" in err, f"zero-length named: {err}")
        check("short.trace: truncated at offset" in err,
              f"truncation named with offset: {err}")
        lines = [json.loads(x) for x in out.splitlines()]
        check(len([x for x in lines if x["type"] == "process"]) == 2,
              "the good and the truncated file are both shown")
        check(len([x for x in lines if x["type"] == "call"]) > 3,
              "their records are still shown")


# --- timelines: socktrace run / view over the examples --------------------

EXAMPLES = os.path.join(BUILD, "examples")


def run_json(argv, timeout=60):
    """socktrace run --json -- argv: (exit status, lines by type)."""
    with TraceDir() as t:
        rc, out, err = run([VIEWER, "run", "-o", t.dir, "--json", "--"] +
                           argv, timeout=timeout)
        by = {"process": [], "call": [], "conn": [], "finding": []}
        for line in out.splitlines():
            if line.startswith("{"):
                o = json.loads(line)
                by.setdefault(o["type"], []).append(o)
        return rc, by, err


def states(c):
    return [s for s, ts, *_ in c["states"]]


def ends(by):
    """The joined client and server ends of the one connection."""
    cl = [c for c in by["conn"] if c["role"] == "client"]
    sv = [c for c in by["conn"] if c["role"] == "server"]
    return cl, sv


@test
def view_echo_joined_no_findings():
    rc, by, err = run_json([os.path.join(EXAMPLES, "echo")])
    check(rc == 0, f"echo exit {rc}: {err}")
    cl, sv = ends(by)
    check(len(cl) == 1 and len(sv) == 1, f"one client, one server: {by}")
    cl, sv = cl[0], sv[0]
    check(cl["peer_conn"] == sv["id"] and sv["peer_conn"] == cl["id"],
          "the two ends are joined")
    check(cl["pid"] != sv["pid"], "ends in different processes")
    check(states(cl) == ["SYN_SENT", "ESTABLISHED", "FIN_WAIT",
                         "TIME_WAIT", "CLOSED"],
          f"client states: {states(cl)}")
    check(states(sv) == ["SYN_RECV", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK",
                         "CLOSED"], f"server states: {states(sv)}")
    tw = dict((s, ts) for s, ts, *_ in cl["states"])
    check(tw["CLOSED"] - tw["TIME_WAIT"] == 60 * 10**9, "TIME_WAIT is 60 s")
    check(cl["closed_by"] == "local" and sv["closed_by"] == "peer",
          "the client closed first")
    check(cl["bytes_out"] == sv["bytes_in"] > 0 and
          sv["bytes_out"] == cl["bytes_in"] > 0, "bytes each way match")
    check(cl["connect_ns"] > 0 and sv["accept_wait_ns"] is not None,
          "connect latency and accept-queue wait")
    check(sv["eof_close_ns"] is not None and cl["ttfb_ns"] > 0,
          "EOF->close gap and time to first byte")
    lis = [c for c in by["conn"] if c["role"] == "listener"]
    check(len(lis) == 1 and lis[0]["accepted"] == 1 and
          lis[0]["backlog"] == 8 and lis[0]["effective_backlog"] == 8,
          f"the listener: {lis}")
    check(sv["listener"] == lis[0]["id"], "the server end names its listener")
    check(by["finding"] == [], f"a normal echo has no findings: "
          f"{by['finding']}")


@test
def view_backlog_accept_queue():
    rc, by, err = run_json([os.path.join(EXAMPLES, "backlog")])
    check(rc == 0, f"backlog exit {rc}: {err}")
    lis = [c for c in by["conn"] if c["role"] == "listener"][0]
    check(lis["queue_max"] == 2 and lis["max_queue_len"] == 3,
          f"queue limit, and backlog + 1 queued (the kernel calls it "
          f"full above the limit): {lis}")
    kinds = [f["kind"] for f in by["finding"]]
    check(kinds == ["accept_queue_full"], f"findings: {kinds}")
    check(by["finding"][0]["conn"] == lis["id"], "names the listener")
    cl, sv = ends(by)
    queued = [s for s in sv if s["peer_conn"] and
              s["accept_wait_ns"] > 300 * 10**6]
    check(len(queued) >= 3, "connects returned long before accept: "
          f"{[s['accept_wait_ns'] for s in sv]}")
    check(all(s["peer_conn"] for s in sv), "every server end is joined")


@test
def view_close_wait_and_leak():
    rc, by, err = run_json([os.path.join(EXAMPLES, "close_wait")])
    check(rc == 0, f"close_wait exit {rc}: {err}")
    cl, sv = ends(by)
    sv = sv[0]
    check("CLOSE_WAIT" in states(sv) and sv["end"] == "exit",
          f"server sat in CLOSE_WAIT until exit: {sv}")
    kinds = sorted(f["kind"] for f in by["finding"])
    # the peer closed first: a close_wait, not also a leak
    check(kinds == ["close_wait"], f"findings: {kinds}")
    check(all(f["conn"] == sv["id"] for f in by["finding"]),
          "it names the server end")


@test
def view_server_closes_first():
    rc, by, err = run_json([os.path.join(EXAMPLES, "server_close")])
    check(rc == 0, f"server_close exit {rc}: {err}")
    cl, sv = ends(by)
    cl, sv = cl[0], sv[0]
    check(sv["closed_by"] == "local" and cl["closed_by"] == "peer",
          "the server closed first")
    check(states(sv)[-2:] == ["TIME_WAIT", "CLOSED"],
          f"TIME_WAIT on the server: {states(sv)}")
    with TraceDir() as t:
        rc, out, err = run([VIEWER, "run", "-o", t.dir, "--no-color", "--",
                            os.path.join(EXAMPLES, "server_close")])
        check("server closed first (its close found ESTABLISHED)" in out,
              f"the text view says who closed first, with the kernel's "
              f"state at close: {out}")
    check("CLOSE_WAIT" in states(cl) and states(cl)[-1] == "CLOSED",
          f"client closes passively: {states(cl)}")
    kinds = [f["kind"] for f in by["finding"]]
    check(kinds == ["server_time_wait"], f"findings: {kinds}")


@test
def view_connect_refused():
    rc, by, err = run_json([os.path.join(EXAMPLES, "refused")])
    check(rc == 0, f"refused exit {rc}: {err}")
    f = by["finding"]
    check(len(f) == 1 and f[0]["kind"] == "connect_failed" and
          "ECONNREFUSED" in f[0]["message"], f"findings: {f}")
    c = [c for c in by["conn"] if c["id"] == f[0]["conn"]][0]
    check(c["connect_errno"] == "ECONNREFUSED" and
          states(c) == ["SYN_SENT", "CLOSED"], f"the failed end: {c}")


@test
def view_nonblocking_connect():
    rc, by, err = run_json([os.path.join(EXAMPLES, "nonblock")])
    check(rc == 0, f"nonblock exit {rc}: {err}")
    cl, sv = ends(by)
    ok = [c for c in cl if c["peer_conn"]]
    check(len(ok) == 1 and states(ok[0])[:2] == ["SYN_SENT", "ESTABLISHED"],
          f"EINPROGRESS then ESTABLISHED via SO_ERROR: {cl}")
    kinds = [f["kind"] for f in by["finding"]]
    check(kinds == ["connect_failed"], f"only the refused one: {kinds}")


@test
def view_joins_unix_clients_by_pid():
    # accept now asks SO_PEERCRED: the program must not notice
    same_run([PROBE, "unix"])
    rc, by, err = run_json([PROBE, "unix"])
    check(rc == 0, f"probe unix exit {rc}: {err}")
    cl, sv = ends(by)
    ids = {c["id"]: c for c in by["conn"]}
    check(len(cl) == 4 and len(sv) == 5, f"4 traced clients, 5 accepted: "
          f"{len(cl)} {len(sv)}")
    for s in sv:
        if s["bytes_in"] == 99:
            check(s["peer_conn"] is None,
                  "the untraced client's connection has no other end")
            continue
        o = ids.get(s["peer_conn"])
        check(o is not None and o["peer_conn"] == s["id"],
              f"server end {s['id']} joined both ways")
        check(o["bytes_out"] == s["bytes_in"],
              f"{s['id']} read {s['bytes_in']} bytes but its joined "
              f"client {o['id']} wrote {o['bytes_out']}: wrong join")
    lis = [c for c in by["conn"] if c["role"] == "listener"]
    check(len(lis) == 1 and lis[0]["accepted"] == 5, f"the listener: {lis}")


@test
def run_passes_exit_status_and_ptraces_static():
    with TraceDir() as t:
        rc, out, err = run([VIEWER, "run", "-o", t.dir, "--", "sh", "-c",
                            "exit 3"])
        check(rc == 3, f"exit status passed through: {rc}")
        # no socket calls: says what happened, never "use run"
        rc, out, err = run([VIEWER, "run", "-o", t.dir + "2", "--", "sh",
                            "-c", "exit 4"])
        check(rc == 4 and "made no socket calls" in err and
              "holds no trace file" in err and "socktrace run'" not in err,
              f"no socket calls: {rc} {err}")
        # what the preload cannot see runs under ptrace, and says so
        rc, out, err = run([VIEWER, "run", "-o", t.dir + "3", "--",
                            os.path.join(BUILD, "tests/progs/static_hello")])
        check(rc == 0 and "statically linked" in err and
              "tracing it with ptrace" in err and out == "hello\n" and
              "made no socket calls: " in err,
              f"static binary traced with ptrace: {rc} {out} {err}")
        rc, out, err = run([VIEWER, "run", "-o", t.dir + "4", "--",
                            os.path.join(BUILD, "tests/progs/go_hello")])
        check(rc == 0 and "Go program" in err and
              "tracing it with ptrace" in err, f"Go binary: {err}")
        rc, out, err = run([VIEWER, "run", "--force", "--ptrace", "--",
                            "true"])
        check(rc == 2 and "exclude each other" in err,
              f"--force and --ptrace: usage error: {rc} {err}")
        rc, out, err = run([VIEWER, "run", "--data", "--", "true"])
        check(rc == 2 and "--data is for --ptrace" in err,
              f"--data without ptrace: usage error: {rc} {err}")
        rc, out, err = run([VIEWER, "run"])
        check(rc == 2 and "no command" in err, "no command: usage error")
        rc, out, err = run([VIEWER, "run", "--", "no-such-command-x"])
        check(rc == 1 and "not found" in err, f"missing command: {err}")
        # -o names a file: said before anything runs
        made = os.path.join(t.path, "made")
        rc, out, err = run([VIEWER, "run", "-o", os.path.join(BUILD,
                            "tests/progs/static_hello"), "--", "sh", "-c",
                            f"touch {made}"])
        check(rc == 1 and "not a directory" in err and
              not os.path.exists(made), f"-o a file: {rc} {err}")


@test
def run_says_killed_by_sigpipe():
    """A program killed by SIGPIPE (its write to a peer that closed): the
    write never returns, so no record shows it; run says so from the
    status, which is the program's own (as untraced)."""
    plain = run([PROBE, "sigpipe"], preload=False)
    check(plain[0] == -signal.SIGPIPE, f"untraced, SIGPIPE kills: {plain}")
    with TraceDir() as t:
        rc, out, err = run([VIEWER, "run", "--json", "-o", t.dir, "--",
                            PROBE, "sigpipe"], preload=False)
        check(rc == 128 + signal.SIGPIPE and "killed by SIGPIPE" in err,
              f"run says it: {rc} {err}")
        cl = [json.loads(x) for x in out.splitlines()
              if x.startswith('{"type":"conn"') and '"role":"client"' in x]
        check(len(cl) == 1 and cl[0]["end"] == "death",
              f"its connection open at its death: {cl}")


@test
def run_ctrl_c_still_shows_timelines():
    with TraceDir() as t:
        e = base_env()
        p = subprocess.Popen(
            [VIEWER, "run", "-o", t.dir, "--no-color", "--", "sh", "-c",
             f"{os.path.join(EXAMPLES, 'echo')} >/dev/null; sleep 30"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e,
            start_new_session=True)
        time.sleep(1.5)
        os.killpg(p.pid, signal.SIGINT)  # what Ctrl-C does
        out, err = p.communicate(timeout=30)
        check(p.returncode == 128 + signal.SIGINT,
              f"exit status of the interrupted command: {p.returncode}")
        check(b"tcp client" in out and b"Findings" in out,
              f"timelines shown after Ctrl-C: {out[:300]}")


@test
def version_usage_and_unknown_command():
    """--version names the Makefile's version; help goes to stdout with
    0; no command or an unknown one is a usage error (2) on stderr."""
    with open(os.path.join(ROOT, "Makefile")) as f:
        want = re.search(r"^VERSION := (\S+)", f.read(), re.M).group(1)
    rc, out, err = run([VIEWER, "--version"])
    check(rc == 0 and out == f"socktrace {want}\n", f"--version: {rc} {out!r}")
    rc, out, err = run([VIEWER, "--help"])
    check(rc == 0 and "commands:" in out and "--version" in out and not err,
          f"--help: {rc} {out!r} {err!r}")
    for argv in ([], ["bogus"]):
        rc, out, err = run([VIEWER] + argv)
        check(rc == 2 and not out and "usage: socktrace" in err,
              f"{argv}: {rc} {out!r} {err!r}")
    check("unknown command 'bogus'" in err, err)


@test
def view_filters_and_errors():
    with TraceDir() as t:
        run([os.path.join(EXAMPLES, "echo")], trace=t.dir)
        rc, out, err = run([VIEWER, "view", "--json", t.dir])
        conns = [json.loads(x) for x in out.splitlines()
                 if '"type":"conn"' in x]
        cl = [c for c in conns if c["role"] == "client"][0]
        rc, out, err = run([VIEWER, "view", "--json", "--conn", cl["id"],
                            t.dir])
        got = [json.loads(x) for x in out.splitlines()
               if '"type":"conn"' in x]
        check({c["id"] for c in got} == {cl["id"], cl["peer_conn"]},
              f"--conn shows the connection and its other end: {got}")
        port = int(cl["local"].split(":")[-1])
        rc, out, err = run([VIEWER, "view", "--no-color", "--port",
                            str(port), t.dir])
        check(rc == 0 and "tcp client" in out and "listener" not in out,
              "--port selects by port")
        rc, out, err = run([VIEWER, "view", "--pid", "x", t.dir])
        check(rc == 2 and "--pid" in err, "bad --pid is a usage error")
        rc, out, err = run([VIEWER, "view", "/nonexistent/dir"])
        check(rc == 1 and "/nonexistent/dir" in err, "missing path")
        rc, out, err = run([VIEWER, "view", "--no-color", "-t", t.dir])
        import re
        check(rc == 0 and re.search(r"^  \d\d:\d\d:\d\d\.\d{6}  ", out,
                                    re.M), "-t shows wall-clock times")


# --- real programs --------------------------------------------------------

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, proc, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        check(proc.poll() is None, "server exited early")
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise Fail(f"nothing listening on {port}")


class HttpServer:
    """python3 -m http.server under the preload, tracing into T's dir,
    serving one file NAME holding TEXT: its process in .srv and the
    file's URL in .url; terminated on exit."""

    def __init__(self, t, name, text):
        self.t, self.name, self.text = t, name, text

    def __enter__(self):
        www = os.path.join(self.t.path, "www")
        os.mkdir(www)
        with open(os.path.join(www, self.name), "w") as f:
            f.write(self.text)
        port = free_port()
        env = base_env()
        env.update(SOCKTRACE_DIR=self.t.dir, LD_PRELOAD=LIB)
        self.srv = subprocess.Popen(
            ["python3", "-m", "http.server", str(port), "--bind",
             "127.0.0.1", "--directory", www],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port(port, self.srv)
        except BaseException:
            self.__exit__()
            raise
        self.port = port
        self.url = f"http://127.0.0.1:{port}/{self.name}"
        return self

    def __exit__(self, *exc):
        self.srv.terminate()
        self.srv.wait(10)


@test
def curl_and_python_http_server():
    with TraceDir() as t:
        with HttpServer(t, "hello.txt", "hello from socktrace\n" * 100) as h:
            srv, url, port = h.srv, h.url, h.port
            plain = run(["curl", "-sS", url])
            traced = run(["curl", "-sS", url], trace=t.dir)
            check(plain == traced and plain[0] == 0,
                  "curl prints the same with and without the preload")
            # curl may have its reply before the server thread that sent
            # it has written its records: wait for the server's last close
            end = time.time() + 10
            while time.time() < end:
                procs, calls = dump(t.dir)
                if len(calls_of(calls, "close", pid=srv.pid)) >= 3:
                    break
                time.sleep(0.05)
        procs, calls = dump(t.dir)
        curl = [p for p in procs if p["comm"] == "curl"]
        py = [p for p in procs if p["comm"].startswith("python")]
        check(len(curl) == 1 and len(py) == 1, f"both traced: {procs}")
        cpid, ppid = curl[0]["pid"], py[0]["pid"]
        con = [c for c in calls_of(calls, "connect", pid=cpid)
               if c["addr"] == f"127.0.0.1:{port}"]
        check(len(con) == 1, f"curl connects once to the server: {con}")
        con = con[0]
        # the preload's own probe connection (wait_port) is untraced, and
        # so is the untraced curl: one accept joins the traced curl
        acc = [c for c in calls_of(calls, pid=ppid)
               if c["call"] in ("accept", "accept4")
               and c["peer"] == con["local"]]
        check(len(acc) == 1, f"the server's accept has curl's local "
              f"address {con['local']} as peer")
        acc = acc[0]
        check(acc["local"] == con["addr"], "accept local == connect addr")

        def total(pid, conn, d):
            return sum(c["bytes"] or 0 for c in calls
                       if c["pid"] == pid and c["conn"] == conn
                       and c.get("dir") == d)
        sent, got = total(cpid, con["conn"], "out"), \
            total(ppid, acc["conn2"], "in")
        check(sent > 0 and sent == got,
              f"request bytes: curl sent {sent}, server read {got}")
        sent, got = total(ppid, acc["conn2"], "out"), \
            total(cpid, con["conn"], "in")
        check(sent > 2100 and sent == got,
              f"response bytes: server sent {sent}, curl read {got}")


with open(os.path.join(ROOT, "tests", "nginx.conf.in")) as f:
    NGINX_CONF = f.read()


def nginx_site(d, pages, workers=2):
    """An nginx site in directory D serving PAGES (name -> text) on a free
    loopback port: (the command that runs it in the foreground, port)."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(nginx):
        raise Fail("nginx is not installed: run 'make deps'")
    os.chmod(d, 0o755)  # workers may run as another user
    os.makedirs(f"{d}/www")
    os.makedirs(f"{d}/tmp")
    for name, text in pages.items():
        with open(f"{d}/www/{name}", "w") as f:
            f.write(text)
    port = free_port()
    with open(f"{d}/nginx.conf", "w") as f:
        f.write(NGINX_CONF.format(d=d, port=port, workers=workers))
    return [nginx, "-e", f"{d}/error.log", "-c", f"{d}/nginx.conf", "-p",
            d], port


def valgrind():
    """valgrind's path; None under make SANITIZE=... (valgrind cannot run
    an ASan binary, and the sanitizers check the same runs instead)."""
    if os.environ.get("ST_OUT", ".") != ".":
        print("  (skipped: the sanitizers check these runs)")
        return None
    vg = shutil.which("valgrind")
    if not vg:
        raise Fail("valgrind is not installed: run 'make deps'")
    return vg


@test
def viewer_clean_under_valgrind():
    vg = valgrind()
    if not vg:
        return
    with TraceDir() as t:
        dirs = []
        for ex in ("echo", "backlog", "close_wait", "server_close",
                   "refused", "nonblock"):
            d = os.path.join(t.path, ex)
            rc, out, err = run([VIEWER, "run", "-o", d, "--",
                                os.path.join(EXAMPLES, ex)], preload=False)
            check(rc == 0, f"{ex} failed: {err}")
            dirs.append(d)
        for argv in (["view", "--json"], ["view", "--no-color"],
                     ["dump", "--json"]):
            rc, out, err = run([vg, "-q", "--error-exitcode=99",
                                "--leak-check=full",
                                "--errors-for-leak-kinds=definite",
                                VIEWER] + argv + dirs, preload=False)
            check(rc == 0 and out, f"socktrace {' '.join(argv)} under "
                  f"valgrind exited {rc}: {err[-2000:]}")


@test
def nginx_workers_and_curl_joined():
    n = 12
    with TraceDir() as t:
        body = "".join(f"line {i}\n" for i in range(2000))
        argv, port = nginx_site(t.path, {"page.txt": body})
        env = base_env()
        env.update(SOCKTRACE_DIR=t.dir, LD_PRELOAD=LIB)
        ng = subprocess.Popen(argv, env=env,
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        try:
            wait_port(port, ng)
            url = f"http://127.0.0.1:{port}/page.txt"
            plain = run(["curl", "-sS", url], preload=False)
            check(plain[0] == 0 and plain[1] == body,
                  f"untraced curl gets the page: {plain[2]}")
            for _ in range(n):
                traced = run(["curl", "-sS", url], trace=t.dir)
                check(traced == plain, "curl prints the same traced")
        finally:
            ng.send_signal(signal.SIGQUIT)  # graceful: workers exit
            try:
                ng.wait(20)
            except subprocess.TimeoutExpired:
                ng.kill()
                ng.wait()
        rc, out, err = run([VIEWER, "view", "--json", t.dir],
                           preload=False)
        check(rc == 0, f"view failed: {err}")
        lines = [json.loads(x) for x in out.splitlines()
                 if x.startswith("{")]
        procs = [x for x in lines if x["type"] == "process"]
        conns = [x for x in lines if x["type"] == "conn"]
        check(all(p["lost"] == 0 for p in procs), f"nothing lost: {procs}")
        nginxes = {p["pid"] for p in procs if p["comm"] == "nginx"}
        check(len(nginxes) == 3, f"master and 2 workers traced: {procs}")
        ids = {c["id"]: c for c in conns}
        # wait_port's probe and the untraced curl are not traced: their
        # server ends stay alone; each traced curl is joined
        cl = [c for c in conns if c["role"] == "client" and
              c["peer"] == f"127.0.0.1:{port}"]
        check(len(cl) == n, f"{n} curl connections: {len(cl)}")
        for c in cl:
            s = ids.get(c["peer_conn"])
            check(s is not None and s["pid"] in nginxes and
                  s["role"] == "server",
                  f"curl {c['id']} joined to an nginx worker's end")
            check(c["bytes_in"] == s["bytes_out"] >= len(body) and
                  c["bytes_out"] == s["bytes_in"] > 0,
                  f"bytes match both ways: {c} {s}")
        srv = [c for c in conns if c["role"] == "server"]
        check(len(srv) == n + 2, f"{n} + 2 accepted: {len(srv)}")
        lis = [c for c in conns if c["role"] == "listener"]
        check(len(lis) == 1 and lis[0]["accepted"] == n + 2,
              f"one listener, shared by the workers: {lis}")


def load_test_files():
    """More tests live in tests/it_*.py, one file per area; they run in
    this module's namespace, so they use its helpers and @test."""
    here = os.path.dirname(os.path.abspath(__file__))
    for name in sorted(os.listdir(here)):
        if name.startswith("it_") and name.endswith(".py"):
            path = os.path.join(here, name)
            with open(path) as f:
                exec(compile(f.read(), path, "exec"), globals())


def main(argv):
    load_test_files()
    want = argv[1:]
    for p in (LIB, VIEWER, PROBE, PROBE_FORTIFY):
        if not os.path.exists(p):
            print(f"integration: {p} is missing: run 'make test'")
            return 1
    passed = failed = 0
    for fn in TESTS:
        if want and fn.__name__ not in want:
            continue
        t0 = time.time()
        try:
            fn()
            passed += 1
            print(f"PASS {fn.__name__} ({time.time() - t0:.1f}s)")
        except Exception as e:
            failed += 1
            print(f"FAIL {fn.__name__}: {e}")
            if not isinstance(e, Fail):
                traceback.print_exc()
        sys.stdout.flush()
    print(f"integration: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
