/* SPDX-License-Identifier: MIT */
/* Durations and byte counts in words: the one home of their formats. */
#ifndef ST_VIEWER_UNITS_H
#define ST_VIEWER_UNITS_H

#include <stddef.h>
#include <stdint.h>

/* NS as timelines and summaries say it: "840 ns", "12.3 us", "1.5 s". */
void st_fmt_dur(char *buf, size_t len, uint64_t ns);
/* B as summaries say it: "512 B", "12.3 kB", "4.0 MB" (powers of 10). */
void st_fmt_bytes(char *buf, size_t len, uint64_t b);
/* NS in at most 4 characters, for a column: "12ms", "1.5s", "3m", "2d". */
void st_fmt_dur_col(char *buf, size_t len, uint64_t ns);
/* B in at most 4 characters, for a column: "512", "1.5K", "12M" (powers
 * of 1024). */
void st_fmt_bytes_col(char *buf, size_t len, uint64_t b);

/* V with a comma every three digits ("37,488") into BUF; returns BUF. */
const char *st_fmt_thousands(char buf[32], uint64_t v);
/* The plural ending for a count of N: "" for 1, "s" otherwise, so that a
 * message says "1 connection" and "2 connections". */
const char *st_plural(uint64_t n);

#endif
