# SPDX-License-Identifier: MIT
# socktrace clean: the trace files of ended processes go, so that view
# shows only later runs; a running process's file and anything socktrace
# did not write stay.  Run by tests/integration.py in its namespace: its
# helpers and @test.


def echo_traced(d):
    rc, out, err = run([os.path.join(EXAMPLES, "echo")], trace=d)
    check(rc == 0, f"echo: {rc} {err}")


def view_pids(d):
    rc, out, err = run([VIEWER, "view", "--json", d])
    check(rc == 0, f"view: {rc} {err}")
    return sorted(json.loads(x)["pid"] for x in out.splitlines()
                  if '"type":"process"' in x)


@test
def clean_removes_ended_runs_only():
    with TraceDir() as t:
        echo_traced(t.dir)
        old = view_pids(t.dir)
        check(len(old) == 2, f"an old run's two processes: {old}")
        # a process still running, and files socktrace did not write
        env = base_env()
        env.update(SOCKTRACE_DIR=t.dir, LD_PRELOAD=LIB)
        live = subprocess.Popen(
            ["python3", "-c", "import socket, sys\n"
             "s = socket.socket()\nprint('ready', flush=True)\n"
             "sys.stdin.read()"], env=env, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE)
        try:
            check(live.stdout.readline() == b"ready\n", "python started")
            other = os.path.join(t.path, "mine.trace")
            with open(other, "w") as f:
                f.write("not a trace\n")
            with open(os.path.join(t.dir, "notes.txt"), "w") as f:
                f.write("keep me\n")
            with open(os.path.join(t.dir, "fake-1.trace"), "w") as f:
                f.write("x" * 5000)
            os.symlink(other, os.path.join(t.dir, "link-2.trace"))
            before = sorted(os.listdir(t.dir))
            rc, out, err = run([VIEWER, "clean", "-n", t.dir])
            check(rc == 0 and "would remove 2 trace files" in out and
                  sorted(os.listdir(t.dir)) == before,
                  f"--dry-run removes nothing: {rc} {out} {err}")
            rc, out, err = run([VIEWER, "clean", t.dir])
            check(rc == 0 and "removed 2 trace files of ended processes"
                  in out, f"clean: {rc} {out!r} {err!r}")
            check(f"kept 1 trace file of a running process: python3"
                  f"[{live.pid}]" in out, f"the running one kept: {out}")
            check("left 3 files socktrace did not write" in out,
                  f"the others named: {out}")
            left = sorted(os.listdir(t.dir))
            check(left == sorted(["fake-1.trace", "link-2.trace",
                                  "notes.txt",
                                  f"python3-{live.pid}.trace"]),
                  f"what is left: {left}")
            with open(other) as f:
                check(f.read() == "not a trace\n", "a symlink's target "
                      "is untouched")
            for f in ("fake-1.trace", "link-2.trace", "notes.txt"):
                os.unlink(os.path.join(t.dir, f))
            check(view_pids(t.dir) == [live.pid],
                  "view shows only the running process, not the old run")
        finally:
            live.communicate(b"", timeout=20)
        rc, out, err = run([VIEWER, "clean", t.dir])
        check(rc == 0 and "removed 1 trace file of ended processes" in out,
              f"once it ended, its file goes: {out} {err}")


@test
def clean_refuses_unsafe_dirs_and_removes_run_dirs():
    with TraceDir() as t:
        echo_traced(t.dir)
        os.chmod(t.dir, 0o777)
        rc, out, err = run([VIEWER, "clean", t.dir])
        check(rc == 1 and "writable by others: not touching it" in err and
              len(os.listdir(t.dir)) == 2, f"refused: {rc} {out} {err}")
        os.chmod(t.dir, 0o700)
        link = os.path.join(t.path, "link")
        os.symlink(t.dir, link)
        rc, out, err = run([VIEWER, "clean", link])
        check(rc == 1 and "a symlink" in err and
              len(os.listdir(t.dir)) == 2, f"refused: {rc} {out} {err}")
        rc, out, err = run([VIEWER, "clean", os.path.join(t.path, "no")])
        check(rc == 1 and "no such directory" in err, f"{rc} {err}")
        rc, out, err = run([VIEWER, "clean"],
                           env={"SOCKTRACE_DIR": os.path.join(t.path, "n")})
        check(rc == 0 and "no trace directory, nothing to clean" in out,
              f"the default directory not there: {rc} {out} {err}")
        rc, out, err = run([VIEWER, "clean"], env={"SOCKTRACE_DIR": t.dir})
        check(rc == 0 and "removed 2 trace files" in out and
              os.listdir(t.dir) == [], f"the default directory: {out}")
        rc, out, err = run([VIEWER, "clean", "--bogus"])
        check(rc == 2 and "usage: socktrace clean" in err, f"{rc} {err}")
        # a directory socktrace run made goes with its files
        rc, out, err = run([VIEWER, "run", "--",
                            os.path.join(EXAMPLES, "echo")],
                           env={"TMPDIR": t.path})
        runs = [d for d in os.listdir(t.path)
                if d.startswith("socktrace-run.")]
        check(rc == 0 and len(runs) == 1, f"run: {rc} {runs} {err}")
        d = os.path.join(t.path, runs[0])
        rc, out, err = run([VIEWER, "clean", d])
        check(rc == 0 and not os.path.exists(d) and
              "removed the directory" in out, f"{rc} {out} {err}")
