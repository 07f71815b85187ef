/* SPDX-License-Identifier: MIT */
/* The show engine: records in, connections and findings out to the sinks. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "merge.h"
#include "proc.h"
#include "records.h"
#include "show.h"
#include "sink.h"
#include "units.h"

/*
 * The output formats, in the order they are begun, fed and ended: JSON
 * first (stdout is flushed before the files are said to be written),
 * the text view last (it is the fallback, when no other began).  A new
 * format is a sink_<name>.c and a line here.
 */
/* clang-format off */
static const struct st_sink_ops *const formats[] = {
	&st_sink_json,
	&st_sink_perfetto,
	&st_sink_html,
	&st_sink_stats, /* stats and --stats: instead of the text view */
	&st_sink_text,
};
/* clang-format on */
#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

/* A format that began, and its state. */
struct st_sink {
	const struct st_sink_ops *ops;
	void *state;
};

struct st_show {
	struct st_model m;
	struct st_out *o; /* stdout */
	struct st_filter f;
	struct st_sink sinks[NFORMATS];
	size_t nsinks;
	bool calls; /* a sink takes calls: filter each record for it */
	bool quiet; /* apply records to the model, show nothing */
	uint64_t shown, *nshown; /* connections shown; where to say so */
};

/* Calls OP of every sink that has it, with the arguments that follow. */
#define EACH_SINK(s, op, ...)                                                \
	do {                                                                 \
		for (size_t i_ = 0; i_ < (s)->nsinks; i_++)                  \
			if ((s)->sinks[i_].ops->op)                          \
				(s)->sinks[i_].ops->op((s)->sinks[i_].state, \
						       __VA_ARGS__);         \
	} while (0)

/* ---- the filters: --pid, --conn, --port, --state, --finding... ------- */

/* Whether address A is what pattern P names. */
static bool pat_match(const struct st_addr_pat *p, const struct st_addr *a)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	unsigned fam = a->family & ~ST_ADDR_TRUNC;
	const uint8_t *ip = a->data;
	char b[64];

	if (p->family == AF_UNIX) {
		if (fam != AF_UNIX)
			return false;
		st_addr_str(a, b, sizeof(b));
		if (!(a->family & ST_ADDR_TRUNC))
			return !strcmp(b, p->path);
		/* only the path's tail was kept: the pattern must end so */
		size_t n = strlen(b + 3), pn = strlen(p->path);
		return pn >= n && !strcmp(p->path + pn - n, b + 3);
	}
	if (fam != AF_INET && fam != AF_INET6)
		return false;
	if (p->port >= 0 && a->port != p->port)
		return false;
	if (!p->family)
		return true;
	if (fam == AF_INET6 && !memcmp(ip, mapped, sizeof(mapped))) {
		fam = AF_INET;
		ip += 12;
	}
	return (int)fam == p->family &&
	       !memcmp(ip, p->ip, fam == AF_INET ? 4 : 16);
}

/* When moment W is in the trace's clock: T0 is its first call, H the
 * first file's clock anchors. */
static uint64_t when_ts(const struct st_when *w, const struct st_header *h,
			uint64_t t0)
{
	int64_t wall = w->ns;

	if (w->kind == ST_WHEN_REL)
		return t0 + (uint64_t)w->ns;
	if (w->kind == ST_WHEN_CLOCK) {
		/* that time of day, on the day the trace began */
		time_t d = (time_t)((h->real_ns + (t0 - h->mono_ns)) /
				    1000000000u);
		struct tm tm;
		localtime_r(&d, &tm);
		tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		tm.tm_isdst = -1;
		wall += (int64_t)mktime(&tm) * 1000000000ll;
	}
	int64_t mono = wall - (int64_t)h->real_ns + (int64_t)h->mono_ns;
	return mono < 0 ? 0 : (uint64_t)mono;
}

/* The --since/--until window in the trace's clock, once there is a
 * trace file; T0 is the trace's first call. */
static void resolve_window(struct st_filter *f, uint64_t t0)
{
	const struct st_header *h;

	if (f->resolved || !f->m->set->n)
		return;
	h = &f->m->set->t[0].hdr;
	f->since = f->x.since.kind ? when_ts(&f->x.since, h, t0) : 0;
	f->until = f->x.until.kind ? when_ts(&f->x.until, h, t0) : UINT64_MAX;
	f->resolved = true;
}

/* When end E stopped being open, as far as the trace tells. */
static uint64_t end_ts(const struct st_filter *f, const struct st_conn *e)
{
	return e->end == ST_END_OPEN || !e->close_ts ? f->m->now : e->close_ts;
}

/* Did end E pass through one of the states in MASK? */
static bool passed(const struct st_conn *e, uint32_t mask)
{
	if (mask & 1u << e->state)
		return true;
	/* TIME_WAIT ends by itself in CLOSED, as the outputs say */
	if (e->state == ST_ST_TIME_WAIT && (mask & 1u << ST_ST_CLOSED))
		return true;
	for (uint32_t i = 0; i < e->nst; i++)
		if (mask & 1u << e->st[i].state)
			return true;
	return false;
}

/* The address of listener ID, which may have been shown already. */
static const struct st_addr *listener_addr(const struct st_filter *f,
					   uint64_t id)
{
	const struct st_conn *l = st_conntab_find(&f->m->tab, id);

	if (l)
		return &l->local;
	for (uint32_t i = 0; i < f->nlis; i++)
		if (f->lis[i].id == id)
			return &f->lis[i].local;
	return NULL;
}

/* Is end E (a listener, or a server end from one) on --listener's? */
static bool on_listener(const struct st_filter *f, const struct st_conn *e)
{
	const struct st_addr_pat *p = &f->x.listener;
	const struct st_addr *la;

	if (e->role == ST_ROLE_LISTENER)
		return pat_match(p, &e->local);
	if (e->role != ST_ROLE_SERVER)
		return false;
	la = e->listener ? listener_addr(f, e->listener) : NULL;
	return (la && pat_match(p, la)) || pat_match(p, &e->local);
}

/* Has end E a held finding of a kind --finding asks for? */
static bool has_finding(const struct st_filter *f, const struct st_conn *e)
{
	for (uint32_t i = 0; i < f->nheld; i++)
		if (f->held[i].conn == e->id &&
		    (f->x.findings & 1u << f->held[i].kind))
			return true;
	return false;
}

/* Do the ends C and O (or NULL) pass the filters of st_filter_opts?  The
 * connection passes when any end does (times: the two together). */
static bool flt_match(struct st_filter *f, const struct st_conn *c,
		      const struct st_conn *o)
{
	const struct st_filter_opts *x = &f->x;
	const struct st_conn *e[2] = { c, o };
	uint64_t lo = c->open_ts, hi = end_ts(f, c), dur = 0;
	bool st = !x->states, fi = !x->findings, pe = !x->peer.set,
	     li = !x->listener.set;

	resolve_window(f, f->m->t0);
	for (int i = 0; i < (o ? 2 : 1); i++) {
		uint64_t end = end_ts(f, e[i]);
		if (e[i]->open_ts < lo)
			lo = e[i]->open_ts;
		if (end > hi)
			hi = end;
		if (end > e[i]->open_ts && end - e[i]->open_ts > dur)
			dur = end - e[i]->open_ts;
		st = st || passed(e[i], x->states);
		fi = fi || has_finding(f, e[i]);
		pe = pe || pat_match(&x->peer, &e[i]->peer);
		li = li || on_listener(f, e[i]);
	}
	return st && fi && pe && li && dur >= x->min_dur && lo <= f->until &&
	       hi >= f->since;
}

/* Did a call of the --pid process use connection ID, made elsewhere? */
static struct st_filter_used *used(const struct st_filter *f, uint64_t id)
{
	struct st_filter_used *u;

	HASH_FIND(hh, f->used, &id, sizeof(id), u);
	return u;
}

static void unuse(struct st_filter *f, const struct st_conn *c)
{
	struct st_filter_used *u = c ? used(f, c->id) : NULL;

	if (u) {
		HASH_DEL(f->used, u);
		free(u);
	}
}

void st_filter_record(struct st_filter *f, const struct st_rec *r, int file)
{
	if (!f->pid || !r->conn || f->m->set->t[file].hdr.pid != f->pid ||
	    (uint32_t)(r->conn >> 32) == (uint32_t)f->pid || used(f, r->conn))
		return;
	struct st_filter_used *u = st__xcalloc(1, sizeof(*u));
	u->id = r->conn;
	HASH_ADD(hh, f->used, id, sizeof(u->id), u);
}

/* Does end C pass --pid, --conn and --port? */
static bool end_match(const struct st_filter *f, const struct st_conn *c)
{
	if (f->pid && f->m->set->t[c->file].hdr.pid != f->pid &&
	    !used(f, c->id))
		return false;
	if (f->conn && c->id != f->conn)
		return false;
	if (f->port >= 0 && c->local.port != f->port && c->peer.port != f->port)
		return false;
	return true;
}

void st_filter_init(struct st_filter *f, const struct st_view_opts *vo,
		    const struct st_model *m)
{
	memset(f, 0, sizeof(*f));
	f->m = m;
	f->pid = vo->pid;
	f->conn = vo->conn;
	f->port = vo->port;
	f->x = vo->flt;
	f->any = st_filter_any(&vo->flt);
}

void st_filter_free(struct st_filter *f)
{
	struct st_filter_used *u, *tmp;

	HASH_ITER(hh, f->used, u, tmp) {
		HASH_DEL(f->used, u);
		free(u);
	}
	free(f->held);
	free(f->lis);
	f->held = NULL;
	f->lis = NULL;
}

bool st_filter_proc(const struct st_filter *f, const struct st_trace *t)
{
	return !f->pid || t->hdr.pid == f->pid;
}

bool st_filter_call(struct st_filter *f, const struct st_rec *r, int file)
{
	const struct st_trace *t = &f->m->set->t[file];

	if (!st_filter_proc(f, t) ||
	    (f->conn && r->conn != f->conn &&
	     !(st_call_shape[r->call] == ST_SHAPE_ID_accept &&
	       st_cnum_conn(t->hdr.pid, r->u.accept.conn2) == f->conn)))
		return false;
	if (!f->x.since.kind && !f->x.until.kind)
		return true;
	/* --since/--until: calls at work within the window */
	resolve_window(f, f->m->t0 ? f->m->t0 : r->ts);
	return r->ts <= f->until && st_rec_end(r) >= f->since;
}

bool st_filter_finding(struct st_filter *f, const struct st_finding *fd)
{
	if (f->pid && f->m->set->t[fd->file].hdr.pid != f->pid)
		return false;
	if (f->conn && fd->conn != f->conn)
		return false;
	if (f->any && fd->scope == ST_SCOPE_CONN) {
		/* decided with its connection, which comes next */
		if (f->nheld == f->capheld)
			st__grow((void **)&f->held, &f->capheld,
				 sizeof(*f->held));
		f->held[f->nheld++] = *fd;
		return false;
	}
	return !f->x.findings || (f->x.findings & 1u << fd->kind);
}

bool st_filter_conn(struct st_filter *f, const struct st_conn *c,
		    const struct st_conn *o, bool shown,
		    void (*fn)(const struct st_finding *, void *), void *arg)
{
	bool match = shown && (end_match(f, c) || (o && end_match(f, o))) &&
		     (!f->any || flt_match(f, c, o));

	unuse(f, c);
	unuse(f, o);
	if (!f->any)
		return match;
	if (c->role == ST_ROLE_LISTENER && f->x.listener.set && c->emitted) {
		/* shown before the server ends it accepted, maybe */
		if (f->nlis == f->caplis)
			st__grow((void **)&f->lis, &f->caplis, sizeof(*f->lis));
		f->lis[f->nlis].id = c->id;
		f->lis[f->nlis++].local = c->local;
	}
	for (uint32_t i = 0; match && i < f->nheld; i++)
		if (!f->x.findings || (f->x.findings & 1u << f->held[i].kind))
			fn(&f->held[i], arg);
	f->nheld = 0;
	return match;
}

/* ---- the show engine ------------------------------------------------- */

/* A finding shown: to every sink. */
static void show_finding(const struct st_finding *fd, void *arg)
{
	struct st_show *s = arg;

	EACH_SINK(s, finding, fd);
}

static bool pid_match(const struct st_trace *t, void *arg)
{
	const struct st_show *s = arg;

	return st_filter_proc(&s->f, t);
}

/* Calls shown beside the connections (JSON lines, Perfetto slices): those
 * of the process and connection asked for, and the accept that made it;
 * with --since/--until, those at work within the window. */
static bool call_match(const struct st_rec *r, int file, void *arg)
{
	struct st_show *s = arg;

	return st_filter_call(&s->f, r, file);
}

static void on_conn(struct st_model *m, struct st_conn *c, void *arg)
{
	struct st_show *s = arg;
	struct st_conn *o;

	st_conn_ends(&c, &o);
	if (st_filter_conn(&s->f, c, o,
			   !s->quiet && !(c->hidden && (!o || o->hidden)),
			   show_finding, s)) {
		s->shown++;
		EACH_SINK(s, conn, c);
	}
	st_conn_free(m, o);
	st_conn_free(m, c);
}

static void on_finding(struct st_model *m, const struct st_finding *f,
		       void *arg)
{
	struct st_show *s = arg;

	(void)m;
	if (!s->quiet && st_filter_finding(&s->f, f))
		EACH_SINK(s, finding, f);
}

/* Frees S and what it holds; sinks still open are dropped unfinished. */
static void show_free(struct st_show *s)
{
	for (size_t i = 0; i < s->nsinks; i++)
		if (s->sinks[i].ops->drop)
			s->sinks[i].ops->drop(s->sinks[i].state);
	st_model_free(&s->m);
	st_filter_free(&s->f);
	free(s->o);
	free(s);
}

/* Begins every format VO asks for; -1 after one said why it cannot. */
static int begin_sinks(struct st_show *s, const struct st_view_opts *vo)
{
	struct st_sink_env env = {
		.rd = { .o = s->o,
			.m = &s->m,
			.color = vo->color,
			.wall = vo->wall },
		.proc_shown = pid_match,
		.call_shown = call_match,
		.arg = s,
	};

	for (size_t i = 0; i < NFORMATS; i++) {
		void *state = NULL;
		if (formats[i]->fallback && s->nsinks)
			continue;
		if (formats[i]->begin(&state, &env, vo))
			return -1;
		if (!state)
			continue;
		s->sinks[s->nsinks++] = (struct st_sink){ formats[i], state };
		if (formats[i]->call)
			s->calls = true;
	}
	return 0;
}

struct st_show *st_show_open(struct st_traceset *set,
			     const struct st_view_opts *vo)
{
	struct st_show *s = calloc(1, sizeof(*s));
	struct st_out *o = malloc(sizeof(*o));

	if (!s || !o) {
		fprintf(stderr, "socktrace: out of memory\n");
		free(s);
		free(o);
		return NULL;
	}
	st_out_init(o, vo->out ? vo->out : stdout);
	s->nshown = vo->nshown;
	s->o = o;
	st_filter_init(&s->f, vo, &s->m);
	st_model_init(&s->m, set, on_conn, on_finding, s);
	st_model_liveness(&s->m, st_proc_alive, NULL);
	if (begin_sinks(s, vo)) {
		show_free(s);
		return NULL;
	}
	return s;
}

struct st_model *st_show_model(struct st_show *s)
{
	return &s->m;
}

void st_show_quiet(struct st_show *s, bool quiet)
{
	s->quiet = quiet;
}

void st_show_process(struct st_show *s, int file)
{
	if (pid_match(&s->m.set->t[file], s))
		EACH_SINK(s, process, file);
}

void st_show_record(struct st_show *s, const struct st_rec *r, int file)
{
	if (!s->quiet && s->calls && call_match(r, file, s))
		EACH_SINK(s, call, r, file);
	st_filter_record(&s->f, r, file);
	st_model_add(&s->m, r, file);
}

int st_show_flush(struct st_show *s)
{
	return st_out_flush(s->o);
}

int st_show_close(struct st_show *s)
{
	int rc = 0;

	s->quiet = false;
	st_model_finish(&s->m);
	for (size_t i = 0; i < s->nsinks; i++)
		if (s->sinks[i].ops->end(s->sinks[i].state))
			rc = 1;
	s->nsinks = 0; /* ended: nothing left to drop */
	if (s->nshown)
		*s->nshown = s->shown;
	show_free(s);
	return rc;
}

/* Shows SET once as VO asks; an exit code. */
static int show_once(struct st_traceset *set, const struct st_view_opts *vo)
{
	struct st_merge mg;
	struct st_rec r;
	int file;
	struct st_show *s = st_show_open(set, vo);

	if (!s)
		return 1;
	/* after the fact: a connection may wait for its TIME_WAIT's end */
	st_show_model(s)->hold_tw = true;
	if (st_merge_init(&mg, set)) {
		fprintf(stderr, "socktrace: out of memory\n");
		st_show_close(s);
		return 1;
	}
	for (int i = 0; i < set->n; i++)
		st_show_process(s, i);
	while (st_merge_next(&mg, &r, &file))
		st_show_record(s, &r, file);
	int rc = st_show_close(s);
	st_merge_free(&mg);
	return rc;
}

/*
 * The stats summary of SET, filtered as VO asks, into *BUF (*LEN
 * bytes; free it); returns how many connections it covers, or 0 when it
 * could not be made.
 */
static uint64_t summary_of(struct st_traceset *set,
			   const struct st_view_opts *vo, char **buf,
			   size_t *len)
{
	struct st_view_opts so = *vo;
	struct st_read_counts *rc = st_traceset_counts(set);
	uint64_t n = 0;

	*buf = NULL;
	so.out = open_memstream(buf, len);
	so.stats = &st_stats_text_opts;
	so.nshown = &n;
	if (!rc || !so.out) {
		free(rc);
		if (so.out)
			fclose(so.out);
		free(*buf);
		return 0;
	}
	if (show_once(set, &so))
		n = 0;
	st_traceset_counts_restore(set, rc);
	fclose(so.out);
	return n;
}

/* The summary of a view too long to read whole, then how to narrow it
 * down; true when it was shown.  A view of fewer records than
 * ST_VIEW_SUMMARY_MIN has fewer connections: it is not looked at twice. */
static bool show_summary(struct st_traceset *set, const struct st_view_opts *vo)
{
	uint64_t records = 0, n;
	char *buf, num[32];
	size_t len;

	for (int i = 0; i < set->n; i++)
		records += set->t[i].end - set->t[i].first;
	if (records <= ST_VIEW_SUMMARY_MIN)
		return false;
	n = summary_of(set, vo, &buf, &len);
	if (n > ST_VIEW_SUMMARY_MIN) {
		fwrite(buf, 1, len, stdout);
		printf("\n%s connections: the summary above sums them up; "
		       "their timelines follow.\n"
		       "Narrow them down with --state S, --finding KIND, "
		       "--since T, --until T,\n"
		       "--min-duration D, --peer ADDR, --listener ADDR, --pid "
		       "PID or --port PORT;\n"
		       "'socktrace view --conn ID' shows one (the outliers "
		       "above name some).\n\n",
		       st_fmt_thousands(num, n));
	}
	free(buf);
	return n > ST_VIEW_SUMMARY_MIN;
}

int st_show(struct st_traceset *set, const struct st_view_opts *vo)
{
	/* the text timelines only: the other outputs are for programs */
	if (!vo->json && !vo->html && !vo->perfetto && !vo->stats && !vo->out)
		show_summary(set, vo);
	return show_once(set, vo);
}

int st_show_paths(const char *cmd, char **paths, int npaths,
		  const struct st_view_opts *vo)
{
	struct st_traceset set;
	char err[ST_ERR_LEN];

	if (st_traceset_open(&set, paths, npaths, err)) {
		fprintf(stderr, "socktrace %s: %s\n", cmd, err);
		return 1;
	}
	int rc = st_show(&set, vo);
	if (st_traceset_warn(&set) || set.failed)
		rc = 1;
	st_traceset_close(&set);
	return rc;
}
