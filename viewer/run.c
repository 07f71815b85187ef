/* SPDX-License-Identifier: MIT */
/* socktrace run: run a command under the preload, then show its timelines. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "load.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: socktrace run [-o DIR] [VIEW OPTIONS] -- CMD [ARGS...]\n"
		"Runs CMD (and its children) with libsocktrace.so preloaded, "
		"then shows\nthe timelines of its connections.  CMD's exit "
		"status is passed through;\nCtrl-C stops CMD and still shows "
		"them.\n"
		"  -o DIR     trace directory (default: a new one under /tmp)\n"
		"VIEW OPTIONS as for 'socktrace view': --json, --html FILE,\n"
		"--perfetto FILE, --pid, --conn, --port, -t, --color, "
		"--no-color.\n"
		"Finds libsocktrace.so next to socktrace, in ../lib, or at "
		"$SOCKTRACE_LIB.\n");
}

int st_find_lib(char *out, size_t len, const char *cmd)
{
	char self[PATH_MAX];
	const char *env = getenv("SOCKTRACE_LIB");

	if (env && *env) {
		if (access(env, R_OK)) {
			fprintf(stderr, "socktrace %s: SOCKTRACE_LIB=%s: %s\n",
				cmd, env, strerror(errno));
			return -1;
		}
		snprintf(out, len, "%s", env);
		return 0;
	}
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = 0;
		const char *d = dirname(self);
		static const char *const where[] = { "", "/../lib" };
		for (size_t i = 0; i < 2; i++) {
			snprintf(out, len, "%s%s/libsocktrace.so", d,
				 where[i]);
			if (!access(out, R_OK))
				return 0;
		}
	}
	fprintf(stderr, "socktrace %s: libsocktrace.so not found beside the "
			"socktrace binary or in ../lib: set SOCKTRACE_LIB to "
			"its path\n", cmd);
	return -1;
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

const char *st_invisible(const char *path)
{
	Elf64_Ehdr eh;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	const char *why = NULL;

	if (fd < 0)
		return NULL;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64)
		goto out; /* a script or another format: its interpreter runs */
	bool interp = false;
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		if (pread(fd, &ph, sizeof(ph), eh.e_phoff + i * eh.e_phentsize) !=
		    sizeof(ph))
			break;
		if (ph.p_type == PT_INTERP)
			interp = true;
	}
	if (!interp) {
		why = "it is statically linked: there is no dynamic loader to "
		      "preload libsocktrace.so";
		goto out;
	}
	Elf64_Shdr sh, strs;
	if (eh.e_shstrndx == SHN_UNDEF ||
	    pread(fd, &strs, sizeof(strs),
		  eh.e_shoff + eh.e_shstrndx * eh.e_shentsize) != sizeof(strs))
		goto out;
	for (int i = 0; i < eh.e_shnum; i++) {
		char name[32] = "";
		if (pread(fd, &sh, sizeof(sh), eh.e_shoff + i * eh.e_shentsize) !=
			    sizeof(sh) ||
		    pread(fd, name, sizeof(name) - 1, strs.sh_offset + sh.sh_name) <
			    0)
			break;
		if (!strcmp(name, ".go.buildinfo") ||
		    !strcmp(name, ".note.go.buildid")) {
			why = "it is a Go program: Go makes its socket system "
			      "calls directly, not through libc";
			break;
		}
	}
out:
	close(fd);
	return why;
}

int st_cmd_run(int argc, char **argv)
{
	struct st_view_opts vo;
	char lib[PATH_MAX], exe[PATH_MAX], dir[PATH_MAX] = "";
	const char *outdir = NULL;

	/* -o is ours; the rest are view's options, up to "--" */
	for (int i = 1; i + 1 < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "-o")) {
			outdir = argv[i + 1];
			memmove(&argv[i], &argv[i + 2],
				(argc - i - 1) * sizeof(char *));
			argc -= 2;
			break;
		}
	}
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
	const char *why = st_invisible(exe);
	if (why) {
		fprintf(stderr,
			"socktrace run: cannot trace %s: %s.\nIts socket calls "
			"would not be seen; strace -f -e trace=network, or "
			"bcc's tcplife, can see them.\n",
			exe, why);
		return 1;
	}
	if (st_find_lib(lib, sizeof(lib), "run"))
		return 1;
	/* a report that cannot be written is said before CMD runs */
	const char *outs[] = { vo.html, vo.perfetto };
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
	if (outdir) {
		snprintf(dir, sizeof(dir), "%s", outdir);
		if (mkdir(dir, 0700) && errno != EEXIST) {
			fprintf(stderr, "socktrace run: %s: %s\n", dir,
				strerror(errno));
			return 1;
		}
	} else {
		const char *tmp = getenv("TMPDIR");
		snprintf(dir, sizeof(dir), "%s/socktrace-run.XXXXXX",
			 tmp && *tmp ? tmp : "/tmp");
		if (!mkdtemp(dir)) {
			fprintf(stderr, "socktrace run: cannot make %s: %s\n",
				dir, strerror(errno));
			return 1;
		}
	}
	fprintf(stderr, "socktrace: tracing %s into %s\n", cmd[0], dir);

	/* Ctrl-C reaches CMD (same process group); we wait and then show */
	struct sigaction ign = { .sa_handler = SIG_IGN }, oint, oquit;
	sigaction(SIGINT, &ign, &oint);
	sigaction(SIGQUIT, &ign, &oquit);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "socktrace run: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		sigaction(SIGINT, &oint, NULL);
		sigaction(SIGQUIT, &oquit, NULL);
		const char *old = getenv("LD_PRELOAD");
		char pre[2 * PATH_MAX];
		snprintf(pre, sizeof(pre), "%s%s%s", lib, old && *old ? " " : "",
			 old && *old ? old : "");
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
	int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);

	struct st_traceset set;
	char err[ST_ERR_LEN];
	char *paths[1] = { dir };
	fflush(stdout);
	if (st_traceset_open(&set, paths, 1, err)) {
		fprintf(stderr,
			"socktrace run: %s made no socket calls that "
			"LD_PRELOAD can see (%s)\n",
			cmd[0], err);
		return rc;
	}
	st_show(&set, &vo);
	st_traceset_warn(&set);
	st_traceset_close(&set);
	return rc;
}
