/* SPDX-License-Identifier: MIT */
/* Wrappers that create sockets: socket, socketpair. */
#define _GNU_SOURCE
#include "wrap.h"

/* Records socket or socketpair.  Each new fd, FD and socketpair's FD2
 * (-1 if none), first gets its table entry and a connection id. */
static inline void rec_socket(struct st__call *c, enum st_call call, int ret,
			      int e, int domain, int type, int protocol, int fd,
			      int fd2)
{
	uint64_t w2 = 0;

	if (fd >= 0) {
		c->fd = fd;
		c->word = st__fd_word(st__conn_new(), domain, type);
		st__fd_set(fd, c->word);
	}
	if (fd2 >= 0) {
		w2 = st__fd_word(st__conn_new(), domain, type);
		st__fd_set(fd2, w2);
	}
	struct st_rec *r = st__rec(c, call, ret, e);
	if (!r)
		return;
	r->u.sock.domain = domain;
	r->u.sock.socktype = type;
	r->u.sock.protocol = protocol;
	r->u.sock.fd2 = fd2;
	r->u.sock.conn2 = st__fd_conn(w2);
	st__publish(c, r);
}

/* socket(2): a new connection id for the new fd. */
ST_EXPORT(socket) int socket(int domain, int type, int protocol)
{
	ST_WRAP(st__enter(&c), socket, (domain, type, protocol),
		rec_socket(&c, ST_CALL_socket, ret, e, domain, type, protocol,
			   ret, -1));
}

/* socketpair(2): a connection id for each of the two new fds. */
ST_EXPORT(socketpair)
int socketpair(int domain, int type, int protocol, int sv[2])
{
	ST_WRAP(st__enter(&c), socketpair, (domain, type, protocol, sv),
		rec_socket(&c, ST_CALL_socketpair, ret, e, domain, type,
			   protocol, ret == 0 ? sv[0] : -1,
			   ret == 0 ? sv[1] : -1));
}

/* syscall(SYS_socket, ...), as socket. */
ST_SYSCALL(socket)
{
	ST_WRAP(st__enter(&c), syscall, ST_SC_ARGS,
		rec_socket(&c, ST_CALL_socket, ret, e, (int)a[0], (int)a[1],
			   (int)a[2], ret, -1));
}

/* syscall(SYS_socketpair, ...), as socketpair. */
ST_SYSCALL(socketpair)
{
	const int *sv = (const int *)a[3];

	ST_WRAP(st__enter(&c), syscall, ST_SC_ARGS,
		rec_socket(&c, ST_CALL_socketpair, ret, e, (int)a[0], (int)a[1],
			   (int)a[2], ret == 0 ? sv[0] : -1,
			   ret == 0 ? sv[1] : -1));
}
