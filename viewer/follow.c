/* SPDX-License-Identifier: MIT */
/* Following trace files as they grow: of processes, or of a directory. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "follow.h"
#include "inject.h"
#include "preload_lib.h"
#include "proc.h"
#include "ptrace.h"

/* How long a lease given to a process the library was loaded into lasts
 * without renewal (a viewer killed with SIGKILL cannot switch recording
 * off: the lease runs out instead). */
#define LEASE_NS    (10ull * 1000000000ull)
#define MAX_TARGETS 4096
/* PID mode looks for new files (exec'd images, children) every this
 * many polls; DIR mode looks whenever the directory changed. */
#define SCAN_TICKS 10

struct st_follow_target {
	pid_t pid;
	int file;	 /* in the trace set; -1 until its file is known */
	bool injected;	 /* we loaded the library (or woke it again) */
	bool gone;	 /* the process exited */
	bool found;	 /* a descendant found by --children, not named */
	bool reloaded;	 /* its exec'd image was given the library */
	char *dir;	 /* ptraced (else NULL): where our tracer writes */
	pid_t tracer;	 /* its tracer process while it runs, else 0 */
	uint64_t from;	 /* injected: the first record of this attach */
	uint64_t *lease; /* injected: attach_until in its file, writable */
	void *rwmap;
};

static void note(struct st_follow *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note(struct st_follow *f, const char *fmt, ...)
{
	char msg[ST_ERR_LEN + 128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (f->ops.note)
		f->ops.note(f->arg, msg);
}

/* The directory the library writes into for PID: -o, its
 * $SOCKTRACE_DIR, or /tmp/socktrace-EUID (its own user: the library
 * refuses a directory that is not). */
static void target_dir(struct st_follow *f, pid_t pid, char *buf, size_t len)
{
	if (f->outdir) {
		snprintf(buf, len, "%s", f->outdir);
		return;
	}
	if (st_proc_env(pid, "SOCKTRACE_DIR", buf, len) && buf[0])
		return;
	snprintf(buf, len, "/tmp/socktrace-%ld", st_proc_euid(pid));
}

/* Maps the header of PATH writable, to renew the lease of T. */
static void map_lease(struct st_follow_target *t, const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	void *m = mmap(NULL, ST_HEADER_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		       fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return;
	if (t->rwmap) /* the file of the image it exec'd from */
		munmap(t->rwmap, ST_HEADER_SIZE);
	t->rwmap = m;
	t->lease = &((struct st_header *)m)->attach_until;
}

static void set_lease(struct st_follow_target *t, uint64_t until)
{
	if (t->lease)
		__atomic_store_n(t->lease, until, __ATOMIC_RELEASE);
}

static bool followed(const struct st_follow *f, pid_t pid)
{
	for (int i = 0; i < f->ntg; i++)
		if (f->tg[i].pid == pid)
			return true;
	return false;
}

void st_follow_add(struct st_follow *f, pid_t pid)
{
	if (!f->tg)
		f->tg = calloc(MAX_TARGETS, sizeof(*f->tg));
	if (!f->tg) {
		fprintf(stderr, "socktrace: out of memory\n");
		exit(1);
	}
	if (!followed(f, pid) && f->ntg < MAX_TARGETS)
		f->tg[f->ntg++] =
			(struct st_follow_target){ .pid = pid, .file = -1 };
}

/* Why the libc calls of process PID cannot be redirected, or NULL if
 * they can; its executable's path into EXE. */
static const char *unseeable(pid_t pid, char exe[PATH_MAX])
{
	char buf[64];
	struct st_map libc;

	snprintf(buf, sizeof(buf), "/proc/%d/exe", (int)pid);
	ssize_t n = readlink(buf, exe, PATH_MAX - 1);
	exe[n > 0 ? n : 0] = 0;
	const char *partly, *why = n > 0 ? st_invisible(buf, &partly) : NULL;
	if (!why && n > 0 && st_program_libc(buf) == ST_LIBC_MUSL)
		why = "it is linked against musl libc, and attach loads the "
		      "library with glibc's dlopen";
	if (!why && st_proc_find(pid, "libc.so", "", &libc) <= 0 &&
	    st_proc_find(pid, "libc-", ".so", &libc) <= 0)
		why = "it has no dynamic libc (glibc) loaded, so there are "
		      "no libc calls to redirect";
	return why;
}

/* Process T (executable EXE) makes calls the library cannot see (WHY):
 * a tracer process of ours follows it with ptrace instead. */
static int ptrace_into(struct st_follow *f, struct st_follow_target *t,
		       const char *exe, const char *why)
{
	char dir[PATH_MAX];

	target_dir(f, t->pid, dir, sizeof(dir));
	pid_t tracer =
		st_ptrace_follow(f->cmd, t->pid, exe, why, dir, f->children);
	if (tracer < 0)
		return 1;
	t->tracer = tracer;
	t->dir = strdup(dir);
	if (!t->dir) {
		fprintf(stderr, "socktrace: out of memory\n");
		exit(1);
	}
	t->file = -1;
	return 0;
}

/* Our tracers let their processes go (they run on as before), and
 * end. */
static void stop_tracers(struct st_follow *f)
{
	for (int i = 0; i < f->ntg; i++)
		if (f->tg[i].tracer > 0)
			kill(f->tg[i].tracer, SIGTERM);
	for (int i = 0; i < f->ntg; i++)
		if (f->tg[i].tracer > 0) {
			while (waitpid(f->tg[i].tracer, NULL, 0) < 0 &&
			       errno == EINTR)
				;
			f->tg[i].tracer = 0;
		}
}

/*
 * Process T does not record: loads the library into it (LIB: the copy
 * it has mapped already, or NULL) or wakes the one loaded.  NEXT: the
 * next record of the trace file it has (HAS_TR), from an earlier attach.
 * Returns 0 or an exit code after saying what went wrong.
 */
static int load_into(struct st_follow *f, struct st_follow_target *t,
		     const char *lib, bool has_tr, uint64_t next)
{
	char exe[PATH_MAX], path[PATH_MAX], buf[PATH_MAX], err[1024];
	const char *why = unseeable(t->pid, exe);

	if (why)
		return ptrace_into(f, t, exe, why);
	if (lib)
		snprintf(path, sizeof(path), "%s", lib);
	else if (st_find_lib(path, sizeof(path), f->cmd, ST_LIBC_GLIBC))
		return 1;
	const char *deny = st_inject_denied(t->pid, err, sizeof(err));
	if (deny) {
		fprintf(stderr, "socktrace %s: process %d: %s\n", f->cmd,
			(int)t->pid, deny);
		return 1;
	}
	target_dir(f, t->pid, buf, sizeof(buf));
	int r = st_inject_attach(t->pid, path, buf, LEASE_NS, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "socktrace %s: process %d: %s\n", f->cmd,
			(int)t->pid, err);
		return 1;
	}
	t->file = -1;
	if (r > 0) /* preloaded, its environment changed since */
		return 0;
	t->injected = true;
	/* the file the library writes now: records from here on are ours
	 * (an earlier attach's, if any, came before) */
	t->from = has_tr ? next : 0;
	return 0;
}

/* Has PID exited (or is it a zombie, its fds let go of)? */
static bool gone_now(pid_t pid)
{
	char st = st_proc_state(pid, NULL);

	return !st || st == 'Z' || st == 'X';
}

/*
 * Gets process T ready to be followed: finds how it is traced, loads the
 * library if it is not, and its trace file.  Returns 0 or an exit code
 * after saying what went wrong.
 */
static int prepare(struct st_follow *f, struct st_follow_target *t)
{
	struct st_map lib, tr;
	char buf[PATH_MAX];
	uint64_t until = 0, next = 0;
	char state = st_proc_state(t->pid, NULL);

	if (t->found && gone_now(t->pid)) {
		/* a forking server's child that ended meanwhile (or was
		 * not reaped yet): nothing to follow, nothing wrong */
		t->gone = true;
		return 0;
	}
	if (!state)
		return st_no_process(f->cmd, t->pid, ENOENT);
	if (state == 'Z' || state == 'X') {
		fprintf(stderr, "socktrace %s: process %d has exited\n", f->cmd,
			(int)t->pid);
		return 1;
	}
	int has_lib = st_proc_find(t->pid, "libsocktrace", ".so", &lib);
	if (has_lib < 0)
		return st_no_process(f->cmd, t->pid, -has_lib);
	int has_tr = st_proc_find(t->pid, "", ".trace", &tr);
	if (has_tr < 0)
		return st_no_process(f->cmd, t->pid, -has_tr);
	if (has_tr && !st_peek_header(tr.path, &until, &next))
		has_tr = 0;
	bool preloaded = false;
	if (has_lib && has_tr)
		preloaded = until == 0;
	else if (has_lib)
		preloaded =
			st_proc_env(t->pid, "LD_PRELOAD", buf, sizeof(buf)) &&
			strstr(buf, "libsocktrace");
	if (preloaded) {
		t->file = -1; /* found by take_file, now or once it exists */
		return 0;
	}
	return load_into(f, t, has_lib ? lib.path : NULL, has_tr, next);
}

int st_follow_prepare(struct st_follow *f)
{
	int rc = 0;

	if (f->children) {
		pid_t kids[MAX_TARGETS];
		int n = 0;
		for (int i = 0; i < f->ntg; i++)
			n = st_proc_descendants(f->tg[i].pid, kids, n,
						MAX_TARGETS);
		for (int i = 0; i < n; i++) {
			int k = f->ntg;
			st_follow_add(f, kids[i]);
			if (f->ntg > k)
				f->tg[k].found = true;
		}
	}
	f->start = st_now_ns();
	for (int i = 0; i < f->ntg && !rc; i++) {
		rc = prepare(f, &f->tg[i]);
		/* a descendant that exited while the library was loaded
		 * into it (a backend of a forking server) */
		if (rc && f->tg[i].found && gone_now(f->tg[i].pid)) {
			f->tg[i].gone = true;
			rc = 0;
		}
	}
	if (rc) {
		stop_tracers(f);
		/* the ones already woken stop recording at once */
		for (int i = 0; i < f->ntg; i++) {
			struct st_map tr;
			if (!f->tg[i].injected ||
			    st_proc_find(f->tg[i].pid, "", ".trace", &tr) <= 0)
				continue;
			map_lease(&f->tg[i], tr.path);
			set_lease(&f->tg[i], 1);
		}
		return rc;
	}
	if (st_merge_init(&f->mg, &f->set)) {
		fprintf(stderr, "socktrace: out of memory\n");
		return 1;
	}
	f->mg.live = true;
	return 0;
}

int st_follow_dir(struct st_follow *f, const char *dir)
{
	struct stat st;

	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		if (errno == ENOENT)
			fprintf(stderr,
				"socktrace %s: %s: no such directory: start a "
				"program with SOCKTRACE_DIR=%s "
				"LD_PRELOAD=libsocktrace.so first, or give "
				"another directory\n",
				f->cmd, dir, dir);
		else if (!S_ISDIR(st.st_mode))
			fprintf(stderr,
				"socktrace %s: %s is not a directory: give the "
				"directory of the trace files ('socktrace "
				"view' reads single files)\n",
				f->cmd, dir);
		else
			fprintf(stderr, "socktrace %s: %s: %s\n", f->cmd, dir,
				strerror(errno));
		return 1;
	}
	if (access(dir, R_OK | X_OK)) {
		fprintf(stderr, "socktrace %s: cannot read directory %s: %s\n",
			f->cmd, dir, strerror(errno));
		return 1;
	}
	f->dir = dir;
	f->dir_retry = true;
	f->start = st_now_ns();
	if (st_merge_init(&f->mg, &f->set)) {
		fprintf(stderr, "socktrace: out of memory\n");
		return 1;
	}
	f->mg.live = true;
	return 0;
}

static void say_attached(struct st_follow *f, const struct st_follow_target *t)
{
	char name[48];
	const struct st_trace *tr = &f->set.t[t->file];

	note(f, "attached to %s (%s)%s", st_proc_name(tr, name), tr->path,
	     t->injected ? ", library loaded"
	     : t->dir	 ? ", with ptrace"
			 : "");
}

/* The file our tracer writes for T, made before it said it had begun;
 * false if it is not there. */
static bool take_ptraced(struct st_follow *f, struct st_follow_target *t)
{
	char p[PATH_MAX + 256], err[ST_ERR_LEN];

	if (!st_ptrace_file(t->dir, t->pid, f->start, p, sizeof(p)))
		return false;
	int n = st_traceset_add(&f->set, p, err);
	if (n < 0) {
		note(f, "%s", err);
		return false;
	}
	t->file = n;
	say_attached(f, t);
	if (f->ops.file)
		f->ops.file(f->arg, n);
	return true;
}

/* Finds the trace file of T in its mappings and adds it; false if it
 * has none (yet). */
static bool take_file(struct st_follow *f, struct st_follow_target *t)
{
	struct st_map tr;
	char err[ST_ERR_LEN];

	if (t->dir)
		return take_ptraced(f, t);
	if (st_proc_find(t->pid, "", ".trace", &tr) <= 0)
		return false;
	for (int i = 0; i < f->set.n; i++)
		if (!strcmp(f->set.t[i].path, tr.path)) {
			/* a forked child maps its parent's file until it
			 * makes its own: that one is not the child's */
			if (f->set.t[i].hdr.pid != t->pid)
				return false;
			t->file = i;
			return true;
		}
	struct st_header h;
	if (st_header_read(tr.path, &h) && h.pid != t->pid)
		return false;
	int n = st_traceset_add(&f->set, tr.path, err);
	if (n < 0) {
		note(f, "%s", err);
		return false;
	}
	t->file = n;
	if (t->injected) {
		map_lease(t, tr.path);
		set_lease(t, st_now_ns() + LEASE_NS);
		st_merge_seek(&f->mg, n, t->from);
	}
	/* a preloaded process's file found at the start is said once its
	 * history is read: what it records after the note is shown */
	if (f->begun)
		say_attached(f, t);
	if (f->ops.file)
		f->ops.file(f->arg, n);
	return true;
}

static bool known(const struct st_follow *f, const char *path)
{
	for (int j = 0; j < f->set.n; j++)
		if (!strcmp(f->set.t[j].path, path))
			return true;
	for (int j = 0; j < f->nrefused; j++)
		if (!strcmp(f->refused[j], path))
			return true;
	return false;
}

/* A file of DIR that cannot be read: said once, then left alone. */
static void refuse(struct st_follow *f, const char *path, const char *err)
{
	char **r = realloc(f->refused, (f->nrefused + 1) * sizeof(*r));

	note(f, "%s", err);
	if (!r)
		return;
	f->refused = r;
	if ((r[f->nrefused] = strdup(path)))
		f->nrefused++;
}

/*
 * Looks at the trace files of directory DIR not followed yet.  PID mode
 * takes those of a followed process (an exec'd image) or, with
 * children, of a child forked since: all of theirs happened after the
 * start.  DIR mode takes every one.
 */
static void scan_dir(struct st_follow *f, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char p[PATH_MAX + 256], err[ST_ERR_LEN];
		size_t l = strlen(e->d_name);
		if (l < 7 || strcmp(e->d_name + l - 6, ".trace"))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (known(f, p))
			continue;
		struct st_header h;
		if (!st_header_read(p, &h) ||
		    memcmp(h.magic, ST_MAGIC, sizeof(h.magic))) {
			/* being created: its header comes in a moment */
			f->dir_retry = true;
			continue;
		}
		if (!f->dir && (h.mono_ns < f->start ||
				!(followed(f, h.pid) ||
				  (f->children && followed(f, h.ppid)))))
			continue;
		if (!f->dir && !followed(f, h.pid))
			st_follow_add(f, h.pid);
		int n = st_traceset_add(&f->set, p, err);
		if (n < 0) {
			if (f->dir)
				refuse(f, p, err);
			continue;
		}
		char name[48];
		note(f, "following %s (%s)", st_proc_name(&f->set.t[n], name),
		     p);
		if (f->ops.file)
			f->ops.file(f->arg, n);
		for (int j = 0; j < f->ntg; j++)
			if (f->tg[j].pid == h.pid)
				f->tg[j].file = n;
	}
	if (d)
		closedir(d);
}

/* New files: in PID mode in the directories of the files followed, in
 * DIR mode when the directory changed (or a file was not ready). */
static void scan_new(struct st_follow *f)
{
	if (f->dir) {
		struct stat st;
		if (stat(f->dir, &st) == 0 &&
		    (st.st_mtim.tv_sec != f->dir_mtime.tv_sec ||
		     st.st_mtim.tv_nsec != f->dir_mtime.tv_nsec)) {
			f->dir_mtime = st.st_mtim;
			f->dir_retry = true;
		}
		if (f->dir_retry) {
			f->dir_retry = false;
			scan_dir(f, f->dir);
		}
		return;
	}
	int n = f->set.n;
	for (int i = 0; i < n; i++) {
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s", f->set.t[i].path);
		char *slash = strrchr(dir, '/');
		if (!slash)
			continue;
		*slash = 0;
		bool seen = false;
		for (int j = 0; j < i && !seen; j++)
			seen = !strncmp(f->set.t[j].path, dir, strlen(dir)) &&
			       f->set.t[j].path[strlen(dir)] == '/';
		if (!seen)
			scan_dir(f, dir);
	}
}

/* Feeds what the files hold now; returns the number of records. */
static long drain(struct st_follow *f)
{
	struct st_rec r;
	int file;
	long n = 0;

	for (int i = 0; i < f->set.n; i++)
		st_trace_refresh(&f->set.t[i]);
	if (f->ops.refreshed)
		f->ops.refreshed(f->arg);
	if (st_merge_resume(&f->mg)) {
		fprintf(stderr, "socktrace: out of memory\n");
		exit(1);
	}
	while (st_merge_next(&f->mg, &r, &file)) {
		f->ops.record(f->arg, &r, file);
		n++;
	}
	f->records += n;
	return n;
}

void st_follow_begin(struct st_follow *f)
{
	if (f->dir) {
		scan_new(f);
		drain(f);
		if (f->ops.history_done)
			f->ops.history_done(f->arg);
		f->begun = true;
		return;
	}
	/* a preloaded process: what it recorded before is history, so its
	 * open connections are known */
	for (int i = 0; i < f->ntg; i++)
		if (!f->tg[i].injected && !f->tg[i].dir)
			take_file(f, &f->tg[i]);
	drain(f);
	if (f->ops.history_done)
		f->ops.history_done(f->arg);
	f->begun = true;
	for (int i = 0; i < f->ntg; i++)
		if (!f->tg[i].injected && !f->tg[i].dir && f->tg[i].file >= 0)
			say_attached(f, &f->tg[i]);
	for (int i = 0; i < f->ntg; i++)
		if (f->tg[i].injected || f->tg[i].dir)
			take_file(f, &f->tg[i]);
}

/*
 * A followed process that exec'd an image without the library (its
 * environment had no preload: sshd's re-exec of a child that inherited
 * the library from its attached parent) gets it loaded again, once.
 */
static void reload_execd(struct st_follow *f)
{
	for (int i = 0; i < f->ntg; i++) {
		struct st_follow_target *t = &f->tg[i];
		struct st_map lib;
		if (t->gone || t->file < 0 || t->reloaded || t->dir ||
		    gone_now(t->pid) ||
		    st_proc_find(t->pid, "libsocktrace", ".so", &lib) != 0)
			continue;
		t->reloaded = true;
		char name[48];
		if (f->verbose)
			note(f, "%s exec'd: loading the library again",
			     st_proc_name(&f->set.t[t->file], name));
		if (load_into(f, t, NULL, false, 0) == 0)
			take_file(f, t);
	}
}

long st_follow_poll(struct st_follow *f)
{
	long n = drain(f);
	uint64_t now = st_now_ns();
	bool any = f->dir != NULL;

	for (int i = 0; i < f->ntg; i++) {
		struct st_follow_target *t = &f->tg[i];
		char st = st_proc_state(t->pid, NULL);
		if (!t->gone && (!st || st == 'Z' || st == 'X')) {
			t->gone = true;
			/* one line per process unless asked: a forking
			 * server's children come and go by the hundred */
			if (f->verbose)
				note(f, "process %d exited", (int)t->pid);
		}
		if (t->gone)
			continue;
		any = true;
		if (t->file < 0)
			take_file(f, t);
		set_lease(t, now + LEASE_NS);
	}
	if (!any)
		return -1;
	int files = f->set.n;
	if (f->dir || ++f->ticks % SCAN_TICKS == 0) {
		if (!f->dir)
			reload_execd(f);
		scan_new(f);
	}
	/* a new file's records are read now: a caller that ends exited
	 * processes after the poll ends them after their records */
	if (f->set.n > files)
		n += drain(f);
	return n;
}

int st_follow_count(const struct st_follow *f)
{
	int n = 0;

	for (int i = 0; i < f->ntg; i++)
		n += !f->tg[i].gone;
	return n;
}

void st_follow_end(struct st_follow *f)
{
	for (int i = 0; i < f->ntg; i++)
		set_lease(&f->tg[i], 1);
	stop_tracers(f);
	drain(f);
}

void st_follow_free(struct st_follow *f)
{
	stop_tracers(f);
	for (int i = 0; i < f->ntg; i++) {
		if (f->tg[i].rwmap)
			munmap(f->tg[i].rwmap, ST_HEADER_SIZE);
		free(f->tg[i].dir);
	}
	for (int i = 0; i < f->nrefused; i++)
		free(f->refused[i]);
	free(f->refused);
	st_merge_free(&f->mg);
	st_traceset_close(&f->set);
	free(f->tg);
	f->tg = NULL;
	f->ntg = 0;
}
