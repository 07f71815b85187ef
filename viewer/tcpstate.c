/* SPDX-License-Identifier: MIT */
/* The TCP state rules: what each call (and the peer's) moves an end to. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "conntab.h"
#include "merge.h"
#include "records.h"
#include "tcpstate.h"

const char *const st_state_name[] = {
#define ST__S(n) #n,
	ST_STATE_TABLE(ST__S)
#undef ST__S
};
const unsigned char st_state_name_len[] = {
#define ST__S(n) sizeof(#n) - 1,
	ST_STATE_TABLE(ST__S)
#undef ST__S
};

const char *const st_src_name[] = {
#define ST__E(n) #n,
	ST_SRC_TABLE(ST__E)
#undef ST__E
};

const char *const st_rst_reason_name[] = {
#define ST__R(n) #n,
	ST_RST_REASON_TABLE(ST__R)
#undef ST__R
};

/*
 * Takes back C's latest state, a guess stronger evidence overruled (the
 * kernel's state at close): lines of either end that showed it show
 * nothing for it now.
 */
static void drop_last_state(struct st_conn *c)
{
	struct st_conn *o = c->other;
	uint16_t n = (uint16_t)--c->nst;

	c->state = n ? c->st[n - 1].state : ST_ST_NONE;
	for (uint32_t i = 0; i < c->nev; i++)
		if (c->ev[i].self_to > n)
			c->ev[i].self_to = c->ev[i].self_from = n;
	for (uint32_t i = 0; o && i < o->nev; i++)
		if (o->ev[i].other_to > n)
			o->ev[i].other_to = o->ev[i].other_from = n;
}

static void reset_end(struct st_conn *c, uint8_t by, uint8_t reason,
		      uint64_t ts, uint8_t src)
{
	c->reset_by = by;
	c->reset_reason = reason;
	c->reset_ts = ts;
	st_tcp_set(c, ST_ST_CLOSED, ts, src);
}

void st_tcp_reset(struct st_conn *c, uint8_t by, uint8_t reason, uint64_t ts,
		  uint8_t src)
{
	struct st_conn *o = c->other;

	if (c->reset_by)
		return;
	reset_end(c, by, reason, ts, src);
	/* the other end's socket is gone too, at once; the reason is known
	 * there only when this end's side said it */
	if (o && !o->reset_by && o->state != ST_ST_CLOSED &&
	    o->state != ST_ST_NONE)
		reset_end(o, by == ST_RST_LOCAL ? ST_RST_PEER : ST_RST_LOCAL,
			  reason == ST_RST_peer ? ST_RST_none : reason, ts,
			  ST_SRC_peer);
}

const char *st_tcp_close_how(const struct st_conn *c)
{
	if (c->kind != ST_KIND_TCP)
		return NULL;
	if (c->reset_by)
		return "rst";
	return c->fin_ts || c->eof_ts ? "fin" : NULL;
}

void st_tcp_set(struct st_conn *c, uint8_t s, uint64_t ts, uint8_t src)
{
	if (c->state == s)
		return;
	c->state = s;
	if (c->nst == c->capst)
		st__grow((void **)&c->st, &c->capst, sizeof(*c->st));
	c->st[c->nst].state = s;
	c->st[c->nst].src = src;
	c->st[c->nst].ts = ts;
	c->nst++;
}

/* The peer's FIN reached C, ESTABLISHED, at TS: BY (enum st_cw_by) saw it. */
static void close_wait(struct st_conn *c, uint8_t by, uint64_t ts)
{
	c->closed_first = -1;
	c->cw_by |= by;
	st_tcp_set(c, ST_ST_CLOSE_WAIT, ts,
		   by == ST_CW_BY_EOF	   ? ST_SRC_call
		   : by == ST_CW_BY_KERNEL ? ST_SRC_kernel
					   : ST_SRC_peer);
}

void st_tcp_established(struct st_conn *c, uint64_t ts)
{
	c->est_ts = ts;
	c->connect_pending = false;
	st_tcp_set(c, ST_ST_ESTABLISHED, ts, ST_SRC_call);
}

uint8_t st_tcp_from_kernel(uint32_t s)
{
	switch (s) {
	case TCP_ESTABLISHED:
		return ST_ST_ESTABLISHED;
	case TCP_SYN_SENT:
		return ST_ST_SYN_SENT;
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
	case TCP_CLOSING:
		return ST_ST_FIN_WAIT;
	case TCP_TIME_WAIT:
		return ST_ST_TIME_WAIT;
	case TCP_CLOSE_WAIT:
		return ST_ST_CLOSE_WAIT;
	case TCP_LAST_ACK:
		return ST_ST_LAST_ACK;
	case TCP_LISTEN:
		return ST_ST_LISTEN;
	case TCP_CLOSE:
		return ST_ST_CLOSED;
	default:
		return ST_ST_NONE;
	}
}

void st_tcp_connect(struct st_conn *c, const struct st_rec *r)
{
	int err = r->flags & ST_REC_ERR ? r->err : 0;

	c->connect_ts = r->ts;
	/* the local port says whether a SYN was tried: none is chosen when
	 * the route lookup fails first (recorded after unreachable) */
	if (r->u.connect.local.port)
		c->connect_syn = 1;
	else if (r->u.connect.local.family &&
		 (err == EHOSTUNREACH || err == ENETUNREACH))
		c->connect_syn = -1;
	if (err == EINPROGRESS)
		c->connect_async = true;
	if (c->connect_syn >= 0)
		st_tcp_set(c, ST_ST_SYN_SENT, r->ts, ST_SRC_call);
	if (!err) {
		/* connect returns once SYN+ACK came back */
		st_tcp_established(c, st_rec_end(r));
	} else if (err == EINPROGRESS || err == EALREADY) {
		c->connect_pending = true;
	} else if (err != EINTR && err != EISCONN) {
		c->connect_err = err;
		c->connect_fail_ts = st_rec_end(r);
		st_tcp_set(c, ST_ST_CLOSED, st_rec_end(r), ST_SRC_call);
	}
}

void st_tcp_sockopt(struct st_conn *c, const struct st_rec *r)
{
	uint64_t end = st_rec_end(r);

	if ((r->flags & ST_REC_ERR) || !c->connect_pending)
		return;
	/* SO_ERROR of a non-blocking connect: 0 is success */
	if (r->u.sockopt.value == 0) {
		st_tcp_established(c, end);
	} else if (r->u.sockopt.value != EINPROGRESS &&
		   r->u.sockopt.value != EALREADY) {
		c->connect_pending = false;
		c->connect_err = r->u.sockopt.value;
		c->connect_fail_ts = end;
		st_tcp_set(c, ST_ST_CLOSED, end, ST_SRC_call);
	}
}

void st_tcp_data(struct st_conn *c, const struct st_rec *r, uint64_t end)
{
	struct st_conn *o = c->other;

	/* a non-blocking connect completes at the first successful I/O */
	if (c->connect_pending)
		st_tcp_established(c, r->ts);
	/* data sent after the traced peer's close returned (FIN only):
	 * its kernel answers with RST.  The write's start counts: one that
	 * returned after the close may have delivered its bytes before. */
	if (st_call_dir[r->call] == ST_DIR_OUT && st_rec_bytes(r) > 0 && o &&
	    c->kind == ST_KIND_TCP && o->done && o->end == ST_END_CLOSED &&
	    o->state == ST_ST_FIN_WAIT && !o->reset_by && r->ts > o->close_ts)
		st_tcp_reset(o, ST_RST_LOCAL, ST_RST_data_after_close, end,
			     ST_SRC_peer);
	/* after shutdown(SHUT_RD) a read of 0 is the local shutdown, not
	 * the peer's FIN */
	if (st_call_dir[r->call] != ST_DIR_IN || !st_rec_eof(r) ||
	    c->kind == ST_KIND_UDP || c->shut_rd)
		return;
	/* a read of 0 after an RST came: the reset, not the peer's FIN */
	if (c->reset_by == ST_RST_PEER && !c->reset_saw && end >= c->reset_ts)
		c->reset_saw = ST_SAW_EOF;
	/* a read of 0: the peer's FIN */
	if (!c->eof_ts)
		c->eof_ts = end;
	if (c->state == ST_ST_ESTABLISHED)
		close_wait(c, ST_CW_BY_EOF, end);
	else if (c->state == ST_ST_CLOSE_WAIT)
		c->cw_by |= ST_CW_BY_EOF;
	else if (c->state == ST_ST_FIN_WAIT)
		/* our FIN went first (close, or shutdown(SHUT_WR) with the
		 * fd still open): the peer's FIN starts TIME_WAIT */
		st_tcp_set(c, ST_ST_TIME_WAIT, end, ST_SRC_call);
}

void st_tcp_data_err(struct st_conn *c, const struct st_rec *r, uint64_t end)
{
	int err = r->err;

	bool connected = c->state == ST_ST_ESTABLISHED ||
			 c->state == ST_ST_CLOSE_WAIT ||
			 c->state == ST_ST_FIN_WAIT || c->reset_by;

	if (c->kind != ST_KIND_TCP || !connected ||
	    (err != ECONNRESET &&
	     !(err == EPIPE && st_call_dir[r->call] == ST_DIR_OUT &&
	       !c->fin_ts)))
		return;
	/* the call's own result: the peer's RST had come by its return */
	if (!c->reset_by)
		st_tcp_reset(c, ST_RST_PEER, ST_RST_peer, end, ST_SRC_call);
	if (c->reset_by == ST_RST_PEER && !c->reset_saw)
		c->reset_saw =
			err == ECONNRESET ? ST_SAW_ECONNRESET : ST_SAW_EPIPE;
}

void st_tcp_shutdown(struct st_conn *c, const struct st_rec *r, uint64_t end)
{
	int how = r->u.how.how;

	if ((r->flags & ST_REC_ERR) || c->kind != ST_KIND_TCP)
		return;
	if (how == SHUT_RD || how == SHUT_RDWR)
		c->shut_rd = true;
	if (how != SHUT_WR && how != SHUT_RDWR)
		return;
	if (c->state == ST_ST_ESTABLISHED) {
		/* a half-close: our FIN goes out, we may still read */
		c->closed_first = 1;
		c->fin_ts = end;
		st_tcp_set(c, ST_ST_FIN_WAIT, end, ST_SRC_call);
		if (c->other && c->other->state == ST_ST_ESTABLISHED)
			close_wait(c->other, ST_CW_BY_PEER, end);
	} else if (c->state == ST_ST_CLOSE_WAIT) {
		c->fin_ts = end;
		st_tcp_set(c, ST_ST_LAST_ACK, end, ST_SRC_call);
	}
}

/* An established TCP end closes first: FIN, then TIME_WAIT. */
static void active_close(struct st_conn *c, uint64_t ts, uint8_t src)
{
	struct st_conn *o = c->other;

	c->closed_first = 1;
	c->fin_ts = ts;
	st_tcp_set(c, ST_ST_FIN_WAIT, ts, src);
	if (o && o->state == ST_ST_ESTABLISHED) {
		close_wait(o, ST_CW_BY_PEER, ts);
	} else if (o && o->closed_first < 0 && o->fin_ts) {
		/* the peer saw our FIN and closed before this close was
		 * recorded (records are stamped when calls return): both
		 * FINs are out */
		st_tcp_set(c, ST_ST_TIME_WAIT, ts, ST_SRC_peer);
	}
}

/* An end in CLOSE_WAIT closes: its FIN answers the peer's. */
static void passive_close(struct st_conn *c, uint64_t ts)
{
	struct st_conn *o = c->other;

	c->fin_ts = ts;
	c->closed_first = -1;
	st_tcp_set(c, ST_ST_LAST_ACK, ts, ST_SRC_call);
	/* CLOSED once the peer's last ACK is in: the traced peer in
	 * FIN_WAIT sends it; an untraced one is assumed to */
	st_tcp_set(c, ST_ST_CLOSED, ts, o ? ST_SRC_peer : ST_SRC_inferred);
	if (o && o->state == ST_ST_FIN_WAIT) {
		o->closed_first = 1;
		st_tcp_set(o, ST_ST_TIME_WAIT, ts, ST_SRC_peer);
	}
}

/*
 * Why closing C (as END says) sends RST instead of FIN, or 0: the
 * kernel's word at close (unread bytes, SO_LINGER {1,0}), else the
 * program's own successful setsockopt; at exit, bytes the traced peer
 * sent that C never read.
 */
static uint8_t rst_reason(const struct st_conn *c, uint8_t end)
{
	const struct st_conn *o = c->other;

	if (c->reset_by ||
	    (c->state != ST_ST_ESTABLISHED && c->state != ST_ST_CLOSE_WAIT &&
	     c->state != ST_ST_FIN_WAIT))
		return 0;
	/* at exit: the kernel's unread bytes (exit_close), else a guess
	 * from the traced peer's bytes */
	if (end == ST_END_EXIT && !(c->close_flags & ST_CLOSE_UNREAD))
		return o && o->bytes_out > c->bytes_in ? ST_RST_exit_unread : 0;
	if ((c->close_flags & ST_CLOSE_UNREAD) && c->close_unread)
		return end == ST_END_EXIT ? ST_RST_exit_unread : ST_RST_unread;
	if (c->close_flags & ST_CLOSE_LINGER)
		return c->close_flags & ST_CLOSE_LINGER0 ? ST_RST_linger0 : 0;
	return st_opts_linger0(&c->opts) ? ST_RST_linger0 : 0;
}

/* What showed the RST of closing C for WHY: the kernel's word at close,
 * the program's own setsockopt, or the traced peer's bytes. */
static uint8_t rst_src(const struct st_conn *c, uint8_t why)
{
	if (why == ST_RST_exit_unread)
		return ST_SRC_peer;
	if (why == ST_RST_linger0 && !(c->close_flags & ST_CLOSE_LINGER))
		return ST_SRC_call;
	return ST_SRC_kernel;
}

/* C's close found it still ESTABLISHED (the kernel's word) though the
 * peer's close put it in CLOSE_WAIT, and so had the peer's close call:
 * both FINs crossed, both closed first, both go to TIME_WAIT.  (A peer
 * that exited is exit_closed_later's: its kernel closed it later.) */
static bool simultaneous(struct st_conn *c, uint64_t ts)
{
	struct st_conn *o = c->other;

	if (c->state != ST_ST_CLOSE_WAIT || c->eof_ts || !o ||
	    c->close_tcp_state != TCP_ESTABLISHED ||
	    o->close_tcp_state != TCP_ESTABLISHED || o->end != ST_END_CLOSED ||
	    o->state != ST_ST_FIN_WAIT ||
	    c->st[c->nst - 1].state != ST_ST_CLOSE_WAIT)
		return false;
	drop_last_state(c);
	c->closed_first = o->closed_first = 2;
	c->fin_ts = ts;
	st_tcp_set(c, ST_ST_FIN_WAIT, ts, ST_SRC_call);
	st_tcp_set(c, ST_ST_TIME_WAIT, ts, ST_SRC_kernel);
	st_tcp_set(o, ST_ST_TIME_WAIT, ts, ST_SRC_kernel);
	return true;
}

/*
 * C's close found it still ESTABLISHED (the kernel's word) though the
 * peer's exit put it in CLOSE_WAIT: the exit time is when the process
 * began to exit, and its kernel closed the socket later, after C's
 * close.  C closed first; the peer's FIN answered it.
 */
static bool exit_closed_later(struct st_conn *c, uint64_t ts)
{
	struct st_conn *o = c->other;

	if (c->state != ST_ST_CLOSE_WAIT || c->eof_ts || !o ||
	    c->close_tcp_state != TCP_ESTABLISHED || o->end != ST_END_EXIT ||
	    o->state != ST_ST_FIN_WAIT || o->eof_ts ||
	    c->st[c->nst - 1].state != ST_ST_CLOSE_WAIT ||
	    o->st[o->nst - 1].state != ST_ST_FIN_WAIT)
		return false;
	drop_last_state(c);
	drop_last_state(o);
	c->cw_by = 0;
	o->fin_ts = 0;
	o->closed_guess = false; /* C's close settled it */
	active_close(c, ts, ST_SRC_kernel);
	passive_close(o, ts);
	return true;
}

/* C's close found it in SYN_SENT (the kernel's word): its connect was
 * abandoned, whatever SO_ERROR 0 made us guess. */
static bool abandoned(struct st_conn *c, uint64_t ts)
{
	if (c->close_tcp_state != TCP_SYN_SENT || !c->connect_ts)
		return false;
	if (c->state == ST_ST_ESTABLISHED && !c->other && c->nst > 1 &&
	    c->st[c->nst - 1].state == ST_ST_ESTABLISHED)
		drop_last_state(c);
	c->est_ts = 0;
	c->connect_pending = false;
	c->connect_abandoned = true;
	st_tcp_set(c, ST_ST_CLOSED, ts, ST_SRC_kernel);
	return true;
}

void st_tcp_close_record(struct st_conn *c, const struct st_rec *r)
{
	bool range =
		r->call == ST_CALL_close_range || r->call == ST_CALL_closefrom;

	c->close_tcp_state =
		range ? r->u.range.tcp_state : r->u.close.tcp_state;
	c->close_unread = range ? r->u.range.unread : r->u.close.unread;
	c->close_flags =
		range ? r->u.range.close_flags : r->u.close.close_flags;
}

void st_tcp_closed(struct st_conn *c, uint64_t ts, uint8_t end)
{
	uint8_t why;

	c->close_ts = ts;
	c->end = end;
	if (end == ST_END_DEATH)
		return; /* killed: what the kernel did is not known */
	if (c->kind != ST_KIND_TCP) {
		st_tcp_set(c, ST_ST_CLOSED, ts, ST_SRC_call);
		return;
	}
	if ((why = rst_reason(c, end))) {
		if (!c->closed_first)
			c->closed_first = 1;
		if (c->other && !c->other->closed_first)
			c->other->closed_first = -1;
		st_tcp_reset(c, ST_RST_LOCAL, why, ts, rst_src(c, why));
		return;
	}
	/* a close call says who closed first, and so does the kernel's
	 * word at exit (exit_close) when the peer's FIN had come or the
	 * connect never completed; ESTABLISHED there does not: the kernel
	 * closes the socket later, and the peer's FIN may come meanwhile
	 * (PostgreSQL's backends: ss shows the client's TIME_WAIT) */
	bool known = end == ST_END_CLOSED ||
		     c->close_tcp_state == TCP_CLOSE_WAIT ||
		     c->close_tcp_state == TCP_SYN_SENT;
	if (known && (abandoned(c, ts) || simultaneous(c, ts) ||
		      exit_closed_later(c, ts)))
		return;
	if (c->close_tcp_state == TCP_CLOSE_WAIT &&
	    (c->state == ST_ST_ESTABLISHED || c->state == ST_ST_CLOSE_WAIT))
		/* the kernel's word: the peer's FIN had come, read or not */
		close_wait(c, ST_CW_BY_KERNEL, ts);
	switch (c->state) {
	case ST_ST_ESTABLISHED:
		c->closed_guess = !known;
		active_close(c, ts, known ? ST_SRC_call : ST_SRC_inferred);
		break;
	case ST_ST_FIN_WAIT:
		break; /* after shutdown: FIN already sent */
	case ST_ST_TIME_WAIT:
		break; /* after shutdown, the peer's FIN came: it stands */
	case ST_ST_CLOSE_WAIT:
		passive_close(c, ts);
		break;
	default:
		st_tcp_set(c, ST_ST_CLOSED, ts, ST_SRC_call);
	}
	if (c->state == ST_ST_FIN_WAIT && c->eof_ts) {
		/* both FINs seen: the 60 s TIME_WAIT starts */
		st_tcp_set(c, ST_ST_TIME_WAIT, ts, ST_SRC_call);
	}
}

/*
 * Server end SRV, whose first state is the ESTABLISHED its accept gave,
 * was in SYN_RECV from TS (as SRC showed) before it: the state goes
 * first, and lines of either end that showed SRV's states move up.
 */
static void syn_recv_first(struct st_conn *srv, uint64_t ts, uint8_t src)
{
	struct st_conn *o = srv->other;

	if (srv->nst == srv->capst)
		st__grow((void **)&srv->st, &srv->capst, sizeof(*srv->st));
	memmove(srv->st + 1, srv->st, srv->nst * sizeof(*srv->st));
	srv->st[0].state = ST_ST_SYN_RECV;
	srv->st[0].ts = ts;
	srv->st[0].src = src;
	srv->nst++;
	for (uint32_t i = 0; i < srv->nev; i++) {
		srv->ev[i].self_from += srv->ev[i].self_from > 0;
		srv->ev[i].self_to += srv->ev[i].self_to > 0;
	}
	for (uint32_t i = 0; o && i < o->nev; i++) {
		o->ev[i].other_from += o->ev[i].other_from > 0;
		o->ev[i].other_to += o->ev[i].other_to > 0;
	}
}

void st_tcp_joined(struct st_conn *cl, struct st_conn *srv)
{
	/* connect returned after SYN+ACK: the server end was in SYN_RECV
	 * since the SYN, ESTABLISHED from the client's final ACK, then
	 * waited in the accept queue until accept returned it.  The
	 * one-way delays are added when the RTT is known (arrivals). */
	if (srv->nst && srv->st[0].state == ST_ST_ESTABLISHED) {
		if (cl->est_ts && cl->est_ts < srv->st[0].ts) {
			/* the client's connect showed it */
			srv->st[0].ts = cl->est_ts;
			srv->st[0].src = ST_SRC_peer;
		}
		/* its SYN left when connect began (on loopback accept can
		 * return before connect does: the ACK came in between) */
		if (cl->connect_ts && cl->connect_ts < srv->st[0].ts)
			syn_recv_first(srv, cl->connect_ts, ST_SRC_peer);
	}
	if (cl->est_ts)
		srv->accept_wait = cl->est_ts < srv->accept_ts
					   ? srv->accept_ts - cl->est_ts
					   : 0;
	if (cl->done && cl->closed_first > 0 &&
	    srv->state == ST_ST_ESTABLISHED) {
		/* the client closed while queued: the server finds FIN */
		close_wait(srv, ST_CW_BY_PEER,
			   cl->close_ts > srv->accept_ts ? cl->close_ts
							 : srv->accept_ts);
	}
}

void st_tcp_accept_queue(struct st_conn *l, const struct st_rec *r)
{
	const struct st_p_accept *p = &r->u.accept;
	/* queue_len: the queue before this accept took one (older traces:
	 * after it); the kernel drops handshakes while the queue holds more
	 * than its limit */
	uint32_t before = p->queue_len +
			  (r->ret >= 0 && !(r->flags & ST_REC_QUEUE_BEFORE));

	if (p->queue_len > l->max_queue_len)
		l->max_queue_len = p->queue_len;
	if (!p->queue_max)
		return; /* no word from the kernel */
	l->queue_max = p->queue_max;
	l->last_queue_len = before ? before - 1 : 0;
	if (before > p->queue_max)
		l->queue_full = true;
}

void st_tcp_seen(struct st_conn *c, uint32_t tcp_state, uint64_t ts)
{
	uint8_t st = st_tcp_from_kernel(tcp_state), src = ST_SRC_kernel;

	if (st == ST_ST_NONE && c->peer.family) {
		st = ST_ST_ESTABLISHED; /* no TCP_INFO: it is connected */
		src = ST_SRC_inferred;
	}
	if (st != ST_ST_NONE)
		st_tcp_set(c, st, ts, src);
	if (st == ST_ST_CLOSE_WAIT) {
		c->closed_first = -1;
		c->cw_by |= ST_CW_BY_KERNEL;
		c->eof_ts = ts;
	} else if (st == ST_ST_FIN_WAIT) {
		c->closed_first = 1;
		c->fin_ts = ts;
	}
}

void st_tcp_tw_reused(struct st_conn *c, uint64_t ts, uint8_t src, uint64_t by)
{
	uint64_t from = c->nst ? c->st[c->nst - 1].ts : 0;

	if (c->state != ST_ST_TIME_WAIT || ts < from ||
	    ts >= from + ST_TIME_WAIT_NS)
		return;
	c->tw_reused_by = by;
	st_tcp_set(c, ST_ST_CLOSED, ts, src);
}

void st_tcp_untraced_peer(struct st_conn *c)
{
	uint16_t n = (uint16_t)c->nst;
	struct st_ev *e = c->nev ? &c->ev[c->nev - 1] : NULL;

	if (c->kind != ST_KIND_TCP || c->other || c->state != ST_ST_FIN_WAIT ||
	    c->reset_by || (c->end != ST_END_CLOSED && c->end != ST_END_EXIT))
		return;
	st_tcp_set(c, ST_ST_TIME_WAIT, c->close_ts, ST_SRC_inferred);
	/* its last line (the close) shows the guess */
	if (e && e->self_to == n) {
		if (e->self_from == e->self_to)
			e->self_from = n;
		e->self_to = (uint16_t)c->nst;
	}
}

/* Half the round trip of the connection C and O belong to, in ns: the
 * kernel's min_rtt at either end's close (the client's first), or 0
 * when neither said. */
static uint64_t one_way(const struct st_conn *c, const struct st_conn *o)
{
	const struct st_conn *cl = c->role == ST_ROLE_CLIENT ? c : o;
	const struct st_conn *sv = cl == c ? o : c;

	if ((cl->tcp.set & ST_TCPK_FIGS) && cl->tcp.min_rtt_us)
		return cl->tcp.min_rtt_us * 500ull;
	if ((sv->tcp.set & ST_TCPK_FIGS) && sv->tcp.min_rtt_us)
		return sv->tcp.min_rtt_us * 500ull;
	return 0;
}

/* Server end SRV's SYN_RECV and ESTABLISHED, from client CL's connect,
 * moved to when the SYN and the final ACK arrived, D ns on. */
static void handshake_arrivals(struct st_conn *srv, const struct st_conn *cl,
			       uint64_t d)
{
	struct st_stchange *s = srv->st;

	if (srv->nst < 2 || s[0].state != ST_ST_SYN_RECV ||
	    s[1].state != ST_ST_ESTABLISHED || s[1].src != ST_SRC_peer)
		return;
	/* the final ACK left as connect returned; accept returned the
	 * connection, so it had come by then; an accept that found the
	 * queue empty waited for it, so it came during the call */
	uint64_t est = cl->est_ts + d;
	if (srv->accept_ts && est > srv->accept_ts)
		est = srv->accept_ts;
	if (srv->accept_waited && est < srv->accept_start)
		est = srv->accept_start;
	/* the SYN that got the SYN+ACK (the last, if retried) came one
	 * round trip before that ACK, and at least D after connect began */
	uint64_t syn = cl->connect_ts + d;
	if (cl->est_ts > syn + d)
		syn = cl->est_ts - d;
	s[0].ts = syn < est ? syn : est;
	s[1].ts = est;
	s[0].src = s[1].src = ST_SRC_inferred;
	srv->accept_wait = srv->accept_ts > est ? srv->accept_ts - est : 0;
}

/* When state I of C, which the peer's segment caused, arrived: D after
 * the segment left (the peer's FIN; for LAST_ACK's CLOSED, our FIN went
 * and the ACK came back).  0: not such a state. */
static uint64_t arrival(const struct st_conn *c, uint32_t i, uint64_t d)
{
	const struct st_stchange *s = &c->st[i];

	if (s->src != ST_SRC_peer)
		return 0;
	if ((s->state == ST_ST_CLOSE_WAIT || s->state == ST_ST_TIME_WAIT) &&
	    c->other->fin_ts)
		return c->other->fin_ts + d;
	if (s->state == ST_ST_CLOSED && i && c->fin_ts && !c->reset_by &&
	    c->st[i - 1].state == ST_ST_LAST_ACK)
		return c->fin_ts + 2 * d;
	return 0;
}

/* C's states the peer's segments caused, moved to their arrival, D ns
 * after the segment left: no earlier than they were, no later than the
 * next state, nor than a read of 0 that showed the FIN had come. */
static void segment_arrivals(struct st_conn *c, uint64_t d)
{
	for (uint32_t i = 0; i < c->nst; i++) {
		struct st_stchange *s = &c->st[i];
		uint64_t t = arrival(c, i, d);
		uint8_t src = ST_SRC_inferred;

		if (t <= s->ts)
			continue;
		if (i + 1 < c->nst && t > c->st[i + 1].ts)
			t = c->st[i + 1].ts;
		if (s->state != ST_ST_CLOSED && c->eof_ts >= s->ts &&
		    c->eof_ts < t) {
			t = c->eof_ts;
			src = ST_SRC_call;
		}
		s->ts = t;
		s->src = src;
	}
}

void st_tcp_arrivals(struct st_conn *c)
{
	struct st_conn *o = c->other;
	uint64_t d;

	if (!o || c->kind != ST_KIND_TCP || !(d = one_way(c, o)))
		return;
	if (c->role == ST_ROLE_SERVER && o->role == ST_ROLE_CLIENT)
		handshake_arrivals(c, o, d);
	else if (o->role == ST_ROLE_SERVER && c->role == ST_ROLE_CLIENT)
		handshake_arrivals(o, c, d);
	segment_arrivals(c, d);
	segment_arrivals(o, d);
}
