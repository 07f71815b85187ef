/* SPDX-License-Identifier: MIT */
/* The options of view, shared by the commands that show timelines. */
#ifndef ST_VIEWER_OPTS_H
#define ST_VIEWER_OPTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct st_stats_opts;

/* What view shows and how (run and attach take the same options). */
struct st_view_opts {
	bool json, wall, color;
	int32_t pid;
	uint64_t conn;
	int port;
	const char *html;     /* --html FILE: the HTML report */
	const char *perfetto; /* --perfetto FILE: Chrome Trace Event JSON */
	/* stats (and --stats): the summary instead of timelines */
	const struct st_stats_opts *stats;
	bool findings_all; /* --findings all: each finding, not grouped */
};

/*
 * Parses view's options in ARGV into VO (getopt: set optind first; the
 * operands start at optind after).  Returns -1 after printing USAGE on
 * stderr (a usage error, exit 2), 0 to go on, 1 when --help printed
 * USAGE on stdout.
 */
int st_view_parse(int argc, char **argv, struct st_view_opts *vo,
		  void (*usage)(FILE *));

#endif
