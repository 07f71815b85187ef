/* SPDX-License-Identifier: MIT */
/* Socket options from hand-built records: which are named, which kept. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "sockopt.h"

static struct st_rec setopt(int level, int name, int32_t v, int32_t v2)
{
	struct st_rec r;

	memset(&r, 0, sizeof(r));
	r.call = ST_CALL_setsockopt;
	r.u.setopt.level = level;
	r.u.setopt.optname = name;
	r.u.setopt.value = v;
	r.u.setopt.value2 = v2;
	return r;
}

/* Go's keepalive on every TCP connection: SO_KEEPALIVE, then the
 * idle time and interval by name, as the program set them. */
static void keepalive_named(void **state)
{
	char buf[64];
	struct st_opts o;
	struct st_rec r[] = { setopt(SOL_SOCKET, SO_KEEPALIVE, 1, 0),
			      setopt(IPPROTO_TCP, TCP_KEEPINTVL, 15, 0),
			      setopt(IPPROTO_TCP, TCP_KEEPIDLE, 15, 0),
			      setopt(IPPROTO_TCP, TCP_KEEPCNT, 9, 0) };
	(void)state;

	memset(&o, 0, sizeof(o));
	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		st_opts_apply(&o, &r[i]);
	assert_true(o.set & (1u << ST_OPT_TCP_KEEPIDLE));
	assert_int_equal(o.val[ST_OPT_TCP_KEEPIDLE], 15);
	assert_int_equal(o.val[ST_OPT_TCP_KEEPINTVL], 15);
	assert_int_equal(o.val[ST_OPT_TCP_KEEPCNT], 9);
	st_opt_describe(&r[1], buf, sizeof(buf));
	assert_string_equal(buf, "TCP_KEEPINTVL 15");
	st_opt_describe(&r[2], buf, sizeof(buf));
	assert_string_equal(buf, "TCP_KEEPIDLE 15");
}

/* An option the table lacks is said by its numbers and not kept; a
 * failed setsockopt is not kept either. */
static void unnamed_and_failed(void **state)
{
	char buf[64];
	struct st_opts o;
	struct st_rec r = setopt(IPPROTO_TCP, TCP_CORK, 1, 0);
	struct st_rec bad = setopt(SOL_SOCKET, SO_LINGER, 1, 0);
	(void)state;

	memset(&o, 0, sizeof(o));
	st_opts_apply(&o, &r);
	assert_int_equal(o.set, 0);
	st_opt_describe(&r, buf, sizeof(buf));
	assert_string_equal(buf, "level 6 option 3 = 1");
	bad.flags = ST_REC_ERR;
	st_opts_apply(&o, &bad);
	assert_false(st_opts_linger0(&o));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keepalive_named),
		cmocka_unit_test(unnamed_and_failed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
