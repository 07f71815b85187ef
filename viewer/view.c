/* SPDX-License-Identifier: MIT */
/* socktrace view: per-connection timelines, joined ends, states, findings. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "conn.h"
#include "merge.h"
#include "records.h"
#include "render.h"

struct filter {
	int32_t pid;   /* 0: any */
	uint64_t conn; /* 0: any */
	int port;      /* -1: any */
};

struct show {
	struct st_render rd;
	struct filter f;
	bool json;
	/* text findings wait for the end; kept up to a cap */
	struct st_finding *found;
	size_t nfound, capfound, more_found;
	uint64_t shown;
};

static bool conn_match(const struct show *s, const struct st_conn *c)
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

static void on_conn(struct st_model *m, struct st_conn *c, void *arg)
{
	struct show *s = arg;
	struct st_conn *o = c->other;

	/* a joined pair reads from the client's side */
	if (o && c->role == ST_ROLE_SERVER && o->role == ST_ROLE_CLIENT) {
		o = c;
		c = c->other;
	}
	bool match = conn_match(s, c) || (o && conn_match(s, o));

	if (match) {
		s->shown++;
		if (s->json) {
			st_render_json(&s->rd, c);
			if (o)
				st_render_json(&s->rd, o);
		} else {
			st_render_text(&s->rd, c);
		}
	}
	st_conn_free(m, o);
	st_conn_free(m, c);
}

static void on_finding(struct st_model *m, const struct st_finding *f,
		       void *arg)
{
	struct show *s = arg;
	const struct st_traceset *set = m->set;

	if (s->f.pid && set->t[f->file].hdr.pid != s->f.pid)
		return;
	if (s->f.conn && f->conn != s->f.conn)
		return;
	if (s->json) {
		st_render_finding_json(&s->rd, f);
		return;
	}
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
		"  --pid PID       only connections of process PID\n"
		"  --conn ID       only connection ID (as printed: PID:N)\n"
		"  --port PORT     only connections with PORT at either end\n"
		"  -t, --wall      wall-clock times instead of seconds since "
		"the first call\n"
		"  --color, --no-color   colour (default: when stdout is a "
		"terminal)\n");
}

int st_show(struct st_traceset *set, const struct st_view_opts *vo)
{
	struct show s;
	struct st_model m;
	struct st_merge mg;
	struct st_out *o = malloc(sizeof(*o));
	const struct st_rec *r;
	int file;

	if (!o || st_merge_init(&mg, set)) {
		fprintf(stderr, "socktrace: out of memory\n");
		free(o);
		return 1;
	}
	memset(&s, 0, sizeof(s));
	st_out_init(o, stdout);
	s.json = vo->json;
	s.f.pid = vo->pid;
	s.f.conn = vo->conn;
	s.f.port = vo->port;
	s.rd.o = o;
	s.rd.m = &m;
	s.rd.color = vo->color;
	s.rd.wall = vo->wall;
	st_model_init(&m, set, on_conn, on_finding, &s);
	if (s.json)
		for (int i = 0; i < set->n; i++)
			if (!s.f.pid || set->t[i].hdr.pid == s.f.pid)
				st_process_json(o, &set->t[i]);
	while ((r = st_merge_next(&mg, &file))) {
		if (s.json && (!s.f.pid || set->t[file].hdr.pid == s.f.pid) &&
		    (!s.f.conn || r->conn == s.f.conn ||
		     (st_call_shape[r->call] == ST_SHAPE_ID_accept &&
		      st_cnum_conn(set->t[file].hdr.pid,
				   r->u.accept.conn2) == s.f.conn)))
			st_call_json(o, r, set->t[file].hdr.pid);
		st_model_add(&m, r, file);
	}
	st_model_finish(&m);
	if (!s.json) {
		if (s.shown == 0)
			st_out_str(o, "no connections match\n");
		st_out_fmt(o, "%sFindings%s\n", s.rd.color ? "\033[1m" : "",
			   s.rd.color ? "\033[0m" : "");
		for (size_t i = 0; i < s.nfound; i++)
			st_render_finding_text(&s.rd, &s.found[i]);
		if (s.more_found)
			st_out_fmt(o, "  (%zu more findings not shown)\n",
				   s.more_found);
		if (!s.nfound)
			st_out_str(o, "  none\n");
	}
	int rc = st_out_flush(o) ? 1 : 0;
	if (rc)
		fprintf(stderr, "socktrace: write error on output\n");
	st_model_free(&m);
	st_merge_free(&mg);
	free(s.found);
	free(o);
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
	st_traceset_warn(&set);
	if (set.failed)
		rc = 1;
	st_traceset_close(&set);
	return rc;
}
