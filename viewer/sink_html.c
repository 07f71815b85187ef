/* SPDX-License-Identifier: MIT */
/* The HTML sink (view --html): one self-contained page of the timelines. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "load.h"
#include "overview.h"
#include "records.h"
#include "sink_json.h"
#include "sink_text.h"
#include "stats.h"
#include "units.h"

/*
 * The page is viewer/html/report.html with report.css and report.js put
 * in its place (the Makefile turns the three into C arrays with xxd -i)
 * and the data in between, as JSON in a script element: the process, conn
 * and finding objects view --json prints, and per connection end its
 * timeline lines as the text view shows them.  Nothing is fetched: the
 * page works offline.  It streams: connections are written as the model
 * finishes them, so memory stays bounded.
 *
 * Above the lanes the page draws an overview of every connection shown:
 * the stats stage (stats.c: groups, percentiles, outliers, grouped
 * findings) and the overview's bins (overview.c, fed by the stats
 * stage's latencies), written after the data as their JSON lines.
 * Those are bounded by groups and bins; the lanes are not, so they
 * stop at ST_HTML_BUDGET bytes of file: past it a connection is only
 * counted, and the page and stderr say so.
 */
#include "overview_js.h"
#include "report_css.h"
#include "report_html.h"
#include "report_js.h"

/* 40 MiB of file: about 13,000 connections of 10 calls (README, "HTML
 * report", has what Chromium makes of it). */
#define ST_HTML_BUDGET (40ull << 20)

struct st_html {
	struct st_out o;
	FILE *f;
	const char *path;
	struct st_out scratch; /* text captured from the text renderer */
	struct st_render rd;   /* writes to o */
	struct st_render srd;  /* writes to scratch */
	const char *rest;      /* the template after the data */
	size_t nrest;
	uint64_t lanes; /* connections written */
	bool (*pass)(const struct st_trace *t, void *arg);
	void *arg;
	struct st_stats st;
	struct st_overview *ov;
	uint64_t budget;      /* bytes of file for the lanes */
	bool over;	      /* past it: connections only counted */
	uint64_t kept, until; /* connections with a lane, the last close */
};

static const char *find(const char *s, size_t n, const char *what)
{
	const char *p = memmem(s, n, what, strlen(what));

	return p ? p : s + n;
}

/* The template up to MARK, with the CSS and JS markers filled in. */
static void copy_until(struct st_html *h, const char **s, size_t *n,
		       const char *mark)
{
	const char *end = find(*s, *n, mark);

	while (*s < end) {
		const char *css = find(*s, (size_t)(end - *s), "<!--CSS-->");
		const char *js = find(*s, (size_t)(end - *s), "<!--JS-->");
		const char *m = css < js ? css : js;
		st_out_mem(&h->o, *s, (size_t)(m - *s));
		if (m == end)
			break;
		if (m == css) {
			st_out_mem(&h->o, (const char *)report_css,
				   report_css_len);
			m += strlen("<!--CSS-->");
		} else {
			/* the overview first: the lanes' script calls it */
			st_out_mem(&h->o, (const char *)overview_js,
				   overview_js_len);
			st_out_mem(&h->o, (const char *)report_js,
				   report_js_len);
			m += strlen("<!--JS-->");
		}
		*n -= (size_t)(m - *s);
		*s = m;
	}
	*n -= (size_t)(end - *s);
	*s = end;
	if (*n) {
		*s += strlen(mark);
		*n -= strlen(mark);
	}
}

static int html_begin(void **state, const struct st_sink_env *env,
		      const struct st_view_opts *vo)
{
	struct st_html *h;
	const char *s = (const char *)report_html;
	size_t n = report_html_len;
	FILE *f;
	/* every section: the page has room for them all */
	struct st_stats_opts so = {
		.by = ST_BY_LISTENER | ST_BY_PEER | ST_BY_PROCESS,
		.top = 10,
		.json = true,
	};

	if (!vo->html)
		return 0;
	f = st_sink_file_open(vo->html);
	if (!f)
		return -1;
	h = calloc(1, sizeof(*h));
	if (h)
		h->ov = malloc(sizeof(*h->ov));
	if (!h || !h->ov) {
		free(h);
		fprintf(stderr, "socktrace: out of memory\n");
		fclose(f);
		return -1;
	}
	st_out_init(&h->o, f);
	h->f = f;
	h->path = vo->html;
	/* scratch never reaches a file: one line of text fits its buffer */
	st_out_init(&h->scratch, NULL);
	h->rd = env->rd;
	h->rd.o = &h->o;
	h->rd.color = false;
	h->srd = h->rd;
	h->srd.o = &h->scratch;
	copy_until(h, &s, &n, "<!--DATA-->");
	h->rest = s;
	h->nrest = n;
	h->pass = env->proc_shown;
	h->arg = env->arg;
	h->budget = vo->budget ? vo->budget : ST_HTML_BUDGET;
	st_overview_init(h->ov);
	st_stats_init(&h->st, &so, env->rd.m->set);
	h->st.each = st_overview_metric;
	h->st.each_arg = h->ov;
	st_out_str(&h->o, "<script type=\"application/json\" id=\"st-data\">"
			  "[\n");
	*state = h;
	return 0;
}

/* What the text renderer said, trimmed, as a JSON string. */
static void scratch_str(struct st_html *h)
{
	const char *s = h->scratch.buf;
	size_t n = h->scratch.len;

	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		n--;
	while (n && (*s == ' ' || *s == '\n')) {
		s++;
		n--;
	}
	st_out_json_str(&h->o, s, n);
	h->scratch.len = 0;
}

/* A call's kind, for its colour: setup, connect, accept, in, out, close,
 * or other. */
static const char *kind_of(const struct st_rec *r)
{
	switch (r->call) {
	case ST_CALL_connect:
		return "connect";
	case ST_CALL_accept:
	case ST_CALL_accept4:
		return "accept";
	case ST_CALL_close:
	case ST_CALL_fclose:
	case ST_CALL_close_range:
	case ST_CALL_closefrom:
	case ST_CALL_exit_close:
	case ST_CALL_shutdown:
		return "close";
	case ST_CALL_socket:
	case ST_CALL_socketpair:
	case ST_CALL_bind:
	case ST_CALL_listen:
	case ST_CALL_seen:
		return "setup";
	default:
		if (st_call_dir[r->call] == ST_DIR_IN)
			return "in";
		if (st_call_dir[r->call] == ST_DIR_OUT)
			return "out";
		return "other";
	}
}

static void end(struct st_html *h, const struct st_conn *c)
{
	struct st_out *o = &h->o;
	const struct st_model *m = h->rd.m;
	char pn[48], d[160];

	st_out_str(o, "{\"conn\":");
	st_render_json(&h->rd, c);
	st_out_str(o, ",\"proc\":");
	st_proc_name(&m->set->t[c->file], pn);
	st_out_json_str(o, pn, strlen(pn));
	st_out_str(o, ",\"summary\":");
	st_render_summary(&h->srd, c);
	scratch_str(h);
	st_out_str(o, ",\"note\":");
	st_render_end_note(&h->srd, c);
	scratch_str(h);
	st_out_ku(o, "dropped", c->ev_dropped);
	/* timeline lines: [start, dur, end, call, kind, failed, what,
	 * fields, tid, count, states after, pid], times in ns from t0 */
	st_out_str(o, ",\"ev\":[");
	for (uint32_t i = 0; i < c->nev; i++) {
		const struct st_ev *e = &c->ev[i];
		const struct st_rec *r = &e->r;
		int32_t pid = m->set->t[e->file].hdr.pid;

		st_out_str(o, i ? ",\n[" : "\n[");
		st_out_i64(o, (int64_t)(r->ts - m->t0));
		st_out_chr(o, ',');
		st_out_u64(o, r->dur);
		st_out_chr(o, ',');
		st_out_i64(o, (int64_t)(e->end - m->t0));
		st_out_chr(o, ',');
		st_out_json_str(o, st_call_name[r->call],
				strlen(st_call_name[r->call]));
		st_out_chr(o, ',');
		st_out_json_str(o, kind_of(r), strlen(kind_of(r)));
		/* 1: failed; 2: would block or in progress, the normal
		 * course of non-blocking I/O */
		st_out_str(o, !(r->flags & ST_REC_ERR) ? ",0,"
			      : st_errno_soft(r->err)  ? ",2,"
						       : ",1,");
		st_render_describe(&h->srd, e, d, sizeof(d));
		st_out_json_str(o, d, strlen(d));
		st_out_chr(o, ',');
		st_out_end(&h->scratch,
			   st_put_rec_text_fields(
				   st_out_room(&h->scratch, ST_FIELDS_TEXT_MAX),
				   r, pid));
		scratch_str(h);
		st_out_chr(o, ',');
		st_out_i64(o, r->tid);
		st_out_chr(o, ',');
		st_out_u64(o, e->count);
		/* the states this line moved the ends through */
		st_out_str(o, ",[");
		for (uint32_t k = e->self_from; k < e->self_to && k < c->nst;
		     k++) {
			if (k > e->self_from)
				st_out_chr(o, ',');
			st_out_chr(o, '"');
			st_out_str(o, st_state_name[c->st[k].state]);
			st_out_chr(o, '"');
		}
		/* the pid that made the call (a forked child serving
		 * what its parent accepted) */
		st_out_str(o, "],");
		st_out_i64(o, pid);
		st_out_chr(o, ']');
	}
	st_out_str(o, "]}");
}

/* Bytes of the file so far. */
static uint64_t written(struct st_html *h)
{
	off_t at = ftello(h->f);

	return (at > 0 ? (uint64_t)at : 0) + h->o.len;
}

/* A connection (and its joined other end): counted, and one lane while
 * the file is within its budget (listeners always: they are few, and
 * the connections they accepted are drawn under them). */
static void html_conn(void *state, const struct st_conn *c)
{
	struct st_html *h = state;
	uint64_t close = c->close_ts;

	h->ov->t0 = h->rd.m->t0;
	st_stats_conn(&h->st, c);
	st_overview_conn(h->ov, c, h->rd.m->t0);
	if (c->role != ST_ROLE_LISTENER) {
		if (!h->over && written(h) >= h->budget)
			h->over = true;
		if (h->over)
			return;
		h->kept++;
		if (c->other && c->other->close_ts > close)
			close = c->other->close_ts;
		if (close > h->until)
			h->until = close;
	}
	st_out_str(&h->o, "{\"type\":\"lane\",\"ends\":[");
	end(h, c);
	if (c->other) {
		st_out_chr(&h->o, ',');
		end(h, c->other);
	}
	st_out_str(&h->o, "]}\n,");
	h->lanes++;
}

static void html_finding(void *state, const struct st_finding *f)
{
	struct st_html *h = state;

	st_stats_finding(&h->st, f);
	/* past the budget, only those of processes and listeners (whose
	 * lanes are kept) are listed one by one; the groups count all */
	if (h->over && f->scope == ST_SCOPE_CONN &&
	    f->kind != ST_F_backlog_clipped &&
	    f->kind != ST_F_accept_queue_full)
		return;
	st_render_finding_json(&h->rd, f);
	st_out_chr(&h->o, ',');
}

static void html_drop(void *state)
{
	struct st_html *h = state;

	fclose(h->f);
	st_stats_free(&h->st);
	free(h->ov);
	free(h);
}

/* Past the budget: what the lanes hold, on stderr (the page says it
 * from the meta object). */
static void budget_note(struct st_html *h)
{
	char n[32], all[32], t[32];

	snprintf(t, sizeof(t), "+%.6f",
		 h->until > h->rd.m->t0 ? (double)(h->until - h->rd.m->t0) / 1e9
					: 0.0);
	fprintf(stderr,
		"socktrace: %s: past the HTML size budget (%llu MiB): "
		"timelines for the first %s of %s connections (closed by "
		"%s s); the overview counts them all. Choose others with "
		"--since/--until or the filters.\n",
		h->path, (unsigned long long)(h->budget >> 20),
		st_fmt_thousands(n, h->kept),
		st_fmt_thousands(all, h->ov->conns), t);
}

/* The processes, the meta object and the rest of the page. */
static int html_end(void *state)
{
	struct st_html *h = state;
	struct st_out *o = &h->o;
	const struct st_model *m = h->rd.m;
	const struct st_header *h0 = m->set->n ? &m->set->t[0].hdr : NULL;
	char when[64] = "";
	time_t now = time(NULL);
	struct tm tm;

	if (localtime_r(&now, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", &tm);
	/* the processes last: their record and loss counts are final now */
	for (int i = 0; i < m->set->n; i++) {
		if (h->pass && !h->pass(&m->set->t[i], h->arg))
			continue;
		st_process_json(o, &m->set->t[i]);
		st_out_chr(o, ',');
	}
	st_stats_finish(&h->st);
	st_overview_json(h->ov, &h->st, o);
	/* every item ends with a comma: the meta object closes the list */
	st_out_str(o, "{\"type\":\"meta\"");
	st_out_ku(o, "budget", h->budget);
	st_out_str(o, h->over ? ",\"over\":true" : ",\"over\":false");
	st_out_ku(o, "kept", h->kept);
	st_out_ku(o, "until", h->until);
	st_out_ku(o, "t0", m->t0);
	st_out_ku(o, "now", m->now);
	/* CLOCK_REALTIME at t0, from the first file's clock pair */
	st_out_ku(o, "wall0", h0 ? h0->real_ns + (m->t0 - h0->mono_ns) : 0);
	st_out_ku(o, "lanes", h->lanes);
	st_out_ks(o, "generated", when);
	st_out_str(o, "}\n]</script>\n");
	/* the stats stage's JSON lines, as stats --json prints them */
	st_out_str(o, "<script type=\"application/x-ndjson\" "
		      "id=\"st-stats\">\n");
	st_stats_json(&h->st, o);
	st_out_str(o, "</script>\n");
	if (h->over)
		budget_note(h);
	const char *s = h->rest;
	size_t n = h->nrest;
	copy_until(h, &s, &n, "<!--END-->");
	int rc = st_out_flush(o);
	rc = st_sink_file_close(h->f, h->path, rc, h->lanes);
	st_stats_free(&h->st);
	free(h->ov);
	free(h);
	return rc;
}

const struct st_sink_ops st_sink_html = {
	.begin = html_begin,
	.conn = html_conn,
	.finding = html_finding,
	.end = html_end,
	.drop = html_drop,
};
