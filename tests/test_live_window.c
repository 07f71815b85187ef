/* SPDX-License-Identifier: MIT */
/* live's 10 s window: counts, rate and percentiles against exact ones. */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "live_window.h"

#define SEC 1000000000ull
#define T0  (1000 * SEC) /* a monotonic clock's time, well past boot */

static void test_empty(void **state)
{
	struct st_live_window w = { 0 };
	struct st_live_rates r;
	char lines[2][256];

	(void)state;
	st__live_win_begin(&w, T0);
	st__live_win_sum(&w, T0 + 3 * SEC, &r);
	assert_int_equal(r.conns, 0);
	assert_true(r.per_s == 0);
	assert_int_equal(r.span, 3 * SEC);
	assert_int_equal(st__live_rates_text(&r, 200, lines, 2), 1);
	assert_string_equal(lines[0], " last 10s: 0 conns, 0.0/s   connect -"
				      "   accept wait -");
	st__live_rates_free(&r);
	st__live_win_free(&w);
}

/* K connections in each second K of 1..30: at any time, the window holds
 * exactly those of the ten seconds up to now, at their rate. */
static void test_slides(void **state)
{
	struct st_live_window w = { 0 };
	struct st_live_rates r;

	(void)state;
	st__live_win_begin(&w, T0);
	for (uint64_t k = 1; k <= 30; k++) {
		uint64_t at = T0 + k * SEC + SEC / 2;
		for (uint64_t i = 0; i < k; i++)
			st__live_win_conn(&w, at, at);
		st__live_win_sum(&w, at, &r);
		uint64_t want = 0;
		for (uint64_t j = k > 9 ? k - 9 : 1; j <= k; j++)
			want += j;
		assert_int_equal(r.conns, want);
		/* over the seconds held (all since the start, at first) */
		uint64_t from = k > 9 ? T0 + (k - 9) * SEC : T0;
		assert_int_equal(r.span, at - from);
		assert_true(fabs(r.per_s - (double)want * 1e9 /
						   (double)(at - from)) < 1e-6);
		st__live_rates_free(&r);
	}
	/* ten seconds after the last one, nothing is left; one ns before,
	 * the last second still is */
	st__live_win_sum(&w, T0 + 40 * SEC - 1, &r);
	assert_int_equal(r.conns, 30);
	st__live_rates_free(&r);
	st__live_win_sum(&w, T0 + 40 * SEC, &r);
	assert_int_equal(r.conns, 0);
	st__live_rates_free(&r);
	st__live_win_free(&w);
}

/* What is older than the window when it is seen is not counted; a slot
 * taken by a newer second forgets its old one. */
static void test_too_old(void **state)
{
	struct st_live_window w = { 0 };
	struct st_live_rates r;
	uint64_t now = T0 + 50 * SEC;

	(void)state;
	st__live_win_conn(&w, now - 10 * SEC, now); /* 10 s ago: out */
	st__live_win_conn(&w, now - 9 * SEC, now);  /* in */
	st__live_win_lat(&w, ST_LW_CONNECT, now - 20 * SEC, 5, now);
	st__live_win_sum(&w, now, &r);
	assert_int_equal(r.conns, 1);
	assert_int_equal(r.h[ST_LW_CONNECT].count, 0);
	st__live_rates_free(&r);
	/* the same slot, ten seconds on */
	now += 10 * SEC;
	st__live_win_conn(&w, now, now);
	st__live_win_conn(&w, now - 9 * SEC - SEC, now); /* old, its slot
							  * was taken */
	st__live_win_sum(&w, now, &r);
	assert_int_equal(r.conns, 1);
	st__live_rates_free(&r);
	st__live_win_free(&w);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Latencies over 25 s, merged from the slots of the last ten: their
 * percentiles within 1% of the exact ones of the values in those
 * seconds. */
static void test_percentiles(void **state)
{
	struct st_live_window w = { 0 };
	struct st_live_rates r;
	static uint64_t in[25 * 400];
	size_t nin = 0;
	uint64_t x = 88172645463325252ull, now = T0 + 25 * SEC;

	(void)state;
	for (uint64_t s = 0; s < 25; s++)
		for (int i = 0; i < 400; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			/* 10 us to about 1 s, and each second slower */
			uint64_t v = 10000 + x % (100000000 * (s + 1));
			uint64_t ts = T0 + s * SEC + (uint64_t)i * 1000000;
			st__live_win_lat(&w, ST_LW_QUEUE, ts, v, ts);
			if (s >= 16)
				in[nin++] = v;
		}
	st__live_win_sum(&w, now, &r);
	assert_int_equal(r.h[ST_LW_QUEUE].count, nin);
	qsort(in, nin, sizeof(*in), cmp_u64);
	static const double pcts[] = { 50, 99 };
	for (int i = 0; i < 2; i++) {
		size_t rank = (size_t)ceil(pcts[i] / 100.0 * (double)nin);
		double exact = (double)in[rank - 1];
		double got = (double)st_histo_pct(&r.h[ST_LW_QUEUE], pcts[i]);
		assert_true(fabs(got - exact) <= exact * 0.01);
	}
	assert_int_equal(r.h[ST_LW_QUEUE].max, in[nin - 1]);
	st__live_rates_free(&r);
	st__live_win_free(&w);
}

/* 80 columns: two lines, none longer; a wide screen: one.  The rate is
 * over the 9 s since the oldest second held began. */
static void test_text_fits(void **state)
{
	struct st_live_window w = { 0 };
	struct st_live_rates r;
	char lines[2][256];
	uint64_t now = T0 + 10 * SEC;

	(void)state;
	st__live_win_begin(&w, T0);
	for (int i = 0; i < 123456; i++)
		st__live_win_conn(&w, now - SEC, now);
	st__live_win_lat(&w, ST_LW_CONNECT, now, 123456789, now);
	st__live_win_lat(&w, ST_LW_QUEUE, now, 9876543210ull, now);
	st__live_win_sum(&w, now, &r);
	int n = st__live_rates_text(&r, 80, lines, 2);
	assert_int_equal(n, 2);
	for (int i = 0; i < n; i++)
		assert_true(strlen(lines[i]) <= 80);
	assert_string_equal(lines[0], " last 10s: 123,456 conns, 13717.3/s"
				      "   connect p50 123.5 ms p99 123.5 ms");
	assert_string_equal(lines[1],
			    " accept wait p50 9876.5 ms p99 9876.5 ms");
	assert_int_equal(st__live_rates_text(&r, 200, lines, 2), 1);
	st__live_rates_free(&r);
	st__live_win_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_slides),
		cmocka_unit_test(test_too_old),
		cmocka_unit_test(test_percentiles),
		cmocka_unit_test(test_text_fits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
