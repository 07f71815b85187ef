/* SPDX-License-Identifier: MIT */
/* socktrace attach and detach: follow running processes live. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "conn.h"
#include "inject.h"
#include "merge.h"
#include "proc.h"

/* How often the files are polled, and how long a lease given to an
 * attached process lasts without renewal (a viewer killed with SIGKILL
 * cannot switch recording off: the lease runs out instead). */
#define TICK_NS (50 * 1000000L)
#define LEASE_NS (10ull * 1000000000ull)
#define MAX_TARGETS 4096

struct target {
	pid_t pid;
	int file;       /* in the trace set; -1 until its file is known */
	bool injected;  /* we loaded the library (or woke it again) */
	bool gone;      /* the process exited */
	uint64_t from;  /* injected: the first record of this attach */
	uint64_t *lease; /* injected: attach_until in its file, writable */
	void *rwmap;
};

struct attach {
	struct st_view_opts vo;
	bool history, children;
	double duration;
	const char *outdir;
	struct target *tg;
	int ntg;
	struct st_traceset set;
	struct st_merge mg;
	struct st_show *show;
	uint64_t start; /* CLOCK_MONOTONIC ns when attach started */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: socktrace attach [OPTIONS] PID...\n"
		"Shows the connections of running processes live: a timeline "
		"when a\nconnection closes, the ones still open at the end.  "
		"Stops on Ctrl-C,\nafter --duration, or when the processes "
		"have exited; they keep running\nas before.  A process "
		"started with libsocktrace.so preloaded is followed\nfrom its "
		"trace file; into any other, the library is loaded (ptrace).\n"
		"  --history       also show what a preloaded process recorded "
		"before\n"
		"  --duration S    stop after S seconds\n"
		"  --children      also every descendant of each PID (nginx "
		"workers...)\n"
		"  -o DIR          trace directory for processes the library "
		"is loaded\n"
		"                  into (default: $SOCKTRACE_DIR of the "
		"process, else\n"
		"                  /tmp/socktrace-UID); it must belong to the "
		"process's user\n"
		"VIEW OPTIONS as for 'socktrace view': --json, --pid, --conn, "
		"--port,\n-t, --color, --no-color.\n"
		"When it stops, recording in the processes it loaded the "
		"library into is\nswitched off; 'socktrace detach PID' also "
		"puts their calls back as they\nwere.\n");
}

static void detach_usage(FILE *f)
{
	fprintf(f,
		"usage: socktrace detach PID...\n"
		"Undoes 'socktrace attach' in each process: recording stops "
		"and its calls\ngo straight to libc again, as before the "
		"attach (the library stays\nloaded, idle).  Attaching again later "
		"works.\n");
}

/* Parses PID; false when it is not a positive number. */
static bool parse_pid(const char *s, pid_t *out)
{
	char *e;
	long v = strtol(s, &e, 10);

	if (*e || e == s || v <= 0 || v > INT32_MAX)
		return false;
	*out = (pid_t)v;
	return true;
}

/* Says why PID cannot be looked at, as a user can act on it. */
static int no_process(const char *cmd, pid_t pid, int err)
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

/* The directory the library writes into for PID: -o, its
 * $SOCKTRACE_DIR, or /tmp/socktrace-EUID (its own user: the library
 * refuses a directory that is not). */
static void target_dir(struct attach *a, pid_t pid, char *buf, size_t len)
{
	if (a->outdir) {
		snprintf(buf, len, "%s", a->outdir);
		return;
	}
	if (st_proc_env(pid, "SOCKTRACE_DIR", buf, len) && buf[0])
		return;
	snprintf(buf, len, "/tmp/socktrace-%ld", st_proc_euid(pid));
}

/* attach_until of the trace file PATH, and its next record in *NEXT;
 * false if it cannot be read. */
static bool peek_header(const char *path, uint64_t *until, uint64_t *next)
{
	struct st_header h;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	bool ok = pread(fd, &h, sizeof(h), 0) == sizeof(h) &&
		  !memcmp(h.magic, ST_MAGIC, sizeof(h.magic));
	close(fd);
	if (ok) {
		*until = h.attach_until;
		*next = h.next;
	}
	return ok;
}

/* Maps the header of PATH writable, to renew the lease of T. */
static void map_lease(struct target *t, const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return;
	void *m = mmap(NULL, ST_HEADER_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return;
	t->rwmap = m;
	t->lease = &((struct st_header *)m)->attach_until;
}

static void set_lease(struct target *t, uint64_t until)
{
	if (t->lease)
		__atomic_store_n(t->lease, until, __ATOMIC_RELEASE);
}

/*
 * Gets process T ready to be followed: finds how it is traced, loads the
 * library if it is not, and its trace file.  Returns 0 or an exit code
 * after saying what went wrong.
 */
static int prepare(struct attach *a, struct target *t)
{
	struct st_map lib, tr;
	char buf[PATH_MAX], err[1024];
	uint64_t until = 0, next = 0;
	char state = st_proc_state(t->pid, NULL);

	if (!state)
		return no_process("attach", t->pid, ENOENT);
	if (state == 'Z' || state == 'X') {
		fprintf(stderr, "socktrace attach: process %d has exited\n",
			(int)t->pid);
		return 1;
	}
	int has_lib = st_proc_find(t->pid, "libsocktrace", ".so", &lib);
	if (has_lib < 0)
		return no_process("attach", t->pid, -has_lib);
	int has_tr = st_proc_find(t->pid, "", ".trace", &tr);
	if (has_tr < 0)
		return no_process("attach", t->pid, -has_tr);
	if (has_tr && !peek_header(tr.path, &until, &next))
		has_tr = 0;
	bool preloaded = false;
	if (has_lib && has_tr)
		preloaded = until == 0;
	else if (has_lib)
		preloaded = st_proc_env(t->pid, "LD_PRELOAD", buf,
					sizeof(buf)) &&
			    strstr(buf, "libsocktrace");
	if (preloaded) {
		t->file = -1; /* found by follow(), now or once it exists */
		return 0;
	}

	/* not recording: load the library (or wake the one loaded) */
	snprintf(buf, sizeof(buf), "/proc/%d/exe", (int)t->pid);
	char exe[PATH_MAX];
	ssize_t n = readlink(buf, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	const char *why = n > 0 ? st_invisible(buf) : NULL;
	struct st_map libc;
	if (!why && st_proc_find(t->pid, "libc.so", "", &libc) <= 0 &&
	    st_proc_find(t->pid, "libc-", ".so", &libc) <= 0)
		why = "it has no dynamic libc (glibc) loaded, so there are "
		      "no libc calls to redirect";
	if (why) {
		fprintf(stderr,
			"socktrace attach: cannot trace process %d (%s): %s.\n"
			"Its socket calls cannot be seen this way; strace -f "
			"-e trace=network -p %d, or bcc's tcplife, can see "
			"them.\n",
			(int)t->pid, exe, why, (int)t->pid);
		return 1;
	}
	char path[PATH_MAX];
	if (has_lib)
		snprintf(path, sizeof(path), "%s", lib.path);
	else if (st_find_lib(path, sizeof(path), "attach"))
		return 1;
	const char *deny = st_inject_denied(t->pid, err, sizeof(err));
	if (deny) {
		fprintf(stderr, "socktrace attach: process %d: %s\n",
			(int)t->pid, deny);
		return 1;
	}
	target_dir(a, t->pid, buf, sizeof(buf));
	int r = st_inject_attach(t->pid, path, buf, LEASE_NS, err,
				 sizeof(err));
	if (r < 0) {
		fprintf(stderr, "socktrace attach: process %d: %s\n",
			(int)t->pid, err);
		return 1;
	}
	if (r > 0) { /* preloaded, its environment changed since */
		t->file = -1;
		return 0;
	}
	t->injected = true;
	/* the file the library writes now: records from here on are ours
	 * (an earlier attach's, if any, came before) */
	t->from = has_tr ? next : 0;
	t->file = -1;
	return 0;
}

/* Finds the trace file of T in its mappings and adds it; false if it
 * has none (yet). */
static bool take_file(struct attach *a, struct target *t)
{
	struct st_map tr;
	char err[ST_ERR_LEN];

	if (st_proc_find(t->pid, "", ".trace", &tr) <= 0)
		return false;
	for (int i = 0; i < a->set.n; i++)
		if (!strcmp(a->set.t[i].path, tr.path)) {
			t->file = i;
			return true;
		}
	int f = st_traceset_add(&a->set, tr.path, err);
	if (f < 0) {
		fprintf(stderr, "socktrace attach: %s\n", err);
		return false;
	}
	t->file = f;
	if (t->injected) {
		map_lease(t, tr.path);
		set_lease(t, now_ns() + LEASE_NS);
		st_merge_seek(&a->mg, f, t->from);
	}
	char name[48];
	fprintf(stderr, "socktrace: attached to %s (%s)%s\n",
		st_proc_name(&a->set.t[f], name), tr.path,
		t->injected ? ", library loaded" : "");
	st_show_process(a->show, f);
	return true;
}

static bool followed(const struct attach *a, pid_t pid)
{
	for (int i = 0; i < a->ntg; i++)
		if (a->tg[i].pid == pid)
			return true;
	return false;
}

/*
 * New trace files in the directories we follow: an exec'd image of a
 * followed process, or (--children) a child forked since.  They are
 * read from their start: all of it happened after the attach.
 */
static void scan_new(struct attach *a)
{
	int n = a->set.n;

	for (int i = 0; i < n; i++) {
		char dir[PATH_MAX];
		snprintf(dir, sizeof(dir), "%s", a->set.t[i].path);
		char *slash = strrchr(dir, '/');
		if (!slash)
			continue;
		*slash = 0;
		bool seen = false;
		for (int j = 0; j < i && !seen; j++)
			seen = !strncmp(a->set.t[j].path, dir, strlen(dir)) &&
			       a->set.t[j].path[strlen(dir)] == '/';
		DIR *d = seen ? NULL : opendir(dir);
		struct dirent *e;
		while (d && (e = readdir(d))) {
			char p[PATH_MAX + 256], err[ST_ERR_LEN];
			size_t l = strlen(e->d_name);
			if (l < 7 || strcmp(e->d_name + l - 6, ".trace"))
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			bool known = false;
			for (int j = 0; j < a->set.n && !known; j++)
				known = !strcmp(a->set.t[j].path, p);
			struct st_header h;
			uint64_t u, nx;
			int fd = known || !peek_header(p, &u, &nx)
					 ? -1
					 : open(p, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			bool ok = pread(fd, &h, sizeof(h), 0) == sizeof(h);
			close(fd);
			if (!ok || h.mono_ns < a->start ||
			    !(followed(a, h.pid) ||
			      (a->children && followed(a, h.ppid))))
				continue;
			if (!followed(a, h.pid) && a->ntg < MAX_TARGETS)
				a->tg[a->ntg++] = (struct target){
					.pid = h.pid, .file = -1
				};
			int f = st_traceset_add(&a->set, p, err);
			if (f < 0)
				continue;
			char name[48];
			fprintf(stderr, "socktrace: following %s (%s)\n",
				st_proc_name(&a->set.t[f], name), p);
			st_show_process(a->show, f);
			for (int j = 0; j < a->ntg; j++)
				if (a->tg[j].pid == h.pid)
					a->tg[j].file = f;
		}
		if (d)
			closedir(d);
	}
}

/* Reads what the files hold now into the timelines. */
static void drain(struct attach *a)
{
	struct st_rec r;
	int file;

	for (int i = 0; i < a->set.n; i++)
		st_trace_refresh(&a->set.t[i]);
	st_model_set_changed(st_show_model(a->show));
	if (st_merge_resume(&a->mg)) {
		fprintf(stderr, "socktrace: out of memory\n");
		exit(1);
	}
	while (st_merge_next(&a->mg, &r, &file))
		st_show_record(a->show, &r, file);
}

static int follow(struct attach *a)
{
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t end = a->duration > 0 ? a->start + (uint64_t)(a->duration *
							       1e9)
				       : 0;
	int tick = 0;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	/* a preloaded process: what it recorded before is history, read
	 * quietly (unless --history) so its open connections are known */
	st_show_quiet(a->show, !a->history);
	for (int i = 0; i < a->ntg; i++)
		if (!a->tg[i].injected)
			take_file(a, &a->tg[i]);
	drain(a);
	st_show_quiet(a->show, false);
	if (!a->history)
		st_model_mark_attach(st_show_model(a->show));
	for (int i = 0; i < a->ntg; i++)
		if (a->tg[i].injected)
			take_file(a, &a->tg[i]);

	while (!stop) {
		drain(a);
		if (st_show_flush(a->show))
			break; /* output closed (a pipe's reader went away) */
		uint64_t now = now_ns();
		if (end && now >= end)
			break;
		bool any = false;
		for (int i = 0; i < a->ntg; i++) {
			struct target *t = &a->tg[i];
			char st = st_proc_state(t->pid, NULL);
			if (!t->gone && (!st || st == 'Z' || st == 'X')) {
				t->gone = true;
				fprintf(stderr,
					"socktrace: process %d exited\n",
					(int)t->pid);
			}
			if (t->gone)
				continue;
			any = true;
			if (t->file < 0)
				take_file(a, t);
			set_lease(t, now + LEASE_NS);
		}
		if (!any)
			break;
		if (++tick % 10 == 0)
			scan_new(a);
		struct timespec ts = { 0, TICK_NS };
		nanosleep(&ts, NULL);
	}
	/* recording stops in the processes we woke; what they wrote until
	 * now is still shown */
	for (int i = 0; i < a->ntg; i++)
		set_lease(&a->tg[i], 1);
	drain(a);
	return 0;
}

int st_cmd_attach(int argc, char **argv)
{
	struct attach a;
	int rc = 0;

	memset(&a, 0, sizeof(a));
	/* our options first; the rest are view's */
	for (int i = 1; i < argc;) {
		int take = 0;
		char *e;
		if (!strcmp(argv[i], "--history")) {
			a.history = true;
			take = 1;
		} else if (!strcmp(argv[i], "--children")) {
			a.children = true;
			take = 1;
		} else if (!strcmp(argv[i], "--duration") ||
			   !strcmp(argv[i], "-o")) {
			if (i + 1 >= argc) {
				fprintf(stderr, "socktrace attach: %s needs a "
						"value\n", argv[i]);
				usage(stderr);
				return 2;
			}
			if (argv[i][1] == 'o') {
				a.outdir = argv[i + 1];
			} else {
				a.duration = strtod(argv[i + 1], &e);
				if (*e || e == argv[i + 1] ||
				    !(a.duration > 0)) {
					fprintf(stderr,
						"socktrace attach: bad value "
						"for --duration: '%s' "
						"(seconds, more than 0)\n",
						argv[i + 1]);
					usage(stderr);
					return 2;
				}
			}
			take = 2;
		} else if (!strcmp(argv[i], "--")) {
			break;
		}
		if (!take) {
			i++;
			continue;
		}
		memmove(&argv[i], &argv[i + take],
			(argc - i - take + 1) * sizeof(char *));
		argc -= take;
	}
	optind = 1;
	int p = st_view_parse(argc, argv, &a.vo, usage);
	if (p)
		return p < 0 ? 2 : 0;
	if (optind >= argc) {
		fprintf(stderr, "socktrace attach: no process given\n");
		usage(stderr);
		return 2;
	}
	a.tg = calloc(MAX_TARGETS, sizeof(*a.tg));
	if (!a.tg) {
		fprintf(stderr, "socktrace: out of memory\n");
		return 1;
	}
	for (int i = optind; i < argc; i++) {
		pid_t pid;
		if (!parse_pid(argv[i], &pid)) {
			fprintf(stderr, "socktrace attach: not a process id: "
					"'%s'\n", argv[i]);
			usage(stderr);
			free(a.tg);
			return 2;
		}
		if (!followed(&a, pid) && a.ntg < MAX_TARGETS)
			a.tg[a.ntg++] = (struct target){ .pid = pid,
							 .file = -1 };
	}
	if (a.children) {
		pid_t kids[MAX_TARGETS];
		int n = 0;
		for (int i = 0; i < a.ntg; i++)
			n = st_proc_descendants(a.tg[i].pid, kids, n,
						MAX_TARGETS);
		for (int i = 0; i < n && a.ntg < MAX_TARGETS; i++)
			if (!followed(&a, kids[i]))
				a.tg[a.ntg++] = (struct target){
					.pid = kids[i], .file = -1
				};
	}
	a.start = now_ns();
	for (int i = 0; i < a.ntg && !rc; i++)
		rc = prepare(&a, &a.tg[i]);
	if (rc) {
		/* the ones already woken stop recording at once */
		for (int i = 0; i < a.ntg; i++) {
			struct st_map tr;
			if (!a.tg[i].injected ||
			    st_proc_find(a.tg[i].pid, "", ".trace", &tr) <= 0)
				continue;
			map_lease(&a.tg[i], tr.path);
			set_lease(&a.tg[i], 1);
			if (a.tg[i].rwmap)
				munmap(a.tg[i].rwmap, ST_HEADER_SIZE);
		}
		free(a.tg);
		return rc;
	}
	a.show = st_show_open(&a.set, &a.vo);
	if (!a.show || st_merge_init(&a.mg, &a.set)) {
		fprintf(stderr, "socktrace: out of memory\n");
		return 1;
	}
	a.mg.live = true;
	fprintf(stderr, "socktrace: following %d process%s; Ctrl-C to stop\n",
		a.ntg, a.ntg == 1 ? "" : "es");
	follow(&a);
	rc = st_show_close(a.show);
	st_traceset_warn(&a.set);
	for (int i = 0; i < a.ntg; i++)
		if (a.tg[i].rwmap)
			munmap(a.tg[i].rwmap, ST_HEADER_SIZE);
	st_merge_free(&a.mg);
	st_traceset_close(&a.set);
	free(a.tg);
	return rc;
}

int st_cmd_detach(int argc, char **argv)
{
	char err[1024];
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "socktrace detach: no process given\n");
		detach_usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		detach_usage(stdout);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		pid_t pid;
		if (!parse_pid(argv[i], &pid)) {
			fprintf(stderr, "socktrace detach: not a process id: "
					"'%s'\n", argv[i]);
			detach_usage(stderr);
			return 2;
		}
	}
	for (int i = 1; i < argc; i++) {
		pid_t pid = (pid_t)atoi(argv[i]);
		struct st_map lib, tr;
		uint64_t until = 0, next;
		int r = st_proc_find(pid, "libsocktrace", ".so", &lib);
		if (r < 0) {
			rc = no_process("detach", pid, -r);
			continue;
		}
		if (!r) {
			fprintf(stderr, "socktrace detach: process %d is not "
					"attached (libsocktrace.so is not "
					"loaded in it)\n", (int)pid);
			rc = 1;
			continue;
		}
		if (st_proc_find(pid, "", ".trace", &tr) > 0 &&
		    peek_header(tr.path, &until, &next) && until == 0) {
			fprintf(stderr,
				"socktrace detach: process %d was started "
				"with libsocktrace.so preloaded: it records "
				"until it exits; there is nothing to detach\n",
				(int)pid);
			rc = 1;
			continue;
		}
		const char *deny = st_inject_denied(pid, err, sizeof(err));
		if (deny || st_inject_detach(pid, lib.path, err, sizeof(err))) {
			fprintf(stderr, "socktrace detach: process %d: %s\n",
				(int)pid, deny ? deny : err);
			rc = 1;
			continue;
		}
		fprintf(stderr, "socktrace: detached from process %d\n",
			(int)pid);
	}
	return rc;
}
