# SPDX-License-Identifier: MIT
# Programs that set their own RLIMIT_FSIZE or RLIMIT_AS behave the same
# traced: the trace keeps within what the limits leave, or is not made.
# Run by tests/integration.py in its namespace: its helpers and @test.

LIMITS = os.path.join(BUILD, "tests/progs/limits")


def limits_run(args, env=None):
    """Runs limits ARGS untraced and traced (in a scratch directory, as
    it writes a file of its own); both must behave the same.  Returns
    the trace directory's view --json (rc, conns, processes, stderr) and
    the traced run's stderr with SOCKTRACE_DEBUG=1."""
    with TraceDir() as t:
        cwd = os.getcwd()
        os.chdir(t.path)
        try:
            plain = run([LIMITS] + args)
            traced = run([LIMITS] + args, trace=t.dir, env=env)
            check(plain[0] == 0, f"limits {args} untraced: {plain}")
            check(plain == traced,
                  f"limits {args}: untraced {plain}, traced {traced}")
            dbg = run([LIMITS] + args, trace=t.dir + "-debug",
                      env={"SOCKTRACE_DEBUG": "1"})
            check(dbg[:2] == plain[:2], f"limits {args} with "
                  f"SOCKTRACE_DEBUG: {dbg}")
        finally:
            os.chdir(cwd)
        if not os.path.isdir(t.dir):
            return None, dbg[2]
        rc, out, err = run([VIEWER, "view", "--json", t.dir])
        lines = [json.loads(x) for x in out.splitlines()]
        procs = [x for x in lines if x["type"] == "process"]
        conns = [x for x in lines if x["type"] == "conn"]
        return (rc, conns, procs, err), dbg[2]


@test
def fsize_limit_bounds_the_trace():
    """SIGXFSZ killed these in their first socket() (exit 153)."""
    # room for the whole trace
    (rc, conns, procs, err), dbg = limits_run(["fsize", "100000"])
    check(rc == 0 and len(procs) == 1 and procs[0]["lost"] == 0,
          f"all recorded: {procs} {err}")
    check(len([c for c in conns if c["role"] == "client"]) == 10,
          f"the 10 connections: {conns}")
    check("RLIMIT_FSIZE bounds the trace file" in dbg, dbg)
    # a ring of what the limit leaves
    (rc, conns, procs, err), dbg = limits_run(["fsize", "20000", "200"])
    check(len(procs) == 1 and procs[0]["lost"] > 0 and
          "the program's own RLIMIT_FSIZE kept it small" in err,
          f"the ring's loss is put down to the limit: {procs} {err}")
    # no room for a trace file at all
    got, dbg = limits_run(["fsize", "5000"])
    check(got is None, f"no trace file: {got}")
    check("RLIMIT_FSIZE leaves no room for a trace file: not tracing"
          in dbg, f"SOCKTRACE_DEBUG says why: {dbg!r}")


@test
def fsize_limit_set_after_the_trace_began():
    (rc, conns, procs, err), dbg = limits_run(
        ["fsize-later", "500000", "1000"])
    check(len(procs) == 1 and procs[0]["lost"] > 0 and
          "could not grow past the program's RLIMIT_FSIZE" in err,
          f"the records the file could not hold are counted: {procs} {err}")
    check("RLIMIT_FSIZE leaves no room for the trace file to grow" in dbg,
          f"SOCKTRACE_DEBUG says why: {dbg!r}")


@test
def fsize_limit_then_setuid():
    """Before a uid change the whole file is allocated: within the
    limit."""
    if os.geteuid() != 0:
        print("  (skipped: needs root to drop it)")
        return
    (rc, conns, procs, err), dbg = limits_run(["fsize-setuid", "4000000"])
    check(len(procs) == 1 and
          len([c for c in conns if c["role"] == "client"]) > 0,
          f"recorded before and after setuid: {procs} {err}")


@test
def address_space_limit_leaves_the_program_its_room():
    """The trace's 64 MiB reservation made the program's own mmap fail
    under its RLIMIT_AS."""
    (rc, conns, procs, err), dbg = limits_run(["as", "100"])
    check(rc == 0 and len(procs) == 1 and procs[0]["lost"] == 0,
          f"recorded: {procs} {err}")
    check(len([c for c in conns if c["role"] == "client"]) == 10,
          f"the 10 connections: {conns}")
    check("RLIMIT_AS bounds the trace" in dbg, dbg)


@test
def address_space_limit_set_after_the_trace_began():
    """A limit set after the trace's file was made: its 64 MiB of
    reserved address space went against the program's later mmap."""
    rc, out, err = run([LIMITS, "vm"])
    check(rc == 0, f"limits vm: {rc} {err}")
    limit = int(out.splitlines()[-1]) + (100 << 20)
    (rc, conns, procs, err), dbg = limits_run(
        ["as-later", str(limit), "96"])
    check(rc == 0 and len(procs) == 1 and procs[0]["lost"] == 0,
          f"recorded, within what the limit left: {procs} {err}")
    check(len([c for c in conns if c["role"] == "client"]) == 301,
          f"the 301 connections: {len(conns)}")
    check("the program set RLIMIT_AS" in dbg, dbg)
