/* SPDX-License-Identifier: MIT */
/* The trace reader on bad, partial, wrapped and stopped trace files. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "trace.h"

#define PID 31337

static char tmp_dir[PATH_MAX - 64];

static int setup_dir(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(tmp_dir, sizeof(tmp_dir), "%s/st-test-trace-XXXXXX",
		 base && *base ? base : "/tmp");
	return mkdtemp(tmp_dir) ? 0 : -1;
}

static int remove_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int teardown_dir(void **state)
{
	(void)state;
	/* a failed test leaves its files behind: clean up after it too */
	return nftw(tmp_dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* PATH = the test directory's NAME (PATH has PATH_MAX bytes). */
static void tmp_path(char *path, const char *name)
{
	assert_true(snprintf(path, PATH_MAX, "%s/%s", tmp_dir, name) <
		    PATH_MAX);
}

/* A header as the preload writes it: CAPACITY slots, NEXT reserved. */
static void make_header(struct st_header *h, uint64_t capacity, uint64_t next,
			uint32_t policy)
{
	memset(h, 0, sizeof(*h));
	st_header_layout(h, capacity, policy);
	h->pid = PID;
	snprintf(h->comm, sizeof(h->comm), "tracetest");
	h->next = next;
	h->mapped = capacity;
}

/* The complete record number N: a call the reader accepts. */
static void make_rec(struct st_rec *r, uint64_t n)
{
	memset(r, 0, sizeof(*r));
	r->seq = n + 1;
	r->ts = 1000000 + n * 1000;
	r->dur = 10 + n;
	r->ret = (int64_t)n;
	r->tid = PID;
	r->fd = 3;
	r->call = (uint16_t)(n % ST_CALL_COUNT);
}

/* Writes the first SIZE bytes of HDR followed by SLOTS to PATH. */
static void write_file(const char *path, const void *hdr, size_t size,
		       const struct st_rec *slots, size_t nslots)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	if (size)
		assert_int_equal(fwrite(hdr, size, 1, f), 1);
	if (nslots)
		assert_int_equal(fwrite(slots, sizeof(*slots), nslots, f),
				 nslots);
	assert_int_equal(fclose(f), 0);
}

/* Asserts MSG contains WHAT, printing MSG when it does not. */
static void expect_msg(const char *msg, const char *what)
{
	if (!strstr(msg, what))
		fail_msg("\"%s\" does not mention \"%s\"", msg, what);
}

/* Opens PATH expecting failure; ERR gets the message. */
static void open_fails(const char *path, char *err)
{
	struct st_trace t;

	err[0] = 0;
	assert_int_equal(st_trace_open(&t, path, err), -1);
	expect_msg(err, path);
}

/* Record N is there, and is the record written as number N. */
static void expect_rec(struct st_trace *t, uint64_t n)
{
	struct st_rec r, want;

	make_rec(&want, n);
	if (st_trace_get(t, n, &r) != 1)
		fail_msg("record %llu not readable", (unsigned long long)n);
	assert_memory_equal(&r, &want, sizeof(r));
}

static void empty_file(void **state)
{
	char path[PATH_MAX], err[ST_ERR_LEN];

	(void)state;
	tmp_path(path, "empty.trace");
	write_file(path, NULL, 0, NULL, 0);
	open_fails(path, err);
	expect_msg(err, "empty");
	unlink(path);
}

static void short_header(void **state)
{
	char path[PATH_MAX], err[ST_ERR_LEN];
	struct st_header h;

	(void)state;
	make_header(&h, 8, 0, ST_POLICY_RING);
	tmp_path(path, "short.trace");
	write_file(path, &h, 100, NULL, 0);
	open_fails(path, err);
	expect_msg(err, "truncated");
	expect_msg(err, "offset 100");
	unlink(path);
}

static void bad_magic(void **state)
{
	char path[PATH_MAX], err[ST_ERR_LEN];
	struct st_header h;

	(void)state;
	make_header(&h, 8, 0, ST_POLICY_RING);
	/* an ELF file, say */
	memcpy(h.magic, "\177ELF\2\1\1", sizeof(h.magic));
	tmp_path(path, "magic.trace");
	write_file(path, &h, sizeof(h), NULL, 0);
	open_fails(path, err);
	expect_msg(err, "not a socktrace trace file");
	unlink(path);
}

static void newer_version(void **state)
{
	char path[PATH_MAX], err[ST_ERR_LEN];
	struct st_header h;

	(void)state;
	make_header(&h, 8, 0, ST_POLICY_RING);
	h.version = ST_VERSION + 1;
	tmp_path(path, "newer.trace");
	write_file(path, &h, sizeof(h), NULL, 0);
	open_fails(path, err);
	expect_msg(err, "newer");
	unlink(path);
}

static void older_version(void **state)
{
	char path[PATH_MAX], err[ST_ERR_LEN];
	struct st_header h;

	(void)state;
	make_header(&h, 8, 0, ST_POLICY_RING);
	h.version = ST_VERSION_MIN - 1;
	tmp_path(path, "older.trace");
	write_file(path, &h, sizeof(h), NULL, 0);
	open_fails(path, err);
	expect_msg(err, "older socktrace");
	unlink(path);
}

/* Version 2 traces still read: version 3 only appended to them. */
static void oldest_readable_version(void **state)
{
	char path[PATH_MAX], err[ST_ERR_LEN] = "";
	struct st_header h;
	struct st_trace t;

	(void)state;
	make_header(&h, 8, 0, ST_POLICY_RING);
	h.version = ST_VERSION_MIN;
	tmp_path(path, "oldest.trace");
	write_file(path, &h, sizeof(h), NULL, 0);
	if (st_trace_open(&t, path, err))
		fail_msg("version %d refused: %s", ST_VERSION_MIN, err);
	st_trace_close(&t);
	unlink(path);
}

/* Every field byte-swapped reads as a huge version: not "newer". */
static void other_byte_order(void **state)
{
	char path[PATH_MAX], err[ST_ERR_LEN];
	struct st_header h;

	(void)state;
	make_header(&h, 8, 0, ST_POLICY_RING);
	h.version = __builtin_bswap32(ST_VERSION);
	tmp_path(path, "swapped.trace");
	write_file(path, &h, sizeof(h), NULL, 0);
	open_fails(path, err);
	expect_msg(err, "other byte order");
	if (strstr(err, "newer"))
		fail_msg("\"%s\" blames a newer version", err);
	unlink(path);
}

/* The writer had 10 records in the file; a copy kept 6 and a half. */
static void truncated_body(void **state)
{
	char path[PATH_MAX], err[ST_ERR_LEN] = "", off[32];
	struct st_header h;
	struct st_rec slots[7];
	struct st_trace t;

	(void)state;
	make_header(&h, 16, 10, ST_POLICY_RING);
	h.mapped = 10;
	for (uint64_t n = 0; n < 7; n++)
		make_rec(&slots[n], n);
	tmp_path(path, "cut.trace");
	/* the cut falls inside slot 6: a partial slot is no record */
	size_t size = sizeof(h) + 6 * sizeof(slots[0]) + 50;
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(&h, sizeof(h), 1, f), 1);
	assert_int_equal(fwrite(slots, size - sizeof(h), 1, f), 1);
	assert_int_equal(fclose(f), 0);

	if (st_trace_open(&t, path, err))
		fail_msg("%s", err);
	expect_msg(t.warn, path);
	expect_msg(t.warn, "truncated");
	snprintf(off, sizeof(off), "offset %zu", size);
	expect_msg(t.warn, off);
	assert_int_equal(t.first, 0);
	assert_int_equal(t.end, 6);
	for (uint64_t n = t.first; n < t.end; n++)
		expect_rec(&t, n);
	assert_int_equal(t.good, 6);
	assert_int_equal(t.lost, 4);
	assert_int_equal(t.missing, 0);
	assert_int_equal(t.corrupt, 0);
	st_trace_close(&t);
	unlink(path);
}

static void corrupt_record(void **state)
{
	char path[PATH_MAX], err[ST_ERR_LEN] = "", msg[64];
	struct st_header h;
	struct st_rec slots[8], r;
	struct st_trace t;

	(void)state;
	make_header(&h, 8, 4, ST_POLICY_RING);
	for (uint64_t n = 0; n < 8; n++)
		make_rec(&slots[n], n);
	/* complete (seq is right) but of no call kind this reader knows */
	slots[1].call = ST_CALL_COUNT;
	/* and one with a flag no writer sets */
	slots[3].flags = 0x80;
	tmp_path(path, "corrupt.trace");
	write_file(path, &h, sizeof(h), slots, 8);

	if (st_trace_open(&t, path, err))
		fail_msg("%s", err);
	assert_string_equal(t.warn, "");
	expect_rec(&t, 0);
	assert_int_equal(st_trace_get(&t, 1, &r), -1);
	expect_msg(t.warn, path);
	snprintf(msg, sizeof(msg), "corrupt record at offset %llu",
		 (unsigned long long)(ST_HEADER_SIZE + 1 * ST_SLOT_SIZE));
	expect_msg(t.warn, msg);
	/* the reader goes on past it */
	expect_rec(&t, 2);
	assert_int_equal(st_trace_get(&t, 3, &r), -1);
	assert_int_equal(t.good, 2);
	assert_int_equal(t.corrupt, 2);
	/* the first problem is the one described */
	expect_msg(t.warn, msg);
	st_trace_close(&t);
	unlink(path);
}

/* A finished file (exit_ts set) is read a run of slots at a time,
 * across the ring's wrap, with the same answers as through the mapping:
 * records, a slot never completed, a corrupt one, the counts. */
static void finished_file_in_runs(void **state)
{
	enum { CAP = 1100, NEXT = 1500 };
	char path[PATH_MAX], err[ST_ERR_LEN] = "";
	struct st_header h;
	static struct st_rec slots[CAP];
	struct st_rec r;
	struct st_trace t;

	(void)state;
	make_header(&h, CAP, NEXT, ST_POLICY_RING);
	h.exit_ts = 5000000;
	for (uint64_t n = NEXT - CAP; n < NEXT; n++)
		make_rec(&slots[n % CAP], n);
	slots[1000 % CAP].seq = 0;		/* never completed */
	slots[1300 % CAP].call = ST_CALL_COUNT; /* corrupt */
	tmp_path(path, "finished.trace");
	write_file(path, &h, sizeof(h), slots, CAP);

	if (st_trace_open(&t, path, err))
		fail_msg("%s", err);
	assert_true(t.buffered);
	assert_int_equal(t.first, NEXT - CAP);
	assert_int_equal(t.end, NEXT);
	for (int pass = 0; pass < 2; pass++) {
		for (uint64_t n = t.first; n < t.end; n++) {
			if (n == 1000)
				assert_int_equal(st_trace_get(&t, n, &r), 0);
			else if (n == 1300)
				assert_int_equal(st_trace_get(&t, n, &r), -1);
			else
				expect_rec(&t, n);
		}
		assert_non_null(t.buf);
		st_trace_rest(&t); /* read again: the buffer comes back */
		assert_null(t.buf);
	}
	assert_int_equal(t.good, 2 * (CAP - 2));
	assert_int_equal(t.missing, 2);
	assert_int_equal(t.corrupt, 2);
	expect_msg(t.warn, "corrupt record");
	st_trace_close(&t);
	unlink(path);
}

/* A record reserved but never completed: the process died mid-call. */
static void unpublished_slot(void **state)
{
	char path[PATH_MAX], err[ST_ERR_LEN] = "";
	struct st_header h;
	struct st_rec slots[8], r;
	struct st_trace t;

	(void)state;
	make_header(&h, 8, 5, ST_POLICY_RING);
	for (uint64_t n = 0; n < 8; n++)
		make_rec(&slots[n], n);
	slots[2].seq = 0;
	tmp_path(path, "unpublished.trace");
	write_file(path, &h, sizeof(h), slots, 8);

	if (st_trace_open(&t, path, err))
		fail_msg("%s", err);
	assert_int_equal(t.end, 5);
	for (uint64_t n = t.first; n < t.end; n++) {
		if (n == 2)
			assert_int_equal(st_trace_get(&t, n, &r), 0);
		else
			expect_rec(&t, n);
	}
	assert_int_equal(t.good, 4);
	assert_int_equal(t.missing, 1);
	assert_int_equal(t.lost, 0);
	assert_int_equal(t.corrupt, 0);
	st_trace_close(&t);
	unlink(path);
}

/* Ring policy: 20 records through 8 slots keep the newest 8. */
static void ring_wrap(void **state)
{
	char path[PATH_MAX], err[ST_ERR_LEN] = "";
	struct st_header h;
	struct st_rec slots[8];
	struct st_trace t;

	(void)state;
	make_header(&h, 8, 20, ST_POLICY_RING);
	for (uint64_t n = 12; n < 20; n++)
		make_rec(&slots[n % 8], n);
	tmp_path(path, "ring.trace");
	write_file(path, &h, sizeof(h), slots, 8);

	if (st_trace_open(&t, path, err))
		fail_msg("%s", err);
	assert_string_equal(t.warn, "");
	assert_int_equal(t.first, 12);
	assert_int_equal(t.end, 20);
	assert_int_equal(t.lost, 12);
	/* in record order, although slot 0 holds record 16 */
	for (uint64_t n = t.first; n < t.end; n++)
		expect_rec(&t, n);
	assert_int_equal(t.good, 8);
	assert_int_equal(t.missing, 0);
	assert_int_equal(t.lost, 12);
	st_trace_close(&t);
	unlink(path);
}

/* Stop policy: 20 records offered to 8 slots keep the oldest 8. */
static void stop_full(void **state)
{
	char path[PATH_MAX], err[ST_ERR_LEN] = "";
	struct st_header h;
	struct st_rec slots[8];
	struct st_trace t;

	(void)state;
	make_header(&h, 8, 20, ST_POLICY_STOP);
	for (uint64_t n = 0; n < 8; n++)
		make_rec(&slots[n], n);
	tmp_path(path, "stop.trace");
	write_file(path, &h, sizeof(h), slots, 8);

	if (st_trace_open(&t, path, err))
		fail_msg("%s", err);
	assert_string_equal(t.warn, "");
	assert_int_equal(t.first, 0);
	assert_int_equal(t.end, 8);
	for (uint64_t n = t.first; n < t.end; n++)
		expect_rec(&t, n);
	assert_int_equal(t.good, 8);
	assert_int_equal(t.lost, 12);
	assert_int_equal(t.missing, 0);
	st_trace_close(&t);
	unlink(path);
}

/*
 * The writer could not grow the file past 8 slots: records 8 and 9 were
 * reserved but dropped.  They are lost once, as dropped, not again as
 * records beyond the mapped end; and the file is not short.
 */
static void dropped_once(void **state)
{
	char path[PATH_MAX], err[ST_ERR_LEN] = "";
	struct st_header h;
	struct st_rec slots[8];
	struct st_trace t;

	(void)state;
	make_header(&h, 16, 10, ST_POLICY_RING);
	h.mapped = 8;
	h.dropped = 2;
	for (uint64_t n = 0; n < 8; n++)
		make_rec(&slots[n], n);
	tmp_path(path, "dropped.trace");
	write_file(path, &h, sizeof(h), slots, 8);

	if (st_trace_open(&t, path, err))
		fail_msg("%s", err);
	assert_string_equal(t.warn, "");
	assert_int_equal(t.first, 0);
	assert_int_equal(t.end, 8);
	assert_int_equal(t.lost, 2);
	assert_int_equal(t.cut, 0);
	for (uint64_t n = t.first; n < t.end; n++)
		expect_rec(&t, n);
	assert_int_equal(t.good, 8);
	assert_int_equal(t.missing, 0);
	assert_int_equal(t.corrupt, 0);
	/* a refresh recounts, it does not add */
	st_trace_refresh(&t);
	assert_int_equal(t.lost, 2);
	assert_int_equal(t.cut, 0);
	assert_int_equal(t.end, 8);
	assert_string_equal(t.warn, "");
	st_trace_close(&t);
	unlink(path);
}

/*
 * Stop policy, full (20 records offered to 8 slots), and a copy kept only
 * 6 slots: 12 refused plus 2 cut off.  Asking for the cut-off records
 * finds them absent without counting them again.
 */
static void stop_full_truncated(void **state)
{
	char path[PATH_MAX], err[ST_ERR_LEN] = "";
	struct st_header h;
	struct st_rec slots[6], r;
	struct st_trace t;

	(void)state;
	make_header(&h, 8, 20, ST_POLICY_STOP);
	for (uint64_t n = 0; n < 6; n++)
		make_rec(&slots[n], n);
	tmp_path(path, "stop-cut.trace");
	write_file(path, &h, sizeof(h), slots, 6);

	if (st_trace_open(&t, path, err))
		fail_msg("%s", err);
	expect_msg(t.warn, path);
	expect_msg(t.warn, "truncated");
	expect_msg(t.warn, "2 records lost");
	assert_int_equal(t.first, 0);
	assert_int_equal(t.end, 6);
	assert_int_equal(t.lost, 12 + 2);
	assert_int_equal(t.cut, 2);
	for (uint64_t n = t.first; n < t.end; n++)
		expect_rec(&t, n);
	/* the two the writer had in slots 6 and 7 */
	for (uint64_t n = 6; n < 8; n++)
		assert_int_equal(st_trace_get(&t, n, &r), 0);
	assert_int_equal(t.good, 6);
	assert_int_equal(t.lost, 12 + 2);
	assert_int_equal(t.cut, 2);
	assert_int_equal(t.missing, 0);
	assert_int_equal(t.corrupt, 0);
	st_trace_close(&t);
	unlink(path);
}

/* PATH = NAME in the directory find_in_dir lists. */
static void found_path(char *path, const char *name)
{
	char rel[64];

	assert_true(snprintf(rel, sizeof(rel), "found/%s", name) <
		    (int)sizeof(rel));
	tmp_path(path, rel);
}

static void find_in_dir(void **state)
{
	/*
	 * Created in an order that is neither sorted nor reverse-sorted, and
	 * enough of them that directory order is unlikely to be sorted.  A
	 * trace file needs a name before ".trace".
	 */
	static const char *const names[] = {
		"web-7.trace",	 "other.txt",	  "curl-2.trace",
		"old.trace.bak", "nginx-9.trace", "app-1.trace",
		"trace",	 "redis-4.trace", "zsh-3.trace",
		"bash-5.trace",	 ".trace",	  "db-8.trace",
		"mid-6.trace",
	};
	static const char *const want[] = {
		"app-1.trace",	 "bash-5.trace", "curl-2.trace",
		"db-8.trace",	 "mid-6.trace",	 "nginx-9.trace",
		"redis-4.trace", "web-7.trace",	 "zsh-3.trace",
	};
	char dir[PATH_MAX], path[PATH_MAX], err[ST_ERR_LEN] = "";
	char *arg[1] = { dir };
	char **out = NULL;
	size_t i;

	(void)state;
	tmp_path(dir, "found");
	assert_int_equal(mkdir(dir, 0700), 0);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		found_path(path, names[i]);
		write_file(path, NULL, 0, NULL, 0);
	}

	int n = st_trace_find(arg, 1, &out, err);
	if (n < 0)
		fail_msg("%s", err);
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < (size_t)n; i++) {
		found_path(path, want[i]);
		assert_string_equal(out[i], path);
		free(out[i]);
	}
	free(out);

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		found_path(path, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

static void find_missing(void **state)
{
	char path[PATH_MAX], err[ST_ERR_LEN] = "";
	char *arg[1] = { path };
	char **out = NULL;

	(void)state;
	tmp_path(path, "no-such-dir");
	assert_int_equal(st_trace_find(arg, 1, &out, err), -1);
	expect_msg(err, path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(empty_file),
		cmocka_unit_test(short_header),
		cmocka_unit_test(bad_magic),
		cmocka_unit_test(newer_version),
		cmocka_unit_test(older_version),
		cmocka_unit_test(oldest_readable_version),
		cmocka_unit_test(other_byte_order),
		cmocka_unit_test(truncated_body),
		cmocka_unit_test(corrupt_record),
		cmocka_unit_test(unpublished_slot),
		cmocka_unit_test(ring_wrap),
		cmocka_unit_test(stop_full),
		cmocka_unit_test(finished_file_in_runs),
		cmocka_unit_test(dropped_once),
		cmocka_unit_test(stop_full_truncated),
		cmocka_unit_test(find_in_dir),
		cmocka_unit_test(find_missing),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
