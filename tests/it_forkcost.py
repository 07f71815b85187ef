# SPDX-License-Identifier: MIT
# What tracing costs a process that forks: a process that records
# nothing has no file, and one that records a few calls a small one.
# Run by tests/integration.py in its namespace: its helpers and @test.


def trace_files(d):
    if not os.path.isdir(d):
        return []
    return [os.path.join(d, f) for f in os.listdir(d)
            if f.endswith(".trace")]


@test
def processes_that_only_fork_have_no_file():
    """timeout and a shell fork and exec, and make no socket call."""
    with TraceDir() as t:
        for argv in (["timeout", "20", "true"],
                     ["sh", "-c", "true & wait; /bin/true | cat"]):
            plain = run(argv)
            traced = run(argv, trace=t.dir)
            check(plain == traced and plain[0] == 0,
                  f"{argv}: {plain} untraced, {traced} traced")
            check(trace_files(t.dir) == [],
                  f"{argv}: no trace file: {trace_files(t.dir)}")
        # a socket call makes the file, and forks after it are recorded
        rc, out, err = run(["python3", "-c",
                            "import os, socket\n"
                            "socket.socket().close()\n"
                            "pid = os.fork()\n"
                            "if pid == 0:\n"
                            "    os._exit(0)\n"
                            "os.waitpid(pid, 0)\n"], trace=t.dir)
        check(rc == 0, f"python: {rc} {err}")
        procs, calls = dump(t.dir)
        check(len(procs) == 1 and len(calls_of(calls, "fork")) == 1,
              f"one file, the fork recorded: {procs} {calls}")


@test
def forked_children_files_start_small():
    """A child that makes a few calls costs a file of a few pages, not a
    megabyte; a process that records many still keeps every record."""
    with TraceDir() as t:
        rc, out, err = run([PROBE, "forks", "100"], trace=t.dir)
        check(rc == 0, f"probe forks: {rc} {err}")
        procs, calls = dump(t.dir)
        check(len(procs) == 101 and all(p["lost"] == 0 for p in procs),
              f"101 trace files, nothing lost: {len(procs)}")
        sizes = sorted(os.path.getsize(f) for f in trace_files(t.dir))
        check(sizes[-2] <= 64 * 1024,
              f"children's files are at most 64 KiB: {sizes[-5:]}")
        check(sum(sizes) <= 101 * 64 * 1024,
              f"all files together: {sum(sizes)} bytes")
