/* SPDX-License-Identifier: MIT */
/* Grouped findings: scopes, counts, shares, examples, order, words. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "fgroup.h"
#include "finding_text.h"
#include "model_fixture.h"

/* A server end N of listener 1:1 in process 0, listening on :80. */
static struct st_conn server(uint32_t n)
{
	struct st_conn c;

	memset(&c, 0, sizeof(c));
	c.id = st_conn_id(100, n);
	c.role = ST_ROLE_SERVER;
	c.listener = st_conn_id(100, 1);
	c.local = fx_v4(80);
	c.peer = fx_v4((uint16_t)(40000 + n));
	return c;
}

static struct st_finding stw(const struct st_conn *c)
{
	struct st_finding f = { .kind = ST_F_server_time_wait,
				.scope = ST_SCOPE_CONN,
				.conn = c->id,
				.role = ST_ROLE_SERVER };
	return f;
}

/* Two of three server ends closed first: one group, 67% of the
 * listener's connections, both as examples. */
static void test_share_and_examples(void **state)
{
	(void)state;
	struct st_traceset *set = fx_set(1);
	struct st_fgroups g = { 0 };
	char buf[768];

	for (uint32_t n = 2; n <= 4; n++) {
		struct st_conn c = server(n);
		struct st_finding f = stw(&c);
		if (n != 3)
			st_fgroups_finding(&g, &f, set);
		st_fgroups_conn(&g, &c, set);
	}
	st_fgroups_end(&g, set);
	assert_non_null(g.groups);
	assert_null(g.groups->hh.next);
	assert_int_equal(g.groups->count, 2);
	assert_int_equal(g.groups->scope->conns, 3);
	assert_int_equal(g.groups->nex, 2);
	assert_int_equal(g.groups->ex[1], st_conn_id(100, 4));
	st_fgroup_text(g.groups, set, buf, sizeof(buf));
	assert_string_equal(buf,
			    "x2 (67% of proc0[100] :80's connections; e.g. "
			    "100:2, 100:4): the server closes first: the "
			    "active closer gets TIME_WAIT (60 s), so it is "
			    "held on the server; let clients close first, or "
			    "use keep-alive");
	st_fgroups_free(&g);
	fx_set_free(set);
}

/* One instance keeps its own sentence; a finding whose connection never
 * comes goes to its process; groups keep their first finding's order. */
static void test_single_orphan_and_order(void **state)
{
	(void)state;
	struct st_traceset *set = fx_set(1);
	struct st_fgroups g = { 0 };
	struct st_conn a = server(2), b = server(3);
	struct st_finding orphan = stw(&b), leak = stw(&a), one, lost;
	char buf[768], want[768];

	leak.kind = ST_F_fd_leak;
	leak.fd = 5;
	st_fgroups_finding(&g, &orphan, set); /* b is never shown */
	lost = st_finding_lost(0);
	st_fgroups_finding(&g, &lost, set);
	st_fgroups_finding(&g, &leak, set);
	st_fgroups_conn(&g, &a, set);
	st_fgroups_end(&g, set);

	const struct st_fgroup *x = g.groups;
	assert_int_equal(x->first.kind, ST_F_server_time_wait);
	assert_int_equal(x->scope->key.type, ST_FS_PROCESS);
	assert_false(x->share);
	x = x->hh.next;
	assert_int_equal(x->first.kind, ST_F_lost_records);
	x = x->hh.next;
	assert_int_equal(x->first.kind, ST_F_fd_leak);
	assert_int_equal(x->scope->key.type, ST_FS_LISTENER);
	one = leak;
	assert_string_equal(st_fgroup_text(x, set, buf, sizeof(buf)),
			    st_finding_text(&one, set, want, sizeof(want)));
	assert_null(x->hh.next);
	st_fgroups_free(&g);
	fx_set_free(set);
}

/* live's open ends, each judged alone: a server end whose client is
 * joined counts once in its listener's scope, not its client too; each
 * group knows its latest finding. */
static void test_open_ends_and_latest(void **state)
{
	(void)state;
	struct st_traceset *set = fx_set(1);
	struct st_fgroups g = { 0 };
	struct st_conn s[3], cl;
	char buf[768];

	memset(&cl, 0, sizeof(cl));
	cl.id = st_conn_id(100, 9);
	cl.role = ST_ROLE_CLIENT;
	cl.peer = fx_v4(80);
	for (uint32_t n = 0; n < 3; n++) {
		s[n] = server(n + 2);
		s[n].other = &cl; /* joined: its client is open too */
		struct st_finding f = stw(&s[n]);
		f.kind = n == 1 ? ST_F_fd_leak : ST_F_close_wait;
		st_fgroups_finding(&g, &f, set);
		st_fgroups_open_end(&g, &s[n], set);
	}
	const struct st_fgroup *cw = g.groups, *leak = cw->hh.next;
	assert_int_equal(cw->first.kind, ST_F_close_wait);
	assert_int_equal(cw->count, 2);
	assert_int_equal(cw->scope->key.type, ST_FS_LISTENER);
	assert_int_equal(cw->scope->conns, 3); /* the server ends only */
	assert_int_equal(cw->seq, 0);
	assert_int_equal(cw->last, 2);
	assert_int_equal(leak->count, 1);
	assert_int_equal(leak->last, 1);
	assert_null(leak->hh.next);
	st_fgroup_text(cw, set, buf, sizeof(buf));
	assert_non_null(strstr(buf, "x2 (67% of "));
	st_fgroups_free(&g);
	fx_set_free(set);
}

/* With max_scopes, a listener past it counts nowhere and its finding
 * goes to its process. */
static void test_max_scopes(void **state)
{
	(void)state;
	struct st_traceset *set = fx_set(1);
	struct st_fgroups g = { .max_scopes = 1 };
	struct st_conn a = server(2), b = server(3);
	struct st_finding fa = stw(&a), fb;

	b.listener = st_conn_id(100, 50); /* another listener */
	fb = stw(&b);
	st_fgroups_finding(&g, &fa, set);
	st_fgroups_conn(&g, &a, set);
	st_fgroups_finding(&g, &fb, set);
	st_fgroups_conn(&g, &b, set);
	st_fgroups_end(&g, set);
	const struct st_fgroup *x = g.groups;
	assert_int_equal(x->scope->key.type, ST_FS_LISTENER);
	assert_int_equal(x->count, 1);
	assert_int_equal(x->scope->conns, 1);
	x = x->hh.next;
	assert_non_null(x);
	assert_int_equal(x->scope->key.type, ST_FS_PROCESS);
	assert_int_equal(x->count, 1);
	assert_false(x->share);
	assert_null(x->hh.next);
	assert_int_equal(g.nscopes, 1);
	st_fgroups_free(&g);
	fx_set_free(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_share_and_examples),
		cmocka_unit_test(test_single_orphan_and_order),
		cmocka_unit_test(test_open_ends_and_latest),
		cmocka_unit_test(test_max_scopes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
