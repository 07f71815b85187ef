/* SPDX-License-Identifier: MIT */
/* The ptrace + seccomp mode: traced processes, tasks and their calls. */
#ifndef ST_VIEWER_PTRACE_H
#define ST_VIEWER_PTRACE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ptrace_file.h"

/*
 * Runs EXE as CMD (argv) with a seccomp filter that stops it at each
 * socket lifecycle call, traced with ptrace (it and every thread and
 * child), writing one trace file per process into DIR.  The child gets
 * back the dispositions OINT and OQUIT of SIGINT and SIGQUIT.  DATA
 * (--data): the filter stops at the data calls too.  Returns
 * CMD's exit status as a shell reports it (128 + signal), or -1 after
 * saying on stderr that it could not be started.
 */
int st_ptrace_run(const char *exe, char **cmd, const char *dir, bool data,
		  const struct sigaction *oint, const struct sigaction *oquit);

/*
 * Traces running process PID (its threads, and with CHILDREN what it
 * forks) with PTRACE_SYSCALL, writing one trace file per process into
 * DIR, until SIGTERM (or SIGINT, SIGHUP) comes or it has exited; then
 * lets it go, running on as before.  Its file is made (with a seen
 * record per socket it has open) before READY gets a line: empty when
 * tracing began, else why not.  Returns 0, or 1 if it could not begin.
 * Run by a process of its own: the one that seizes must wait.
 */
int st_ptrace_attach(pid_t pid, const char *dir, bool children, int ready);

/*
 * attach's side: starts a tracer process (st_ptrace_attach) for running
 * process PID (executable EXE), whose calls the library cannot see
 * (WHY), writing into DIR (made if missing).  Says so on stderr, or why
 * it cannot (CMD names the command); returns the tracer's pid, or -1.
 */
pid_t st_ptrace_follow(const char *cmd, pid_t pid, const char *exe,
		       const char *why, const char *dir, bool children);
/* The first file in DIR our tracer made for PID since SINCE
 * (CLOCK_MONOTONIC ns) into PATH; false if none. */
bool st_ptrace_file(const char *dir, pid_t pid, uint64_t since, char *path,
		    size_t len);

/* The program's side of st_ptrace_run, in its forked child: waits for
 * a byte on GO[0] (the parent has seized it), installs the filter (the
 * data calls too with DATA), puts back SIGINT and SIGQUIT as OINT and
 * OQUIT, and execs EXE as CMD.  Never returns. */
_Noreturn void st_ptrace_child(const char *exe, char **cmd, int go[2],
			       bool data, const struct sigaction *oint,
			       const struct sigaction *oquit);
/* Does the filter stop at call NR (its second argument CMD: fcntl's
 * command)?  Attach records these calls, and lets the others go. */
bool st_ptrace_lifecycle(long nr, unsigned long cmd);

/* Why the program in file PATH cannot run in this mode (setuid,
 * setgid or file capabilities: NO_NEW_PRIVS would run it without its
 * privileges), or NULL. */
const char *st_ptrace_refuse(const char *path);

/* What the tracer knows of one fd of a traced process. */
enum { ST_PFD_NONE, ST_PFD_SOCK, ST_PFD_UNSEEN };
struct st_pfd {
	uint64_t conn;
	uint16_t sock; /* ST_SOCK_* as records carry it */
	uint8_t state; /* ST_PFD_*: UNSEEN is a socket the process had
			* before its calls were seen (inherited, exec) */
};

/* A traced process (thread group). */
struct st_pproc {
	pid_t pid, ppid;
	int pidfd;	      /* pidfd_open(pid): its fds are copied by it */
	struct st_pfile file; /* made at its first record */
	bool file_tried;
	bool exit_done; /* its exit_close records are written */
	bool data;	/* --data: its data calls are recorded */
	struct st_pfd *fds;
	int nfds;
	uint32_t nconn;		   /* connection ids made so far */
	struct st_ptask **closers; /* its tasks with sockets in closing */
	int nclosers;
	int tasks; /* its threads being traced */
	const char *dir;
	struct st_pproc *next;
};

/* A socket a close or close_range takes, held through the call. */
struct st_pclosing {
	int fd;
	struct st_pfd f;
	int copy; /* the tracer's copy (pidfd_getfd), -1 if none */
};

/* A traced thread, and the call it is in between its stops. */
struct st_ptask {
	pid_t tid;
	struct st_pproc *p;
	bool in_call;	     /* resumed to the call's exit stop */
	long nr;	     /* the call (SYS_*) */
	unsigned long a[6];  /* its arguments */
	uint64_t ts;	     /* CLOCK_MONOTONIC ns at its seccomp stop */
	uint64_t let_go;     /* ns when that stop was let go */
	struct st_pfd f;     /* its fd's entry at the entry stop */
	uint64_t replaced;   /* dup2/dup3: the socket newfd held */
	struct st_addr addr; /* bind, connect: the address given */
	uint32_t qlen, qmax; /* accept: the listener's queue before */
	bool qok;
	struct st_pclosing *closing; /* close, close_range */
	int nclosing;
	struct st_ptask *next;
};

/* At task T's seccomp stop (its regs read into T->nr, T->a, T->ts):
 * what is needed before the call; true when its exit must be seen. */
bool st_pcall_enter(struct st_ptask *t);
/* At task T's exit stop, the call returned RET (raw: -errno): writes
 * its records. */
void st_pcall_exit(struct st_ptask *t, long ret);
/* --data: is NR one of the data calls the filter stops at? */
bool st_pdata_call(long nr);
/* Fills data record R of task TID's call NR (arguments A) that
 * returned RET (raw: -errno): its kind and payload (ptrace_data.c). */
void st_pdata_record(struct st_rec *r, pid_t tid, long nr,
		     const unsigned long *a, long ret);
/* Task T's call will not reach its exit stop as one (restarted, or T
 * is gone): lets go of the sockets it held, unrecorded. */
void st_pcall_abort(struct st_ptask *t);
/* Marks process P's open sockets, found in /proc, as not yet seen:
 * after the first exec and after each exec (a new image). */
void st_pproc_scan(struct st_pproc *p);
/* Process P (task TID) was attached to: a seen record (found at
 * attach) per socket it has open, and its file made even without one. */
void st_pproc_attach(struct st_pproc *p, pid_t tid);
/* Process P (task TID) is exiting with its fds still open: an
 * exit_close record of each TCP socket it holds, as the preload writes
 * at exit. */
void st_pproc_exit(struct st_pproc *p, pid_t tid);
/* Writes the fork record of P's child CHILD (when P has a file). */
void st_pproc_fork(struct st_pproc *p, pid_t tid, pid_t child);

#endif
