/* SPDX-License-Identifier: MIT */
/* Wrappers that send data: write(v), send(to), send(m)msg, sendfile. */
#define _GNU_SOURCE
#include <sys/sendfile.h>

#include "wrap.h"

/* write(2), recorded as a data call: N bytes offered. */
ST_EXPORT(write) ssize_t write(int fd, const void *buf, size_t n)
{
	ST_WRAP_DATA(write, fd, (fd, buf, n), n, 0);
}

/* writev(2): the bytes of all its buffers offered. */
ST_EXPORT(writev) ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	ST_WRAP_DATA(writev, fd, (fd, iov, cnt), st__iov_len(iov, cnt, ret, e),
		     0);
}

/* send(2): N bytes offered, with FLAGS. */
ST_EXPORT(send) ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	ST_WRAP_DATA(send, fd, (fd, buf, n, flags), n, flags);
}

/* sendto(2): N bytes offered, and where to (the kernel copied the
 * address in if the call got that far). */
ST_EXPORT(sendto)
ssize_t sendto(int fd, const void *buf, size_t n, int flags,
	       const struct sockaddr *a, socklen_t l)
{
	ST_WRAP(st__enter_fd(&c, fd), sendto, (fd, buf, n, flags, a, l),
		st__data(&c, ST_CALL_sendto, ret, e, n, flags, a,
			 st__args_unsafe(ret, e) ? 0 : l));
}

/* Records sendmsg: on success the kernel read all of M. */
static inline void rec_sendmsg(struct st__call *c, ssize_t ret, int e,
			       const struct msghdr *m, int flags)
{
	bool ok = ret >= 0;

	st__data(c, ST_CALL_sendmsg, ret, e,
		 ok ? st__iov_len(m->msg_iov, (int)m->msg_iovlen, ret, e) : 0,
		 flags, ok ? m->msg_name : NULL, ok ? m->msg_namelen : 0);
}

/* sendmsg(2): the bytes of all its buffers offered, and where to. */
ST_EXPORT(sendmsg) ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
	ST_WRAP(st__enter_fd(&c, fd), sendmsg, (fd, m, flags),
		rec_sendmsg(&c, ret, e, m, flags));
}

/* sendmmsg(2): the messages sent and their bytes (msg_len). */
ST_EXPORT(sendmmsg)
int sendmmsg(int fd, struct mmsghdr *v, unsigned n, st_mmsg_flags flags)
{
	ST_WRAP(st__enter_fd(&c, fd), sendmmsg, (fd, v, n, flags),
		st__mmsg(&c, ST_CALL_sendmmsg, ret, e, v, n, flags));
}

/* sendfile(2) on a socket OUT: N bytes offered. */
ST_EXPORT(sendfile) ssize_t sendfile(int out, int in, off_t *off, size_t n)
{
	ST_WRAP_DATA(sendfile, out, (out, in, off, n), n, 0);
}

/* glibc's name for sendfile with 64-bit offsets (the same on 64-bit). */
ST_ALIAS(sendfile64, sendfile);

/* syscall(SYS_write, ...), as write. */
ST_SYSCALL(write)
{
	ST_WRAP_SC_DATA(write, (size_t)a[2], 0);
}

/* syscall(SYS_writev, ...), as writev. */
ST_SYSCALL(writev)
{
	ST_WRAP_SC_DATA(
		writev,
		st__iov_len((const struct iovec *)a[1], (int)a[2], ret, e), 0);
}

/* syscall(SYS_sendto, ...), as sendto. */
ST_SYSCALL(sendto)
{
	ST_WRAP(st__enter_fd(&c, (int)a[0]), syscall, ST_SC_ARGS,
		st__data(&c, ST_CALL_sendto, ret, e, (size_t)a[2], (int)a[3],
			 (const struct sockaddr *)a[4],
			 st__args_unsafe(ret, e) ? 0 : (socklen_t)a[5]));
}

/* syscall(SYS_sendmsg, ...), as sendmsg. */
ST_SYSCALL(sendmsg)
{
	ST_WRAP(st__enter_fd(&c, (int)a[0]), syscall, ST_SC_ARGS,
		rec_sendmsg(&c, ret, e, (const struct msghdr *)a[1],
			    (int)a[2]));
}

/* syscall(SYS_sendfile, out, in, off, n), as sendfile. */
ST_SYSCALL(sendfile)
{
	ST_WRAP_SC_DATA(sendfile, (size_t)a[3], 0);
}

/* syscall(SYS_sendmmsg, fd, v, n, flags), as sendmmsg. */
ST_SYSCALL(sendmmsg)
{
	ST_WRAP(st__enter_fd(&c, (int)a[0]), syscall, ST_SC_ARGS,
		st__mmsg(&c, ST_CALL_sendmmsg, (int)ret, e,
			 (const struct mmsghdr *)a[1], (unsigned)a[2],
			 (int)a[3]));
}
