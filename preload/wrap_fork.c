/* SPDX-License-Identifier: MIT */
/* Wrapper for fork: the parent records the child's pid. */
#define _GNU_SOURCE
#include <unistd.h>

#include "internal.h"

/*
 * The child's own trace file is made by the pthread_atfork handler (which
 * also runs for forks inside libc, e.g. daemon()); this wrapper only adds
 * the parent's record, so the viewer knows when the child got its copies
 * of the parent's sockets.
 */
ST_EXPORT pid_t fork(void)
{
	struct st__call c;

	if (!st__enter(&c))
		return REAL(fork)();
	pid_t ret = REAL(fork)();
	int e = errno;
	if (ret != 0) {
		struct st_rec *r = st__rec(&c, ST_CALL_fork, ret, e);
		if (r)
			st__publish(&c, r);
	}
	errno = e;
	return ret;
}
