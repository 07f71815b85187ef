/* SPDX-License-Identifier: MIT */
/* Wrappers for accept and accept4: the new connection and the queue. */
#define _GNU_SOURCE
#include "internal.h"

/*
 * CALL is accept or accept4.  The peer address is recorded even when the
 * caller passed no buffer: we then pass our own, which the caller cannot
 * observe.  When the caller passed one we do not read it (its real size
 * is unknown to us) but ask getpeername().  A Unix peer has no address
 * that tells one client from another, so its pid is recorded instead.
 */
static int do_accept(enum st_call call, int fd, struct sockaddr *addr,
		     socklen_t *len, int flags)
{
	struct st__call c;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int ret;

	if (!st__enter_fd(&c, fd))
		return call == ST_CALL_accept ? REAL(accept)(fd, addr, len)
					      : REAL(accept4)(fd, addr, len,
							      flags);
	struct sockaddr *a = addr ? addr : (struct sockaddr *)&ss;
	socklen_t *l = addr ? len : &sl;
	ret = call == ST_CALL_accept ? REAL(accept)(fd, a, l)
				     : REAL(accept4)(fd, a, l, flags);
	int e = errno;
	uint64_t nw = 0;
	if (ret >= 0) {
		/* the new socket inherits family and type from the listener */
		nw = (c.word & 0xff) | st__conn_new() << 8;
		st__fd_set(ret, nw);
	}
	struct st_rec *r = st__rec(&c, call, ret, e);
	if (r) {
		struct st_p_accept *p = &r->u.accept;
		if (ret >= 0) {
			if (addr)
				st__addr_peer(&p->peer, ret);
			else
				st__addr_set(&p->peer, a, sl);
			st__addr_local(&p->local, ret);
			/* the number part: the id's pid is this file's */
			p->conn2 = (uint32_t)st__fd_conn(nw);
			if (st__fd_is_unix_stream(nw))
				p->peer_pid = st__peer_pid(ret);
		}
		if (st__fd_is_tcp(c.word) && st__cfg.tcp_info)
			st__tcp_queue(fd, &p->queue_len, &p->queue_max);
		st__publish(&c, r);
	}
	errno = e;
	return ret;
}

ST_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	return do_accept(ST_CALL_accept, fd, addr, len, 0);
}

ST_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	return do_accept(ST_CALL_accept4, fd, addr, len, flags);
}
