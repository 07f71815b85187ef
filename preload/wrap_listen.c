/* SPDX-License-Identifier: MIT */
/* Wrapper for listen: requested and effective accept-queue length. */
#define _GNU_SOURCE
#include "wrap.h"

static inline void rec_listen(struct st__call *c, int ret, int e, int backlog)
{
	struct st_rec *r = st__rec(c, ST_CALL_listen, ret, e);
	uint32_t qlen, qmax;

	if (!r)
		return;
	int max = st__somaxconn();
	r->u.listen.backlog = backlog;
	r->u.listen.somaxconn = max;
	/* the kernel clips as unsigned: a negative backlog is big */
	r->u.listen.effective_backlog =
		max > 0 && (unsigned)backlog > (unsigned)max ? max : backlog;
	/* the port it listens on, also after bind(port 0) */
	if (ret == 0)
		st__addr_local(&r->u.listen.local, c->fd);
	/* for TCP the kernel says what it really set */
	if (ret == 0 && st__fd_is_tcp(c->word) &&
	    st__tcp_queue(c->fd, &qlen, &qmax))
		r->u.listen.effective_backlog = (int32_t)qmax;
	st__publish(c, r);
}

/* listen(2), recorded with the backlog asked for and the one in effect. */
ST_EXPORT(listen) int listen(int fd, int backlog)
{
	ST_WRAP(st__enter_fd(&c, fd), listen, (fd, backlog),
		rec_listen(&c, ret, e, backlog));
}

/* syscall(SYS_listen, ...), as listen. */
ST_SYSCALL(listen)
{
	ST_WRAP(st__enter_fd(&c, (int)a[0]), syscall, ST_SC_ARGS,
		rec_listen(&c, ret, e, (int)a[1]));
}
