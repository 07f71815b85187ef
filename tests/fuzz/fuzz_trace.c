/* SPDX-License-Identifier: MIT */
/* libFuzzer target: any bytes as trace files, through dump and view. */

/*
 * The input is one trace file, or several laid end to end: it is cut
 * before every later occurrence of the trace magic, so a seed made of a
 * server's and a client's traces exercises joining their ends.  Each
 * piece is written to a memfd and handed, by its /proc/self/fd path, to
 * the viewer's own command functions, exactly as a user's files would be:
 * dump and view, text and JSON.  Their output goes to /dev/null; what
 * matters is that nothing crashes, leaks, hangs or trips the sanitizers.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cmd.h"
#include "socktrace/format.h"

#define MAX_FILES 4

static int fds[MAX_FILES];
static char paths[MAX_FILES][32];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	for (int i = 0; i < MAX_FILES; i++) {
		fds[i] = memfd_create("fuzz.trace", MFD_CLOEXEC);
		if (fds[i] < 0) {
			perror("memfd_create");
			exit(1);
		}
		snprintf(paths[i], sizeof(paths[i]), "/proc/self/fd/%d",
			 fds[i]);
	}
	/* the viewer writes its output on stdout: keep it quiet */
	int null = open("/dev/null", O_WRONLY);
	if (null < 0 || dup2(null, 1) < 0) {
		perror("/dev/null");
		exit(1);
	}
	close(null);
	return 0;
}

static void put(int i, const uint8_t *p, size_t n)
{
	if (ftruncate(fds[i], 0) ||
	    (n && pwrite(fds[i], p, n, 0) != (ssize_t)n))
		abort(); /* the harness, not the viewer, failed */
}

/* Runs one subcommand with ARGS then the NFILES trace paths. */
static void cmd(int (*fn)(int, char **), const char *const *args, int nargs,
		int nfiles)
{
	char *argv[8 + MAX_FILES];
	int argc = 0;

	for (int i = 0; i < nargs; i++)
		argv[argc++] = (char *)args[i];
	for (int i = 0; i < nfiles; i++)
		argv[argc++] = paths[i];
	argv[argc] = NULL;
	int rc = fn(argc, argv);
	if (rc != 0 && rc != 1)
		abort(); /* 2 is a usage error: not from a file's contents */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char magic[] = ST_MAGIC;
	size_t start = 0;
	int n = 0;

	/* cut before each later magic, at most MAX_FILES pieces */
	for (size_t i = 1; n < MAX_FILES - 1 && i + 8 <= size; i++) {
		if (memcmp(data + i, magic, 8))
			continue;
		put(n++, data + start, i - start);
		start = i;
	}
	put(n++, data + start, size - start);

	static const char *const dump_text[] = { "dump" };
	static const char *const dump_json[] = { "dump", "--json" };
	static const char *const view_text[] = { "view", "--color", "--wall" };
	static const char *const view_plain[] = { "view", "--no-color" };
	static const char *const view_json[] = { "view", "--json" };
	cmd(st_cmd_dump, dump_text, 1, n);
	cmd(st_cmd_dump, dump_json, 2, n);
	cmd(st_cmd_view, view_text, 3, n);
	cmd(st_cmd_view, view_plain, 2, n);
	cmd(st_cmd_view, view_json, 2, n);
	fflush(stdout);
	return 0;
}
