/* SPDX-License-Identifier: MIT */
/* The ptrace mode's kernel queries, on copies of the program's sockets. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ptrace_query.h"
#include "socktrace/kernel.h"

int st_pq_copy(const struct st_pproc *p, int fd)
{
	if (p->pidfd < 0 || fd < 0)
		return -1;
	/* the program's fd table is not touched: the copy is ours */
	return (int)syscall(SYS_pidfd_getfd, p->pidfd, fd, 0);
}

bool st_pq_read(pid_t tid, unsigned long at, void *buf, size_t len)
{
	struct iovec l = { buf, len }, r = { (void *)at, len };

	return at && process_vm_readv(tid, &l, 1, &r, 1, 0) == (ssize_t)len;
}

void st_pq_addr(pid_t tid, unsigned long at, unsigned long len,
		struct st_addr *a)
{
	struct sockaddr_storage ss;

	memset(a, 0, sizeof(*a));
	if (len > sizeof(ss))
		len = sizeof(ss);
	/* a short read (an address at the end of a mapping) tries less */
	while (len >= sizeof(sa_family_t) && !st_pq_read(tid, at, &ss, len))
		len = len > 16 ? 16 : 0;
	if (len >= sizeof(sa_family_t))
		st_addr_from(a, (struct sockaddr *)&ss, (socklen_t)len);
}

void st_pq_local(int copy, struct st_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);

	memset(a, 0, sizeof(*a));
	if (copy >= 0 && getsockname(copy, (struct sockaddr *)&ss, &l) == 0)
		st_addr_from(a, (struct sockaddr *)&ss, l);
}

void st_pq_peer(int copy, struct st_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t l = sizeof(ss);

	memset(a, 0, sizeof(*a));
	if (copy >= 0 && getpeername(copy, (struct sockaddr *)&ss, &l) == 0)
		st_addr_from(a, (struct sockaddr *)&ss, l);
}

int32_t st_pq_peer_pid(int copy)
{
	struct ucred cr;
	socklen_t l = sizeof(cr);

	if (getsockopt(copy, SOL_SOCKET, SO_PEERCRED, &cr, &l) == 0)
		return cr.pid;
	return 0;
}

uint16_t st_pq_sock(int domain, int type)
{
	uint16_t fam = domain == AF_INET    ? ST_SOCK_INET
		       : domain == AF_INET6 ? ST_SOCK_INET6
		       : domain == AF_UNIX  ? ST_SOCK_UNIX
					    : 0;
	int t = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	uint16_t ty = t == SOCK_STREAM	? ST_SOCK_STREAM
		      : t == SOCK_DGRAM ? ST_SOCK_DGRAM
					: 0;

	return (uint16_t)(ST_SOCK_KNOWN | fam | ty << 4);
}

bool st_pq_is_tcp(uint16_t sock)
{
	return ST_SOCK_TYPE(sock) == ST_SOCK_STREAM &&
	       (ST_SOCK_FAM(sock) == ST_SOCK_INET ||
		ST_SOCK_FAM(sock) == ST_SOCK_INET6);
}

/* TCP_INFO of COPY into TI; its length, 0 if not read or too short. */
static socklen_t tcp_info(int copy, union st_tcp_info_buf *ti)
{
	socklen_t l = sizeof(*ti);

	if (copy < 0 || getsockopt(copy, IPPROTO_TCP, TCP_INFO, ti, &l) ||
	    l < ST_TI_MIN)
		return 0;
	return l;
}

uint32_t st_pq_tcp_state(int copy)
{
	union st_tcp_info_buf ti;

	return tcp_info(copy, &ti) ? ti.ti.tcpi_state : 0;
}

bool st_pq_queue(int copy, uint32_t *len, uint32_t *max)
{
	union st_tcp_info_buf ti;

	/* on a listener the kernel reports accept-queue length and limit in
	 * tcpi_unacked and tcpi_sacked */
	if (!tcp_info(copy, &ti) || ti.ti.tcpi_state != TCP_LISTEN)
		return false;
	*len = ti.ti.tcpi_unacked;
	*max = ti.ti.tcpi_sacked;
	return true;
}

/* The unread bytes and SO_LINGER of COPY into K, as the preload asks
 * them (record.c): FIONREAD is the kernel's own figure tcp_close()
 * tests to decide on an RST. */
static void unread_linger(int copy, struct st_p_close *k)
{
	struct linger lg;
	socklen_t l = sizeof(lg);
	int n;

	if (ioctl(copy, FIONREAD, &n) == 0 && n >= 0) {
		k->unread = (uint32_t)n;
		k->close_flags |= ST_CLOSE_UNREAD;
	}
	if (getsockopt(copy, SOL_SOCKET, SO_LINGER, &lg, &l) == 0 &&
	    l >= sizeof(lg)) {
		k->close_flags |= ST_CLOSE_LINGER;
		if (lg.l_onoff && !lg.l_linger)
			k->close_flags |= ST_CLOSE_LINGER0;
	}
}

bool st_pq_close_info(int copy, struct st_p_close *k, struct st_p_tcpinfo *c)
{
	union st_tcp_info_buf ti;
	socklen_t l;
	bool counters = false;

	memset(k, 0, sizeof(*k));
	if (!(l = tcp_info(copy, &ti)))
		return false;
	k->tcp_state = ti.ti.tcpi_state;
	if (ti.ti.tcpi_state == TCP_LISTEN) {
		k->queue_len = ti.ti.tcpi_unacked;
		k->queue_max = ti.ti.tcpi_sacked;
		k->close_flags |= ST_CLOSE_QUEUE;
		return false;
	}
	if (l >= ST_TI_COUNTERS_END) {
		struct st_ti_tail t;
		memcpy(&t, ti.b + ST_TI_TAIL, sizeof(t));
		st_ti_figures(&ti, &t, l, k);
		st_ti_counters(c, &t);
		counters = true;
	}
	if (st_close_sends(ti.ti.tcpi_state))
		unread_linger(copy, k);
	return counters;
}

/* Is /proc/PID/fd/NAME a socket? */
static bool is_socket(pid_t pid, const char *name)
{
	char path[300], link[64];

	snprintf(path, sizeof(path), "/proc/%d/fd/%s", (int)pid, name);
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = 0;
	return !strncmp(link, "socket:", 7);
}

int st_pq_sockets(pid_t pid, int **fds)
{
	char path[64];
	int n = 0, cap = 0;

	*fds = NULL;
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.' || !is_socket(pid, e->d_name))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			int *m = realloc(*fds, cap * sizeof(int));
			if (!m)
				break;
			*fds = m;
		}
		(*fds)[n++] = atoi(e->d_name);
	}
	closedir(d);
	return n;
}
