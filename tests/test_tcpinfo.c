/* SPDX-License-Identifier: MIT */
/* TCP_INFO at close: kept per end from hand-built records, and in words. */
#define _GNU_SOURCE
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tcpinfo.h"
#include "tcpk_text.h"

/* A close record (or close_range when RANGE) with FLAGS and figures. */
static struct st_rec close_rec(bool range, uint32_t flags)
{
	struct st_rec r;

	memset(&r, 0, sizeof(r));
	r.call = range ? ST_CALL_close_range : ST_CALL_close;
	if (range) {
		r.u.range.tcp_state = TCP_ESTABLISHED;
		r.u.range.close_flags = flags;
		r.u.range.rtt = 1500;
		r.u.range.min_rtt = 900;
		r.u.range.total_retrans = 3;
		r.u.range.total_rto = 1;
		r.u.range.total_rto_time = 210;
	} else {
		r.u.close.tcp_state = TCP_ESTABLISHED;
		r.u.close.close_flags = flags;
		r.u.close.rtt = 1500;
		r.u.close.min_rtt = 900;
		r.u.close.snd_cwnd = 10;
		r.u.close.total_retrans = 3;
		r.u.close.unacked = 2;
		r.u.close.notsent_bytes = 4096;
		r.u.close.total_rto = 1;
		r.u.close.total_rto_time = 210;
	}
	return r;
}

/* The close record's figures are kept only as far as its flags say:
 * a version 3 record (no flags) claims nothing. */
static void test_close_figures(void **state)
{
	(void)state;
	struct st_tcpk k = { 0 };
	struct st_rec r = close_rec(false, ST_CLOSE_UNREAD);

	st_tcpk_close(&k, &r);
	assert_int_equal(k.set, 0);
	r = close_rec(false, ST_CLOSE_TCPINFO);
	st_tcpk_close(&k, &r);
	assert_int_equal(k.set, ST_TCPK_FIGS);
	assert_int_equal(k.rtt_us, 1500);
	assert_int_equal(k.total_retrans, 3);
	assert_int_equal(k.total_rto, 1); /* kept, not claimed */
	r = close_rec(true, ST_CLOSE_TCPINFO | ST_CLOSE_RTO);
	st_tcpk_close(&k, &r);
	assert_int_equal(k.set, ST_TCPK_FIGS | ST_TCPK_RTO);
	assert_int_equal(k.min_rtt_us, 900);
	assert_int_equal(k.total_rto_ms, 210);
}

/* The tcpinfo record's counters, which come before the close record,
 * survive it; a listener's close keeps its queue. */
static void test_counters_and_queue(void **state)
{
	(void)state;
	struct st_tcpk k = { 0 };
	struct st_rec t, r = close_rec(false, ST_CLOSE_TCPINFO);

	memset(&t, 0, sizeof(t));
	t.call = ST_CALL_tcpinfo;
	t.u.tcpinfo.bytes_retrans = 4344;
	t.u.tcpinfo.busy_time = 800000;
	t.u.tcpinfo.rwnd_limited = 600000;
	st_tcpk_counters(&k, &t);
	st_tcpk_close(&k, &r);
	assert_int_equal(k.set, ST_TCPK_FIGS | ST_TCPK_COUNTERS);
	assert_int_equal(k.bytes_retrans, 4344);
	assert_int_equal(k.rwnd_limited_us, 600000);
	memset(&k, 0, sizeof(k));
	r = close_rec(false, ST_CLOSE_QUEUE);
	r.u.close.tcp_state = TCP_LISTEN;
	r.u.close.queue_len = 3;
	r.u.close.queue_max = 8;
	st_tcpk_close(&k, &r);
	assert_int_equal(k.set, ST_TCPK_QUEUE);
	assert_int_equal(k.queue_len, 3);
	assert_int_equal(k.queue_max, 8);
}

/* The timeline's line at close: the key figures, nothing unknown. */
static void test_words(void **state)
{
	(void)state;
	struct st_tcpk k = { 0 };
	struct st_rec r = close_rec(false, ST_CLOSE_TCPINFO | ST_CLOSE_RTO);
	char b[320];

	assert_string_equal(st_tcpk_text(&k, b, sizeof(b)), "");
	st_tcpk_close(&k, &r);
	st_tcpk_text(&k, b, sizeof(b));
	assert_non_null(strstr(b, "rtt 1500.0 us (min 900.0 us)"));
	assert_non_null(strstr(b, "cwnd 10, retransmitted 3"));
	assert_non_null(strstr(b, "1 RTOs (210.0 ms)"));
	assert_non_null(strstr(b, "2 segments unacked, 4096 B unsent"));
	assert_null(strstr(b, "busy"));
}

/* A ptrace trace's bytes: TCP_INFO's counters, less retransmissions out
 * and less the FIN in when the state at close shows one came. */
static void test_ptrace_bytes(void **state)
{
	(void)state;
	struct st_conn c;
	struct st_rec t, r = close_rec(false, ST_CLOSE_TCPINFO);

	memset(&c, 0, sizeof(c));
	memset(&t, 0, sizeof(t));
	t.call = ST_CALL_tcpinfo;
	t.u.tcpinfo.bytes_sent = 1200;
	t.u.tcpinfo.bytes_retrans = 200;
	t.u.tcpinfo.bytes_received = 501;
	st_tcpk_bytes(&c, &r); /* no counters yet: nothing claimed */
	assert_int_equal(c.bytes_out, 0);
	st_tcpk_counters(&c.tcp, &t);
	st_tcpk_bytes(&c, &r); /* ESTABLISHED: no FIN came */
	assert_int_equal(c.bytes_out, 1000);
	assert_int_equal(c.bytes_in, 501);
	r.u.close.tcp_state = TCP_CLOSE_WAIT;
	st_tcpk_bytes(&c, &r);
	assert_int_equal(c.bytes_in, 500);
	r = close_rec(true, ST_CLOSE_TCPINFO);
	r.u.range.tcp_state = TCP_CLOSE;
	st_tcpk_bytes(&c, &r);
	assert_int_equal(c.bytes_in, 500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_close_figures),
		cmocka_unit_test(test_counters_and_queue),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_ptrace_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
