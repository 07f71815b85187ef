/* SPDX-License-Identifier: MIT */
/* TIME_WAIT ends held back until their 60 s pass or their 4-tuple is reused. */
#include <stdio.h>
#include <stdlib.h>

#include "conntab.h"
#include "stitch.h"
#include "tcpstate.h"
#include "twhold.h"

struct st_twent {
	struct st_addr key[2];
	UT_hash_handle hh;
	struct st_conn *c; /* NULL once let go of (the slot waits in q) */
	uint64_t until;	   /* when its last TIME_WAIT ends by itself */
	uint32_t lines;	   /* its timeline lines, both ends */
};

/*
 * Whether C waits for a reuse: an end in TIME_WAIT, and a client that
 * bound its port itself (SO_REUSEADDR), the way a program takes the same
 * 4-tuple again at once.  Ephemeral ports are not held for: holding every
 * connection cost the view twice its time (memory gone cold in the hold).
 */
static bool wants(const struct st_conn *c)
{
	const struct st_conn *cl = c->role == ST_ROLE_CLIENT ? c : c->other;

	return c->kind == ST_KIND_TCP && cl && cl->role == ST_ROLE_CLIENT &&
	       cl->bound_port &&
	       (c->state == ST_ST_TIME_WAIT ||
		(c->other && c->other->state == ST_ST_TIME_WAIT));
}

/* When the TIME_WAIT of C's ends ends by itself (60 s after it began). */
static uint64_t tw_until(const struct st_conn *c)
{
	uint64_t until = 0;
	const struct st_conn *x = c;

	for (int k = 0; x && k < 2; k++, x = x->other)
		if (x->state == ST_ST_TIME_WAIT &&
		    x->st[x->nst - 1].ts + ST_TIME_WAIT_NS > until)
			until = x->st[x->nst - 1].ts + ST_TIME_WAIT_NS;
	return until;
}

/* Lets go of E's connection; E stays in q until the head passes it. */
static void let_go(struct st_twhold *h, struct st_twent *e, st_twhold_fn fn,
		   void *arg)
{
	struct st_conn *c = e->c;

	if (!c)
		return;
	HASH_DEL(h->by_tuple, e);
	e->c = NULL;
	h->live--;
	h->lines -= e->lines;
	fn(c, arg);
}

/* Frees the slots at the head that were let go of. */
static void trim(struct st_twhold *h)
{
	while (h->head < h->n && !h->q[h->head]->c)
		free(h->q[h->head++]);
	if (h->head == h->n) {
		h->head = h->n = 0;
	} else if (h->head > h->cap / 2) {
		memmove(h->q, h->q + h->head, (h->n - h->head) * sizeof(*h->q));
		h->n -= h->head;
		h->head = 0;
	}
}

bool st_twhold_add(struct st_twhold *h, struct st_conn *c, st_twhold_fn fn,
		   void *arg)
{
	struct st_twent *e, *old;

	if (!wants(c))
		return false;
	e = st__xcalloc(1, sizeof(*e));
	st_stitch_tuple(c, e->key);
	HASH_FIND(hh, h->by_tuple, e->key, sizeof(e->key), old);
	if (old) /* the same tuple again, its reuse unseen: it goes first */
		let_go(h, old, fn, arg);
	e->lines = c->nev + (c->other ? c->other->nev : 0);
	while (h->live && (h->live >= ST_TWHOLD_MAX ||
			   h->lines + e->lines > ST_TWHOLD_LINES)) {
		trim(h);
		let_go(h, h->q[h->head], fn, arg);
	}
	trim(h);
	e->c = c;
	e->until = tw_until(c);
	h->lines += e->lines;
	HASH_ADD(hh, h->by_tuple, key, sizeof(e->key), e);
	if (h->n == h->cap)
		st__grow((void **)&h->q, &h->cap, sizeof(*h->q));
	h->q[h->n++] = e;
	h->live++;
	return true;
}

void st_twhold_expire(struct st_twhold *h, uint64_t now, st_twhold_fn fn,
		      void *arg)
{
	while (h->head < h->n) {
		struct st_twent *e = h->q[h->head];
		if (e->c && e->until > now)
			break;
		let_go(h, e, fn, arg);
		trim(h);
	}
}

void st_twhold_reuse(struct st_twhold *h, const struct st_conn *n, uint64_t ts,
		     int file, st_twhold_fn fn, void *arg)
{
	struct st_addr k[2];
	struct st_twent *e;

	if (!h->live)
		return;
	st_stitch_tuple(n, k);
	HASH_FIND(hh, h->by_tuple, k, sizeof(k), e);
	if (!e)
		return;
	struct st_conn *x = e->c;
	for (int i = 0; x && i < 2; i++, x = x->other)
		st_tcp_tw_reused(x, ts,
				 x->file == file ? ST_SRC_call : ST_SRC_peer,
				 n->id);
	let_go(h, e, fn, arg);
	trim(h);
}

void st_twhold_all(struct st_twhold *h, st_twhold_fn fn, void *arg)
{
	while (h->head < h->n) {
		let_go(h, h->q[h->head], fn, arg);
		trim(h);
	}
}

void st_twhold_free(struct st_twhold *h)
{
	for (uint32_t i = h->head; i < h->n; i++) {
		if (h->q[i]->c)
			HASH_DEL(h->by_tuple, h->q[i]);
		free(h->q[i]);
	}
	free(h->q);
	memset(h, 0, sizeof(*h));
}
