/* SPDX-License-Identifier: MIT */
/* Opening a set of trace files and reporting on them. */
#ifndef ST_VIEWER_LOAD_H
#define ST_VIEWER_LOAD_H

#include "out.h"
#include "trace.h"

struct st_traceset {
	struct st_trace *t;
	int n;
	int failed; /* files that could not be opened */
};

/*
 * Opens every trace file under PATHS (default: the trace directory).
 * Files that cannot be read are reported on stderr and skipped.  Returns
 * 0, or -1 with err set when nothing could be opened at all.
 */
int st_traceset_open(struct st_traceset *s, char **paths, int npaths,
		     char *err);
void st_traceset_close(struct st_traceset *s);

/* What reading a set counts per file: saved before a pass that only
 * looks, put back after, so that each record is counted once. */
struct st_read_counts {
	uint64_t missing, corrupt, good;
	char warn[ST_ERR_LEN];
};
/* S's counts now (free them), or NULL when out of memory. */
struct st_read_counts *st_traceset_counts(const struct st_traceset *s);
/* Puts RC (from st_traceset_counts) back into S, and frees it. */
void st_traceset_counts_restore(struct st_traceset *s,
				struct st_read_counts *rc);
/* Adds the trace file PATH (attach follows files as they appear);
 * returns its index, or -1 with err set. */
int st_traceset_add(struct st_traceset *s, const char *path, char *err);

/*
 * Prints the warnings of every file (truncation, corruption, loss);
 * returns how many files are damaged (truncated or holding corrupt
 * records), which makes the command's exit status 1.  Records lost to a
 * full ring or a killed process are reported but are no damage.
 */
int st_traceset_warn(struct st_traceset *s);

/* "comm[pid]" of trace file T. */
const char *st_proc_name(const struct st_trace *t, char buf[48]);
/* "COMM[PID] lost N records (why): ..." into BUF; false if none lost.
 * Without WITH_CUT, records cut off by truncation (said apart, in warn)
 * are left out. */
bool st_trace_loss(const struct st_trace *t, bool with_cut, char *buf,
		   size_t len);

/* {"type":"process",...} for file T, newline-terminated. */
void st_process_json(struct st_out *o, const struct st_trace *t);

#endif
