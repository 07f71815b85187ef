/* SPDX-License-Identifier: MIT */
/* The TIME_WAIT hold on hand-built ends: reuse, expiry, its bounds. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "model_fixture.h"
#include "tcpstate.h"
#include "twhold.h"

struct gone {
	struct st_conn *c[8];
	int n;
};

static void let_go(struct st_conn *c, void *arg)
{
	struct gone *g = arg;

	if (g->n < 8)
		g->c[g->n] = c;
	g->n++;
}

/* A client end 127.0.0.1:PORT -> :80, in TIME_WAIT from TW_MS on. */
static struct st_conn *tw_end(uint16_t port, uint64_t tw_ms)
{
	struct st_conn *c = calloc(1, sizeof(*c));

	c->id = port;
	c->kind = ST_KIND_TCP;
	c->role = ST_ROLE_CLIENT;
	c->local = fx_v4(port);
	c->bound_port = true;
	c->peer = fx_v4(80);
	st_tcp_established(c, 1 * MS);
	st_tcp_set(c, ST_ST_FIN_WAIT, tw_ms * MS, ST_SRC_call);
	st_tcp_set(c, ST_ST_TIME_WAIT, tw_ms * MS, ST_SRC_peer);
	return c;
}

static void end_free(struct st_conn *c)
{
	free(c->st);
	free(c);
}

/* Not in TIME_WAIT, or on an ephemeral port: not held.  A new end on the tuple
 * ends it; another waits out its 60 s. */
static void test_reuse_and_expiry(void **state)
{
	(void)state;
	struct st_twhold h = { 0 };
	struct gone g = { 0 };
	struct st_conn *a = tw_end(5000, 10), *b = tw_end(5001, 20);
	struct st_conn *n = tw_end(5000, 0), *est = tw_end(6000, 5);

	est->state = ST_ST_ESTABLISHED;
	assert_false(st_twhold_add(&h, est, let_go, &g));
	est->state = ST_ST_TIME_WAIT;
	est->bound_port = false; /* an ephemeral port: not waited for */
	assert_false(st_twhold_add(&h, est, let_go, &g));
	assert_true(st_twhold_add(&h, a, let_go, &g));
	assert_true(st_twhold_add(&h, b, let_go, &g));
	st_twhold_expire(&h, 30 * MS, let_go, &g);
	assert_int_equal(g.n, 0);
	st_twhold_reuse(&h, n, 40 * MS, 0, let_go, &g);
	assert_int_equal(g.n, 1);
	assert_ptr_equal(g.c[0], a);
	assert_int_equal(a->state, ST_ST_CLOSED);
	assert_int_equal(a->st[a->nst - 1].ts, 40 * MS);
	assert_int_equal(a->tw_reused_by, n->id);
	st_twhold_expire(&h, 20 * MS + ST_TIME_WAIT_NS, let_go, &g);
	assert_int_equal(g.n, 2);
	assert_ptr_equal(g.c[1], b);
	assert_int_equal(b->state, ST_ST_TIME_WAIT);
	st_twhold_free(&h);
	end_free(a);
	end_free(b);
	end_free(n);
	end_free(est);
}

/* The hold is bounded: the oldest goes when it is full of connections
 * or of their lines, and everything goes at the end. */
static void test_bounds(void **state)
{
	(void)state;
	struct st_twhold h = { 0 };
	struct gone g = { 0 };
	static struct st_conn *c[ST_TWHOLD_MAX + 1];
	struct st_conn *big = tw_end(40000, 1), *big2 = tw_end(40001, 1);

	for (int i = 0; i <= ST_TWHOLD_MAX; i++) {
		c[i] = tw_end((uint16_t)(10000 + i), 1);
		st_twhold_add(&h, c[i], let_go, &g);
	}
	assert_int_equal(g.n, 1);
	assert_ptr_equal(g.c[0], c[0]);
	st_twhold_all(&h, let_go, &g);
	assert_int_equal(g.n, ST_TWHOLD_MAX + 1);
	g.n = 0;
	big->nev = big2->nev = ST_TWHOLD_LINES / 2 + 1;
	st_twhold_add(&h, big, let_go, &g);
	st_twhold_add(&h, big2, let_go, &g);
	assert_int_equal(g.n, 1);
	assert_ptr_equal(g.c[0], big);
	st_twhold_free(&h);
	for (int i = 0; i <= ST_TWHOLD_MAX; i++)
		end_free(c[i]);
	end_free(big);
	end_free(big2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reuse_and_expiry),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
