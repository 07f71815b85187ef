/* SPDX-License-Identifier: MIT */
/* Socket options an end had set (setsockopt, fcntl O_NONBLOCK). */
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/socket.h>

#include "sockopt.h"

const char *const st_opt_name[ST_OPT__N] = {
#define ST__O(n) #n,
	ST_OPT_TABLE(ST__O)
#undef ST__O
};

/* The table's option for (LEVEL, NAME), or -1. */
static int opt_of(int level, int name)
{
	if (level == IPPROTO_TCP) {
		switch (name) {
		case TCP_NODELAY:
			return ST_OPT_TCP_NODELAY;
		case TCP_KEEPIDLE: /* keepalive's idle time, s */
			return ST_OPT_TCP_KEEPIDLE;
		case TCP_KEEPINTVL:
			return ST_OPT_TCP_KEEPINTVL;
		case TCP_KEEPCNT:
			return ST_OPT_TCP_KEEPCNT;
		default:
			return -1;
		}
	}
	if (level != SOL_SOCKET)
		return -1;
	switch (name) {
	case SO_LINGER:
		return ST_OPT_SO_LINGER;
	case SO_REUSEADDR:
		return ST_OPT_SO_REUSEADDR;
	case SO_REUSEPORT:
		return ST_OPT_SO_REUSEPORT;
	case SO_KEEPALIVE:
		return ST_OPT_SO_KEEPALIVE;
	case SO_RCVBUF:
		return ST_OPT_SO_RCVBUF;
	case SO_SNDBUF:
		return ST_OPT_SO_SNDBUF;
	default:
		return -1;
	}
}

/* The option R sets and its value(s); -1 when none of the table's. */
static int opt_rec(const struct st_rec *r, int32_t *v, int32_t *v2)
{
	if (r->call == ST_CALL_fcntl) {
		if (r->u.dup.cmd != F_SETFL)
			return -1;
		*v = (r->u.dup.arg & O_NONBLOCK) != 0;
		*v2 = 0;
		return ST_OPT_O_NONBLOCK;
	}
	if (r->call != ST_CALL_setsockopt)
		return -1;
	*v = r->u.setopt.value;
	*v2 = r->u.setopt.value2;
	return opt_of(r->u.setopt.level, r->u.setopt.optname);
}

void st_opts_apply(struct st_opts *o, const struct st_rec *r)
{
	int32_t v, v2;
	int i = opt_rec(r, &v, &v2);

	if (i < 0 || (r->flags & ST_REC_ERR))
		return;
	o->set |= 1u << i;
	o->val[i] = v;
	if (i == ST_OPT_SO_LINGER)
		o->linger = v2;
}

bool st_opts_linger0(const struct st_opts *o)
{
	return (o->set & (1u << ST_OPT_SO_LINGER)) &&
	       o->val[ST_OPT_SO_LINGER] && !o->linger;
}

void st_opt_describe(const struct st_rec *r, char *buf, size_t len)
{
	int32_t v, v2;
	int i = opt_rec(r, &v, &v2);

	if (i < 0 && r->call == ST_CALL_setsockopt)
		snprintf(buf, len, "level %d option %d = %d", r->u.setopt.level,
			 r->u.setopt.optname, v);
	else if (i < 0)
		snprintf(buf, len, "%s", "");
	else if (i == ST_OPT_SO_LINGER)
		snprintf(buf, len, "SO_LINGER {%d,%d}", v, v2);
	else if (i == ST_OPT_O_NONBLOCK)
		snprintf(buf, len, "F_SETFL %sO_NONBLOCK", v ? "" : "~");
	else
		snprintf(buf, len, "%s %d", st_opt_name[i], v);
}
