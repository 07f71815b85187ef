/* SPDX-License-Identifier: MIT */
/* The TCP state rules on hand-built ends and records: DESIGN.md's facts. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "model_fixture.h"
#include "tcpstate.h"

/* The states END went through, as "A B C". */
static const char *states(const struct st_conn *c)
{
	static char buf[256];
	size_t n = 0;

	buf[0] = 0;
	for (uint32_t i = 0; i < c->nst; i++)
		n += snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? " " : "",
			      st_state_name[c->st[i].state]);
	return buf;
}

/* The states END went through with what showed each: "A:call B:peer". */
static const char *sources(const struct st_conn *c)
{
	static char buf[512];
	size_t n = 0;

	buf[0] = 0;
	for (uint32_t i = 0; i < c->nst; i++)
		n += snprintf(buf + n, sizeof(buf) - n, "%s%s:%s", i ? " " : "",
			      st_state_name[c->st[i].state],
			      st_src_name[c->st[i].src]);
	return buf;
}

static struct st_conn *end_new(uint8_t role)
{
	struct st_conn *c = calloc(1, sizeof(*c));

	c->kind = ST_KIND_TCP;
	c->role = role;
	return c;
}

static void end_free(struct st_conn *c)
{
	free(c->st);
	free(c);
}

/* A client and a server end, ESTABLISHED and joined. */
static void pair(struct st_conn **cl, struct st_conn **srv)
{
	*cl = end_new(ST_ROLE_CLIENT);
	*srv = end_new(ST_ROLE_SERVER);
	(*cl)->other = *srv;
	(*srv)->other = *cl;
	st_tcp_established(*cl, 1 * MS);
	st_tcp_established(*srv, 1 * MS);
}

/* The times of END's states, in ms, as "A@t B@t" with sources. */
static const char *times(const struct st_conn *c)
{
	static char buf[512];
	size_t n = 0;

	buf[0] = 0;
	for (uint32_t i = 0; i < c->nst; i++)
		n += snprintf(buf + n, sizeof(buf) - n, "%s%s@%g:%s",
			      i ? " " : "", st_state_name[c->st[i].state],
			      (double)c->st[i].ts / MS,
			      st_src_name[c->st[i].src]);
	return buf;
}

/*
 * A client 50 ms one way from its server (min_rtt 100 ms): connect
 * from 10 ms to 110 ms, accept returned at 200 ms without waiting.
 * Returns the joined pair, ready to close.
 */
static void far_pair(struct st_conn **cl, struct st_conn **srv, bool waited,
		     uint64_t accept_start, uint64_t accept_end)
{
	struct st_rec r = fx_connect(3, 1, 10, fx_v4(80), fx_v4(5000));

	r.dur = 100 * MS;
	*cl = end_new(ST_ROLE_CLIENT);
	*srv = end_new(ST_ROLE_SERVER);
	st_tcp_connect(*cl, &r);
	(*srv)->accept_start = accept_start;
	(*srv)->accept_ts = accept_end;
	(*srv)->accept_waited = waited;
	st_tcp_established(*srv, accept_end);
	(*cl)->other = *srv;
	(*srv)->other = *cl;
	st_tcp_joined(*cl, *srv);
	(*cl)->tcp.set = ST_TCPK_FIGS;
	(*cl)->tcp.min_rtt_us = 100000;
}

/* Issue 13 item 5: the server end is in SYN_RECV from its SYN to the
 * final ACK, which arrive one-way delay after they left; the queue wait
 * starts at that ACK's arrival, not at the client's connect return. */
static void test_handshake_across_latency(void **state)
{
	(void)state;
	struct st_conn *cl, *srv;

	far_pair(&cl, &srv, false, 199 * MS, 200 * MS);
	/* before the RTT is known: the client's calls */
	assert_string_equal(times(srv),
			    "SYN_RECV@10:peer ESTABLISHED@110:peer");
	assert_int_equal(srv->accept_wait, 90 * MS);
	st_tcp_closed(cl, 300 * MS, ST_END_CLOSED);
	st_tcp_closed(srv, 400 * MS, ST_END_CLOSED);
	st_tcp_arrivals(cl);
	/* the SYN came 50 ms after it left, the ACK 50 ms after connect
	 * returned: estimates (inferred) */
	assert_string_equal(states(srv),
			    "SYN_RECV ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED");
	assert_int_equal(srv->st[0].ts, 60 * MS);
	assert_int_equal(srv->st[1].ts, 160 * MS);
	assert_int_equal(srv->st[1].src, ST_SRC_inferred);
	assert_int_equal(srv->accept_wait, 40 * MS);
	/* the client's own states stay as its calls showed */
	assert_int_equal(cl->st[1].ts, 110 * MS);
	assert_int_equal(cl->st[1].src, ST_SRC_call);
	end_free(cl);
	end_free(srv);

	/* an accept that waited for it: the ACK came during the call */
	far_pair(&cl, &srv, true, 170 * MS, 180 * MS);
	st_tcp_closed(cl, 300 * MS, ST_END_CLOSED);
	st_tcp_closed(srv, 400 * MS, ST_END_CLOSED);
	st_tcp_arrivals(srv);
	assert_int_equal(srv->st[1].ts, 170 * MS);
	assert_int_equal(srv->accept_wait, 10 * MS);
	end_free(cl);
	end_free(srv);

	/* accept returned it sooner than the estimate: it had come */
	far_pair(&cl, &srv, false, 100 * MS, 130 * MS);
	st_tcp_closed(cl, 300 * MS, ST_END_CLOSED);
	st_tcp_closed(srv, 400 * MS, ST_END_CLOSED);
	st_tcp_arrivals(srv);
	assert_int_equal(srv->st[1].ts, 130 * MS);
	assert_int_equal(srv->accept_wait, 0);
	end_free(cl);
	end_free(srv);
}

/* Issue 13 item 5: CLOSE_WAIT starts when the peer's FIN arrives,
 * TIME_WAIT when the passive closer's FIN does, and LAST_ACK ends when
 * the ACK of its FIN is back; a read of 0 sooner is the call's word. */
static void test_fins_across_latency(void **state)
{
	(void)state;
	struct st_conn *cl, *srv;
	struct st_rec eof = fx_data(ST_CALL_read, 4, 2, 320, 0);

	far_pair(&cl, &srv, false, 199 * MS, 200 * MS);
	st_tcp_closed(cl, 300 * MS, ST_END_CLOSED);
	st_tcp_closed(srv, 400 * MS, ST_END_CLOSED);
	st_tcp_arrivals(cl);
	assert_string_equal(times(cl),
			    "SYN_SENT@10:call ESTABLISHED@110:call "
			    "FIN_WAIT@300:call TIME_WAIT@450:inferred");
	assert_string_equal(times(srv),
			    "SYN_RECV@60:inferred ESTABLISHED@160:inferred "
			    "CLOSE_WAIT@350:inferred LAST_ACK@400:call "
			    "CLOSED@500:inferred");
	end_free(cl);
	end_free(srv);

	/* the server's read of 0 returned 320 ms in: the FIN had come */
	far_pair(&cl, &srv, false, 199 * MS, 200 * MS);
	st_tcp_closed(cl, 300 * MS, ST_END_CLOSED);
	st_tcp_data(srv, &eof, 320 * MS);
	st_tcp_closed(srv, 400 * MS, ST_END_CLOSED);
	st_tcp_arrivals(srv);
	assert_int_equal(srv->st[2].state, ST_ST_CLOSE_WAIT);
	assert_int_equal(srv->st[2].ts, 320 * MS);
	assert_int_equal(srv->st[2].src, ST_SRC_call);
	end_free(cl);
	end_free(srv);

	/* no RTT known: the peer's calls, as before */
	far_pair(&cl, &srv, false, 199 * MS, 200 * MS);
	cl->tcp.set = 0;
	st_tcp_closed(cl, 300 * MS, ST_END_CLOSED);
	st_tcp_closed(srv, 400 * MS, ST_END_CLOSED);
	st_tcp_arrivals(cl);
	assert_string_equal(times(srv), "SYN_RECV@10:peer ESTABLISHED@110:peer "
					"CLOSE_WAIT@300:peer LAST_ACK@400:call "
					"CLOSED@400:peer");
	end_free(cl);
	end_free(srv);
}

/* Fact 3: connect returns once SYN+ACK came back. */
static void test_connect_established(void **state)
{
	(void)state;
	struct st_conn *c = end_new(ST_ROLE_CLIENT);
	struct st_rec r = fx_connect(3, 1, 10, fx_v4(80), fx_v4(5000));

	st_tcp_connect(c, &r);
	assert_string_equal(states(c), "SYN_SENT ESTABLISHED");
	assert_int_equal(c->est_ts, 10 * MS + 1000);
	assert_int_equal(c->connect_ts, 10 * MS);
	assert_false(c->connect_pending);
	end_free(c);
}

static void test_connect_refused(void **state)
{
	(void)state;
	struct st_conn *c = end_new(ST_ROLE_CLIENT);
	struct st_rec r =
		fx_err(fx_connect(3, 1, 10, fx_v4(80), fx_v4(0)), ECONNREFUSED);

	st_tcp_connect(c, &r);
	assert_string_equal(states(c), "SYN_SENT CLOSED");
	assert_int_equal(c->connect_err, ECONNREFUSED);
	end_free(c);
}

/* A non-blocking connect: EINPROGRESS, then SO_ERROR says how it went. */
static void test_nonblocking_connect(void **state)
{
	(void)state;
	struct st_conn *ok = end_new(ST_ROLE_CLIENT);
	struct st_conn *bad = end_new(ST_ROLE_CLIENT);
	struct st_rec r =
		fx_err(fx_connect(3, 1, 10, fx_v4(80), fx_v4(0)), EINPROGRESS);
	struct st_rec so = fx_rec(ST_CALL_getsockopt, 3, 1, 12, 0);

	st_tcp_connect(ok, &r);
	st_tcp_connect(bad, &r);
	assert_true(ok->connect_pending);
	assert_string_equal(states(ok), "SYN_SENT");
	so.u.sockopt.value = 0;
	st_tcp_sockopt(ok, &so);
	assert_string_equal(states(ok), "SYN_SENT ESTABLISHED");
	so.u.sockopt.value = ECONNREFUSED;
	st_tcp_sockopt(bad, &so);
	assert_string_equal(states(bad), "SYN_SENT CLOSED");
	assert_int_equal(bad->connect_err, ECONNREFUSED);
	end_free(ok);
	end_free(bad);
}

/* Fact 4: a read of 0 is the peer's FIN: CLOSE_WAIT until close. */
static void test_eof_close_wait(void **state)
{
	(void)state;
	struct st_conn *cl, *srv;
	pair(&cl, &srv);
	struct st_rec r = fx_data(ST_CALL_read, 4, 2, 20, 0);

	st_tcp_data(srv, &r, 20 * MS);
	assert_string_equal(states(srv), "ESTABLISHED CLOSE_WAIT");
	assert_int_equal(srv->closed_first, -1);
	assert_int_equal(srv->eof_ts, 20 * MS);
	end_free(cl);
	end_free(srv);
}

/* Facts 4 and 5: the active closer goes FIN_WAIT then TIME_WAIT; the
 * passive one CLOSE_WAIT, LAST_ACK, CLOSED. */
static void test_client_closes_first(void **state)
{
	(void)state;
	struct st_conn *cl, *srv;
	pair(&cl, &srv);

	st_tcp_closed(cl, 30 * MS, ST_END_CLOSED);
	assert_string_equal(states(cl), "ESTABLISHED FIN_WAIT");
	assert_string_equal(states(srv), "ESTABLISHED CLOSE_WAIT");
	st_tcp_closed(srv, 31 * MS, ST_END_CLOSED);
	assert_string_equal(states(srv),
			    "ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED");
	assert_string_equal(states(cl), "ESTABLISHED FIN_WAIT TIME_WAIT");
	assert_int_equal(cl->closed_first, 1);
	assert_int_equal(srv->closed_first, -1);
	end_free(cl);
	end_free(srv);
}

/* Only the active closer gets TIME_WAIT: here the server. */
static void test_server_closes_first(void **state)
{
	(void)state;
	struct st_conn *cl, *srv;
	pair(&cl, &srv);

	st_tcp_closed(srv, 30 * MS, ST_END_CLOSED);
	struct st_rec r = fx_data(ST_CALL_read, 3, 1, 31, 0);
	st_tcp_data(cl, &r, 31 * MS);
	st_tcp_closed(cl, 32 * MS, ST_END_CLOSED);
	assert_string_equal(states(srv), "ESTABLISHED FIN_WAIT TIME_WAIT");
	assert_string_equal(states(cl),
			    "ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED");
	end_free(cl);
	end_free(srv);
}

/* shutdown(SHUT_WR) sends FIN; SHUT_RD sends nothing. */
static void test_shutdown(void **state)
{
	(void)state;
	struct st_conn *cl, *srv;
	pair(&cl, &srv);
	struct st_rec rd = fx_shutdown(3, 1, 20, SHUT_RD);
	struct st_rec wr = fx_shutdown(3, 1, 21, SHUT_WR);

	st_tcp_shutdown(cl, &rd, 20 * MS);
	assert_string_equal(states(cl), "ESTABLISHED");
	st_tcp_shutdown(cl, &wr, 21 * MS);
	assert_string_equal(states(cl), "ESTABLISHED FIN_WAIT");
	assert_string_equal(states(srv), "ESTABLISHED CLOSE_WAIT");
	assert_int_equal(cl->fin_ts, 21 * MS);
	end_free(cl);
	end_free(srv);
}

/* Item 2: shutdown(SHUT_WR), untraced peer: the EOF read is the peer's
 * FIN, TIME_WAIT starts there, and the later close does not end it. */
static void test_half_close_alone(void **state)
{
	(void)state;
	struct st_conn *c = end_new(ST_ROLE_CLIENT);
	struct st_rec wr = fx_shutdown(3, 1, 20, SHUT_WR);
	struct st_rec rd = fx_data(ST_CALL_read, 3, 1, 25, 0);

	st_tcp_established(c, 1 * MS);
	st_tcp_shutdown(c, &wr, 20 * MS);
	st_tcp_data(c, &rd, 25 * MS);
	assert_string_equal(states(c), "ESTABLISHED FIN_WAIT TIME_WAIT");
	assert_int_equal(c->st[2].ts, 25 * MS);
	st_tcp_closed(c, 30 * MS, ST_END_CLOSED);
	assert_string_equal(states(c), "ESTABLISHED FIN_WAIT TIME_WAIT");
	assert_int_equal(c->closed_first, 1);
	end_free(c);
}

/* Item 2: shutdown(SHUT_WR) with the peer traced: its close (its FIN)
 * starts our TIME_WAIT; our EOF read and close keep it. */
static void test_half_close_traced(void **state)
{
	(void)state;
	struct st_conn *cl, *srv;
	pair(&cl, &srv);
	struct st_rec wr = fx_shutdown(3, 1, 20, SHUT_WR);
	struct st_rec srd = fx_data(ST_CALL_read, 4, 2, 21, 0);
	struct st_rec crd = fx_data(ST_CALL_read, 3, 1, 23, 0);

	st_tcp_shutdown(cl, &wr, 20 * MS);
	st_tcp_data(srv, &srd, 21 * MS);
	st_tcp_closed(srv, 22 * MS, ST_END_CLOSED);
	st_tcp_data(cl, &crd, 23 * MS);
	st_tcp_closed(cl, 24 * MS, ST_END_CLOSED);
	assert_string_equal(states(cl), "ESTABLISHED FIN_WAIT TIME_WAIT");
	assert_int_equal(cl->st[2].ts, 22 * MS);
	assert_string_equal(states(srv),
			    "ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED");
	assert_int_equal(srv->cw_by, ST_CW_BY_PEER | ST_CW_BY_EOF);
	end_free(cl);
	end_free(srv);
}

/* Item 2: after shutdown(SHUT_RD) a read of 0 is ours, not the peer's
 * FIN: no CLOSE_WAIT, and the close is the active one. */
static void test_shut_rd_eof(void **state)
{
	(void)state;
	struct st_conn *cl, *srv;
	pair(&cl, &srv);
	struct st_rec shrd = fx_shutdown(4, 2, 20, SHUT_RD);
	struct st_rec rd = fx_data(ST_CALL_read, 4, 2, 21, 0);

	st_tcp_shutdown(srv, &shrd, 20 * MS);
	st_tcp_data(srv, &rd, 21 * MS);
	assert_string_equal(states(srv), "ESTABLISHED");
	assert_int_equal(srv->eof_ts, 0);
	st_tcp_closed(srv, 22 * MS, ST_END_CLOSED);
	assert_string_equal(states(srv), "ESTABLISHED FIN_WAIT");
	assert_int_equal(srv->closed_first, 1);
	assert_string_equal(states(cl), "ESTABLISHED CLOSE_WAIT");
	end_free(cl);
	end_free(srv);
}

/* Item 7: the close record says CLOSE_WAIT, no EOF was read and the peer
 * is not traced: the kernel's word makes it a passive close. */
static void test_kernel_close_wait(void **state)
{
	(void)state;
	struct st_conn *c = end_new(ST_ROLE_SERVER);

	st_tcp_established(c, 1 * MS);
	c->close_tcp_state = TCP_CLOSE_WAIT;
	st_tcp_closed(c, 30 * MS, ST_END_CLOSED);
	assert_string_equal(states(c),
			    "ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED");
	assert_int_equal(c->closed_first, -1);
	assert_int_equal(c->cw_by, ST_CW_BY_KERNEL);
	end_free(c);
}

/* A killed process: what the kernel did is not known, no state drawn. */
static void test_death_draws_nothing(void **state)
{
	(void)state;
	struct st_conn *cl, *srv;
	pair(&cl, &srv);

	st_tcp_closed(cl, 30 * MS, ST_END_DEATH);
	assert_string_equal(states(cl), "ESTABLISHED");
	assert_string_equal(states(srv), "ESTABLISHED");
	assert_int_equal(cl->end, ST_END_DEATH);
	end_free(cl);
	end_free(srv);
}

/* Fact 3: the time from connect's return to accept's is queue time. */
static void test_accept_queue_wait(void **state)
{
	(void)state;
	struct st_conn *cl = end_new(ST_ROLE_CLIENT);
	struct st_conn *srv = end_new(ST_ROLE_SERVER);

	st_tcp_established(cl, 10 * MS);
	srv->accept_ts = 250 * MS;
	st_tcp_established(srv, 250 * MS);
	st_tcp_joined(cl, srv);
	assert_int_equal(srv->accept_wait, 240 * MS);
	/* the server's ESTABLISHED starts when the handshake completed */
	assert_int_equal(srv->st[0].ts, 10 * MS);
	end_free(cl);
	end_free(srv);
}

/* A client that closed while queued: the server starts in CLOSE_WAIT. */
static void test_closed_while_queued(void **state)
{
	(void)state;
	struct st_conn *cl = end_new(ST_ROLE_CLIENT);
	struct st_conn *srv = end_new(ST_ROLE_SERVER);

	st_tcp_established(cl, 10 * MS);
	st_tcp_closed(cl, 20 * MS, ST_END_CLOSED);
	cl->done = true;
	srv->accept_ts = 50 * MS;
	st_tcp_established(srv, 50 * MS);
	cl->other = srv;
	srv->other = cl;
	st_tcp_joined(cl, srv);
	assert_string_equal(states(srv), "ESTABLISHED CLOSE_WAIT");
	assert_int_equal(srv->st[1].ts, 50 * MS);
	end_free(cl);
	end_free(srv);
}

/* Kernel states map onto ours; a socket seen open takes the kernel's. */
/* Issue 13 item 1: a close with unread bytes (the kernel's count) sends
 * RST: both ends CLOSED at once, no FIN_WAIT, CLOSE_WAIT or TIME_WAIT. */
static void test_rst_unread(void **state)
{
	(void)state;
	struct st_conn *cl, *srv;
	pair(&cl, &srv);
	srv->close_flags = ST_CLOSE_UNREAD | ST_CLOSE_LINGER;
	srv->close_unread = 12;
	st_tcp_closed(srv, 5 * MS, ST_END_CLOSED);
	assert_string_equal(states(srv), "ESTABLISHED CLOSED");
	assert_string_equal(states(cl), "ESTABLISHED CLOSED");
	assert_int_equal(srv->reset_by, ST_RST_LOCAL);
	assert_int_equal(cl->reset_by, ST_RST_PEER);
	assert_int_equal(srv->reset_reason, ST_RST_unread);
	assert_string_equal(st_tcp_close_how(cl), "rst");
	/* the client then reads: ECONNRESET is what it saw */
	struct st_rec r = fx_err(fx_data(ST_CALL_read, 3, 1, 6, 0), ECONNRESET);
	st_tcp_data_err(cl, &r, 6 * MS);
	assert_int_equal(cl->reset_saw, ST_SAW_ECONNRESET);
	st_tcp_closed(cl, 7 * MS, ST_END_CLOSED);
	assert_string_equal(states(cl), "ESTABLISHED CLOSED");
	end_free(cl);
	end_free(srv);
}

/* SO_LINGER {1,0} by the kernel's word, and the plain close is a FIN. */
static void test_rst_linger0(void **state)
{
	(void)state;
	struct st_conn *cl, *srv;
	pair(&cl, &srv);
	cl->close_flags = ST_CLOSE_UNREAD | ST_CLOSE_LINGER | ST_CLOSE_LINGER0;
	st_tcp_closed(cl, 5 * MS, ST_END_CLOSED);
	assert_int_equal(cl->reset_reason, ST_RST_linger0);
	assert_string_equal(states(srv), "ESTABLISHED CLOSED");
	assert_int_equal(cl->closed_first, 1);
	end_free(cl);
	end_free(srv);
	pair(&cl, &srv);
	cl->close_flags = ST_CLOSE_UNREAD | ST_CLOSE_LINGER;
	st_tcp_closed(cl, 5 * MS, ST_END_CLOSED);
	assert_string_equal(states(cl), "ESTABLISHED FIN_WAIT");
	assert_string_equal(st_tcp_close_how(cl), "fin");
	end_free(cl);
	end_free(srv);
}

/* Data written to an end that already closed: its kernel resets. */
static void test_rst_data_after_close(void **state)
{
	(void)state;
	struct st_conn *cl, *srv;
	pair(&cl, &srv);
	cl->close_flags = ST_CLOSE_UNREAD | ST_CLOSE_LINGER;
	st_tcp_closed(cl, 5 * MS, ST_END_CLOSED);
	cl->done = true;
	/* a write that started before the close delivered its bytes */
	struct st_rec w0 = fx_data(ST_CALL_write, 4, 2, 4, 10);
	st_tcp_data(srv, &w0, 6 * MS);
	assert_int_equal(cl->reset_by, ST_RST_NONE);
	struct st_rec w = fx_data(ST_CALL_write, 4, 2, 6, 10);
	st_tcp_data(srv, &w, 6 * MS);
	assert_string_equal(states(cl), "ESTABLISHED FIN_WAIT CLOSED");
	assert_string_equal(states(srv), "ESTABLISHED CLOSE_WAIT CLOSED");
	assert_int_equal(cl->reset_reason, ST_RST_data_after_close);
	/* a read of 0 after it: the RST, not a FIN */
	struct st_rec r = fx_data(ST_CALL_read, 4, 2, 7, 0);
	st_tcp_data(srv, &r, 7 * MS);
	assert_int_equal(srv->reset_saw, ST_SAW_EOF);
	end_free(cl);
	end_free(srv);
}

/* EPIPE after our own SHUT_WR is not an RST; ECONNRESET untraced is. */
static void test_rst_errors(void **state)
{
	(void)state;
	struct st_conn *c = end_new(ST_ROLE_CLIENT);
	st_tcp_established(c, 1 * MS);
	struct st_rec sh = fx_shutdown(3, 1, 2, SHUT_WR);
	st_tcp_shutdown(c, &sh, 2 * MS);
	struct st_rec w = fx_err(fx_data(ST_CALL_write, 3, 1, 3, 0), EPIPE);
	st_tcp_data_err(c, &w, 3 * MS);
	assert_int_equal(c->reset_by, ST_RST_NONE);
	struct st_rec r = fx_err(fx_data(ST_CALL_read, 3, 1, 4, 0), ECONNRESET);
	st_tcp_data_err(c, &r, 4 * MS);
	assert_int_equal(c->reset_by, ST_RST_PEER);
	assert_int_equal(c->reset_reason, ST_RST_peer);
	assert_string_equal(states(c), "ESTABLISHED FIN_WAIT CLOSED");
	end_free(c);
}

/* Item 3: both closes found ESTABLISHED: the FINs crossed. */
static void test_simultaneous_close(void **state)
{
	(void)state;
	struct st_conn *cl, *srv;
	pair(&cl, &srv);
	cl->close_tcp_state = TCP_ESTABLISHED;
	st_tcp_closed(cl, 5 * MS, ST_END_CLOSED);
	srv->close_tcp_state = TCP_ESTABLISHED;
	st_tcp_closed(srv, 6 * MS, ST_END_CLOSED);
	assert_string_equal(states(cl), "ESTABLISHED FIN_WAIT TIME_WAIT");
	assert_string_equal(states(srv), "ESTABLISHED FIN_WAIT TIME_WAIT");
	assert_int_equal(cl->closed_first, 2);
	assert_int_equal(srv->closed_first, 2);
	end_free(cl);
	end_free(srv);
}

/* Item 4: SO_ERROR 0 guessed ESTABLISHED; the close said SYN_SENT. */
static void test_abandoned_connect(void **state)
{
	(void)state;
	struct st_conn *c = end_new(ST_ROLE_CLIENT);
	struct st_rec r = fx_err(fx_connect(3, 1, 10, fx_v4(80), fx_v4(5000)),
				 EINPROGRESS);
	st_tcp_connect(c, &r);
	struct st_rec g = fx_rec(ST_CALL_getsockopt, 3, 1, 1500, 0);
	st_tcp_sockopt(c, &g);
	assert_string_equal(states(c), "SYN_SENT ESTABLISHED");
	c->close_tcp_state = TCP_SYN_SENT;
	st_tcp_closed(c, 1510 * MS, ST_END_CLOSED);
	assert_string_equal(states(c), "SYN_SENT CLOSED");
	assert_true(c->connect_abandoned);
	assert_int_equal(c->est_ts, 0);
	end_free(c);
}

static void test_kernel_states(void **state)
{
	(void)state;
	assert_int_equal(st_tcp_from_kernel(TCP_FIN_WAIT2), ST_ST_FIN_WAIT);
	assert_int_equal(st_tcp_from_kernel(TCP_CLOSING), ST_ST_FIN_WAIT);
	assert_int_equal(st_tcp_from_kernel(TCP_SYN_RECV), ST_ST_NONE);
	assert_int_equal(st_tcp_from_kernel(TCP_LAST_ACK), ST_ST_LAST_ACK);
	struct st_conn *c = end_new(ST_ROLE_SERVER);
	st_tcp_seen(c, TCP_CLOSE_WAIT, 5 * MS);
	assert_string_equal(states(c), "CLOSE_WAIT");
	assert_int_equal(c->closed_first, -1);
	assert_int_equal(c->eof_ts, 5 * MS);
	end_free(c);
}

/* Every state says what showed it: the calls, the traced peer. */
static void test_sources_orderly_close(void **state)
{
	(void)state;
	struct st_conn *cl = end_new(ST_ROLE_CLIENT);
	struct st_conn *srv = end_new(ST_ROLE_SERVER);
	struct st_rec r = fx_connect(3, 1, 1, fx_v4(80), fx_v4(5000));
	struct st_rec eof = fx_data(ST_CALL_read, 4, 2, 12, 0);

	st_tcp_connect(cl, &r);
	st_tcp_established(srv, 2 * MS);
	cl->other = srv;
	srv->other = cl;
	st_tcp_joined(cl, srv);
	st_tcp_closed(cl, 11 * MS, ST_END_CLOSED);
	st_tcp_data(srv, &eof, 12 * MS);
	st_tcp_closed(srv, 13 * MS, ST_END_CLOSED);
	assert_string_equal(sources(cl), "SYN_SENT:call ESTABLISHED:call "
					 "FIN_WAIT:call TIME_WAIT:peer");
	/* SYN_RECV from its SYN, ESTABLISHED from the client's connect
	 * (the peer's calls; no RTT to add); CLOSED once the traced
	 * peer's ACK came */
	assert_string_equal(sources(srv), "SYN_RECV:peer ESTABLISHED:peer "
					  "CLOSE_WAIT:peer "
					  "LAST_ACK:call CLOSED:peer");
	end_free(cl);
	end_free(srv);
}

/* The kernel's word (the close record's tcp_state, TCP_INFO of a socket
 * found open) is "kernel"; no TCP_INFO leaves a guess. */
static void test_sources_kernel(void **state)
{
	(void)state;
	struct st_conn *c = end_new(ST_ROLE_SERVER);
	struct st_conn *seen = end_new(ST_ROLE_CLIENT);
	struct st_conn *blind = end_new(ST_ROLE_CLIENT);

	st_tcp_established(c, 1 * MS);
	c->close_tcp_state = TCP_CLOSE_WAIT;
	st_tcp_closed(c, 5 * MS, ST_END_CLOSED);
	assert_string_equal(sources(c), "ESTABLISHED:call CLOSE_WAIT:kernel "
					"LAST_ACK:call CLOSED:inferred");
	st_tcp_seen(seen, TCP_FIN_WAIT2, 1 * MS);
	assert_string_equal(sources(seen), "FIN_WAIT:kernel");
	blind->peer = fx_v4(80);
	st_tcp_seen(blind, 0, 1 * MS);
	assert_string_equal(sources(blind), "ESTABLISHED:inferred");
	end_free(c);
	end_free(seen);
	end_free(blind);
}

/* Item 10: an active closer whose peer is not traced: its TIME_WAIT is a
 * guess, shown on its close line; a traced pair, an RST or a passive
 * close get none. */
static void test_untraced_peer_guess(void **state)
{
	(void)state;
	struct st_conn *c = end_new(ST_ROLE_CLIENT);
	struct st_conn *cl, *srv;
	struct st_ev ev = { .self_from = 1, .self_to = 2 };

	st_tcp_established(c, 1 * MS);
	st_tcp_closed(c, 10 * MS, ST_END_CLOSED);
	c->ev = &ev;
	c->nev = 1;
	st_tcp_untraced_peer(c);
	assert_string_equal(sources(c), "ESTABLISHED:call FIN_WAIT:call "
					"TIME_WAIT:inferred");
	assert_int_equal(c->st[2].ts, 10 * MS);
	assert_int_equal(ev.self_to, 3); /* the close line shows it */
	c->ev = NULL;
	end_free(c);
	pair(&cl, &srv);
	st_tcp_closed(cl, 10 * MS, ST_END_CLOSED);
	st_tcp_untraced_peer(cl);
	assert_string_equal(states(cl), "ESTABLISHED FIN_WAIT");
	end_free(cl);
	end_free(srv);
	c = end_new(ST_ROLE_CLIENT);
	st_tcp_established(c, 1 * MS);
	c->opts.set = 0;
	st_tcp_reset(c, ST_RST_PEER, ST_RST_peer, 5 * MS, ST_SRC_call);
	st_tcp_untraced_peer(c);
	assert_string_equal(sources(c), "ESTABLISHED:call CLOSED:call");
	end_free(c);
}

/* Item 9: a new connection on the 4-tuple ends TIME_WAIT early. */
static void test_time_wait_reused(void **state)
{
	(void)state;
	struct st_conn *c = end_new(ST_ROLE_CLIENT);

	st_tcp_established(c, 1 * MS);
	st_tcp_set(c, ST_ST_FIN_WAIT, 2 * MS, ST_SRC_call);
	st_tcp_set(c, ST_ST_TIME_WAIT, 3 * MS, ST_SRC_peer);
	st_tcp_tw_reused(c, 3 * MS + ST_TIME_WAIT_NS, ST_SRC_call, 77);
	assert_int_equal(c->state, ST_ST_TIME_WAIT); /* over by itself */
	st_tcp_tw_reused(c, 1500 * MS, ST_SRC_call, 77);
	assert_string_equal(sources(c), "ESTABLISHED:call FIN_WAIT:call "
					"TIME_WAIT:peer CLOSED:call");
	assert_int_equal(c->st[3].ts, 1500 * MS);
	assert_int_equal(c->tw_reused_by, 77);
	end_free(c);
}

/* An unreachable connect: with no source port chosen the route lookup
 * failed before any SYN (no SYN_SENT); with one, a SYN was tried. */
static void test_unreachable_connect(void **state)
{
	(void)state;
	struct st_conn *route = end_new(ST_ROLE_CLIENT);
	struct st_conn *icmp = end_new(ST_ROLE_CLIENT);
	struct st_addr any = { .family = AF_INET }, port = any;
	struct st_rec r =
		fx_err(fx_connect(3, 1, 10, fx_v4(80), any), EHOSTUNREACH);

	st_tcp_connect(route, &r);
	assert_string_equal(sources(route), "CLOSED:call");
	assert_int_equal(route->connect_syn, -1);
	assert_int_equal(route->connect_fail_ts, 10 * MS + 1000);
	port.port = 40000;
	r.u.connect.local = port;
	r.dur = 3000 * MS;
	st_tcp_connect(icmp, &r);
	assert_string_equal(states(icmp), "SYN_SENT CLOSED");
	assert_int_equal(icmp->connect_syn, 1);
	assert_int_equal(icmp->connect_fail_ts, 3010 * MS);
	end_free(route);
	end_free(icmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_established),
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_nonblocking_connect),
		cmocka_unit_test(test_eof_close_wait),
		cmocka_unit_test(test_client_closes_first),
		cmocka_unit_test(test_server_closes_first),
		cmocka_unit_test(test_shutdown),
		cmocka_unit_test(test_death_draws_nothing),
		cmocka_unit_test(test_half_close_alone),
		cmocka_unit_test(test_half_close_traced),
		cmocka_unit_test(test_shut_rd_eof),
		cmocka_unit_test(test_kernel_close_wait),
		cmocka_unit_test(test_accept_queue_wait),
		cmocka_unit_test(test_closed_while_queued),
		cmocka_unit_test(test_kernel_states),
		cmocka_unit_test(test_rst_unread),
		cmocka_unit_test(test_rst_linger0),
		cmocka_unit_test(test_rst_data_after_close),
		cmocka_unit_test(test_rst_errors),
		cmocka_unit_test(test_simultaneous_close),
		cmocka_unit_test(test_abandoned_connect),
		cmocka_unit_test(test_sources_orderly_close),
		cmocka_unit_test(test_sources_kernel),
		cmocka_unit_test(test_untraced_peer_guess),
		cmocka_unit_test(test_time_wait_reused),
		cmocka_unit_test(test_unreachable_connect),
		cmocka_unit_test(test_handshake_across_latency),
		cmocka_unit_test(test_fins_across_latency),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
