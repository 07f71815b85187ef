/* SPDX-License-Identifier: MIT */
/* The HTML report's overview: connections and latencies binned in time. */
#ifndef ST_VIEWER_OVERVIEW_H
#define ST_VIEWER_OVERVIEW_H

#include <stdint.h>

#include "conn.h"
#include "out.h"
#include "stats.h"

/* Columns of time (their width doubles as the trace goes on, so their
 * number stays bounded) and rows of latency: row 0 under 2 us, row K
 * from 2^K to 2^(K+1) us, as stats' histograms; the last row holds the
 * rest. */
#define ST_OV_COLS 256
#define ST_OV_ROWS 40

/*
 * What the overview draws, for every connection shown whatever the
 * size budget left out of the lanes: memory is fixed, not per
 * connection.  A connection is a lane that is not a listener: a joined
 * pair or one end.  Times are ns since the trace's first call.
 */
struct st_overview {
	uint64_t t0;  /* the model's first call */
	uint64_t bin; /* ns per column */
	unsigned ncols;
	uint64_t opened[ST_OV_COLS], closed[ST_OV_COLS];
	/* latencies: by when their end opened, and by row */
	uint32_t heat[ST_M__N][ST_OV_COLS][ST_OV_ROWS];
	uint64_t last_state[ST_ST_CLOSED + 1]; /* per end, before CLOSED */
	uint64_t closer[4]; /* client, server, both, unknown */
	uint64_t conns, still_open;
};

/* Starts OV empty. */
void st_overview_init(struct st_overview *ov);
/* The row of latency V (ns). */
unsigned st_overview_row(uint64_t v);
/* Latency V of metric M of end E (the stats stage's each hook; ARG is
 * the overview). */
void st_overview_metric(void *arg, int m, uint64_t v, const struct st_conn *e);
/* Connection C (and C->other), as a sink gets it; T0: the first call. */
void st_overview_conn(struct st_overview *ov, const struct st_conn *c,
		      uint64_t t0);
/* {"type":"overview",...}: the bins, the counts, and S's percentiles
 * over all connections. */
void st_overview_json(const struct st_overview *ov, const struct st_stats *s,
		      struct st_out *o);

#endif
