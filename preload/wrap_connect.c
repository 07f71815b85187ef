/* SPDX-License-Identifier: MIT */
/* Wrapper for connect: the address connected to and the local end it got. */
#define _GNU_SOURCE
#include "wrap.h"

static inline void rec_connect(struct st__call *c, int ret, int e,
			       const struct sockaddr *addr, socklen_t len)
{
	struct st_rec *r = st__rec(c, ST_CALL_connect, ret, e);

	if (!r)
		return;
	if (!st__args_unsafe(ret, e))
		st__addr_set(&r->u.connect.addr, addr, len);
	/* the local address joins this end to the peer's accept; a
	 * non-blocking connect has it already while in progress.  After
	 * an unreachable error its port tells whether a SYN was tried (a
	 * port chosen) or the route lookup failed first (port 0). */
	if (ret == 0 || e == EINPROGRESS || e == EHOSTUNREACH ||
	    e == ENETUNREACH)
		st__addr_local(&r->u.connect.local, c->fd);
	st__publish(c, r);
}

/* connect(2), recorded with both ends' addresses. */
ST_EXPORT(connect)
int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	ST_WRAP(st__enter_fd(&c, fd), connect, (fd, addr, len),
		rec_connect(&c, ret, e, addr, len));
}

/* syscall(SYS_connect, ...), as connect. */
ST_SYSCALL(connect)
{
	ST_WRAP(st__enter_fd(&c, (int)a[0]), syscall, ST_SC_ARGS,
		rec_connect(&c, ret, e, (const struct sockaddr *)a[1],
			    (socklen_t)a[2]));
}
