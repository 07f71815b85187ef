/* SPDX-License-Identifier: MIT */
/* live's last 10 s: connections and latencies in a ring of 1 s slots. */
#ifndef ST_VIEWER_LIVE_WINDOW_H
#define ST_VIEWER_LIVE_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#include "histo.h"

/* Seconds the window covers: one slot each. */
#define ST_LIVE_WIN_S 10

/* The latencies the window keeps. */
enum st_live_lat { ST_LW_CONNECT, ST_LW_QUEUE, ST_LW__N };

/* One second: the connections that opened in it and their latencies. */
struct st_live_slot {
	uint64_t sec; /* the second (of the monotonic clock) + 1; 0: empty */
	uint64_t conns;
	struct st_histo h[ST_LW__N];
};

/*
 * The last ST_LIVE_WIN_S seconds, slot by slot: a new second takes the
 * place of the one ten seconds older, so memory is bounded by the slots'
 * histograms, not by the connections.  A zeroed struct is empty.
 */
struct st_live_window {
	struct st_live_slot slot[ST_LIVE_WIN_S];
	uint64_t start; /* the earliest time counted or begun at: the span
			 * the rate is over starts no earlier */
};

/* The window summed up at a time: counts, rate and merged latencies. */
struct st_live_rates {
	uint64_t conns;
	uint64_t span; /* ns the rate is over */
	double per_s;
	struct st_histo h[ST_LW__N]; /* st__live_rates_free frees them */
};

/* Starts W's span at NOW (what came before NOW may still be counted). */
void st__live_win_begin(struct st_live_window *w, uint64_t now);
/* A connection opened at TS, seen at NOW; dropped if older than the
 * window. */
void st__live_win_conn(struct st_live_window *w, uint64_t ts, uint64_t now);
/* Latency LAT of V ns, of a connection at TS, seen at NOW. */
void st__live_win_lat(struct st_live_window *w, int lat, uint64_t ts,
		      uint64_t v, uint64_t now);
/* The seconds of W that are within ST_LIVE_WIN_S of NOW, into R. */
void st__live_win_sum(const struct st_live_window *w, uint64_t now,
		      struct st_live_rates *r);
void st__live_rates_free(struct st_live_rates *r);
/*
 * R in words, cut into lines of at most WIDTH columns at the parts'
 * boundaries: "last 10s: N conns, R/s", "connect p50 X p99 Y",
 * "accept wait p50 X p99 Y" ("-" where nothing was measured).  Up to
 * MAX lines into LINES; returns how many.
 */
int st__live_rates_text(const struct st_live_rates *r, int width,
			char lines[][256], int max);
void st__live_win_free(struct st_live_window *w);

#endif
