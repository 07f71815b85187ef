/* SPDX-License-Identifier: MIT */
/* Stitching: the two ends of a connection joined when both were traced. */
#ifndef ST_VIEWER_STITCH_H
#define ST_VIEWER_STITCH_H

#include "conntab.h"

/*
 * A client end and a server end are one connection when their
 * (client, server) identities match: for TCP the two addresses; for Unix,
 * where every client of a path looks alike, the client's pid and the
 * server's path.  Whichever end is seen first waits for the other.  A
 * client of a port (or path) where a traced process listens is marked
 * awaiting_join: it is not emitted until it is accepted or the listener
 * goes.
 */
struct st_stitch {
	struct st_tuple *tuples; /* waiting ends by identity */
	struct st_lport *lports; /* where traced processes listen */
	void *spare_tuple, *spare_waiter;
};

/* Called for a client end that no longer awaits a join (its listener
 * closed), so that it can be emitted. */
typedef void (*st_release_fn)(struct st_conn *c, void *arg);

void st_stitch_free(struct st_stitch *s);
/* C's identity as both its ends key it: (client, server) addresses, v4
 * mapped as v4; for Unix, the client's pid and the server's path. */
void st_stitch_tuple(const struct st_conn *c, struct st_addr k[2]);
/* Joins C with its waiting other end (found in T), or makes C wait. */
void st_stitch_pair(struct st_stitch *s, struct st_conntab *t,
		    struct st_conn *c);
/* C no longer waits (it finished and is emitted alone). */
void st_stitch_forget(struct st_stitch *s, struct st_conn *c);
/* C listens (listen, or accept on an inherited listener): connects to
 * its port or path await their join from now on. */
void st_stitch_listen(struct st_stitch *s, struct st_conn *c);
/* Listener C closed: clients still queued there were reset, never to be
 * accepted, and are released through FN. */
void st_stitch_unlisten(struct st_stitch *s, struct st_conntab *t,
			struct st_conn *c, st_release_fn fn, void *arg);
/* Does a traced process listen where address A of C is (its port for
 * TCP, its path for Unix)? */
bool st_stitch_listened(const struct st_stitch *s, const struct st_conn *c,
			const struct st_addr *a);
/*
 * Makes A and B each other's other end.  An end is joined once; records
 * that would join it again (a trace file given twice, a damaged file)
 * first part it from its old partner, so that no end is left pointing
 * at one that is emitted and freed without it.  False if A is B, or if
 * either is queued for emission already (it goes out with the end it
 * has).
 */
bool st_stitch_link(struct st_conn *a, struct st_conn *b);
/* C and its other end are finished: a client end among them counts in
 * the traced listener it connected to (st_overflow_note). */
void st_stitch_note(const struct st_stitch *s, struct st_conn *c);

#endif
