/* SPDX-License-Identifier: MIT */
/* What /proc says about a running process: mappings, environment, users. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <signal.h>

#include "proc.h"
#include "trace.h"

int st_proc_maps(pid_t pid, bool (*fn)(const struct st_map *m, void *arg),
		 void *arg)
{
	char path[64], line[4096 + 256];
	struct st_map m;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	/* reading, not opening, is where a foreign process says EACCES */
	errno = 0;
	while (fgets(line, sizeof(line), f)) {
		int name = 0;
		if (sscanf(line,
			   "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %*s %*s %n",
			   &m.start, &m.end, m.perms, &m.offset, &name) < 4 ||
		    !name || line[name] != '/')
			continue;
		line[strcspn(line, "\n")] = 0;
		size_t l = strlen(line + name);
		if ((l > 10 && !strcmp(line + name + l - 10, " (deleted)")) ||
		    l >= sizeof(m.path))
			continue;
		memcpy(m.path, line + name, l + 1);
		if (fn(&m, arg)) {
			fclose(f);
			return 0;
		}
	}
	int err = ferror(f) ? (errno ? errno : EIO) : 0;
	fclose(f);
	return -err;
}

struct find_arg {
	const char *prefix, *suffix;
	struct st_map *out;
	bool found;
};

static bool find_one(const struct st_map *m, void *arg)
{
	struct find_arg *a = arg;
	const char *base = strrchr(m->path, '/');
	size_t pl = strlen(a->prefix), sl = strlen(a->suffix);

	base = base ? base + 1 : m->path;
	size_t l = strlen(base);
	if (l < pl + sl || strncmp(base, a->prefix, pl) ||
	    strcmp(base + l - sl, a->suffix))
		return false;
	*a->out = *m;
	a->found = true;
	return true;
}

int st_proc_find(pid_t pid, const char *prefix, const char *suffix,
		 struct st_map *out)
{
	struct find_arg a = { prefix, suffix, out, false };
	int r = st_proc_maps(pid, find_one, &a);

	return r < 0 ? r : a.found;
}

bool st_proc_env(pid_t pid, const char *name, char *buf, size_t len)
{
	char path[64];
	static char env[1 << 17];
	size_t nl = strlen(name), n = 0;
	ssize_t r;

	buf[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	while (n < sizeof(env) - 1 &&
	       (r = read(fd, env + n, sizeof(env) - 1 - n)) > 0)
		n += (size_t)r;
	close(fd);
	env[n] = 0;
	for (char *p = env; p < env + n; p += strlen(p) + 1) {
		if (!strncmp(p, name, nl) && p[nl] == '=') {
			snprintf(buf, len, "%s", p + nl + 1);
			return true;
		}
	}
	return false;
}

long st_proc_euid(pid_t pid)
{
	char path[64], line[256];
	long ruid, euid = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Uid: %ld %ld", &ruid, &euid) == 2)
			break;
	fclose(f);
	return euid;
}

char st_proc_state(pid_t pid, pid_t *ppid)
{
	char path[64], buf[512];
	char st = 0;
	int pp = 0;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	/* the command name may hold spaces and parentheses: skip to the
	 * last ')' */
	char *p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c %d", &st, &pp) != 2)
		return 0;
	if (ppid)
		*ppid = pp;
	return st;
}

int st_proc_descendants(pid_t pid, pid_t *list, int n, int cap)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int first = n;

	if (!d)
		return n;
	while ((e = readdir(d)) && n < cap) {
		char *end;
		long p = strtol(e->d_name, &end, 10);
		pid_t pp;
		if (*end || p <= 0 || !st_proc_state((pid_t)p, &pp) ||
		    pp != pid)
			continue;
		list[n++] = (pid_t)p;
	}
	closedir(d);
	for (int i = first, end = n; i < end; i++)
		n = st_proc_descendants(list[i], list, n, cap);
	return n;
}

bool st_proc_alive(const struct st_trace *t, void *arg)
{
	char path[64], comm[32] = "";

	(void)arg;
	if (kill(t->hdr.pid, 0) != 0 && errno != EPERM)
		return false;
	/* a zombie has let go of its fds: its parent has not reaped it */
	char st = st_proc_state(t->hdr.pid, NULL);
	if (st == 'Z' || st == 'X')
		return false;
	snprintf(path, sizeof(path), "/proc/%d/comm", t->hdr.pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = 0;
	fclose(f);
	comm[strcspn(comm, "\n")] = 0;
	/* the same program: a pid reused since is not our process */
	return !strncmp(comm, t->hdr.comm, sizeof(t->hdr.comm));
}

bool st_parse_pid(const char *s, pid_t *out)
{
	char *e;
	long v = strtol(s, &e, 10);

	if (*e || e == s || v <= 0 || v > INT32_MAX)
		return false;
	*out = (pid_t)v;
	return true;
}

int st_no_process(const char *cmd, pid_t pid, int err)
{
	if (err == ENOENT || err == ESRCH)
		fprintf(stderr, "socktrace %s: no such process: %d\n", cmd,
			(int)pid);
	else if (err == EACCES || err == EPERM)
		fprintf(stderr,
			"socktrace %s: permission denied reading "
			"/proc/%d/maps: process %d belongs to another user; "
			"run socktrace as that user or as root\n",
			cmd, (int)pid, (int)pid);
	else
		fprintf(stderr, "socktrace %s: /proc/%d/maps: %s\n", cmd,
			(int)pid, strerror(err));
	return 1;
}
