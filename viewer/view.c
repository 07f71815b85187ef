/* SPDX-License-Identifier: MIT */
/* socktrace view: per-connection timelines, joined ends, states, findings. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "model.h"
#include "export.h"
#include "merge.h"
#include "proc.h"
#include "records.h"
#include "render.h"

struct filter {
	int32_t pid;   /* 0: any */
	uint64_t conn; /* 0: any */
	int port;      /* -1: any */
};

struct st_show {
	struct st_render rd;
	struct st_model m;
	struct st_out *o;
	struct filter f;
	bool json, text;
	bool quiet; /* apply records to the model, print nothing */
	struct st_perfetto *perfetto;
	struct st_html *html;
	FILE *pf, *hf; /* their files */
	const char *pf_path, *hf_path;
	/* text findings wait for the end; kept up to a cap */
	struct st_finding *found;
	size_t nfound, capfound, more_found;
	uint64_t shown;
};

static bool conn_match(const struct st_show *s, const struct st_conn *c)
{
	const struct st_traceset *set = s->rd.m->set;

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
	const struct st_trace *t = &s->rd.m->set->t[file];

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

	if (match) {
		s->shown++;
		if (s->json) {
			st_render_json(&s->rd, c);
			if (o)
				st_render_json(&s->rd, o);
		}
		if (s->text)
			st_render_text(&s->rd, c);
		if (s->perfetto)
			st_perfetto_conn(s->perfetto, c, call_match, s);
		if (s->html)
			st_html_conn(s->html, c);
	}
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
	if (s->json)
		st_render_finding_json(&s->rd, f);
	if (s->perfetto)
		st_perfetto_finding(s->perfetto, f);
	if (s->html)
		st_html_finding(s->html, f);
	if (!s->text)
		return;
	if (s->nfound >= 10000) {
		s->more_found++;
		return;
	}
	if (s->nfound == s->capfound) {
		size_t n = s->capfound ? s->capfound * 2 : 16;
		struct st_finding *p = realloc(s->found, n * sizeof(*p));
		if (!p) {
			s->more_found++;
			return;
		}
		s->found = p;
		s->capfound = n;
	}
	s->found[s->nfound++] = *f;
}

/* Parses "PID:N" (a connection id as printed). */
static bool parse_conn(const char *s, uint64_t *out)
{
	char *e;
	unsigned long p = strtoul(s, &e, 10);

	if (*e != ':' || e == s)
		return false;
	unsigned long n = strtoul(e + 1, &e, 10);
	if (*e || p > 0xffffffffu || n > 0xffffffffu)
		return false;
	*out = st_conn_id((int32_t)p, (uint32_t)n);
	return true;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: socktrace view [OPTIONS] [PATH...]\n"
		"Shows every connection of the traced processes as a timeline:\n"
		"both ends joined when both were traced, TCP states between the\n"
		"calls, and findings (problems the trace shows).\n"
		"PATH: trace files or directories (default: the trace "
		"directory).\n"
		"  --json          JSON lines: process, call, conn, finding\n"
		"  --html FILE     write a self-contained HTML report to FILE\n"
		"  --perfetto FILE write Chrome Trace Event JSON to FILE (open\n"
		"                  it in ui.perfetto.dev or chrome://tracing)\n"
		"  --pid PID       only connections of process PID\n"
		"  --conn ID       only connection ID (as printed: PID:N)\n"
		"  --port PORT     only connections with PORT at either end\n"
		"  -t, --wall      wall-clock times instead of seconds since "
		"the first call\n"
		"  --color, --no-color   colour (default: when stdout is a "
		"terminal)\n");
}

/* Opens output file PATH for writing; NULL after saying why. */
static FILE *open_out(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		fprintf(stderr, "socktrace: cannot write %s: %s\n", path,
			strerror(errno));
	return f;
}

/* Closes an output file; a failed write or close is reported, -1. */
static int close_out(FILE *f, const char *path, int rc)
{
	if (fclose(f) || rc) {
		fprintf(stderr, "socktrace: write error on %s\n", path);
		return -1;
	}
	return 0;
}

/* Frees S and what it holds; files still open are closed unfinished. */
static void show_free(struct st_show *s)
{
	if (s->pf)
		fclose(s->pf);
	if (s->hf)
		fclose(s->hf);
	st_model_free(&s->m);
	free(s->found);
	free(s->o);
	free(s);
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
	s->json = vo->json;
	/* a file output replaces the text on stdout (--json still adds) */
	s->text = !vo->json && !vo->html && !vo->perfetto;
	s->f.pid = vo->pid;
	s->f.conn = vo->conn;
	s->f.port = vo->port;
	s->rd.o = o;
	s->rd.m = &s->m;
	s->rd.color = vo->color;
	s->rd.wall = vo->wall;
	st_model_init(&s->m, set, on_conn, on_finding, s);
	st_model_liveness(&s->m, st_proc_alive, NULL);
	if (vo->perfetto && !(s->pf = open_out(vo->perfetto)))
		goto fail;
	if (vo->html && !(s->hf = open_out(vo->html)))
		goto fail;
	s->pf_path = vo->perfetto;
	s->hf_path = vo->html;
	if (s->pf)
		s->perfetto = st_perfetto_open(s->pf, &s->m);
	if (s->hf) {
		struct st_render hr = s->rd;
		hr.color = false;
		s->html = st_html_open(s->hf, &hr, pid_match, s);
	}
	if ((s->pf && !s->perfetto) || (s->hf && !s->html)) {
		fprintf(stderr, "socktrace: out of memory\n");
		goto fail;
	}
	return s;
fail:
	show_free(s);
	return NULL;
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
	const struct st_traceset *set = s->m.set;

	if (s->json && pid_match(&set->t[file], s))
		st_process_json(s->o, &set->t[file]);
}

void st_show_record(struct st_show *s, const struct st_rec *r, int file)
{
	bool shown = !s->quiet && (s->json || s->perfetto) &&
		     call_match(r, file, s);

	if (s->json && shown)
		st_call_json(s->o, r, s->m.set->t[file].hdr.pid);
	if (s->perfetto && shown)
		st_perfetto_call(s->perfetto, r, file);
	st_model_add(&s->m, r, file);
}

int st_show_flush(struct st_show *s)
{
	return st_out_flush(s->o);
}

/* Finishes output file F of S (PATH; CLOSE_RC its writer's result). */
static int finish_out(struct st_show *s, FILE **f, const char *path,
		      int close_rc)
{
	int rc = close_out(*f, path, close_rc);

	*f = NULL;
	if (!rc)
		fprintf(stderr, "socktrace: wrote %s (%llu connections)\n",
			path, (unsigned long long)s->shown);
	return rc ? 1 : 0;
}

int st_show_close(struct st_show *s)
{
	struct st_out *o = s->o;
	int rc = 0;

	s->quiet = false;
	st_model_finish(&s->m);
	if (s->text) {
		if (s->shown == 0)
			st_out_str(o, "no connections match\n");
		st_out_fmt(o, "%sFindings%s\n", s->rd.color ? "\033[1m" : "",
			   s->rd.color ? "\033[0m" : "");
		for (size_t i = 0; i < s->nfound; i++)
			st_render_finding_text(&s->rd, &s->found[i]);
		if (s->more_found)
			st_out_fmt(o, "  (%zu more findings not shown)\n",
				   s->more_found);
		if (!s->nfound)
			st_out_str(o, "  none\n");
	}
	if (st_out_flush(o)) {
		fprintf(stderr, "socktrace: write error on output\n");
		rc = 1;
	}
	if (s->pf && finish_out(s, &s->pf, s->pf_path,
				st_perfetto_close(s->perfetto)))
		rc = 1;
	if (s->hf && finish_out(s, &s->hf, s->hf_path,
				st_html_close(s->html)))
		rc = 1;
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

/* Parses view's options into VO; returns -1 after printing usage (2), 0
 * to go on, 1 when --help was handled. */
int st_view_parse(int argc, char **argv, struct st_view_opts *vo,
		  void (*use)(FILE *))
{
	static const struct option opts[] = {
		{ "json", no_argument, 0, 'j' },
		{ "pid", required_argument, 0, 'p' },
		{ "conn", required_argument, 0, 'c' },
		{ "port", required_argument, 0, 'P' },
		{ "wall", no_argument, 0, 't' },
		{ "color", no_argument, 0, 'C' },
		{ "no-color", no_argument, 0, 'N' },
		{ "html", required_argument, 0, 'H' },
		{ "perfetto", required_argument, 0, 'F' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	int c;
	char *e;

	memset(vo, 0, sizeof(*vo));
	vo->port = -1;
	vo->color = isatty(1);
	while ((c = getopt_long(argc, argv, "+th", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			vo->json = true;
			break;
		case 'p':
			vo->pid = (int32_t)strtol(optarg, &e, 10);
			if (*e || vo->pid <= 0)
				goto bad;
			break;
		case 'c':
			if (!parse_conn(optarg, &vo->conn))
				goto bad;
			break;
		case 'P':
			vo->port = (int)strtol(optarg, &e, 10);
			if (*e || vo->port < 0 || vo->port > 65535)
				goto bad;
			break;
		case 't':
			vo->wall = true;
			break;
		case 'C':
			vo->color = true;
			break;
		case 'N':
			vo->color = false;
			break;
		case 'H':
			vo->html = optarg;
			break;
		case 'F':
			vo->perfetto = optarg;
			break;
		case 'h':
			use(stdout);
			return 1;
		default:
			use(stderr);
			return -1;
		}
	}
	return 0;
bad:
	fprintf(stderr, "socktrace: bad value for --%s: '%s'\n",
		c == 'p' ? "pid" : c == 'c' ? "conn" : "port", optarg);
	use(stderr);
	return -1;
}

int st_cmd_view(int argc, char **argv)
{
	struct st_view_opts vo;
	struct st_traceset set;
	char err[ST_ERR_LEN];

	optind = 1;
	int p = st_view_parse(argc, argv, &vo, usage);
	if (p)
		return p < 0 ? 2 : 0;
	if (st_traceset_open(&set, argv + optind, argc - optind, err)) {
		fprintf(stderr, "socktrace view: %s\n", err);
		return 1;
	}
	int rc = st_show(&set, &vo);
	if (st_traceset_warn(&set) || set.failed)
		rc = 1;
	st_traceset_close(&set);
	return rc;
}
