/* SPDX-License-Identifier: MIT */
/* Wrappers that copy fds (dup, dup2, dup3, fcntl(F_DUPFD*)), and
 * fcntl(F_SETFL), which can make a socket non-blocking. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>

#include "wrap.h"

/*
 * A copy shares the socket, so the new fd gets the same table word (same
 * connection id), and a copy of a non-socket is marked as one.  So every
 * copy is traced while tracing is on, and recorded when it is of a socket
 * or replaced one.
 */

/* Starts C for copying FD: a socket's word, or "not a socket"; false
 * (pass the call through) only when not tracing. */
static inline bool enter(struct st__call *c, int fd)
{
	if (!st__on())
		return false;
	if (!st__enter_fd(c, fd)) {
		c->word = ST_FD_NOTSOCK;
		c->fd = fd;
		c->ts = st__now();
	}
	return true;
}

/* As enter, for dup2/dup3 onto NFD: *OLD is NFD's word if it is another
 * socket, whose fd the call will close, else 0. */
static inline bool enter_onto(struct st__call *c, int fd, int nfd,
			      uint64_t *old)
{
	if (!enter(c, fd))
		return false;
	uint64_t w = fd != nfd ? st__fd_get(nfd) : 0;
	*old = st__fd_state(w) == ST_FD_SOCK ? w : 0;
	return true;
}

/*
 * The copy RET gets the word of the fd copied.  dup2/dup3 onto an open
 * socket closes that socket's fd: the record names the connection that
 * lost it, OLD's, in replaced_conn (none if the call failed).
 */
static void finish(struct st__call *c, enum st_call call, int ret, int e,
		   int cmd, uint64_t old)
{
	uint64_t replaced = ret < 0 ? 0 : st__fd_conn(old);

	if (ret >= 0)
		st__fd_set(ret, c->word);
	if (st__fd_state(c->word) != ST_FD_SOCK && !replaced)
		return;
	struct st_rec *r = st__rec(c, call, ret, e);
	if (r) {
		r->u.dup.cmd = cmd;
		r->u.dup.new_fd = ret;
		r->u.dup.replaced_conn = replaced;
		st__publish(c, r);
	}
}

/* dup(2): the copy shares the socket's connection. */
ST_EXPORT(dup) int dup(int fd)
{
	ST_WRAP(enter(&c, fd), dup, (fd),
		finish(&c, ST_CALL_dup, ret, e, 0, 0));
}

/* dup2(2): as dup, and an open socket at NFD loses that fd. */
ST_EXPORT(dup2) int dup2(int fd, int nfd)
{
	uint64_t old;

	ST_WRAP(enter_onto(&c, fd, nfd, &old), dup2, (fd, nfd),
		finish(&c, ST_CALL_dup2, ret, e, 0, old));
}

/* dup3(2), as dup2. */
ST_EXPORT(dup3) int dup3(int fd, int nfd, int flags)
{
	uint64_t old;

	ST_WRAP(enter_onto(&c, fd, nfd, &old), dup3, (fd, nfd, flags),
		finish(&c, ST_CALL_dup3, ret, e, flags, old));
}

/* fcntl(F_SETFL, FLAGS) on a socket: the file status flags (O_NONBLOCK
 * among them) in u.dup.arg; whether they changed is the viewer's to see,
 * as asking the old flags would cost a system call. */
static void rec_setfl(struct st__call *c, int ret, int e, long flags)
{
	struct st_rec *r = st__rec(c, ST_CALL_fcntl, ret, e);

	if (!r)
		return;
	r->u.dup.cmd = F_SETFL;
	r->u.dup.new_fd = -1;
	r->u.dup.arg = (int32_t)flags;
	st__publish(c, r);
}

/* Starts tracing fcntl CMD on FD: the copies, and F_SETFL on sockets. */
static inline bool enter_fcntl(struct st__call *c, int fd, int cmd)
{
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
		return enter(c, fd);
	return cmd == F_SETFL && st__enter_fd(c, fd);
}

/*
 * fcntl(2); F_DUPFD and F_DUPFD_CLOEXEC, which copy FD, are recorded as
 * dup is, F_SETFL on a socket with its flags; other commands are passed
 * through.  Every command takes an int, a long or a pointer, all passed
 * in one integer register on the ABIs we build for, so one long carries
 * them.
 */
ST_EXPORT(fcntl) int fcntl(int fd, int cmd, ...)
{
	va_list ap;

	va_start(ap, cmd);
	long arg = va_arg(ap, long);
	va_end(ap);
	ST_WRAP(enter_fcntl(&c, fd, cmd), fcntl, (fd, cmd, arg),
		cmd == F_SETFL ? rec_setfl(&c, ret, e, arg)
			       : finish(&c, ST_CALL_fcntl, ret, e, cmd, 0));
}

/* glibc's name for fcntl with 64-bit locks (the same on 64-bit). */
ST_ALIAS(fcntl64, fcntl);

/* syscall(SYS_dup, fd), as dup. */
ST_SYSCALL(dup)
{
	ST_WRAP(enter(&c, (int)a[0]), syscall, ST_SC_ARGS,
		finish(&c, ST_CALL_dup, ret, e, 0, 0));
}

#ifdef SYS_dup2
/* syscall(SYS_dup2, fd, nfd), as dup2. */
ST_SYSCALL(dup2)
{
	uint64_t old;

	ST_WRAP(enter_onto(&c, (int)a[0], (int)a[1], &old), syscall, ST_SC_ARGS,
		finish(&c, ST_CALL_dup2, ret, e, 0, old));
}
#endif

/* syscall(SYS_dup3, fd, nfd, flags), as dup3. */
ST_SYSCALL(dup3)
{
	uint64_t old;

	ST_WRAP(enter_onto(&c, (int)a[0], (int)a[1], &old), syscall, ST_SC_ARGS,
		finish(&c, ST_CALL_dup3, ret, e, (int)a[2], old));
}

/* syscall(SYS_fcntl, fd, cmd, arg): F_DUPFD* traced, as fcntl. */
ST_SYSCALL(fcntl)
{
	int cmd = (int)a[1];

	ST_WRAP((cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) &&
			enter(&c, (int)a[0]),
		syscall, ST_SC_ARGS, finish(&c, ST_CALL_fcntl, ret, e, cmd, 0));
}
