/* SPDX-License-Identifier: MIT */
/* Wrappers for getsockopt (SO_ERROR completes a non-blocking connect)
 * and setsockopt (the options that decide how a connection ends). */
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

/*
 * Records setsockopt R's value from VAL, LEN bytes the kernel accepted
 * (so readable): the first int, and for SO_LINGER onoff and linger.
 */
static inline void rec_setopt(struct st__call *c, int ret, int e, int level,
			      int name, const void *val, socklen_t len)
{
	struct st_rec *r = st__rec(c, ST_CALL_setsockopt, ret, e);

	if (!r)
		return;
	r->u.setopt.level = level;
	r->u.setopt.optname = name;
	if (ret == 0 && val && level == SOL_SOCKET && name == SO_LINGER &&
	    len >= sizeof(struct linger)) {
		r->u.setopt.value = ((const struct linger *)val)->l_onoff;
		r->u.setopt.value2 = ((const struct linger *)val)->l_linger;
	} else if (ret == 0 && val && len >= sizeof(int)) {
		r->u.setopt.value = *(const int *)val;
	}
	st__publish(c, r);
}

/* setsockopt(2): every option set on a socket is recorded, with its
 * value when it succeeded (a record each: programs set few). */
ST_EXPORT(setsockopt)
int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	ST_WRAP(st__enter_fd(&c, fd), setsockopt, (fd, level, name, val, len),
		rec_setopt(&c, ret, e, level, name, val, len));
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

/* syscall(SYS_setsockopt, ...), as setsockopt. */
ST_SYSCALL(setsockopt)
{
	ST_WRAP(st__enter_fd(&c, (int)a[0]), syscall, ST_SC_ARGS,
		rec_setopt(&c, ret, e, (int)a[1], (int)a[2], (const void *)a[3],
			   (socklen_t)a[4]));
}
