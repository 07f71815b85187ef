/* SPDX-License-Identifier: MIT */
/* The filter options' values: durations, times, addresses, names. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <cmocka.h>

#include "conn.h"
#include "findings.h"
#include "opts.h"

static void durations(void **state)
{
	static const struct {
		const char *s;
		uint64_t ns;
	} ok[] = {
		{ "250ms", 250000000 },
		{ "2s", 2000000000 },
		{ "1.5", 1500000000 },
		{ "100us", 100000 },
		{ "7ns", 7 },
		{ "2m", 120000000000 },
		{ "0", 0 },
		{ ".5s", 500000000 },
	};
	static const char *const bad[] = { "",	    "-1s", "fast", "2 s",
					   "1e400", "s",   "3d",   "nan" };
	uint64_t ns;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_true(st_parse_dur(ok[i].s, &ns));
		assert_int_equal(ns, ok[i].ns);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(st_parse_dur(bad[i], &ns));
}

static void times(void **state)
{
	struct st_when w;

	(void)state;
	assert_true(st_parse_when("12.5", &w));
	assert_int_equal(w.kind, ST_WHEN_REL);
	assert_int_equal(w.ns, 12500000000ll);
	assert_true(st_parse_when("+250ms", &w));
	assert_int_equal(w.ns, 250000000);
	assert_true(st_parse_when("10:32:05", &w));
	assert_int_equal(w.kind, ST_WHEN_CLOCK);
	assert_int_equal(w.ns, (10 * 3600 + 32 * 60 + 5) * 1000000000ll);
	assert_true(st_parse_when("00:00:01.25", &w));
	assert_int_equal(w.ns, 1250000000ll);
	assert_true(st_parse_when("2024-05-01T10:32:05Z", &w));
	assert_int_equal(w.kind, ST_WHEN_WALL);
	assert_int_equal(w.ns, 1714559525ll * 1000000000ll);
	assert_true(st_parse_when("2024-05-01 10:32:05.5Z", &w));
	assert_int_equal(w.ns, 1714559525500000000ll);
	/* local time: what mktime says that moment is */
	struct tm tm = { .tm_year = 124,
			 .tm_mon = 4,
			 .tm_mday = 1,
			 .tm_hour = 10,
			 .tm_min = 32,
			 .tm_sec = 5,
			 .tm_isdst = -1 };
	assert_true(st_parse_when("2024-05-01T10:32:05", &w));
	assert_int_equal(w.ns, (int64_t)mktime(&tm) * 1000000000ll);
	static const char *const bad[] = { "yesterday",
					   "25:00:00",
					   "10:61",
					   "2024-13-01T00:00:00",
					   "2024-04-31T00:00:00",
					   "2024-05-01",
					   "10:32:05 pm" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(st_parse_when(bad[i], &w));
}

static void addresses(void **state)
{
	struct st_addr_pat a;
	uint8_t lo[4] = { 127, 0, 0, 1 };

	(void)state;
	assert_true(st_parse_addr_pat("127.0.0.1:80", &a));
	assert_int_equal(a.family, AF_INET);
	assert_int_equal(a.port, 80);
	assert_memory_equal(a.ip, lo, 4);
	assert_true(st_parse_addr_pat("[::ffff:127.0.0.1]:80", &a));
	assert_int_equal(a.family, AF_INET); /* v4-mapped counts as v4 */
	assert_memory_equal(a.ip, lo, 4);
	assert_true(st_parse_addr_pat("[::1]:443", &a));
	assert_int_equal(a.family, AF_INET6);
	assert_int_equal(a.port, 443);
	assert_true(st_parse_addr_pat(":8080", &a));
	assert_int_equal(a.family, 0);
	assert_int_equal(a.port, 8080);
	assert_true(st_parse_addr_pat("10.0.0.7", &a));
	assert_int_equal(a.port, -1);
	assert_true(st_parse_addr_pat("::1", &a));
	assert_int_equal(a.family, AF_INET6);
	assert_int_equal(a.port, -1);
	assert_true(st_parse_addr_pat("/run/x.sock", &a));
	assert_int_equal(a.family, AF_UNIX);
	assert_string_equal(a.path, "/run/x.sock");
	assert_true(st_parse_addr_pat("@abstract", &a));
	assert_int_equal(a.family, AF_UNIX);
	static const char *const bad[] = { "localhost:80", "1.2.3.4:99999",
					   "nowhere",	   ":",
					   "1.2.3.4:",	   "[::1]",
					   "::1:80x",	   "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(st_parse_addr_pat(bad[i], &a));
}

static void names(void **state)
{
	struct st_filter_opts f = { 0 };

	(void)state;
	assert_int_equal(
		st_filter_opt(&f, ST_OPT_STATE, "close_wait,LISTEN", "test"),
		0);
	assert_int_equal(f.states, 1u << ST_ST_CLOSE_WAIT | 1u << ST_ST_LISTEN);
	assert_int_equal(st_filter_opt(&f, ST_OPT_FINDING, "reset", "test"), 0);
	assert_int_equal(f.findings, 1u << ST_F_reset);
	assert_true(st_filter_any(&f));
	assert_int_equal(st_filter_opt(&f, ST_OPT_STATE, "NONE", "test"), -1);
	assert_int_equal(st_filter_opt(&f, ST_OPT_STATE, "OPEN", "test"), -1);
	assert_int_equal(st_filter_opt(&f, ST_OPT_FINDING, "slow,", "test"),
			 -1);
	memset(&f, 0, sizeof(f));
	assert_false(st_filter_any(&f));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(durations),
		cmocka_unit_test(times),
		cmocka_unit_test(addresses),
		cmocka_unit_test(names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
