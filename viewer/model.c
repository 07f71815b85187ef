/* SPDX-License-Identifier: MIT */
/* The model core: records in, finished connections and findings out. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "merge.h"
#include "model.h"
#include "records.h"
#include "tcpinfo.h"
#include "tcpstate.h"

/* ---- emitting finished connections --------------------------------- */

static void judge(struct st_model *m, struct st_conn *c, uint64_t now,
		  bool open, st_finding_fn fn, void *arg)
{
	struct st_finding f[ST_JUDGE_MAX];
	int n = st_judge(c, now, open, f);

	for (int i = 0; fn && i < n; i++)
		fn(m, &f[i], arg);
}

/* An fd still names C (a record re-added one after its close): it
 * cannot be freed yet; the end of the trace lets go of all fds. */
static bool held(const struct st_model *m, const struct st_conn *c)
{
	return c->refs > 0 && !m->finishing;
}

static void ready_add(struct st_conn *c, void *arg)
{
	struct st_model *m = arg;

	if (m->nready == m->capready)
		st__grow((void **)&m->ready, &m->capready, sizeof(*m->ready));
	m->ready[m->nready++] = c;
}

/* Queues C (with its other end) for emission once everything about it
 * is known; st_model_add emits after it is done with the record, so no
 * connection is freed while a record is being applied to it. */
static void try_emit(struct st_model *m, struct st_conn *c)
{
	if (c->emitted || !c->done || c->awaiting_join || held(m, c))
		return;
	if (c->other &&
	    (!c->other->done || c->other->awaiting_join || held(m, c->other)))
		return;
	c->emitted = true;
	if (c->other)
		c->other->emitted = true;
	st_tcp_arrivals(c);
	st_stitch_note(&m->stitch, c);
	st_tcp_untraced_peer(c);
	if (!m->hold_tw || m->finishing ||
	    !st_twhold_add(&m->tw, c, ready_add, m))
		ready_add(c, m);
}

static void released(struct st_conn *c, void *arg)
{
	try_emit(arg, c);
}

static void flush(struct st_model *m)
{
	for (uint32_t i = 0; i < m->nready; i++) {
		struct st_conn *c = m->ready[i];
		judge(m, c, m->now, false, m->finding, m->arg);
		st_conntab_remove(&m->tab, c);
		if (c->other) {
			judge(m, c->other, m->now, false, m->finding, m->arg);
			st_conntab_remove(&m->tab, c->other);
		}
		m->emit(m, c, m->arg);
	}
	m->nready = 0;
}

/* The last fd to C went at TS: the socket is closed (END says how). */
static void socket_closed(struct st_model *m, struct st_conn *c, uint64_t ts,
			  uint8_t end)
{
	struct st_conn *o = c->other;

	st_tcp_closed(c, ts, end);
	c->done = true;
	c->connect_pending = false;
	if (c->role == ST_ROLE_LISTENER)
		st_stitch_unlisten(&m->stitch, &m->tab, c, released, m);
	/* a client end that closed before its accept keeps its tuple */
	if (!c->awaiting_join)
		st_stitch_forget(&m->stitch, c);
	try_emit(m, c);
	if (o && !o->emitted)
		try_emit(m, o);
}

static void fd_drop(struct st_model *m, int file, int fd, uint64_t ts,
		    uint8_t end)
{
	struct st_conn *c = st_conntab_fd_drop(&m->tab, file, fd);

	if (c)
		socket_closed(m, c, ts, end);
}

/*
 * Drops fd FD of FILE, which held connection C, as a close record says.
 * Records come in order of their end, so a thread preempted just after
 * its close can have its record come after another thread's call that
 * got the same fd number anew: the fd then already names the new
 * socket, and C lost that ref when it was reused.
 */
static void fd_close(struct st_model *m, int file, int fd, struct st_conn *c,
		     uint64_t ts, uint8_t end)
{
	if (st_conntab_fd_get(&m->tab, file, fd) == c) {
		fd_drop(m, file, fd, ts, end);
	} else if (c->refs <= 0 && c->end == ST_END_OPEN) {
		c->end_file = file;
		c->end_fd = fd;
		socket_closed(m, c, ts, end);
	}
}

/*
 * FD of FILE names C from TS on.  If the table still held FD open for
 * another connection, a call nobody saw closed it (one made inside libc,
 * io_uring, a raw system call): that connection ends there, "closed
 * unseen", as of its last call, which is when the close could have come
 * first; two live connections never share an fd.
 */
static void fd_add(struct st_model *m, int file, int fd, struct st_conn *c,
		   uint64_t ts)
{
	struct st_conn *old = st_conntab_fd_add(&m->tab, file, fd, c);

	if (!old || old->done)
		return;
	old->closed_unseen = true;
	old->unseen_ts = ts;
	st_conntab_unseen_note(&m->tab, old->id);
	socket_closed(m, old, old->last_ts ? old->last_ts : old->open_ts,
		      ST_END_CLOSED);
}

/* ---- the calls ------------------------------------------------------- */

static void do_accept(struct st_model *m, struct st_conn *l,
		      const struct st_rec *r, int file)
{
	const struct st_p_accept *p = &r->u.accept;

	if (l->role == ST_ROLE_NONE)
		l->role = ST_ROLE_LISTENER;
	/* its bind and listen were lost (ring): it listens where it
	 * accepted, which names its port (or Unix path) for joins */
	if (!l->local.family && r->ret >= 0)
		l->local = p->local;
	if (l->role == ST_ROLE_LISTENER)
		st_stitch_listen(&m->stitch, l);
	st_tcp_accept_queue(l, r);
	if (r->ret < 0 || !p->conn2)
		return;
	l->accepted++;
	uint64_t end = st_rec_end(r);
	uint64_t id = st_cnum_conn(m->set->t[file].hdr.pid, p->conn2);
	struct st_conn *s = st_conntab_get(&m->tab, id, file, (int)r->ret, end);
	s->kind = l->kind;
	s->role = ST_ROLE_SERVER;
	s->local = p->local;
	s->peer = p->peer;
	s->accept_ts = end;
	s->accept_start = r->ts;
	s->accept_waited = (r->flags & ST_REC_QUEUE_BEFORE) && !p->queue_len;
	s->last_ts = end;
	s->last_call = r->call;
	s->listener = l->id;
	s->join_pid = p->peer_pid;
	fd_add(m, file, (int)r->ret, s, r->ts);
	if (s->kind == ST_KIND_TCP) /* the SYN came by accept's return */
		st_twhold_reuse(&m->tw, s, end, file, ready_add, m);
	if (s->kind == ST_KIND_TCP)
		st_tcp_established(s, end);
	struct st_ev *e = st_conntab_add_ev(&m->tab, s, r, file);
	if (s->kind == ST_KIND_TCP || (s->kind == ST_KIND_UNIX && s->join_pid))
		st_stitch_pair(&m->stitch, &m->tab, s);
	if (e)
		e->self_to = (uint16_t)s->nst;
}

static void do_connect(struct st_model *m, struct st_conn *c,
		       const struct st_rec *r, int file)
{
	int err = r->flags & ST_REC_ERR ? r->err : 0;

	if (c->role == ST_ROLE_NONE)
		c->role = ST_ROLE_CLIENT;
	if (r->u.connect.addr.family)
		c->peer = r->u.connect.addr;
	/* after an unreachable error: the port SYNs came from, if any */
	if (r->u.connect.local.family && (!err || r->u.connect.local.port))
		c->local = r->u.connect.local;
	if (c->kind != ST_KIND_TCP) {
		if (err && err != EINPROGRESS)
			c->connect_err = err;
		if (!err && c->kind == ST_KIND_UNIX && !c->other) {
			/* the server's accept names this pid as its peer */
			c->join_pid = m->set->t[file].hdr.pid;
			st_stitch_pair(&m->stitch, &m->tab, c);
		}
		return;
	}
	st_tcp_connect(c, r);
	if (!err || err == EINPROGRESS) {
		st_twhold_reuse(&m->tw, c, r->ts, file, ready_add, m);
		st_stitch_pair(&m->stitch, &m->tab, c);
	}
}

static void do_data(struct st_conn *c, const struct st_rec *r, uint64_t end)
{
	if (r->flags & ST_REC_ERR) {
		/* UDP: the peer's ICMP port unreachable, on a later call */
		if (c->kind == ST_KIND_UDP && r->err == ECONNREFUSED)
			c->udp_refused++;
		st_tcp_data_err(c, r, end);
		return;
	}
	st_tcp_data(c, r, end);
	/* not ret: sendmmsg and recvmmsg return a count of messages */
	int64_t n = st_rec_bytes(r) > 0 ? st_rec_bytes(r) : 0;
	if (st_call_dir[r->call] == ST_DIR_IN) {
		/* a peek's bytes are not received (a later read takes them),
		 * but they had arrived: the first byte was there */
		if (st_rec_returned(r) > 0 && !c->first_in_ts)
			c->first_in_ts = end;
		c->bytes_in += n;
	} else {
		if (n > 0 && !c->first_out_ts)
			c->first_out_ts = r->ts;
		c->bytes_out += n;
	}
}

static void do_listen(struct st_model *m, struct st_conn *c,
		      const struct st_rec *r)
{
	c->role = ST_ROLE_LISTENER;
	c->backlog = r->u.listen.backlog;
	c->effective_backlog = r->u.listen.effective_backlog;
	c->somaxconn = r->u.listen.somaxconn;
	c->queue_max = (uint32_t)c->effective_backlog;
	if (r->u.listen.local.family)
		c->local = r->u.listen.local;
	st_tcp_set(c, ST_ST_LISTEN, st_rec_end(r), ST_SRC_call);
	st_stitch_listen(&m->stitch, c);
}

/*
 * A socket found open (inherited, made where we could not see, or open
 * when attach started): what it is now.  Its role is a guess where the
 * record cannot say: a connected TCP socket on the port of a listener
 * of ours was accepted (server), else it connected (client); a Unix one
 * with a name of its own was accepted on that path.
 */
static void do_seen(struct st_model *m, struct st_conn *c,
		    const struct st_rec *r)
{
	const struct st_p_seen *p = &r->u.seen;

	c->kind = st_conn_kind(p->domain, p->socktype);
	c->before_trace = true;
	c->before_attach = (p->flags & ST_SEEN_ATTACH) != 0;
	c->local = p->local;
	c->peer = p->peer;
	if ((p->flags & ST_SEEN_LISTENING) ||
	    (c->kind == ST_KIND_TCP && p->tcp_state == TCP_LISTEN)) {
		c->role = ST_ROLE_LISTENER;
		st_tcp_set(c, ST_ST_LISTEN, r->ts, ST_SRC_kernel);
		st_stitch_listen(&m->stitch, c);
		return;
	}
	if (c->peer.family &&
	    (c->kind == ST_KIND_TCP || c->kind == ST_KIND_UNIX)) {
		bool ours = st_stitch_listened(&m->stitch, c, &c->local);
		c->role =
			(c->kind == ST_KIND_TCP &&
			 ours) || (c->kind == ST_KIND_UNIX && c->local.data[0])
				? ST_ROLE_SERVER
				: ST_ROLE_CLIENT;
	}
	if (c->kind == ST_KIND_TCP)
		st_tcp_seen(c, p->tcp_state, r->ts);
}

/* A close record (close, fclose, close_range, closefrom) on C. */
static struct st_ev *do_close(struct st_model *m, struct st_conn *c,
			      const struct st_rec *r, int file)
{
	/* what the kernel said at close is the socket's close only when
	 * this fd was the last: a forking server's parent closing its copy
	 * sends nothing, and the state it read is the child's to change */
	if (st_conntab_fd_get(&m->tab, file, r->fd) != c || c->refs <= 1)
		st_tcp_close_record(c, r);
	st_tcpk_close(&c->tcp, r);
	if (m->set->t[file].hdr.source == ST_SOURCE_PTRACE)
		st_tcpk_bytes(c, r); /* its data calls were not traced */
	/* the record comes before the drop: its line shows the states the
	 * close causes */
	struct st_ev *e = st_conntab_add_ev(&m->tab, c, r, file);
	/* exit_close: the library's record of a socket still held at exit */
	fd_close(m, file, r->fd, c, st_rec_end(r),
		 r->call == ST_CALL_exit_close ? ST_END_EXIT : ST_END_CLOSED);
	return e;
}

/* dup, dup2, dup3, fcntl(F_DUPFD): a new fd for C, maybe over another. */
static void do_dup(struct st_model *m, struct st_conn *c,
		   const struct st_rec *r, int file)
{
	if (r->flags & ST_REC_ERR)
		return;
	if (r->u.dup.replaced_conn) {
		struct st_conn *rc =
			st_conntab_find(&m->tab, r->u.dup.replaced_conn);
		if (rc)
			fd_close(m, file, (int)r->ret, rc, st_rec_end(r),
				 ST_END_CLOSED);
		if (rc && rc != c)
			st_conntab_add_ev(&m->tab, rc, r, file);
	}
	if (c)
		fd_add(m, file, (int)r->ret, c, r->ts);
}

/* ---- ending processes ---------------------------------------------- */

/* Ends process FILE: the fds it still holds close as it exits (END). */
static void end_process(struct st_model *m, int file, uint64_t ts, uint8_t end)
{
	struct st_fdref *f, *tmp;

	m->ended[file] = true;
	HASH_ITER(hh, m->tab.fds, f, tmp) {
		if (f->key.file == file)
			fd_drop(m, file, f->key.fd, ts, end);
	}
	flush(m);
}

void st_model_set_changed(struct st_model *m)
{
	m->set_changed = true;
}

/*
 * Processes that exited normally end at their exit time, in order with
 * the records: a child that inherited a socket and exited no longer
 * holds it when its parent closes it later.
 */
static void end_exited_before(struct st_model *m, uint64_t ts)
{
	if (m->set_changed || m->nfiles != m->set->n) {
		m->set_changed = false;
		st__model_exits_scan(m);
	}
	while (m->next_exit < m->nexits) {
		int i = m->exits[m->next_exit];
		uint64_t at = m->set->t[i].hdr.exit_ts;
		if (at > ts)
			break;
		m->next_exit++;
		end_process(m, i, at, ST_END_EXIT);
	}
}

/* How file I's process ended, as far as the records and the alive
 * callback tell: exit, death, or not at all (OPEN). */
static uint8_t how_ended(const struct st_model *m, int i)
{
	const struct st_trace *t = &m->set->t[i];

	if (t->hdr.exit_ts)
		return ST_END_EXIT;
	/* a newer file of the same pid: this image was replaced by exec */
	for (int j = 0; j < m->set->n; j++)
		if (j != i && m->set->t[j].hdr.pid == t->hdr.pid &&
		    m->set->t[j].hdr.mono_ns > t->hdr.mono_ns)
			return ST_END_EXIT;
	if (m->alive && m->alive(t, m->alive_arg))
		return ST_END_OPEN;
	return ST_END_DEATH;
}

/*
 * Ends the processes that are gone: a process that ended let go of its
 * fds, at exit (a leak) or at death (killed); an exec'd image ended too.
 * At the end (FINAL), each file's loss is said first.
 */
static void end_gone(struct st_model *m, bool final, uint64_t death)
{
	end_exited_before(m, UINT64_MAX);
	for (int i = 0; i < m->set->n; i++) {
		const struct st_trace *t = &m->set->t[i];
		char loss[8];
		if (final && m->finding &&
		    st_trace_loss(t, true, loss, sizeof(loss))) {
			struct st_finding f = st_finding_lost(i);
			m->finding(m, &f, m->arg);
		}
		if (m->ended[i] && !final)
			continue;
		uint8_t end = how_ended(m, i);
		if (end == ST_END_OPEN)
			continue;
		end_process(m, i, t->hdr.exit_ts ? t->hdr.exit_ts : death, end);
	}
}

/* The child a connection was held for is gone, no trace of its own. */
static void child_closed(struct st_conn *c, int32_t child, void *arg)
{
	struct st_model *m = arg;

	c->end_child = child;
	socket_closed(m, c, m->now, ST_END_EXIT);
}

void st_model_reap(struct st_model *m, uint64_t now)
{
	/* children whose file appeared get their fds before exits */
	st_forks_reap(&m->forks, &m->tab, m->set, now, m->alive, m->alive_arg,
		      child_closed, m);
	end_gone(m, false, now > m->now ? now : m->now);
}

/* ---- records in ------------------------------------------------------ */

/* The connection record R of FILE is about, made if R makes one; NULL
 * for records about no connection. */
static struct st_conn *conn_of(struct st_model *m, const struct st_rec *r,
			       int file)
{
	struct st_conn *c = NULL;

	switch (r->call) {
	case ST_CALL_socket:
	case ST_CALL_socketpair:
		c = st_conntab_get(&m->tab, r->conn, file, r->fd, r->ts);
		c->kind = st_conn_kind(r->u.sock.domain, r->u.sock.socktype);
		fd_add(m, file, r->fd, c, r->ts);
		if (r->call == ST_CALL_socketpair) {
			struct st_conn *d =
				st_conntab_get(&m->tab, r->u.sock.conn2, file,
					       r->u.sock.fd2, r->ts);
			d->kind = c->kind;
			c->role = d->role = ST_ROLE_PAIR;
			fd_add(m, file, r->u.sock.fd2, d, r->ts);
			st_stitch_link(c, d);
		}
		return c;
	case ST_CALL_seen:
		if ((c = st__model_exec_inherited(m, r, file)))
			return c;
		c = st_conntab_get(&m->tab, r->conn, file, r->fd, r->ts);
		do_seen(m, c, r);
		fd_add(m, file, r->fd, c, r->ts);
		return c;
	default:
		break;
	}
	c = st_conntab_find(&m->tab, r->conn);
	if (!c && r->conn && !st_conntab_unseen_lately(&m->tab, r->conn)) {
		/* its creation was lost (ring): start from what we see;
		 * every record says what kind of socket it is about */
		c = st_conntab_get(&m->tab, r->conn, file, r->fd, r->ts);
		c->before_trace = true;
		c->start_lost = true;
		c->kind = st_rec_kind(r);
		fd_add(m, file, r->fd, c, r->ts);
	}
	return c;
}

/* Applies R (of FILE, about C or no connection) to the model; returns
 * C's timeline line for it, or NULL. */
static struct st_ev *apply(struct st_model *m, struct st_conn *c,
			   const struct st_rec *r, int file)
{
	bool ok = !(r->flags & ST_REC_ERR);

	switch (r->call) {
	case ST_CALL_bind:
		if (ok && c) {
			c->local = r->u.addr.addr;
			c->bound_port = c->local.port != 0;
		}
		break;
	case ST_CALL_listen:
		if (ok && c)
			do_listen(m, c, r);
		break;
	case ST_CALL_connect:
		if (c)
			do_connect(m, c, r, file);
		break;
	case ST_CALL_accept:
	case ST_CALL_accept4:
		if (c)
			do_accept(m, c, r, file);
		break;
	case ST_CALL_getsockopt:
		if (c)
			st_tcp_sockopt(c, r);
		break;
	case ST_CALL_shutdown:
		if (c)
			st_tcp_shutdown(c, r, st_rec_end(r));
		break;
	case ST_CALL_close:
	case ST_CALL_fclose:
	case ST_CALL_close_range:
	case ST_CALL_closefrom:
	case ST_CALL_exit_close:
		return c ? do_close(m, c, r, file) : NULL;
	case ST_CALL_fcntl:
		if (r->u.dup.cmd == F_SETFL) {
			if (c)
				st_opts_apply(&c->opts, r);
			break;
		}
		do_dup(m, c, r, file);
		break;
	case ST_CALL_dup:
	case ST_CALL_dup2:
	case ST_CALL_dup3:
		do_dup(m, c, r, file);
		break;
	case ST_CALL_setsockopt:
		if (c)
			st_opts_apply(&c->opts, r);
		break;
	default:
		if (c && st_call_dir[r->call] != ST_DIR_NONE)
			do_data(c, r, st_rec_end(r));
	}
	return c ? st_conntab_add_ev(&m->tab, c, r, file) : NULL;
}

void st_model_add(struct st_model *m, const struct st_rec *r, int file)
{
	uint64_t end = st_rec_end(r);
	bool ok = !(r->flags & ST_REC_ERR);
	uint32_t before = 0, before_other = 0;

	if (!m->t0)
		m->t0 = r->ts;
	if (end > m->now)
		m->now = end;
	if (m->forks.n)
		st_forks_resolve(&m->forks, &m->tab, m->set);
	/* following, a new file's records come late: exits wait for reap */
	if (!m->following)
		end_exited_before(m, r->ts);
	if ((r->call == ST_CALL_socket || r->call == ST_CALL_socketpair) && !ok)
		return;
	if (r->call == ST_CALL_fork) {
		if (ok)
			st__model_fork(m, file, (pid_t)r->ret);
		return;
	}
	if (r->call == ST_CALL_tcpinfo) { /* figures, not a call */
		struct st_conn *t = st_conntab_find(&m->tab, r->conn);
		if (t)
			st_tcpk_counters(&t->tcp, r);
		return;
	}
	struct st_conn *c = conn_of(m, r, file);
	if (c) {
		before = c->nst;
		before_other = c->other ? c->other->nst : 0;
		c->last_ts = end;
		c->last_call = r->call;
	}
	struct st_ev *e = apply(m, c, r, file);
	if (e && c) {
		/* the states this call moved the ends through */
		e->self_from = (uint16_t)before;
		e->self_to = (uint16_t)c->nst;
		if (c->other) {
			/* the other end may have been joined by this call */
			e->other_from = (uint16_t)(before_other <= c->other->nst
							   ? before_other
							   : 0);
			e->other_to = (uint16_t)c->other->nst;
		}
	}
	st_twhold_expire(&m->tw, m->now, ready_add, m);
	flush(m);
}

/* ---- the model's life ------------------------------------------------ */

void st_model_mark_attach(struct st_model *m)
{
	st_conntab_mark_attach(&m->tab, m->now);
}

int st_model_init(struct st_model *m, struct st_traceset *set, st_emit_fn emit,
		  st_finding_fn fnd, void *arg)
{
	memset(m, 0, sizeof(*m));
	m->set = set;
	m->emit = emit;
	m->finding = fnd;
	m->arg = arg;
	st_conntab_init(&m->tab, 10000);
	return 0;
}

void st_model_liveness(struct st_model *m, st_alive_fn fn, void *arg)
{
	m->alive = fn;
	m->alive_arg = arg;
}

struct st_conn *st_model_open_next(const struct st_model *m,
				   const struct st_conn *c)
{
	return c ? c->hh.next : m->tab.conns;
}

void st_model_judge_open(struct st_model *m, struct st_conn *c, uint64_t now,
			 st_finding_fn fn, void *arg)
{
	judge(m, c, now, true, fn, arg);
}

static int by_open(const void *a, const void *b)
{
	const struct st_conn *x = *(struct st_conn *const *)a;
	const struct st_conn *y = *(struct st_conn *const *)b;

	return x->open_ts < y->open_ts ? -1 : x->open_ts > y->open_ts;
}

void st_model_finish(struct st_model *m)
{
	st_forks_reap(&m->forks, &m->tab, m->set, m->now, NULL, NULL,
		      child_closed, m);
	end_gone(m, true, m->now);
	/* what is left is open at the end of the trace, or waited for a
	 * join that never came: emit it all, oldest first */
	m->finishing = true;
	st_twhold_all(&m->tw, ready_add, m);
	size_t n = HASH_COUNT(m->tab.conns), k = 0;
	struct st_conn **all = st__xcalloc(n ? n : 1, sizeof(*all));
	struct st_conn *c, *tmp;
	HASH_ITER(hh, m->tab.conns, c, tmp) {
		c->awaiting_join = false;
		c->done = true;
		all[k++] = c;
	}
	qsort(all, k, sizeof(*all), by_open);
	for (size_t i = 0; i < k; i++)
		try_emit(m, all[i]);
	flush(m);
	free(all);
}

void st_conn_free(struct st_model *m, struct st_conn *c)
{
	st_conntab_release(&m->tab, c);
}

void st_model_free(struct st_model *m)
{
	st_forks_free(&m->forks);
	st_conntab_free(&m->tab);
	st_stitch_free(&m->stitch);
	st_twhold_free(&m->tw);
	free(m->ready);
	free(m->exits);
	free(m->ended);
}
