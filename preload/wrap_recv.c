/* SPDX-License-Identifier: MIT */
/* Wrappers that receive data: read(v), recv, recvfrom, recv(m)msg (+_chk). */
#define _GNU_SOURCE
#include "wrap.h"

/* the viewer tells a peek from a read by the recorded flags */
_Static_assert(MSG_PEEK == ST_MSG_PEEK, "MSG_PEEK as the format names it");

/* read(2), recorded as a data call: N bytes asked for. */
ST_EXPORT(read) ssize_t read(int fd, void *buf, size_t n)
{
	ST_WRAP_DATA(read, fd, (fd, buf, n), n, 0);
}

/* The fortified read(2) (-D_FORTIFY_SOURCE), recorded as itself. */
ST_EXPORT(__read_chk)
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	ST_WRAP_DATA(__read_chk, fd, (fd, buf, n, buflen), n, 0);
}

/* readv(2): the bytes of all its buffers asked for. */
ST_EXPORT(readv) ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	ST_WRAP_DATA(readv, fd, (fd, iov, cnt), st__iov_len(iov, cnt, ret, e),
		     0);
}

/* recv(2): N bytes asked for, with FLAGS. */
ST_EXPORT(recv) ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	ST_WRAP_DATA(recv, fd, (fd, buf, n, flags), n, flags);
}

/* The fortified recv(2), recorded as itself. */
ST_EXPORT(__recv_chk)
ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
	ST_WRAP_DATA(__recv_chk, fd, (fd, buf, n, buflen, flags), n, flags);
}

/*
 * Records a recvfrom-like call with the sender's address, when the
 * kernel filled the caller's buffer A: *L is then the full length, but
 * the kernel wrote at most the buffer's size, which it no longer tells,
 * so only complete inet addresses count.
 */
static inline void rec_from(struct st__call *c, enum st_call call, ssize_t ret,
			    int e, size_t n, int flags,
			    const struct sockaddr *a, const socklen_t *l)
{
	bool ok = ret >= 0 && a && l && *l <= sizeof(struct sockaddr_in6);

	st__data(c, call, ret, e, n, flags, ok ? a : NULL, ok ? *l : 0);
}

/* recvfrom(2): N bytes asked for, and who sent them. */
ST_EXPORT(recvfrom)
ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *a,
		 socklen_t *l)
{
	ST_WRAP(st__enter_fd(&c, fd), recvfrom, (fd, buf, n, flags, a, l),
		rec_from(&c, ST_CALL_recvfrom, ret, e, n, flags, a, l));
}

/* The fortified recvfrom(2), recorded as itself. */
ST_EXPORT(__recvfrom_chk)
ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
		       struct sockaddr *a, socklen_t *l)
{
	ST_WRAP(st__enter_fd(&c, fd), __recvfrom_chk,
		(fd, buf, n, buflen, flags, a, l),
		rec_from(&c, ST_CALL___recvfrom_chk, ret, e, n, flags, a, l));
}

/* Records recvmsg: on success the kernel read M and wrote msg_namelen. */
static inline void rec_recvmsg(struct st__call *c, ssize_t ret, int e,
			       const struct msghdr *m, int flags)
{
	bool ok = ret >= 0;
	uint64_t asked =
		ok ? st__iov_len(m->msg_iov, (int)m->msg_iovlen, ret, e) : 0;
	bool named = ok && m->msg_namelen <= sizeof(struct sockaddr_in6);

	st__data(c, ST_CALL_recvmsg, ret, e, asked, flags,
		 named ? m->msg_name : NULL, ok ? m->msg_namelen : 0);
}

/* recvmsg(2): the bytes of all its buffers asked for, and the sender. */
ST_EXPORT(recvmsg) ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
	ST_WRAP(st__enter_fd(&c, fd), recvmsg, (fd, m, flags),
		rec_recvmsg(&c, ret, e, m, flags));
}

/* recvmmsg(2): the messages received and their bytes (msg_len). */
ST_EXPORT(recvmmsg)
int recvmmsg(int fd, struct mmsghdr *v, unsigned n, st_mmsg_flags flags,
	     struct timespec *t)
{
	ST_WRAP(st__enter_fd(&c, fd), recvmmsg, (fd, v, n, flags, t),
		st__mmsg(&c, ST_CALL_recvmmsg, ret, e, v, n, flags));
}

/* syscall(SYS_read, ...), as read. */
ST_SYSCALL(read)
{
	ST_WRAP_SC_DATA(read, (size_t)a[2], 0);
}

/* syscall(SYS_readv, ...), as readv. */
ST_SYSCALL(readv)
{
	ST_WRAP_SC_DATA(
		readv,
		st__iov_len((const struct iovec *)a[1], (int)a[2], ret, e), 0);
}

/* syscall(SYS_recvfrom, ...), as recvfrom. */
ST_SYSCALL(recvfrom)
{
	ST_WRAP(st__enter_fd(&c, (int)a[0]), syscall, ST_SC_ARGS,
		rec_from(&c, ST_CALL_recvfrom, ret, e, (size_t)a[2], (int)a[3],
			 (const struct sockaddr *)a[4],
			 (const socklen_t *)a[5]));
}

/* syscall(SYS_recvmsg, ...), as recvmsg. */
ST_SYSCALL(recvmsg)
{
	ST_WRAP(st__enter_fd(&c, (int)a[0]), syscall, ST_SC_ARGS,
		rec_recvmsg(&c, ret, e, (const struct msghdr *)a[1],
			    (int)a[2]));
}

/* syscall(SYS_recvmmsg, fd, v, n, flags, timeout), as recvmmsg. */
ST_SYSCALL(recvmmsg)
{
	ST_WRAP(st__enter_fd(&c, (int)a[0]), syscall, ST_SC_ARGS,
		st__mmsg(&c, ST_CALL_recvmmsg, (int)ret, e,
			 (const struct mmsghdr *)a[1], (unsigned)a[2],
			 (int)a[3]));
}
