/* SPDX-License-Identifier: MIT */
/* The connection table: ids, fd references (dup, reuse), timeline lines. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "conntab.h"
#include "model_fixture.h"

static void test_get_makes_once(void **state)
{
	(void)state;
	struct st_conntab t;
	st_conntab_init(&t, 100);

	struct st_conn *a = st_conntab_get(&t, 42, 0, 3, 5);
	assert_non_null(a);
	assert_ptr_equal(st_conntab_get(&t, 42, 1, 9, 7), a);
	assert_int_equal(a->fd, 3); /* the first get made it */
	assert_int_equal(a->open_ts, 5);
	assert_ptr_equal(st_conntab_find(&t, 42), a);
	assert_null(st_conntab_find(&t, 43));
	st_conntab_free(&t);
}

/* dup'd fds share one socket: it closes when the last fd goes. */
static void test_dup_closes_with_last_fd(void **state)
{
	(void)state;
	struct st_conntab t;
	st_conntab_init(&t, 100);
	struct st_conn *c = st_conntab_get(&t, 1, 0, 3, 0);

	st_conntab_fd_add(&t, 0, 3, c);
	st_conntab_fd_add(&t, 0, 7, c); /* dup */
	st_conntab_fd_add(&t, 1, 3, c); /* a forked child's copy */
	assert_int_equal(c->refs, 3);
	assert_null(st_conntab_fd_drop(&t, 0, 3));
	assert_null(st_conntab_fd_drop(&t, 0, 7));
	assert_null(st_conntab_fd_drop(&t, 0, 7)); /* not held any more */
	assert_ptr_equal(st_conntab_fd_drop(&t, 1, 3), c);
	assert_int_equal(c->end_file, 1);
	assert_int_equal(c->end_fd, 3);
	st_conntab_free(&t);
}

/* An fd number reused behind our back no longer holds the old socket. */
static void test_fd_reuse_drops_old_ref(void **state)
{
	(void)state;
	struct st_conntab t;
	st_conntab_init(&t, 100);
	struct st_conn *a = st_conntab_get(&t, 1, 0, 3, 0);
	struct st_conn *b = st_conntab_get(&t, 2, 0, 3, 0);

	assert_null(st_conntab_fd_add(&t, 0, 3, a));
	assert_null(st_conntab_fd_add(&t, 0, 3, a)); /* seen again */
	assert_int_equal(a->refs, 1);
	/* A lost its last fd: the caller learns of a close nobody saw */
	assert_ptr_equal(st_conntab_fd_add(&t, 0, 3, b), a);
	assert_int_equal(a->end_fd, 3);
	assert_int_equal(a->refs, 0);
	assert_int_equal(b->refs, 1);
	assert_ptr_equal(st_conntab_fd_get(&t, 0, 3), b);
	st_conntab_free(&t);
}

/* Like data calls in a row make one line; EOF and errors stand alone. */
static void test_data_runs(void **state)
{
	(void)state;
	struct st_conntab t;
	st_conntab_init(&t, 100);
	struct st_conn *c = st_conntab_get(&t, 1, 0, 3, 0);
	struct st_rec w1 = fx_data(ST_CALL_write, 3, 1, 1, 10);
	struct st_rec w2 = fx_data(ST_CALL_write, 3, 1, 2, 20);
	struct st_rec r1 = fx_data(ST_CALL_read, 3, 1, 3, 5);
	struct st_rec eof = fx_data(ST_CALL_read, 3, 1, 4, 0);
	struct st_rec r2 = fx_data(ST_CALL_read, 3, 1, 5, 5);

	st_conntab_add_ev(&t, c, &w1, 0);
	st_conntab_add_ev(&t, c, &w2, 0);
	st_conntab_add_ev(&t, c, &w2, 1); /* another process: a new line */
	st_conntab_add_ev(&t, c, &r1, 0);
	st_conntab_add_ev(&t, c, &eof, 0);
	st_conntab_add_ev(&t, c, &r2, 0);
	assert_int_equal(c->nev, 5);
	assert_int_equal(c->ev[0].count, 2);
	assert_int_equal(c->ev[0].bytes, 30);
	assert_int_equal(c->ev[0].end, 2 * MS + 1000);
	assert_int_equal(c->ev[3].count, 1);
	assert_int_equal(c->ev[3].r.ret, 0);
	assert_int_equal(c->calls, 6);
	st_conntab_free(&t);
}

/* Beyond the cap lines are counted, not kept. */
static void test_timeline_cap(void **state)
{
	(void)state;
	struct st_conntab t;
	st_conntab_init(&t, 3);
	struct st_conn *c = st_conntab_get(&t, 1, 0, 3, 0);

	for (int i = 0; i < 10; i++) {
		struct st_rec r = fx_rec(ST_CALL_getsockopt, 3, 1, i, 0);
		st_conntab_add_ev(&t, c, &r, 0);
	}
	assert_int_equal(c->nev, 3);
	assert_int_equal(c->ev_dropped, 7);
	assert_int_equal(c->calls, 10);
	st_conntab_free(&t);
}

/* A released connection comes back zeroed, its buffers kept. */
static void test_reuse_is_clean(void **state)
{
	(void)state;
	struct st_conntab t;
	st_conntab_init(&t, 100);
	struct st_conn *c = st_conntab_get(&t, 1, 0, 3, 0);
	struct st_rec r = fx_data(ST_CALL_write, 3, 1, 1, 10);

	st_conntab_add_ev(&t, c, &r, 0);
	c->bytes_out = 10;
	c->state = ST_ST_TIME_WAIT;
	st_conntab_remove(&t, c);
	st_conntab_release(&t, c);
	struct st_conn *d = st_conntab_get(&t, 2, 0, 4, 9);
	assert_ptr_equal(d, c);
	assert_int_equal(d->id, 2);
	assert_int_equal(d->nev, 0);
	assert_int_equal(d->bytes_out, 0);
	assert_int_equal(d->state, ST_ST_NONE);
	assert_non_null(d->ev);
	assert_null(st_conntab_find(&t, 1));
	st_conntab_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_makes_once),
		cmocka_unit_test(test_dup_closes_with_last_fd),
		cmocka_unit_test(test_fd_reuse_drops_old_ref),
		cmocka_unit_test(test_data_runs),
		cmocka_unit_test(test_timeline_cap),
		cmocka_unit_test(test_reuse_is_clean),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
