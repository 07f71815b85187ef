# SPDX-License-Identifier: MIT
# Programs in other languages' runtimes, as Debian ships them: a Perl
# server and clients in Perl, Ruby and Java (the JVM's socket calls go
# through libc too, on dual-stack IPv6 sockets).  Each client prints the same traced and untraced,
# and each traced connection is joined end to end with the bytes the
# other end counted.  Run by tests/integration.py in its namespace.

LANG_DIR = os.path.join(ROOT, "tests/lang")
LANG_CLIENTS = {
    "perl": ["perl", os.path.join(LANG_DIR, "client.pl")],
    "ruby": ["ruby", os.path.join(LANG_DIR, "client.rb")],
    "java": ["java", "-Xshare:auto", os.path.join(LANG_DIR, "Client.java")],
}


@test
def perl_ruby_java_traced_and_joined():
    for prog in ("perl", "ruby", "java"):
        need(prog)
    n = 2 * len(LANG_CLIENTS)  # each client untraced, then traced
    with TraceDir() as t:
        os.makedirs(t.dir)
        port = free_port()
        env = base_env()
        env.update(SOCKTRACE_DIR=t.dir, LD_PRELOAD=LIB)
        srv = subprocess.Popen(["perl", os.path.join(LANG_DIR,
                                                     "echo_server.pl"),
                                str(port), str(n)], env=env,
                               stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
        try:
            check(srv.stdout.readline() == b"ready\n", "the server listens")
            for name, argv in LANG_CLIENTS.items():
                plain = run(argv + [str(port)], preload=False)
                traced = run(argv + [str(port)], trace=t.dir)
                want = f"echo: from {name}\n"
                check(plain == traced and plain[1] == want,
                      f"{name}: the same traced: {plain} {traced}")
            srv.wait(60)
        finally:
            if srv.poll() is None:
                srv.kill()
                srv.wait()
        by = view_json(t.dir)
        conns = by["conn"]
        for name in LANG_CLIENTS:
            cl = [c for c in conns if c["role"] == "client" and
                  c["kind"] == "tcp" and c["comm"] == name and
                  c["peer"] in (f"127.0.0.1:{port}",
                                f"[::ffff:127.0.0.1]:{port}")]
            check(len(cl) == 1, f"{name}'s connection: {cl}")
            c = cl[0]
            line = len(f"from {name}\n")
            check(c["bytes_out"] == line and
                  c["bytes_in"] == line + len("echo: "),
                  f"{name} sent and read its line: {c}")
            all_joined(conns, cl)
