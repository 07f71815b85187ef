/* SPDX-License-Identifier: MIT */
/* The show engine: records in, connections and findings out to the sinks. */
#ifndef ST_VIEWER_SHOW_H
#define ST_VIEWER_SHOW_H

#include <stdbool.h>

#include "load.h"
#include "opts.h"

/* Shows the timelines of SET as VO asks (text, --json, --html,
 * --perfetto, filtered); returns an exit code: 0, or 1 when an output
 * failed. */
int st_show(struct st_traceset *set, const struct st_view_opts *vo);
/* Opens the trace files under PATHS (NPATHS of them; none: the trace
 * directory) and shows them; returns an exit code: 1 also when nothing
 * could be opened (said on stderr as "socktrace CMD: ...") or a file is
 * damaged. */
int st_show_paths(const char *cmd, char **paths, int npaths,
		  const struct st_view_opts *vo);

/*
 * The same, a record at a time (attach follows files as they grow):
 * open, then feed records in st_merge order; a connection is shown
 * when it is finished.  Close shows what is still open and the
 * findings, frees everything and returns an exit code.
 */
struct st_show;
struct st_model;
/* NULL after saying on stderr why (an output file cannot be written). */
struct st_show *st_show_open(struct st_traceset *set,
			     const struct st_view_opts *vo);
/* File FILE of the set is read ({"type":"process"} for JSON). */
void st_show_process(struct st_show *s, int file);
void st_show_record(struct st_show *s, const struct st_rec *r, int file);
/* While quiet, records build connections but nothing is shown. */
void st_show_quiet(struct st_show *s, bool quiet);
struct st_model *st_show_model(struct st_show *s);
/* Writes what is buffered for stdout; -1 on a write error. */
int st_show_flush(struct st_show *s);
int st_show_close(struct st_show *s);

#endif
