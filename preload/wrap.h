/* SPDX-License-Identifier: MIT */
/* The shape every wrapper has, and what the wrapper families share. */
#ifndef ST_PRELOAD_WRAP_H
#define ST_PRELOAD_WRAP_H

#include <limits.h>

#include "clock.h"
#include "exports.h"
#include "fdtab.h"
#include "init.h"
#include "real.h"
#include "record.h"
#include "state.h"
#include "writer.h"

/* Wrapped names the headers we include may not declare: the fortified
 * entry points, and glibc 2.34's close_range and closefrom. */
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
		       struct sockaddr *a, socklen_t *l);
int close_range(unsigned first, unsigned last, int flags);
void closefrom(int lowfd);

/*
 * A traced call begins with one of the st__enter*() below: each takes the
 * start time and keeps errno as the program left it, or says to pass the
 * call through.  st__rec() then reserves the record and st__publish()
 * makes it visible (writer.c).
 */

/* Starts tracing a call on FD if FD is a socket; false: pass it through. */
static inline bool st__enter_fd(struct st__call *c, int fd)
{
	if (!st__on())
		return false;
	uint64_t w = st__fd_get(fd);
	if (unlikely(st__fd_state(w) != ST_FD_SOCK)) {
		if (st__fd_state(w) == ST_FD_NOTSOCK)
			return false;
		int e = errno;
		w = st__fd_seen(fd, 0);
		errno = e;
		if (st__fd_state(w) != ST_FD_SOCK)
			return false;
	}
	c->word = w;
	c->fd = fd;
	c->ts = st__now();
	return true;
}

/*
 * Like st__enter_fd for calls that end an fd (close): only fds known to
 * be sockets are traced.  An fd never seen used is not worth an fstat()
 * just before it goes away.
 */
static inline bool st__enter_known(struct st__call *c, int fd)
{
	if (!st__on())
		return false;
	uint64_t w = st__fd_get(fd);
	if (st__fd_state(w) != ST_FD_SOCK)
		return false;
	c->word = w;
	c->fd = fd;
	c->ts = st__now();
	return true;
}

/* Starts tracing a call that is not on an existing socket (socket()). */
static inline bool st__enter(struct st__call *c)
{
	if (!st__on())
		return false;
	c->word = 0;
	c->fd = -1;
	c->ts = st__now();
	return true;
}

/*
 * The body of every wrapper (STYLE.md rule 5): call the real function,
 * save errno, record, restore errno, return the real result.
 *
 * It declares c, the call (struct st__call).  TRACED is an expression
 * that starts c, usually st__enter_fd(&c, fd); when it is false the real
 * function NAME is called with ARGS (in parentheses) and its result
 * returned, nothing else done.  Otherwise the real function's result is
 * kept in ret and its errno in e, then RECORD, one expression that may
 * use c, ret and e, writes the record (a static inline helper of the
 * family, or st__data), and errno is put back before ret is returned.
 * A macro, so that no call or branch is added to the wrapper.
 */
#define ST_WRAP(traced, name, args, record)                   \
	struct st__call c;                                    \
	if (!(traced))                                        \
		return REAL(name) args;                       \
	__typeof__(st__real.name args) ret = REAL(name) args; \
	int e = errno;                                        \
	record;                                               \
	errno = e;                                            \
	return ret

/*
 * Data calls (wrap_recv.c, wrap_send.c).
 */

/* The body of a data wrapper on FD that records ASKED bytes and FLAGS
 * (expressions that may use ret and e) and no address, as the record
 * kind of its own name (ST_CALL_<NAME>). */
#define ST_WRAP_DATA(name, fd, args, asked, flags) \
	ST_WRAP(st__enter_fd(&c, fd), name, args,  \
		st__data(&c, ST_CALL_##name, ret, e, asked, flags, NULL, 0))

/* Errors after which the kernel never read the caller's buffers. */
static inline bool st__args_unsafe(int64_t ret, int err)
{
	return ret < 0 && (err == EFAULT || err == EINVAL || err == EBADF ||
			   err == ENOTSOCK);
}

/* Bytes an iovec array asks for; 0 when the kernel would not read it. */
static inline uint64_t st__iov_len(const struct iovec *v, int n, ssize_t ret,
				   int err)
{
	uint64_t sum = 0;

	if (st__args_unsafe(ret, err) || !v || n <= 0 || n > IOV_MAX)
		return 0;
	for (int i = 0; i < n; i++)
		sum += v[i].iov_len;
	return sum;
}

#endif
