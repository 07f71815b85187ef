/* SPDX-License-Identifier: MIT */
/* The stats stage: connections summed up by listener, peer and process. */
#ifndef ST_VIEWER_STATS_H
#define ST_VIEWER_STATS_H

#include <stdbool.h>
#include <stdint.h>

#include "conn.h"
#include "fgroup.h"
#include "histo.h"
#include "sink.h"

/* What stats shows: the sections (--by), the outliers, JSON or text. */
enum { ST_BY_LISTENER = 1, ST_BY_PEER = 2, ST_BY_PROCESS = 4 };
struct st_stats_opts {
	unsigned by;  /* ST_BY_* bits; all three by default */
	unsigned top; /* outliers per latency (--top N) */
	bool json;
};

/* The latencies summed up, each a histogram. */
enum st_metric { ST_M_CONNECT, ST_M_QUEUE, ST_M_TTFB, ST_M_LIFE, ST_M__N };
extern const char *const st_metric_name[];

/* How a connection ended, from the end's point of view. */
enum st_ended {
	ST_ENDED_FIN,	 /* closed by the program (FIN sent or received) */
	ST_ENDED_RST,	 /* reset: an RST ended it (either end sent it) */
	ST_ENDED_EXIT,	 /* open when its process exited */
	ST_ENDED_KILLED, /* open when its process died */
	ST_ENDED_OPEN,	 /* still open when the trace ends */
	ST_ENDED__N
};
extern const char *const st_ended_name[];

#define ST_STATS_ERRNOS 8

/* A group: one listener, one peer (or client process), one process. */
struct st_sgroup {
	struct {
		uint64_t id;	     /* listener id, trace file */
		struct st_addr addr; /* peer address */
		uint8_t by;	     /* ST_BY_* */
		uint8_t pad[7];
	} key;
	UT_hash_handle hh;
	char name[160];
	uint64_t conns, first_ts, last_ts;
	struct st_histo h[ST_M__N];
	uint64_t bytes_in, bytes_out; /* seen from this side */
	uint64_t closer[4]; /* this side first, the peer, unknown, both */
	uint64_t ended[ST_ENDED__N];
	struct {
		int err;
		uint64_t n;
	} err[ST_STATS_ERRNOS];
	uint64_t err_other; /* errors past ST_STATS_ERRNOS distinct ones */
	/* listeners: from the listener's own end */
	bool have_listener;
	int32_t backlog, effective_backlog, somaxconn;
	uint32_t max_queue_len, queue_max;
	bool queue_full;
	/* processes */
	uint64_t opened, closed, still_open, lost;
};

/* One of the top N outliers of a latency. */
struct st_outlier {
	uint64_t v, conn;
};

/* Everything stats keeps: bounded by groups and --top, not by
 * connections. */
struct st_stats {
	struct st_stats_opts so;
	struct st_sgroup *groups;  /* in the order first seen */
	struct st_sgroup *last[3]; /* found last, by ST_BY_* >> 1 */
	struct st_sgroup **procs;  /* process groups by trace file */
	int nprocs;
	struct st_histo all[ST_M__N];
	struct st_outlier *top[ST_M__N]; /* so.top each, biggest first */
	unsigned ntop[ST_M__N];
	struct st_fgroups fg;
	uint64_t conns; /* connection ends shown */
	const struct st_traceset *set;
	/* when set: told each latency as it is counted (the HTML
	 * overview bins them over time) */
	void (*each)(void *arg, int m, uint64_t v, const struct st_conn *e);
	void *each_arg;
};

/* Starts S over SET, as SO asks. */
void st_stats_init(struct st_stats *s, const struct st_stats_opts *so,
		   const struct st_traceset *set);
/* Connection C (and its other end C->other), as a sink gets it. */
void st_stats_conn(struct st_stats *s, const struct st_conn *c);
void st_stats_finding(struct st_stats *s, const struct st_finding *f);
/* The trace is read: lost records, findings still waiting. */
void st_stats_finish(struct st_stats *s);
void st_stats_free(struct st_stats *s);

/* The outputs (stats_out.c): the summary in words and bars, or one
 * JSON object per group, outlier and finding group. */
void st_stats_text(const struct st_stats *s, struct st_render *rd);
void st_stats_json(const struct st_stats *s, struct st_out *o);
/* ,"KEY":{"count":N,"p50":..,"p90":..,"p99":..,"max":..} in ns, or
 * ,"KEY":null for an empty H. */
void st_stats_pct_json(struct st_out *o, const char *key,
		       const struct st_histo *h);

#endif
