/* SPDX-License-Identifier: MIT */
/* The stats stage on hand-built ends: groups, rates, percentiles, errors. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "model_fixture.h"
#include "stats.h"

#define N 100

static struct st_conn cl[N], sv[N];

/* Connection I: client end in process 1 connecting to 127.0.0.1:80 at
 * I ms (connect takes I us), server end accepted by listener 100:1 of
 * process 0 after a queue wait of I us; the server closes first. */
static void build(void)
{
	memset(cl, 0, sizeof(cl));
	memset(sv, 0, sizeof(sv));
	for (uint32_t i = 0; i < N; i++) {
		uint64_t t = (i + 1) * MS, us = (i + 1) * 1000ull;
		struct st_conn *c = &cl[i], *s = &sv[i];
		c->id = st_conn_id(101, i + 1);
		c->file = 1;
		c->role = ST_ROLE_CLIENT;
		c->peer = fx_v4(80);
		c->open_ts = c->connect_ts = t;
		c->est_ts = t + us;
		c->first_in_ts = t + 2 * us;
		c->close_ts = t + 3 * us;
		c->end = ST_END_CLOSED;
		c->closed_first = -1;
		c->bytes_out = 10;
		c->other = s;
		s->id = st_conn_id(100, i + 2);
		s->role = ST_ROLE_SERVER;
		s->listener = st_conn_id(100, 1);
		s->local = fx_v4(80);
		s->open_ts = s->accept_ts = t + 2 * us;
		s->accept_wait = us;
		s->close_ts = t + 3 * us;
		s->end = ST_END_CLOSED;
		s->closed_first = 1;
		s->bytes_in = 10;
		s->other = c;
	}
}

static const struct st_sgroup *find(const struct st_stats *s, unsigned by)
{
	for (const struct st_sgroup *g = s->groups; g; g = g->hh.next)
		if (g->key.by == by)
			return g;
	return NULL;
}

static void test_listener_and_peer(void **state)
{
	(void)state;
	struct st_traceset *set = fx_set(2);
	struct st_stats_opts so = { .by = 7, .top = 3 };
	struct st_stats s;

	build();
	st_stats_init(&s, &so, set);
	for (int i = 0; i < N; i++)
		st_stats_conn(&s, &cl[i]);
	st_stats_finish(&s);

	const struct st_sgroup *l = find(&s, ST_BY_LISTENER);
	assert_non_null(l);
	assert_string_equal(l->name, "proc0[100] :80");
	assert_int_equal(l->conns, N);
	/* accepts 1 ms apart (plus 2 us more each): 99 gaps */
	assert_int_equal(l->last_ts - l->first_ts, 99 * MS + 99 * 2000);
	assert_int_equal(l->h[ST_M_QUEUE].count, N);
	assert_in_range(st_histo_pct(&l->h[ST_M_QUEUE], 50), 49500, 50500);
	assert_int_equal(st_histo_pct(&l->h[ST_M_QUEUE], 100), 100000);
	assert_int_equal(l->closer[0], N);
	assert_int_equal(l->ended[ST_ENDED_FIN], N);
	assert_int_equal(l->bytes_in, 10 * N);

	const struct st_sgroup *p = find(&s, ST_BY_PEER);
	assert_string_equal(p->name, "proc1 to 127.0.0.1:80");
	assert_int_equal(p->h[ST_M_CONNECT].max, 100000);
	assert_int_equal(p->h[ST_M_TTFB].min, 2000);
	assert_int_equal(p->closer[1], N);

	/* the top 3 connects, longest first, by id */
	assert_int_equal(s.ntop[ST_M_CONNECT], 3);
	assert_int_equal(s.top[ST_M_CONNECT][0].conn, st_conn_id(101, N));
	assert_int_equal(s.top[ST_M_CONNECT][2].v, 98000);
	assert_int_equal(s.top[ST_M_QUEUE][0].conn, st_conn_id(100, N + 1));
	st_stats_free(&s);
	fx_set_free(set);
}

/* How connections ended: an RST (either end sent it) and a simultaneous
 * close are told apart from an orderly close. */
static void test_reset_and_both(void **state)
{
	(void)state;
	struct st_traceset *set = fx_set(2);
	struct st_stats_opts so = { .by = 7, .top = 3 };
	struct st_stats s;

	build();
	sv[0].reset_by = cl[0].reset_by = 1;
	sv[1].closed_first = cl[1].closed_first = 2;
	st_stats_init(&s, &so, set);
	for (int i = 0; i < N; i++)
		st_stats_conn(&s, &cl[i]);
	st_stats_finish(&s);
	const struct st_sgroup *l = find(&s, ST_BY_LISTENER);
	assert_int_equal(l->ended[ST_ENDED_RST], 1);
	assert_int_equal(l->ended[ST_ENDED_FIN], N - 1);
	assert_int_equal(l->closer[3], 1);
	assert_int_equal(l->closer[0], N - 1);
	st_stats_free(&s);
	fx_set_free(set);
}

/* Errors count connections per errno, not calls; a non-blocking "not
 * yet" is none. */
static void test_errors_per_connection(void **state)
{
	(void)state;
	struct st_traceset *set = fx_set(2);
	struct st_stats_opts so = { .by = 7, .top = 0 };
	struct st_stats s;
	struct st_ev ev[3];
	struct st_conn c;

	memset(&c, 0, sizeof(c));
	memset(ev, 0, sizeof(ev));
	ev[0].r = fx_err(fx_rec(ST_CALL_connect, 3, 1, 1, -1), EINPROGRESS);
	ev[1].r = fx_err(fx_rec(ST_CALL_read, 3, 1, 2, -1), ECONNREFUSED);
	ev[2].r = fx_err(fx_rec(ST_CALL_read, 3, 1, 3, -1), ECONNREFUSED);
	c.id = 1;
	c.file = 1;
	c.role = ST_ROLE_CLIENT;
	c.peer = fx_v4(81);
	c.connect_err = ECONNREFUSED;
	c.end = ST_END_EXIT;
	c.ev = ev;
	c.nev = 3;
	st_stats_init(&s, &so, set);
	st_stats_conn(&s, &c);
	st_stats_finish(&s);
	const struct st_sgroup *p = find(&s, ST_BY_PEER);
	assert_int_equal(p->err[0].err, ECONNREFUSED);
	assert_int_equal(p->err[0].n, 1);
	assert_int_equal(p->err[1].n, 0);
	assert_int_equal(p->ended[ST_ENDED_EXIT], 1);
	const struct st_sgroup *q = find(&s, ST_BY_PROCESS);
	assert_int_equal(q->opened, 1);
	assert_int_equal(q->closed, 0);
	st_stats_free(&s);
	fx_set_free(set);
}

/* A server end whose client is not traced counts in its listener's
 * group and its client's address's group, but once over all: its
 * lifetime is one value of the histogram and one outlier. */
static void test_lifetime_once(void **state)
{
	(void)state;
	struct st_traceset *set = fx_set(2);
	struct st_stats_opts so = { .by = 7, .top = 3 };
	struct st_stats s;
	struct st_conn e = { .id = st_conn_id(100, 2),
			     .role = ST_ROLE_SERVER,
			     .listener = st_conn_id(100, 1),
			     .local = fx_v4(80),
			     .peer = fx_v4(4000),
			     .open_ts = MS,
			     .close_ts = 3 * MS,
			     .end = ST_END_CLOSED };

	st_stats_init(&s, &so, set);
	st_stats_conn(&s, &e);
	st_stats_finish(&s);
	assert_int_equal(s.all[ST_M_LIFE].count, 1);
	assert_int_equal(s.ntop[ST_M_LIFE], 1);
	assert_int_equal(find(&s, ST_BY_LISTENER)->h[ST_M_LIFE].count, 1);
	assert_int_equal(find(&s, ST_BY_PEER)->h[ST_M_LIFE].count, 1);
	st_stats_free(&s);
	fx_set_free(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listener_and_peer),
		cmocka_unit_test(test_reset_and_both),
		cmocka_unit_test(test_errors_per_connection),
		cmocka_unit_test(test_lifetime_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
