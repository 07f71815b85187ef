/* SPDX-License-Identifier: MIT */
/* Forked children not seen yet (live following): the fds they hold. */
#include <stdlib.h>
#include <string.h>

#include "forks.h"

int st_forks_child_file(const struct st_traceset *set, int32_t parent,
			int32_t child)
{
	int cf = -1;

	for (int i = 0; i < set->n; i++)
		if (set->t[i].hdr.pid == child && set->t[i].hdr.ppid == parent)
			cf = i; /* the newest, after an exec */
	return cf;
}

void st_forks_hold(struct st_forks *f, struct st_conntab *t,
		   const struct st_traceset *set, int file, int32_t child)
{
	struct st_fdref *r, *tmp;
	struct st_fork_hold h = { .parent = set->t[file].hdr.pid,
				  .child = child };
	uint32_t cap = 0;

	memcpy(h.comm, set->t[file].hdr.comm, sizeof(h.comm));
	HASH_ITER(hh, t->fds, r, tmp) {
		if (r->key.file != file)
			continue;
		if (h.n == cap)
			st__grow((void **)&h.fds, &cap, sizeof(*h.fds));
		h.fds[h.n++] = (struct st_fork_fd){ r->key.fd, r->conn };
		r->conn->refs++; /* the child's copy, until it is known */
	}
	if (!h.n)
		return;
	if (f->n == f->cap)
		st__grow((void **)&f->h, &f->cap, sizeof(*f->h));
	f->h[f->n++] = h;
}

/* Drops hold I (its fds given away or let go of already). */
static void drop(struct st_forks *f, uint32_t i)
{
	free(f->h[i].fds);
	f->h[i] = f->h[--f->n];
}

void st_forks_resolve(struct st_forks *f, struct st_conntab *t,
		      const struct st_traceset *set)
{
	if (set->n == f->files)
		return;
	f->files = set->n;
	for (uint32_t i = 0; i < f->n;) {
		const struct st_fork_hold *h = &f->h[i];
		int cf = st_forks_child_file(set, h->parent, h->child);
		if (cf < 0) {
			i++;
			continue;
		}
		/* the hold becomes the child's fd: the count stays */
		for (uint32_t k = 0; k < h->n; k++) {
			st_conntab_fd_add(t, cf, h->fds[k].fd, h->fds[k].c);
			h->fds[k].c->refs--;
		}
		drop(f, i);
	}
}

/* Is the forked child of hold H still running? */
static bool child_alive(const struct st_fork_hold *h, st_fork_alive_fn alive,
			void *arg)
{
	static struct st_trace t; /* large: the callback reads its hdr */

	t.hdr.pid = h->child;
	memcpy(t.hdr.comm, h->comm, sizeof(t.hdr.comm));
	return alive(&t, arg);
}

void st_forks_reap(struct st_forks *f, struct st_conntab *t,
		   const struct st_traceset *set, uint64_t now,
		   st_fork_alive_fn alive, void *alive_arg,
		   st_fork_closed_fn closed, void *arg)
{
	st_forks_resolve(f, t, set);
	for (uint32_t i = 0; i < f->n;) {
		struct st_fork_hold *h = &f->h[i];
		bool up = alive && child_alive(h, alive, alive_arg);
		if (alive && !up && !h->gone_at)
			h->gone_at = now ? now : 1;
		if (up)
			h->gone_at = 0;
		if (alive && (up || now < h->gone_at + ST_FORK_GRACE_NS)) {
			i++;
			continue;
		}
		for (uint32_t k = 0; k < h->n; k++) {
			struct st_conn *c = h->fds[k].c;
			if (--c->refs <= 0 && !c->done)
				closed(c, h->child, arg);
		}
		drop(f, i);
	}
}

void st_forks_free(struct st_forks *f)
{
	for (uint32_t i = 0; i < f->n; i++)
		free(f->h[i].fds);
	free(f->h);
	memset(f, 0, sizeof(*f));
}
