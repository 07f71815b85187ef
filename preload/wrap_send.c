/* SPDX-License-Identifier: MIT */
/* Wrappers that send data: write, writev, send, sendto, sendmsg, sendfile. */
#define _GNU_SOURCE
#include <sys/sendfile.h>

#include "internal.h"

ST_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
	struct st__call c;

	if (!st__enter_fd(&c, fd))
		return REAL(write)(fd, buf, n);
	ssize_t ret = REAL(write)(fd, buf, n);
	int e = errno;
	st__data(&c, ST_CALL_write, ret, e, n, 0, NULL, 0);
	errno = e;
	return ret;
}

ST_EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	struct st__call c;

	if (!st__enter_fd(&c, fd))
		return REAL(writev)(fd, iov, cnt);
	ssize_t ret = REAL(writev)(fd, iov, cnt);
	int e = errno;
	st__data(&c, ST_CALL_writev, ret, e, st__iov_len(iov, cnt, ret, e), 0,
		 NULL, 0);
	errno = e;
	return ret;
}

ST_EXPORT ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	struct st__call c;

	if (!st__enter_fd(&c, fd))
		return REAL(send)(fd, buf, n, flags);
	ssize_t ret = REAL(send)(fd, buf, n, flags);
	int e = errno;
	st__data(&c, ST_CALL_send, ret, e, n, flags, NULL, 0);
	errno = e;
	return ret;
}

ST_EXPORT ssize_t sendto(int fd, const void *buf, size_t n, int flags,
			 const struct sockaddr *a, socklen_t l)
{
	struct st__call c;

	if (!st__enter_fd(&c, fd))
		return REAL(sendto)(fd, buf, n, flags, a, l);
	ssize_t ret = REAL(sendto)(fd, buf, n, flags, a, l);
	int e = errno;
	/* the kernel copied the address in if the call got that far */
	st__data(&c, ST_CALL_sendto, ret, e, n, flags, a,
		 st__args_unsafe(ret, e) ? 0 : l);
	errno = e;
	return ret;
}

ST_EXPORT ssize_t sendmsg(int fd, const struct msghdr *m, int flags)
{
	struct st__call c;

	if (!st__enter_fd(&c, fd))
		return REAL(sendmsg)(fd, m, flags);
	ssize_t ret = REAL(sendmsg)(fd, m, flags);
	int e = errno;
	bool ok = ret >= 0;
	st__data(&c, ST_CALL_sendmsg, ret, e,
		 ok ? st__iov_len(m->msg_iov, (int)m->msg_iovlen, ret, e) : 0,
		 flags, ok ? m->msg_name : NULL, ok ? m->msg_namelen : 0);
	errno = e;
	return ret;
}

static ssize_t do_sendfile(int out, int in, off_t *off, size_t n)
{
	struct st__call c;

	if (!st__enter_fd(&c, out))
		return REAL(sendfile)(out, in, off, n);
	ssize_t ret = REAL(sendfile)(out, in, off, n);
	int e = errno;
	st__data(&c, ST_CALL_sendfile, ret, e, n, 0, NULL, 0);
	errno = e;
	return ret;
}

ST_EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t n)
{
	return do_sendfile(out, in, off, n);
}

/* glibc's alias for sendfile with 64-bit offsets (the same on 64-bit). */
ST_EXPORT ssize_t sendfile64(int out, int in, off_t *off, size_t n)
{
	return do_sendfile(out, in, off, n);
}
