/* SPDX-License-Identifier: MIT */
/* The HTML report's overview: connections and latencies binned in time. */
#include <stdio.h>
#include <string.h>

#include "overview.h"

static const char *const closer_name[] = { "client", "server", "both",
					   "unknown" };

void st_overview_init(struct st_overview *ov)
{
	memset(ov, 0, sizeof(*ov));
	ov->bin = 1000; /* 1 us: doubled as long as the trace needs */
}

unsigned st_overview_row(uint64_t v)
{
	unsigned k = 1;

	if (v < 2000)
		return 0;
	while (k < ST_OV_ROWS - 1 && v >= 1000ull << (k + 1))
		k++;
	return k;
}

/* Twice as wide columns, half as many: pairs are summed. */
static void widen(struct st_overview *ov)
{
	for (unsigned i = 0; i < ST_OV_COLS / 2; i++) {
		ov->opened[i] = ov->opened[2 * i] + ov->opened[2 * i + 1];
		ov->closed[i] = ov->closed[2 * i] + ov->closed[2 * i + 1];
		for (int m = 0; m < ST_M__N; m++)
			for (int r = 0; r < ST_OV_ROWS; r++)
				ov->heat[m][i][r] = ov->heat[m][2 * i][r] +
						    ov->heat[m][2 * i + 1][r];
	}
	memset(ov->opened + ST_OV_COLS / 2, 0, sizeof(ov->opened) / 2);
	memset(ov->closed + ST_OV_COLS / 2, 0, sizeof(ov->closed) / 2);
	for (int m = 0; m < ST_M__N; m++)
		memset(ov->heat[m][ST_OV_COLS / 2], 0, sizeof(ov->heat[m]) / 2);
	ov->bin *= 2;
	ov->ncols = (ov->ncols + 1) / 2;
}

/* The column of time TS (absolute), widening the columns to reach it. */
static unsigned col(struct st_overview *ov, uint64_t ts)
{
	uint64_t t = ts > ov->t0 ? ts - ov->t0 : 0;

	while (t / ov->bin >= ST_OV_COLS)
		widen(ov);
	if (t / ov->bin + 1 > ov->ncols)
		ov->ncols = (unsigned)(t / ov->bin + 1);
	return (unsigned)(t / ov->bin);
}

void st_overview_metric(void *arg, int m, uint64_t v, const struct st_conn *e)
{
	struct st_overview *ov = arg;

	ov->heat[m][col(ov, e->open_ts)][st_overview_row(v)]++;
}

/* The last state end E reached before CLOSED (its state now if open). */
static unsigned last_state(const struct st_conn *e)
{
	for (uint32_t i = e->nst; i-- > 0;)
		if (e->st[i].state != ST_ST_CLOSED &&
		    e->st[i].state != ST_ST_NONE)
			return e->st[i].state;
	return ST_ST_NONE;
}

static bool closed(const struct st_conn *e)
{
	return e->end == ST_END_CLOSED || e->end == ST_END_EXIT;
}

/* Who closed first, 0..3 as closer_name: from the client's side when
 * there is one. */
static int closer(const struct st_conn *c)
{
	int f = c->closed_first;

	if (f == 2)
		return 2;
	if (!f)
		return 3;
	if (c->role == ST_ROLE_SERVER)
		f = -f;
	return f > 0 ? 0 : 1;
}

void st_overview_conn(struct st_overview *ov, const struct st_conn *c,
		      uint64_t t0)
{
	const struct st_conn *o = c->other;
	uint64_t open = c->open_ts, close = c->close_ts;

	if (c->role == ST_ROLE_LISTENER)
		return;
	ov->t0 = t0;
	ov->conns++;
	ov->last_state[last_state(c)]++;
	if (o) {
		ov->last_state[last_state(o)]++;
		open = o->open_ts < open ? o->open_ts : open;
		close = o->close_ts > close ? o->close_ts : close;
	}
	ov->opened[col(ov, open)]++;
	if (closed(c) && (!o || closed(o)))
		ov->closed[col(ov, close)]++;
	else
		ov->still_open++;
	ov->closer[closer(c)]++;
}

static void u64_list(struct st_out *o, const char *key, const uint64_t *v,
		     unsigned n)
{
	st_out_key(o, key);
	st_out_chr(o, '[');
	for (unsigned i = 0; i < n; i++) {
		if (i)
			st_out_chr(o, ',');
		st_out_u64(o, v[i]);
	}
	st_out_chr(o, ']');
}

/* "heat":{"connect":[[col,row,count],...],...}: the cells not empty. */
static void heat_json(const struct st_overview *ov, struct st_out *o)
{
	st_out_str(o, ",\"heat\":{");
	for (int m = 0; m < ST_M__N; m++) {
		bool first = true;
		st_out_fmt(o, "%s\"%s\":[", m ? "," : "", st_metric_name[m]);
		for (unsigned i = 0; i < ov->ncols; i++) {
			for (unsigned r = 0; r < ST_OV_ROWS; r++) {
				if (!ov->heat[m][i][r])
					continue;
				st_out_fmt(o, "%s[%u,%u,%u]", first ? "" : ",",
					   i, r, ov->heat[m][i][r]);
				first = false;
			}
		}
		st_out_chr(o, ']');
	}
	st_out_chr(o, '}');
}

static void pct_json(const struct st_stats *s, struct st_out *o)
{
	for (int m = 0; m < ST_M__N; m++) {
		char key[40];
		snprintf(key, sizeof(key), "pct_%s", st_metric_name[m]);
		st_stats_pct_json(o, key, &s->all[m]);
	}
}

void st_overview_json(const struct st_overview *ov, const struct st_stats *s,
		      struct st_out *o)
{
	st_out_str(o, "{\"type\":\"overview\"");
	st_out_ku(o, "bin", ov->bin);
	st_out_ku(o, "cols", ov->ncols);
	st_out_ku(o, "rows", ST_OV_ROWS);
	st_out_ku(o, "conns", ov->conns);
	st_out_ku(o, "still_open", ov->still_open);
	u64_list(o, "opened", ov->opened, ov->ncols);
	u64_list(o, "closed", ov->closed, ov->ncols);
	heat_json(ov, o);
	pct_json(s, o);
	st_out_str(o, ",\"last_state\":{");
	bool first = true;
	for (int i = 0; i <= ST_ST_CLOSED; i++) {
		if (!ov->last_state[i])
			continue;
		st_out_fmt(o, "%s\"%s\":", first ? "" : ",", st_state_name[i]);
		st_out_u64(o, ov->last_state[i]);
		first = false;
	}
	st_out_str(o, "},\"closer\":{");
	for (int i = 0; i < 4; i++) {
		st_out_fmt(o, "%s\"%s\":", i ? "," : "", closer_name[i]);
		st_out_u64(o, ov->closer[i]);
	}
	st_out_str(o, "}}\n,");
}
