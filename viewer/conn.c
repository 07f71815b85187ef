/* SPDX-License-Identifier: MIT */
/* Connections: records grouped per socket, ends joined, TCP states inferred. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conn.h"
#include "merge.h"
#include "proc.h"
#include "records.h"

const char *const st_state_name[] = {
#define ST__S(n) #n,
	ST_STATE_TABLE(ST__S)
#undef ST__S
};
const unsigned char st_state_name_len[] = {
#define ST__S(n) sizeof(#n) - 1,
	ST_STATE_TABLE(ST__S)
#undef ST__S
};
const char *const st_kind_name[] = { "other", "tcp", "udp", "unix" };
const char *const st_role_name[] = { "socket", "listener", "client", "server",
				     "pair" };

/* An EOF not followed by close within this long is a CLOSE_WAIT finding. */
#define CLOSE_WAIT_NS (1000000000ull)

/*
 * Ends waiting for their other end, keyed by (client, server) identity:
 * for TCP the two addresses; for Unix, where every client of a path looks
 * alike, the client's pid and the server's path.  Usually the client's
 * connect returns first, but on loopback the server's accept can return
 * before it: either side may wait.  All waiters of a key are on one side;
 * Unix ones queue in order, as the kernel's accept queue does.
 */
struct st_waiter {
	uint64_t conn;
	struct st_waiter *next;
};
struct st_tuple {
	struct st_addr key[2];
	UT_hash_handle hh;
	bool server; /* the side that waits */
	struct st_waiter *head, **tail;
};
/* st_addr.family of a key half that holds a pid, not an address */
#define KEY_PID 0xffff

/* Which connection an fd of a traced process refers to. */
struct st_fdkey {
	int32_t file;
	int32_t fd;
};
struct st_fdref {
	struct st_fdkey key;
	UT_hash_handle hh;
	struct st_conn *conn;
};

/* Where traced processes listen (TCP: a port; Unix: a path): a connect
 * there awaits its join. */
struct st_lport {
	struct st_addr key;
	UT_hash_handle hh;
	int listeners;
};

static void grow(void **p, uint32_t *cap, size_t size)
{
	uint32_t n = *cap ? *cap * 2 : 8;
	void *q = realloc(*p, n * size);

	if (!q) {
		fprintf(stderr, "socktrace: out of memory\n");
		exit(1);
	}
	*p = q;
	*cap = n;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p) {
		fprintf(stderr, "socktrace: out of memory\n");
		exit(1);
	}
	return p;
}

/* An object of SIZE bytes, zeroed: from the spare list, or new. */
static void *spare_get(void **list, size_t size)
{
	void *x = *list;

	if (!x)
		return xcalloc(1, size);
	*list = *(void **)x;
	memset(x, 0, size);
	return x;
}

static void spare_put(void **list, void *x)
{
	*(void **)x = *list;
	*list = x;
}

static void spare_free(void **list)
{
	while (*list) {
		void *x = *list;
		*list = *(void **)x;
		free(x);
	}
}

/* v4-mapped v6 addresses as plain v4, so both ends key alike. */
static struct st_addr norm(const struct st_addr *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0,
					    0, 0, 0, 0, 0xff, 0xff };
	struct st_addr n = *a;

	if (a->family == AF_INET6 && !memcmp(a->data, mapped, 12)) {
		memset(n.data, 0, sizeof(n.data));
		n.family = AF_INET;
		memcpy(n.data, a->data + 12, 4);
	}
	return n;
}

static void set_state(struct st_conn *c, uint8_t s, uint64_t ts)
{
	if (c->state == s)
		return;
	c->state = s;
	if (c->nst == c->capst)
		grow((void **)&c->st, &c->capst, sizeof(*c->st));
	c->st[c->nst].state = s;
	c->st[c->nst].ts = ts;
	c->nst++;
}

static struct st_conn *find(struct st_model *m, uint64_t id)
{
	struct st_conn *c;

	HASH_FIND(hh, m->conns, &id, sizeof(id), c);
	return c;
}

static struct st_conn *create(struct st_model *m, uint64_t id, int file,
			      int fd, uint64_t ts)
{
	struct st_conn *c = find(m, id);

	if (c)
		return c;
	c = m->spare_conn;
	if (c) {
		/* a connection freed before: its timeline buffers are kept */
		struct st_ev *ev = c->ev;
		struct st_stchange *st = c->st;
		uint32_t capev = c->capev, capst = c->capst;
		m->spare_conn = c->other;
		memset(c, 0, sizeof(*c));
		c->ev = ev;
		c->capev = capev;
		c->st = st;
		c->capst = capst;
	} else {
		c = xcalloc(1, sizeof(*c));
	}
	c->id = id;
	c->file = file;
	c->fd = fd;
	c->open_ts = ts;
	HASH_ADD(hh, m->conns, id, sizeof(c->id), c);
	return c;
}

static uint8_t kind_of(int domain, int type)
{
	type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (domain == AF_UNIX)
		return ST_KIND_UNIX;
	if (domain != AF_INET && domain != AF_INET6)
		return ST_KIND_OTHER;
	return type == SOCK_STREAM  ? ST_KIND_TCP
	       : type == SOCK_DGRAM ? ST_KIND_UDP
				    : ST_KIND_OTHER;
}

static void fd_add(struct st_model *m, int file, int fd, struct st_conn *c)
{
	struct st_fdkey k = { file, fd };
	struct st_fdref *f;

	HASH_FIND(hh, m->fds, &k, sizeof(k), f);
	if (f) {
		/* an fd number reused behind our back: the old ref is gone */
		f->conn->refs--;
	} else {
		f = spare_get(&m->spare_fd, sizeof(*f));
		f->key = k;
		HASH_ADD(hh, m->fds, key, sizeof(k), f);
	}
	f->conn = c;
	c->refs++;
}

static void socket_closed(struct st_model *m, struct st_conn *c, uint64_t ts,
			  uint8_t end);

/* Drops fd FD of FILE; the socket closes when no fd holds it. */
static struct st_conn *fd_drop(struct st_model *m, int file, int fd,
			       uint64_t ts, uint8_t end)
{
	struct st_fdkey k = { file, fd };
	struct st_fdref *f;

	HASH_FIND(hh, m->fds, &k, sizeof(k), f);
	if (!f)
		return NULL;
	struct st_conn *c = f->conn;
	HASH_DEL(m->fds, f);
	spare_put(&m->spare_fd, f);
	if (--c->refs <= 0) {
		c->end_file = file;
		c->end_fd = fd;
		socket_closed(m, c, ts, end);
	}
	return c;
}

/*
 * Drops fd FD of FILE, which held connection C, as a close record says.
 * Records come in order of their end, so a thread preempted just after
 * its close can have its record come after another thread's call that
 * got the same fd number anew: the fd then already names the new
 * socket, and C lost that ref when it was reused.
 */
static void fd_close(struct st_model *m, int file, int fd,
		     struct st_conn *c, uint64_t ts)
{
	struct st_fdkey k = { file, fd };
	struct st_fdref *f;

	HASH_FIND(hh, m->fds, &k, sizeof(k), f);
	if (f && f->conn == c) {
		fd_drop(m, file, fd, ts, ST_END_CLOSED);
	} else if (c->refs <= 0 && c->end == ST_END_OPEN) {
		c->end_file = file;
		c->end_fd = fd;
		socket_closed(m, c, ts, ST_END_CLOSED);
	}
}

/* Adds R to C's timeline; like data calls in a row make one line. */
static struct st_ev *add_ev(struct st_model *m, struct st_conn *c,
			    const struct st_rec *r, int file)
{
	uint64_t bytes = st_call_dir[r->call] && r->ret > 0 ? (uint64_t)r->ret
							    : 0;
	c->calls++;
	if (c->nev) {
		struct st_ev *l = &c->ev[c->nev - 1];
		bool data = st_call_dir[r->call] != ST_DIR_NONE;
		/* a run: same call, same process, succeeded with data, and
		 * nothing in between (EOF and errors stay lines of their own) */
		if (data && l->r.call == r->call && l->file == file &&
		    !(r->flags & ST_REC_ERR) && r->ret > 0 &&
		    !(l->r.flags & ST_REC_ERR) && l->r.ret > 0 &&
		    l->self_from == l->self_to &&
		    l->other_from == l->other_to) {
			l->count++;
			l->bytes += bytes;
			l->end = st_rec_end(r);
			return l;
		}
	}
	if (c->nev >= m->ev_cap) {
		c->ev_dropped++;
		return NULL;
	}
	if (c->nev == c->capev)
		grow((void **)&c->ev, &c->capev, sizeof(*c->ev));
	struct st_ev *e = &c->ev[c->nev++];
	e->r = *r;
	e->file = file;
	e->count = 1;
	e->bytes = bytes;
	e->end = st_rec_end(r);
	e->self_from = e->self_to = e->other_from = e->other_to = 0;
	return e;
}

static void finding(struct st_model *m, const char *kind, uint64_t conn,
		    int file, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void finding(struct st_model *m, const char *kind, uint64_t conn,
		    int file, const char *fmt, ...)
{
	struct st_finding f = { .kind = kind, .conn = conn, .file = file };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f.message, sizeof(f.message), fmt, ap);
	va_end(ap);
	if (m->finding)
		m->finding(m, &f, m->arg);
}

/* Findings about one end, grounded in the TCP facts: a finished one, or
 * (OPEN) one still open at NOW. */
static void judge(struct st_model *m, struct st_conn *c, uint64_t now,
		  bool open)
{
	char p[48], id[24], b[16];

	if (c->hidden)
		return; /* finished before attach: not ours to judge */
	st_proc_name(&m->set->t[c->file], p);
	st_conn_str(c->id, id);
	if (c->connect_err) {
		const char *why =
			c->connect_err == ECONNREFUSED
				? "nothing listens there: the peer answered "
				  "the SYN with RST"
			: c->connect_err == ETIMEDOUT
				? "no answer to the SYN: a host or firewall "
				  "drops it, or the server's accept queue is "
				  "full"
			: c->connect_err == ENETUNREACH ||
					c->connect_err == EHOSTUNREACH
				? "no route to the peer"
				: "the handshake did not complete";
		char a[64];
		st_addr_str(&c->peer, a, sizeof(a));
		finding(m, "connect_failed", c->id, c->file,
			"%s connection %s: connect to %s failed with %s (%s)",
			p, id, a[0] ? a : "?", st_errno_name(c->connect_err, b),
			why);
	}
	if (c->kind == ST_KIND_TCP && c->eof_ts && c->closed_first <= 0) {
		uint64_t gap = c->end == ST_END_CLOSED ? c->fin_ts - c->eof_ts
			       : now > c->eof_ts	? now - c->eof_ts
							: 0;
		char how[64];
		if (c->end == ST_END_CLOSED)
			snprintf(how, sizeof(how), "closed it only %.1f s later",
				 gap / 1e9);
		else if (open)
			snprintf(how, sizeof(how),
				 "has not closed it for %.1f s", gap / 1e9);
		else
			snprintf(how, sizeof(how), "never closed it");
		if ((c->end != ST_END_CLOSED && !open) ||
		    gap > CLOSE_WAIT_NS)
			finding(m, "close_wait", c->id, c->file,
				"%s connection %s read EOF (the peer closed) "
				"but %s: the socket sits in CLOSE_WAIT until "
				"the program closes it; many of these mean it "
				"forgets to close",
				p, id, how);
	}
	if (c->kind == ST_KIND_TCP && c->role == ST_ROLE_SERVER &&
	    c->closed_first > 0)
		finding(m, "server_time_wait", c->id, c->file,
			"%s server connection %s closed first: the active "
			"closer gets TIME_WAIT (60 s), so it is held on the "
			"server; let clients close first, or use keep-alive",
			p, id);
	if (c->end == ST_END_EXIT) {
		char ep[48];
		st_proc_name(&m->set->t[c->end_file], ep);
		finding(m, "fd_leak", c->id, c->end_file,
			"%s exited with connection %s (fd %d) still open: "
			"the program never closed it (the kernel did at exit)",
			ep, id, c->end_fd);
	}
	if (c->role == ST_ROLE_LISTENER && c->backlog > 0 &&
	    c->effective_backlog > 0 && c->effective_backlog < c->backlog)
		finding(m, "backlog_clipped", c->id, c->file,
			"%s listener %s asked for backlog %d but got %d: "
			"the accept queue is capped by net.core.somaxconn "
			"(%d)",
			p, id, c->backlog, c->effective_backlog, c->somaxconn);
	if (c->queue_full)
		finding(m, "accept_queue_full", c->id, c->file,
			"%s listener %s: its accept queue reached its limit "
			"(%u): further handshakes are dropped and clients "
			"wait (SYN retries) until the program calls accept",
			p, id, c->queue_max);
}

/* Queues C (with its other end) for emission once everything about it
 * is known; st_model_add emits after it is done with the record, so no
 * connection is freed while a record is being applied to it. */
static bool held(const struct st_model *m, const struct st_conn *c)
{
	/* an fd still names it (a record re-added one after its close): it
	 * cannot be freed yet; the end of the trace lets go of all fds */
	return c->refs > 0 && !m->finishing;
}

static void try_emit(struct st_model *m, struct st_conn *c)
{
	if (c->emitted || !c->done || c->awaiting_join || held(m, c))
		return;
	if (c->other && (!c->other->done || c->other->awaiting_join ||
			 held(m, c->other)))
		return;
	c->emitted = true;
	if (c->other)
		c->other->emitted = true;
	if (m->nready == m->capready)
		grow((void **)&m->ready, &m->capready, sizeof(*m->ready));
	m->ready[m->nready++] = c;
}

static void flush(struct st_model *m)
{
	for (uint32_t i = 0; i < m->nready; i++) {
		struct st_conn *c = m->ready[i];
		judge(m, c, m->now, false);
		HASH_DEL(m->conns, c);
		if (c->other) {
			judge(m, c->other, m->now, false);
			HASH_DEL(m->conns, c->other);
		}
		m->emit(m, c, m->arg);
	}
	m->nready = 0;
}

static struct st_addr pid_key(int32_t pid)
{
	struct st_addr k = { .family = KEY_PID };

	memcpy(k.data, &pid, sizeof(pid));
	return k;
}

static void tuple_key(const struct st_conn *c, struct st_addr k[2])
{
	bool srv = c->role == ST_ROLE_SERVER;

	memset(k, 0, 2 * sizeof(*k));
	if (c->kind == ST_KIND_UNIX)
		k[0] = pid_key(c->join_pid);
	else
		k[0] = norm(srv ? &c->peer : &c->local);
	k[1] = norm(srv ? &c->local : &c->peer);
}

static void tuple_free(struct st_model *m, struct st_tuple *t)
{
	struct st_waiter *w = t->head, *n;

	for (; w; w = n) {
		n = w->next;
		spare_put(&m->spare_waiter, w);
	}
	HASH_DEL(m->tuples, t);
	spare_put(&m->spare_tuple, t);
}

static void forget_tuple(struct st_model *m, struct st_conn *c)
{
	struct st_addr k[2];
	struct st_tuple *t;

	tuple_key(c, k);
	HASH_FIND(hh, m->tuples, k, sizeof(struct st_addr) * 2, t);
	if (!t)
		return;
	for (struct st_waiter **p = &t->head; *p; p = &(*p)->next) {
		struct st_waiter *w = *p;
		if (w->conn != c->id)
			continue;
		*p = w->next;
		if (t->tail == &w->next)
			t->tail = p;
		spare_put(&m->spare_waiter, w);
		break;
	}
	if (!t->head)
		tuple_free(m, t);
}

/* The listening key of address A of C (port, or Unix path). */
static struct st_addr lport_key(const struct st_conn *c,
				const struct st_addr *a)
{
	struct st_addr k = { .port = a->port };

	if (c->kind == ST_KIND_UNIX)
		k = norm(a);
	return k;
}

/* C listens (listen, or accept on an inherited listener): register it. */
static void listening(struct st_model *m, struct st_conn *c)
{
	struct st_addr k = lport_key(c, &c->local);
	struct st_lport *l;

	if (c->registered ||
	    (c->kind != ST_KIND_TCP && c->kind != ST_KIND_UNIX))
		return;
	HASH_FIND(hh, m->lports, &k, sizeof(k), l);
	if (!l) {
		l = xcalloc(1, sizeof(*l));
		l->key = k;
		HASH_ADD(hh, m->lports, key, sizeof(k), l);
	}
	l->listeners++;
	c->registered = true;
}

/* Listener C closed: connects there no longer await a join. */
static void unlisten(struct st_model *m, struct st_conn *c)
{
	struct st_addr k = lport_key(c, &c->local);
	struct st_lport *l;

	if (!c->registered)
		return;
	c->registered = false;
	HASH_FIND(hh, m->lports, &k, sizeof(k), l);
	if (!l || --l->listeners > 0)
		return;
	HASH_DEL(m->lports, l);
	free(l);
	/* clients still queued there were reset, never to be accepted */
	struct st_tuple *t, *tmp;
	HASH_ITER(hh, m->tuples, t, tmp)
	{
		struct st_addr tk = { .port = t->key[1].port };
		if (t->key[0].family == KEY_PID)
			tk = t->key[1];
		if (t->server || memcmp(&tk, &k, sizeof(k)))
			continue;
		for (struct st_waiter *w = t->head; w; w = w->next) {
			struct st_conn *o = find(m, w->conn);
			if (o && !o->other) {
				o->awaiting_join = false;
				try_emit(m, o);
			}
		}
		tuple_free(m, t);
	}
}

static bool listening_on(struct st_model *m, const struct st_conn *c)
{
	struct st_addr k = lport_key(c, &c->peer);
	struct st_lport *l;

	HASH_FIND(hh, m->lports, &k, sizeof(k), l);
	return l != NULL;
}

static void socket_closed(struct st_model *m, struct st_conn *c, uint64_t ts,
			  uint8_t end)
{
	struct st_conn *o = c->other;

	c->close_ts = ts;
	c->end = end;
	if (c->kind == ST_KIND_TCP && end != ST_END_DEATH) {
		switch (c->state) {
		case ST_ST_ESTABLISHED:
			/* this end closes first: FIN, then TIME_WAIT */
			c->closed_first = 1;
			c->fin_ts = ts;
			set_state(c, ST_ST_FIN_WAIT, ts);
			if (o && o->state == ST_ST_ESTABLISHED) {
				o->closed_first = -1;
				set_state(o, ST_ST_CLOSE_WAIT, ts);
			} else if (o && o->closed_first < 0 && o->fin_ts) {
				/* the peer saw our FIN and closed before this
				 * close was recorded (records are stamped when
				 * calls return): both FINs are out */
				set_state(c, ST_ST_TIME_WAIT, ts);
			}
			break;
		case ST_ST_FIN_WAIT:
			break; /* after shutdown: FIN already sent */
		case ST_ST_CLOSE_WAIT:
			c->fin_ts = ts;
			c->closed_first = -1;
			set_state(c, ST_ST_LAST_ACK, ts);
			set_state(c, ST_ST_CLOSED, ts);
			if (o && o->state == ST_ST_FIN_WAIT) {
				o->closed_first = 1;
				set_state(o, ST_ST_TIME_WAIT, ts);
			}
			break;
		default:
			set_state(c, ST_ST_CLOSED, ts);
		}
		if (c->state == ST_ST_FIN_WAIT && c->eof_ts) {
			/* both FINs seen: the 60 s TIME_WAIT starts */
			set_state(c, ST_ST_TIME_WAIT, ts);
		}
	} else if (end != ST_END_DEATH) {
		set_state(c, ST_ST_CLOSED, ts);
	}
	c->done = true;
	c->connect_pending = false;
	if (c->role == ST_ROLE_LISTENER)
		unlisten(m, c);
	/* a client end that closed before its accept keeps its tuple */
	if (!c->awaiting_join)
		forget_tuple(m, c);
	try_emit(m, c);
	if (o && !o->emitted)
		try_emit(m, o);
}

static void established(struct st_conn *c, uint64_t ts)
{
	c->est_ts = ts;
	c->connect_pending = false;
	set_state(c, ST_ST_ESTABLISHED, ts);
}

/*
 * Makes A and B each other's other end.  An end is joined once; records
 * that would join it again (a trace file given twice, a damaged file)
 * first part it from its old partner, so that no end is left pointing
 * at one that is emitted and freed without it.
 */
static bool link_ends(struct st_conn *a, struct st_conn *b)
{
	if (a == b)
		return false;
	if (a->other && a->other != b)
		a->other->other = NULL;
	if (b->other && b->other != a)
		b->other->other = NULL;
	a->other = b;
	b->other = a;
	return true;
}

static void join(struct st_conn *cl, struct st_conn *srv)
{
	if (!link_ends(cl, srv))
		return;
	cl->awaiting_join = false;
	srv->awaiting_join = false;
	/* connect returned after SYN+ACK: from then the connection waited
	 * in the accept queue until accept returned it */
	if (cl->est_ts) {
		srv->accept_wait = cl->est_ts < srv->accept_ts
					   ? srv->accept_ts - cl->est_ts
					   : 0;
		if (cl->est_ts < srv->st[0].ts)
			srv->st[0].ts = cl->est_ts;
	}
	if (cl->done && cl->closed_first > 0 &&
	    srv->state == ST_ST_ESTABLISHED) {
		/* the client closed while queued: the server finds FIN */
		srv->closed_first = -1;
		set_state(srv, ST_ST_CLOSE_WAIT,
			  cl->close_ts > srv->accept_ts ? cl->close_ts
							: srv->accept_ts);
	}
}

/* Joins C with its waiting other end, or makes C wait for it. */
static void pair_up(struct st_model *m, struct st_conn *c)
{
	struct st_tuple *t;
	struct st_addr k[2];
	bool srv = c->role == ST_ROLE_SERVER;

	if (c->other)
		return; /* joined already */
	tuple_key(c, k);
	HASH_FIND(hh, m->tuples, k, sizeof(k), t);
	if (t && t->server != srv) {
		/* the oldest waiter on the other side is C's other end */
		while (t->head) {
			struct st_waiter *w = t->head;
			struct st_conn *o = find(m, w->conn);
			t->head = w->next;
			if (!t->head)
				t->tail = &t->head;
			spare_put(&m->spare_waiter, w);
			if (o && !o->other) {
				if (!t->head)
					tuple_free(m, t);
				join(srv ? o : c, srv ? c : o);
				return;
			}
		}
		tuple_free(m, t);
		t = NULL;
	} else if (t && c->kind != ST_KIND_UNIX) {
		/* the same 4-tuple reused: the newer one waits */
		tuple_free(m, t);
		t = NULL;
	}
	if (!t) {
		t = spare_get(&m->spare_tuple, sizeof(*t));
		memcpy(t->key, k, sizeof(k));
		t->server = srv;
		t->tail = &t->head;
		HASH_ADD(hh, m->tuples, key, sizeof(t->key), t);
	}
	struct st_waiter *w = spare_get(&m->spare_waiter, sizeof(*w));
	w->conn = c->id;
	*t->tail = w;
	t->tail = &w->next;
	/* a client of a traced listener will be accepted: wait for that */
	if (!srv && listening_on(m, c))
		c->awaiting_join = true;
}

static void do_accept(struct st_model *m, struct st_conn *l,
		      const struct st_rec *r, int file)
{
	const struct st_p_accept *p = &r->u.accept;

	if (l->role == ST_ROLE_NONE)
		l->role = ST_ROLE_LISTENER;
	if (l->role == ST_ROLE_LISTENER)
		listening(m, l);
	if (p->queue_max)
		l->queue_max = p->queue_max;
	if (p->queue_len > l->max_queue_len)
		l->max_queue_len = p->queue_len;
	if (p->queue_max)
		l->last_queue_len = p->queue_len;
	/* the kernel drops handshakes while the queue holds more than its
	 * limit; right after this accept it still held queue_len */
	if (p->queue_max && p->queue_len >= p->queue_max)
		l->queue_full = true;
	if (r->ret < 0 || !p->conn2)
		return;
	l->accepted++;
	uint64_t end = st_rec_end(r);
	uint64_t id = st_cnum_conn(m->set->t[file].hdr.pid, p->conn2);
	struct st_conn *s = create(m, id, file, (int)r->ret, end);
	s->kind = l->kind;
	s->role = ST_ROLE_SERVER;
	s->local = p->local;
	s->peer = p->peer;
	s->accept_ts = end;
	s->last_ts = end;
	s->last_call = r->call;
	s->listener = l->id;
	s->join_pid = p->peer_pid;
	fd_add(m, file, (int)r->ret, s);
	if (s->kind == ST_KIND_TCP)
		established(s, end);
	struct st_ev *e = add_ev(m, s, r, file);
	if (s->kind == ST_KIND_TCP ||
	    (s->kind == ST_KIND_UNIX && s->join_pid))
		pair_up(m, s);
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
	if (r->u.connect.local.family)
		c->local = r->u.connect.local;
	if (c->kind != ST_KIND_TCP) {
		if (err && err != EINPROGRESS)
			c->connect_err = err;
		if (!err && c->kind == ST_KIND_UNIX && !c->other) {
			/* the server's accept names this pid as its peer */
			c->join_pid = m->set->t[file].hdr.pid;
			pair_up(m, c);
		}
		return;
	}
	c->connect_ts = r->ts;
	set_state(c, ST_ST_SYN_SENT, r->ts);
	if (!err) {
		established(c, st_rec_end(r));
	} else if (err == EINPROGRESS || err == EALREADY) {
		c->connect_pending = true;
	} else if (err != EINTR && err != EISCONN) {
		c->connect_err = err;
		set_state(c, ST_ST_CLOSED, st_rec_end(r));
	}
	if (!err || err == EINPROGRESS)
		pair_up(m, c);
}

static void do_data(struct st_conn *c, const struct st_rec *r, uint64_t end)
{
	if (r->flags & ST_REC_ERR)
		return;
	/* a non-blocking connect completes at the first successful I/O */
	if (c->connect_pending)
		established(c, r->ts);
	if (st_call_dir[r->call] == ST_DIR_IN) {
		if (r->ret == 0 && c->kind != ST_KIND_UDP) {
			if (!c->eof_ts)
				c->eof_ts = end;
			if (c->state == ST_ST_ESTABLISHED) {
				c->closed_first = -1;
				set_state(c, ST_ST_CLOSE_WAIT, end);
			} else if (c->state == ST_ST_FIN_WAIT && c->done) {
				set_state(c, ST_ST_TIME_WAIT, end);
			}
		}
		if (r->ret > 0 && !c->first_in_ts)
			c->first_in_ts = end;
		c->bytes_in += r->ret;
	} else {
		if (r->ret > 0 && !c->first_out_ts)
			c->first_out_ts = r->ts;
		c->bytes_out += r->ret;
	}
}

static void do_shutdown(struct st_conn *c, const struct st_rec *r,
			uint64_t end)
{
	int how = r->u.how.how;

	if ((r->flags & ST_REC_ERR) || c->kind != ST_KIND_TCP ||
	    (how != SHUT_WR && how != SHUT_RDWR))
		return;
	if (c->state == ST_ST_ESTABLISHED) {
		/* a half-close: our FIN goes out, we may still read */
		c->closed_first = 1;
		c->fin_ts = end;
		set_state(c, ST_ST_FIN_WAIT, end);
		if (c->other && c->other->state == ST_ST_ESTABLISHED) {
			c->other->closed_first = -1;
			set_state(c->other, ST_ST_CLOSE_WAIT, end);
		}
	} else if (c->state == ST_ST_CLOSE_WAIT) {
		c->fin_ts = end;
		set_state(c, ST_ST_LAST_ACK, end);
	}
}

/* Ends process FILE: the fds it still holds close as it exits (END). */
static void end_process(struct st_model *m, int file, uint64_t ts,
			uint8_t end)
{
	struct st_fdref *f, *tmp;

	m->ended[file] = true;
	HASH_ITER(hh, m->fds, f, tmp)
	{
		if (f->key.file == file)
			fd_drop(m, file, f->key.fd, ts, end);
	}
	flush(m);
}

static int by_exit(const void *a, const void *b, void *arg)
{
	const struct st_traceset *set = arg;
	uint64_t x = set->t[*(const int *)a].hdr.exit_ts;
	uint64_t y = set->t[*(const int *)b].hdr.exit_ts;

	return x < y ? -1 : x > y;
}

/* (Re)builds the list of exits not yet handled, by exit time. */
static void exits_scan(struct st_model *m)
{
	int n = m->set->n;

	if (n > m->nfiles) {
		bool *e = realloc(m->ended, n * sizeof(*e));
		int *x = realloc(m->exits, n * sizeof(*x));
		if (e)
			m->ended = e;
		if (x)
			m->exits = x;
		if (!e || !x) {
			fprintf(stderr, "socktrace: out of memory\n");
			exit(1);
		}
		memset(m->ended + m->nfiles, 0, (n - m->nfiles) * sizeof(*e));
	}
	m->nfiles = n;
	m->nexits = m->next_exit = 0;
	for (int i = 0; i < n; i++)
		if (m->set->t[i].hdr.exit_ts && !m->ended[i])
			m->exits[m->nexits++] = i;
	if (m->nexits > 1)
		qsort_r(m->exits, m->nexits, sizeof(*m->exits), by_exit,
			m->set);
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
		exits_scan(m);
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

/* Copies a parent's fds to a traced child at fork. */
static void do_fork(struct st_model *m, int file, pid_t child)
{
	struct st_fdref *f, *tmp;
	int cf = -1;

	for (int i = 0; i < m->set->n; i++)
		if (m->set->t[i].hdr.pid == child &&
		    m->set->t[i].hdr.ppid == m->set->t[file].hdr.pid)
			cf = i;
	if (cf < 0)
		return; /* an untraced child: no calls, no file */
	/* records are in order of their end: a short-lived child can have
	 * exited before its parent's fork call returned */
	if (cf < m->nfiles && m->ended[cf])
		return;
	HASH_ITER(hh, m->fds, f, tmp)
	{
		if (f->key.file == file)
			fd_add(m, cf, f->key.fd, f->conn);
	}
}

/* Our state for a TCP state the kernel reported (TCP_* values). */
static uint8_t from_tcp(uint32_t s)
{
	switch (s) {
	case TCP_ESTABLISHED: return ST_ST_ESTABLISHED;
	case TCP_SYN_SENT: return ST_ST_SYN_SENT;
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
	case TCP_CLOSING: return ST_ST_FIN_WAIT;
	case TCP_TIME_WAIT: return ST_ST_TIME_WAIT;
	case TCP_CLOSE_WAIT: return ST_ST_CLOSE_WAIT;
	case TCP_LAST_ACK: return ST_ST_LAST_ACK;
	case TCP_LISTEN: return ST_ST_LISTEN;
	case TCP_CLOSE: return ST_ST_CLOSED;
	default: return ST_ST_NONE;
	}
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

	c->kind = kind_of(p->domain, p->socktype);
	c->before_trace = true;
	c->before_attach = (p->flags & ST_SEEN_ATTACH) != 0;
	c->local = p->local;
	c->peer = p->peer;
	if ((p->flags & ST_SEEN_LISTENING) ||
	    (c->kind == ST_KIND_TCP && p->tcp_state == TCP_LISTEN)) {
		c->role = ST_ROLE_LISTENER;
		set_state(c, ST_ST_LISTEN, r->ts);
		listening(m, c);
		return;
	}
	if (c->peer.family && (c->kind == ST_KIND_TCP ||
			       c->kind == ST_KIND_UNIX)) {
		struct st_addr k = lport_key(c, &c->local);
		struct st_lport *l;
		HASH_FIND(hh, m->lports, &k, sizeof(k), l);
		c->role = (c->kind == ST_KIND_TCP && l) ||
					  (c->kind == ST_KIND_UNIX &&
					   c->local.data[0])
				  ? ST_ROLE_SERVER
				  : ST_ROLE_CLIENT;
	}
	if (c->kind != ST_KIND_TCP)
		return;
	uint8_t st = from_tcp(p->tcp_state);
	if (st == ST_ST_NONE && c->peer.family)
		st = ST_ST_ESTABLISHED; /* no TCP_INFO: it is connected */
	if (st != ST_ST_NONE)
		set_state(c, st, r->ts);
	if (st == ST_ST_CLOSE_WAIT) {
		c->closed_first = -1;
		c->eof_ts = r->ts;
	} else if (st == ST_ST_FIN_WAIT) {
		c->closed_first = 1;
		c->fin_ts = r->ts;
	}
}

void st_model_mark_attach(struct st_model *m)
{
	struct st_conn *c, *tmp;

	HASH_ITER(hh, m->conns, c, tmp)
	{
		if (c->done) {
			c->hidden = true;
			continue;
		}
		c->before_attach = true;
		c->nev = 0;
		c->ev_dropped = 0;
		c->calls = c->bytes_in = c->bytes_out = 0;
		if (c->nst) {
			/* the timeline starts in the state it is in now */
			c->st[0].state = c->state;
			c->st[0].ts = m->now;
			c->nst = 1;
		}
	}
}

int st_model_init(struct st_model *m, struct st_traceset *set,
		  st_emit_fn emit, st_finding_fn fnd, void *arg)
{
	memset(m, 0, sizeof(*m));
	m->set = set;
	m->emit = emit;
	m->finding = fnd;
	m->arg = arg;
	m->ev_cap = 10000;
	return 0;
}

void st_model_add(struct st_model *m, const struct st_rec *r, int file)
{
	uint64_t end = st_rec_end(r);
	bool ok = !(r->flags & ST_REC_ERR);
	struct st_conn *c = NULL;
	struct st_ev *e = NULL;
	uint32_t before = 0, before_other = 0;

	if (!m->t0)
		m->t0 = r->ts;
	if (end > m->now)
		m->now = end;
	end_exited_before(m, r->ts);

	switch (r->call) {
	case ST_CALL_socket:
	case ST_CALL_socketpair:
		if (!ok)
			return;
		c = create(m, r->conn, file, r->fd, r->ts);
		c->kind = kind_of(r->u.sock.domain, r->u.sock.socktype);
		fd_add(m, file, r->fd, c);
		if (r->call == ST_CALL_socketpair) {
			struct st_conn *d =
				create(m, r->u.sock.conn2, file, r->u.sock.fd2,
				       r->ts);
			d->kind = c->kind;
			c->role = d->role = ST_ROLE_PAIR;
			fd_add(m, file, r->u.sock.fd2, d);
			link_ends(c, d);
		}
		break;
	case ST_CALL_seen:
		c = create(m, r->conn, file, r->fd, r->ts);
		do_seen(m, c, r);
		fd_add(m, file, r->fd, c);
		break;
	case ST_CALL_fork:
		if (ok)
			do_fork(m, file, (pid_t)r->ret);
		return;
	default:
		break;
	}
	if (!c)
		c = find(m, r->conn);
	if (!c && r->conn) {
		/* its creation was lost (ring): start from what we see */
		c = create(m, r->conn, file, r->fd, r->ts);
		c->before_trace = true;
		fd_add(m, file, r->fd, c);
	}
	if (c) {
		before = c->nst;
		before_other = c->other ? c->other->nst : 0;
		c->last_ts = end;
		c->last_call = r->call;
	}

	switch (r->call) {
	case ST_CALL_bind:
		if (ok && c)
			c->local = r->u.addr.addr;
		break;
	case ST_CALL_listen:
		if (!ok || !c)
			break;
		c->role = ST_ROLE_LISTENER;
		c->backlog = r->u.listen.backlog;
		c->effective_backlog = r->u.listen.effective_backlog;
		c->somaxconn = r->u.listen.somaxconn;
		c->queue_max = (uint32_t)c->effective_backlog;
		if (r->u.listen.local.family)
			c->local = r->u.listen.local;
		set_state(c, ST_ST_LISTEN, end);
		listening(m, c);
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
		if (c && ok && c->connect_pending) {
			if (r->u.sockopt.value == 0) {
				established(c, end);
			} else if (r->u.sockopt.value != EINPROGRESS &&
				   r->u.sockopt.value != EALREADY) {
				c->connect_pending = false;
				c->connect_err = r->u.sockopt.value;
				set_state(c, ST_ST_CLOSED, end);
			}
		}
		break;
	case ST_CALL_shutdown:
		if (c)
			do_shutdown(c, r, end);
		break;
	case ST_CALL_close:
	case ST_CALL_fclose:
	case ST_CALL_close_range:
	case ST_CALL_closefrom:
		if (c) {
			c->close_tcp_state = r->call == ST_CALL_close_range ||
						     r->call ==
							     ST_CALL_closefrom
					     ? r->u.range.tcp_state
					     : r->u.close.tcp_state;
			/* the record comes before the drop: its line shows
			 * the states the close causes */
			e = add_ev(m, c, r, file);
			fd_close(m, file, r->fd, c, end);
		}
		goto mark;
	case ST_CALL_dup:
	case ST_CALL_dup2:
	case ST_CALL_dup3:
	case ST_CALL_fcntl:
		if (ok && r->u.dup.replaced_conn) {
			struct st_conn *rc = find(m, r->u.dup.replaced_conn);
			if (rc)
				fd_close(m, file, (int)r->ret, rc, end);
			if (rc && rc != c)
				add_ev(m, rc, r, file);
		}
		if (ok && c)
			fd_add(m, file, (int)r->ret, c);
		break;
	default:
		if (c && st_call_dir[r->call] != ST_DIR_NONE)
			do_data(c, r, end);
	}
	if (c)
		e = add_ev(m, c, r, file);
mark:
	if (e && c) {
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
	flush(m);
}

/* Is the process behind trace file T alive (same boot, same program)? */
static bool alive(const struct st_trace *t)
{
	char path[64], comm[32] = "";

	if (kill(t->hdr.pid, 0) != 0 && errno != EPERM)
		return false;
	/* a zombie has let go of its fds: its parent has not reaped it */
	char st = st_proc_state(t->hdr.pid, NULL);
	if (st == 'Z' || st == 'X')
		return false;
	snprintf(path, sizeof(path), "/proc/%d/comm", t->hdr.pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = 0;
	fclose(f);
	comm[strcspn(comm, "\n")] = 0;
	return !strncmp(comm, t->hdr.comm, sizeof(t->hdr.comm));
}

static int by_open(const void *a, const void *b)
{
	const struct st_conn *x = *(struct st_conn *const *)a;
	const struct st_conn *y = *(struct st_conn *const *)b;

	return x->open_ts < y->open_ts ? -1 : x->open_ts > y->open_ts;
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
		char loss[256];
		if (final && st_trace_loss(t, true, loss, sizeof(loss)))
			finding(m, "lost_records", 0, i, "%s", loss);
		if (m->ended[i] && !final)
			continue;
		bool newer = false;
		for (int j = 0; j < m->set->n; j++)
			if (j != i && m->set->t[j].hdr.pid == t->hdr.pid &&
			    m->set->t[j].hdr.mono_ns > t->hdr.mono_ns)
				newer = true;
		uint8_t end = t->hdr.exit_ts || newer ? ST_END_EXIT
			      : alive(t)	     ? ST_END_OPEN
						     : ST_END_DEATH;
		if (end == ST_END_OPEN)
			continue;
		end_process(m, i, t->hdr.exit_ts ? t->hdr.exit_ts : death,
			    end);
	}
}

void st_model_reap(struct st_model *m, uint64_t now)
{
	end_gone(m, false, now > m->now ? now : m->now);
}

struct st_conn *st_model_open_next(const struct st_model *m,
				   const struct st_conn *c)
{
	return c ? c->hh.next : m->conns;
}

void st_model_judge_open(struct st_model *m, struct st_conn *c, uint64_t now,
			 st_finding_fn fn, void *arg)
{
	st_finding_fn keep = m->finding;
	void *keep_arg = m->arg;

	m->finding = fn;
	m->arg = arg;
	judge(m, c, now, true);
	m->finding = keep;
	m->arg = keep_arg;
}

void st_model_finish(struct st_model *m)
{
	end_gone(m, true, m->now);
	/* what is left is open at the end of the trace, or waited for a
	 * join that never came: emit it all, oldest first */
	m->finishing = true;
	size_t n = HASH_COUNT(m->conns), k = 0;
	struct st_conn **all = xcalloc(n ? n : 1, sizeof(*all));
	struct st_conn *c, *tmp;
	HASH_ITER(hh, m->conns, c, tmp)
	{
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
	if (!c)
		return;
	/* keep it for the next connection, with its timeline buffers unless
	 * they grew large (a long timeline is not the common case) */
	if (c->capev > 64) {
		free(c->ev);
		c->ev = NULL;
		c->capev = 0;
	}
	if (c->capst > 64) {
		free(c->st);
		c->st = NULL;
		c->capst = 0;
	}
	c->other = m->spare_conn;
	m->spare_conn = c;
}

void st_model_free(struct st_model *m)
{
	struct st_conn *c, *ct;
	struct st_tuple *t, *tt;
	struct st_fdref *f, *ft;
	struct st_lport *l, *lt;

	HASH_ITER(hh, m->conns, c, ct)
	{
		HASH_DEL(m->conns, c);
		st_conn_free(m, c);
	}
	while ((c = m->spare_conn)) {
		m->spare_conn = c->other;
		free(c->ev);
		free(c->st);
		free(c);
	}
	HASH_ITER(hh, m->tuples, t, tt)
	tuple_free(m, t);
	HASH_ITER(hh, m->fds, f, ft)
	{
		HASH_DEL(m->fds, f);
		free(f);
	}
	spare_free(&m->spare_fd);
	spare_free(&m->spare_tuple);
	spare_free(&m->spare_waiter);
	HASH_ITER(hh, m->lports, l, lt)
	{
		HASH_DEL(m->lports, l);
		free(l);
	}
	free(m->ready);
	free(m->exits);
	free(m->ended);
}
