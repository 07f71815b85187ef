/* SPDX-License-Identifier: MIT */
/* socktrace detach: undo attach in running processes. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "follow.h"
#include "inject.h"
#include "proc.h"

static void detach_usage(FILE *f)
{
	fprintf(f, "usage: socktrace detach PID...\n"
		   "Undoes 'socktrace attach' in each process: recording stops "
		   "and its calls\ngo straight to libc again, as before the "
		   "attach (the library stays\nloaded, idle).  Attaching again "
		   "later works.\n");
}

int st_cmd_detach(int argc, char **argv)
{
	char err[1024];
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "socktrace detach: no process given\n");
		detach_usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		detach_usage(stdout);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		pid_t pid;
		if (!st_parse_pid(argv[i], &pid)) {
			fprintf(stderr,
				"socktrace detach: not a process id: '%s'\n",
				argv[i]);
			detach_usage(stderr);
			return 2;
		}
	}
	for (int i = 1; i < argc; i++) {
		pid_t pid = (pid_t)atoi(argv[i]);
		struct st_map lib, tr;
		uint64_t until = 0, next;
		int r = st_proc_find(pid, "libsocktrace", ".so", &lib);
		if (r < 0) {
			rc = st_no_process("detach", pid, -r);
			continue;
		}
		if (!r) {
			fprintf(stderr,
				"socktrace detach: process %d is not attached "
				"(libsocktrace.so is not loaded in it)\n",
				(int)pid);
			rc = 1;
			continue;
		}
		if (st_proc_find(pid, "", ".trace", &tr) > 0 &&
		    st_peek_header(tr.path, &until, &next) && until == 0) {
			fprintf(stderr,
				"socktrace detach: process %d was started "
				"with libsocktrace.so preloaded: it records "
				"until it exits; there is nothing to detach\n",
				(int)pid);
			rc = 1;
			continue;
		}
		const char *deny = st_inject_denied(pid, err, sizeof(err));
		if (deny || st_inject_detach(pid, lib.path, err, sizeof(err))) {
			fprintf(stderr, "socktrace detach: process %d: %s\n",
				(int)pid, deny ? deny : err);
			rc = 1;
			continue;
		}
		fprintf(stderr, "socktrace: detached from process %d\n",
			(int)pid);
	}
	return rc;
}
