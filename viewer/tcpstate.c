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

void st_tcp_set(struct st_conn *c, uint8_t s, uint64_t ts)
{
	if (c->state == s)
		return;
	c->state = s;
	if (c->nst == c->capst)
		st__grow((void **)&c->st, &c->capst, sizeof(*c->st));
	c->st[c->nst].state = s;
	c->st[c->nst].ts = ts;
	c->nst++;
}

void st_tcp_established(struct st_conn *c, uint64_t ts)
{
	c->est_ts = ts;
	c->connect_pending = false;
	st_tcp_set(c, ST_ST_ESTABLISHED, ts);
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
	st_tcp_set(c, ST_ST_SYN_SENT, r->ts);
	if (!err) {
		/* connect returns once SYN+ACK came back */
		st_tcp_established(c, st_rec_end(r));
	} else if (err == EINPROGRESS || err == EALREADY) {
		c->connect_pending = true;
	} else if (err != EINTR && err != EISCONN) {
		c->connect_err = err;
		st_tcp_set(c, ST_ST_CLOSED, st_rec_end(r));
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
		st_tcp_set(c, ST_ST_CLOSED, end);
	}
}

void st_tcp_data(struct st_conn *c, const struct st_rec *r, uint64_t end)
{
	/* a non-blocking connect completes at the first successful I/O */
	if (c->connect_pending)
		st_tcp_established(c, r->ts);
	if (st_call_dir[r->call] != ST_DIR_IN || r->ret != 0 ||
	    c->kind == ST_KIND_UDP)
		return;
	/* a read of 0: the peer's FIN */
	if (!c->eof_ts)
		c->eof_ts = end;
	if (c->state == ST_ST_ESTABLISHED) {
		c->closed_first = -1;
		st_tcp_set(c, ST_ST_CLOSE_WAIT, end);
	} else if (c->state == ST_ST_FIN_WAIT && c->done) {
		st_tcp_set(c, ST_ST_TIME_WAIT, end);
	}
}

void st_tcp_shutdown(struct st_conn *c, const struct st_rec *r, uint64_t end)
{
	int how = r->u.how.how;

	if ((r->flags & ST_REC_ERR) || c->kind != ST_KIND_TCP ||
	    (how != SHUT_WR && how != SHUT_RDWR))
		return;
	if (c->state == ST_ST_ESTABLISHED) {
		/* a half-close: our FIN goes out, we may still read */
		c->closed_first = 1;
		c->fin_ts = end;
		st_tcp_set(c, ST_ST_FIN_WAIT, end);
		if (c->other && c->other->state == ST_ST_ESTABLISHED) {
			c->other->closed_first = -1;
			st_tcp_set(c->other, ST_ST_CLOSE_WAIT, end);
		}
	} else if (c->state == ST_ST_CLOSE_WAIT) {
		c->fin_ts = end;
		st_tcp_set(c, ST_ST_LAST_ACK, end);
	}
}

/* An established TCP end closes first: FIN, then TIME_WAIT. */
static void active_close(struct st_conn *c, uint64_t ts)
{
	struct st_conn *o = c->other;

	c->closed_first = 1;
	c->fin_ts = ts;
	st_tcp_set(c, ST_ST_FIN_WAIT, ts);
	if (o && o->state == ST_ST_ESTABLISHED) {
		o->closed_first = -1;
		st_tcp_set(o, ST_ST_CLOSE_WAIT, ts);
	} else if (o && o->closed_first < 0 && o->fin_ts) {
		/* the peer saw our FIN and closed before this close was
		 * recorded (records are stamped when calls return): both
		 * FINs are out */
		st_tcp_set(c, ST_ST_TIME_WAIT, ts);
	}
}

/* An end in CLOSE_WAIT closes: its FIN answers the peer's. */
static void passive_close(struct st_conn *c, uint64_t ts)
{
	struct st_conn *o = c->other;

	c->fin_ts = ts;
	c->closed_first = -1;
	st_tcp_set(c, ST_ST_LAST_ACK, ts);
	st_tcp_set(c, ST_ST_CLOSED, ts);
	if (o && o->state == ST_ST_FIN_WAIT) {
		o->closed_first = 1;
		st_tcp_set(o, ST_ST_TIME_WAIT, ts);
	}
}

void st_tcp_closed(struct st_conn *c, uint64_t ts, uint8_t end)
{
	c->close_ts = ts;
	c->end = end;
	if (end == ST_END_DEATH)
		return; /* killed: what the kernel did is not known */
	if (c->kind != ST_KIND_TCP) {
		st_tcp_set(c, ST_ST_CLOSED, ts);
		return;
	}
	switch (c->state) {
	case ST_ST_ESTABLISHED:
		active_close(c, ts);
		break;
	case ST_ST_FIN_WAIT:
		break; /* after shutdown: FIN already sent */
	case ST_ST_CLOSE_WAIT:
		passive_close(c, ts);
		break;
	default:
		st_tcp_set(c, ST_ST_CLOSED, ts);
	}
	if (c->state == ST_ST_FIN_WAIT && c->eof_ts) {
		/* both FINs seen: the 60 s TIME_WAIT starts */
		st_tcp_set(c, ST_ST_TIME_WAIT, ts);
	}
}

void st_tcp_joined(struct st_conn *cl, struct st_conn *srv)
{
	/* connect returned after SYN+ACK: from then the connection waited
	 * in the accept queue until accept returned it */
	if (cl->est_ts) {
		srv->accept_wait = cl->est_ts < srv->accept_ts
					   ? srv->accept_ts - cl->est_ts
					   : 0;
		if (srv->nst && cl->est_ts < srv->st[0].ts)
			srv->st[0].ts = cl->est_ts;
	}
	if (cl->done && cl->closed_first > 0 &&
	    srv->state == ST_ST_ESTABLISHED) {
		/* the client closed while queued: the server finds FIN */
		srv->closed_first = -1;
		st_tcp_set(srv, ST_ST_CLOSE_WAIT,
			   cl->close_ts > srv->accept_ts ? cl->close_ts
							 : srv->accept_ts);
	}
}

void st_tcp_seen(struct st_conn *c, uint32_t tcp_state, uint64_t ts)
{
	uint8_t st = st_tcp_from_kernel(tcp_state);

	if (st == ST_ST_NONE && c->peer.family)
		st = ST_ST_ESTABLISHED; /* no TCP_INFO: it is connected */
	if (st != ST_ST_NONE)
		st_tcp_set(c, st, ts);
	if (st == ST_ST_CLOSE_WAIT) {
		c->closed_first = -1;
		c->eof_ts = ts;
	} else if (st == ST_ST_FIN_WAIT) {
		c->closed_first = 1;
		c->fin_ts = ts;
	}
}
