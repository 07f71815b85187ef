# SPDX-License-Identifier: MIT
# Set-up: 'make deps' asks apt-get for what building, installing and the
# demo need and nothing the tests alone need; 'make test-deps' (which
# make test runs first) asks for the tests' packages too.  Checked on a
# machine where nothing is installed, as far as make can tell: stand-ins
# for dpkg-query (nothing installed), sudo and apt-get (which only note
# what they were asked) come first in PATH.
# Runs inside tests/integration.py (its helpers and @test).

TEST_ONLY = ("chromium", "nginx", "redis-server", "valgrind", "wrk",
             "libcmocka-dev", "clang-format", "tmux", "nodejs")
BUILD_NEEDS = ("gcc", "make", "uthash-dev", "pkg-config", "xxd",
               "libncurses-dev", "python3", "musl-tools")


def apt_asked(target):
    """The packages 'make TARGET' asks apt-get to install when dpkg says
    none is installed."""
    with TraceDir() as t:
        fake = os.path.join(t.path, "bin")
        os.makedirs(fake)
        log = os.path.join(t.path, "apt.log")
        for name, body in (("dpkg-query", "exit 1"),
                           ("sudo", 'exec "$@"'),
                           ("apt-get", f'echo "$*" >> {log}')):
            path = os.path.join(fake, name)
            with open(path, "w") as f:
                f.write(f"#!/bin/sh\n{body}\n")
            os.chmod(path, 0o755)
        env = base_env()
        env["PATH"] = fake + ":" + env.get("PATH", "/usr/bin:/bin")
        p = subprocess.run(["make", "-s", "-C", ROOT, target], env=env,
                           capture_output=True, timeout=120)
        check(p.returncode == 0, f"make {target}: {p.stderr.decode()}")
        with open(log) as f:
            calls = f.read().split("\n")
    check(calls[0].startswith("update"), f"apt-get update first: {calls}")
    install = [c for c in calls if c.startswith("install ")]
    check(len(install) == 1, f"one apt-get install: {calls}")
    return set(install[0].split()[1:]) - {"-y", "-q"}


@test
def make_deps_installs_only_what_building_and_the_demo_need():
    asked = apt_asked("deps")
    check(all(p in asked for p in BUILD_NEEDS),
          f"make deps asks for the build's packages: {sorted(asked)}")
    extra = [p for p in TEST_ONLY if p in asked]
    check(not extra, f"make deps asks for test packages: {extra}")
    asked = apt_asked("test-deps")
    missing = [p for p in BUILD_NEEDS + TEST_ONLY if p not in asked]
    check(not missing, f"make test-deps (run by make test) lacks "
          f"{missing}: {sorted(asked)}")
    # make's rules, printed without running any (-p, and a target that
    # does not exist): make test, and what needs test packages to build,
    # come after test-deps
    # (not the calling make's variables: under make SANITIZE=... test
    # the build directory is build-san)
    env = {k: v for k, v in base_env().items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "SANITIZE")}
    p = subprocess.run(["make", "-p", "-C", ROOT, "no-such-target.x"],
                       capture_output=True, timeout=120, env=env)
    rules = p.stdout.decode()
    for target in (r"test", r"bench", r"build/tests/test_%",
                   r"build/fuzz/fuzz_trace", r"build/tsan/ring_writer"):
        m = re.search(rf"^{re.escape(target)}:(.*)$", rules, re.M)
        check(m and "test-deps" in m.group(1),
              f"{target} comes after test-deps: {m and m.group(0)}")
