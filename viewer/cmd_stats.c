/* SPDX-License-Identifier: MIT */
/* socktrace stats: the summary by listener, peer and process, outliers. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "load.h"
#include "opts.h"
#include "show.h"
#include "stats.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: socktrace stats [OPTIONS] [PATH...]\n"
		"Sums the traced connections up: per listener (connections, "
		"rate,\n"
		"accept-queue wait, queue, who closed first, how they ended, "
		"bytes,\n"
		"lifetime, errors), per peer or client process (connect "
		"time, time\n"
		"to first byte, failures), per process (sockets, lost "
		"records); the\n"
		"outliers, latency histograms and the findings grouped.\n"
		"PATH: trace files or directories (default: the trace "
		"directory).\n"
		"  --by WHAT       only one section: listener, peer or "
		"process\n"
		"  --top N         the N longest of each latency (default "
		"10; 0: none)\n"
		"  --json          JSON lines: stats_group, outlier, "
		"finding_group\n"
		"  --pid PID       only connections of process PID\n"
		"  --port PORT     only connections with PORT at either end\n");
	st_filter_usage(f);
}

/* Parses stats' options into VO and SO; like st_view_parse. */
static int parse(int argc, char **argv, struct st_view_opts *vo,
		 struct st_stats_opts *so)
{
	static const struct option opts[] = {
		{ "by", required_argument, 0, 'b' },
		{ "top", required_argument, 0, 'n' },
		{ "json", no_argument, 0, 'j' },
		{ "pid", required_argument, 0, 'p' },
		{ "port", required_argument, 0, 'P' },
		ST_FILTER_LONGOPTS,
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	static const char *const by[] = { "listener", "peer", "process" };
	int c;
	char *e;
	long v;

	memset(vo, 0, sizeof(*vo));
	vo->port = -1;
	*so = (struct st_stats_opts){ .by = 7, .top = 10 };
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			so->by = 0;
			for (unsigned i = 0; i < 3; i++)
				if (!strcmp(optarg, by[i]))
					so->by = 1u << i;
			if (!so->by)
				goto bad;
			break;
		case 'n':
			v = strtol(optarg, &e, 10);
			if (*e || e == optarg || v < 0 || v > 100000)
				goto bad;
			so->top = (unsigned)v;
			break;
		case 'j':
			so->json = true;
			break;
		case 'p':
			v = strtol(optarg, &e, 10);
			if (*e || v <= 0 || v > 0x7fffffff)
				goto bad;
			vo->pid = (int32_t)v;
			break;
		case 'P':
			v = strtol(optarg, &e, 10);
			if (*e || v < 0 || v > 65535)
				goto bad;
			vo->port = (int)v;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case ST_OPT_STATE ... ST_OPT_LISTENER:
			if (st_filter_opt(&vo->flt, c, optarg, "stats")) {
				usage(stderr);
				return -1;
			}
			break;
		default:
			usage(stderr);
			return -1;
		}
	}
	vo->stats = so;
	return 0;
bad:
	fprintf(stderr, "socktrace stats: bad value for --%s: '%s'\n",
		c == 'b'   ? "by"
		: c == 'n' ? "top"
		: c == 'p' ? "pid"
			   : "port",
		optarg);
	usage(stderr);
	return -1;
}

int st_cmd_stats(int argc, char **argv)
{
	struct st_view_opts vo;
	struct st_stats_opts so;

	optind = 1;
	int p = parse(argc, argv, &vo, &so);
	if (p)
		return p < 0 ? 2 : 0;
	return st_show_paths("stats", argv + optind, argc - optind, &vo);
}
