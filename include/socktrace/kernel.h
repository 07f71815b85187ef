/* SPDX-License-Identifier: MIT */
/* What the kernel says, in record terms: addresses and struct tcp_info. */
#ifndef SOCKTRACE_KERNEL_H
#define SOCKTRACE_KERNEL_H

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "format.h"

/*
 * Fills A from a kernel-validated sockaddr SA of LEN bytes.  Shared by
 * the preload (the program's own arguments) and the ptrace mode (copies
 * read from the program, or the tracer's getsockname).
 */
static inline void st_addr_from(struct st_addr *a, const struct sockaddr *sa,
				socklen_t len)
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

/*
 * struct tcp_info past tcpi_total_retrans, as the kernel fills it: libc's
 * header may end there (glibc) or before 6.7's fields.  The layout is the
 * kernel's ABI (fields are only ever appended, 8-byte aligned here); the
 * length getsockopt returns says which fields the running kernel has.
 */
struct st_ti_tail {
	uint64_t pacing_rate, max_pacing_rate, bytes_acked, bytes_received;
	uint32_t segs_out, segs_in, notsent_bytes, min_rtt;
	uint32_t data_segs_in, data_segs_out;
	uint64_t delivery_rate, busy_time, rwnd_limited, sndbuf_limited;
	uint32_t delivered, delivered_ce;
	uint64_t bytes_sent, bytes_retrans;		       /* 4.19 */
	uint32_t dsack_dups, reord_seen, rcv_ooopack, snd_wnd; /* 5.4 */
	uint32_t rcv_wnd, rehash;
	uint16_t total_rto, total_rto_recoveries; /* 6.7 */
	uint32_t total_rto_time;
};
#define ST_TI_TAIL (offsetof(struct tcp_info, tcpi_total_retrans) + 4)
_Static_assert(ST_TI_TAIL == 104, "tcp_info head as in the kernel ABI");
_Static_assert(offsetof(struct st_ti_tail, bytes_retrans) == 208 - ST_TI_TAIL,
	       "tcp_info tail as in the kernel ABI");
_Static_assert(offsetof(struct st_ti_tail, total_rto) == 240 - ST_TI_TAIL,
	       "tcp_info tail as in the kernel ABI");
/* every counter the records keep: 4.19 on */
#define ST_TI_COUNTERS_END \
	(ST_TI_TAIL + offsetof(struct st_ti_tail, dsack_dups))
#define ST_TI_RTO_END (ST_TI_TAIL + sizeof(struct st_ti_tail))
union st_tcp_info_buf {
	struct tcp_info ti;
	unsigned char b[ST_TI_RTO_END];
};
/* The shortest struct tcp_info that holds the state and queue fields. */
#define ST_TI_MIN (offsetof(struct tcp_info, tcpi_sacked) + 4)

/* States in which close sends a segment (FIN or RST) the unread bytes
 * and SO_LINGER decide between; in the others nothing is asked. */
static inline bool st_close_sends(uint32_t state)
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

/* The tcpinfo record's counters from tail T into P. */
static inline void st_ti_counters(struct st_p_tcpinfo *p,
				  const struct st_ti_tail *t)
{
	p->bytes_sent = t->bytes_sent;
	p->bytes_acked = t->bytes_acked;
	p->bytes_received = t->bytes_received;
	p->bytes_retrans = t->bytes_retrans;
	p->delivery_rate = t->delivery_rate;
	p->busy_time = t->busy_time;
	p->rwnd_limited = t->rwnd_limited;
	p->sndbuf_limited = t->sndbuf_limited;
}

/* The close record's figures of a connected socket's TCP_INFO TI (L
 * bytes, tail T) into K, flagged in close_flags. */
static inline void st_ti_figures(const union st_tcp_info_buf *ti,
				 const struct st_ti_tail *t, socklen_t l,
				 struct st_p_close *k)
{
	k->rtt = ti->ti.tcpi_rtt;
	k->rttvar = ti->ti.tcpi_rttvar;
	k->min_rtt = t->min_rtt;
	k->snd_cwnd = ti->ti.tcpi_snd_cwnd;
	k->total_retrans = ti->ti.tcpi_total_retrans;
	k->notsent_bytes = t->notsent_bytes;
	k->unacked = ti->ti.tcpi_unacked;
	k->close_flags |= ST_CLOSE_TCPINFO;
	if (l >= ST_TI_RTO_END) {
		k->total_rto = t->total_rto;
		k->total_rto_time = t->total_rto_time;
		k->close_flags |= ST_CLOSE_RTO;
	}
}

#endif
