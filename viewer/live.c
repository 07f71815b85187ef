/* SPDX-License-Identifier: MIT */
/* socktrace live: a terminal view of listeners and connections, like top. */
#define _GNU_SOURCE
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "live_draw.h"
#include "socktrace/dir.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: socktrace live [OPTIONS] [DIR]\n"
		"       socktrace live [OPTIONS] --attach PID...\n"
		"A terminal view, updated as programs run (like top): listeners "
		"with their\nbacklog and accept queue, open connections with "
		"state, age, bytes and\nlast call, recent closes, findings.  "
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
}

/* What the command allocates: the model's rings and the screen over
 * them. */
struct live_cmd {
	struct st_live l;
	struct st_live_view v;
};

int st_cmd_live(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "attach", no_argument, 0, 'a' },
		{ "children", no_argument, 0, 'c' },
		{ "history", no_argument, 0, 'H' },
		{ "sort", required_argument, 0, 's' },
		{ "filter", required_argument, 0, 'f' },
		{ "no-color", no_argument, 0, 'N' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	struct live_cmd *lc = calloc(1, sizeof(*lc));
	struct st_live *l = lc ? &lc->l : NULL;
	struct st_live_view *v = lc ? &lc->v : NULL;
	bool attach = false;
	char dir[PATH_MAX], src[PATH_MAX + 32];
	int c, rc;

	if (!lc) {
		fprintf(stderr, "socktrace: out of memory\n");
		return 1;
	}
	v->live = l;
	v->color = true;
	st__live_init(l);
	optind = 1;
	while ((c = getopt_long(argc, argv, "+o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			attach = true;
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
			v->sort = -1;
			for (int i = 0; i < ST_LIVE_SORT_N; i++)
				if (!strcmp(optarg, st__live_sort_name[i]))
					v->sort = i;
			if (v->sort < 0) {
				fprintf(stderr, "socktrace live: bad value for "
						"--sort: '%s' (age, bytes, "
						"state or process)\n",
					optarg);
				goto usage;
			}
			break;
		case 'f':
			snprintf(v->filter, sizeof(v->filter), "%s", optarg);
			break;
		case 'N':
			v->color = false;
			break;
		case 'h':
			usage(stdout);
			free(lc);
			return 0;
		default:
			goto usage;
		}
	}
	int nargs = argc - optind;
	if (!attach && (l->fw.children || l->history || l->fw.outdir)) {
		fprintf(stderr, "socktrace live: --children, --history and -o "
				"go with --attach PID...\n");
		goto usage;
	}
	if (attach && nargs == 0) {
		fprintf(stderr, "socktrace live: --attach needs process ids\n");
		goto usage;
	}
	if (!attach && nargs > 1) {
		fprintf(stderr, "socktrace live: one directory at a time (or "
				"--attach PID...)\n");
		goto usage;
	}
	if (attach) {
		for (int i = optind; i < argc; i++) {
			pid_t pid;
			if (!st_parse_pid(argv[i], &pid)) {
				fprintf(stderr, "socktrace live: not a process "
						"id: '%s'\n", argv[i]);
				goto usage;
			}
			st_follow_add(&l->fw, pid);
		}
	}
	if (!isatty(1) || !isatty(0)) {
		fprintf(stderr,
			"socktrace live: %s is not a terminal: live draws a "
			"screen and reads keys.  For a stream of timelines use "
			"'socktrace attach PID...'; for JSON lines 'socktrace "
			"view --json [DIR]'\n",
			!isatty(1) ? "standard output" : "standard input");
		st_follow_free(&l->fw);
		free(lc);
		return 2;
	}
	if (attach) {
		rc = st_follow_prepare(&l->fw);
		snprintf(src, sizeof(src), "attach");
	} else {
		if (nargs)
			snprintf(dir, sizeof(dir), "%s", argv[optind]);
		else
			st_trace_dir(dir, sizeof(dir), getenv);
		rc = st_follow_dir(&l->fw, dir);
		snprintf(src, sizeof(src), "%s", dir);
	}
	l->source = src;
	if (!rc) {
		st__live_model_init(l);
		rc = st__live_run(v);
		st_model_free(&l->m);
	}
	st_follow_free(&l->fw);
	free(lc);
	return rc;
usage:
	usage(stderr);
	st_follow_free(&l->fw);
	free(lc);
	return 2;
}
