/* SPDX-License-Identifier: MIT */
/* Joining ends: by 4-tuple (either end first), by pid for Unix, waits. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "model_fixture.h"
#include "stitch.h"

struct fx {
	struct st_conntab t;
	struct st_stitch s;
};

static struct fx *fx_new(void)
{
	struct fx *f = calloc(1, sizeof(*f));

	st_conntab_init(&f->t, 100);
	return f;
}

static void fx_free(struct fx *f)
{
	st_stitch_free(&f->s);
	st_conntab_free(&f->t);
	free(f);
}

static struct st_conn *client(struct fx *f, uint64_t id, uint16_t lport,
			      uint16_t rport)
{
	struct st_conn *c = st_conntab_get(&f->t, id, 0, 3, 0);

	c->kind = ST_KIND_TCP;
	c->role = ST_ROLE_CLIENT;
	c->local = fx_v4(lport);
	c->peer = fx_v4(rport);
	return c;
}

static struct st_conn *server(struct fx *f, uint64_t id, struct st_addr local,
			      struct st_addr peer)
{
	struct st_conn *c = st_conntab_get(&f->t, id, 1, 4, 0);

	c->kind = ST_KIND_TCP;
	c->role = ST_ROLE_SERVER;
	c->local = local;
	c->peer = peer;
	return c;
}

static void test_client_first(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct st_conn *cl = client(f, 1, 5000, 80);
	struct st_conn *other = client(f, 2, 5001, 80);

	st_stitch_pair(&f->s, &f->t, cl);
	st_stitch_pair(&f->s, &f->t, other);
	assert_null(cl->other);
	struct st_conn *srv = server(f, 3, fx_v4(80), fx_v4(5000));
	st_stitch_pair(&f->s, &f->t, srv);
	assert_ptr_equal(cl->other, srv);
	assert_ptr_equal(srv->other, cl);
	assert_null(other->other);
	fx_free(f);
}

/* On loopback accept can return before connect: the server waits. */
static void test_server_first(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct st_conn *srv = server(f, 3, fx_v4(80), fx_v4(5000));

	st_stitch_pair(&f->s, &f->t, srv);
	assert_null(srv->other);
	struct st_conn *cl = client(f, 1, 5000, 80);
	st_stitch_pair(&f->s, &f->t, cl);
	assert_ptr_equal(srv->other, cl);
	fx_free(f);
}

/* A dual-stack server sees ::ffff:127.0.0.1: still the same tuple. */
static void test_v4_mapped(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct st_conn *cl = client(f, 1, 5000, 80);
	struct st_conn *srv = server(f, 3, fx_mapped(80), fx_mapped(5000));

	st_stitch_pair(&f->s, &f->t, cl);
	st_stitch_pair(&f->s, &f->t, srv);
	assert_ptr_equal(cl->other, srv);
	fx_free(f);
}

static void released(struct st_conn *c, void *arg)
{
	*(struct st_conn **)arg = c;
}

/* A client of a traced listener waits for its accept; when the listener
 * closes, the kernel resets it and it waits no more. */
static void test_awaits_listener(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct st_conn *l = st_conntab_get(&f->t, 9, 1, 3, 0);
	struct st_conn *cl = client(f, 1, 5000, 80);
	struct st_conn *lone = client(f, 2, 5001, 81);
	struct st_conn *got = NULL;

	l->kind = ST_KIND_TCP;
	l->role = ST_ROLE_LISTENER;
	l->local = fx_v4(80);
	st_stitch_listen(&f->s, l);
	assert_true(st_stitch_listened(&f->s, cl, &cl->peer));
	st_stitch_pair(&f->s, &f->t, cl);
	st_stitch_pair(&f->s, &f->t, lone);
	assert_true(cl->awaiting_join);
	assert_false(lone->awaiting_join); /* nobody traced listens at 81 */
	st_stitch_unlisten(&f->s, &f->t, l, released, &got);
	assert_ptr_equal(got, cl);
	assert_false(cl->awaiting_join);
	assert_false(st_stitch_listened(&f->s, cl, &cl->peer));
	fx_free(f);
}

/* Unix clients of one path look alike: they join by the client's pid,
 * in accept-queue order. */
static void test_unix_by_pid_in_order(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	struct st_conn *c[2], *s[2];

	for (int i = 0; i < 2; i++) {
		c[i] = st_conntab_get(&f->t, 1 + i, 0, 3 + i, 0);
		c[i]->kind = ST_KIND_UNIX;
		c[i]->role = ST_ROLE_CLIENT;
		c[i]->peer = fx_unix("/run/x.sock");
		c[i]->join_pid = 100;
		st_stitch_pair(&f->s, &f->t, c[i]);
	}
	for (int i = 0; i < 2; i++) {
		s[i] = st_conntab_get(&f->t, 10 + i, 1, 5 + i, 0);
		s[i]->kind = ST_KIND_UNIX;
		s[i]->role = ST_ROLE_SERVER;
		s[i]->local = fx_unix("/run/x.sock");
		s[i]->join_pid = 100;
		st_stitch_pair(&f->s, &f->t, s[i]);
	}
	assert_ptr_equal(s[0]->other, c[0]);
	assert_ptr_equal(s[1]->other, c[1]);
	fx_free(f);
}

/* An end joined again first parts from its old partner. */
static void test_relink_parts_old(void **state)
{
	(void)state;
	struct st_conn a = { .id = 1 }, b = { .id = 2 }, c = { .id = 3 };

	assert_true(st_stitch_link(&a, &b));
	assert_true(st_stitch_link(&a, &c));
	assert_null(b.other);
	assert_ptr_equal(a.other, &c);
	assert_false(st_stitch_link(&a, &a));
}

/* An end queued for emission keeps its partner: emitting the pair must
 * not emit an end twice (a fuzzed trace did) or drop one. */
static void test_queued_end_not_relinked(void **state)
{
	(void)state;
	struct st_conn a = { .id = 1 }, b = { .id = 2 }, c = { .id = 3 };

	assert_true(st_stitch_link(&a, &b));
	a.emitted = b.emitted = true;
	assert_false(st_stitch_link(&c, &a));
	assert_false(st_stitch_link(&b, &c));
	assert_ptr_equal(a.other, &b);
	assert_ptr_equal(b.other, &a);
	assert_null(c.other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_first),
		cmocka_unit_test(test_server_first),
		cmocka_unit_test(test_v4_mapped),
		cmocka_unit_test(test_awaits_listener),
		cmocka_unit_test(test_unix_by_pid_in_order),
		cmocka_unit_test(test_relink_parts_old),
		cmocka_unit_test(test_queued_end_not_relinked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
