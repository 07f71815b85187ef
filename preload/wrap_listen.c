/* SPDX-License-Identifier: MIT */
/* Wrapper for listen: requested and effective accept-queue length. */
#define _GNU_SOURCE
#include "internal.h"

ST_EXPORT int listen(int fd, int backlog)
{
	struct st__call c;

	if (!st__enter_fd(&c, fd))
		return REAL(listen)(fd, backlog);
	int ret = REAL(listen)(fd, backlog);
	int e = errno;
	struct st_rec *r = st__rec(&c, ST_CALL_listen, ret, e);
	if (r) {
		int max = st__somaxconn();
		uint32_t qlen, qmax;
		r->u.listen.backlog = backlog;
		r->u.listen.somaxconn = max;
		/* the kernel clips as unsigned: a negative backlog is big */
		r->u.listen.effective_backlog =
			max > 0 && (unsigned)backlog > (unsigned)max ? max
								     : backlog;
		/* the port it listens on, also after bind(port 0) */
		if (ret == 0)
			st__addr_local(&r->u.listen.local, fd);
		/* for TCP the kernel says what it really set */
		if (ret == 0 && st__fd_is_tcp(c.word) &&
		    st__tcp_queue(fd, &qlen, &qmax))
			r->u.listen.effective_backlog = (int32_t)qmax;
		st__publish(&c, r);
	}
	errno = e;
	return ret;
}
