/* SPDX-License-Identifier: MIT */
/* Wrapper for shutdown: a half or full close without releasing the fd. */
#define _GNU_SOURCE
#include "internal.h"

ST_EXPORT int shutdown(int fd, int how)
{
	struct st__call c;

	if (!st__enter_fd(&c, fd))
		return REAL(shutdown)(fd, how);
	int ret = REAL(shutdown)(fd, how);
	int e = errno;
	struct st_rec *r = st__rec(&c, ST_CALL_shutdown, ret, e);
	if (r) {
		r->u.how.how = how;
		st__publish(&c, r);
	}
	errno = e;
	return ret;
}
