# SPDX-License-Identifier: MIT
# attach --children on a server that forks a child per connection:
# stderr has one line per process followed (--verbose adds each exit).
# Run by integration.py in its namespace, after it_attach.py (Attach,
# echo).

FORKING_SERVER = """
import socketserver, sys
class H(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.sendall(self.request.recv(100))
socketserver.ForkingTCPServer.allow_reuse_address = True
socketserver.ForkingTCPServer(("127.0.0.1", int(sys.argv[1])),
                              H).serve_forever()
"""


def attach_forking_server(verbose):
    """A preloaded forking server, attached with --children (and
    --verbose); 6 connections.  (stderr lines, server pid, children's
    pids)."""
    with TraceDir() as t:
        port = free_port()
        env = base_env()
        env.update(SOCKTRACE_DIR=t.dir, LD_PRELOAD=LIB)
        srv = subprocess.Popen(["python3", "-c", FORKING_SERVER, str(port)],
                               env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        try:
            wait_port(port, srv)
            check(echo(port, 1) == 1, "answered before attach")
            a = Attach(["--children", "--json"] +
                       (["--verbose"] if verbose else []) + [str(srv.pid)])
            check(echo(port, 6) == 6, "answered while attached")
            a.wait_for("following", 6)
            if verbose:
                a.wait_for("exited", 6)
            a.stop()
            rc, by, err = a.finish()
            check(rc == 0, f"attach: {rc} {err}")
            kids = {p["pid"] for p in by["process"]
                    if p["ppid"] == srv.pid}
            return err.splitlines(), srv.pid, kids
        finally:
            stop_proc(srv)


@test
def attach_children_one_line_per_process():
    lines, spid, kids = attach_forking_server(False)
    check(len(kids) >= 6, f"the children followed: {kids} {lines}")
    for pid in kids | {spid}:
        mine = [x for x in lines if f"[{pid}]" in x or f" {pid} " in x]
        check(len(mine) == 1, f"one line for process {pid}: {lines}")
    check(not [x for x in lines if "exited" in x],
          f"no line per exit: {lines}")
    lines, spid, kids = attach_forking_server(True)
    for pid in kids:
        check(f"socktrace: process {pid} exited" in lines,
              f"--verbose says each exit: {lines}")
