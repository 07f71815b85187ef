/* SPDX-License-Identifier: MIT */
/* socktrace live: a terminal view of listeners and connections, like top. */
#define _GNU_SOURCE
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "live_draw.h"
#include "socktrace/dir.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: socktrace live [OPTIONS] [DIR]\n"
		"       socktrace live [OPTIONS] --attach PID...\n"
		"A terminal view, updated as programs run (like top): "
		"listeners with their\nbacklog and accept queue, open "
		"connections with state, age, bytes and\nlast call, recent "
		"closes, findings.  "
		"DIR: every trace file in it, and\nthose that appear later "
		"(default: the trace directory).  --attach follows\nrunning "
		"processes as 'socktrace attach' does.\n"
		"  --attach        the arguments are process ids\n"
		"  --children      with --attach: their descendants too\n"
		"  --history       with --attach: what a preloaded process "
		"recorded before\n"
		"  -o DIR          with --attach: where processes the library "
		"is loaded\n"
		"                  into write their trace\n"
		"  --sort KEY      age (default), bytes, state or process\n"
		"  --filter TEXT   show only rows whose address, process or "
		"state has TEXT\n"
		"  --no-color      no colours\n"
		"Keys: q quit, s next sort, / filter (Enter keeps, Esc drops), "
		"p pause,\n? help.  Needs a terminal of 80x24 or more; for a "
		"stream of timelines use\n'socktrace attach', for JSON lines "
		"'socktrace view --json'.\n");
	st_filter_usage(f);
}

/* What the command allocates: the model's rings and the screen over
 * them. */
struct live_cmd {
	struct st_live l;
	struct st_live_view v;
	bool attach; /* the arguments are process ids */
	/* the directory followed and what the header says is followed:
	 * fw.dir and l.source point here, so they live as long as LC */
	char dir[PATH_MAX], src[PATH_MAX + 32];
};

/* --sort KEY into V; false, after saying so, when KEY is none of them. */
static bool parse_sort(struct st_live_view *v, const char *key)
{
	for (int i = 0; i < ST_LIVE_SORT_N; i++)
		if (!strcmp(key, st__live_sort_name[i])) {
			v->sort = i;
			return true;
		}
	fprintf(stderr,
		"socktrace live: bad value for --sort: '%s' (age, "
		"bytes, state or process)\n",
		key);
	return false;
}

/*
 * Reads the options into LC, leaving optind at the first argument.
 * Returns 0, -1 after printing the help, or 2 on a usage error (said on
 * stderr, getopt's own included).
 */
static int parse_opts(struct live_cmd *lc, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "attach", no_argument, 0, 'a' },
		{ "children", no_argument, 0, 'c' },
		{ "history", no_argument, 0, 'H' },
		{ "sort", required_argument, 0, 's' },
		{ "filter", required_argument, 0, 'f' },
		{ "no-color", no_argument, 0, 'N' },
		ST_FILTER_LONGOPTS,
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	struct st_live *l = &lc->l;
	struct st_live_view *v = &lc->v;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			lc->attach = true;
			break;
		case 'c':
			l->fw.children = true;
			break;
		case 'H':
			l->history = true;
			break;
		case 'o':
			l->fw.outdir = optarg;
			break;
		case 's':
			if (!parse_sort(v, optarg))
				return 2;
			break;
		case 'f':
			snprintf(v->filter, sizeof(v->filter), "%s", optarg);
			break;
		case 'N':
			v->color = false;
			break;
		case 'h':
			usage(stdout);
			return -1;
		case ST_OPT_STATE ... ST_OPT_LISTENER:
			if (st_filter_opt(&l->vo.flt, c, optarg, "live"))
				return 2;
			break;
		default:
			return 2;
		}
	}
	return 0;
}

/* Checks the arguments after the options and follows the process ids
 * among them; returns 0, or 2 after saying what is wrong. */
static int parse_args(struct live_cmd *lc, int argc, char **argv)
{
	struct st_follow *fw = &lc->l.fw;
	int nargs = argc - optind;

	if (!lc->attach && (fw->children || lc->l.history || fw->outdir)) {
		fprintf(stderr, "socktrace live: --children, --history and -o "
				"go with --attach PID...\n");
		return 2;
	}
	if (lc->attach && nargs == 0) {
		fprintf(stderr, "socktrace live: --attach needs process ids\n");
		return 2;
	}
	if (!lc->attach && nargs > 1) {
		fprintf(stderr, "socktrace live: one directory at a time (or "
				"--attach PID...)\n");
		return 2;
	}
	for (int i = optind; lc->attach && i < argc; i++) {
		pid_t pid;
		if (!st_parse_pid(argv[i], &pid)) {
			fprintf(stderr,
				"socktrace live: not a process id: "
				"'%s'\n",
				argv[i]);
			return 2;
		}
		st_follow_add(fw, pid);
	}
	return 0;
}

/*
 * Gets what is followed ready (the processes, or directory DIR, NULL for
 * the trace directory) and shows it until the user quits; returns the
 * exit code.
 */
static int follow_and_show(struct live_cmd *lc, const char *dir)
{
	struct st_live *l = &lc->l;
	int rc;

	if (lc->attach) {
		rc = st_follow_prepare(&l->fw);
		snprintf(lc->src, sizeof(lc->src), "attach");
	} else {
		if (dir)
			snprintf(lc->dir, sizeof(lc->dir), "%s", dir);
		else
			st_trace_dir(lc->dir, sizeof(lc->dir), getenv);
		rc = st_follow_dir(&l->fw, lc->dir);
		snprintf(lc->src, sizeof(lc->src), "%s", lc->dir);
	}
	l->source = lc->src;
	if (!rc) {
		st__live_model_init(l);
		rc = st__live_run(&lc->v);
		st_model_free(&l->m);
		st_filter_free(&l->flt);
	}
	return rc;
}

int st_cmd_live(int argc, char **argv)
{
	struct live_cmd *lc = calloc(1, sizeof(*lc));
	int rc;

	if (!lc) {
		fprintf(stderr, "socktrace: out of memory\n");
		return 1;
	}
	lc->v.live = &lc->l;
	lc->v.color = true;
	lc->l.vo.port = -1;
	st__live_init(&lc->l);
	rc = parse_opts(lc, argc, argv);
	if (rc < 0) { /* --help */
		free(lc);
		return 0;
	}
	if (!rc)
		rc = parse_args(lc, argc, argv);
	if (rc) {
		usage(stderr);
	} else if (!isatty(1) || !isatty(0)) {
		fprintf(stderr,
			"socktrace live: %s is not a terminal: live draws a "
			"screen and reads keys.  For a stream of timelines use "
			"'socktrace attach PID...'; for JSON lines 'socktrace "
			"view --json [DIR]'\n",
			!isatty(1) ? "standard output" : "standard input");
		rc = 2;
	} else {
		rc = follow_and_show(lc, optind < argc ? argv[optind] : NULL);
	}
	st_follow_free(&lc->l.fw);
	free(lc);
	return rc;
}
