/* SPDX-License-Identifier: MIT */
/* Where trace files go when SOCKTRACE_DIR does not say. */
#ifndef SOCKTRACE_DIR_H
#define SOCKTRACE_DIR_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Writes the trace directory into BUF: $SOCKTRACE_DIR, else
 * $XDG_RUNTIME_DIR/socktrace, else /tmp/socktrace-$EUID.  GET looks up
 * an environment variable (getenv, or the preload's early stand-in). */
static inline void st_trace_dir(char *buf, size_t len,
				char *(*get)(const char *))
{
	const char *v;

	if ((v = get("SOCKTRACE_DIR")) && *v)
		snprintf(buf, len, "%s", v);
	else if ((v = get("XDG_RUNTIME_DIR")) && *v)
		snprintf(buf, len, "%s/socktrace", v);
	else
		snprintf(buf, len, "/tmp/socktrace-%u", (unsigned)geteuid());
}

#endif
