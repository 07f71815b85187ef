/* SPDX-License-Identifier: MIT */
/* The shape every wrapper has, and what the wrapper families share. */
#ifndef ST_PRELOAD_WRAP_H
#define ST_PRELOAD_WRAP_H

#include <limits.h>
#include <sys/syscall.h>

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
 * The body of every wrapper (HACKING.md, house style): call the real function,
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
 * Socket system calls made through syscall(3) (wrap_syscall.c), as libuv
 * makes close.  Each is recorded exactly as the libc function of the
 * same name is, by an entry its family defines next to that function:
 * ST_SYSCALL(name) { ... } is long st__sc_NAME(long nr, const long *a),
 * A the six argument words syscall() read, and its body an ST_WRAP whose
 * real function is syscall itself, called with ST_SC_ARGS: the program's
 * own arguments, so that what the kernel sees is what it asked for.
 */
#ifdef SYS_dup2 /* not on aarch64 */
#define ST__SC_DUP2(X) X(dup2)
#else
#define ST__SC_DUP2(X)
#endif
/* clang-format off */
#define ST_SYSCALL_TABLE(X)						\
	X(socket) X(socketpair) X(bind) X(connect) X(listen)		\
	X(accept) X(accept4) X(getsockopt) X(setsockopt) X(shutdown)	\
	X(close) X(close_range)						\
	X(read) X(readv) X(recvfrom) X(recvmsg)				\
	X(write) X(writev) X(sendto) X(sendmsg) X(sendfile)		\
	X(dup) ST__SC_DUP2(X) X(dup3) X(fcntl)				\
	X(sendmmsg) X(recvmmsg) X(seccomp)
/* clang-format on */
#define ST_SYSCALL(name)  long st__sc_##name(long nr, const long *a)
#define ST__SC_DECL(name) ST_SYSCALL(name);
ST_SYSCALL_TABLE(ST__SC_DECL)
#undef ST__SC_DECL
#define ST_SC_ARGS (nr, a[0], a[1], a[2], a[3], a[4], a[5])

/*
 * Data calls (wrap_recv.c, wrap_send.c).
 */

/* The body of a data wrapper on FD that records ASKED bytes and FLAGS
 * (expressions that may use ret and e) and no address, as the record
 * kind of its own name (ST_CALL_<NAME>). */
#define ST_WRAP_DATA(name, fd, args, asked, flags) \
	ST_WRAP(st__enter_fd(&c, fd), name, args,  \
		st__data(&c, ST_CALL_##name, ret, e, asked, flags, NULL, 0))

/* ST_WRAP_DATA for the syscall(3) entry of NAME (ST_SYSCALL): the fd is
 * the first argument word. */
#define ST_WRAP_SC_DATA(name, asked, flags)                       \
	ST_WRAP(st__enter_fd(&c, (int)a[0]), syscall, ST_SC_ARGS, \
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

/* musl: the exported *64 names are ours, not its macros (base.h) */
#ifndef __GLIBC__
#undef sendfile64
#undef fcntl64
#undef setrlimit64
#undef prlimit64
#endif

#endif
