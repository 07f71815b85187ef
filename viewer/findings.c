/* SPDX-License-Identifier: MIT */
/* Findings: the problems a trace shows, as data (kind, scope, figures). */
#include <errno.h>
#include <string.h>

#include "findings.h"

const char *const st_finding_name[] = {
#define ST__F(name, scope) #name,
	ST_FINDING_TABLE(ST__F)
#undef ST__F
};
const char *const st_unreach_name[] = {
#define ST__U(n) #n,
	ST_UNREACH_TABLE(ST__U)
#undef ST__U
};
const unsigned char st_finding_scope[] = {
#define ST__F(name, scope) ST_SCOPE_##scope,
	ST_FINDING_TABLE(ST__F)
#undef ST__F
};

static struct st_finding *add(struct st_finding *out, int *n, uint8_t kind,
			      const struct st_conn *c)
{
	struct st_finding *f = &out[(*n)++];

	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->scope = st_finding_scope[kind];
	f->conn = c->id;
	f->file = c->file;
	return f;
}

/* When C's CLOSE_WAIT began (*FROM) and ended (*TO: its next state, else
 * its process's end); false if it never was in CLOSE_WAIT. */
static bool cw_span(const struct st_conn *c, uint64_t *from, uint64_t *to)
{
	for (uint32_t i = 0; i < c->nst; i++) {
		if (c->st[i].state != ST_ST_CLOSE_WAIT)
			continue;
		*from = c->st[i].ts;
		*to = i + 1 < c->nst ? c->st[i + 1].ts : c->close_ts;
		/* the EOF read is the call's own word: measured from it
		 * when it came in the CLOSE_WAIT, not after a shutdown */
		if ((c->cw_by & ST_CW_BY_EOF) && c->eof_ts >= *from &&
		    (c->eof_ts <= *to || i + 1 == c->nst))
			*from = c->eof_ts;
		return true;
	}
	return false;
}

/* C sat in CLOSE_WAIT (the peer's FIN came, shown by an EOF read, the
 * traced peer's close or the kernel at close) and the program did not
 * close soon. */
static void close_wait(const struct st_conn *c, uint64_t now, bool open,
		       struct st_finding *out, int *n)
{
	bool closed = c->end == ST_END_CLOSED || c->reset_by;
	uint64_t from, to, gap;

	if (!cw_span(c, &from, &to))
		return;
	if ((open && !closed) || to < from)
		to = now; /* still in CLOSE_WAIT */
	gap = to > from ? to - from : 0;
	/* an EOF read and a process that ended without closing: told
	 * however short (it always was); otherwise only over 1 s */
	if ((closed || open || !(c->cw_by & ST_CW_BY_EOF)) &&
	    gap <= ST_CLOSE_WAIT_NS)
		return;
	struct st_finding *f = add(out, n, ST_F_close_wait, c);
	f->cw = closed ? ST_CW_CLOSED_LATE : open ? ST_CW_OPEN : ST_CW_NEVER;
	f->ns = gap;
	f->cw_by = c->cw_by;
}

/* An RST ended the connection: told once, by the end that sent it, or
 * by the end that received it when the sender was not traced. */
static void reset(const struct st_conn *c, struct st_finding *out, int *n)
{
	const struct st_conn *o = c->other;
	struct st_finding *f;

	if (!(c->reset_by == ST_RST_LOCAL ||
	      (c->reset_by == ST_RST_PEER && !o)))
		return;
	f = add(out, n, ST_F_reset, c);
	f->by_local = c->reset_by == ST_RST_LOCAL;
	f->reason = c->reset_reason;
	f->saw = o ? o->reset_saw : c->reset_saw;
	f->unread = c->close_unread;
	f->role = c->role;
}

/* A socket open at a clean exit was closed by the exit, which is normal
 * (a listener, a backend leaving its client socket to the kernel). It
 * leaked only when it sat unused long before the exit; if its peer had
 * closed first it is a close_wait (CW: said already), not a leak. */
static void fd_leak(const struct st_conn *c, bool cw, struct st_finding *out,
		    int *n)
{
	if (c->end != ST_END_EXIT || cw || c->eof_ts || c->closed_first == -1 ||
	    c->role == ST_ROLE_LISTENER)
		return;
	uint64_t idle = c->close_ts > c->last_ts ? c->close_ts - c->last_ts : 0;
	if (idle <= ST_LEAK_IDLE_NS)
		return;
	struct st_finding *f = add(out, n, ST_F_fd_leak, c);
	f->file = c->end_file;
	f->fd = c->end_fd;
	f->ns = idle;
}

/*
 * An unreachable connect's likely cause, from its errno, whether a SYN
 * was tried and how long it took: the route lookup fails in the call,
 * before a source port is chosen; no ARP/ND answer fails after about
 * 3 s; an ICMP unreachable comes back within a round trip or a SYN
 * retransmission.
 */
static uint8_t unreach_cause(const struct st_conn *c, uint64_t ns)
{
	if (c->kind != ST_KIND_TCP ||
	    (c->connect_err != EHOSTUNREACH && c->connect_err != ENETUNREACH))
		return ST_UNREACH_none;
	if (c->connect_syn < 0 ||
	    (!c->connect_syn && !c->connect_async && ns < ST_ROUTE_FAIL_NS))
		return ST_UNREACH_route;
	if (c->connect_err == EHOSTUNREACH && ns >= ST_NEIGH_FAIL_NS)
		return ST_UNREACH_neighbour;
	return ST_UNREACH_icmp;
}

/* A connect that failed, or was abandoned in SYN_SENT. */
static void connect_failed(const struct st_conn *c, struct st_finding *out,
			   int *n)
{
	struct st_finding *f = add(out, n, ST_F_connect_failed, c);

	f->err = c->connect_err;
	f->peer = c->peer;
	f->ns = c->close_ts - c->connect_ts;
	if (c->connect_err && c->connect_fail_ts >= c->connect_ts)
		f->ns = c->connect_fail_ts - c->connect_ts;
	f->cause = unreach_cause(c, f->ns);
}

/* C retransmitted data (the kernel's count at close): how much, and how
 * long its retransmission timeouts stalled it. */
static void retransmits(const struct st_conn *c, struct st_finding *out, int *n)
{
	const struct st_tcpk *k = &c->tcp;

	/* data sent again: a SYN or FIN retried carries no bytes, and a
	 * retried handshake is a connect's latency (a full accept queue
	 * drops handshakes as a lossy path does), not lost data */
	if (!(k->set & ST_TCPK_FIGS) || !(k->set & ST_TCPK_COUNTERS) ||
	    !k->total_retrans || !k->bytes_retrans)
		return;
	struct st_finding *f = add(out, n, ST_F_retransmits, c);
	f->role = c->role;
	f->retrans = k->total_retrans;
	f->bytes_retrans = k->bytes_retrans;
	f->bytes_sent = k->bytes_sent;
	f->rto_known = k->set & ST_TCPK_RTO;
	f->rtos = k->total_rto;
	f->rto_ns = (uint64_t)k->total_rto_ms * 1000000;
}

/* C's sending was held back by the peer's receive window or by its own
 * send buffer for most of the time it had data to send (the kernel's
 * busy, rwnd- and sndbuf-limited times). */
static void window_limited(const struct st_conn *c, struct st_finding *out,
			   int *n)
{
	const struct st_tcpk *k = &c->tcp;
	bool rwnd = k->rwnd_limited_us >= k->sndbuf_limited_us;
	uint64_t lim = rwnd ? k->rwnd_limited_us : k->sndbuf_limited_us;

	if (!(k->set & ST_TCPK_COUNTERS) || !k->busy_us ||
	    lim * 100 < k->busy_us * ST_WINDOW_LIMITED_PCT ||
	    lim * 1000 < ST_WINDOW_LIMITED_NS)
		return;
	struct st_finding *f = add(out, n, ST_F_window_limited, c);
	f->role = c->role;
	f->rwnd = rwnd;
	f->limited_ns = lim * 1000;
	f->busy_ns = k->busy_us * 1000;
}

/* A listener whose accept queue was full when an accept looked, or that
 * closed with connections queued and never accepted (TCP_INFO at close:
 * they were reset). */
static void queue_full(const struct st_conn *c, struct st_finding *out, int *n)
{
	const struct st_tcpk *k = &c->tcp;
	bool at_close = (k->set & ST_TCPK_QUEUE) && k->queue_len &&
			(!c->accepted || k->queue_len >= k->queue_max);

	if (!c->queue_full && !at_close)
		return;
	struct st_finding *f = add(out, n, ST_F_accept_queue_full, c);
	f->queue_max = at_close && k->queue_max ? k->queue_max : c->queue_max;
	f->at_close = at_close && !c->queue_full;
	f->queue_len = k->queue_len;
	f->syn_dropped = c->syn_dropped;
	f->ack_dropped = c->ack_dropped;
}

void st_overflow_note(struct st_conn *lis, const struct st_conn *cl)
{
	const struct st_tcpk *k = &cl->tcp;

	if (!lis || cl->role != ST_ROLE_CLIENT || cl->kind != ST_KIND_TCP ||
	    !cl->connect_ts)
		return;
	if (cl->connect_abandoned ||
	    (cl->est_ts >= cl->connect_ts + ST_SYN_RTO_NS))
		lis->syn_dropped++;
	else if (cl->est_ts && (k->set & ST_TCPK_COUNTERS) && k->bytes_retrans)
		lis->ack_dropped++;
}

int st_judge(const struct st_conn *c, uint64_t now, bool open,
	     struct st_finding out[ST_JUDGE_MAX])
{
	struct st_finding *f;
	int n = 0;

	if (c->hidden)
		return 0; /* finished before attach: not ours to judge */
	if (c->connect_err || c->connect_abandoned)
		connect_failed(c, out, &n);
	if (c->kind == ST_KIND_UDP && c->udp_refused) {
		f = add(out, &n, ST_F_udp_refused, c);
		f->err = ECONNREFUSED;
		f->peer = c->peer;
		f->count = c->udp_refused;
	}
	if (c->kind == ST_KIND_TCP)
		reset(c, out, &n);
	int before_cw = n;
	if (c->kind == ST_KIND_TCP)
		close_wait(c, now, open, out, &n);
	bool cw = n > before_cw;
	/* a close nobody saw has no time to say who closed first by */
	if (c->kind == ST_KIND_TCP && c->role == ST_ROLE_SERVER &&
	    c->closed_first > 0 && !c->reset_by && !c->closed_unseen &&
	    !c->closed_guess) {
		/* the active closer gets TIME_WAIT */
		f = add(out, &n, ST_F_server_time_wait, c);
		f->role = c->role;
		f->guess = !c->other;
	}
	fd_leak(c, cw, out, &n);
	if (c->role == ST_ROLE_LISTENER && c->backlog > 0 &&
	    c->effective_backlog > 0 && c->effective_backlog < c->backlog) {
		f = add(out, &n, ST_F_backlog_clipped, c);
		f->backlog = c->backlog;
		f->effective = c->effective_backlog;
		f->somaxconn = c->somaxconn;
	}
	if (c->role == ST_ROLE_LISTENER)
		queue_full(c, out, &n);
	if (c->kind == ST_KIND_TCP) {
		retransmits(c, out, &n);
		window_limited(c, out, &n);
	}
	return n;
}

struct st_finding st_finding_lost(int file)
{
	struct st_finding f = { .kind = ST_F_lost_records,
				.scope = ST_SCOPE_PROCESS,
				.file = file };

	return f;
}
