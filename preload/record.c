/* SPDX-License-Identifier: MIT */
/* Record helpers: addresses, TCP state, data calls, fds seen late. */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/un.h>

#include "record.h"
#include "clock.h"
#include "fdtab.h"
#include "real.h"
#include "state.h"
#include "writer.h"

void st__addr_set(struct st_addr *a, const struct sockaddr *sa, socklen_t len)
{
	memset(a, 0, sizeof(*a));
	if (!sa || len < sizeof(sa_family_t))
		return;
	switch (sa->sa_family) {
	case AF_INET: {
		const struct sockaddr_in *in = (const void *)sa;
		if (len < sizeof(*in))
			return;
		a->family = AF_INET;
		a->port = ntohs(in->sin_port);
		memcpy(a->data, &in->sin_addr, 4);
		break;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		if (len < sizeof(*in6))
			return;
		a->family = AF_INET6;
		a->port = ntohs(in6->sin6_port);
		memcpy(a->data, &in6->sin6_addr, 16);
		memcpy(a->data + 16, &in6->sin6_scope_id, 4);
		break;
	}
	case AF_UNIX: {
		const struct sockaddr_un *un = (const void *)sa;
		size_t off = offsetof(struct sockaddr_un, sun_path);
		if (len > sizeof(*un))
			len = sizeof(*un);
		size_t n = len - off;
		/* a pathname ends at its NUL; an abstract name is all bytes */
		if (n && un->sun_path[0])
			n = strnlen(un->sun_path, n);
		a->family = AF_UNIX;
		if (n > sizeof(a->data)) {
			a->family |= ST_ADDR_TRUNC;
			memcpy(a->data, un->sun_path + n - sizeof(a->data),
			       sizeof(a->data));
		} else {
			memcpy(a->data, un->sun_path, n);
		}
		break;
	}
	default:
		a->family = sa->sa_family;
	}
}

void st__addr_local(struct st_addr *a, int fd)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	int e = errno;

	if (getsockname(fd, (struct sockaddr *)&ss, &l) == 0)
		st__addr_set(a, (struct sockaddr *)&ss, l);
	errno = e;
}

void st__addr_peer(struct st_addr *a, int fd)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	int e = errno;

	if (getpeername(fd, (struct sockaddr *)&ss, &l) == 0)
		st__addr_set(a, (struct sockaddr *)&ss, l);
	errno = e;
}

int32_t st__peer_pid(int fd)
{
	struct ucred cr;
	socklen_t l = sizeof(cr);
	int e = errno;
	bool ok = REAL(getsockopt)(fd, SOL_SOCKET, SO_PEERCRED, &cr, &l) == 0;

	errno = e;
	return ok ? cr.pid : 0;
}

/* Reads struct tcp_info far enough for state and queue fields. */
static bool tcp_info(int fd, struct tcp_info *ti)
{
	socklen_t l = sizeof(*ti);
	int e = errno;
	bool ok = REAL(getsockopt)(fd, IPPROTO_TCP, TCP_INFO, ti, &l) == 0 &&
		  l >= offsetof(struct tcp_info, tcpi_sacked) + 4;

	errno = e;
	return ok;
}

uint32_t st__tcp_state(int fd)
{
	struct tcp_info ti;

	if (!st__cfg.tcp_info)
		return 0;
	return tcp_info(fd, &ti) ? ti.tcpi_state : 0;
}

/* States in which close sends a segment (FIN or RST) the unread bytes
 * and SO_LINGER decide between; in the others nothing is asked. */
static bool close_sends(uint32_t state)
{
	switch (state) {
	case TCP_ESTABLISHED:
	case TCP_SYN_RECV:
	case TCP_CLOSE_WAIT:
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		return true;
	default:
		return false;
	}
}

uint32_t st__tcp_close_info(int fd, uint32_t *unread, uint32_t *flags)
{
	struct tcp_info ti;
	struct linger lg;
	socklen_t l = sizeof(lg);
	int n, e;

	*unread = *flags = 0;
	if (!st__cfg.tcp_info || !tcp_info(fd, &ti))
		return 0;
	if (!close_sends(ti.tcpi_state))
		return ti.tcpi_state;
	e = errno;
	/*
	 * The unread bytes by FIONREAD (SIOCINQ), not from TCP_INFO:
	 * tcpi_bytes_received less what the program read would need a
	 * count of every read of the socket, through any fd or process,
	 * which the library does not keep; SIOCINQ is the kernel's own
	 * figure (rcv_nxt - copied_seq, less a FIN), the one tcp_close()
	 * tests to decide on an RST.  One system call, only here.
	 */
	if (ioctl(fd, FIONREAD, &n) == 0 && n >= 0) {
		*unread = (uint32_t)n;
		*flags |= ST_CLOSE_UNREAD;
	}
	/* SO_LINGER {1, 0}: close aborts the connection with an RST */
	if (REAL(getsockopt)(fd, SOL_SOCKET, SO_LINGER, &lg, &l) == 0 &&
	    l >= sizeof(lg)) {
		*flags |= ST_CLOSE_LINGER;
		if (lg.l_onoff && !lg.l_linger)
			*flags |= ST_CLOSE_LINGER0;
	}
	errno = e;
	return ti.tcpi_state;
}

bool st__tcp_queue(int fd, uint32_t *len, uint32_t *max)
{
	struct tcp_info ti;

	/* on a listener the kernel reports accept-queue length and limit in
	 * tcpi_unacked and tcpi_sacked */
	if (!tcp_info(fd, &ti) || ti.tcpi_state != TCP_LISTEN)
		return false;
	*len = ti.tcpi_unacked;
	*max = ti.tcpi_sacked;
	return true;
}

void st__data(struct st__call *c, enum st_call call, ssize_t ret, int err,
	      uint64_t asked, int flags, const struct sockaddr *sa,
	      socklen_t salen)
{
	struct st_rec *r = st__rec(c, call, ret, err);

	if (!r)
		return;
	r->u.data.asked = asked;
	r->u.data.flags = flags;
	if (sa && ret >= 0)
		st__addr_set(&r->u.data.addr, sa, salen);
	st__publish(c, r);
}

void st__mmsg(struct st__call *c, enum st_call call, int ret, int err,
	      const struct mmsghdr *v, unsigned n, int flags)
{
	uint64_t moved = 0;

	/* only entries the kernel wrote: the rest may not even be mapped */
	for (unsigned i = 0; ret > 0 && i < (unsigned)ret && i < n; i++)
		moved += v[i].msg_len;
	struct st_rec *r = st__rec(c, call, ret, err);
	if (!r)
		return;
	r->u.mmsg.moved = moved;
	r->u.mmsg.vlen = n;
	r->u.mmsg.flags = flags;
	st__publish(c, r);
}

uint64_t st__fd_seen(int fd, uint32_t flags)
{
	int domain, type;
	uint64_t w = st__fd_classify(fd, &domain, &type);

	if (domain < 0)
		return w;
	struct st__call c = { .ts = st__now(), .word = w, .fd = fd };
	struct st_rec *r = st__rec(&c, ST_CALL_seen, 0, 0);
	if (!r)
		return w;
	r->u.seen.domain = domain;
	r->u.seen.socktype = type;
	st__addr_local(&r->u.seen.local, fd);
	st__addr_peer(&r->u.seen.peer, fd);
	int on = 0;
	socklen_t l = sizeof(on);
	if (REAL(getsockopt)(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &l) == 0 && on)
		flags |= ST_SEEN_LISTENING;
	if (st__fd_is_tcp(w))
		r->u.seen.tcp_state = st__tcp_state(fd);
	r->u.seen.flags = flags;
	st__publish(&c, r);
	return w;
}
