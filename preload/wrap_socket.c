/* SPDX-License-Identifier: MIT */
/* Wrappers that create sockets: socket, socketpair. */
#define _GNU_SOURCE
#include "internal.h"


ST_EXPORT int socket(int domain, int type, int protocol)
{
	struct st__call c;

	if (!st__enter(&c))
		return REAL(socket)(domain, type, protocol);
	int ret = REAL(socket)(domain, type, protocol);
	int e = errno;
	if (ret >= 0) {
		c.fd = ret;
		c.word = st__fd_word(st__conn_new(), domain, type);
		st__fd_set(ret, c.word);
	}
	struct st_rec *r = st__rec(&c, ST_CALL_socket, ret, e);
	if (r) {
		r->u.sock.domain = domain;
		r->u.sock.socktype = type;
		r->u.sock.protocol = protocol;
		r->u.sock.fd2 = -1;
		st__publish(&c, r);
	}
	errno = e;
	return ret;
}

ST_EXPORT int socketpair(int domain, int type, int protocol, int sv[2])
{
	struct st__call c;

	if (!st__enter(&c))
		return REAL(socketpair)(domain, type, protocol, sv);
	int ret = REAL(socketpair)(domain, type, protocol, sv);
	int e = errno;
	uint64_t w2 = 0;
	if (ret == 0) {
		c.fd = sv[0];
		c.word = st__fd_word(st__conn_new(), domain, type);
		w2 = st__fd_word(st__conn_new(), domain, type);
		st__fd_set(sv[0], c.word);
		st__fd_set(sv[1], w2);
	}
	struct st_rec *r = st__rec(&c, ST_CALL_socketpair, ret, e);
	if (r) {
		r->u.sock.domain = domain;
		r->u.sock.socktype = type;
		r->u.sock.protocol = protocol;
		r->u.sock.fd2 = ret == 0 ? sv[1] : -1;
		r->u.sock.conn2 = st__fd_conn(w2);
		st__publish(&c, r);
	}
	errno = e;
	return ret;
}
