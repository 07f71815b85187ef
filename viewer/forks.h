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
/* Is process PID (named COMM) still running? */
typedef bool (*st_fork_alive_fn)(int32_t pid, const char *comm, void *arg);

/* Holds every fd of FILE (process PARENT) for its new child CHILD. */
void st_forks_hold(struct st_forks *f, struct st_conntab *t,
		   const struct st_traceset *set, int file, int32_t child);
/* Gives each held child whose trace file has appeared in SET its fds. */
void st_forks_resolve(struct st_forks *f, struct st_conntab *t,
		      const struct st_traceset *set);
/* Lets go of the holds of children ALIVE has said are gone since
 * ST_FORK_GRACE_NS before NOW (all, when ALIVE is NULL); CLOSED gets
 * each connection no fd holds any more. */
void st_forks_release(struct st_forks *f, uint64_t now, st_fork_alive_fn alive,
		      st_fork_closed_fn closed, void *arg);
void st_forks_free(struct st_forks *f);

#endif
