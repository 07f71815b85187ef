/* SPDX-License-Identifier: MIT */
/* The stats sink: the show engine's connections into the stats stage. */
#include <stdlib.h>

#include "sink.h"
#include "stats.h"

struct sstats {
	struct st_render rd;
	struct st_stats s;
};

static int stats_begin(void **state, const struct st_sink_env *env,
		       const struct st_view_opts *vo)
{
	struct sstats *t;

	if (!vo->stats)
		return 0;
	t = calloc(1, sizeof(*t));
	if (!t) {
		fprintf(stderr, "socktrace: out of memory\n");
		return -1;
	}
	t->rd = env->rd;
	st_stats_init(&t->s, vo->stats, env->rd.m->set);
	*state = t;
	return 0;
}

static void stats_conn(void *state, const struct st_conn *c)
{
	struct sstats *t = state;

	st_stats_conn(&t->s, c);
}

static void stats_finding(void *state, const struct st_finding *f)
{
	struct sstats *t = state;

	st_stats_finding(&t->s, f);
}

static void stats_drop(void *state)
{
	struct sstats *t = state;

	st_stats_free(&t->s);
	free(t);
}

static int stats_end(void *state)
{
	struct sstats *t = state;

	st_stats_finish(&t->s);
	if (t->s.so.json)
		st_stats_json(&t->s, t->rd.o);
	else
		st_stats_text(&t->s, &t->rd);
	int rc = st_sink_stdout_end(t->rd.o);
	stats_drop(t);
	return rc;
}

const struct st_sink_ops st_sink_stats = {
	.begin = stats_begin,
	.conn = stats_conn,
	.finding = stats_finding,
	.end = stats_end,
	.drop = stats_drop,
};
