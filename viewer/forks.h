/* SPDX-License-Identifier: MIT */
/* Forked children not seen yet (live following): the fds they hold. */
#ifndef ST_VIEWER_FORKS_H
#define ST_VIEWER_FORKS_H

#include "conntab.h"
#include "load.h"

/*
 * While following live (attach, live), a child's trace file appears only
 * when the child records its first call, often after its parent closed
 * its own copy of an accepted socket: without a hold, that close would
 * end the connection the child goes on serving (and the child's calls
 * would start a second one).  At fork, the parent's fds are held for the
 * child until its file appears (the holds become its fds) or the child
 * is gone without one (untraced, or it never used a socket).
 */
struct st_fork_fd {
	int fd;
	struct st_conn *c;
};

struct st_fork_hold {
	int32_t parent, child;
	char comm[16]; /* the parent's: the child's until it execs */
	struct st_fork_fd *fds;
	uint32_t n;
	uint64_t gone_at; /* when it was first found gone, 0 while alive */
};

/* A child found gone is let go of only this long after: its trace file,
 * written before it exited, may not have been found yet (a following
 * viewer looks for new files every half second). */
#define ST_FORK_GRACE_NS (2ull * 1000000000ull)

struct st_forks {
	struct st_fork_hold *h;
	uint32_t n, cap;
	int files; /* set->n when last resolved */
};

/* Called for a connection whose last hold, CHILD's, was let go of. */
typedef void (*st_fork_closed_fn)(struct st_conn *c, int32_t child, void *arg);
/* Is the process behind trace T still running (as st_alive_fn)? */
typedef bool (*st_fork_alive_fn)(const struct st_trace *t, void *arg);

/* The trace file in SET of process CHILD of PARENT, or -1. */
int st_forks_child_file(const struct st_traceset *set, int32_t parent,
			int32_t child);
/* Holds every fd of FILE (process PARENT) for its new child CHILD. */
void st_forks_hold(struct st_forks *f, struct st_conntab *t,
		   const struct st_traceset *set, int file, int32_t child);
/* Gives each held child whose trace file has appeared in SET its fds. */
void st_forks_resolve(struct st_forks *f, struct st_conntab *t,
		      const struct st_traceset *set);
/*
 * Gives children whose file appeared their fds first, then lets go of
 * the holds of children ALIVE(…, ALIVE_ARG) has said are gone since
 * ST_FORK_GRACE_NS before NOW (all, when ALIVE is NULL); CLOSED gets
 * each connection no fd holds any more.
 */
void st_forks_reap(struct st_forks *f, struct st_conntab *t,
		   const struct st_traceset *set, uint64_t now,
		   st_fork_alive_fn alive, void *alive_arg,
		   st_fork_closed_fn closed, void *arg);
void st_forks_free(struct st_forks *f);

#endif
