/* SPDX-License-Identifier: MIT */
/* TCP_INFO at close: the kernel's figures kept per connection end. */
#include <netinet/tcp.h>

#include "tcpinfo.h"

/* The figures of a close record's payload P (close or range: the same
 * fields, generated from one list) into K. */
#define ST__KEEP(p, k)                                   \
	do {                                             \
		(k)->rtt_us = (p)->rtt;                  \
		(k)->rttvar_us = (p)->rttvar;            \
		(k)->min_rtt_us = (p)->min_rtt;          \
		(k)->snd_cwnd = (p)->snd_cwnd;           \
		(k)->total_retrans = (p)->total_retrans; \
		(k)->total_rto = (p)->total_rto;         \
		(k)->total_rto_ms = (p)->total_rto_time; \
		(k)->notsent_bytes = (p)->notsent_bytes; \
		(k)->unacked = (p)->unacked;             \
		(k)->queue_len = (p)->queue_len;         \
		(k)->queue_max = (p)->queue_max;         \
	} while (0)

void st_tcpk_close(struct st_tcpk *k, const struct st_rec *r)
{
	bool range =
		r->call == ST_CALL_close_range || r->call == ST_CALL_closefrom;
	uint32_t f = range ? r->u.range.close_flags : r->u.close.close_flags;

	/* a later close of another fd to it says what the kernel says then;
	 * one that asked nothing (not TCP, SOCKTRACE_TCP_INFO=0) keeps it */
	if (!(f & (ST_CLOSE_TCPINFO | ST_CLOSE_QUEUE)))
		return;
	if (range)
		ST__KEEP(&r->u.range, k);
	else
		ST__KEEP(&r->u.close, k);
	k->set &= ST_TCPK_COUNTERS;
	if (f & ST_CLOSE_TCPINFO)
		k->set |= ST_TCPK_FIGS;
	if (f & ST_CLOSE_RTO)
		k->set |= ST_TCPK_RTO;
	if (f & ST_CLOSE_QUEUE)
		k->set |= ST_TCPK_QUEUE;
}

void st_tcpk_counters(struct st_tcpk *k, const struct st_rec *r)
{
	const struct st_p_tcpinfo *p = &r->u.tcpinfo;

	k->bytes_sent = p->bytes_sent;
	k->bytes_acked = p->bytes_acked;
	k->bytes_received = p->bytes_received;
	k->bytes_retrans = p->bytes_retrans;
	k->delivery_rate = p->delivery_rate;
	k->busy_us = p->busy_time;
	k->rwnd_limited_us = p->rwnd_limited;
	k->sndbuf_limited_us = p->sndbuf_limited;
	k->set |= ST_TCPK_COUNTERS;
}

void st_tcpk_bytes(struct st_conn *c, const struct st_rec *r)
{
	bool range =
		r->call == ST_CALL_close_range || r->call == ST_CALL_closefrom;
	uint32_t state = range ? r->u.range.tcp_state : r->u.close.tcp_state;
	const struct st_tcpk *k = &c->tcp;

	if (!(k->set & ST_TCPK_COUNTERS))
		return;
	/* the FIN takes a sequence number, which bytes_received counts */
	bool fin = state == TCP_CLOSE_WAIT || state == TCP_LAST_ACK ||
		   state == TCP_CLOSING || state == TCP_TIME_WAIT ||
		   state == TCP_CLOSE;
	c->bytes_out = k->bytes_sent > k->bytes_retrans
			       ? k->bytes_sent - k->bytes_retrans
			       : 0;
	c->bytes_in = k->bytes_received > fin ? k->bytes_received - fin : 0;
}
