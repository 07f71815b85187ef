/* SPDX-License-Identifier: MIT */
/* Wrappers that receive data: read, readv, recv, recvfrom, recvmsg (+_chk). */
#define _GNU_SOURCE
#include <limits.h>

#include "internal.h"

/* Bytes an iovec array asks for; 0 when the kernel would not read it. */
uint64_t st__iov_len(const struct iovec *v, int n, ssize_t ret, int err)
{
	uint64_t sum = 0;

	if (st__args_unsafe(ret, err) || !v || n <= 0 || n > IOV_MAX)
		return 0;
	for (int i = 0; i < n; i++)
		sum += v[i].iov_len;
	return sum;
}

ST_EXPORT ssize_t read(int fd, void *buf, size_t n)
{
	struct st__call c;

	if (!st__enter_fd(&c, fd))
		return REAL(read)(fd, buf, n);
	ssize_t ret = REAL(read)(fd, buf, n);
	int e = errno;
	st__data(&c, ST_CALL_read, ret, e, n, 0, NULL, 0);
	errno = e;
	return ret;
}

ST_EXPORT ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	struct st__call c;

	if (!st__enter_fd(&c, fd))
		return REAL(__read_chk)(fd, buf, n, buflen);
	ssize_t ret = REAL(__read_chk)(fd, buf, n, buflen);
	int e = errno;
	st__data(&c, ST_CALL___read_chk, ret, e, n, 0, NULL, 0);
	errno = e;
	return ret;
}

ST_EXPORT ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	struct st__call c;

	if (!st__enter_fd(&c, fd))
		return REAL(readv)(fd, iov, cnt);
	ssize_t ret = REAL(readv)(fd, iov, cnt);
	int e = errno;
	st__data(&c, ST_CALL_readv, ret, e, st__iov_len(iov, cnt, ret, e), 0,
		 NULL, 0);
	errno = e;
	return ret;
}

ST_EXPORT ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	struct st__call c;

	if (!st__enter_fd(&c, fd))
		return REAL(recv)(fd, buf, n, flags);
	ssize_t ret = REAL(recv)(fd, buf, n, flags);
	int e = errno;
	st__data(&c, ST_CALL_recv, ret, e, n, flags, NULL, 0);
	errno = e;
	return ret;
}

ST_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen,
			     int flags)
{
	struct st__call c;

	if (!st__enter_fd(&c, fd))
		return REAL(__recv_chk)(fd, buf, n, buflen, flags);
	ssize_t ret = REAL(__recv_chk)(fd, buf, n, buflen, flags);
	int e = errno;
	st__data(&c, ST_CALL___recv_chk, ret, e, n, flags, NULL, 0);
	errno = e;
	return ret;
}

/* The sender's address, when the kernel filled the caller's buffer. */
static const struct sockaddr *from(struct sockaddr *a, socklen_t *l,
				   ssize_t ret, socklen_t *out)
{
	if (ret < 0 || !a || !l)
		return NULL;
	/* *l is the full length; the kernel wrote at most the buffer size,
	 * which it no longer tells, so only complete inet addresses count */
	*out = *l;
	return *l <= sizeof(struct sockaddr_in6) ? a : NULL;
}

ST_EXPORT ssize_t recvfrom(int fd, void *buf, size_t n, int flags,
			   struct sockaddr *a, socklen_t *l)
{
	struct st__call c;
	socklen_t al = 0;

	if (!st__enter_fd(&c, fd))
		return REAL(recvfrom)(fd, buf, n, flags, a, l);
	ssize_t ret = REAL(recvfrom)(fd, buf, n, flags, a, l);
	int e = errno;
	const struct sockaddr *sa = from(a, l, ret, &al);
	st__data(&c, ST_CALL_recvfrom, ret, e, n, flags, sa, al);
	errno = e;
	return ret;
}

ST_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen,
				 int flags, struct sockaddr *a, socklen_t *l)
{
	struct st__call c;
	socklen_t al = 0;

	if (!st__enter_fd(&c, fd))
		return REAL(__recvfrom_chk)(fd, buf, n, buflen, flags, a, l);
	ssize_t ret = REAL(__recvfrom_chk)(fd, buf, n, buflen, flags, a, l);
	int e = errno;
	const struct sockaddr *sa = from(a, l, ret, &al);
	st__data(&c, ST_CALL___recvfrom_chk, ret, e, n, flags, sa, al);
	errno = e;
	return ret;
}

ST_EXPORT ssize_t recvmsg(int fd, struct msghdr *m, int flags)
{
	struct st__call c;

	if (!st__enter_fd(&c, fd))
		return REAL(recvmsg)(fd, m, flags);
	ssize_t ret = REAL(recvmsg)(fd, m, flags);
	int e = errno;
	/* on success the kernel read m and wrote msg_namelen */
	bool ok = ret >= 0;
	st__data(&c, ST_CALL_recvmsg, ret, e,
		 ok ? st__iov_len(m->msg_iov, (int)m->msg_iovlen, ret, e) : 0,
		 flags, ok && m->msg_namelen <= sizeof(struct sockaddr_in6)
				 ? m->msg_name
				 : NULL,
		 ok ? m->msg_namelen : 0);
	errno = e;
	return ret;
}
