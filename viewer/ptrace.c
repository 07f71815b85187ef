/* SPDX-License-Identifier: MIT */
/* The ptrace + seccomp mode of run: start the program traced, follow it. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/xattr.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ptrace.h"

#ifndef __x86_64__
#error "the ptrace mode reads x86_64 registers: port it first"
#endif

/* The socket lifecycle calls the filter stops at; fcntl is tested
 * apart, for the commands the records keep. */
static const int lifecycle[] = {
	SYS_socket,  SYS_socketpair,  SYS_bind,	      SYS_listen,
	SYS_connect, SYS_accept,      SYS_accept4,    SYS_shutdown,
	SYS_close,   SYS_close_range, SYS_dup,	      SYS_dup2,
	SYS_dup3,    SYS_setsockopt,  SYS_getsockopt,
};
#define NCALLS ((int)(sizeof(lifecycle) / sizeof(lifecycle[0])))
/* --data: the data calls too (on every fd: the filter cannot tell a
 * socket from a file; the tracer lets the others go at once) */
static const int datacalls[] = {
	SYS_read,     SYS_write,    SYS_readv,	  SYS_writev,
	SYS_recvfrom, SYS_sendto,   SYS_recvmsg,  SYS_sendmsg,
	SYS_sendfile, SYS_recvmmsg, SYS_sendmmsg,
};
#define NDATA ((int)(sizeof(datacalls) / sizeof(datacalls[0])))

/*
 * Installs the filter: SECCOMP_RET_TRACE for the lifecycle calls of the
 * x86_64 ABI (and the data calls with DATA), everything else allowed
 * (the i386 and x32 ABIs too: their calls are not seen).  0, or -1 with
 * errno set.
 */
static int install_filter(bool data)
{
	struct sock_filter f[NCALLS + NDATA + 12];
	int nrs[NCALLS + NDATA], k = 0;

	for (int i = 0; i < NCALLS; i++)
		nrs[k++] = lifecycle[i];
	for (int i = 0; data && i < NDATA; i++)
		nrs[k++] = datacalls[i];
	int n = 0, allow = k + 10, trace = k + 11;
#define AT(i) ((unsigned char)((i)-n - 1)) /* jump from the next one */

	f[n++] = (struct sock_filter)BPF_STMT(
		BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
					    AUDIT_ARCH_X86_64, 1, 0);
	n++;
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
					      SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(
		BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
	f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K,
					    0x40000000, AT(allow), 0);
	n++;
	for (int i = 0; i < k; i++, n++)
		f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						    nrs[i], AT(trace), 0);
	f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
					    SYS_fcntl, 0, AT(allow));
	n++;
	/* the command's low 32 bits (little-endian) */
	f[n++] = (struct sock_filter)BPF_STMT(
		BPF_LD | BPF_W | BPF_ABS,
		offsetof(struct seccomp_data, args[1]));
	f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_DUPFD,
					    AT(trace), 0);
	n++;
	f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
					    F_DUPFD_CLOEXEC, AT(trace), 0);
	n++;
	f[n] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_SETFL,
					    AT(trace), AT(allow));
	n++;
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
					      SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
					      SECCOMP_RET_TRACE);
#undef AT
	struct sock_fprog prog = { .len = (unsigned short)n, .filter = f };
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

const char *st_ptrace_refuse(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && (st.st_mode & (S_ISUID | S_ISGID)))
		return st.st_mode & S_ISUID
			       ? "it is setuid: with PR_SET_NO_NEW_PRIVS, "
				 "which the seccomp filter needs, it would "
				 "run without its privileges"
			       : "it is setgid: with PR_SET_NO_NEW_PRIVS, "
				 "which the seccomp filter needs, it would "
				 "run without its privileges";
	/* file capabilities (setcap) are dropped the same way */
	if (getxattr(path, "security.capability", NULL, 0) > 0)
		return "it has file capabilities (setcap): with "
		       "PR_SET_NO_NEW_PRIVS, which the seccomp filter needs, "
		       "it would run without them";
	return NULL;
}

/* The child: waits until the parent has seized it, installs the
 * filter, execs EXE.  Never returns. */
static void child(const char *exe, char **cmd, int go[2], bool data,
		  const struct sigaction *oint, const struct sigaction *oquit)
{
	char c;

	sigaction(SIGINT, oint, NULL);
	sigaction(SIGQUIT, oquit, NULL);
	close(go[1]);
	/* EOF without a byte: the parent could not trace us */
	if (read(go[0], &c, 1) != 1)
		_exit(127);
	close(go[0]);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || install_filter(data)) {
		fprintf(stderr,
			"socktrace run: cannot install the seccomp filter: "
			"%s (--ptrace needs Linux seccomp-bpf)\n",
			strerror(errno));
		_exit(127);
	}
	execv(exe, cmd);
	fprintf(stderr, "socktrace run: %s: %s\n", exe, strerror(errno));
	_exit(127);
}

/* Everything traced: processes, and tasks by tid in buckets. */
#define NBUCKETS 1024
struct tracer {
	const char *dir;
	struct st_pproc *procs;
	struct st_ptask *tasks[NBUCKETS];
	pid_t main;
	bool data;  /* --data */
	int status; /* the main process's, as a shell says it */
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
	t->next = tr->tasks[tid % NBUCKETS];
	tr->tasks[tid % NBUCKETS] = t;
	return t;
}

static void proc_end(struct tracer *tr, struct st_pproc *p, bool exited)
{
	if (exited)
		st_pfile_exit(&p->file, st_pfile_now());
	st_pfile_close(&p->file);
	if (p->pidfd >= 0)
		close(p->pidfd);
	for (struct st_pproc **pp = &tr->procs; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	free(p->fds);
	free(p);
}

/* Task TID is gone (status ST): forgets it, and its process with its
 * last task. */
static void task_gone(struct tracer *tr, pid_t tid, int st)
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
		proc_end(tr, t->p, WIFEXITED(st));
	free(t->closing);
	free(t);
}

/* Resumes task T: to its call's exit when it waits for one. */
static void resume(struct st_ptask *t, pid_t tid, int sig)
{
	bool to_exit = t && t->in_call;

	ptrace(to_exit ? PTRACE_SYSCALL : PTRACE_CONT, tid, 0,
	       (void *)(long)sig);
}

/* A seccomp stop of task T: the call's entry. */
static void on_entry(struct st_ptask *t)
{
	struct user_regs_struct r;

	t->in_call = false;
	st_pcall_abort(t);
	if (ptrace(PTRACE_GETREGS, t->tid, 0, &r))
		return;
	t->ts = st_pfile_now();
	t->nr = (long)r.orig_rax;
	t->a[0] = r.rdi;
	t->a[1] = r.rsi;
	t->a[2] = r.rdx;
	t->a[3] = r.r10;
	t->a[4] = r.r8;
	t->a[5] = r.r9;
	t->in_call = st_pcall_enter(t);
}

/* The exit stop of task T's call. */
static void on_exit_stop(struct st_ptask *t)
{
	struct user_regs_struct r;

	if (!t->in_call)
		return;
	t->in_call = false;
	long ret = ptrace(PTRACE_GETREGS, t->tid, 0, &r) ? -516 : (long)r.rax;
	/* ERESTARTSYS..ERESTART_RESTARTBLOCK: the kernel restarts the call
	 * (a new entry stop), or makes it EINTR, which is not recorded */
	if (ret <= -512 && ret >= -516)
		st_pcall_abort(t);
	else
		st_pcall_exit(t, ret);
}

/* A ptrace event stop EV of task T (TID). */
static void on_event(struct tracer *tr, struct st_ptask *t, pid_t tid, int ev)
{
	unsigned long msg = 0;

	switch (ev) {
	case PTRACE_EVENT_SECCOMP:
		if (t)
			on_entry(t);
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
			task_gone(tr, (pid_t)msg, 0);
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

/* Waits for and handles one stop or exit; false when nothing is left. */
static bool step(struct tracer *tr)
{
	int st;

	/* one that came while a stop was handled (one in the instants
	 * before waitpid waits for the next stop) */
	if (passed_on) {
		kill(tr->main, passed_on);
		passed_on = 0;
	}
	pid_t tid = waitpid(-1, &st, __WALL);

	if (tid < 0 && errno == EINTR && passed_on) {
		/* killed, the tracer would take CMD down with it (EXITKILL):
		 * CMD gets the signal instead, and is followed to its end */
		kill(tr->main, passed_on);
		passed_on = 0;
	}
	if (tid < 0)
		return errno == EINTR;
	if (WIFEXITED(st) || WIFSIGNALED(st)) {
		if (tid == tr->main)
			tr->status = WIFEXITED(st) ? WEXITSTATUS(st)
						   : 128 + WTERMSIG(st);
		task_gone(tr, tid, st);
		return true;
	}
	if (!WIFSTOPPED(st))
		return true;
	struct st_ptask *t = task_get(tr, tid);
	int sig = WSTOPSIG(st), ev = st >> 16;
	if (sig == (SIGTRAP | 0x80)) {
		if (t)
			on_exit_stop(t);
		resume(t, tid, 0);
	} else if (ev == PTRACE_EVENT_STOP) {
		/* a group-stop stays one (SIGCONT ends it); the other event
		 * stops (a new task's first) just go on */
		if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN ||
		    sig == SIGTTOU)
			ptrace(PTRACE_LISTEN, tid, 0, 0);
		else
			resume(t, tid, 0);
	} else if (ev) {
		on_event(tr, t, tid, ev);
		resume(t, tid, 0);
	} else {
		/* a signal for the program: delivered as it was sent */
		resume(t, tid, sig);
	}
	return true;
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
		child(exe, cmd, go, data, oint, oquit);
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
