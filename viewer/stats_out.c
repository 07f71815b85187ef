/* SPDX-License-Identifier: MIT */
/* The stats summary in words and bars, or as JSON lines: stats' outputs. */
#include <stdio.h>
#include <string.h>

#include "records.h"
#include "stats.h"
#include "units.h"

static const char *const section[] = { "Listeners", "Peers", "Processes" };
static const char *const by_name[] = { "listener", "peer", "process" };
static const char *const metric_words[] = { "connect", "accept-queue wait",
					    "time to first byte", "lifetime" };
static const double pct[] = { 50, 90, 99 };

/* Index of by-bit BY (ST_BY_*) in section[] and by_name[]. */
static int by_index(unsigned by)
{
	return by == ST_BY_LISTENER ? 0 : by == ST_BY_PEER ? 1 : 2;
}

static double rate(const struct st_sgroup *g)
{
	if (g->conns < 2 || g->last_ts <= g->first_ts)
		return 0;
	return (double)(g->conns - 1) * 1e9 /
	       (double)(g->last_ts - g->first_ts);
}

static void pct_line(struct st_out *o, const char *what,
		     const struct st_histo *h)
{
	char b[32];

	if (!h->count)
		return;
	st_out_fmt(o, "    %-19s", what);
	for (size_t i = 0; i < sizeof(pct) / sizeof(pct[0]); i++) {
		st_fmt_dur(b, sizeof(b), st_histo_pct(h, pct[i]));
		st_out_fmt(o, " p%g %-9s", pct[i], b);
	}
	st_fmt_dur(b, sizeof(b), h->max);
	st_out_fmt(o, " max %s\n", b);
}

static void errs_line(struct st_out *o, const char *what,
		      const struct st_sgroup *g)
{
	char b[16], n[32];

	if (!g->err[0].n)
		return;
	st_out_fmt(o, "    %-19s", what);
	for (int i = 0; i < ST_STATS_ERRNOS && g->err[i].n; i++)
		st_out_fmt(o, " %s %s", st_errno_name(g->err[i].err, b),
			   st_fmt_thousands(n, g->err[i].n));
	if (g->err_other)
		st_out_fmt(o, " others %s", st_fmt_thousands(n, g->err_other));
	st_out_chr(o, '\n');
}

static double share(uint64_t n, uint64_t of)
{
	return of ? 100.0 * (double)n / (double)of : 0;
}

/* Lines every connection group has: count, rate, ends, bytes. */
static void conn_lines(struct st_out *o, const struct st_sgroup *g,
		       const char *me, const char *peer)
{
	char n[32], a[32], b[32];

	st_out_fmt(o, "  %s: %s connection%s", g->name,
		   st_fmt_thousands(n, g->conns), g->conns == 1 ? "" : "s");
	if (rate(g) > 0) {
		st_fmt_dur(a, sizeof(a), g->last_ts - g->first_ts);
		st_out_fmt(o, ", %.1f/s over %s", rate(g), a);
	}
	st_out_chr(o, '\n');
	uint64_t k = g->closer[0] + g->closer[1] + g->closer[2] + g->closer[3];
	st_out_fmt(o, "    %-19s %s %.0f%%, %s %.0f%%, ", "closed first", me,
		   share(g->closer[0], k), peer, share(g->closer[1], k));
	if (g->closer[3])
		st_out_fmt(o, "both %.0f%%, ", share(g->closer[3], k));
	st_out_fmt(o, "unknown %.0f%%\n", share(g->closer[2], k));
	st_out_fmt(o, "    %-19s", "ended");
	for (int e = 0; e < ST_ENDED__N; e++)
		if (g->ended[e] || e != ST_ENDED_RST)
			st_out_fmt(o, " %s %s", st_ended_name[e],
				   st_fmt_thousands(n, g->ended[e]));
	st_out_chr(o, '\n');
	st_fmt_bytes(a, sizeof(a), g->bytes_in);
	st_fmt_bytes(b, sizeof(b), g->bytes_out);
	st_out_fmt(o, "    %-19s in %s, out %s\n", "bytes", a, b);
}

static void listener_text(struct st_out *o, const struct st_sgroup *g)
{
	conn_lines(o, g, "server", "client");
	pct_line(o, "accept-queue wait", &g->h[ST_M_QUEUE]);
	pct_line(o, "lifetime", &g->h[ST_M_LIFE]);
	if (g->have_listener)
		st_out_fmt(o,
			   "    %-19s longest %u of %u%s; backlog %d, got %d "
			   "(somaxconn %d)\n",
			   "accept queue", g->max_queue_len, g->queue_max,
			   g->queue_full ? ", full" : "", g->backlog,
			   g->effective_backlog, g->somaxconn);
	errs_line(o, "errors", g);
}

static void peer_text(struct st_out *o, const struct st_sgroup *g)
{
	conn_lines(o, g, "this side", "the peer");
	pct_line(o, "connect", &g->h[ST_M_CONNECT]);
	pct_line(o, "time to first byte", &g->h[ST_M_TTFB]);
	pct_line(o, "lifetime", &g->h[ST_M_LIFE]);
	errs_line(o, "failures", g);
}

static void process_text(struct st_out *o, const struct st_sgroup *g)
{
	char a[32], b[32], c[32], d[32], e[32], f[32];

	st_out_fmt(o,
		   "  %s: sockets %s opened, %s closed, %s still open,\n"
		   "    %s open at exit, %s killed; %s record%s lost\n",
		   g->name, st_fmt_thousands(a, g->opened),
		   st_fmt_thousands(b, g->closed),
		   st_fmt_thousands(c, g->still_open),
		   st_fmt_thousands(d, g->ended[ST_ENDED_EXIT]),
		   st_fmt_thousands(e, g->ended[ST_ENDED_KILLED]),
		   st_fmt_thousands(f, g->lost), st_plural(g->lost));
}

/* H as bcc's tcprtt draws it: power-of-two ranges of microseconds, a
 * count and a bar each (values sorted into ranges by their bucket,
 * within 1%). */
static void histogram(struct st_out *o, const char *what,
		      const struct st_histo *h)
{
	uint64_t n[64] = { 0 }, most = 0;
	int lo = 64, hi = -1;

	for (int k = 0; k < 53; k++) {
		uint64_t a = k ? 1000ull << k : 0, b = 1000ull << (k + 1);
		n[k] = st_histo_count_range(h, a, b);
		if (n[k]) {
			lo = k < lo ? k : lo;
			hi = k;
			most = n[k] > most ? n[k] : most;
		}
	}
	if (hi < 0)
		return;
	st_out_fmt(o, "\n  %s\n  %22s : %-8s %s\n", what, "usecs", "count",
		   "distribution");
	for (int k = lo; k <= hi; k++) {
		char bar[41];
		int w = (int)((n[k] * 40 + most - 1) / most);
		memset(bar, '*', (size_t)w);
		bar[w] = 0;
		unsigned long long a = k ? 1ull << k : 0,
				   b = (1ull << (k + 1)) - 1;
		st_out_fmt(o, "  %10llu -> %-8llu : %-8llu |%-40s|\n", a, b,
			   (unsigned long long)n[k], bar);
	}
}

static void outliers_text(const struct st_stats *s, struct st_out *o)
{
	char d[32], id[24];
	bool any = false;

	for (int m = 0; m < ST_M__N; m++)
		any = any || s->ntop[m];
	if (!any)
		return;
	st_out_fmt(o,
		   "\nOutliers (the %u longest; 'socktrace view --conn ID' "
		   "shows one)\n",
		   s->so.top);
	for (int m = 0; m < ST_M__N; m++) {
		if (!s->ntop[m])
			continue;
		st_out_fmt(o, "  %-19s", metric_words[m]);
		for (unsigned i = 0; i < s->ntop[m]; i++) {
			st_fmt_dur(d, sizeof(d), s->top[m][i].v);
			st_conn_str(s->top[m][i].conn, id);
			if (i && i % 3 == 0)
				st_out_fmt(o, "\n  %-19s", "");
			st_out_fmt(o, " %s (%s)", id, d);
		}
		st_out_chr(o, '\n');
	}
}

static void findings_text(const struct st_stats *s, struct st_out *o)
{
	char msg[768];

	st_out_str(o, "\nFindings\n");
	for (const struct st_fgroup *g = s->fg.groups; g; g = g->hh.next)
		st_out_fmt(o, "  %s: %s\n", st_finding_name[g->first.kind],
			   st_fgroup_text(g, s->set, msg, sizeof(msg)));
	if (!s->fg.groups)
		st_out_str(o, "  none\n");
}

void st_stats_text(const struct st_stats *s, struct st_render *rd)
{
	struct st_out *o = rd->o;
	char n[32];

	st_out_fmt(o, "%s connection ends in %d trace files\n",
		   st_fmt_thousands(n, s->conns), s->set->n);
	for (unsigned by = ST_BY_LISTENER; by <= ST_BY_PROCESS; by <<= 1) {
		bool head = false;
		if (!(s->so.by & by))
			continue;
		for (const struct st_sgroup *g = s->groups; g; g = g->hh.next) {
			if (g->key.by != by)
				continue;
			if (!head)
				st_out_fmt(o, "\n%s\n", section[by_index(by)]);
			head = true;
			if (by == ST_BY_LISTENER)
				listener_text(o, g);
			else if (by == ST_BY_PEER)
				peer_text(o, g);
			else
				process_text(o, g);
		}
	}
	outliers_text(s, o);
	static const char *const hist[] = { "connect", "accept-queue wait",
					    "time to first byte", "lifetime" };
	bool any = false;
	for (int m = 0; m < ST_M__N; m++)
		any = any || s->all[m].count;
	if (any)
		st_out_str(o, "\nLatency histograms (all connections)\n");
	for (int m = 0; m < ST_M__N; m++)
		histogram(o, hist[m], &s->all[m]);
	findings_text(s, o);
}

void st_stats_pct_json(struct st_out *o, const char *key,
		       const struct st_histo *h)
{
	st_out_key(o, key);
	if (!h->count) {
		st_out_str(o, "null");
		return;
	}
	st_out_str(o, "{\"count\":");
	st_out_u64(o, h->count);
	st_out_ku(o, "p50", st_histo_pct(h, 50));
	st_out_ku(o, "p90", st_histo_pct(h, 90));
	st_out_ku(o, "p99", st_histo_pct(h, 99));
	st_out_ku(o, "max", h->max);
	st_out_chr(o, '}');
}

static void errs_json(struct st_out *o, const struct st_sgroup *g)
{
	char b[16];

	st_out_str(o, ",\"errors\":{");
	for (int i = 0; i < ST_STATS_ERRNOS && g->err[i].n; i++) {
		if (i)
			st_out_chr(o, ',');
		const char *e = st_errno_name(g->err[i].err, b);
		st_out_json_str(o, e, strlen(e));
		st_out_chr(o, ':');
		st_out_u64(o, g->err[i].n);
	}
	st_out_chr(o, '}');
	st_out_ku(o, "errors_other", g->err_other);
}

static void group_json(struct st_out *o, const struct st_sgroup *g)
{
	st_out_str(o, "{\"type\":\"stats_group\"");
	st_out_ks(o, "by", by_name[by_index(g->key.by)]);
	st_out_ks(o, "name", g->name);
	st_out_ku(o, "conns", g->conns);
	st_out_ku(o, "first_ts", g->first_ts);
	st_out_ku(o, "last_ts", g->last_ts);
	st_out_fmt(o, ",\"rate\":%.3f", rate(g));
	for (int m = 0; m < ST_M__N; m++)
		st_stats_pct_json(o, st_metric_name[m], &g->h[m]);
	st_out_ku(o, "bytes_in", g->bytes_in);
	st_out_ku(o, "bytes_out", g->bytes_out);
	st_out_ku(o, "closed_first_self", g->closer[0]);
	st_out_ku(o, "closed_first_peer", g->closer[1]);
	st_out_ku(o, "closed_first_unknown", g->closer[2]);
	st_out_ku(o, "closed_first_both", g->closer[3]);
	st_out_str(o, ",\"ended\":{");
	for (int e = 0; e < ST_ENDED__N; e++) {
		st_out_fmt(o, "%s\"%s\":", e ? "," : "", st_ended_name[e]);
		st_out_u64(o, g->ended[e]);
	}
	st_out_chr(o, '}');
	errs_json(o, g);
	if (g->key.by == ST_BY_LISTENER && g->have_listener) {
		st_out_ki(o, "backlog", g->backlog);
		st_out_ki(o, "effective_backlog", g->effective_backlog);
		st_out_ki(o, "somaxconn", g->somaxconn);
		st_out_ku(o, "max_queue_len", g->max_queue_len);
		st_out_ku(o, "queue_max", g->queue_max);
		st_out_str(o, g->queue_full ? ",\"queue_full\":true"
					    : ",\"queue_full\":false");
	}
	if (g->key.by == ST_BY_PROCESS) {
		st_out_ku(o, "opened", g->opened);
		st_out_ku(o, "closed", g->closed);
		st_out_ku(o, "still_open", g->still_open);
		st_out_ku(o, "lost", g->lost);
	}
	st_out_str(o, "}\n");
}

void st_stats_json(const struct st_stats *s, struct st_out *o)
{
	for (const struct st_sgroup *g = s->groups; g; g = g->hh.next)
		if (s->so.by & g->key.by)
			group_json(o, g);
	for (int m = 0; m < ST_M__N; m++) {
		for (unsigned i = 0; i < s->ntop[m]; i++) {
			st_out_str(o, "{\"type\":\"outlier\"");
			st_out_ks(o, "metric", st_metric_name[m]);
			st_out_ku(o, "rank", i + 1);
			st_json_conn(o, "conn", s->top[m][i].conn);
			st_out_ku(o, "ns", s->top[m][i].v);
			st_out_str(o, "}\n");
		}
	}
	st_fgroups_json(&s->fg, o, s->set);
}
