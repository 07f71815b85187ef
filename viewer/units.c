/* SPDX-License-Identifier: MIT */
/* Durations and byte counts in words: the one home of their formats. */
#include <stdio.h>
#include <string.h>

#include "out.h"
#include "units.h"

/*
 * V then UNIT into BUF, cut to fit as snprintf would: the common small
 * values are printed without printf's cost (timelines print one per
 * line).
 */
static void int_unit(char *buf, size_t len, uint64_t v, const char *unit)
{
	char t[ST_PUT_NUM_MAX + 8]; /* the longest unit is 3 */
	char *p = st_put_i64(t, (int64_t)v);
	size_t ul = strlen(unit), n;

	memcpy(p, unit, ul);
	n = (size_t)(p - t) + ul;
	if (n > len - 1)
		n = len - 1;
	memcpy(buf, t, n);
	buf[n] = 0;
}

void st_fmt_dur(char *buf, size_t len, uint64_t ns)
{
	if (ns < 10000)
		int_unit(buf, len, ns, " ns");
	else if (ns < 10000000)
		snprintf(buf, len, "%.1f us", ns / 1e3);
	else if (ns < 10000000000ull)
		snprintf(buf, len, "%.1f ms", ns / 1e6);
	else
		snprintf(buf, len, "%.1f s", ns / 1e9);
}

void st_fmt_bytes(char *buf, size_t len, uint64_t b)
{
	if (b < 10000)
		int_unit(buf, len, b, " B");
	else if (b < 10000000)
		snprintf(buf, len, "%.1f kB", b / 1e3);
	else
		snprintf(buf, len, "%.1f MB", b / 1e6);
}

void st_fmt_dur_col(char *buf, size_t len, uint64_t ns)
{
	double s = ns / 1e9;

	if (ns < 100000000)
		snprintf(buf, len, "%llums",
			 (unsigned long long)(ns / 1000000));
	else if (s < 9.95)
		snprintf(buf, len, "%.1fs", s);
	else if (s < 99.5)
		snprintf(buf, len, "%.0fs", s);
	else if (s < 5970)
		snprintf(buf, len, "%.0fm", s / 60);
	else if (s < 358200)
		snprintf(buf, len, "%.0fh", s / 3600);
	else
		snprintf(buf, len, "%.0fd", s / 86400);
}

void st_fmt_bytes_col(char *buf, size_t len, uint64_t b)
{
	static const char unit[] = "KMGTPE";
	double x = (double)b;
	int u = -1;

	if (b < 1000) {
		snprintf(buf, len, "%llu", (unsigned long long)b);
		return;
	}
	/* 999.5 and up would round to 4 digits: the next unit */
	while (x >= 999.5 && u < 5) {
		x /= 1024;
		u++;
	}
	snprintf(buf, len, x < 9.95 ? "%.1f%c" : "%.0f%c", x, unit[u]);
}

const char *st_fmt_thousands(char buf[32], uint64_t v)
{
	char t[24];
	int n = snprintf(t, sizeof(t), "%llu", (unsigned long long)v), o = 0;

	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = t[i];
	}
	buf[o] = 0;
	return buf;
}

const char *st_plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}
