/* SPDX-License-Identifier: MIT */
/* The model's processes: forks, exec, and exits in their order. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

static int by_exit(const void *a, const void *b, void *arg)
{
	const struct st_traceset *set = arg;
	uint64_t x = set->t[*(const int *)a].hdr.exit_ts;
	uint64_t y = set->t[*(const int *)b].hdr.exit_ts;

	return x < y ? -1 : x > y;
}

/* (Re)builds the list of exits not yet handled, by exit time. */
void st__model_exits_scan(struct st_model *m)
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

void st__model_fork(struct st_model *m, int file, pid_t child)
{
	int cf = st_forks_child_file(m->set, m->set->t[file].hdr.pid, child);

	if (cf < 0 && m->following)
		st_forks_hold(&m->forks, &m->tab, m->set, file, child);
	if (cf < 0)
		return; /* an untraced child (no calls, no file), or not yet */
	/* records are in order of their end: a short-lived child can have
	 * exited before its parent's fork call returned */
	if (cf < m->nfiles && m->ended[cf])
		return;
	st_conntab_fd_copy(&m->tab, file, cf);
}

/* Is C the socket seen record P (its kind, and a TCP one's addresses)
 * is about? */
static bool same_socket(const struct st_conn *c, const void *arg)
{
	const struct st_p_seen *p = arg;

	return c && !c->done &&
	       c->kind == st_conn_kind(p->domain, p->socktype) &&
	       (c->kind != ST_KIND_TCP ||
		(!memcmp(&c->local, &p->local, sizeof(p->local)) &&
		 !memcmp(&c->peer, &p->peer, sizeof(p->peer))));
}

struct st_conn *st__model_exec_inherited(struct st_model *m,
					 const struct st_rec *r, int file)
{
	const struct st_header *h = &m->set->t[file].hdr;
	const struct st_p_seen *p = &r->u.seen;
	int before = -1;

	/* the image this one replaced: the same pid's newest older file */
	for (int i = 0; i < m->set->n; i++) {
		const struct st_header *o = &m->set->t[i].hdr;
		if (i != file && o->pid == h->pid && o->mono_ns < h->mono_ns &&
		    (before < 0 || o->mono_ns > m->set->t[before].hdr.mono_ns))
			before = i;
	}
	if (before < 0)
		return NULL;
	int fd = r->fd;
	struct st_conn *c = st_conntab_fd_get(&m->tab, before, fd);
	if (!same_socket(c, p) &&
	    st_conn_kind(p->domain, p->socktype) == ST_KIND_TCP &&
	    p->peer.family) {
		/* the new image moved it before the library saw it (sshd's
		 * dup of fd 0, made before attach loaded the library into
		 * the exec'd image): a TCP 4-tuple names one connection */
		fd = st_conntab_fd_find(&m->tab, before, same_socket, p);
		c = fd < 0 ? NULL : st_conntab_fd_get(&m->tab, before, fd);
	}
	if (!same_socket(c, p))
		return NULL;
	/* exec kept the fd: it is the new image's now, the same socket */
	st_conntab_alias(&m->tab, c, r->conn);
	st_conntab_fd_add(&m->tab, file, r->fd, c);
	st_conntab_fd_drop(&m->tab, before, fd);
	return c;
}
