/* SPDX-License-Identifier: MIT */
/* Wrapper for shutdown: a half or full close without releasing the fd. */
#define _GNU_SOURCE
#include "wrap.h"

static inline void rec_shutdown(struct st__call *c, int ret, int e, int how)
{
	struct st_rec *r = st__rec(c, ST_CALL_shutdown, ret, e);

	if (!r)
		return;
	r->u.how.how = how;
	st__publish(c, r);
}

/* shutdown(2), recorded with which directions it shut. */
ST_EXPORT(shutdown) int shutdown(int fd, int how)
{
	ST_WRAP(st__enter_fd(&c, fd), shutdown, (fd, how),
		rec_shutdown(&c, ret, e, how));
}

/* syscall(SYS_shutdown, ...), as shutdown. */
ST_SYSCALL(shutdown)
{
	ST_WRAP(st__enter_fd(&c, (int)a[0]), syscall, ST_SC_ARGS,
		rec_shutdown(&c, ret, e, (int)a[1]));
}
