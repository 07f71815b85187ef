/* SPDX-License-Identifier: MIT */
/* Wrappers that copy fds: dup, dup2, dup3, fcntl(F_DUPFD*). */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>

#include "internal.h"

/*
 * A copy shares the socket, so the new fd gets the same table word (same
 * connection id).  dup2/dup3 onto an open socket closes that socket's fd:
 * the record names the connection that lost it in replaced_conn.
 */
static int finish(struct st__call *c, enum st_call call, int ret, int e,
		  int cmd, uint64_t replaced)
{
	if (ret >= 0)
		st__fd_set(ret, c->word);
	if (st__fd_state(c->word) != ST_FD_SOCK && !replaced)
		return ret;
	struct st_rec *r = st__rec(c, call, ret, e);
	if (r) {
		r->u.dup.cmd = cmd;
		r->u.dup.new_fd = ret;
		r->u.dup.replaced_conn = replaced;
		st__publish(c, r);
	}
	return ret;
}

/* Table word of FD for copying: a socket's word, or "not a socket". */
static bool enter(struct st__call *c, int fd)
{
	if (st__enter_fd(c, fd))
		return true;
	c->word = ST_FD_NOTSOCK;
	c->fd = fd;
	c->ts = st__now();
	return false;
}

ST_EXPORT int dup(int fd)
{
	struct st__call c;

	if (!st__on())
		return REAL(dup)(fd);
	enter(&c, fd);
	int ret = REAL(dup)(fd);
	int e = errno;
	finish(&c, ST_CALL_dup, ret, e, 0, 0);
	errno = e;
	return ret;
}

static int do_dup3(enum st_call call, int fd, int nfd, int flags)
{
	struct st__call c;

	if (!st__on())
		return call == ST_CALL_dup2 ? REAL(dup2)(fd, nfd)
					    : REAL(dup3)(fd, nfd, flags);
	enter(&c, fd);
	uint64_t old = fd != nfd ? st__fd_get(nfd) : 0;
	uint64_t replaced = st__fd_state(old) == ST_FD_SOCK ? old : 0;
	int ret = call == ST_CALL_dup2 ? REAL(dup2)(fd, nfd)
				       : REAL(dup3)(fd, nfd, flags);
	int e = errno;
	if (ret < 0)
		replaced = 0; /* nothing was closed */
	finish(&c, call, ret, e, flags, st__fd_conn(replaced));
	errno = e;
	return ret;
}

ST_EXPORT int dup2(int fd, int nfd)
{
	return do_dup3(ST_CALL_dup2, fd, nfd, 0);
}

ST_EXPORT int dup3(int fd, int nfd, int flags)
{
	return do_dup3(ST_CALL_dup3, fd, nfd, flags);
}

/*
 * Every command takes an int, a long or a pointer, all passed in one
 * integer register on the ABIs we build for, so one long carries them.
 */
static int do_fcntl(int fd, int cmd, long arg)
{
	struct st__call c;

	if ((cmd != F_DUPFD && cmd != F_DUPFD_CLOEXEC) || !st__on())
		return REAL(fcntl)(fd, cmd, arg);
	enter(&c, fd);
	int ret = REAL(fcntl)(fd, cmd, arg);
	int e = errno;
	finish(&c, ST_CALL_fcntl, ret, e, cmd, 0);
	errno = e;
	return ret;
}

ST_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;

	va_start(ap, cmd);
	long arg = va_arg(ap, long);
	va_end(ap);
	return do_fcntl(fd, cmd, arg);
}

ST_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;

	va_start(ap, cmd);
	long arg = va_arg(ap, long);
	va_end(ap);
	return do_fcntl(fd, cmd, arg);
}
