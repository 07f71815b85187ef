/* SPDX-License-Identifier: MIT */
/* attach's side of the ptrace mode: a tracer process started for a
 * running program the library cannot see, and the file it writes. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "inject.h"
#include "ptrace.h"
#include "trace.h"

/* Reads the line the tracer writes when it has begun (empty) or could
 * not (why) from FD into BUF; false if it ended without one. */
static bool ready_line(int fd, char *buf, size_t len)
{
	size_t n = 0;

	while (n + 1 < len) {
		ssize_t r = read(fd, buf + n, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (buf[n] == '\n') {
			buf[n] = 0;
			return true;
		}
		n++;
	}
	buf[n] = 0;
	return false;
}

pid_t st_ptrace_follow(const char *cmd, pid_t pid, const char *exe,
		       const char *why, const char *dir, bool children)
{
	char err[1024];
	int ready[2];
	const char *deny = st_inject_denied(pid, err, sizeof(err));

	if (deny) {
		fprintf(stderr,
			"socktrace %s: process %d (%s): %s, so it needs "
			"ptrace, but %s\n",
			cmd, (int)pid, exe, why, deny);
		return -1;
	}
	if (mkdir(dir, 0700) && errno != EEXIST) {
		fprintf(stderr, "socktrace %s: cannot make %s: %s\n", cmd, dir,
			strerror(errno));
		return -1;
	}
	if (pipe2(ready, O_CLOEXEC)) {
		fprintf(stderr, "socktrace %s: pipe: %s\n", cmd,
			strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid_t tracer = fork();
	if (tracer == 0) {
		close(ready[0]);
		_exit(st_ptrace_attach(pid, dir, children, ready[1]));
	}
	int fork_err = errno;
	close(ready[1]);
	bool ok =
		tracer > 0 && ready_line(ready[0], err, sizeof(err)) && !err[0];
	close(ready[0]);
	if (!ok) {
		fprintf(stderr,
			"socktrace %s: cannot trace process %d (%s) with "
			"ptrace: %s\n",
			cmd, (int)pid, exe,
			tracer < 0 ? strerror(fork_err)
			: err[0]   ? err
				   : "the tracer ended at once");
		if (tracer > 0)
			waitpid(tracer, NULL, 0);
		return -1;
	}
	fprintf(stderr,
		"socktrace %s: process %d (%s): %s; following it with ptrace "
		"instead: each system call it makes stops (strace's cost), "
		"the lifecycle calls are recorded, bytes come from TCP_INFO "
		"at close\n",
		cmd, (int)pid, exe, why);
	return tracer;
}

bool st_ptrace_file(const char *dir, pid_t pid, uint64_t since, char *path,
		    size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	uint64_t first = UINT64_MAX;

	while (d && (e = readdir(d))) {
		size_t l = strlen(e->d_name);
		char p[PATH_MAX + 256];
		struct st_header h;
		if (l < 7 || strcmp(e->d_name + l - 6, ".trace"))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		bool ours = st_header_read(p, &h) &&
			    !memcmp(h.magic, ST_MAGIC, sizeof(h.magic)) &&
			    h.pid == (int32_t)pid && h.mono_ns >= since &&
			    h.source != ST_SOURCE_PRELOAD;
		if (ours && h.mono_ns < first) {
			first = h.mono_ns;
			snprintf(path, len, "%s", p);
		}
	}
	if (d)
		closedir(d);
	return first != UINT64_MAX;
}
