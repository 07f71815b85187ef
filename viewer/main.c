/* SPDX-License-Identifier: MIT */
/* socktrace: the viewer command and its subcommands. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: socktrace COMMAND [ARGS]\n"
		"Shows what the socket calls recorded by libsocktrace.so did.\n"
		"\n"
		"commands:\n"
		"  run [-o DIR] -- CMD...    run CMD traced, then show its "
		"timelines\n"
		"  view [--json] [PATH...]   per-connection timelines, states, "
		"findings\n"
		"    --html FILE, --perfetto FILE: as a web page, or for "
		"ui.perfetto.dev\n"
		"  dump [--json] [PATH...]   every recorded call, in time order\n"
		"  attach [OPTIONS] PID...   follow running processes live\n"
		"  detach PID...             undo attach in a process\n"
		"  live [DIR | --attach PID...]  a terminal view, updated "
		"live (like top)\n"
		"\n"
		"Record a program with: LD_PRELOAD=/path/to/libsocktrace.so "
		"PROGRAM\n"
		"'socktrace COMMAND --help' describes each command.\n");
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
	if (!strcmp(argv[1], "dump"))
		return st_cmd_dump(argc - 1, argv + 1);
	if (!strcmp(argv[1], "view"))
		return st_cmd_view(argc - 1, argv + 1);
	if (!strcmp(argv[1], "run"))
		return st_cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "attach"))
		return st_cmd_attach(argc - 1, argv + 1);
	if (!strcmp(argv[1], "live"))
		return st_cmd_live(argc - 1, argv + 1);
	if (!strcmp(argv[1], "detach"))
		return st_cmd_detach(argc - 1, argv + 1);
	fprintf(stderr, "socktrace: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
