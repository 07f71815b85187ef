/* SPDX-License-Identifier: MIT */
/* Wrapper for connect: the address connected to and the local end it got. */
#define _GNU_SOURCE
#include "internal.h"

ST_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct st__call c;

	if (!st__enter_fd(&c, fd))
		return REAL(connect)(fd, addr, len);
	int ret = REAL(connect)(fd, addr, len);
	int e = errno;
	struct st_rec *r = st__rec(&c, ST_CALL_connect, ret, e);
	if (r) {
		if (!st__args_unsafe(ret, e))
			st__addr_set(&r->u.connect.addr, addr, len);
		/* the local address joins this end to the peer's accept;
		 * a non-blocking connect has it already while in progress */
		if (ret == 0 || e == EINPROGRESS)
			st__addr_local(&r->u.connect.local, fd);
		st__publish(&c, r);
	}
	errno = e;
	return ret;
}
