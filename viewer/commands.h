/* SPDX-License-Identifier: MIT */
/* The viewer's subcommands and the record printers they share. */
#ifndef ST_VIEWER_COMMANDS_H
#define ST_VIEWER_COMMANDS_H

#include <stdio.h>

#include "out.h"
#include "trace.h"

/* Each takes the subcommand's argv (argv[0] is its name) and returns the
 * exit code: 0 ok, 1 runtime error, 2 usage error. */
int st_cmd_dump(int argc, char **argv);
int st_cmd_view(int argc, char **argv);
int st_cmd_run(int argc, char **argv);

/* What view shows and how (also used by run). */
struct st_view_opts {
	bool json, wall, color;
	int32_t pid;
	uint64_t conn;
	int port;
	const char *html;     /* --html FILE: the HTML report */
	const char *perfetto; /* --perfetto FILE: Chrome Trace Event JSON */
};
int st_view_parse(int argc, char **argv, struct st_view_opts *vo,
		  void (*usage)(FILE *));
struct st_traceset;
/* Prints the timelines of SET; returns an exit code. */
int st_show(struct st_traceset *set, const struct st_view_opts *vo);

void st_call_json(struct st_out *o, const struct st_rec *r, int32_t pid);
void st_call_text(struct st_out *o, const struct st_rec *r,
		  const struct st_trace *t, uint64_t t0);

#endif
