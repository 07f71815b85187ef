# SPDX-License-Identifier: MIT
# Integration tests: damaged, foreign and hostile trace files, and the
# inputs the fuzzer (make fuzz) found, through the real viewer.
# Exec'd by integration.py in its namespace: uses its helpers.
import glob
import struct

# Offsets in the header and in a record slot (include/socktrace/format.h).
H_VERSION, H_SLOT_SIZE, H_CAPACITY, H_POLICY = 8, 16, 24, 32
H_NEXT, H_MAPPED = 3968, 4032
HDR, SLOT = 4096, 128
R_CALL, R_FLAGS = 48, 52


def echo_traces(t):
    """Runs the echo example traced into t.dir: {server, client: path}.
    Small files (SOCKTRACE_MAX_SIZE) keep the copies cheap."""
    rc, out, err = run([os.path.join(EXAMPLES, "echo")], trace=t.dir,
                       env={"SOCKTRACE_MAX_SIZE": "64K"})
    check(rc == 0, f"echo failed: {err}")
    procs, calls = dump(t.dir)
    check(len(procs) == 2, f"echo leaves two traces: {procs}")
    by = {}
    for p in procs:
        # the parent is the server (examples/README.md)
        by["client" if any(q["pid"] == p["ppid"] for q in procs)
           else "server"] = p["file"]
    return by


def read(path):
    with open(path, "rb") as f:
        return bytearray(f.read())


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


def viewer(argv, timeout=60):
    """The viewer on damaged input: a hang fails the test (timeout), a
    UBSan report stops a sanitized build (make SANITIZE=...)."""
    return run([VIEWER] + argv, timeout=timeout,
               env={"UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1"})


def err_lines(err):
    return [x for x in err.splitlines() if x]


def json_lines(out):
    return [json.loads(x) for x in out.splitlines()]


@test
def bad_headers_one_clear_line_each():
    """Each way a file's header can be wrong: refused with one line that
    names the file and the problem (and what to do), exit 1, nothing on
    stdout, by dump and view alike."""
    with TraceDir() as t:
        good = read(echo_traces(t)["server"])
        bad = os.path.join(t.path, "bad")
        os.makedirs(bad)

        def patched(off, fmt, val):
            d = bytearray(good)
            struct.pack_into(fmt, d, off, val)
            return d
        cases = {
            "zero.trace": (b"", "empty file"),
            "midheader.trace": (good[:1000],
                                "truncated at offset 1000: the header "
                                "needs 4096 bytes"),
            "magic.trace": (b"GIF89a" + good[6:],
                            "not a socktrace trace file"),
            "future.trace": (patched(H_VERSION, "<I", 9),
                             "written by a newer socktrace (format "
                             "version 9"),
            "older.trace": (patched(H_VERSION, "<I", 1),
                            "written by an older socktrace"),
            "slotsize.trace": (patched(H_SLOT_SIZE, "<I", 64),
                               "corrupt header at offset 8"),
            "capacity0.trace": (patched(H_CAPACITY, "<Q", 0),
                                "corrupt header at offset 8"),
            "policy.trace": (patched(H_POLICY, "<I", 7),
                             "corrupt header at offset 8"),
        }
        hints = ("skipped", "use that version", "record it again")
        for name, (data, what) in cases.items():
            p = write(os.path.join(bad, name), data)
            for argv in (["dump"], ["view", "--no-color"],
                         ["dump", "--json"]):
                rc, out, err = viewer(argv + [p])
                lines = err_lines(err)
                named = [x for x in lines if p in x]
                check(rc == 1, f"{argv} {name}: exit {rc}, want 1")
                check(out == "", f"{argv} {name}: printed {out[:200]}")
                check(len(named) == 1 and what in named[0],
                      f"{argv} {name}: want one line naming the file "
                      f"with '{what}': {err}")
                check(any(h in named[0] for h in hints),
                      f"{name}: the line says what to do: {named[0]}")


@test
def view_shows_good_files_beside_bad_ones():
    """A directory of good traces and bad files: view still joins the
    good ends, names every bad file once, exits 1."""
    with TraceDir() as t:
        files = echo_traces(t)
        ref = run_view_json([t.dir])
        good = read(files["server"])
        bad = {"zero.trace": b"", "cut.trace": good[:100],
               "junk.trace": b"\x7fELF" + bytes(5000),
               "future.trace": bytearray(good)}
        struct.pack_into("<I", bad["future.trace"], H_VERSION, 9)
        for name, data in bad.items():
            write(os.path.join(t.dir, name), data)
        rc, out, err = viewer(["view", "--json", t.dir])
        check(rc == 1, f"exit {rc} with bad files present")
        for name in bad:
            check(sum(name in x for x in err_lines(err)) == 1,
                  f"{name} named once: {err}")
        got = json_lines(out)
        check(strip(got) == strip(ref),
              "the good files' process, call, conn and finding lines "
              "are exactly those of the good files alone")
        conns = [x for x in got if x["type"] == "conn"
                 and x["role"] in ("client", "server")]
        check(len(conns) == 2 and all(c["peer_conn"] for c in conns),
              f"the echo connection's ends are still joined: {conns}")


def run_view_json(paths):
    rc, out, err = viewer(["view", "--json"] + paths)
    check(rc == 0, f"view of good traces: {rc} {err}")
    return json_lines(out)


def strip(lines):
    """Lines without what names the file list (paths)."""
    return [{k: v for k, v in x.items() if k != "file"} for x in lines]


@test
def corrupt_records_skipped_rest_shown():
    """Records with an impossible call kind or flags in the middle of a
    good file: each skipped and counted, the first one's offset named,
    every other record still shown, exit 1."""
    with TraceDir() as t:
        path = echo_traces(t)["server"]
        procs, calls = dump(path)
        n = procs[0]["records"]
        check(n >= 6, f"the server made enough calls: {n}")
        d = read(path)
        struct.pack_into("<H", d, HDR + 2 * SLOT + R_CALL, 0xffff)
        struct.pack_into("<H", d, HDR + 4 * SLOT + R_FLAGS, 0x80)
        bad = write(os.path.join(t.path, "corrupt.trace"), d)
        rc, out, err = viewer(["dump", "--json", bad])
        check(rc == 1, f"dump exit {rc} with corrupt records")
        got = json_lines(out)
        check(got[0]["records"] == n - 2 and got[0]["corrupt"] == 2,
              f"process line counts them: {got[0]}")
        want = [c for i, c in enumerate(calls) if i not in (2, 4)]
        check(got[1:] == want, "every other record is shown unchanged")
        check(f"corrupt record at offset {HDR + 2 * SLOT}" in err and
              "2 corrupt records skipped" in err and bad in err,
              f"the damage is named: {err}")
        rc, out, err = viewer(["view", "--no-color", bad])
        check(rc == 1 and "corrupt record" in err,
              f"view exits 1 and says so: {rc} {err}")
        check("tcp listener" in out and "close(" in out and
              "Findings" in out, f"view still shows the timelines: {out}")


@test
def truncated_mid_record_shows_records_before():
    """A file cut inside a record: the whole records before the cut are
    shown as they were, the cut is named with its offset, exit 1."""
    with TraceDir() as t:
        path = echo_traces(t)["server"]
        procs, calls = dump(path)
        k = 3
        cut = HDR + k * SLOT + 60
        bad = write(os.path.join(t.path, "cut.trace"), read(path)[:cut])
        for argv in (["dump", "--json"], ["view", "--json"]):
            rc, out, err = viewer(argv + [bad])
            check(rc == 1, f"{argv}: exit {rc}")
            check(f"{bad}: truncated at offset {cut}" in err,
                  f"{argv}: the cut is named: {err}")
            got = [x for x in json_lines(out) if x["type"] == "call"]
            check(got == calls[:k], f"{argv}: the {k} whole records "
                  f"before the cut are shown: {len(got)}")


@test
def nonsense_counts_bounded_and_clear():
    """Header counters no writer would leave: a ring claiming 2^40 slots
    in a 12 KiB file, a stop file claiming 2^63 records, a mapped count
    past the file.  The viewer ends promptly (no walk over slots that
    are not there) and shows what the file holds."""
    with TraceDir() as t:
        path = echo_traces(t)["server"]
        procs, calls = dump(path)
        n = procs[0]["records"]
        good = read(path)[:HDR + 64 * SLOT]
        cases = []
        d = bytearray(good)  # a lapped ring: records 0..2 overwritten
        struct.pack_into("<Q", d, H_CAPACITY, 1 << 40)
        struct.pack_into("<Q", d, H_NEXT, (1 << 40) + 3)
        struct.pack_into("<Q", d, H_MAPPED, 1 << 40)
        cases.append(("ring.trace", d, calls[3:], 1))
        d = bytearray(good)  # stop policy, absurd next and mapped
        struct.pack_into("<I", d, H_POLICY, 1)
        struct.pack_into("<Q", d, H_NEXT, 1 << 63)
        struct.pack_into("<Q", d, H_MAPPED, (1 << 64) - 1)
        cases.append(("stop.trace", d, calls, 1))
        for name, data, want, want_rc in cases:
            p = write(os.path.join(t.path, name), data)
            for argv in (["dump", "--json"], ["view", "--json"]):
                rc, out, err = viewer(argv + [p], timeout=30)
                check(rc == want_rc, f"{name} {argv}: exit {rc}: {err}")
                got = [x for x in json_lines(out) if x["type"] == "call"]
                check(got == want, f"{name} {argv}: {len(got)} calls "
                      f"shown, want the {len(want)} the file holds")
                check("truncated" in err and "lost" in err,
                      f"{name}: the loss is said: {err}")
        check(n == len(calls), "sanity")


REGRESS = os.path.join(ROOT, "tests", "fuzz", "regress")


def split_like_fuzzer(data):
    """Cuts a fuzz input into trace files as tests/fuzz/fuzz_trace.c
    does: before each later occurrence of the magic, at most 4 pieces."""
    cuts, i = [], 1
    while len(cuts) < 3:
        i = data.find(b"SOCKTRC\x01", i)
        if i < 0:
            break
        cuts.append(i)
        i += 1
    b = [0] + cuts + [len(data)]
    return [data[b[k]:b[k + 1]] for k in range(len(b) - 1)]


@test
def fuzz_regressions_clean_exit():
    """Every input the fuzzer found a crash, leak or hang with: dump and
    view (text and JSON) exit 0 or 1 without a signal, say only
    'socktrace...' lines on stderr, print valid JSON; view runs clean
    under valgrind (no memory error, no definite leak)."""
    inputs = sorted(glob.glob(os.path.join(REGRESS, "*")))
    check(inputs, f"no regression inputs in {REGRESS}")
    vg = shutil.which("valgrind")
    failures = []
    with TraceDir() as t:
        for src in inputs:
            try:
                replay(t, src, vg)
            except Fail as e:
                failures.append(str(e))
    check(not failures, "\n".join(failures))


def replay(t, src, vg):
    name = os.path.basename(src)
    d = os.path.join(t.path, name)
    os.makedirs(d)
    with open(src, "rb") as f:
        pieces = split_like_fuzzer(f.read())
    paths = [write(os.path.join(d, f"{i}.trace"), p)
             for i, p in enumerate(pieces)]
    for argv in (["dump"], ["dump", "--json"],
                 ["view", "--color", "--wall"], ["view", "--json"]):
        rc, out, err = viewer(argv + paths, timeout=30)
        check(rc in (0, 1), f"{name}: {argv} exit {rc}: {err[-1500:]}")
        bad = [x for x in err_lines(err) if not x.startswith("socktrace")]
        check(not bad, f"{name}: {argv} stderr: {bad[:5]}")
        if "--json" in argv:
            json_lines(out)  # raises if not JSON
    # valgrind on the plain build (a sanitized one checks itself)
    if vg and not os.environ.get("ST_OUT", ".").startswith("build-"):
        rc, out, err = run([vg, "-q", "--error-exitcode=99",
                            "--leak-check=full",
                            "--errors-for-leak-kinds=definite",
                            VIEWER, "view", "--json"] + paths, timeout=120)
        check(rc in (0, 1), f"{name}: valgrind exit {rc}: {err[-800:]}")


@test
def same_file_twice_read_once_copy_harmless():
    """A file named twice (the directory and the file in it) is read
    once: the output is that of the directory alone.  A copy of a file
    (two processes with the same ids: every record arrives twice) is
    shown without crashing, each connection once per copy at most."""
    with TraceDir() as t:
        files = echo_traces(t)
        ref = run_view_json([t.dir])
        rc, out, err = viewer(["view", "--json", t.dir, files["server"]])
        check(rc == 0 and json_lines(out) == ref,
              f"named twice, read once: {rc} {err}")
        cp = os.path.join(t.path, "copy.trace")
        write(cp, read(files["server"]))
        for argv in (["view", "--json"], ["view", "--no-color"],
                     ["dump", "--json"]):
            rc, out, err = viewer(argv + [t.dir, cp])
            check(rc == 0, f"{argv} with a copy: exit {rc}: {err}")
        got = json_lines(viewer(["view", "--json", t.dir, cp])[1])
        ids = [c["id"] for c in got if c["type"] == "conn"]
        check(len(ids) == len(set(ids)), f"no connection twice: {ids}")
