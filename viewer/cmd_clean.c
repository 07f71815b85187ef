/* SPDX-License-Identifier: MIT */
/* socktrace clean: remove the trace files of finished runs. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clean.h"
#include "cmd.h"
#include "units.h"
#include "socktrace/dir.h"

static void clean_usage(FILE *f)
{
	fprintf(f,
		"usage: socktrace clean [-n] [DIR...]\n"
		"Removes the trace files of processes that have ended from "
		"each DIR\n(default: the trace directory), so that 'view' "
		"shows only the runs that\nfollow.  Only files socktrace "
		"wrote are removed; files of running\nprocesses, and "
		"anything else, are left.  A directory 'socktrace run'\n"
		"made goes too once it is empty.\n"
		"  -n, --dry-run  say what would be removed, remove nothing\n");
}

/* "a, b, c" and "and N more" for the first of N names. */
static void names(const char *what, int n, const char (*list)[256])
{
	printf("%s", what);
	for (int i = 0; i < n && i < ST_CLEAN_NAMES; i++)
		printf("%s%s", i ? ", " : "", list[i]);
	if (n > ST_CLEAN_NAMES)
		printf(" and %d more", n - ST_CLEAN_NAMES);
	printf("\n");
}

/* Says what cleaning DIR did; 0, or 1 when some file could not go. */
static int report(const char *dir, bool dry, const struct st_clean *c)
{
	const char *rm = dry ? "would remove" : "removed";

	if (!c->removed && !c->running && !c->foreign && !c->failed)
		printf("%s: no trace files\n", dir);
	if (c->removed)
		printf("%s: %s %d trace file%s of ended processes\n", dir, rm,
		       c->removed, st_plural((uint64_t)c->removed));
	if (c->running) {
		printf("%s: kept %d trace file%s of %s: ", dir, c->running,
		       st_plural((uint64_t)c->running),
		       c->running == 1 ? "a running process"
				       : "running processes");
		for (int i = 0; i < c->running && i < ST_CLEAN_NAMES; i++)
			printf("%s%s", i ? ", " : "", c->running_names[i]);
		printf(c->running > ST_CLEAN_NAMES ? " and %d more\n" : "\n",
		       c->running - ST_CLEAN_NAMES);
	}
	if (c->foreign) {
		char what[1024];
		snprintf(what, sizeof(what),
			 "%s: left %d file%s socktrace "
			 "did not write: ",
			 dir, c->foreign, st_plural((uint64_t)c->foreign));
		names(what, c->foreign, c->foreign_names);
	}
	if (c->dir_removed)
		printf("%s: %s the directory ('socktrace run' made it)\n", dir,
		       rm);
	if (c->failed) {
		fprintf(stderr,
			"socktrace clean: %s: %d trace file%s could not be "
			"removed (changed meanwhile, or not allowed)\n",
			dir, c->failed, st_plural((uint64_t)c->failed));
		return 1;
	}
	return 0;
}

int st_cmd_clean(int argc, char **argv)
{
	bool dry = false;
	int first = 1, rc = 0;
	char def[512], err[1024];

	for (; first < argc && argv[first][0] == '-'; first++) {
		const char *a = argv[first];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			clean_usage(stdout);
			return 0;
		} else if (!strcmp(a, "-n") || !strcmp(a, "--dry-run")) {
			dry = true;
		} else if (!strcmp(a, "--")) {
			first++;
			break;
		} else {
			fprintf(stderr,
				"socktrace clean: unknown option '%s'\n", a);
			clean_usage(stderr);
			return 2;
		}
	}
	if (first == argc) {
		struct st_clean c;
		st_trace_dir(def, sizeof(def), getenv);
		if (st_clean_dir(def, dry, &c, err, sizeof(err))) {
			if (errno == ENOENT) {
				printf("%s: no trace directory, nothing to "
				       "clean\n",
				       def);
				return 0;
			}
			fprintf(stderr, "socktrace clean: %s\n", err);
			return 1;
		}
		return report(def, dry, &c);
	}
	for (int i = first; i < argc; i++) {
		struct st_clean c;
		if (st_clean_dir(argv[i], dry, &c, err, sizeof(err))) {
			fprintf(stderr, "socktrace clean: %s\n", err);
			rc = 1;
			continue;
		}
		if (report(argv[i], dry, &c))
			rc = 1;
	}
	return rc;
}
