/* SPDX-License-Identifier: MIT */
/* The HTML overview's bins on hand-built ends: rows, columns, closes. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "model_fixture.h"
#include "overview.h"

#define N  1000
#define T0 (5000 * MS)

static struct st_conn cl[N], sv[N];
static struct st_stchange cst[N][2], sst[N][2];

/* Connection I: client opened at T0 + 10 ms * I, its connect took
 * (I + 1) us, both ends closed 1 ms later (the client first: TIME_WAIT
 * for it, LAST_ACK for the server). */
static void build(void)
{
	memset(cl, 0, sizeof(cl));
	memset(sv, 0, sizeof(sv));
	for (uint32_t i = 0; i < N; i++) {
		uint64_t t = T0 + i * 10 * MS, us = (i + 1) * 1000ull;
		struct st_conn *c = &cl[i], *s = &sv[i];
		c->id = st_conn_id(101, i + 1);
		c->file = 1;
		c->role = ST_ROLE_CLIENT;
		c->peer = fx_v4(80);
		c->open_ts = c->connect_ts = t;
		c->est_ts = t + us;
		c->close_ts = t + MS;
		c->end = ST_END_CLOSED;
		c->closed_first = 1;
		cst[i][0] = (struct st_stchange){ .state = ST_ST_ESTABLISHED };
		cst[i][1] = (struct st_stchange){ .state = ST_ST_TIME_WAIT };
		c->st = cst[i];
		c->nst = 2;
		c->other = s;
		s->id = st_conn_id(100, i + 2);
		s->role = ST_ROLE_SERVER;
		s->local = fx_v4(80);
		s->open_ts = s->accept_ts = t + us;
		s->close_ts = t + MS;
		s->end = ST_END_CLOSED;
		s->closed_first = -1;
		sst[i][0] = (struct st_stchange){ .state = ST_ST_LAST_ACK };
		sst[i][1] = (struct st_stchange){ .state = ST_ST_CLOSED };
		s->st = sst[i];
		s->nst = 2;
		s->other = c;
	}
}

static void test_rows(void **state)
{
	(void)state;
	assert_int_equal(st_overview_row(0), 0);
	assert_int_equal(st_overview_row(1999), 0);
	assert_int_equal(st_overview_row(2000), 1);
	assert_int_equal(st_overview_row(3999), 1);
	assert_int_equal(st_overview_row(4000), 2);
	/* 1 s is 10^6 us: between 2^19 and 2^20 */
	assert_int_equal(st_overview_row(1000000000), 19);
	assert_int_equal(st_overview_row(UINT64_MAX), ST_OV_ROWS - 1);
}

/* 10 s of connections: the columns widen to fit, and every connection
 * lands where its time says, counted once. */
static void test_columns(void **state)
{
	(void)state;
	struct st_traceset *set = fx_set(2);
	struct st_stats_opts so = { .by = 7, .top = 3 };
	struct st_stats s;
	struct st_overview *ov = malloc(sizeof(*ov));

	build();
	st_overview_init(ov);
	st_stats_init(&s, &so, set);
	s.each = st_overview_metric;
	s.each_arg = ov;
	for (int i = 0; i < N; i++) {
		ov->t0 = T0;
		st_stats_conn(&s, &cl[i]);
		st_overview_conn(ov, &cl[i], T0);
	}
	assert_true(ov->ncols <= ST_OV_COLS);
	assert_true(ov->bin * ov->ncols > (N - 1) * 10 * MS);
	uint64_t opened[ST_OV_COLS] = { 0 }, closed[ST_OV_COLS] = { 0 };
	uint64_t heat[ST_OV_COLS][ST_OV_ROWS] = { { 0 } };
	for (int i = 0; i < N; i++) {
		uint64_t t = (uint64_t)i * 10 * MS;
		opened[t / ov->bin]++;
		closed[(t + MS) / ov->bin]++;
		heat[t / ov->bin][st_overview_row((i + 1) * 1000ull)]++;
	}
	for (unsigned k = 0; k < ST_OV_COLS; k++) {
		assert_int_equal(ov->opened[k], opened[k]);
		assert_int_equal(ov->closed[k], closed[k]);
		for (int r = 0; r < ST_OV_ROWS; r++)
			assert_int_equal(ov->heat[ST_M_CONNECT][k][r],
					 heat[k][r]);
	}
	assert_int_equal(ov->conns, N);
	assert_int_equal(ov->still_open, 0);
	/* the client closed first, in every connection */
	assert_int_equal(ov->closer[0], N);
	assert_int_equal(ov->last_state[ST_ST_TIME_WAIT], N);
	assert_int_equal(ov->last_state[ST_ST_LAST_ACK], N);
	st_stats_free(&s);
	free(ov);
	fx_set_free(set);
}

/* A lone server end that closed first, a client still open, a listener
 * (not a connection), a simultaneous close. */
static void test_closers(void **state)
{
	(void)state;
	struct st_overview ov;
	struct st_conn srv = { .role = ST_ROLE_SERVER,
			       .closed_first = 1,
			       .end = ST_END_CLOSED,
			       .open_ts = T0,
			       .close_ts = T0 + MS };
	struct st_conn open = { .role = ST_ROLE_CLIENT,
				.end = ST_END_OPEN,
				.open_ts = T0 };
	struct st_conn lis = { .role = ST_ROLE_LISTENER, .open_ts = T0 };
	struct st_conn both = { .role = ST_ROLE_CLIENT,
				.closed_first = 2,
				.end = ST_END_CLOSED,
				.open_ts = T0,
				.close_ts = T0 + MS };

	st_overview_init(&ov);
	st_overview_conn(&ov, &srv, T0);
	st_overview_conn(&ov, &open, T0);
	st_overview_conn(&ov, &lis, T0);
	st_overview_conn(&ov, &both, T0);
	assert_int_equal(ov.conns, 3);
	assert_int_equal(ov.still_open, 1);
	assert_int_equal(ov.closer[1], 1); /* server */
	assert_int_equal(ov.closer[2], 1); /* both */
	assert_int_equal(ov.closer[3], 1); /* unknown: still open */
	assert_int_equal(ov.opened[0], 3);
	assert_int_equal(ov.closed[MS / ov.bin], 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_columns),
		cmocka_unit_test(test_closers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
