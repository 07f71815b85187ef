/* SPDX-License-Identifier: MIT */
/* Wrapper for getsockopt: SO_ERROR completes a non-blocking connect. */
#define _GNU_SOURCE
#include "internal.h"

ST_EXPORT int getsockopt(int fd, int level, int name, void *val,
			 socklen_t *len)
{
	struct st__call c;

	/* only SO_ERROR says something about the connection's life */
	if (level != SOL_SOCKET || name != SO_ERROR || !st__enter_fd(&c, fd))
		return REAL(getsockopt)(fd, level, name, val, len);
	int ret = REAL(getsockopt)(fd, level, name, val, len);
	int e = errno;
	struct st_rec *r = st__rec(&c, ST_CALL_getsockopt, ret, e);
	if (r) {
		r->u.sockopt.level = level;
		r->u.sockopt.optname = name;
		/* written by the kernel, so readable, when it succeeded */
		if (ret == 0 && *len >= sizeof(int))
			r->u.sockopt.value = *(int *)val;
		st__publish(&c, r);
	}
	errno = e;
	return ret;
}
