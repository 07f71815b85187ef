/* SPDX-License-Identifier: MIT */
/* Findings from hand-built ends: which kinds, which figures, which words. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "finding_text.h"
#include "findings.h"
#include "model_fixture.h"

static struct st_conn end(uint8_t role)
{
	struct st_conn c = { .id = st_conn_id(100, 1),
			     .kind = ST_KIND_TCP,
			     .role = role,
			     .end = ST_END_CLOSED };
	return c;
}

/* C was in CLOSE_WAIT from FROM to TO (0: still), shown by BY: its
 * state list, in ST[3]. */
static void in_cw(struct st_conn *c, struct st_stchange st[3], uint64_t from,
		  uint64_t to, uint8_t by)
{
	st[0] = (struct st_stchange){ ST_ST_ESTABLISHED, 1 * MS, ST_SRC_call };
	st[1] = (struct st_stchange){ ST_ST_CLOSE_WAIT, from, ST_SRC_call };
	st[2] = (struct st_stchange){ ST_ST_LAST_ACK, to, ST_SRC_call };
	c->st = st;
	c->nst = to ? 3 : 2;
	c->state = st[c->nst - 1].state;
	c->closed_first = -1;
	c->cw_by = by;
	if (by & ST_CW_BY_EOF)
		c->eof_ts = from;
}

/* The one finding of kind K in F[0..N), or fail. */
static const struct st_finding *only(const struct st_finding *f, int n,
				     uint8_t k)
{
	const struct st_finding *got = NULL;

	for (int i = 0; i < n; i++) {
		assert_int_equal(f[i].kind, k);
		got = &f[i];
	}
	assert_non_null(got);
	return got;
}

/* Issue 13: a server end that reset with unread bytes: one reset
 * finding (who, why, what the client saw), no server_time_wait. */
static void test_reset(void **state)
{
	(void)state;
	struct st_finding f[ST_JUDGE_MAX];
	struct st_conn c = end(ST_ROLE_SERVER), o = end(ST_ROLE_CLIENT);
	struct st_traceset *set = fx_set(1);
	char text[512];

	c.closed_first = 1;
	c.reset_by = ST_RST_LOCAL;
	c.reset_reason = ST_RST_unread;
	c.close_unread = 12;
	c.other = &o;
	o.other = &c;
	o.reset_by = ST_RST_PEER;
	o.reset_saw = ST_SAW_ECONNRESET;
	const struct st_finding *x =
		only(f, st_judge(&c, 0, false, f), ST_F_reset);
	assert_true(x->by_local);
	assert_int_equal(x->reason, ST_RST_unread);
	st_finding_text(x, set, text, sizeof(text));
	assert_non_null(strstr(text, "12 bytes it never read"));
	assert_non_null(strstr(text, "saw ECONNRESET"));
	/* the count agrees with its noun */
	c.close_unread = 1;
	x = only(f, st_judge(&c, 0, false, f), ST_F_reset);
	st_finding_text(x, set, text, sizeof(text));
	assert_non_null(strstr(text, "with 1 byte it never read"));
	/* the receiving end tells nothing more */
	assert_int_equal(st_judge(&o, 0, false, f), 0);
	fx_set_free(set);
}

/* Issue 13 item 4: a connect abandoned in SYN_SENT is connect_failed. */
static void test_connect_abandoned(void **state)
{
	(void)state;
	struct st_finding f[ST_JUDGE_MAX];
	struct st_conn c = end(ST_ROLE_CLIENT);
	struct st_traceset *set = fx_set(1);
	char text[512];

	c.connect_abandoned = true;
	c.connect_ts = 10 * MS;
	c.close_ts = 1510 * MS;
	const struct st_finding *x =
		only(f, st_judge(&c, 0, false, f), ST_F_connect_failed);
	st_finding_text(x, set, text, sizeof(text));
	assert_non_null(strstr(text, "abandoned after 1.5 s in SYN_SENT"));
	fx_set_free(set);
}

static void test_clean_end_has_none(void **state)
{
	(void)state;
	struct st_finding f[ST_JUDGE_MAX];
	struct st_conn c = end(ST_ROLE_CLIENT);

	c.closed_first = 1; /* a client that closes first: as it should */
	assert_int_equal(st_judge(&c, 0, false, f), 0);
}

static void test_connect_failed(void **state)
{
	(void)state;
	struct st_finding f[ST_JUDGE_MAX];
	struct st_conn c = end(ST_ROLE_CLIENT);
	struct st_traceset *set = fx_set(1);
	char text[512];

	c.connect_err = ECONNREFUSED;
	c.peer = fx_v4(9);
	const struct st_finding *x =
		only(f, st_judge(&c, 0, false, f), ST_F_connect_failed);
	assert_int_equal(x->err, ECONNREFUSED);
	assert_int_equal(x->peer.port, 9);
	assert_int_equal(x->scope, ST_SCOPE_CONN);
	st_finding_text(x, set, text, sizeof(text));
	assert_non_null(strstr(text, "127.0.0.1:9"));
	assert_non_null(strstr(text, "ECONNREFUSED"));
	assert_non_null(strstr(text, "nothing listens there"));
	assert_non_null(strstr(text, "SYN"));
	/* a Unix socket has a path, no SYN and no handshake */
	c.peer = fx_unix("/run/x.sock");
	c.connect_err = ECONNREFUSED;
	x = only(f, st_judge(&c, 0, false, f), ST_F_connect_failed);
	st_finding_text(x, set, text, sizeof(text));
	assert_non_null(strstr(text, "/run/x.sock"));
	assert_non_null(strstr(text, "no process listens on it"));
	assert_null(strstr(text, "SYN"));
	for (int e = 0; e < 134; e++) {
		c.connect_err = e ? e : EIO;
		x = only(f, st_judge(&c, 0, false, f), ST_F_connect_failed);
		st_finding_text(x, set, text, sizeof(text));
		/* the words; an errno name may hold SYN (EL2NSYNC) */
		if (strstr(text, "handshake") || strstr(text, "the SYN"))
			fail_msg("%s", text);
	}
	fx_set_free(set);
}

/* EOF answered by close within a second is fine; later is CLOSE_WAIT. */
static void test_close_wait_threshold(void **state)
{
	(void)state;
	struct st_finding f[ST_JUDGE_MAX];
	struct st_conn c = end(ST_ROLE_SERVER);

	struct st_stchange st[3];

	in_cw(&c, st, 100 * MS, 100 * MS + ST_CLOSE_WAIT_NS, ST_CW_BY_EOF);
	assert_int_equal(st_judge(&c, 0, false, f), 0);
	st[2].ts = 2100 * MS;
	const struct st_finding *x =
		only(f, st_judge(&c, 0, false, f), ST_F_close_wait);
	assert_int_equal(x->cw, ST_CW_CLOSED_LATE);
	assert_int_equal(x->ns, 2000 * MS);
}

/* Open: judged as it stands at NOW; ended unclosed: never closed. */
static void test_close_wait_open_and_never(void **state)
{
	(void)state;
	struct st_finding f[ST_JUDGE_MAX];
	struct st_conn c = end(ST_ROLE_SERVER);
	struct st_traceset *set = fx_set(1);
	char text[512];

	struct st_stchange st[3];

	c.end = ST_END_OPEN;
	in_cw(&c, st, 100 * MS, 0, ST_CW_BY_EOF);
	assert_int_equal(st_judge(&c, 600 * MS, true, f), 0);
	const struct st_finding *x =
		only(f, st_judge(&c, 3100 * MS, true, f), ST_F_close_wait);
	assert_int_equal(x->cw, ST_CW_OPEN);
	st_finding_text(x, set, text, sizeof(text));
	assert_non_null(strstr(text, "has not closed it for 3.0 s"));
	c.end = ST_END_DEATH;
	x = only(f, st_judge(&c, 100 * MS, false, f), ST_F_close_wait);
	assert_int_equal(x->cw, ST_CW_NEVER);
	fx_set_free(set);
}

/* Issue 13 item 2: lighttpd's lingering close, shutdown(SHUT_WR) in
 * CLOSE_WAIT and then reading to EOF: the EOF came after the CLOSE_WAIT
 * ended, so the gap is CLOSE_WAIT's own (it was 2^64 - 0.1 s). */
static void test_close_wait_shutdown_before_eof(void **state)
{
	(void)state;
	struct st_finding f[ST_JUDGE_MAX];
	struct st_conn c = end(ST_ROLE_SERVER);
	struct st_stchange st[3];

	in_cw(&c, st, 1000 * MS, 1100 * MS, ST_CW_BY_PEER);
	c.fin_ts = 1100 * MS;
	c.eof_ts = 1200 * MS; /* read after its shutdown */
	c.cw_by |= ST_CW_BY_EOF;
	assert_int_equal(st_judge(&c, 0, false, f), 0);
	st[2].ts = c.fin_ts = 3000 * MS;
	c.eof_ts = 3100 * MS;
	const struct st_finding *x =
		only(f, st_judge(&c, 0, false, f), ST_F_close_wait);
	assert_int_equal(x->ns, 2000 * MS);
}

/* Issue 13 item 7: CLOSE_WAIT shown by the traced peer's close or by the
 * kernel at close, with no EOF read: raised over 1 s, and it says which
 * evidence; a process that ended in it too. */
static void test_close_wait_without_eof(void **state)
{
	(void)state;
	struct st_finding f[ST_JUDGE_MAX];
	struct st_conn c = end(ST_ROLE_SERVER);
	struct st_traceset *set = fx_set(1);
	struct st_stchange st[3];
	char text[512];

	in_cw(&c, st, 100 * MS, 900 * MS, ST_CW_BY_PEER);
	assert_int_equal(st_judge(&c, 0, false, f), 0);
	st[2].ts = 3100 * MS;
	const struct st_finding *x =
		only(f, st_judge(&c, 0, false, f), ST_F_close_wait);
	assert_int_equal(x->ns, 3000 * MS);
	assert_int_equal(x->cw_by, ST_CW_BY_PEER);
	st_finding_text(x, set, text, sizeof(text));
	assert_non_null(strstr(text, "shown by the traced peer's close"));
	assert_non_null(strstr(text, "closed it only 3.0 s later"));
	c.cw_by = ST_CW_BY_KERNEL;
	x = only(f, st_judge(&c, 0, false, f), ST_F_close_wait);
	st_finding_text(x, set, text, sizeof(text));
	assert_non_null(strstr(text, "the kernel's state at its close"));
	/* killed in CLOSE_WAIT: from the peer's close to its death */
	in_cw(&c, st, 100 * MS, 0, ST_CW_BY_PEER);
	c.end = ST_END_DEATH;
	c.close_ts = 600 * MS;
	assert_int_equal(st_judge(&c, 9000 * MS, false, f), 0);
	c.close_ts = 2600 * MS;
	x = only(f, st_judge(&c, 9000 * MS, false, f), ST_F_close_wait);
	assert_int_equal(x->cw, ST_CW_NEVER);
	assert_int_equal(x->ns, 2500 * MS);
	fx_set_free(set);
}

/* Only the active closer gets TIME_WAIT: a finding on a server, a guess
 * when the client is not traced (an RST from it would end it). */
static void test_server_time_wait(void **state)
{
	(void)state;
	struct st_finding f[ST_JUDGE_MAX];
	struct st_conn c = end(ST_ROLE_SERVER), cl = end(ST_ROLE_CLIENT);

	c.closed_first = 1;
	assert_true(only(f, st_judge(&c, 0, false, f), ST_F_server_time_wait)
			    ->guess);
	c.other = &cl;
	cl.other = &c;
	assert_false(only(f, st_judge(&c, 0, false, f), ST_F_server_time_wait)
			     ->guess);
	c.reset_by = ST_RST_PEER; /* the client's RST ended it: no finding */
	assert_int_equal(st_judge(&c, 0, false, f), 0);
	c.reset_by = 0;
	c.other = NULL;
	c.kind = ST_KIND_UNIX; /* no TIME_WAIT outside TCP */
	assert_int_equal(st_judge(&c, 0, false, f), 0);
}

/* A socket open at a clean exit was closed by the exit: no finding.  A
 * leak is one unused long before the exit, named by its fd in the
 * process that held it last; one whose peer closed first is a
 * close_wait, and a listener is open until exit by design. */
static void test_fd_leak(void **state)
{
	(void)state;
	struct st_finding f[ST_JUDGE_MAX];
	struct st_conn c = end(ST_ROLE_CLIENT);
	struct st_traceset *set = fx_set(3);
	struct st_stchange st[3];
	char text[512];

	c.end = ST_END_EXIT;
	c.end_file = 2;
	c.end_fd = 7;
	c.last_ts = 5 * MS;
	c.close_ts = c.last_ts + ST_LEAK_IDLE_NS; /* used until just now */
	assert_int_equal(st_judge(&c, 0, false, f), 0);
	c.close_ts += 1; /* unused longer than that */
	const struct st_finding *x =
		only(f, st_judge(&c, 0, false, f), ST_F_fd_leak);
	assert_int_equal(x->file, 2);
	assert_int_equal(x->fd, 7);
	assert_true(x->ns == ST_LEAK_IDLE_NS + 1);
	st_finding_text(x, set, text, sizeof(text));
	assert_non_null(strstr(text, "(fd 7) still open and unused for 60 s"));
	/* the peer closed first: a close_wait (here the peer's close), no
	 * leak */
	c.closed_first = -1;
	assert_int_equal(st_judge(&c, 0, false, f), 0);
	in_cw(&c, st, 6 * MS, 0, ST_CW_BY_EOF); /* EOF read, never closed */
	only(f, st_judge(&c, 0, false, f), ST_F_close_wait);
	/* a listener open at exit is normal, however idle */
	c = end(ST_ROLE_LISTENER);
	c.end = ST_END_EXIT;
	c.close_ts = 2 * ST_LEAK_IDLE_NS;
	assert_int_equal(st_judge(&c, 0, false, f), 0);
	fx_set_free(set);
}

/* Fact 2: the accept queue is min(backlog, somaxconn). */
static void test_listener_findings(void **state)
{
	(void)state;
	struct st_finding f[ST_JUDGE_MAX];
	struct st_conn c = end(ST_ROLE_LISTENER);
	struct st_traceset *set = fx_set(1);
	char text[512];

	c.backlog = 1000;
	c.effective_backlog = 128;
	c.somaxconn = 128;
	const struct st_finding *x =
		only(f, st_judge(&c, 0, false, f), ST_F_backlog_clipped);
	assert_int_equal(x->backlog, 1000);
	assert_int_equal(x->effective, 128);
	st_finding_text(x, set, text, sizeof(text));
	assert_non_null(strstr(text, "asked for backlog 1000 but got 128"));
	c.backlog = 128;
	c.queue_full = true;
	c.queue_max = 128;
	x = only(f, st_judge(&c, 0, false, f), ST_F_accept_queue_full);
	assert_int_equal(x->queue_max, 128);
	fx_set_free(set);
}

/* What came before an attach is not judged. */
static void test_hidden_not_judged(void **state)
{
	(void)state;
	struct st_finding f[ST_JUDGE_MAX];
	struct st_conn c = end(ST_ROLE_SERVER);

	c.closed_first = 1;
	c.hidden = true;
	assert_int_equal(st_judge(&c, 0, false, f), 0);
}

/* Every kind has a name, and the names are the JSON's, which users'
 * scripts match: they must not change. */
static void test_kind_names(void **state)
{
	(void)state;
	static const char *const want[] = {
		"connect_failed", "close_wait",	     "server_time_wait",
		"fd_leak",	  "backlog_clipped", "accept_queue_full",
		"lost_records",	  "reset",	     "udp_refused",
		"retransmits",	  "window_limited",
	};
	assert_int_equal(ST_F__N, sizeof(want) / sizeof(want[0]));
	for (int i = 0; i < ST_F__N; i++)
		assert_string_equal(st_finding_name[i], want[i]);
	assert_int_equal(st_finding_scope[ST_F_lost_records], ST_SCOPE_PROCESS);
}

/* Item 8: EHOSTUNREACH's three causes, told by whether a SYN was tried
 * (a source port chosen) and how long the failure took. */
static void test_unreachable_causes(void **state)
{
	(void)state;
	static const struct {
		int8_t syn;
		bool async;
		uint64_t fail_us; /* connect to failure */
		int err;
		uint8_t cause;
		const char *words;
	} cases[] = {
		{ -1, false, 10, EHOSTUNREACH, ST_UNREACH_route,
		  "routing table" },
		{ 0, false, 10, EHOSTUNREACH, ST_UNREACH_route,
		  "before any SYN" },
		{ 1, false, 3000000, EHOSTUNREACH, ST_UNREACH_neighbour,
		  "no answer to ARP/ND" },
		{ 1, true, 3000000, EHOSTUNREACH, ST_UNREACH_neighbour, "ARP" },
		{ 1, false, 1020000, EHOSTUNREACH, ST_UNREACH_icmp,
		  "ICMP unreachable" },
		{ 0, true, 10, EHOSTUNREACH, ST_UNREACH_icmp, "reject rule" },
		{ 1, false, 3000000, ENETUNREACH, ST_UNREACH_icmp, "ICMP" },
		{ 1, false, 3000000, ECONNREFUSED, ST_UNREACH_none, "RST" },
	};
	struct st_traceset *set = fx_set(1);
	char text[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct st_finding f[ST_JUDGE_MAX];
		struct st_conn c = end(ST_ROLE_CLIENT);
		c.peer = fx_v4(80);
		c.connect_err = cases[i].err;
		c.connect_syn = cases[i].syn;
		c.connect_async = cases[i].async;
		c.connect_ts = 10 * MS;
		c.connect_fail_ts = c.connect_ts + cases[i].fail_us * 1000;
		c.close_ts = 9000 * MS;
		const struct st_finding *x =
			only(f, st_judge(&c, 0, false, f), ST_F_connect_failed);
		assert_int_equal(x->cause, cases[i].cause);
		st_finding_text(x, set, text, sizeof(text));
		if (!strstr(text, cases[i].words))
			fail_msg("case %zu: '%s' lacks '%s'", i, text,
				 cases[i].words);
	}
	fx_set_free(set);
}

/* A UDP ECONNREFUSED (ICMP port unreachable): its own finding. */
static void test_udp_refused(void **state)
{
	(void)state;
	struct st_finding f[ST_JUDGE_MAX];
	struct st_conn c = end(ST_ROLE_CLIENT);
	struct st_traceset *set = fx_set(1);
	char text[512];

	c.kind = ST_KIND_UDP;
	assert_int_equal(st_judge(&c, 0, false, f), 0);
	c.peer = fx_v4(53);
	c.udp_refused = 2;
	const struct st_finding *x =
		only(f, st_judge(&c, 0, false, f), ST_F_udp_refused);
	assert_int_equal(x->count, 2);
	st_finding_text(x, set, text, sizeof(text));
	assert_non_null(strstr(text, "2 calls failed with ECONNREFUSED"));
	assert_non_null(strstr(text, "127.0.0.1:53 answered"));
	assert_non_null(strstr(text, "ICMP port unreachable"));
	fx_set_free(set);
}

/* Issue 13: a sender the kernel counted retransmissions for: how many,
 * how many bytes of how many, how long its RTOs stalled it. */
static void test_retransmits(void **state)
{
	(void)state;
	struct st_finding f[ST_JUDGE_MAX];
	struct st_conn c = end(ST_ROLE_CLIENT);
	struct st_traceset *set = fx_set(1);
	char text[512];

	c.closed_first = 1;
	c.tcp.set = ST_TCPK_FIGS | ST_TCPK_COUNTERS;
	assert_int_equal(st_judge(&c, 0, false, f), 0); /* none: clean */
	c.tcp.total_retrans = 1; /* a SYN sent again: no data lost */
	assert_int_equal(st_judge(&c, 0, false, f), 0);
	c.tcp.total_retrans = 7;
	c.tcp.bytes_retrans = 7 * 1448;
	c.tcp.bytes_sent = 1000000;
	const struct st_finding *x =
		only(f, st_judge(&c, 0, false, f), ST_F_retransmits);
	assert_int_equal(x->retrans, 7);
	assert_int_equal(x->bytes_retrans, 7 * 1448);
	assert_false(x->rto_known);
	st_finding_text(x, set, text, sizeof(text));
	assert_non_null(strstr(text, "retransmitted 7 segments"));
	assert_null(strstr(text, "timeout"));
	c.tcp.set |= ST_TCPK_RTO;
	c.tcp.total_rto = 2;
	c.tcp.total_rto_ms = 600;
	x = only(f, st_judge(&c, 0, false, f), ST_F_retransmits);
	assert_int_equal(x->rtos, 2);
	assert_int_equal(x->rto_ns, 600 * MS);
	st_finding_text(x, set, text, sizeof(text));
	assert_non_null(strstr(text, "2 retransmission timeouts"));
	assert_non_null(strstr(text, "600.0 ms"));
	/* the counters lost, or an older trace: nothing claimed */
	c.tcp.set = ST_TCPK_FIGS;
	assert_int_equal(st_judge(&c, 0, false, f), 0);
	c.tcp.set = 0;
	assert_int_equal(st_judge(&c, 0, false, f), 0);
	fx_set_free(set);
}

/* Issue 13: a sender held back by the peer's window, or by its own
 * send buffer, for most of its busy time; not for a short share, nor
 * for a short transfer. */
static void test_window_limited(void **state)
{
	(void)state;
	struct st_finding f[ST_JUDGE_MAX];
	struct st_conn c = end(ST_ROLE_CLIENT);
	struct st_traceset *set = fx_set(1);
	char text[512];

	c.closed_first = 1;
	c.tcp.set = ST_TCPK_COUNTERS;
	c.tcp.busy_us = 2000000;
	c.tcp.rwnd_limited_us = 1500000;
	c.tcp.sndbuf_limited_us = 100000;
	const struct st_finding *x =
		only(f, st_judge(&c, 0, false, f), ST_F_window_limited);
	assert_true(x->rwnd);
	assert_int_equal(x->limited_ns, 1500 * MS);
	assert_int_equal(x->busy_ns, 2000 * MS);
	st_finding_text(x, set, text, sizeof(text));
	assert_non_null(strstr(text, "the peer's receive window"));
	assert_non_null(strstr(text, "(75%)"));
	assert_non_null(strstr(text, "SO_RCVBUF"));
	c.tcp.rwnd_limited_us = 0;
	c.tcp.sndbuf_limited_us = 1900000;
	x = only(f, st_judge(&c, 0, false, f), ST_F_window_limited);
	assert_false(x->rwnd);
	st_finding_text(x, set, text, sizeof(text));
	assert_non_null(strstr(text, "its own send buffer"));
	assert_non_null(strstr(text, "SO_SNDBUF"));
	c.tcp.sndbuf_limited_us = 900000; /* under half */
	assert_int_equal(st_judge(&c, 0, false, f), 0);
	c.tcp.busy_us = 40000; /* all of a short transfer */
	c.tcp.sndbuf_limited_us = 40000;
	assert_int_equal(st_judge(&c, 0, false, f), 0);
	fx_set_free(set);
}

/* Issue 13 item 6: a listener that closed with connections queued and
 * never accepted (TCP_INFO at close); the host's SYN retries named. */
static void test_queue_at_close(void **state)
{
	(void)state;
	struct st_finding f[ST_JUDGE_MAX];
	struct st_conn c = end(ST_ROLE_LISTENER);
	struct st_traceset *set = fx_set(1);
	char text[512];

	c.tcp.set = ST_TCPK_QUEUE;
	c.tcp.queue_max = 4;
	c.accepted = 3;
	assert_int_equal(st_judge(&c, 0, false, f), 0); /* empty queue */
	c.tcp.queue_len = 2; /* some left, but it did accept */
	assert_int_equal(st_judge(&c, 0, false, f), 0);
	c.accepted = 0;
	const struct st_finding *x =
		only(f, st_judge(&c, 0, false, f), ST_F_accept_queue_full);
	assert_true(x->at_close);
	assert_int_equal(x->queue_len, 2);
	assert_int_equal(x->queue_max, 4);
	st_finding_text(x, set, text, sizeof(text));
	assert_non_null(strstr(text, "closed with 2 connections"));
	assert_non_null(strstr(text, "never accepted"));
	c.queue_full = true; /* an accept saw it full: said so, with the
			      * clients' SYN retries on this host */
	c.queue_max = 4;
	set->t[0].hdr.version = 4;
	set->t[0].hdr.tcp_syn_retries = 6;
	x = only(f, st_judge(&c, 0, false, f), ST_F_accept_queue_full);
	assert_false(x->at_close);
	st_finding_text(x, set, text, sizeof(text));
	assert_non_null(strstr(text, "6 SYN retransmissions, about 127 s"));
	fx_set_free(set);
}

/* Issue 13 item 6: which handshake segment the full queue dropped, as
 * the traced clients show it: SYN (abandoned in SYN_SENT, or connected
 * only after a SYN retransmission) or final ACK (connected at once, the
 * data sent again); a client that went through normally counts in
 * neither. */
static void test_queue_overflow_kind(void **state)
{
	(void)state;
	struct st_finding f[ST_JUDGE_MAX];
	struct st_conn lis = end(ST_ROLE_LISTENER);
	struct st_conn syn = end(ST_ROLE_CLIENT), late = end(ST_ROLE_CLIENT);
	struct st_conn ack = end(ST_ROLE_CLIENT), fine = end(ST_ROLE_CLIENT);
	struct st_traceset *set = fx_set(1);
	char text[768];

	syn.connect_ts = late.connect_ts = ack.connect_ts = fine.connect_ts =
		10 * MS;
	syn.connect_abandoned = true;
	late.est_ts = 1010 * MS; /* after the first SYN retransmission */
	ack.est_ts = fine.est_ts = 11 * MS;
	ack.tcp.set = fine.tcp.set = ST_TCPK_COUNTERS;
	ack.tcp.bytes_retrans = 5;
	st_overflow_note(&lis, &fine);
	st_overflow_note(NULL, &syn); /* its listener not traced */
	assert_int_equal(lis.syn_dropped + lis.ack_dropped, 0);
	st_overflow_note(&lis, &ack);
	lis.tcp.set = ST_TCPK_QUEUE;
	lis.tcp.queue_max = 1;
	lis.tcp.queue_len = 2;
	const struct st_finding *x =
		only(f, st_judge(&lis, 0, false, f), ST_F_accept_queue_full);
	assert_int_equal(x->ack_dropped, 1);
	assert_int_equal(x->syn_dropped, 0);
	st_finding_text(x, set, text, sizeof(text));
	assert_non_null(strstr(text, "at the final ACK: 1 client believed it "
				     "was connected and its requests were "
				     "retransmitted"));
	assert_null(strstr(text, "at SYN time"));
	st_overflow_note(&lis, &syn);
	st_overflow_note(&lis, &late);
	x = only(f, st_judge(&lis, 0, false, f), ST_F_accept_queue_full);
	assert_int_equal(x->syn_dropped, 2);
	st_finding_text(x, set, text, sizeof(text));
	assert_non_null(strstr(text, "at SYN time: 2 clients sat in SYN_SENT "
				     "and retransmitted the SYN"));
	assert_non_null(strstr(text, "at the final ACK: 1 client"));
	fx_set_free(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_end_has_none),
		cmocka_unit_test(test_connect_failed),
		cmocka_unit_test(test_close_wait_threshold),
		cmocka_unit_test(test_close_wait_open_and_never),
		cmocka_unit_test(test_close_wait_shutdown_before_eof),
		cmocka_unit_test(test_close_wait_without_eof),
		cmocka_unit_test(test_server_time_wait),
		cmocka_unit_test(test_fd_leak),
		cmocka_unit_test(test_listener_findings),
		cmocka_unit_test(test_hidden_not_judged),
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_connect_abandoned),
		cmocka_unit_test(test_unreachable_causes),
		cmocka_unit_test(test_udp_refused),
		cmocka_unit_test(test_retransmits),
		cmocka_unit_test(test_window_limited),
		cmocka_unit_test(test_queue_at_close),
		cmocka_unit_test(test_queue_overflow_kind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
