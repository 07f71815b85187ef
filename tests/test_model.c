/* SPDX-License-Identifier: MIT */
/* The model core on hand-built record sequences: joins, ends, findings. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "model.h"
#include "model_fixture.h"

/* What an emitted end looked like. */
struct seen_end {
	uint64_t id;
	char states[128];
	uint8_t end, role;
	int end_file;
	uint64_t bytes_in, bytes_out, accept_wait;
	bool joined, before_trace, closed_unseen, start_lost, closed_guess;
	uint8_t kind;
	int closed_first;
	uint64_t close_ts, unseen_ts;
};

struct log {
	struct seen_end ends[16];
	int nends;
	int emits; /* emit calls: a joined pair is one */
	uint8_t findings[16];
	uint64_t finding_conn[16];
	int nfindings;
	int alive; /* the liveness callback's answer */
};

static void keep(struct log *l, const struct st_conn *c)
{
	struct seen_end *e = &l->ends[l->nends++];
	size_t n = 0;

	e->id = c->id;
	e->end = c->end;
	e->role = c->role;
	e->end_file = c->end_file;
	e->bytes_in = c->bytes_in;
	e->bytes_out = c->bytes_out;
	e->accept_wait = c->accept_wait;
	e->joined = c->other != NULL;
	e->before_trace = c->before_trace;
	e->start_lost = c->start_lost;
	e->closed_guess = c->closed_guess;
	e->closed_first = c->closed_first;
	e->kind = c->kind;
	e->closed_unseen = c->closed_unseen;
	e->close_ts = c->close_ts;
	e->unseen_ts = c->unseen_ts;
	e->states[0] = 0;
	for (uint32_t i = 0; i < c->nst; i++)
		n += snprintf(e->states + n, sizeof(e->states) - n, "%s%s",
			      i ? " " : "", st_state_name[c->st[i].state]);
}

static void on_emit(struct st_model *m, struct st_conn *c, void *arg)
{
	struct log *l = arg;
	struct st_conn *o = c->other;

	l->emits++;
	keep(l, c);
	if (o)
		keep(l, o);
	st_conn_free(m, o);
	st_conn_free(m, c);
}

static void on_finding(struct st_model *m, const struct st_finding *f,
		       void *arg)
{
	struct log *l = arg;

	(void)m;
	l->finding_conn[l->nfindings] = f->conn;
	l->findings[l->nfindings++] = f->kind;
}

static bool alive(const struct st_trace *t, void *arg)
{
	(void)t;
	return ((struct log *)arg)->alive;
}

static const struct seen_end *end_of(const struct log *l, uint64_t id)
{
	for (int i = 0; i < l->nends; i++)
		if (l->ends[i].id == id)
			return &l->ends[i];
	fail_msg("connection %llx was not emitted", (unsigned long long)id);
	return NULL;
}

#define CL st_conn_id(100, 1) /* the client's socket (file 0) */
#define LS st_conn_id(101, 1) /* the server's listener (file 1) */
#define SV st_conn_id(101, 2) /* the connection it accepted */

/* Records of a client (file 0) and a server (file 1) up to the server's
 * read of the client's data: the handshake, the queue, one request. */
static void start(struct st_model *m)
{
	struct st_rec r[] = {
		fx_socket(3, LS, 1, AF_INET, SOCK_STREAM),
		fx_listen(3, LS, 2, fx_v4(80), 128, 128),
		fx_socket(3, CL, 3, AF_INET, SOCK_STREAM),
		fx_connect(3, CL, 4, fx_v4(80), fx_v4(5000)),
		fx_accept(3, LS, 6, 4, 2, fx_v4(5000), fx_v4(80)),
		fx_data(ST_CALL_write, 3, CL, 7, 10),
		fx_data(ST_CALL_read, 4, SV, 8, 10),
		fx_data(ST_CALL_write, 4, SV, 9, 5),
		fx_data(ST_CALL_read, 3, CL, 10, 5),
	};
	int file[] = { 1, 1, 0, 0, 1, 0, 1, 1, 0 };

	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		st_model_add(m, &r[i], file[i]);
}

static void add(struct st_model *m, struct st_rec r, int file)
{
	st_model_add(m, &r, file);
}

/* The client closes first: the pair comes out joined as soon as both
 * ends closed, with the states of DESIGN.md's facts 3-5. */
static void test_client_closes_first(void **state)
{
	(void)state;
	struct st_traceset *set = fx_set(2);
	struct log l = { 0 };
	struct st_model m;

	st_model_init(&m, set, on_emit, on_finding, &l);
	start(&m);
	add(&m, fx_close(3, CL, 11, TCP_ESTABLISHED), 0);
	add(&m, fx_data(ST_CALL_read, 4, SV, 12, 0), 1);
	assert_int_equal(l.emits, 0);
	add(&m, fx_close(4, SV, 13, TCP_CLOSE_WAIT), 1);
	assert_int_equal(l.emits, 1); /* before the trace ends */
	const struct seen_end *c = end_of(&l, CL), *s = end_of(&l, SV);
	assert_true(c->joined);
	assert_string_equal(c->states,
			    "SYN_SENT ESTABLISHED FIN_WAIT TIME_WAIT");
	assert_string_equal(s->states,
			    "SYN_RECV ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED");
	assert_int_equal(s->accept_wait, 2 * MS);
	assert_int_equal(c->bytes_out, 10);
	assert_int_equal(c->bytes_in, 5);
	assert_int_equal(s->bytes_in, 10);
	assert_int_equal(c->end, ST_END_CLOSED);
	assert_int_equal(l.nfindings, 0);
	st_model_finish(&m);
	assert_int_equal(l.emits, 2); /* and the listener */
	assert_int_equal(l.nfindings, 0);
	st_model_free(&m);
	fx_set_free(set);
}

/* The server closes first: it gets TIME_WAIT, and a finding says so. */
static void test_server_closes_first(void **state)
{
	(void)state;
	struct st_traceset *set = fx_set(2);
	struct log l = { 0 };
	struct st_model m;

	st_model_init(&m, set, on_emit, on_finding, &l);
	start(&m);
	add(&m, fx_close(4, SV, 11, TCP_ESTABLISHED), 1);
	add(&m, fx_data(ST_CALL_read, 3, CL, 12, 0), 0);
	add(&m, fx_close(3, CL, 13, TCP_CLOSE_WAIT), 0);
	assert_string_equal(end_of(&l, SV)->states,
			    "SYN_RECV ESTABLISHED FIN_WAIT TIME_WAIT");
	assert_int_equal(l.nfindings, 1);
	assert_int_equal(l.findings[0], ST_F_server_time_wait);
	assert_int_equal(l.finding_conn[0], SV);
	st_model_finish(&m);
	st_model_free(&m);
	fx_set_free(set);
}

/* Whether a process without an exit still runs comes from the callback
 * alone: the model reads nothing outside the records. */
static void test_liveness_from_callback(void **state)
{
	(void)state;
	for (int a = 0; a < 2; a++) {
		struct st_traceset *set = fx_set(2);
		struct log l = { .alive = a };
		struct st_model m;
		st_model_init(&m, set, on_emit, on_finding, &l);
		st_model_liveness(&m, alive, &l);
		start(&m);
		st_model_finish(&m);
		const struct seen_end *c = end_of(&l, CL);
		assert_int_equal(c->end, a ? ST_END_OPEN : ST_END_DEATH);
		/* killed: no FIN is drawn */
		assert_string_equal(c->states, "SYN_SENT ESTABLISHED");
		st_model_free(&m);
		fx_set_free(set);
	}
}

/* A process that exits holding a connection: the kernel closes it at
 * exit, and the exit time ends it.  Used until shortly before the exit,
 * it is no leak. */
static void test_exit_closes_it(void **state)
{
	(void)state;
	struct st_traceset *set = fx_set(2);
	struct log l = { 0 };
	struct st_model m;

	set->t[0].hdr.exit_ts = 20 * MS;
	st_model_init(&m, set, on_emit, on_finding, &l);
	start(&m);
	/* a later record of the other process passes the exit time */
	add(&m, fx_data(ST_CALL_read, 4, SV, 21, 0), 1);
	st_model_finish(&m);
	const struct seen_end *c = end_of(&l, CL);
	assert_int_equal(c->end, ST_END_EXIT);
	bool leak = false;
	for (int i = 0; i < l.nfindings; i++)
		leak |= l.findings[i] == ST_F_fd_leak &&
			l.finding_conn[i] == CL;
	assert_false(leak);
	/* the exit closed it: the server read the FIN and never answered */
	assert_string_equal(c->states, "SYN_SENT ESTABLISHED FIN_WAIT");
	assert_string_equal(end_of(&l, SV)->states,
			    "SYN_RECV ESTABLISHED CLOSE_WAIT");
	st_model_free(&m);
	fx_set_free(set);
}

/* Fork: the child holds the socket too, so the parent's close of its
 * copy does not close the connection; the child's does. */
static void test_fork_parent_close(void **state)
{
	(void)state;
	struct st_traceset *set = fx_set(3);
	struct log l = { 0 };
	struct st_model m;

	set->t[2].hdr.pid = 102;
	set->t[2].hdr.ppid = 101; /* the server's child */
	st_model_init(&m, set, on_emit, on_finding, &l);
	start(&m);
	add(&m, fx_rec(ST_CALL_fork, -1, 0, 11, 102), 1);
	add(&m, fx_close(4, SV, 12, TCP_ESTABLISHED), 1);
	add(&m, fx_close(3, CL, 13, TCP_ESTABLISHED), 0);
	assert_int_equal(l.emits, 0);
	add(&m, fx_data(ST_CALL_read, 4, SV, 14, 0), 2);
	add(&m, fx_close(4, SV, 15, TCP_CLOSE_WAIT), 2);
	assert_int_equal(l.emits, 1);
	const struct seen_end *s = end_of(&l, SV);
	assert_int_equal(s->end_file, 2);
	assert_string_equal(s->states,
			    "SYN_RECV ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED");
	assert_string_equal(end_of(&l, CL)->states,
			    "SYN_SENT ESTABLISHED FIN_WAIT TIME_WAIT");
	st_model_finish(&m);
	st_model_free(&m);
	fx_set_free(set);
}

/*
 * A forking server as PostgreSQL runs: the parent closes its copy with a
 * request still unread (its close record says so: no RST, the socket
 * lives on in the child), the child serves and exits holding it, and
 * the client's close, after the exit time, still found ESTABLISHED: the
 * child's kernel closed the socket after the client's close.  The
 * client closed first; the server gets no TIME_WAIT and no finding.
 */
static void test_fork_child_exit_after_client_close(void **state)
{
	(void)state;
	struct st_traceset *set = fx_set(3);
	struct log l = { 0 };
	struct st_model m;
	struct st_rec pc = fx_close(4, SV, 8, TCP_ESTABLISHED);

	pc.u.close.unread = 10;
	pc.u.close.close_flags = ST_CLOSE_UNREAD;
	set->t[2].hdr.pid = 102;
	set->t[2].hdr.ppid = 101;
	set->t[2].hdr.exit_ts = 12 * MS;
	st_model_init(&m, set, on_emit, on_finding, &l);
	add(&m, fx_socket(3, LS, 1, AF_INET, SOCK_STREAM), 1);
	add(&m, fx_listen(3, LS, 2, fx_v4(80), 128, 128), 1);
	add(&m, fx_socket(3, CL, 3, AF_INET, SOCK_STREAM), 0);
	add(&m, fx_connect(3, CL, 4, fx_v4(80), fx_v4(5000)), 0);
	add(&m, fx_accept(3, LS, 6, 4, 2, fx_v4(5000), fx_v4(80)), 1);
	add(&m, fx_data(ST_CALL_write, 3, CL, 6, 10), 0);
	add(&m, fx_rec(ST_CALL_fork, -1, 0, 7, 102), 1);
	add(&m, pc, 1);
	add(&m, fx_data(ST_CALL_read, 4, SV, 9, 10), 2);
	add(&m, fx_data(ST_CALL_write, 4, SV, 10, 5), 2);
	add(&m, fx_data(ST_CALL_read, 3, CL, 11, 5), 0);
	add(&m, fx_close(3, CL, 13, TCP_ESTABLISHED), 0);
	st_model_finish(&m);
	const struct seen_end *c = end_of(&l, CL), *s = end_of(&l, SV);
	assert_int_equal(s->end, ST_END_EXIT);
	assert_string_equal(c->states,
			    "SYN_SENT ESTABLISHED FIN_WAIT TIME_WAIT");
	assert_string_equal(s->states,
			    "SYN_RECV ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED");
	for (int i = 0; i < l.nfindings; i++)
		assert_true(l.finding_conn[i] != SV && l.finding_conn[i] != CL);
	st_model_free(&m);
	fx_set_free(set);
}

/* The image before the exec held the socket at fd 3 and wrote 10 bytes;
 * the new one is seen with it at FD, from PEER, and writes 5: the log
 * of what came out. */
static void exec_seen(struct log *l, int fd, uint16_t peer)
{
	struct st_traceset *set = fx_set(2);
	struct st_model m;
	uint64_t again = st_conn_id(100, 1) + 7; /* the new image's id */
	struct st_rec seen = fx_rec(ST_CALL_seen, fd, again, 6, 0);

	set->t[1].hdr.pid = 100; /* the same process, exec'd */
	set->t[0].hdr.mono_ns = 1;
	set->t[1].hdr.mono_ns = 2;
	seen.u.seen.domain = AF_INET;
	seen.u.seen.socktype = SOCK_STREAM;
	seen.u.seen.local = fx_v4(5000);
	seen.u.seen.peer = fx_v4(peer);
	seen.u.seen.tcp_state = TCP_ESTABLISHED;
	st_model_init(&m, set, on_emit, on_finding, l);
	add(&m, fx_socket(3, CL, 1, AF_INET, SOCK_STREAM), 0);
	add(&m, fx_connect(3, CL, 2, fx_v4(80), fx_v4(5000)), 0);
	add(&m, fx_data(ST_CALL_write, 3, CL, 3, 10), 0);
	add(&m, seen, 1);
	add(&m, fx_data(ST_CALL_write, fd, again, 7, 5), 1);
	add(&m, fx_close(fd, again, 8, TCP_ESTABLISHED), 1);
	st_model_finish(&m);
	st_model_free(&m);
	fx_set_free(set);
}

/* The new image moved the socket before the library saw it (sshd's dup
 * of fd 0 before attach loaded the library again): its 4-tuple names
 * the connection; another 4-tuple is another socket. */
static void test_exec_moved_fd(void **state)
{
	(void)state;
	struct log same = { 0 }, other = { 0 };

	exec_seen(&same, 4, 80);
	assert_int_equal(same.nends, 1);
	assert_int_equal(end_of(&same, CL)->bytes_out, 15);
	assert_int_equal(end_of(&same, CL)->end, ST_END_CLOSED);
	assert_int_equal(end_of(&same, CL)->end_file, 1);
	exec_seen(&other, 4, 81);
	assert_int_equal(other.nends, 2);
}

/*
 * sshd's re-exec: the image that connected execs, and the new image (a
 * new file of the same pid) finds the socket on the same fd, with an id
 * of its own.  It is the same connection: one end, both images' calls.
 */
static void test_exec_keeps_the_connection(void **state)
{
	(void)state;
	struct log l = { 0 };

	exec_seen(&l, 3, 80);
	assert_int_equal(l.nends, 1);
	const struct seen_end *c = end_of(&l, CL);
	assert_int_equal(c->bytes_out, 15);
	assert_int_equal(c->end, ST_END_CLOSED);
	assert_int_equal(c->end_file, 1);
	assert_false(c->before_trace);
}

/* A server end its process held at exit, its client untraced: the
 * exit_close record is the kernel's word, made as the exit began. */
static void exit_held(struct log *l, uint32_t tcp_state)
{
	struct st_traceset *set = fx_set(2);
	struct st_model m;
	struct st_rec x = fx_close(4, SV, 9, tcp_state);

	x.call = ST_CALL_exit_close;
	set->t[1].hdr.exit_ts = 10 * MS;
	st_model_init(&m, set, on_emit, on_finding, l);
	add(&m, fx_socket(3, LS, 1, AF_INET, SOCK_STREAM), 1);
	add(&m, fx_listen(3, LS, 2, fx_v4(80), 128, 128), 1);
	add(&m, fx_accept(3, LS, 6, 4, 2, fx_v4(5000), fx_v4(80)), 1);
	add(&m, fx_data(ST_CALL_read, 4, SV, 8, 10), 1);
	if (tcp_state)
		add(&m, x, 1);
	add(&m, fx_data(ST_CALL_read, 3, CL, 20, 0), 0); /* time passes */
	st_model_finish(&m);
	st_model_free(&m);
	fx_set_free(set);
}

/*
 * Held at exit: CLOSE_WAIT there says the client closed first (PostgreSQL
 * backends, whose clients' TIME_WAITs ss shows); ESTABLISHED there, or
 * no word at all (an older trace), leaves it a guess, and a guess raises
 * no server_time_wait.
 */
static void test_exit_close_kernel_word(void **state)
{
	(void)state;
	uint32_t states[] = { TCP_CLOSE_WAIT, TCP_ESTABLISHED, 0 };

	for (int i = 0; i < 3; i++) {
		struct log l = { 0 };
		exit_held(&l, states[i]);
		const struct seen_end *s = end_of(&l, SV);
		assert_int_equal(s->end, ST_END_EXIT);
		if (i == 0) {
			assert_int_equal(s->closed_first, -1);
			assert_false(s->closed_guess);
			assert_string_equal(s->states,
					    "ESTABLISHED CLOSE_WAIT LAST_ACK "
					    "CLOSED");
		} else {
			assert_int_equal(s->closed_first, 1);
			assert_true(s->closed_guess);
		}
		for (int k = 0; k < l.nfindings; k++)
			assert_int_not_equal(l.findings[k],
					     ST_F_server_time_wait);
	}
}

/*
 * PostgreSQL's backend reads Terminate and exits: its exit_close finds
 * the socket ESTABLISHED, and the client's close just after finds its
 * own ESTABLISHED too (no FIN from the server yet).  The backend's
 * kernel closed the socket after the client's FIN came: the client
 * closed first (ss shows its TIME_WAIT, none on the server), not FINs
 * crossing, and no guess is left.
 */
static void test_exit_then_peer_close(void **state)
{
	(void)state;
	struct st_traceset *set = fx_set(2);
	struct log l = { 0 };
	struct st_model m;
	struct st_rec x = fx_close(4, SV, 9, TCP_ESTABLISHED);

	x.call = ST_CALL_exit_close;
	set->t[1].hdr.exit_ts = 10 * MS;
	st_model_init(&m, set, on_emit, on_finding, &l);
	add(&m, fx_socket(3, LS, 1, AF_INET, SOCK_STREAM), 1);
	add(&m, fx_listen(3, LS, 2, fx_v4(80), 128, 128), 1);
	add(&m, fx_socket(3, CL, 3, AF_INET, SOCK_STREAM), 0);
	add(&m, fx_connect(3, CL, 4, fx_v4(80), fx_v4(5000)), 0);
	add(&m, fx_accept(3, LS, 6, 4, 2, fx_v4(5000), fx_v4(80)), 1);
	add(&m, x, 1);
	add(&m, fx_close(3, CL, 11, TCP_ESTABLISHED), 0);
	st_model_finish(&m);
	const struct seen_end *c = end_of(&l, CL), *s = end_of(&l, SV);
	assert_true(c->joined);
	assert_int_equal(c->closed_first, 1);
	assert_int_equal(s->closed_first, -1);
	assert_false(c->closed_guess);
	assert_false(s->closed_guess);
	assert_string_equal(s->states, "SYN_RECV ESTABLISHED CLOSE_WAIT "
				       "LAST_ACK CLOSED");
	for (int k = 0; k < l.nfindings; k++)
		assert_int_not_equal(l.findings[k], ST_F_server_time_wait);
	st_model_free(&m);
	fx_set_free(set);
}

/* A record of a connection whose creation was lost (a wrapped ring):
 * the connection starts there, marked as opened before the trace. */
static void test_creation_lost(void **state)
{
	(void)state;
	struct st_traceset *set = fx_set(1);
	struct log l = { 0 };
	struct st_model m;

	st_model_init(&m, set, on_emit, on_finding, &l);
	add(&m, fx_data(ST_CALL_write, 5, CL, 1, 10), 0);
	add(&m, fx_close(5, CL, 2, TCP_ESTABLISHED), 0);
	assert_int_equal(l.emits, 1);
	assert_true(end_of(&l, CL)->before_trace);
	assert_int_equal(end_of(&l, CL)->bytes_out, 10);
	st_model_finish(&m);
	st_model_free(&m);
	fx_set_free(set);
}

/*
 * A ring kept only the newest records: the listener's socket, bind and
 * listen are gone, and so is the client's socket().  What each record
 * says of its socket (st_rec.sock) still makes both ends TCP, so the
 * accepted end joins its client; both say their start was lost.
 */
static void test_ring_wrapped_join(void **state)
{
	(void)state;
	struct st_traceset *set = fx_set(2);
	struct log l = { 0 };
	struct st_model m;
	uint16_t tcp = ST_SOCK_KNOWN | ST_SOCK_INET | ST_SOCK_STREAM << 4;
	struct st_rec r[] = {
		fx_connect(3, CL, 4, fx_v4(80), fx_v4(5000)),
		fx_accept(3, LS, 6, 4, 2, fx_v4(5000), fx_v4(80)),
		fx_data(ST_CALL_write, 3, CL, 7, 10),
		fx_data(ST_CALL_read, 4, SV, 8, 10),
		fx_close(3, CL, 11, TCP_ESTABLISHED),
		fx_close(4, SV, 13, TCP_CLOSE_WAIT),
	};
	int file[] = { 0, 1, 0, 1, 0, 1 };

	st_model_init(&m, set, on_emit, on_finding, &l);
	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		r[i].sock = tcp;
		add(&m, r[i], file[i]);
	}
	st_model_finish(&m);
	const struct seen_end *c = end_of(&l, CL), *s = end_of(&l, SV);
	assert_true(c->joined);
	assert_true(s->joined);
	assert_int_equal(s->kind, ST_KIND_TCP);
	assert_true(c->start_lost);
	assert_false(s->start_lost); /* its accept is in the window */
	assert_int_equal(s->bytes_in, 10);
	st_model_free(&m);
	fx_set_free(set);
}

/*
 * The server end's close is not recorded (libuv's syscall(SYS_close)
 * before the library wrapped it) and accept gets its fd 4 back: the old
 * end is closed unseen, as of its last call, never open beside the new
 * one; its close record, late, adds no connection; no finding blames a
 * close whose time is not known.
 */
static void test_fd_reused_closed_unseen(void **state)
{
	(void)state;
	struct st_traceset *set = fx_set(2);
	struct log l = { 0 };
	struct st_model m;
	const uint64_t cl2 = st_conn_id(100, 2), sv2 = st_conn_id(101, 3);

	st_model_init(&m, set, on_emit, on_finding, &l);
	start(&m);
	add(&m, fx_close(3, CL, 11, TCP_ESTABLISHED), 0);
	add(&m, fx_data(ST_CALL_read, 4, SV, 12, 0), 1);
	add(&m, fx_socket(5, cl2, 14, AF_INET, SOCK_STREAM), 0);
	add(&m, fx_connect(5, cl2, 15, fx_v4(80), fx_v4(5001)), 0);
	assert_int_equal(l.emits, 0);
	add(&m, fx_accept(3, LS, 16, 4, 3, fx_v4(5001), fx_v4(80)), 1);
	assert_int_equal(l.emits, 1);
	const struct seen_end *s = end_of(&l, SV);
	assert_true(s->closed_unseen);
	assert_int_equal(s->end, ST_END_CLOSED);
	assert_int_equal(s->unseen_ts, 16 * MS);
	assert_int_equal(s->close_ts, 12 * MS + 1000); /* its EOF read's end */
	assert_string_equal(s->states,
			    "SYN_RECV ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED");
	assert_false(end_of(&l, CL)->closed_unseen);
	/* a late close of the old end: no new connection from it */
	add(&m, fx_close(4, SV, 17, TCP_CLOSE_WAIT), 1);
	add(&m, fx_close(5, cl2, 18, TCP_ESTABLISHED), 0);
	add(&m, fx_data(ST_CALL_read, 4, sv2, 19, 0), 1);
	add(&m, fx_close(4, sv2, 20, TCP_CLOSE_WAIT), 1);
	assert_int_equal(l.emits, 2);
	assert_false(end_of(&l, sv2)->closed_unseen);
	assert_true(end_of(&l, sv2)->joined);
	st_model_finish(&m);
	assert_int_equal(l.emits, 3); /* and the listener */
	assert_int_equal(l.nends, 5);
	assert_int_equal(l.nfindings, 0);
	st_model_free(&m);
	fx_set_free(set);
}

/* A connect refused: one connect_failed finding, the end CLOSED. */
static void test_refused(void **state)
{
	(void)state;
	struct st_traceset *set = fx_set(1);
	struct log l = { 0 };
	struct st_model m;

	st_model_init(&m, set, on_emit, on_finding, &l);
	add(&m, fx_socket(3, CL, 1, AF_INET, SOCK_STREAM), 0);
	add(&m, fx_err(fx_connect(3, CL, 2, fx_v4(9), fx_v4(0)), ECONNREFUSED),
	    0);
	add(&m, fx_close(3, CL, 3, TCP_CLOSE), 0);
	assert_int_equal(l.emits, 1);
	assert_string_equal(end_of(&l, CL)->states, "SYN_SENT CLOSED");
	assert_int_equal(l.nfindings, 1);
	assert_int_equal(l.findings[0], ST_F_connect_failed);
	st_model_finish(&m);
	st_model_free(&m);
	fx_set_free(set);
}

/* Item 9: held in TIME_WAIT, a pair comes out when a new connection
 * takes its 4-tuple (its TIME_WAIT ended then), or when the trace passes
 * its 60 s. */
static void test_time_wait_reuse(void **state)
{
	(void)state;
	struct st_traceset *set = fx_set(2);
	struct log l = { 0 };
	struct st_model m;
	uint64_t cl2 = st_conn_id(100, 2), cl3 = st_conn_id(100, 3);

	st_model_init(&m, set, on_emit, on_finding, &l);
	m.hold_tw = true;
	add(&m, fx_socket(3, LS, 1, AF_INET, SOCK_STREAM), 1);
	add(&m, fx_listen(3, LS, 2, fx_v4(80), 128, 128), 1);
	add(&m, fx_socket(3, CL, 3, AF_INET, SOCK_STREAM), 0);
	add(&m, fx_bind(3, CL, 3, fx_v4(5000)), 0); /* a port of its own */
	add(&m, fx_connect(3, CL, 4, fx_v4(80), fx_v4(5000)), 0);
	add(&m, fx_accept(3, LS, 6, 4, 2, fx_v4(5000), fx_v4(80)), 1);
	add(&m, fx_close(3, CL, 11, TCP_ESTABLISHED), 0);
	add(&m, fx_data(ST_CALL_read, 4, SV, 12, 0), 1);
	add(&m, fx_close(4, SV, 13, TCP_CLOSE_WAIT), 1);
	assert_int_equal(l.emits, 0); /* held: the client is in TIME_WAIT */
	add(&m, fx_socket(3, cl2, 20, AF_INET, SOCK_STREAM), 0);
	add(&m, fx_bind(3, cl2, 20, fx_v4(5000)), 0);
	add(&m, fx_connect(3, cl2, 21, fx_v4(80), fx_v4(5000)), 0);
	assert_int_equal(l.emits, 1);
	assert_string_equal(end_of(&l, CL)->states,
			    "SYN_SENT ESTABLISHED FIN_WAIT TIME_WAIT CLOSED");
	/* another port: the second pair waits out its 60 s */
	add(&m, fx_accept(3, LS, 22, 4, 3, fx_v4(5000), fx_v4(80)), 1);
	add(&m, fx_close(4, st_conn_id(101, 3), 23, TCP_ESTABLISHED), 1);
	add(&m, fx_close(3, cl2, 24, TCP_CLOSE_WAIT), 0);
	assert_int_equal(l.emits, 1);
	add(&m, fx_socket(3, cl3, 24 + 60000, AF_INET, SOCK_STREAM), 0);
	assert_int_equal(l.emits, 2);
	assert_string_equal(end_of(&l, st_conn_id(101, 3))->states,
			    "SYN_RECV ESTABLISHED FIN_WAIT TIME_WAIT");
	st_model_finish(&m);
	st_model_free(&m);
	fx_set_free(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_closes_first),
		cmocka_unit_test(test_server_closes_first),
		cmocka_unit_test(test_liveness_from_callback),
		cmocka_unit_test(test_exit_closes_it),
		cmocka_unit_test(test_fork_parent_close),
		cmocka_unit_test(test_fork_child_exit_after_client_close),
		cmocka_unit_test(test_creation_lost),
		cmocka_unit_test(test_exit_close_kernel_word),
		cmocka_unit_test(test_exit_then_peer_close),
		cmocka_unit_test(test_exec_keeps_the_connection),
		cmocka_unit_test(test_exec_moved_fd),
		cmocka_unit_test(test_ring_wrapped_join),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_fd_reused_closed_unseen),
		cmocka_unit_test(test_time_wait_reuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
