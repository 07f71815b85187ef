/* SPDX-License-Identifier: MIT */
/* Wrappers for accept and accept4: the new connection and the queue. */
#define _GNU_SOURCE
#include "wrap.h"

/*
 * The peer address is recorded even when the caller passed no buffer: we
 * then pass our own, which the caller cannot observe.  When the caller
 * passed one we do not read it (its real size is unknown to us) but ask
 * getpeername().  A Unix peer has no address that tells one client from
 * another, so its pid is recorded instead.
 */
struct own_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	uint32_t qlen, qmax; /* the listener's queue before the call */
	bool qok;
};

/* Starts a traced accept on FD; *A and *L then point at OWN if the
 * caller passed no address buffer.  The queue is read here, before the
 * real accept: read after, it would miss the connection accept took
 * (and count any that came meanwhile). */
static inline bool enter_accept(struct st__call *c, int fd, struct sockaddr **a,
				socklen_t **l, struct own_addr *own)
{
	if (!st__enter_fd(c, fd))
		return false;
	if (!*a) {
		own->len = sizeof(own->ss);
		*a = (struct sockaddr *)&own->ss;
		*l = &own->len;
	}
	own->qok = st__fd_is_tcp(c->word) && st__cfg.tcp_info &&
		   st__tcp_queue(fd, &own->qlen, &own->qmax);
	return true;
}

/* Records accept or accept4 into the caller's buffer THEIRS (or, if
 * NULL, into OWN); the new socket RET gets its entry first. */
static inline void rec_accept(struct st__call *c, enum st_call call, int ret,
			      int e, const struct sockaddr *theirs,
			      const struct own_addr *own)
{
	uint64_t nw = 0;

	if (ret >= 0) {
		/* the new socket inherits family and type from the listener */
		nw = (c->word & 0xff) | st__conn_new() << 8;
		st__fd_set(ret, nw);
	}
	struct st_rec *r = st__rec(c, call, ret, e);
	if (!r)
		return;
	struct st_p_accept *p = &r->u.accept;
	if (ret >= 0) {
		if (theirs)
			st__addr_peer(&p->peer, ret);
		else
			st__addr_set(&p->peer, (const void *)&own->ss,
				     own->len);
		st__addr_local(&p->local, ret);
		/* the number part: the id's pid is this file's */
		p->conn2 = (uint32_t)st__fd_conn(nw);
		if (st__fd_is_unix_stream(nw))
			p->peer_pid = st__peer_pid(ret);
	}
	if (own->qok) {
		/* 0 with a connection: the accept waited for it */
		p->queue_len = own->qlen;
		p->queue_max = own->qmax;
		r->flags |= ST_REC_QUEUE_BEFORE;
	}
	st__publish(c, r);
}

/* accept(2): the new socket gets a connection id of its own. */
ST_EXPORT(accept) int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct own_addr own;
	struct sockaddr *a = addr;
	socklen_t *l = len;

	ST_WRAP(enter_accept(&c, fd, &a, &l, &own), accept, (fd, a, l),
		rec_accept(&c, ST_CALL_accept, ret, e, addr, &own));
}

/* accept4(2), as accept. */
ST_EXPORT(accept4)
int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
	struct own_addr own;
	struct sockaddr *a = addr;
	socklen_t *l = len;

	ST_WRAP(enter_accept(&c, fd, &a, &l, &own), accept4, (fd, a, l, flags),
		rec_accept(&c, ST_CALL_accept4, ret, e, addr, &own));
}

/* syscall(SYS_accept or SYS_accept4, ...), as accept and accept4: our
 * own address buffer, if we pass one, goes in place of the caller's. */
static long sc_accept(enum st_call call, long nr, const long *a)
{
	struct own_addr own;
	struct sockaddr *addr = (struct sockaddr *)a[1];
	struct sockaddr *ad = addr;
	socklen_t *l = (socklen_t *)a[2];

	ST_WRAP(enter_accept(&c, (int)a[0], &ad, &l, &own), syscall,
		(nr, a[0], (long)ad, (long)l, a[3], a[4], a[5]),
		rec_accept(&c, call, ret, e, addr, &own));
}

/* syscall(SYS_accept, ...), as accept. */
ST_SYSCALL(accept)
{
	return sc_accept(ST_CALL_accept, nr, a);
}

/* syscall(SYS_accept4, ...), as accept4. */
ST_SYSCALL(accept4)
{
	return sc_accept(ST_CALL_accept4, nr, a);
}
