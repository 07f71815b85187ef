/* SPDX-License-Identifier: MIT */
/* Wrapper for bind: the address a socket is given. */
#define _GNU_SOURCE
#include "wrap.h"

static inline void rec_bind(struct st__call *c, int ret, int e,
			    const struct sockaddr *addr, socklen_t len)
{
	struct st_rec *r = st__rec(c, ST_CALL_bind, ret, e);

	if (!r)
		return;
	if (!st__args_unsafe(ret, e))
		st__addr_set(&r->u.addr.addr, addr, len);
	st__publish(c, r);
}

/* bind(2), recorded with the address asked for. */
ST_EXPORT(bind) int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	ST_WRAP(st__enter_fd(&c, fd), bind, (fd, addr, len),
		rec_bind(&c, ret, e, addr, len));
}

/* syscall(SYS_bind, ...), as bind. */
ST_SYSCALL(bind)
{
	ST_WRAP(st__enter_fd(&c, (int)a[0]), syscall, ST_SC_ARGS,
		rec_bind(&c, ret, e, (const struct sockaddr *)a[1],
			 (socklen_t)a[2]));
}
