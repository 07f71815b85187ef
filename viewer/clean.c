/* SPDX-License-Identifier: MIT */
/* Removing the trace files of finished runs from a directory, safely. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clean.h"
#include "proc.h"
#include "socktrace/format.h"

/* The pid NAME gives, if it is COMM-PID.trace or COMM-PID.N.trace; else
 * -1. */
static long name_pid(const char *name)
{
	size_t n = strlen(name);

	if (n < 8 || strcmp(name + n - 6, ".trace"))
		return -1;
	const char *dash = strrchr(name, '-');
	if (!dash || dash == name)
		return -1;
	char *end;
	long pid = strtol(dash + 1, &end, 10);
	if (end == dash + 1 || pid <= 0)
		return -1;
	if (*end == '.' && end[1] >= '0' && end[1] <= '9')
		strtol(end + 1, &end, 10);
	return !strcmp(end, ".trace") ? pid : -1;
}

/* Is entry NAME of DFD a trace file socktrace wrote?  Its header then in
 * *H; its inode in *ST. */
static bool ours(int dfd, const char *name, struct st_header *h,
		 struct stat *st)
{
	long pid = name_pid(name);
	if (pid < 0)
		return false;
	int fd = openat(dfd, name,
			O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool ok = !fstat(fd, st) && S_ISREG(st->st_mode) &&
		  st->st_uid == geteuid() &&
		  pread(fd, h, sizeof(*h), 0) == (ssize_t)sizeof(*h) &&
		  !memcmp(h->magic, ST_MAGIC, sizeof(h->magic)) &&
		  h->header_size == ST_HEADER_SIZE &&
		  h->slot_size == ST_SLOT_SIZE && h->pid == pid;
	close(fd);
	return ok;
}

/* Does process PID still map the file PATH?  A process whose maps
 * cannot be read (another user's) counts as mapping it. */
static bool in_use(pid_t pid, const char *path)
{
	const char *base = strrchr(path, '/');
	struct st_map m;
	int r = st_proc_find(pid, base ? base + 1 : path, "", &m);

	if (r == -ENOENT)
		return false;
	return r < 0 || !strcmp(m.path, path);
}

static void keep_name(char names[][256], int n, const char *s)
{
	if (n < ST_CLEAN_NAMES)
		snprintf(names[n], 256, "%s", s);
}

/* One entry NAME of directory DFD (at the real path REAL). */
static void clean_one(int dfd, const char *real, const char *name, bool dry,
		      struct st_clean *out)
{
	struct st_header h;
	struct stat st, now;
	char path[PATH_MAX + 256];

	if (!ours(dfd, name, &h, &st)) {
		keep_name(out->foreign_names, out->foreign++, name);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", real, name);
	if (in_use(h.pid, path)) {
		if (out->running < ST_CLEAN_NAMES)
			snprintf(out->running_names[out->running], 64,
				 "%.16s[%d]", h.comm, (int)h.pid);
		out->running++;
		return;
	}
	/* the entry is still the file read (the directory is this user's
	 * alone, so this only guards against the user's own races) */
	if (fstatat(dfd, name, &now, AT_SYMLINK_NOFOLLOW) ||
	    now.st_ino != st.st_ino || now.st_dev != st.st_dev) {
		out->failed++;
		return;
	}
	if (!dry && unlinkat(dfd, name, 0)) {
		out->failed++;
		return;
	}
	out->removed++;
}

/* Opens DIR if it is safe to clean: a directory (not a symlink) of this
 * user, not writable by group or others.  Its fd, or -1 with ERR set. */
static int open_safe(const char *dir, char *err, size_t len)
{
	struct stat st;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (dfd < 0) {
		int e = errno;
		bool link = !lstat(dir, &st) && S_ISLNK(st.st_mode);
		snprintf(err, len, "%s: %s", dir,
			 link		? "a symlink: not cleaning through it"
			 : e == ENOTDIR ? "not a directory"
			 : e == ENOENT	? "no such directory"
					: strerror(e));
		errno = e;
		return -1;
	}
	if (fstat(dfd, &st) || st.st_uid != geteuid() || (st.st_mode & 022)) {
		snprintf(err, len,
			 "%s is not yours or is writable by others: not "
			 "touching it",
			 dir);
		close(dfd);
		errno = EPERM;
		return -1;
	}
	return dfd;
}

int st_clean_dir(const char *dir, bool dry, struct st_clean *out, char *err,
		 size_t len)
{
	char real[PATH_MAX];

	memset(out, 0, sizeof(*out));
	int dfd = open_safe(dir, err, len);
	if (dfd < 0)
		return -1;
	DIR *d = fdopendir(dup(dfd));
	if (!d || !realpath(dir, real)) {
		snprintf(err, len, "%s: %s", dir, strerror(errno));
		if (d)
			closedir(d);
		close(dfd);
		return -1;
	}
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			clean_one(dfd, real, e->d_name, dry, out);
	closedir(d);
	close(dfd);
	/* a directory of 'socktrace run', now empty: it goes too */
	const char *base = strrchr(real, '/');
	if (!out->running && !out->foreign && !out->failed && base &&
	    !strncmp(base + 1, "socktrace-run.", 14))
		out->dir_removed = dry || !rmdir(real);
	return 0;
}
