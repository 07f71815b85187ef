/* SPDX-License-Identifier: MIT */
/* socktrace: the viewer command; dispatches to its subcommands. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

#ifndef ST_VERSION
#error "ST_VERSION: build with make, which passes the Makefile's VERSION"
#endif

/* A new command is a cmd_<name>.c, its st_cmd_<name> in cmd.h and a row
 * here; the usage lists the rows in this order. */
static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help; /* its lines in the usage, after their indent */
} commands[] = {
	{ "run", st_cmd_run,
	  "run [-o DIR] -- CMD...    run CMD traced, then show its "
	  "timelines\n" },
	{ "view", st_cmd_view,
	  "view [--json] [PATH...]   per-connection timelines, states, "
	  "findings\n"
	  "    --html FILE, --perfetto FILE: as a web page, or for "
	  "ui.perfetto.dev\n" },
	{ "stats", st_cmd_stats,
	  "stats [PATH...]           the summary: per listener, peer, "
	  "process;\n"
	  "    percentiles, outliers, grouped findings\n" },
	{ "dump", st_cmd_dump,
	  "dump [--json] [PATH...]   every recorded call, in time order\n" },
	{ "attach", st_cmd_attach,
	  "attach [OPTIONS] PID...   follow running processes live\n" },
	{ "detach", st_cmd_detach,
	  "detach PID...             undo attach in a process\n" },
	{ "live", st_cmd_live,
	  "live [DIR | --attach PID...]  a terminal view, updated live "
	  "(like top)\n" },
	{ "clean", st_cmd_clean,
	  "clean [-n] [DIR...]       remove the trace files of ended "
	  "processes\n" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: socktrace COMMAND [ARGS]\n"
		   "Shows what the socket calls recorded by libsocktrace.so "
		   "did.\n"
		   "\n"
		   "commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s", commands[i].help);
	fprintf(f, "\n"
		   "Record a program with: LD_PRELOAD=/path/to/libsocktrace.so "
		   "PROGRAM\n"
		   "'socktrace COMMAND --help' describes each command; "
		   "'socktrace --version'\nsays which socktrace this is.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("socktrace %s\n", ST_VERSION);
		return 0;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "socktrace: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
