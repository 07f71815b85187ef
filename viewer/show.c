/* SPDX-License-Identifier: MIT */
/* The show engine: records in, connections and findings out to the sinks. */
#include <stdio.h>
#include <stdlib.h>

#include "merge.h"
#include "proc.h"
#include "records.h"
#include "show.h"
#include "sink.h"

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

struct filter {
	int32_t pid;   /* 0: any */
	uint64_t conn; /* 0: any */
	int port;      /* -1: any */
};

struct st_show {
	struct st_model m;
	struct st_out *o; /* stdout */
	struct filter f;
	struct st_sink sinks[NFORMATS];
	size_t nsinks;
	bool calls; /* a sink takes calls: filter each record for it */
	bool quiet; /* apply records to the model, show nothing */
};

/* Calls OP of every sink that has it, with the arguments that follow. */
#define EACH_SINK(s, op, ...)                                                \
	do {                                                                 \
		for (size_t i_ = 0; i_ < (s)->nsinks; i_++)                  \
			if ((s)->sinks[i_].ops->op)                          \
				(s)->sinks[i_].ops->op((s)->sinks[i_].state, \
						       __VA_ARGS__);         \
	} while (0)

static bool conn_match(const struct st_show *s, const struct st_conn *c)
{
	const struct st_traceset *set = s->m.set;

	if (s->f.pid && set->t[c->file].hdr.pid != s->f.pid)
		return false;
	if (s->f.conn && c->id != s->f.conn)
		return false;
	if (s->f.port >= 0 && c->local.port != s->f.port &&
	    c->peer.port != s->f.port)
		return false;
	return true;
}

static bool pid_match(const struct st_trace *t, void *arg)
{
	const struct st_show *s = arg;

	return !s->f.pid || t->hdr.pid == s->f.pid;
}

/* Calls shown beside the connections (JSON lines, Perfetto slices): those
 * of the process and connection asked for, and the accept that made it. */
static bool call_match(const struct st_rec *r, int file, void *arg)
{
	const struct st_show *s = arg;
	const struct st_trace *t = &s->m.set->t[file];

	return pid_match(t, arg) &&
	       (!s->f.conn || r->conn == s->f.conn ||
		(st_call_shape[r->call] == ST_SHAPE_ID_accept &&
		 st_cnum_conn(t->hdr.pid, r->u.accept.conn2) == s->f.conn));
}

static void on_conn(struct st_model *m, struct st_conn *c, void *arg)
{
	struct st_show *s = arg;
	struct st_conn *o;

	st_conn_ends(&c, &o);
	bool match = !s->quiet && !(c->hidden && (!o || o->hidden)) &&
		     (conn_match(s, c) || (o && conn_match(s, o)));

	if (match)
		EACH_SINK(s, conn, c);
	st_conn_free(m, o);
	st_conn_free(m, c);
}

static void on_finding(struct st_model *m, const struct st_finding *f,
		       void *arg)
{
	struct st_show *s = arg;
	const struct st_traceset *set = m->set;

	if (s->quiet)
		return;
	if (s->f.pid && set->t[f->file].hdr.pid != s->f.pid)
		return;
	if (s->f.conn && f->conn != s->f.conn)
		return;
	EACH_SINK(s, finding, f);
}

/* Frees S and what it holds; sinks still open are dropped unfinished. */
static void show_free(struct st_show *s)
{
	for (size_t i = 0; i < s->nsinks; i++)
		if (s->sinks[i].ops->drop)
			s->sinks[i].ops->drop(s->sinks[i].state);
	st_model_free(&s->m);
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
	st_out_init(o, stdout);
	s->o = o;
	s->f.pid = vo->pid;
	s->f.conn = vo->conn;
	s->f.port = vo->port;
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
	show_free(s);
	return rc;
}

int st_show(struct st_traceset *set, const struct st_view_opts *vo)
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
