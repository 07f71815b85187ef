# SPDX-License-Identifier: MIT
# Go programs, built by the test with Debian's golang-go: a cgo program
# whose C code makes the socket calls (as with libpq or libcurl) is
# traced, and said to be traced in part; a Go program whose calls are
# Go's own is traced with ptrace (run --ptrace) by itself, and --force
# runs it under the preload anyway.  Run by
# tests/integration.py in its namespace: its helpers and @test.

import threading

GO_SRC = os.path.join(ROOT, "tests/go")


def go_build(d, name):
    """Builds tests/go/NAME.go into D; returns the binary's path."""
    go = shutil.which("go")
    if not go:
        raise Fail("golang-go is not installed: run 'make test-deps'")
    out = os.path.join(d, name)
    env = {"GOCACHE": os.path.join(d, "cache"), "HOME": d,
           "GOPATH": os.path.join(d, "gopath"), "GO111MODULE": "off",
           "GOFLAGS": ""}
    rc, o, err = run([go, "build", "-o", out,
                      os.path.join(GO_SRC, name + ".go")], env=env,
                     preload=False, timeout=300)
    check(rc == 0, f"go build {name}: {err}")
    return out


class ByteSink:
    """A loopback TCP server that counts the bytes of each connection."""

    def __enter__(self):
        self.s = socket.socket()
        self.s.bind(("127.0.0.1", 0))
        self.s.listen(8)
        self.port = self.s.getsockname()[1]
        self.got = []
        self.t = threading.Thread(target=self._serve, daemon=True)
        self.t.start()
        return self

    def _serve(self):
        while True:
            try:
                c, _ = self.s.accept()
            except OSError:
                return
            n = 0
            while True:
                b = c.recv(4096)
                if not b:
                    break
                n += len(b)
            c.close()
            self.got.append(n)

    def __exit__(self, *a):
        self.s.close()


@test
def go_cgo_traced_pure_go_ptraced():
    with TraceDir() as t:
        cgo = go_build(t.path, "cgo_client")
        pure = go_build(t.path, "net_client")
        with ByteSink() as sink:
            plain = run([cgo, str(sink.port)], preload=False)
            rc, out, err = run([VIEWER, "run", "--json", "-o", t.dir, "--",
                                cgo, str(sink.port)], preload=False)
            check(rc == plain[0] == 0, f"cgo program traced: {rc} {err}")
            check("C code makes (cgo) are seen" in err,
                  f"run says the program is seen in part: {err}")
            conns = [json.loads(x) for x in out.splitlines()
                     if x.startswith('{"type":"conn"')]
            cl = [c for c in conns if c["role"] == "client" and
                  c["peer"] == f"127.0.0.1:{sink.port}"]
            time.sleep(0.2)
            check(len(cl) == 1 and len(sink.got) == 2 and
                  cl[0]["bytes_out"] == sink.got[-1] == 15,
                  f"its C code's connection, bytes as the server counted: "
                  f"{cl} {sink.got}")
            plain = run([pure, str(sink.port)], preload=False)
            rc, out, err = run([VIEWER, "run", "--json", "-o",
                                os.path.join(t.path, "ptraced"), "--",
                                pure, str(sink.port)], preload=False)
            check(rc == plain[0] == 0 and "it is a Go program" in err and
                  "tracing it with ptrace" in err,
                  f"a pure Go program is traced with ptrace: {rc} {err}")
            conns = [json.loads(x) for x in out.splitlines()
                     if x.startswith('{"type":"conn"')]
            cl = [c for c in conns if c["role"] == "client" and
                  c["peer"] == f"127.0.0.1:{sink.port}"]
            time.sleep(0.2)
            check(len(cl) == 1 and cl[0]["bytes_out"] == sink.got[-1] == 14,
                  f"its connection, bytes (TCP_INFO) as the server counted: "
                  f"{cl} {sink.got}")
            rc, out, err = run([VIEWER, "run", "--force", "-o",
                                os.path.join(t.path, "forced"), "--", pure,
                                str(sink.port)], preload=False)
            check(rc == plain[0] == 0 and "sent 14" in out,
                  f"--force runs it as it runs untraced: {rc} {out} {err}")
            check("made no socket calls that LD_PRELOAD can see" in err,
                  f"and says nothing was seen: {err}")


def musl_build(t, name, sources, static=False):
    """NAME built with musl-gcc from SOURCES (under ROOT) in T's dir
    (STATIC: linked statically)."""
    cc = shutil.which("musl-gcc")
    if not cc:
        raise Fail("musl-tools is not installed: run 'make deps'")
    exe = os.path.join(t.path, name)
    rc, out, err = run([cc, "-O2", "-o", exe] + (["-static"] if static
                                                 else []) +
                       [os.path.join(ROOT, x) for x in sources],
                       preload=False)
    check(rc == 0, f"musl-gcc: {err}")
    return exe


def check_echo_ends(out, time_wait_state):
    """examples/echo traced (run --json's OUT): its client and server
    ends joined, 12 B each way, and the client the active closer, in
    TIME_WAIT as ss shows (TIME_WAIT_STATE: in its states too)."""
    conns = [json.loads(x) for x in out.splitlines()
             if x.startswith('{"type":"conn"')]
    cl = [c for c in conns if c["role"] == "client"]
    sv = [c for c in conns if c["role"] == "server"]
    check(len(cl) == 1 and len(sv) == 1 and
          cl[0]["peer_conn"] == sv[0]["id"] and
          cl[0]["bytes_out"] == sv[0]["bytes_in"] == 12 and
          sv[0]["bytes_out"] == cl[0]["bytes_in"] == 12,
          f"both ends recorded, joined, 12 B each way: {conns}")
    lport = cl[0]["local"].rsplit(":", 1)[1]
    rc, ss, _ = run(["ss", "-Htn", "state", "time-wait",
                     f"sport = :{lport}"], preload=False)
    check(ss.strip() and cl[0]["closed_by"] == "local" and
          (not time_wait_state or
           "TIME_WAIT" in [x[0] for x in cl[0]["states"]]),
          f"the client closed first, in TIME_WAIT as ss shows: "
          f"{ss!r} {cl[0]}")


@test
def musl_client_and_server_traced():
    """A program linked against musl (examples/echo built with musl-gcc:
    a forked client and server) runs under 'socktrace run' with the musl
    build of the library, as it runs untraced: same output and status,
    both ends recorded and joined, and the client's TIME_WAIT the one ss
    shows.  With no musl build beside socktrace, run says so before
    running anything."""
    with TraceDir() as t:
        os.makedirs(t.path, exist_ok=True)
        exe = musl_build(t, "echo_musl", ["examples/echo.c",
                                          "examples/common.c"])
        plain = run([exe], preload=False)
        check(plain[0] == 0, f"the musl program runs untraced: {plain}")
        rc, out, err = run([VIEWER, "run", "-o", t.dir, "--json", "--",
                            exe], preload=False)
        check(rc == 0 and "libsocktrace-musl.so" not in err,
              f"run: {rc} {err}")
        rc2, mine, err2 = run([exe], trace=os.path.join(t.path, "direct"),
                              env={"LD_PRELOAD": os.path.join(
                                  OUT, "libsocktrace-musl.so")})
        check((rc2, mine) == plain[:2] and
              err2.replace("echo_musl", "") == plain[2].replace(
                  "echo_musl", ""),
              f"the same preloaded: {(rc2, mine, err2)} {plain}")
        check_echo_ends(out, True)
        # no musl build where SOCKTRACE_LIB points: said, nothing run
        lonely = os.path.join(t.path, "lib")
        os.makedirs(lonely)
        shutil.copy(LIB, lonely)
        gone = os.path.join(t.path, "not_made")
        rc, out, err = run([VIEWER, "run", "-o", gone, "--", exe],
                           env={"SOCKTRACE_LIB": os.path.join(
                               lonely, "libsocktrace.so")}, preload=False)
        check(rc == 1 and "libsocktrace-musl.so" in err and not out and
              not os.path.exists(gone),
              f"no musl build: said before running: {rc} {out} {err}")


MUSL_EXEC = r"""
#include <unistd.h>
int main(int argc, char **argv)
{
	(void)argc;
	execvp(argv[1], argv + 1);
	return 127;
}
"""


@test
def glibc_and_musl_programs_exec_each_other():
    """A traced glibc program (sh) that execs a musl program, and a
    traced musl program that execs a glibc one: each child gets the
    library of its own libc from the one LD_PRELOAD run sets, runs as
    it runs untraced (before, the musl child died with relocation
    errors), and its connections are traced."""
    with TraceDir() as t:
        os.makedirs(t.path, exist_ok=True)
        musl_echo = musl_build(t, "echo_musl", ["examples/echo.c",
                                                "examples/common.c"])
        src = os.path.join(t.path, "musl_exec.c")
        with open(src, "w") as f:
            f.write(MUSL_EXEC)
        rc, _, err = run(["musl-gcc", "-O2", "-o",
                          os.path.join(t.path, "musl_exec"), src],
                         preload=False)
        check(rc == 0, f"musl-gcc: {err}")
        glibc_echo = os.path.join(EXAMPLES, "echo")
        cases = (("sh", ["sh", "-c", musl_echo], "echo_musl"),
                 ("musl_exec", [os.path.join(t.path, "musl_exec"),
                                glibc_echo], "echo"))
        for name, argv, child in cases:
            plain = run(argv, preload=False)
            check(plain[0] == 0, f"{name} untraced: {plain}")
            d = os.path.join(t.path, name + ".traces")
            rc, out, err = run([VIEWER, "run", "--json", "-o", d, "--"] +
                               argv, preload=False)
            prog = [x for x in out.splitlines()
                    if not x.startswith('{"type":')]
            check(rc == 0 and prog == plain[1].splitlines() and
                  "ld.so" not in err and "relocating" not in err,
                  f"{name} traced: as untraced, no loader error: "
                  f"{rc} {prog} {err}")
            objs = [json.loads(x) for x in out.splitlines()
                    if x.startswith('{"type":')]
            procs = {o["comm"] for o in objs if o["type"] == "process"}
            conns = [o for o in objs if o["type"] == "conn" and
                     o["role"] == "client"]
            check(child in procs and len(conns) == 1 and
                  conns[0]["peer_conn"],
                  f"{name}'s child {child} traced, its connection "
                  f"joined: {procs} {conns}")


@test
def static_musl_program_ptraced():
    """A static musl program (examples/echo, a forked client and server)
    is run with ptrace by itself: its output and status as untraced,
    both ends joined with 12 B each way from TCP_INFO, and the client's
    TIME_WAIT the one ss shows."""
    with TraceDir() as t:
        os.makedirs(t.path, exist_ok=True)
        exe = musl_build(t, "echo_static", ["examples/echo.c",
                                            "examples/common.c"],
                         static=True)
        plain = run([exe], preload=False)
        check(plain[0] == 0, f"the program runs untraced: {plain}")
        rc, out, err = run([VIEWER, "run", "-o", t.dir, "--json", "--",
                            exe], preload=False)
        prog = [x for x in out.splitlines() if not x.startswith('{"type":')]
        check(rc == 0 and "statically linked" in err and
              "tracing it with ptrace" in err and
              prog == plain[1].splitlines(),
              f"run chose ptrace, the program's output as untraced: "
              f"{rc} {prog} {err}")
        check_echo_ends(out, False)


@test
def musl_program_attached_with_ptrace():
    """attach loads the library with glibc's dlopen: a running musl
    program not started under run is followed with ptrace instead (and
    attach says why), and runs on untraced after."""
    with TraceDir() as t:
        os.makedirs(t.path, exist_ok=True)
        exe = musl_build(t, "hello_musl", ["tests/progs/hello.c"])
        p = subprocess.Popen([exe, "wait"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE)
        try:
            check(p.stdout.readline() == b"hello\n", "it runs")
            rc, out, err = run([VIEWER, "attach", "--duration", "1", "-o",
                                t.dir, str(p.pid)], preload=False,
                               timeout=60)
            check(rc == 0 and "musl" in err and "with ptrace" in err,
                  f"attach follows it with ptrace, saying why: {rc} {err}")
            check(p.poll() is None, "the program runs on")
            with open(f"/proc/{p.pid}/status") as f:
                check("TracerPid:\t0\n" in f.read(), "no tracer left")
        finally:
            p.stdin.close()
            p.wait(timeout=20)
