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
	if (--c->refs <= 0)
		socket_closed(m, c, ts, end);
	return c;
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

/* The process and connection names findings about C start with; made
 * only when there is a finding (most ends have none). */
static void names(const struct st_model *m, const struct st_conn *c,
		  char p[48], char id[24])
{
	if (p[0])
		return;
	st_proc_name(&m->set->t[c->file], p);
	st_conn_str(c->id, id);
}

/* Findings about one finished end, grounded in the TCP facts. */
static void judge(struct st_model *m, struct st_conn *c)
{
	char p[48] = "", id[24], b[16];

	if (c->connect_err) {
		names(m, c, p, id);
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
						       : m->now - c->eof_ts;
		char how[64];
		if (c->end != ST_END_CLOSED || gap > CLOSE_WAIT_NS) {
			if (c->end == ST_END_CLOSED)
				snprintf(how, sizeof(how),
					 "closed it only %.1f s later",
					 gap / 1e9);
			else
				snprintf(how, sizeof(how), "never closed it");
			names(m, c, p, id);
			finding(m, "close_wait", c->id, c->file,
				"%s connection %s read EOF (the peer closed) "
				"but %s: the socket sits in CLOSE_WAIT until "
				"the program closes it; many of these mean it "
				"forgets to close",
				p, id, how);
		}
	}
	if (c->kind == ST_KIND_TCP && c->role == ST_ROLE_SERVER &&
	    c->closed_first > 0) {
		names(m, c, p, id);
		finding(m, "server_time_wait", c->id, c->file,
			"%s server connection %s closed first: the active "
			"closer gets TIME_WAIT (60 s), so it is held on the "
			"server; let clients close first, or use keep-alive",
			p, id);
	}
	if (c->end == ST_END_EXIT) {
		names(m, c, p, id);
		finding(m, "fd_leak", c->id, c->file,
			"%s exited with connection %s (fd %d) still open: "
			"the program never closed it (the kernel did at exit)",
			p, id, c->fd);
	}
	if (c->role == ST_ROLE_LISTENER && c->backlog > 0 &&
	    c->effective_backlog > 0 && c->effective_backlog < c->backlog) {
		names(m, c, p, id);
		finding(m, "backlog_clipped", c->id, c->file,
			"%s listener %s asked for backlog %d but got %d: "
			"the accept queue is capped by net.core.somaxconn "
			"(%d)",
			p, id, c->backlog, c->effective_backlog, c->somaxconn);
	}
	if (c->queue_full) {
		names(m, c, p, id);
		finding(m, "accept_queue_full", c->id, c->file,
			"%s listener %s: its accept queue reached its limit "
			"(%u): further handshakes are dropped and clients "
			"wait (SYN retries) until the program calls accept",
			p, id, c->queue_max);
	}
}

/* Queues C (with its other end) for emission once everything about it
 * is known; st_model_add emits after it is done with the record, so no
 * connection is freed while a record is being applied to it. */
static void try_emit(struct st_model *m, struct st_conn *c)
{
	if (c->emitted || !c->done || c->awaiting_join)
		return;
	if (c->other && (!c->other->done || c->other->awaiting_join))
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
		judge(m, c);
		HASH_DEL(m->conns, c);
		if (c->other) {
			judge(m, c->other);
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

static void join(struct st_conn *cl, struct st_conn *srv)
{
	cl->other = srv;
	srv->other = cl;
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
	HASH_ITER(hh, m->fds, f, tmp)
	{
		if (f->key.file == file)
			fd_add(m, cf, f->key.fd, f->conn);
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
			c->other = d;
			d->other = c;
		}
		break;
	case ST_CALL_seen:
		c = create(m, r->conn, file, r->fd, r->ts);
		c->kind = kind_of(r->u.seen.domain, r->u.seen.socktype);
		c->before_trace = true;
		c->local = r->u.seen.local;
		c->peer = r->u.seen.peer;
		fd_add(m, file, r->fd, c);
		if (c->kind == ST_KIND_TCP && c->peer.family)
			set_state(c, ST_ST_ESTABLISHED, r->ts);
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
			fd_drop(m, file, r->fd, end, ST_END_CLOSED);
		}
		goto mark;
	case ST_CALL_dup:
	case ST_CALL_dup2:
	case ST_CALL_dup3:
	case ST_CALL_fcntl:
		if (ok && r->u.dup.replaced_conn) {
			struct st_conn *rc =
				fd_drop(m, file, (int)r->ret, end,
					ST_END_CLOSED);
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

void st_model_finish(struct st_model *m)
{
	for (int i = 0; i < m->set->n; i++) {
		const struct st_trace *t = &m->set->t[i];
		if (t->lost + t->missing)
			finding(m, "lost_records", 0, i,
				"%.16s[%d] lost %llu records%s: its timelines "
				"may be incomplete",
				t->hdr.comm, t->hdr.pid,
				(unsigned long long)(t->lost + t->missing),
				t->hdr.policy == ST_POLICY_RING && t->lost
					? " (its ring was full: raise "
					  "SOCKTRACE_MAX_SIZE)"
					: "");
		/* a process that ended let go of its fds: at exit (a leak)
		 * or at death (killed); an exec'd image ended too */
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
		uint64_t ts = t->hdr.exit_ts ? t->hdr.exit_ts : m->now;
		struct st_fdref *f, *tmp;
		HASH_ITER(hh, m->fds, f, tmp)
		{
			if (f->key.file == i)
				fd_drop(m, i, f->key.fd, ts, end);
		}
		flush(m);
	}
	/* what is left is open at the end of the trace, or waited for a
	 * join that never came: emit it all, oldest first */
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
}
