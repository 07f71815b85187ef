/* SPDX-License-Identifier: MIT */
/* The ptrace mode's trace files (ptrace_file.c): one per traced process. */
#ifndef ST_VIEWER_PTRACE_FILE_H
#define ST_VIEWER_PTRACE_FILE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "socktrace/format.h"

/*
 * A trace file the tracer writes for one traced process, in the format
 * the preload writes (policy stop), mapped shared: a record's body is
 * written first and its seq last, then the header's next, so a reader
 * following the file sees whole records only.
 */
struct st_pfile {
	int fd;		       /* -1: not made (yet), or given up */
	struct st_header *h;   /* the header page, mapped shared */
	uint64_t next, mapped; /* records written, slots allocated */
};

/* Makes F the trace file of process PID (parent PPID) in directory DIR,
 * its header filled from /proc/PID (comm, exe) and this host, its
 * source SOURCE (ST_SOURCE_PTRACE*); 0, or -1 after saying why on
 * stderr (F stays unmade). */
int st_pfile_open(struct st_pfile *f, const char *dir, pid_t pid, pid_t ppid,
		  uint32_t source);
/* Writes record R (its seq is F's to set) into F; false if F is not made or
 * the record is lost (counted in the header as dropped or as past the
 * capacity, as the reader expects). */
bool st_pfile_put(struct st_pfile *f, struct st_rec *r);
/* Stores the exit time TS (CLOCK_MONOTONIC ns) in F's header. */
void st_pfile_exit(struct st_pfile *f, uint64_t ts);
/* Unmaps and closes F. */
void st_pfile_close(struct st_pfile *f);

#endif
