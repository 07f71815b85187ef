/* SPDX-License-Identifier: MIT */
/* socktrace view: per-connection timelines, joined ends, states, findings. */
#include <getopt.h>
#include <stdio.h>

#include "cmd.h"
#include "load.h"
#include "opts.h"
#include "show.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: socktrace view [OPTIONS] [PATH...]\n"
		"Shows every connection of the traced processes as a "
		"timeline:\n"
		"both ends joined when both were traced, TCP states between "
		"the\n"
		"calls, and findings (problems the trace shows).\n"
		"PATH: trace files or directories (default: the trace "
		"directory).\n"
		"  --json          JSON lines: process, call, conn, finding\n"
		"  --html FILE     write a self-contained HTML report to FILE\n"
		"  --perfetto FILE write Chrome Trace Event JSON to FILE "
		"(open\n"
		"                  it in ui.perfetto.dev or "
		"chrome://tracing)\n"
		"  --budget SIZE   bytes of --html or --perfetto detail "
		"(K, M, G;\n"
		"                  default 40M and 256M): past it, counts "
		"only\n"
		"  --pid PID       only connections of process PID\n"
		"  --conn ID       only connection ID (as printed: PID:N)\n"
		"  --port PORT     only connections with PORT at either end\n"
		"  --stats         the summary of 'socktrace stats' instead of "
		"the\n"
		"                  timelines (with --json: its JSON lines)\n"
		"  --findings all  each finding on its own line (default: "
		"grouped,\n"
		"                  one line per kind and listener, peer or "
		"process)\n"
		"  -t, --wall      wall-clock times instead of seconds since "
		"the first call\n"
		"  --color, --no-color   colour (default: when stdout is a "
		"terminal)\n");
	st_filter_usage(f);
}

int st_cmd_view(int argc, char **argv)
{
	struct st_view_opts vo;

	optind = 1;
	int p = st_view_parse(argc, argv, &vo, usage);
	if (p)
		return p < 0 ? 2 : 0;
	return st_show_paths("view", argv + optind, argc - optind, &vo);
}
