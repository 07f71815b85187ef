/* SPDX-License-Identifier: MIT */
/* Record helpers: addresses, TCP state, data calls, fds seen late. */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/un.h>

#include "record.h"
#include "socktrace/kernel.h"
#include "clock.h"
#include "fdtab.h"
#include "real.h"
#include "state.h"
#include "writer.h"

void st__addr_set(struct st_addr *a, const struct sockaddr *sa, socklen_t len)
{
	st_addr_from(a, sa, len);
}

void st__addr_local(struct st_addr *a, int fd)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	int e = errno;

	if (!st__cfg.sandboxed &&
	    getsockname(fd, (struct sockaddr *)&ss, &l) == 0)
		st__addr_set(a, (struct sockaddr *)&ss, l);
	errno = e;
}

void st__addr_peer(struct st_addr *a, int fd)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);
	int e = errno;

	if (!st__cfg.sandboxed &&
	    getpeername(fd, (struct sockaddr *)&ss, &l) == 0)
		st__addr_set(a, (struct sockaddr *)&ss, l);
	errno = e;
}

int32_t st__peer_pid(int fd)
{
	struct ucred cr;
	socklen_t l = sizeof(cr);
	int e = errno;
	bool ok = !st__cfg.sandboxed &&
		  REAL(getsockopt)(fd, SOL_SOCKET, SO_PEERCRED, &cr, &l) == 0;

	errno = e;
	return ok ? cr.pid : 0;
}

/* Reads struct tcp_info into *TI; its length (0 if not read or too
 * short for the state and queue fields). */
static socklen_t tcp_info(int fd, union st_tcp_info_buf *ti)
{
	socklen_t l = sizeof(*ti);
	int e = errno;
	bool ok = !st__cfg.sandboxed &&
		  REAL(getsockopt)(fd, IPPROTO_TCP, TCP_INFO, ti, &l) == 0 &&
		  l >= ST_TI_MIN;

	errno = e;
	return ok ? l : 0;
}

uint32_t st__tcp_state(int fd)
{
	union st_tcp_info_buf ti;

	if (!st__cfg.tcp_info)
		return 0;
	return tcp_info(fd, &ti) ? ti.ti.tcpi_state : 0;
}

/* The unread bytes and SO_LINGER of FD into K (close_sends states). */
static void unread_linger(int fd, struct st_p_close *k)
{
	struct linger lg;
	socklen_t l = sizeof(lg);
	int n, e = errno;

	/*
	 * The unread bytes by FIONREAD (SIOCINQ), not from TCP_INFO:
	 * tcpi_bytes_received less what the program read would need a
	 * count of every read of the socket, through any fd or process,
	 * which the library does not keep; SIOCINQ is the kernel's own
	 * figure (rcv_nxt - copied_seq, less a FIN), the one tcp_close()
	 * tests to decide on an RST.  One system call, only here.
	 */
	if (ioctl(fd, FIONREAD, &n) == 0 && n >= 0) {
		k->unread = (uint32_t)n;
		k->close_flags |= ST_CLOSE_UNREAD;
	}
	/* SO_LINGER {1, 0}: close aborts the connection with an RST */
	if (REAL(getsockopt)(fd, SOL_SOCKET, SO_LINGER, &lg, &l) == 0 &&
	    l >= sizeof(lg)) {
		k->close_flags |= ST_CLOSE_LINGER;
		if (lg.l_onoff && !lg.l_linger)
			k->close_flags |= ST_CLOSE_LINGER0;
	}
	errno = e;
}

/* Writes the tcpinfo record of FD (word W) from tail T of a tcp_info
 * L bytes long. */
static void rec_tcpinfo(int fd, uint64_t ts, uint64_t w,
			const struct st_ti_tail *t, socklen_t l)
{
	struct st__call c = { .ts = ts, .word = w, .fd = fd };
	struct st_rec *r = st__rec(&c, ST_CALL_tcpinfo, l, 0);

	if (!r)
		return;
	st_ti_counters(&r->u.tcpinfo, t);
	st__publish(&c, r);
}

uint32_t st__tcp_close_info(int fd, uint64_t ts, uint64_t w,
			    struct st_p_close *k)
{
	union st_tcp_info_buf ti;
	socklen_t l;

	memset(k, 0, sizeof(*k));
	if (!st__cfg.tcp_info || !(l = tcp_info(fd, &ti)))
		return 0;
	k->tcp_state = ti.ti.tcpi_state;
	if (ti.ti.tcpi_state == TCP_LISTEN) {
		/* a listener's accept queue, as st__tcp_queue reads it */
		k->queue_len = ti.ti.tcpi_unacked;
		k->queue_max = ti.ti.tcpi_sacked;
		k->close_flags |= ST_CLOSE_QUEUE;
		return k->tcp_state;
	}
	if (l >= ST_TI_COUNTERS_END) {
		struct st_ti_tail t;
		/* copied out: the tail is not aligned for direct access in
		 * every libc's union */
		memcpy(&t, ti.b + ST_TI_TAIL, sizeof(t));
		st_ti_figures(&ti, &t, l, k);
		rec_tcpinfo(fd, ts, w, &t, l);
	}
	if (st_close_sends(ti.ti.tcpi_state))
		unread_linger(fd, k);
	return k->tcp_state;
}

bool st__tcp_queue(int fd, uint32_t *len, uint32_t *max)
{
	union st_tcp_info_buf ti;

	/* on a listener the kernel reports accept-queue length and limit in
	 * tcpi_unacked and tcpi_sacked */
	if (!tcp_info(fd, &ti) || ti.ti.tcpi_state != TCP_LISTEN)
		return false;
	*len = ti.ti.tcpi_unacked;
	*max = ti.ti.tcpi_sacked;
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

void st__record_exit(void)
{
	/* the program's own atexit handlers may run after ours */
	int e = errno;

	/* a seccomp filter may kill the process for a call of ours (and
	 * writing records may grow the file) */
	if (st__cfg.sandboxed)
		return;

	/* only where the exit's close matters: TCP, where it sends FIN or
	 * RST by the state and unread bytes the kernel has now */
	for (int fd = 0, n = st__fd_limit();
	     fd < n && __atomic_load_n(&st__state, __ATOMIC_RELAXED) == ST_ON;
	     fd++) {
		uint64_t w = st__fd_get(fd);
		if (st__fd_state(w) != ST_FD_SOCK || !st__fd_is_tcp(w))
			continue;
		struct st__call c = { .ts = st__now(), .word = w, .fd = fd };
		struct st_p_close k;
		st__tcp_close_info(fd, c.ts, w, &k);
		struct st_rec *r = st__rec(&c, ST_CALL_exit_close, 0, 0);
		if (!r)
			break;
		r->u.close = k;
		st__publish(&c, r);
	}
	errno = e;
}
