/* SPDX-License-Identifier: MIT */
/* Wrapper for bind: the address a socket is given. */
#define _GNU_SOURCE
#include "internal.h"

ST_EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct st__call c;

	if (!st__enter_fd(&c, fd))
		return REAL(bind)(fd, addr, len);
	int ret = REAL(bind)(fd, addr, len);
	int e = errno;
	struct st_rec *r = st__rec(&c, ST_CALL_bind, ret, e);
	if (r) {
		if (!st__args_unsafe(ret, e))
			st__addr_set(&r->u.addr.addr, addr, len);
		st__publish(&c, r);
	}
	errno = e;
	return ret;
}
