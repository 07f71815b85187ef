/* SPDX-License-Identifier: MIT */
/* What live counts into its 10 s window: each connection once. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "live_model.h"

#define SEC 1000000000ull
#define MS  1000000ull
#define T0  (5000 * SEC)

static struct st_live live; /* big: its rings */

static struct st_conn end(int role)
{
	struct st_conn c;

	memset(&c, 0, sizeof(c));
	c.role = (uint8_t)role;
	c.kind = ST_KIND_TCP;
	return c;
}

/* The window at NOW: connections, and how many of each latency. */
static void sum(uint64_t now, uint64_t *conns, uint64_t *connect,
		uint64_t *queue, struct st_live_rates *r)
{
	st__live_win_sum(&live.win, now, r);
	*conns = r->conns;
	*connect = r->h[ST_LW_CONNECT].count;
	*queue = r->h[ST_LW_QUEUE].count;
}

static void reset(void)
{
	st__live_win_free(&live.win);
	memset(&live.win, 0, sizeof(live.win));
	st__live_win_begin(&live.win, T0);
}

/* Both ends traced, seen in every order and again at each redraw: one
 * connection, its connect time and its accept-queue wait, each once. */
static void test_joined_once(void **state)
{
	struct st_conn cl = end(ST_ROLE_CLIENT), sv = end(ST_ROLE_SERVER);
	struct st_live_rates r;
	uint64_t n, nc, nq, now = T0 + 3 * SEC;

	(void)state;
	reset();
	cl.connect_ts = T0 + SEC;
	cl.est_ts = T0 + SEC + 2 * MS;
	sv.accept_ts = T0 + 2 * SEC;
	/* the server end accepted before live saw the client's records */
	st__live_count(&live, &sv, now);
	sum(now, &n, &nc, &nq, &r);
	assert_int_equal(n, 1);
	assert_int_equal(nq, 0); /* not known before the join */
	st__live_rates_free(&r);
	/* joined: the wait is known */
	cl.other = &sv;
	sv.other = &cl;
	sv.accept_wait = sv.accept_ts - cl.est_ts;
	for (int redraw = 0; redraw < 3; redraw++) {
		st__live_count(&live, &cl, now);
		st__live_count(&live, &sv, now);
	}
	sum(now, &n, &nc, &nq, &r);
	assert_int_equal(n, 1);
	assert_int_equal(nc, 1);
	assert_int_equal(nq, 1);
	assert_int_equal(r.h[ST_LW_CONNECT].max, 2 * MS);
	assert_int_equal(r.h[ST_LW_QUEUE].max, SEC - 2 * MS);
	st__live_rates_free(&r);

	/* the other order: the client first, joined later */
	struct st_conn c2 = end(ST_ROLE_CLIENT), s2 = end(ST_ROLE_SERVER);
	c2.connect_ts = c2.est_ts = T0 + 2 * SEC;
	st__live_count(&live, &c2, now);
	s2.accept_ts = T0 + 2 * SEC + MS;
	c2.other = &s2;
	s2.other = &c2;
	st__live_count(&live, &s2, now);
	st__live_count(&live, &c2, now);
	sum(now, &n, &nc, &nq, &r);
	assert_int_equal(n, 2);
	assert_int_equal(nc, 2);
	assert_int_equal(nq, 2);
	st__live_rates_free(&r);
}

/* One end traced: a connection each; an accept with no traced client
 * has no known wait; a failed connect and a listener count nothing. */
static void test_one_end(void **state)
{
	struct st_conn sv = end(ST_ROLE_SERVER), cl = end(ST_ROLE_CLIENT);
	struct st_conn bad = end(ST_ROLE_CLIENT), lis = end(ST_ROLE_LISTENER);
	struct st_live_rates r;
	uint64_t n, nc, nq, now = T0 + 3 * SEC;

	(void)state;
	reset();
	sv.accept_ts = T0 + SEC;
	cl.connect_ts = T0 + SEC;
	cl.est_ts = T0 + SEC + 5 * MS;
	bad.connect_ts = T0 + SEC;
	bad.connect_err = 111; /* ECONNREFUSED: never ESTABLISHED */
	lis.accepted = 7;
	struct st_conn *all[] = { &sv, &cl, &bad, &lis };
	for (int redraw = 0; redraw < 2; redraw++)
		for (int i = 0; i < 4; i++)
			st__live_count(&live, all[i], now);
	sum(now, &n, &nc, &nq, &r);
	assert_int_equal(n, 2);
	assert_int_equal(nc, 1);
	assert_int_equal(nq, 0);
	st__live_rates_free(&r);
	/* ten seconds after, the window has let them go */
	sum(T0 + 11 * SEC, &n, &nc, &nq, &r);
	assert_int_equal(n, 0);
	assert_int_equal(nc, 0);
	st__live_rates_free(&r);
	st__live_win_free(&live.win);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_joined_once),
		cmocka_unit_test(test_one_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
