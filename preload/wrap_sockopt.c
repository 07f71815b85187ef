/* SPDX-License-Identifier: MIT */
/* Wrapper for getsockopt: SO_ERROR completes a non-blocking connect. */
#define _GNU_SOURCE
#include "wrap.h"

static inline void rec_sockopt(struct st__call *c, int ret, int e, int level,
			       int name, const void *val, const socklen_t *len)
{
	struct st_rec *r = st__rec(c, ST_CALL_getsockopt, ret, e);

	if (!r)
		return;
	r->u.sockopt.level = level;
	r->u.sockopt.optname = name;
	/* written by the kernel, so readable, when it succeeded */
	if (ret == 0 && *len >= sizeof(int))
		r->u.sockopt.value = *(const int *)val;
	st__publish(c, r);
}

/* getsockopt(2): only SO_ERROR, which says something about the
 * connection's life, is recorded (with its value). */
ST_EXPORT(getsockopt)
int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	ST_WRAP(level == SOL_SOCKET && name == SO_ERROR && st__enter_fd(&c, fd),
		getsockopt, (fd, level, name, val, len),
		rec_sockopt(&c, ret, e, level, name, val, len));
}

/* syscall(SYS_getsockopt, ...), as getsockopt. */
ST_SYSCALL(getsockopt)
{
	int level = (int)a[1], name = (int)a[2];

	ST_WRAP(level == SOL_SOCKET && name == SO_ERROR &&
			st__enter_fd(&c, (int)a[0]),
		syscall, ST_SC_ARGS,
		rec_sockopt(&c, ret, e, level, name, (const void *)a[3],
			    (const socklen_t *)a[4]));
}
