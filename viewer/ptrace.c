/* SPDX-License-Identifier: MIT */
/*
 * The ptrace mode's tracer: run starts the program under the seccomp
 * filter (stopped at the lifecycle calls only), attach seizes a running
 * one (PTRACE_SYSCALL: stopped at every call); both follow its threads
 * and children and write their records at the stops.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ptrace.h"
#include "trace.h"

#ifndef __x86_64__
#error "the ptrace mode knows the x86_64 calls only: port it first"
#endif

/* Everything traced: processes, and tasks by tid in buckets. */
#define NBUCKETS 1024
struct tracer {
	const char *dir;
	struct st_pproc *procs;
	struct st_ptask *tasks[NBUCKETS];
	int ntasks;
	pid_t main;
	bool data;   /* --data */
	bool attach; /* PTRACE_SYSCALL on a running process (attach) */
	int status;  /* the main process's, as a shell says it */
};

static struct st_ptask *task_find(struct tracer *tr, pid_t tid)
{
	for (struct st_ptask *t = tr->tasks[tid % NBUCKETS]; t; t = t->next)
		if (t->tid == tid)
			return t;
	return NULL;
}

static struct st_pproc *proc_find(struct tracer *tr, pid_t pid)
{
	for (struct st_pproc *p = tr->procs; p; p = p->next)
		if (p->pid == pid)
			return p;
	return NULL;
}

/* Tgid and PPid of task TID from /proc; false if it is gone. */
static bool ids(pid_t tid, pid_t *tgid, pid_t *ppid)
{
	char path[64], line[128];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	if (!(f = fopen(path, "re")))
		return false;
	*tgid = *ppid = 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Tgid:", 5))
			*tgid = atoi(line + 5);
		else if (!strncmp(line, "PPid:", 5))
			*ppid = atoi(line + 5);
	}
	fclose(f);
	return *tgid > 0;
}

static void *zalloc(size_t n)
{
	void *m = calloc(1, n);

	if (!m) {
		fprintf(stderr, "socktrace: out of memory\n");
		exit(1);
	}
	return m;
}

/* The process PID (parent PPID), made if new: a forked child starts
 * with a copy of its parent's fds, as the kernel gave it. */
static struct st_pproc *proc_get(struct tracer *tr, pid_t pid, pid_t ppid)
{
	struct st_pproc *p = proc_find(tr, pid);

	if (p)
		return p;
	p = zalloc(sizeof(*p));
	p->pid = pid;
	p->ppid = ppid;
	p->dir = tr->dir;
	p->data = tr->data;
	p->file.fd = -1;
	p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct st_pproc *parent = proc_find(tr, ppid);
	if (parent && parent->nfds) {
		p->fds = zalloc(parent->nfds * sizeof(*p->fds));
		memcpy(p->fds, parent->fds, parent->nfds * sizeof(*p->fds));
		p->nfds = parent->nfds;
	}
	p->next = tr->procs;
	tr->procs = p;
	return p;
}

/* Task TID, made (with its process) the first time it is seen. */
static struct st_ptask *task_get(struct tracer *tr, pid_t tid)
{
	struct st_ptask *t = task_find(tr, tid);
	pid_t tgid, ppid;

	if (t)
		return t;
	if (!ids(tid, &tgid, &ppid))
		return NULL;
	t = zalloc(sizeof(*t));
	t->tid = tid;
	t->p = proc_get(tr, tgid, ppid);
	t->p->tasks++;
	tr->ntasks++;
	t->next = tr->tasks[tid % NBUCKETS];
	tr->tasks[tid % NBUCKETS] = t;
	return t;
}

static void proc_end(struct tracer *tr, struct st_pproc *p, bool exited)
{
	if (exited)
		st_pfile_exit(&p->file, st_now_ns());
	st_pfile_close(&p->file);
	if (p->pidfd >= 0)
		close(p->pidfd);
	for (struct st_pproc **pp = &tr->procs; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	free(p->fds);
	free(p->closers);
	free(p);
}

/* Task TID is gone (EXITED: it ended; else we let it go): forgets it,
 * and its process with its last task. */
static void task_gone(struct tracer *tr, pid_t tid, bool exited)
{
	struct st_ptask **pt = &tr->tasks[tid % NBUCKETS];

	while (*pt && (*pt)->tid != tid)
		pt = &(*pt)->next;
	if (!*pt)
		return;
	struct st_ptask *t = *pt;
	*pt = t->next;
	st_pcall_abort(t);
	if (--t->p->tasks == 0)
		proc_end(tr, t->p, exited);
	free(t->closing);
	free(t);
	tr->ntasks--;
}

/* Resumes task T: to its call's exit when it waits for one, and to
 * every call's entry and exit when attached. */
static void resume(struct tracer *tr, struct st_ptask *t, pid_t tid, int sig)
{
	bool to_exit = tr->attach || (t && t->in_call);

	ptrace(to_exit ? PTRACE_SYSCALL : PTRACE_CONT, tid, 0,
	       (void *)(long)sig);
}

/* A call's entry of task T: NR with arguments A. */
static void on_entry(struct st_ptask *t, long nr, const uint64_t *a)
{
	t->in_call = false;
	st_pcall_abort(t);
	t->ts = st_now_ns();
	t->nr = nr;
	for (int i = 0; i < 6; i++)
		t->a[i] = (unsigned long)a[i];
	t->in_call = st_pcall_enter(t);
	t->let_go = st_now_ns();
}

/* The exit of task T's call, which returned RET (raw: -errno). */
static void on_exit_stop(struct st_ptask *t, long ret)
{
	if (!t->in_call)
		return;
	t->in_call = false;
	/* ERESTARTSYS..ERESTART_RESTARTBLOCK: the kernel restarts the call
	 * (a new entry stop), or makes it EINTR, which is not recorded */
	if (ret <= -512 && ret >= -516)
		st_pcall_abort(t);
	else
		st_pcall_exit(t, ret);
}

/*
 * A syscall stop or seccomp stop of task T: the kernel says which
 * (entry, exit, seccomp) and the call.  Attached (PTRACE_SYSCALL), every
 * call stops: only the lifecycle calls are entered.
 */
static void on_call_stop(struct st_ptask *t)
{
	struct __ptrace_syscall_info si;

	memset(&si, 0, sizeof(si));
	if (ptrace(PTRACE_GET_SYSCALL_INFO, t->tid, sizeof(si), &si) <= 0) {
		/* gone, or a kernel without it (before 5.3) */
		t->in_call = false;
		st_pcall_abort(t);
		return;
	}
	if (si.op == PTRACE_SYSCALL_INFO_SECCOMP)
		on_entry(t, (long)si.seccomp.nr, si.seccomp.args);
	else if (si.op == PTRACE_SYSCALL_INFO_ENTRY &&
		 si.arch == AUDIT_ARCH_X86_64 &&
		 st_ptrace_lifecycle((long)si.entry.nr,
				     (unsigned long)si.entry.args[1]))
		on_entry(t, (long)si.entry.nr, si.entry.args);
	else if (si.op == PTRACE_SYSCALL_INFO_EXIT)
		on_exit_stop(t, (long)si.exit.rval);
	else if (si.op == PTRACE_SYSCALL_INFO_ENTRY && t->in_call) {
		/* a call not recorded, after one whose exit never came */
		t->in_call = false;
		st_pcall_abort(t);
	}
}

/* A ptrace event stop EV of task T (TID). */
static void on_event(struct tracer *tr, struct st_ptask *t, pid_t tid, int ev)
{
	unsigned long msg = 0;

	switch (ev) {
	case PTRACE_EVENT_SECCOMP:
		if (t)
			on_call_stop(t);
		break;
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
	case PTRACE_EVENT_CLONE: {
		ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg);
		struct st_ptask *n = task_get(tr, (pid_t)msg);
		/* a new process (not a thread): the fork record, as the
		 * preload writes it (none for vfork) */
		if (t && n && n->p != t->p && ev != PTRACE_EVENT_VFORK)
			st_pproc_fork(t->p, tid, (pid_t)msg);
		break;
	}
	case PTRACE_EVENT_EXIT:
		/* the fds close after this stop: the last thread's, or the
		 * leader's (exit_group takes them all) */
		if (t && !t->p->exit_done &&
		    (t->tid == t->p->pid || t->p->tasks == 1))
			st_pproc_exit(t->p, tid);
		break;
	case PTRACE_EVENT_EXEC:
		ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg);
		if ((pid_t)msg != tid)
			/* a thread exec'd: it now has the leader's tid */
			task_gone(tr, (pid_t)msg, false);
		if (t) {
			/* a new image: a new file, as the preload makes */
			st_pfile_close(&t->p->file);
			t->p->file_tried = false;
			t->p->exit_done = false;
			st_pproc_scan(t->p);
		}
		break;
	}
}

/* SIGTERM sent to socktrace, for CMD (0: none). */
static volatile sig_atomic_t passed_on;

static void on_term(int sig)
{
	passed_on = sig;
}

/* Handles task TID's stop or exit ST. */
static void handle(struct tracer *tr, pid_t tid, int st)
{
	if (WIFEXITED(st) || WIFSIGNALED(st)) {
		if (tid == tr->main)
			tr->status = WIFEXITED(st) ? WEXITSTATUS(st)
						   : 128 + WTERMSIG(st);
		task_gone(tr, tid, WIFEXITED(st));
		return;
	}
	if (!WIFSTOPPED(st))
		return;
	struct st_ptask *t = task_get(tr, tid);
	int sig = WSTOPSIG(st), ev = st >> 16;
	if (sig == (SIGTRAP | 0x80)) {
		if (t)
			on_call_stop(t);
		resume(tr, t, tid, 0);
	} else if (ev == PTRACE_EVENT_STOP) {
		/* a group-stop stays one (SIGCONT ends it); the other event
		 * stops (a new task's first) just go on */
		if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
		    sig == SIGTTOU)
			ptrace(PTRACE_LISTEN, tid, 0, 0);
		else
			resume(tr, t, tid, 0);
	} else if (ev) {
		on_event(tr, t, tid, ev);
		resume(tr, t, tid, 0);
	} else {
		/* a signal for the program: delivered as it was sent */
		resume(tr, t, tid, sig);
	}
}

/*
 * Waits for and handles one stop or exit; false when nothing is left,
 * or (attached) when we were told to let go.  Run: a SIGTERM sent to
 * socktrace goes to CMD.
 */
static bool step(struct tracer *tr)
{
	int st;

	/* one that came while a stop was handled (one in the instants
	 * before waitpid waits for the next stop) */
	if (passed_on && tr->attach)
		return false;
	if (passed_on) {
		kill(tr->main, passed_on);
		passed_on = 0;
	}
	pid_t tid = waitpid(-1, &st, __WALL);

	if (tid < 0 && errno == EINTR && passed_on && tr->attach)
		return false;
	if (tid < 0 && errno == EINTR && passed_on) {
		/* killed, the tracer would take CMD down with it (EXITKILL):
		 * CMD gets the signal instead, and is followed to its end */
		kill(tr->main, passed_on);
		passed_on = 0;
	}
	if (tid < 0)
		return errno == EINTR;
	handle(tr, tid, st);
	return true;
}

/* Frees TR, its files closed (those of processes still running keep no
 * exit time); returns the main process's status. */
static int tracer_free(struct tracer *tr)
{
	int status = tr->status;

	while (tr->procs)
		proc_end(tr, tr->procs, false);
	for (int i = 0; i < NBUCKETS; i++)
		while (tr->tasks[i]) {
			struct st_ptask *t = tr->tasks[i];
			tr->tasks[i] = t->next;
			st_pcall_abort(t);
			free(t->closing);
			free(t);
		}
	free(tr);
	return status;
}

int st_ptrace_run(const char *exe, char **cmd, const char *dir, bool data,
		  const struct sigaction *oint, const struct sigaction *oquit)
{
	int go[2];

	if (pipe2(go, O_CLOEXEC)) {
		fprintf(stderr, "socktrace run: pipe: %s\n", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "socktrace run: fork: %s\n", strerror(errno));
		close(go[0]);
		close(go[1]);
		return -1;
	}
	if (pid == 0)
		st_ptrace_child(exe, cmd, go, data, oint, oquit);
	close(go[0]);
	long opts = PTRACE_O_TRACESECCOMP | PTRACE_O_TRACEFORK |
		    PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
		    PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT |
		    PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD;
	if (ptrace(PTRACE_SEIZE, pid, 0, (void *)opts)) {
		fprintf(stderr,
			"socktrace run: cannot trace %s: PTRACE_SEIZE: %s "
			"(see /proc/sys/kernel/yama/ptrace_scope)\n",
			exe, strerror(errno));
		close(go[1]);
		waitpid(pid, NULL, 0);
		return -1;
	}
	struct tracer *tr = zalloc(sizeof(*tr));
	tr->dir = dir;
	tr->main = pid;
	tr->data = data;
	tr->status = -1;
	if (write(go[1], "g", 1) != 1) {
		fprintf(stderr, "socktrace run: cannot start %s: %s\n", exe,
			strerror(errno));
		kill(pid, SIGKILL);
	}
	close(go[1]);
	/* every traced process, not only CMD: they all stop at our filter,
	 * and would fail their calls with ENOSYS without a tracer */
	/* no SA_RESTART: the signal interrupts waitpid */
	struct sigaction term = { .sa_handler = on_term }, oterm, ohup;
	struct sigaction ign = { .sa_handler = SIG_IGN };
	sigaction(SIGTERM, &term, &oterm);
	/* a hangup reaches CMD from the terminal, as Ctrl-C does */
	sigaction(SIGHUP, &ign, &ohup);
	while (step(tr))
		;
	sigaction(SIGTERM, &oterm, NULL);
	sigaction(SIGHUP, &ohup, NULL);
	return tracer_free(tr);
}

/*
 * Attach ends: every task is interrupted and let go at its next stop,
 * with the signal it stopped for, if any, still delivered.  The
 * program runs on as before (the kernel restarts a call the interrupt
 * broke, as for a signal handled by SA_RESTART).
 */
static void detach_all(struct tracer *tr)
{
	for (int i = 0; i < NBUCKETS; i++)
		for (struct st_ptask *t = tr->tasks[i]; t; t = t->next)
			ptrace(PTRACE_INTERRUPT, t->tid, 0, 0);
	while (tr->ntasks > 0) {
		int st;
		pid_t tid = waitpid(-1, &st, __WALL);
		if (tid < 0 && errno == EINTR)
			continue;
		if (tid < 0)
			break;
		if (!WIFSTOPPED(st)) {
			handle(tr, tid, st);
			continue;
		}
		struct st_ptask *t = task_find(tr, tid);
		int sig = WSTOPSIG(st), ev = st >> 16;
		if (t && sig == (SIGTRAP | 0x80))
			on_call_stop(t); /* an exit is recorded */
		else if (t && ev == PTRACE_EVENT_EXIT)
			on_event(tr, t, tid, ev);
		/* a signal-delivery stop: the signal goes with it */
		long deliver = !ev && sig != (SIGTRAP | 0x80) ? sig : 0;
		ptrace(PTRACE_DETACH, tid, 0, (void *)deliver);
		if (t)
			task_gone(tr, tid, false);
	}
}

/* Why PID's threads cannot be seized (errno ERR), for the user. */
static void seize_failed(pid_t pid, int err, char *buf, size_t len)
{
	char path[64], line[128];
	long tracer = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "re"))) {
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "TracerPid:", 10))
				tracer = atol(line + 10);
		fclose(f);
	}
	if (err == EPERM && tracer > 0)
		snprintf(buf, len,
			 "it is already traced by process %ld (a debugger or "
			 "strace): a process has one tracer at a time",
			 tracer);
	else
		snprintf(buf, len, "PTRACE_SEIZE: %s%s", strerror(err),
			 err == EPERM ? " (see /proc/sys/kernel/yama/"
					"ptrace_scope, or run as root)"
				      : "");
}

/* Seizes every thread of PID (again until no new one shows: threads
 * made meanwhile) and interrupts each, to start PTRACE_SYSCALL at its
 * first stop.  0, or -1 with why in BUF. */
static int seize_all(struct tracer *tr, pid_t pid, long opts, char *buf,
		     size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	for (bool more = true; more;) {
		DIR *d = opendir(path);
		struct dirent *e;
		more = false;
		if (!d) {
			snprintf(buf, len, "%s: %s", path, strerror(errno));
			return -1;
		}
		while ((e = readdir(d))) {
			pid_t tid = (pid_t)atoi(e->d_name);
			if (tid <= 0 || task_find(tr, tid))
				continue;
			if (ptrace(PTRACE_SEIZE, tid, 0, (void *)opts)) {
				if (tid != pid) /* a thread that just ended */
					continue;
				seize_failed(pid, errno, buf, len);
				closedir(d);
				return -1;
			}
			if (task_get(tr, tid))
				ptrace(PTRACE_INTERRUPT, tid, 0, 0);
			more = true;
		}
		closedir(d);
	}
	return 0;
}

int st_ptrace_attach(pid_t pid, const char *dir, bool children, int ready)
{
	char why[512] = "";
	long opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACECLONE |
		    PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT;
	struct tracer *tr = zalloc(sizeof(*tr));

	if (children)
		opts |= PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK;
	tr->dir = dir;
	tr->main = pid;
	tr->attach = true;
	tr->status = -1;
	/* no SA_RESTART: each interrupts waitpid, and we let go */
	struct sigaction term = { .sa_handler = on_term };
	sigaction(SIGTERM, &term, NULL);
	sigaction(SIGINT, &term, NULL);
	sigaction(SIGHUP, &term, NULL);
	/* the attaching viewer gone (even by SIGKILL): let go too */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() == 1)
		passed_on = SIGTERM;
	int rc = seize_all(tr, pid, opts, why, sizeof(why));
	struct st_pproc *p = rc ? NULL : proc_find(tr, pid);
	if (!rc && !p) {
		snprintf(why, sizeof(why), "it has exited");
		rc = -1;
	} else if (!rc) {
		st_pproc_attach(p, pid);
		if (p->file.fd < 0) {
			snprintf(why, sizeof(why),
				 "cannot write its trace file in %s", dir);
			rc = -1;
		}
	}
	size_t n = strlen(why);
	why[n] = '\n';
	if (write(ready, why, n + 1) != (ssize_t)(n + 1))
		rc = -1;
	close(ready);
	while (!rc && step(tr))
		;
	detach_all(tr);
	tracer_free(tr);
	return rc ? 1 : 0;
}
