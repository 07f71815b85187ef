# SPDX-License-Identifier: MIT
# The man pages socktrace(1) and libsocktrace(7): man renders them without
# a warning, they hold every option each command's --help lists (and no
# other), every environment variable the code reads, and make install
# puts them where man finds them.  Bash completion, sourced into bash as
# bash-completion would: the commands, each command's options, values.
# Runs inside tests/integration.py (its helpers and @test).
import glob

MAN1 = os.path.join(BUILD, "man", "socktrace.1")
MAN7 = os.path.join(BUILD, "man", "libsocktrace.7")
OPTION = re.compile(r"(?<![\w-])(--?[a-zA-Z][\w-]*)")


def man_render(page):
    """The page as man shows it (80 columns, no hyphenation), and what
    man said on stderr with its warnings on."""
    env = base_env()
    env.update(MANWIDTH="80", MAN_KEEP_FORMATTING="", MANROFFOPT="-rHY=0")
    p = subprocess.run(["man", "--warnings", "-l", page], env=env,
                       capture_output=True, timeout=60)
    check(p.returncode == 0, f"man -l {page}: exit {p.returncode}")
    return p.stdout.decode(), p.stderr.decode()


def help_of(*cmd):
    rc, out, err = run([VIEWER, *cmd, "--help"], preload=False)
    check(rc == 0 and out, f"{' '.join(cmd)} --help: {rc} {err}")
    return out


def command_names():
    top = help_of()
    block = top.split("commands:\n", 1)[1].split("\n\n", 1)[0]
    return [m.group(1) for m in re.finditer(r"^  ([a-z]+) ", block, re.M)]


@test
def man_pages_render_and_match_help():
    for page in (MAN1, MAN7):
        check(os.path.exists(page), f"{page}: run 'make man'")
        text, err = man_render(page)
        check(not err.strip(), f"man warns about {page}: {err}")
        for sect in ("NAME", "SYNOPSIS", "DESCRIPTION", "SEE ALSO"):
            check(f"\n{sect}\n" in text, f"{page}: no {sect}: {text[:500]}")
    text, _ = man_render(MAN1)
    # the option names of the page, and of every --help
    in_man = set(OPTION.findall(text))
    in_help = set()
    names = command_names()
    check(len(names) >= 7, f"the commands of socktrace --help: {names}")
    for name in names:
        check(f"\n   {name}\n" in text, f"no section for {name}: {text}")
        opts = set(OPTION.findall(help_of(name)))
        in_help |= opts
        missing = opts - in_man
        check(not missing, f"{name} --help's {sorted(missing)} are not "
              f"in socktrace(1)")
    in_help |= set(OPTION.findall(help_of())) | {"--help", "--version"}
    extra = in_man - in_help
    check(not extra, f"socktrace(1) has options no --help has: "
          f"{sorted(extra)}")


def option_rows(path):
    """The long options of the getopt tables in a source file."""
    with open(os.path.join(ROOT, path)) as f:
        src = f.read()
    return set(re.findall(r'\{ "([a-z][a-z-]*)", (?:no|required)_argument',
                          src)) - {"help"}


@test
def help_lists_every_option_the_commands_take():
    """Each command's getopt table (what it takes) against its --help
    (what it says), so that the man page made from --help is whole."""
    filters = option_rows("viewer/opts.h")
    check(len(filters) == 7, f"the filter options: {filters}")
    for name, src in (("view", "viewer/opts.c"),
                      ("stats", "viewer/cmd_stats.c"),
                      ("live", "viewer/cmd_live.c"),
                      ("attach", "viewer/cmd_attach.c"),
                      ("dump", "viewer/cmd_dump.c")):
        takes = option_rows(src)
        if name != "dump":
            takes |= filters
        says = help_of(name)
        missing = [o for o in sorted(takes) if f"--{o}" not in says]
        check(takes and not missing,
              f"{name} takes {missing} but its --help does not say so")
    says = help_of("run")
    check(all(f"--{o}" in says for o in filters),
          f"run's --help names the filters: {says}")


@test
def man_pages_name_every_environment_variable():
    code = ""
    for path in glob.glob(os.path.join(ROOT, "preload", "*.c")) + \
            glob.glob(os.path.join(ROOT, "include", "socktrace", "*.h")):
        with open(path) as f:
            code += f.read()
    lib = set(re.findall(r'"(SOCKTRACE_[A-Z_]+)"', code))
    check(len(lib) >= 5, f"the library's variables: {lib}")
    text, _ = man_render(MAN7)
    missing = [v for v in sorted(lib) if v not in text]
    check(not missing, f"libsocktrace(7) lacks {missing}")
    code = ""
    for path in glob.glob(os.path.join(ROOT, "viewer", "*.c")):
        with open(path) as f:
            code += f.read()
    viewer = set(re.findall(r'getenv\("(SOCKTRACE_[A-Z_]+)"\)', code))
    text, _ = man_render(MAN1)
    missing = [v for v in sorted(viewer) if v not in text]
    check(viewer and not missing, f"socktrace(1) lacks {missing}")


@test
def make_install_puts_man_pages_and_completion_in_place():
    if os.path.realpath(OUT) != os.path.realpath(ROOT):
        return  # a sanitized build's products are not the installed ones
    with TraceDir() as t:
        dest = os.path.join(t.path, "root")
        p = subprocess.run(["make", "-s", "-C", ROOT, "install",
                            f"DESTDIR={dest}", "PREFIX=/usr"],
                           capture_output=True, timeout=300)
        check(p.returncode == 0, f"make install: {p.stderr.decode()}")
        man = os.path.join(dest, "usr", "share", "man")
        env = base_env()
        env["MANPATH"] = man
        for sect, name in (("1", "socktrace"), ("7", "libsocktrace")):
            r = subprocess.run(["man", "-w", sect, name], env=env,
                               capture_output=True, timeout=60)
            where = r.stdout.decode().strip()
            check(r.returncode == 0 and where.startswith(man),
                  f"man -w {sect} {name}: {where} {r.stderr.decode()}")
        comp = os.path.join(dest, "usr", "share", "bash-completion",
                            "completions", "socktrace")
        check(os.path.exists(comp), "the bash completion, where "
              "bash-completion loads it for socktrace")
        # run's one LD_PRELOAD for both libcs leads to the installed
        # libraries: musl's loader reads $LIB as written, glibc's here
        # expands it to lib/<multiarch>
        lib = os.path.join(dest, "usr", "lib")
        tree = os.path.join(lib, "socktrace-preload")
        arch = subprocess.run(["gcc", "-print-multiarch"],
                              capture_output=True, text=True).stdout.strip()
        for sub, want in (("$LIB", "libsocktrace-musl.so"),
                          (f"lib/{arch}", "libsocktrace.so")):
            got = os.path.realpath(os.path.join(tree, sub,
                                                "libsocktrace.so"))
            check(got == os.path.realpath(os.path.join(lib, want)),
                  f"socktrace-preload/{sub} leads to {got}, not {want}")
        p = subprocess.run(["make", "-s", "-C", ROOT, "uninstall",
                            f"DESTDIR={dest}", "PREFIX=/usr"],
                           capture_output=True, timeout=300)
        left = [os.path.join(d, f) for d, _, fs in os.walk(dest)
                for f in fs]
        check(p.returncode == 0 and not left,
              f"make uninstall leaves {left}")


COMPLETION = os.path.join(ROOT, "completion", "socktrace.bash")


def complete(*words, cwd=None):
    """What bash completes for the words typed (the last one the word
    being completed), through the function the script registers for
    socktrace, with VIEWER as the socktrace typed."""
    script = (f"source {COMPLETION}\n"
              "spec=$(complete -p socktrace) || exit 3\n"
              'fn=${spec#*-F }; fn=${fn%% *}\n'
              'COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))\n'
              'COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}\n'
              '"$fn" socktrace "${COMP_WORDS[COMP_CWORD]}" '
              '"${COMP_WORDS[COMP_CWORD-1]}"\n'
              'printf "%s\\n" "${COMPREPLY[@]}"\n')
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", script,
                        "bash", VIEWER, *words], capture_output=True,
                       cwd=cwd, env=base_env(), timeout=60)
    check(p.returncode == 0, f"completing {words}: {p.stderr.decode()}")
    return [w for w in p.stdout.decode().split("\n") if w]


@test
def bash_completes_commands_options_and_values():
    check(complete("vi") == ["view"], f"socktrace vi<TAB>: {complete('vi')}")
    names = command_names()
    check(sorted(complete("")) == sorted(names + ["--help", "--version"]),
          f"socktrace <TAB>: {complete('')}")
    for name in names:
        want = {o for o in OPTION.findall(help_of(name))
                if o.startswith("--")}
        got = set(complete(name, "--"))
        check(got == want, f"socktrace {name} --<TAB>: {sorted(got)}, "
              f"its --help: {sorted(want)}")
    check(complete("stats", "--min") == ["--min-duration"],
          f"stats --min<TAB>: {complete('stats', '--min')}")
    with TraceDir() as t:
        os.makedirs(t.dir)
        for cmd, opt, n in (("view", "--state", 9), ("stats", "--finding", 8),
                            ("stats", "--by", 3), ("view", "--findings", 2),
                            ("live", "--sort", 4)):
            vals = complete(cmd, opt, "")
            check(len(vals) == n, f"{cmd} {opt} <TAB>: {vals}")
            for v in vals:  # each is a value the command takes (live
                # then refuses a non-terminal, after its options)
                rc, _, err = run([VIEWER, cmd, opt, v, t.dir],
                                 preload=False)
                check(rc != 2 or (cmd == "live" and "bad value" not in err
                                  and "not a terminal" in err),
                      f"{cmd} {opt} {v}: refused: {err}")
        check(complete("view", "--finding", "res") == ["reset"],
              "--finding res<TAB>: reset")
        with open(os.path.join(t.path, "report.html"), "w"):
            pass
        check(complete("view", "--html", "rep", cwd=t.path) ==
              ["report.html"], "--html completes file names")
        check(complete("view", "--since", "", cwd=t.path) == [],
              "a time only the user knows: nothing offered")
        check(str(os.getpid()) in complete("detach", ""),
              "detach completes process ids")
        check("true" in complete("run", "--", "tru"),
              "run -- completes the command to run")
