/* SPDX-License-Identifier: MIT */
/* The viewer's output buffer: numbers and JSON strings as printf would. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "out.h"

/* Runs FN on a fresh st_out writing to memory; returns what came out. */
static char *capture(void (*fn)(struct st_out *, void *), void *arg,
		     size_t *len)
{
	char *mem = NULL;
	FILE *f = open_memstream(&mem, len);
	struct st_out *o = malloc(sizeof(*o));

	assert_non_null(f);
	assert_non_null(o);
	st_out_init(o, f);
	fn(o, arg);
	assert_int_equal(st_out_flush(o), 0);
	fclose(f);
	free(o);
	return mem;
}

/* Every power of ten and its neighbours, both signs: digit counts are
 * where a hand-rolled formatter goes wrong. */
static void numbers(struct st_out *o, void *arg)
{
	(void)arg;
	for (uint64_t p = 1, i = 0; i < 20; i++, p *= 10) {
		uint64_t vs[] = { p - 1, p, p + 1 };
		for (int k = 0; k < 3; k++) {
			st_out_u64(o, vs[k]);
			st_out_chr(o, ' ');
			st_out_i64(o, (int64_t)vs[k]);
			st_out_chr(o, ' ');
			st_out_i64(o, -(int64_t)vs[k]);
			st_out_chr(o, '\n');
		}
	}
	st_out_u64(o, UINT64_MAX);
	st_out_chr(o, ' ');
	st_out_i64(o, INT64_MIN);
	st_out_chr(o, ' ');
	st_out_i64(o, INT64_MAX);
}

static void test_numbers_like_printf(void **state)
{
	char want[8192];
	size_t n = 0, len;

	(void)state;
	for (uint64_t p = 1, i = 0; i < 20; i++, p *= 10) {
		uint64_t vs[] = { p - 1, p, p + 1 };
		for (int k = 0; k < 3; k++)
			n += (size_t)snprintf(
				want + n, sizeof(want) - n, "%llu %lld %lld\n",
				(unsigned long long)vs[k], (long long)vs[k],
				-(long long)vs[k]);
	}
	snprintf(want + n, sizeof(want) - n, "%llu %lld %lld",
		 (unsigned long long)UINT64_MAX, (long long)INT64_MIN,
		 (long long)INT64_MAX);
	char *got = capture(numbers, NULL, &len);
	assert_string_equal(got, want);
	free(got);
}

/* Random numbers of every length, against printf. */
static void test_random_numbers_like_printf(void **state)
{
	char got[64], want[64];
	uint64_t x = 0x9e3779b97f4a7c15ull;

	(void)state;
	for (int i = 0; i < 2000000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint64_t v = x >> (x % 64);
		memset(got, 'X', sizeof(got));
		char *e = st_put_u64(got, v);
		*e = 0;
		snprintf(want, sizeof(want), "%llu", (unsigned long long)v);
		if (strcmp(got, want))
			fail_msg("%s: got %s", want, got);
		assert_true(got[ST_PUT_NUM_MAX + 1] == 'X'); /* no overrun */
		e = st_put_i64(got, -(int64_t)(v >> 1));
		*e = 0;
		snprintf(want, sizeof(want), "%lld", -(long long)(v >> 1));
		if (strcmp(got, want))
			fail_msg("%s: got %s", want, got);
	}
}

/* A piece of text with every kind of byte JSON treats differently, and
 * what it must become: plain, quote, backslash, a control byte, valid
 * UTF-8 (kept), a lone continuation byte and a cut sequence (escaped). */
static const char piece[] = "ab\"\\\x01\xc3\xa9\x80\xe2\x82z";
static const char piece_json[] = "ab\\\"\\\\\\u0001\xc3\xa9\\u0080\\u00e2"
				 "\\u0082z";

struct strs {
	size_t reps;
};

static void strings(struct st_out *o, void *arg)
{
	const struct strs *s = arg;
	size_t n = strlen(piece), total = n * s->reps;
	char *text = malloc(total);

	assert_non_null(text);
	for (size_t i = 0; i < s->reps; i++)
		memcpy(text + i * n, piece, n);
	st_out_json_str(o, text, total);
	free(text);
}

/* Short strings are escaped in place, long ones (more than the buffer
 * could take escaped) a byte at a time: both must agree. */
static void check_reps(size_t reps)
{
	struct strs s = { reps };
	size_t len, wn = strlen(piece_json);
	char *got = capture(strings, &s, &len);

	assert_int_equal(len, wn * reps + 2);
	assert_int_equal(got[0], '"');
	assert_int_equal(got[len - 1], '"');
	for (size_t i = 0; i < reps; i++)
		assert_memory_equal(got + 1 + i * wn, piece_json, wn);
	free(got);
}

static void test_json_str_short(void **state)
{
	(void)state;
	check_reps(1);
	check_reps(100);
}

static void test_json_str_longer_than_buffer(void **state)
{
	(void)state;
	check_reps(sizeof(((struct st_out *)0)->buf) / 4);
}

/* Durations in us with one decimal, as dump prints them: every value up
 * to 1 s, then half-way values (where printf's rounding of the double
 * decides) and others at every magnitude, then random ones. */
static void test_milli1_like_printf(void **state)
{
	char got[64], want[64];
	uint64_t x = 88172645463325252ull;

	(void)state;
	for (uint64_t v = 0; v < 3000000; v++) {
		*st_put_milli1(got, v) = 0;
		snprintf(want, sizeof(want), "%.1f", v / 1000.0);
		if (strcmp(got, want))
			fail_msg("%llu: got %s, printf %s",
				 (unsigned long long)v, got, want);
	}
	for (uint64_t m = 1000; m < (1ull << 62); m *= 7) {
		for (uint64_t d = 0; d < 400; d++) {
			uint64_t v = m / 100 * 100 + d;
			*st_put_milli1(got, v) = 0;
			snprintf(want, sizeof(want), "%.1f", v / 1000.0);
			if (strcmp(got, want))
				fail_msg("%llu: got %s, printf %s",
					 (unsigned long long)v, got, want);
		}
	}
	for (int i = 0; i < 1000000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint64_t v = x >> (x % 40);
		*st_put_milli1(got, v) = 0;
		snprintf(want, sizeof(want), "%.1f", v / 1000.0);
		if (strcmp(got, want))
			fail_msg("%llu: got %s, printf %s",
				 (unsigned long long)v, got, want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_numbers_like_printf),
		cmocka_unit_test(test_random_numbers_like_printf),
		cmocka_unit_test(test_json_str_short),
		cmocka_unit_test(test_json_str_longer_than_buffer),
		cmocka_unit_test(test_milli1_like_printf),
	};

	return cmocka_run_group_tests_name("st_out", tests, NULL, NULL);
}
