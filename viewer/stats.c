/* SPDX-License-Identifier: MIT */
/* The stats stage: connections summed up by listener, peer and process. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "records.h"
#include "stats.h"

const char *const st_metric_name[] = { "connect", "accept_queue_wait", "ttfb",
				       "lifetime" };
const char *const st_ended_name[] = { "fin", "rst", "exit", "killed", "open" };

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p) {
		fprintf(stderr, "socktrace: out of memory\n");
		exit(1);
	}
	return p;
}

void st_stats_init(struct st_stats *s, const struct st_stats_opts *so,
		   const struct st_traceset *set)
{
	memset(s, 0, sizeof(*s));
	s->so = *so;
	s->set = set;
	for (int m = 0; m < ST_M__N; m++)
		s->top[m] = xcalloc(so->top, sizeof(*s->top[m]));
}

/* The group BY with key ID and ADDR; a new one has an empty name, for
 * the caller to give (names are made once per group, not per end). */
static struct st_sgroup *group(struct st_stats *s, unsigned by, uint64_t id,
			       const struct st_addr *addr)
{
	struct st_sgroup *g, k;

	memset(&k.key, 0, sizeof(k.key));
	k.key.by = (uint8_t)by;
	k.key.id = id;
	if (addr)
		k.key.addr = *addr;
	/* runs of ends share their groups (one listener, one client
	 * program): the group found last for BY is compared first */
	g = s->last[by >> 1];
	if (g && !memcmp(&g->key, &k.key, sizeof(k.key)))
		return g;
	HASH_FIND(hh, s->groups, &k.key, sizeof(k.key), g);
	if (!g) {
		g = xcalloc(1, sizeof(*g));
		g->key = k.key;
		HASH_ADD(hh, s->groups, key, sizeof(g->key), g);
	}
	s->last[by >> 1] = g;
	return g;
}

/* Keeps V of connection CONN if it is among the top N of metric M. */
static void outlier(struct st_stats *s, int m, uint64_t v, uint64_t conn)
{
	struct st_outlier *t = s->top[m];
	unsigned n = s->ntop[m], i;

	if (!s->so.top || (n == s->so.top && v <= t[n - 1].v))
		return;
	if (n < s->so.top)
		s->ntop[m] = ++n;
	/* insertion into a short sorted array: --top is small */
	for (i = n - 1; i > 0 && t[i - 1].v < v; i--)
		t[i] = t[i - 1];
	t[i] = (struct st_outlier){ v, conn };
}

static void metric(struct st_stats *s, struct st_sgroup *g, int m, uint64_t v,
		   const struct st_conn *e)
{
	st_histo_add(&g->h[m], v);
	st_histo_add(&s->all[m], v);
	outlier(s, m, v, e->id);
	if (s->each)
		s->each(s->each_arg, m, v, e);
}

static void count_err(struct st_sgroup *g, int err)
{
	for (int i = 0; i < ST_STATS_ERRNOS; i++) {
		if (g->err[i].err == err || !g->err[i].n) {
			g->err[i].err = err;
			g->err[i].n++;
			return;
		}
	}
	g->err_other++;
}

/* How end E ended.  RST: the hook for when the model tells a reset
 * apart (a close_tcp_state or an end reason); until then a reset end
 * counts as closed. */
static int ended(const struct st_conn *e)
{
	/* an RST ended it, whichever end sent it (tcpstate.c's evidence) */
	if (e->reset_by)
		return ST_ENDED_RST;
	switch (e->end) {
	case ST_END_CLOSED:
		return ST_ENDED_FIN;
	case ST_END_EXIT:
		return ST_ENDED_EXIT;
	case ST_END_DEATH:
		return ST_ENDED_KILLED;
	default:
		return ST_ENDED_OPEN;
	}
}

/* Counts each errno end E's calls failed with once: errors are
 * connections that saw them, not calls (a refused connect may fail
 * again on a retry or a read). */
static void errors(struct st_sgroup *g, const struct st_conn *e)
{
	int seen[ST_STATS_ERRNOS], n = 0;

	if (e->connect_err)
		seen[n++] = e->connect_err;
	for (uint32_t i = 0; i < e->nev && n < ST_STATS_ERRNOS; i++) {
		int err = e->ev[i].r.err, j;
		/* a non-blocking socket's "not yet" is no error */
		if (!(e->ev[i].r.flags & ST_REC_ERR) || err == EAGAIN ||
		    err == EINPROGRESS || err == EINTR || err == EALREADY)
			continue;
		for (j = 0; j < n && seen[j] != err; j++)
			;
		if (j == n)
			seen[n++] = err;
	}
	for (int j = 0; j < n; j++)
		count_err(g, seen[j]);
}

/* What every connection group counts of end E; AGAIN: E was counted in
 * another group already, so the latencies over all connections and the
 * outliers have it. */
static void common(struct st_stats *s, struct st_sgroup *g,
		   const struct st_conn *e, uint64_t ts, bool again)
{
	g->conns++;
	if (!g->first_ts || ts < g->first_ts)
		g->first_ts = ts;
	if (ts > g->last_ts)
		g->last_ts = ts;
	g->bytes_in += e->bytes_in;
	g->bytes_out += e->bytes_out;
	/* closed_first 2: both closed first (simultaneous close) */
	g->closer[e->closed_first == 2	? 3
		  : e->closed_first > 0 ? 0
		  : e->closed_first < 0 ? 1
					: 2]++;
	g->ended[ended(e)]++;
	if (e->close_ts && e->close_ts >= e->open_ts && again)
		st_histo_add(&g->h[ST_M_LIFE], e->close_ts - e->open_ts);
	else if (e->close_ts && e->close_ts >= e->open_ts)
		metric(s, g, ST_M_LIFE, e->close_ts - e->open_ts, e);
	errors(g, e);
}

/* A listener's own end: its queue, against its limit. */
static void listener_end(struct st_stats *s, const struct st_conn *e)
{
	struct st_sgroup *g = group(s, ST_BY_LISTENER, e->id, NULL);

	/* named after the listener's own process (nginx's master), not the
	 * worker whose connection came first */
	st_listener_name(e, s->set, g->name, sizeof(g->name));
	g->have_listener = true;
	g->backlog = e->backlog;
	g->effective_backlog = e->effective_backlog;
	g->somaxconn = e->somaxconn;
	g->max_queue_len = e->max_queue_len;
	g->queue_max = e->queue_max;
	g->queue_full = e->queue_full;
}

/* A server end: counted in its listener's group (or its port's, when
 * the listener was not seen), and, with its client untraced, in the
 * group of the client's address. */
static void server_end(struct st_stats *s, const struct st_conn *e,
		       const struct st_conn *cl)
{
	struct st_sgroup *g =
		group(s, ST_BY_LISTENER,
		      e->listener ? e->listener : e->local.port, NULL);
	if (!g->name[0])
		st_listener_name(e, s->set, g->name, sizeof(g->name));
	uint64_t ts = e->accept_ts ? e->accept_ts : e->open_ts;

	common(s, g, e, ts, false);
	if (cl)
		metric(s, g, ST_M_QUEUE, e->accept_wait, e);
	if (cl || !(s->so.by & ST_BY_PEER))
		return;
	/* the client is not traced: its address (not its port) is the peer */
	struct st_addr a = e->peer;
	a.port = 0;
	g = group(s, ST_BY_PEER, 1, &a);
	if (!g->name[0]) {
		char ip[80];
		st_addr_str(&a, ip, sizeof(ip));
		size_t l = strlen(ip);
		if (l > 2 && !strcmp(ip + l - 2, ":0"))
			ip[l - 2] = 0; /* no port: any of the client's */
		snprintf(g->name, sizeof(g->name), "clients at %s",
			 ip[0] ? ip : "?");
	}
	common(s, g, e, ts, true);
}

/* A client end: counted by where it connected, or, when the server end
 * is traced too, by the client program (its command name: a loop of
 * curls is one group) and where it connected. */
static void client_end(struct st_stats *s, const struct st_conn *e,
		       const struct st_conn *srv)
{
	const char *comm = s->set->t[e->file].hdr.comm;
	uint64_t id = 0;
	char a[80];

	if (srv) {
		/* the name's hash (FNV-1a) as the key: no pid in it */
		id = 0xcbf29ce484222325ull;
		for (size_t i = 0; i < 16 && comm[i]; i++)
			id = (id ^ (uint8_t)comm[i]) * 0x100000001b3ull;
		id |= 2;
	}
	struct st_sgroup *g = group(s, ST_BY_PEER, id, &e->peer);
	if (!g->name[0]) {
		st_addr_str(&e->peer, a, sizeof(a));
		snprintf(g->name, sizeof(g->name), "%.16s%s%s", srv ? comm : "",
			 srv ? " to " : "", a[0] ? a : "?");
	}
	uint64_t ts = e->connect_ts ? e->connect_ts : e->open_ts;

	common(s, g, e, ts, false);
	if (e->est_ts && e->connect_ts && e->est_ts >= e->connect_ts)
		metric(s, g, ST_M_CONNECT, e->est_ts - e->connect_ts, e);
	if (e->first_in_ts && e->connect_ts && e->first_in_ts >= e->connect_ts)
		metric(s, g, ST_M_TTFB, e->first_in_ts - e->connect_ts, e);
}

/* Trace file FILE's process group: every end asks, and the ends of
 * two processes alternate, so it is found by index, not hashed. */
static struct st_sgroup *process_group(struct st_stats *s, int file)
{
	if (file >= s->nprocs) {
		int n = file + 1 > 2 * s->nprocs ? file + 1 : 2 * s->nprocs;
		struct st_sgroup **p = realloc(s->procs, n * sizeof(*p));
		if (!p) {
			fprintf(stderr, "socktrace: out of memory\n");
			exit(1);
		}
		memset(p + s->nprocs, 0, (n - s->nprocs) * sizeof(*p));
		s->procs = p;
		s->nprocs = n;
	}
	if (!s->procs[file])
		s->procs[file] = group(s, ST_BY_PROCESS, (uint64_t)file, NULL);
	return s->procs[file];
}

/* Every end counts in its process's group. */
static void process_end(struct st_stats *s, const struct st_conn *e)
{
	struct st_sgroup *g = process_group(s, e->file);

	if (!g->name[0])
		st_proc_name(&s->set->t[e->file], g->name);
	g->opened++;
	if (e->end == ST_END_CLOSED)
		g->closed++;
	else if (e->end == ST_END_OPEN)
		g->still_open++;
	g->ended[ended(e)]++;
}

void st_stats_conn(struct st_stats *s, const struct st_conn *c)
{
	const struct st_conn *ends[2] = { c, c->other };

	st_fgroups_conn(&s->fg, c, s->set);
	for (int i = 0; i < 2; i++) {
		const struct st_conn *e = ends[i], *o = ends[!i];
		if (!e)
			continue;
		s->conns++;
		process_end(s, e);
		if (e->role == ST_ROLE_LISTENER)
			listener_end(s, e);
		else if (e->role == ST_ROLE_SERVER)
			server_end(s, e, o);
		else if (e->role == ST_ROLE_CLIENT)
			client_end(s, e, o);
	}
}

void st_stats_finding(struct st_stats *s, const struct st_finding *f)
{
	st_fgroups_finding(&s->fg, f, s->set);
}

void st_stats_finish(struct st_stats *s)
{
	st_fgroups_end(&s->fg, s->set);
	for (int i = 0; i < s->set->n; i++) {
		const struct st_trace *t = &s->set->t[i];
		if (!t->lost)
			continue;
		struct st_sgroup *g =
			group(s, ST_BY_PROCESS, (uint64_t)i, NULL);
		if (!g->name[0])
			st_proc_name(t, g->name);
		g->lost = t->lost;
	}
}

void st_stats_free(struct st_stats *s)
{
	struct st_sgroup *g, *gt;

	HASH_ITER(hh, s->groups, g, gt) {
		HASH_DEL(s->groups, g);
		for (int m = 0; m < ST_M__N; m++)
			st_histo_free(&g->h[m]);
		free(g);
	}
	for (int m = 0; m < ST_M__N; m++) {
		st_histo_free(&s->all[m]);
		free(s->top[m]);
	}
	free(s->procs);
	st_fgroups_free(&s->fg);
}
