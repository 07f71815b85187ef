/* SPDX-License-Identifier: MIT */
/* socktrace run: run a command under the preload, then show its timelines. */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"
#include "load.h"
#include "opts.h"
#include "preload_lib.h"
#include "ptrace.h"
#include "show.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: socktrace run [-o DIR] [--ptrace [--data]] [VIEW "
		"OPTIONS] -- CMD\n       [ARGS...]\n"
		"Runs CMD (and its children) with libsocktrace.so preloaded, "
		"then shows\nthe timelines of its connections.  CMD's exit "
		"status is passed through;\nCtrl-C stops CMD and still shows "
		"them.\n"
		"  -o DIR     trace directory (default: a new one under /tmp)\n"
		"  --ptrace   trace CMD with ptrace and a seccomp filter "
		"instead of the\n             preload: its socket lifecycle "
		"calls (not its data calls) are\n             seen whatever "
		"it is linked with; chosen by itself for a\n             "
		"program the preload cannot see (static, pure Go)\n"
		"  --data     with --ptrace: stop at the data calls too "
		"(read, write, send,\n             recv...: on every fd, at "
		"strace-like cost) and record them\n"
		"  --force    run CMD under the preload even when its socket "
		"calls cannot\n             be seen that way (a static or Go "
		"program): say so, and go on\n"
		"VIEW OPTIONS as for 'socktrace view': --json, --html FILE,\n"
		"--perfetto FILE, --stats, --findings all, --pid, --conn, "
		"--port, -t,\n--color, --no-color, and the filters --state, "
		"--finding, --since,\n--until, --min-duration, --peer, "
		"--listener.\n"
		"Finds libsocktrace.so next to socktrace, in ../lib, or at "
		"$SOCKTRACE_LIB.\n");
}

/* CMD as execvp would find it. */
static bool resolve(const char *cmd, char *out, size_t len)
{
	if (strchr(cmd, '/')) {
		snprintf(out, len, "%s", cmd);
		return access(out, X_OK) == 0;
	}
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t l = strcspn(path, ":");
		snprintf(out, len, "%.*s/%s", (int)l, l ? path : ".", cmd);
		if (access(out, X_OK) == 0)
			return true;
		path += l + (path[l] == ':');
	}
	return false;
}

/* Takes "-o DIR" out of ARGV (before "--"; the rest are view's options,
 * then CMD); returns DIR, or NULL when not given. */
static const char *take_outdir(int *argc, char **argv)
{
	for (int i = 1; i + 1 < *argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "-o")) {
			const char *outdir = argv[i + 1];
			memmove(&argv[i], &argv[i + 2],
				(*argc - i - 1) * sizeof(char *));
			*argc -= 2;
			return outdir;
		}
	}
	return NULL;
}

/* Takes option NAME out of ARGV (before "--"); true when given. */
static bool take_flag(int *argc, char **argv, const char *name)
{
	for (int i = 1; i < *argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], name)) {
			memmove(&argv[i], &argv[i + 1],
				(*argc - i) * sizeof(char *));
			(*argc)--;
			return true;
		}
	}
	return false;
}

/* Whether the reports VO asks for can be written: a report that cannot
 * is said before CMD runs, not after.  0, or 1 after saying why. */
static int check_outputs(const struct st_view_opts *vo)
{
	const char *outs[] = { vo->html, vo->perfetto };

	for (int i = 0; i < 2; i++) {
		FILE *f = outs[i] ? fopen(outs[i], "w") : NULL;
		if (outs[i] && !f) {
			fprintf(stderr, "socktrace run: cannot write %s: %s\n",
				outs[i], strerror(errno));
			return 1;
		}
		if (f)
			fclose(f);
	}
	return 0;
}

/* The trace directory into DIR: OUTDIR (made if need be), else a new one
 * under $TMPDIR or /tmp.  0, or 1 after saying why. */
static int make_dir(const char *outdir, char *dir, size_t len)
{
	if (outdir) {
		snprintf(dir, len, "%s", outdir);
		struct stat st;
		if (mkdir(dir, 0700) && errno != EEXIST) {
			fprintf(stderr, "socktrace run: %s: %s\n", dir,
				strerror(errno));
			return 1;
		}
		if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
			fprintf(stderr,
				"socktrace run: -o %s: not a directory: give "
				"the directory the trace files go to\n",
				dir);
			return 1;
		}
		return 0;
	}
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, len, "%s/socktrace-run.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		fprintf(stderr, "socktrace run: cannot make %s: %s\n", dir,
			strerror(errno));
		return 1;
	}
	return 0;
}

/*
 * Runs EXE as CMD with LIB preloaded (LIB NULL: under ptrace, with the
 * data calls when DATA), tracing into DIR, and waits for it.
 * Returns its exit status as a shell reports it (128 + signal), or -1
 * after saying that it could not be started.
 */
static int run_traced(const char *exe, char **cmd, const char *lib,
		      const char *dir, bool data)
{
	/* Ctrl-C reaches CMD (same process group); we wait and then show */
	struct sigaction ign = { .sa_handler = SIG_IGN }, oint, oquit;
	sigaction(SIGINT, &ign, &oint);
	sigaction(SIGQUIT, &ign, &oquit);
	if (!lib) {
		int rc = st_ptrace_run(exe, cmd, dir, data, &oint, &oquit);
		sigaction(SIGINT, &oint, NULL);
		sigaction(SIGQUIT, &oquit, NULL);
		return rc;
	}
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "socktrace run: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		sigaction(SIGINT, &oint, NULL);
		sigaction(SIGQUIT, &oquit, NULL);
		const char *old = getenv("LD_PRELOAD");
		char pre[2 * PATH_MAX];
		snprintf(pre, sizeof(pre), "%s%s%s", lib,
			 old && *old ? " " : "", old && *old ? old : "");
		setenv("LD_PRELOAD", pre, 1);
		setenv("SOCKTRACE_DIR", dir, 1);
		execv(exe, cmd);
		fprintf(stderr, "socktrace run: %s: %s\n", exe,
			strerror(errno));
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	sigaction(SIGINT, &oint, NULL);
	sigaction(SIGQUIT, &oquit, NULL);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * The LD_PRELOAD for program EXE into OUT: the library of its libc (a
 * musl program gets the one built with musl-gcc), or rather the tree
 * beside it that serves both, for the children of either libc it may
 * exec.  0, or -1 after saying why not.
 */
static int preload_for(const char *exe, char *out, size_t len)
{
	char lib[PATH_MAX];
	enum st_libc libc = st_program_libc(exe);

	if (st_find_lib(lib, sizeof(lib), "run", libc))
		return -1;
	if (!st_preload_tree(out, len, lib, libc))
		snprintf(out, len, "%s", lib);
	return 0;
}

/* True when DIR holds at least one trace file. */
static bool has_traces(char *dir)
{
	char err[ST_ERR_LEN], **files;
	int n = st_trace_find(&dir, 1, &files, err);

	for (int i = 0; i < n; i++)
		free(files[i]);
	if (n >= 0)
		free(files);
	return n != 0; /* an error is said when the set is opened */
}

/* Shows what NAME wrote into DIR (an output's failure does not change
 * run's exit status: that is CMD's). */
static void show_dir(char *dir, const char *name, const struct st_view_opts *vo,
		     bool ptraced)
{
	struct st_traceset set;
	char err[ST_ERR_LEN];
	char *paths[1] = { dir };

	fflush(stdout);
	if (!has_traces(dir) && ptraced) {
		fprintf(stderr,
			"socktrace run: %s made no socket calls: %s holds no "
			"trace file.\n",
			name, dir);
		return;
	}
	if (!has_traces(dir)) {
		/* not the loader's advice to use 'socktrace run': it was */
		fprintf(stderr,
			"socktrace run: %s made no socket calls that "
			"LD_PRELOAD can see: %s holds no trace file.\nIt made "
			"none, or it reaches the kernel without libc; strace "
			"-f -e trace=network can see such calls.\n",
			name, dir);
		return;
	}
	if (st_traceset_open(&set, paths, 1, err)) {
		fprintf(stderr, "socktrace run: %s\n", err);
		return;
	}
	st_show(&set, vo);
	st_traceset_warn(&set);
	st_traceset_close(&set);
}

int st_cmd_run(int argc, char **argv)
{
	struct st_view_opts vo;
	char lib[PATH_MAX + 64], exe[PATH_MAX], dir[PATH_MAX] = "";
	const char *outdir = take_outdir(&argc, argv);
	bool force = take_flag(&argc, argv, "--force");
	bool use_ptrace = take_flag(&argc, argv, "--ptrace");
	bool data = take_flag(&argc, argv, "--data");

	optind = 1;
	int p = st_view_parse(argc, argv, &vo, usage);
	if (p)
		return p < 0 ? 2 : 0;
	if (optind >= argc) {
		fprintf(stderr, "socktrace run: no command given\n");
		usage(stderr);
		return 2;
	}
	char **cmd = argv + optind;
	if (!resolve(cmd[0], exe, sizeof(exe))) {
		fprintf(stderr, "socktrace run: %s: command not found\n",
			cmd[0]);
		return 1;
	}
	const char *partly, *why = st_invisible(exe, &partly);
	if (force && use_ptrace) {
		fprintf(stderr, "socktrace run: --force (the preload) and "
				"--ptrace exclude each other\n");
		return 2;
	}
	if (why && !force && !use_ptrace) {
		fprintf(stderr,
			"socktrace run: %s: %s; tracing it with ptrace and "
			"seccomp instead (as --ptrace: lifecycle calls only, "
			"no data calls)\n",
			exe, why);
		use_ptrace = true;
	}
	if (data && !use_ptrace) {
		fprintf(stderr,
			"socktrace run: --data is for --ptrace: the preload "
			"records data calls always\n");
		return 2;
	}
	const char *refuse = use_ptrace ? st_ptrace_refuse(exe) : NULL;
	if (refuse) {
		fprintf(stderr,
			"socktrace run: cannot trace %s with ptrace: %s.  Run "
			"it untraced, or trace a copy without the setuid and "
			"setgid bits.\n",
			exe, refuse);
		return 1;
	}
	if (!use_ptrace && (why || partly))
		fprintf(stderr, "socktrace run: %s: %s%s\n", exe,
			why ? why : partly,
			why ? " (run with --force: what is seen may be "
			      "nothing)"
			    : "");
	if ((!use_ptrace && preload_for(exe, lib, sizeof(lib))) ||
	    check_outputs(&vo) || make_dir(outdir, dir, sizeof(dir)))
		return 1;
	fprintf(stderr, "socktrace: tracing %s into %s\n", cmd[0], dir);
	int rc = run_traced(exe, cmd, use_ptrace ? NULL : lib, dir, data);
	if (rc < 0)
		return 1;
	show_dir(dir, cmd[0], &vo, use_ptrace);
	if (rc == 128 + SIGPIPE)
		/* the write never returned: no record of it, the status says */
		fprintf(stderr,
			"socktrace run: %s was killed by SIGPIPE: it wrote to "
			"a connection whose peer had closed or reset it (the "
			"write that killed it left no record; its open "
			"connections above end at its death)\n",
			cmd[0]);
	return rc;
}
