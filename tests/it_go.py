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


@test
def musl_program_ptraced():
    """A program linked against musl would not even start with the glibc
    library preloaded: run traces it with ptrace instead, and says why."""
    cc = shutil.which("musl-gcc")
    if not cc:
        raise Fail("musl-tools is not installed: run 'make test-deps'")
    with TraceDir() as t:
        exe = os.path.join(t.path, "musl_hello")
        rc, out, err = run([cc, "-o", exe,
                            os.path.join(ROOT, "tests/progs/hello.c")],
                           preload=False)
        check(rc == 0, f"musl-gcc: {err}")
        plain = run([exe], preload=False)
        check(plain[0] == 0, f"the musl program runs untraced: {plain}")
        rc, out, err = run([VIEWER, "run", "-o", t.dir, "--", exe],
                           preload=False)
        check(rc == 0 and "musl" in err and "tracing it with ptrace" in err
              and out == plain[1],
              f"traced with ptrace, with the reason: {rc} {out} {err}")
