/* SPDX-License-Identifier: MIT */
/* TIME_WAIT ends held back until their 60 s pass or their 4-tuple is reused. */
#ifndef ST_VIEWER_TWHOLD_H
#define ST_VIEWER_TWHOLD_H

#include "conn.h"

/*
 * A connection whose end is in TIME_WAIT is not finished for the
 * outputs: a new connection on the same 4-tuple ends that TIME_WAIT
 * early.  The model holds such connections (both ends; those whose
 * client bound its own port, see twhold.c) here, oldest
 * first, until the trace passes their 60 s, a reuse ends them, the hold
 * is full (ST_TWHOLD_MAX connections or ST_TWHOLD_LINES lines: memory
 * stays bounded) or the trace ends.
 */
#define ST_TWHOLD_MAX 4096
/* ... and at most this many timeline lines in all (a long connection
 * holds up to 10,000). */
#define ST_TWHOLD_LINES 262144

struct st_twhold {
	struct st_twent *by_tuple; /* uthash by 4-tuple */
	struct st_twent **q;	   /* in the order held; NULL: released */
	uint32_t head, n, cap, live;
	uint64_t lines; /* timeline lines of the connections held */
};

/* Called for each connection the hold lets go of, to be emitted. */
typedef void (*st_twhold_fn)(struct st_conn *c, void *arg);

/* Holds finished connection C if an end of it is in TIME_WAIT (else
 * false); FN gets an older one the hold lets go of for room. */
bool st_twhold_add(struct st_twhold *h, struct st_conn *c, st_twhold_fn fn,
		   void *arg);
/* Lets go of the oldest held connections whose TIME_WAIT ended by NOW. */
void st_twhold_expire(struct st_twhold *h, uint64_t now, st_twhold_fn fn,
		      void *arg);
/* New end N (its 4-tuple known) appeared at TS, shown by trace file
 * FILE's call: a held end on the same 4-tuple leaves TIME_WAIT then
 * (st_tcp_tw_reused) and its connection is let go of. */
void st_twhold_reuse(struct st_twhold *h, const struct st_conn *n, uint64_t ts,
		     int file, st_twhold_fn fn, void *arg);
/* Lets go of everything held (the trace ended). */
void st_twhold_all(struct st_twhold *h, st_twhold_fn fn, void *arg);
void st_twhold_free(struct st_twhold *h);

#endif
