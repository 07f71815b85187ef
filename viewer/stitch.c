/* SPDX-License-Identifier: MIT */
/* Stitching: the two ends of a connection joined when both were traced. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "stitch.h"
#include "findings.h"
#include "tcpstate.h"

/*
 * Ends waiting for their other end, keyed by (client, server) identity.
 * Usually the client's connect returns first, but on loopback the
 * server's accept can return before it: either side may wait.  All
 * waiters of a key are on one side; Unix ones queue in order, as the
 * kernel's accept queue does.
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

/* Where traced processes listen (TCP: a port; Unix: a path). */
struct st_lport {
	struct st_addr key;
	UT_hash_handle hh;
	int listeners;
	struct st_conn *lis; /* the first of them still listening, or NULL */
};

/* *N = A, v4-mapped v6 addresses as plain v4, so both ends key alike.
 * Written in place: a copy built on the stack and copied again made the
 * copy's wide loads wait on its narrow stores (a store-forwarding stall
 * on every record that looks a tuple up). */
static void norm(struct st_addr *n, const struct st_addr *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0,    0,
					    0, 0, 0, 0, 0xff, 0xff };

	if (a->family == AF_INET6 && !memcmp(a->data, mapped, 12)) {
		memset(n, 0, sizeof(*n));
		n->family = AF_INET;
		n->port = a->port;
		memcpy(n->data, a->data + 12, 4);
	} else {
		*n = *a;
	}
}

void st_stitch_tuple(const struct st_conn *c, struct st_addr k[2])
{
	bool srv = c->role == ST_ROLE_SERVER;

	if (c->kind == ST_KIND_UNIX) {
		int32_t pid = c->join_pid;
		memset(&k[0], 0, sizeof(k[0]));
		k[0].family = KEY_PID;
		memcpy(k[0].data, &pid, sizeof(pid));
	} else {
		norm(&k[0], srv ? &c->peer : &c->local);
	}
	norm(&k[1], srv ? &c->local : &c->peer);
}

static void tuple_free(struct st_stitch *s, struct st_tuple *t)
{
	struct st_waiter *w = t->head, *n;

	for (; w; w = n) {
		n = w->next;
		st__spare_put(&s->spare_waiter, w);
	}
	HASH_DEL(s->tuples, t);
	st__spare_put(&s->spare_tuple, t);
}

void st_stitch_forget(struct st_stitch *s, struct st_conn *c)
{
	struct st_addr k[2];
	struct st_tuple *t;

	st_stitch_tuple(c, k);
	HASH_FIND(hh, s->tuples, k, sizeof(struct st_addr) * 2, t);
	if (!t)
		return;
	for (struct st_waiter **p = &t->head; *p; p = &(*p)->next) {
		struct st_waiter *w = *p;
		if (w->conn != c->id)
			continue;
		*p = w->next;
		if (t->tail == &w->next)
			t->tail = p;
		st__spare_put(&s->spare_waiter, w);
		break;
	}
	if (!t->head)
		tuple_free(s, t);
}

/* *K = the listening key of address A of C (port, or Unix path). */
static void lport_key(struct st_addr *k, const struct st_conn *c,
		      const struct st_addr *a)
{
	if (c->kind == ST_KIND_UNIX) {
		norm(k, a);
	} else {
		memset(k, 0, sizeof(*k));
		k->port = a->port;
	}
}

void st_stitch_listen(struct st_stitch *s, struct st_conn *c)
{
	struct st_addr k;
	struct st_lport *l;

	lport_key(&k, c, &c->local);
	if (c->registered ||
	    (c->kind != ST_KIND_TCP && c->kind != ST_KIND_UNIX))
		return;
	HASH_FIND(hh, s->lports, &k, sizeof(k), l);
	if (!l) {
		l = st__xcalloc(1, sizeof(*l));
		l->key = k;
		HASH_ADD(hh, s->lports, key, sizeof(k), l);
	}
	l->listeners++;
	if (!l->lis)
		l->lis = c;
	c->registered = true;
}

/* Releases the clients waiting at listening key K. */
static void reset_queued(struct st_stitch *s, struct st_conntab *ct,
			 const struct st_addr *k, st_release_fn fn, void *arg)
{
	struct st_tuple *t, *tmp;

	HASH_ITER(hh, s->tuples, t, tmp) {
		struct st_addr tk = { .port = t->key[1].port };
		if (t->key[0].family == KEY_PID)
			tk = t->key[1];
		if (t->server || memcmp(&tk, k, sizeof(*k)))
			continue;
		for (struct st_waiter *w = t->head; w; w = w->next) {
			struct st_conn *o = st_conntab_find(ct, w->conn);
			if (o && !o->other) {
				o->awaiting_join = false;
				fn(o, arg);
			}
		}
		tuple_free(s, t);
	}
}

void st_stitch_unlisten(struct st_stitch *s, struct st_conntab *ct,
			struct st_conn *c, st_release_fn fn, void *arg)
{
	struct st_addr k;
	struct st_lport *l;

	lport_key(&k, c, &c->local);
	if (!c->registered)
		return;
	c->registered = false;
	HASH_FIND(hh, s->lports, &k, sizeof(k), l);
	if (l && --l->listeners > 0 && l->lis == c)
		l->lis = NULL;
	if (!l || l->listeners > 0)
		return;
	/* the clients it leaves are released while it is still known,
	 * so that they count in its findings (st_stitch_note) */
	reset_queued(s, ct, &k, fn, arg);
	HASH_DEL(s->lports, l);
	free(l);
}

void st_stitch_note(const struct st_stitch *s, struct st_conn *c)
{
	struct st_conn *e[2] = { c, c->other };

	for (int i = 0; i < 2; i++) {
		struct st_lport *l;
		struct st_addr k;
		if (!e[i] || e[i]->role != ST_ROLE_CLIENT)
			continue;
		lport_key(&k, e[i], &e[i]->peer);
		HASH_FIND(hh, s->lports, &k, sizeof(k), l);
		if (l)
			st_overflow_note(l->lis, e[i]);
	}
}

bool st_stitch_listened(const struct st_stitch *s, const struct st_conn *c,
			const struct st_addr *a)
{
	struct st_addr k;
	struct st_lport *l;

	lport_key(&k, c, a);
	HASH_FIND(hh, s->lports, &k, sizeof(k), l);
	return l != NULL;
}

bool st_stitch_link(struct st_conn *a, struct st_conn *b)
{
	/* an end queued for emission goes out with the other end it has:
	 * relinking it would emit one end twice and another never */
	if (a == b || a->emitted || b->emitted)
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
	if (!st_stitch_link(cl, srv))
		return;
	cl->awaiting_join = false;
	srv->awaiting_join = false;
	st_tcp_joined(cl, srv);
}

/* Joins C with the oldest live waiter of T (on the other side); false
 * when none is left (T is then freed). */
static bool join_waiter(struct st_stitch *s, struct st_conntab *ct,
			struct st_tuple *t, struct st_conn *c)
{
	bool srv = c->role == ST_ROLE_SERVER;

	while (t->head) {
		struct st_waiter *w = t->head;
		struct st_conn *o = st_conntab_find(ct, w->conn);
		t->head = w->next;
		if (!t->head)
			t->tail = &t->head;
		st__spare_put(&s->spare_waiter, w);
		if (o && !o->other) {
			if (!t->head)
				tuple_free(s, t);
			join(srv ? o : c, srv ? c : o);
			return true;
		}
	}
	tuple_free(s, t);
	return false;
}

void st_stitch_pair(struct st_stitch *s, struct st_conntab *ct,
		    struct st_conn *c)
{
	struct st_tuple *t;
	struct st_addr k[2];
	bool srv = c->role == ST_ROLE_SERVER;

	if (c->other)
		return; /* joined already */
	st_stitch_tuple(c, k);
	HASH_FIND(hh, s->tuples, k, sizeof(k), t);
	if (t && t->server != srv) {
		if (join_waiter(s, ct, t, c))
			return;
		t = NULL;
	} else if (t && c->kind != ST_KIND_UNIX) {
		/* the same 4-tuple reused: the newer one waits */
		tuple_free(s, t);
		t = NULL;
	}
	if (!t) {
		t = st__spare_get(&s->spare_tuple, sizeof(*t));
		memcpy(t->key, k, sizeof(k));
		t->server = srv;
		t->tail = &t->head;
		HASH_ADD(hh, s->tuples, key, sizeof(t->key), t);
	}
	struct st_waiter *w = st__spare_get(&s->spare_waiter, sizeof(*w));
	w->conn = c->id;
	*t->tail = w;
	t->tail = &w->next;
	/* a client of a traced listener will be accepted: wait for that */
	if (!srv && st_stitch_listened(s, c, &c->peer))
		c->awaiting_join = true;
}

void st_stitch_free(struct st_stitch *s)
{
	struct st_tuple *t, *tt;
	struct st_lport *l, *lt;

	HASH_ITER(hh, s->tuples, t, tt)
		tuple_free(s, t);
	st__spare_free(&s->spare_tuple);
	st__spare_free(&s->spare_waiter);
	HASH_ITER(hh, s->lports, l, lt) {
		HASH_DEL(s->lports, l);
		free(l);
	}
}
