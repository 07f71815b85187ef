/* SPDX-License-Identifier: MIT */
/* The log-linear histogram: percentiles against exact sorted ones, <= 1%. */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "histo.h"

#define N 200000

static uint64_t rng = 0x2545f4914f6cdd1dull;

/* xorshift64*: the same numbers on every run */
static uint64_t next(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dull;
}

static double unit(void)
{
	return (double)(next() >> 11) / 9007199254740992.0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static const double pcts[] = {
	0.1, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100
};

/* Every percentile of V[0..n) from H within 1% of the exact nearest
 * rank; values below 128 exactly. */
static void check(uint64_t *v, size_t n)
{
	struct st_histo h = { 0 };

	for (size_t i = 0; i < n; i++)
		st_histo_add(&h, v[i]);
	qsort(v, n, sizeof(*v), cmp_u64);
	assert_int_equal(h.count, n);
	assert_int_equal(h.min, v[0]);
	assert_int_equal(h.max, v[n - 1]);
	assert_true(h.n <= ST_HISTO_NBUCKETS);
	for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		size_t rank = (size_t)ceil(pcts[i] / 100.0 * (double)n);
		uint64_t exact = v[(rank ? rank : 1) - 1];
		uint64_t got = st_histo_pct(&h, pcts[i]);
		double err = exact ? fabs((double)got - (double)exact) /
					     (double)exact
				   : (double)got;
		if (err > 0.01 || (exact < 128 && got != exact))
			fail_msg("p%g: got %llu, exact %llu (n %zu)", pcts[i],
				 (unsigned long long)got,
				 (unsigned long long)exact, n);
	}
	st_histo_free(&h);
	assert_int_equal(h.count, 0);
}

static void test_empty(void **state)
{
	(void)state;
	struct st_histo h = { 0 };

	assert_int_equal(st_histo_pct(&h, 50), 0);
	assert_int_equal(st_histo_count_range(&h, 0, 1000), 0);
	st_histo_free(&h);
}

static void test_uniform(void **state)
{
	(void)state;
	uint64_t *v = malloc(N * sizeof(*v));

	for (size_t i = 0; i < N; i++)
		v[i] = next() % 10000000000ull; /* up to 10 s in ns */
	check(v, N);
	free(v);
}

/* Latency-like: log-normal, with a heavy Pareto tail. */
static void test_lognormal_and_tail(void **state)
{
	(void)state;
	uint64_t *v = malloc(N * sizeof(*v));

	for (size_t i = 0; i < N; i++) {
		double z = sqrt(-2 * log(unit() + 1e-300)) *
			   cos(6.283185307179586 * unit());
		v[i] = (uint64_t)exp(11.5 + 1.5 * z);
		if (i % 50 == 0)
			v[i] = (uint64_t)(1e5 / pow(unit() + 1e-12, 1.2));
	}
	check(v, N);
	free(v);
}

/* Adversarial: values on bucket edges (2^k - 1, 2^k, 2^k + 1), the
 * extremes of uint64_t, one value repeated, small exact values and a
 * distribution split between 1 and 2^62. */
static void test_adversarial(void **state)
{
	(void)state;
	uint64_t *v = malloc(N * sizeof(*v));
	size_t n = 0;

	for (unsigned k = 0; k < 64; k++)
		for (int d = -1; d <= 1; d++)
			v[n++] = (1ull << k) + (uint64_t)(int64_t)d;
	v[n++] = UINT64_MAX;
	v[n++] = 0;
	check(v, n);

	for (n = 0; n < 1000; n++)
		v[n] = 123456789;
	check(v, n);

	for (n = 0; n < 5000; n++)
		v[n] = n % 128;
	check(v, n);

	for (n = 0; n < N; n++)
		v[n] = n % 3 ? 1 : 1ull << 62;
	check(v, n);

	/* every bucket's lowest and highest value */
	for (n = 0; n < 64 * 200; n++) {
		uint64_t base = 1ull << (7 + n % 40), w = base / 64;
		v[n] = base + (n / 40 % 64) * w + (n & 1 ? w - 1 : 0);
	}
	check(v, n);
	free(v);
}

static void test_merge_and_ranges(void **state)
{
	(void)state;
	struct st_histo a = { 0 }, b = { 0 }, all = { 0 };

	for (uint64_t i = 1; i < 100000; i++) {
		uint64_t x = next() % (1ull << (i % 40));
		st_histo_add(i & 1 ? &a : &b, x);
		st_histo_add(&all, x);
	}
	st_histo_merge(&a, &b);
	assert_int_equal(a.count, all.count);
	assert_int_equal(a.min, all.min);
	assert_int_equal(a.max, all.max);
	for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++)
		assert_int_equal(st_histo_pct(&a, pcts[i]),
				 st_histo_pct(&all, pcts[i]));

	/* powers of two split the buckets exactly */
	struct st_histo h = { 0 };
	for (uint64_t x = 0; x < 5000; x++)
		st_histo_add(&h, x);
	assert_int_equal(st_histo_count_range(&h, 0, 1), 1);
	assert_int_equal(st_histo_count_range(&h, 64, 128), 64);
	assert_int_equal(st_histo_count_range(&h, 1024, 2048), 1024);
	assert_int_equal(st_histo_count_range(&h, 4096, 8192), 5000 - 4096);
	st_histo_free(&h);
	st_histo_free(&a);
	st_histo_free(&b);
	st_histo_free(&all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_uniform),
		cmocka_unit_test(test_lognormal_and_tail),
		cmocka_unit_test(test_adversarial),
		cmocka_unit_test(test_merge_and_ranges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
