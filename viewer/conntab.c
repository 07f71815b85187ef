/* SPDX-License-Identifier: MIT */
/* The connection table: ends by id, fds that name them, timeline lines. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "conntab.h"
#include "merge.h"
#include "records.h"

const char *const st_kind_name[] = { "other", "tcp", "udp", "unix" };
const char *const st_role_name[] = { "socket", "listener", "client", "server",
				     "pair" };

uint8_t st_conn_kind(int domain, int type)
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

uint8_t st_rec_kind(const struct st_rec *r)
{
	static const int dom[] = { 0, AF_INET, AF_INET6, AF_UNIX };
	static const int type[] = { 0, SOCK_STREAM, SOCK_DGRAM, 0 };

	if (!(r->sock & ST_SOCK_KNOWN) || ST_SOCK_FAM(r->sock) > 3 ||
	    ST_SOCK_TYPE(r->sock) > 3)
		return ST_KIND_OTHER;
	return st_conn_kind(dom[ST_SOCK_FAM(r->sock)],
			    type[ST_SOCK_TYPE(r->sock)]);
}

void st__grow(void **p, uint32_t *cap, size_t size)
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

void *st__xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p) {
		fprintf(stderr, "socktrace: out of memory\n");
		exit(1);
	}
	return p;
}

void *st__spare_get(void **list, size_t size)
{
	void *x = *list;

	if (!x)
		return st__xcalloc(1, size);
	*list = *(void **)x;
	memset(x, 0, size);
	return x;
}

void st__spare_put(void **list, void *x)
{
	*(void **)x = *list;
	*list = x;
}

void st__spare_free(void **list)
{
	while (*list) {
		void *x = *list;
		*list = *(void **)x;
		free(x);
	}
}

void st_conntab_init(struct st_conntab *t, uint32_t ev_cap)
{
	memset(t, 0, sizeof(*t));
	t->ev_cap = ev_cap;
}

struct st_conn *st_conntab_find(const struct st_conntab *t, uint64_t id)
{
	struct st_conn *c;

	HASH_FIND(hh, t->conns, &id, sizeof(id), c);
	if (!c && t->aliases)
		HASH_FIND(hh_alias, t->aliases, &id, sizeof(id), c);
	return c;
}

void st_conntab_alias(struct st_conntab *t, struct st_conn *c, uint64_t id)
{
	if (c->alias_id)
		HASH_DELETE(hh_alias, t->aliases, c);
	c->alias_id = id;
	HASH_ADD(hh_alias, t->aliases, alias_id, sizeof(c->alias_id), c);
}

struct st_conn *st_conntab_get(struct st_conntab *t, uint64_t id, int file,
			       int fd, uint64_t ts)
{
	struct st_conn *c = st_conntab_find(t, id);

	if (c)
		return c;
	c = t->spare_conn;
	if (c) {
		/* a connection freed before: its timeline buffers are kept */
		struct st_ev *ev = c->ev;
		struct st_stchange *st = c->st;
		uint32_t capev = c->capev, capst = c->capst;
		t->spare_conn = c->other;
		memset(c, 0, sizeof(*c));
		c->ev = ev;
		c->capev = capev;
		c->st = st;
		c->capst = capst;
	} else {
		c = st__xcalloc(1, sizeof(*c));
	}
	c->id = id;
	c->file = file;
	c->fd = fd;
	c->open_ts = ts;
	HASH_ADD(hh, t->conns, id, sizeof(c->id), c);
	return c;
}

void st_conntab_remove(struct st_conntab *t, struct st_conn *c)
{
	HASH_DEL(t->conns, c);
	if (c->alias_id) {
		HASH_DELETE(hh_alias, t->aliases, c);
		c->alias_id = 0;
	}
}

void st_conntab_release(struct st_conntab *t, struct st_conn *c)
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
	c->other = t->spare_conn;
	t->spare_conn = c;
}

struct st_conn *st_conntab_fd_add(struct st_conntab *t, int file, int fd,
				  struct st_conn *c)
{
	struct st_fdkey k = { file, fd };
	struct st_fdref *f;
	struct st_conn *lost = NULL;

	HASH_FIND(hh, t->fds, &k, sizeof(k), f);
	if (f && f->conn == c)
		return NULL; /* the same socket seen again on its fd */
	if (f) {
		/* an fd number reused behind our back: the old ref is gone */
		if (--f->conn->refs <= 0) {
			lost = f->conn;
			lost->end_file = file;
			lost->end_fd = fd;
		}
	} else {
		f = st__spare_get(&t->spare_fd, sizeof(*f));
		f->key = k;
		HASH_ADD(hh, t->fds, key, sizeof(k), f);
	}
	f->conn = c;
	c->refs++;
	return lost;
}

struct st_conn *st_conntab_fd_get(const struct st_conntab *t, int file, int fd)
{
	struct st_fdkey k = { file, fd };
	struct st_fdref *f;

	HASH_FIND(hh, t->fds, &k, sizeof(k), f);
	return f ? f->conn : NULL;
}

struct st_conn *st_conntab_fd_drop(struct st_conntab *t, int file, int fd)
{
	struct st_fdkey k = { file, fd };
	struct st_fdref *f;

	HASH_FIND(hh, t->fds, &k, sizeof(k), f);
	if (!f)
		return NULL;
	struct st_conn *c = f->conn;
	HASH_DEL(t->fds, f);
	st__spare_put(&t->spare_fd, f);
	if (--c->refs > 0)
		return NULL;
	c->end_file = file;
	c->end_fd = fd;
	return c;
}

/* A run: same call, same process, succeeded with data, and nothing in
 * between (EOF and errors stay lines of their own). */
static bool extends(const struct st_ev *l, const struct st_rec *r, int file)
{
	return st_call_dir[r->call] != ST_DIR_NONE && l->r.call == r->call &&
	       l->file == file && st_rec_bytes(r) > 0 &&
	       st_rec_bytes(&l->r) > 0 && l->self_from == l->self_to &&
	       l->other_from == l->other_to;
}

struct st_ev *st_conntab_add_ev(struct st_conntab *t, struct st_conn *c,
				const struct st_rec *r, int file)
{
	int64_t n = st_call_dir[r->call] ? st_rec_bytes(r) : 0;
	uint64_t bytes = n > 0 ? (uint64_t)n : 0;
	c->calls++;
	if (c->nev && extends(&c->ev[c->nev - 1], r, file)) {
		struct st_ev *l = &c->ev[c->nev - 1];
		l->count++;
		l->bytes += bytes;
		l->end = st_rec_end(r);
		return l;
	}
	if (c->nev >= t->ev_cap) {
		c->ev_dropped++;
		return NULL;
	}
	if (c->nev == c->capev)
		st__grow((void **)&c->ev, &c->capev, sizeof(*c->ev));
	struct st_ev *e = &c->ev[c->nev++];
	e->r = *r;
	e->file = file;
	e->count = 1;
	e->bytes = bytes;
	e->end = st_rec_end(r);
	e->self_from = e->self_to = e->other_from = e->other_to = 0;
	return e;
}

void st_conntab_mark_attach(struct st_conntab *t, uint64_t now)
{
	struct st_conn *c, *tmp;

	HASH_ITER(hh, t->conns, c, tmp) {
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
			c->st[0].ts = now;
			c->nst = 1;
		}
	}
}

void st_conntab_unseen_note(struct st_conntab *t, uint64_t id)
{
	t->unseen[t->nunseen++ % ST_UNSEEN_KEEP] = id;
}

bool st_conntab_unseen_lately(const struct st_conntab *t, uint64_t id)
{
	for (unsigned i = 0; i < t->nunseen && i < ST_UNSEEN_KEEP; i++)
		if (t->unseen[i] == id)
			return true;
	return false;
}

int st_conntab_fd_find(const struct st_conntab *t, int file,
		       bool (*match)(const struct st_conn *, const void *),
		       const void *arg)
{
	struct st_fdref *f, *tmp;
	int fd = -1;

	HASH_ITER(hh, t->fds, f, tmp) {
		if (f->key.file == file && (fd < 0 || f->key.fd < fd) &&
		    match(f->conn, arg))
			fd = f->key.fd;
	}
	return fd;
}

void st_conntab_fd_copy(struct st_conntab *t, int from, int to)
{
	struct st_fdref *f, *tmp;

	HASH_ITER(hh, t->fds, f, tmp) {
		if (f->key.file == from)
			st_conntab_fd_add(t, to, f->key.fd, f->conn);
	}
}

void st_conntab_free(struct st_conntab *t)
{
	struct st_conn *c, *ct;
	struct st_fdref *f, *ft;

	HASH_CLEAR(hh_alias, t->aliases);
	HASH_ITER(hh, t->conns, c, ct) {
		HASH_DEL(t->conns, c);
		st_conntab_release(t, c);
	}
	while ((c = t->spare_conn)) {
		t->spare_conn = c->other;
		free(c->ev);
		free(c->st);
		free(c);
	}
	HASH_ITER(hh, t->fds, f, ft) {
		HASH_DEL(t->fds, f);
		free(f);
	}
	st__spare_free(&t->spare_fd);
}
