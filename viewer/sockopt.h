/* SPDX-License-Identifier: MIT */
/* Socket options an end had set (setsockopt, fcntl O_NONBLOCK). */
#ifndef ST_VIEWER_SOCKOPT_H
#define ST_VIEWER_SOCKOPT_H

#include <stdbool.h>
#include <stdint.h>

#include "socktrace/format.h"

/*
 * The options the viewer names: X(name).  Their values are what the
 * program asked for (the kernel doubles SO_RCVBUF and SO_SNDBUF);
 * O_NONBLOCK comes from fcntl(F_SETFL).  Other options are in the
 * setsockopt records only.
 */
#define ST_OPT_TABLE(X)  \
	X(SO_LINGER)     \
	X(SO_REUSEADDR)  \
	X(SO_REUSEPORT)  \
	X(SO_KEEPALIVE)  \
	X(TCP_NODELAY)   \
	X(TCP_KEEPIDLE)  \
	X(TCP_KEEPINTVL) \
	X(TCP_KEEPCNT)   \
	X(SO_RCVBUF)     \
	X(SO_SNDBUF)     \
	X(O_NONBLOCK)

enum st_opt {
#define ST__O(n) ST_OPT_##n,
	ST_OPT_TABLE(ST__O)
#undef ST__O
		ST_OPT__N
};
extern const char *const st_opt_name[ST_OPT__N];

/* The options set on one end: the last value set of each. */
struct st_opts {
	uint16_t set;		/* bit 1 << ST_OPT_* once set */
	int32_t val[ST_OPT__N]; /* SO_LINGER: l_onoff */
	int32_t linger;		/* SO_LINGER: l_linger */
};

/* Applies record R (setsockopt, or fcntl F_SETFL) that succeeded. */
void st_opts_apply(struct st_opts *o, const struct st_rec *r);
/* Is SO_LINGER {1, 0} (close aborts with RST) set in O? */
bool st_opts_linger0(const struct st_opts *o);
/* "SO_LINGER {1,0}", "TCP_NODELAY 1" for R, a setsockopt or F_SETFL
 * record, into BUF; "" when R sets nothing the table names. */
void st_opt_describe(const struct st_rec *r, char *buf, size_t len);

#endif
