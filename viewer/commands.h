/* SPDX-License-Identifier: MIT */
/* The viewer's subcommands and the record printers they share. */
#ifndef ST_VIEWER_COMMANDS_H
#define ST_VIEWER_COMMANDS_H

#include <stdio.h>

#include "opts.h"
#include "out.h"
#include "trace.h"

/* Each takes the subcommand's argv (argv[0] is its name) and returns the
 * exit code: 0 ok, 1 runtime error, 2 usage error. */
int st_cmd_dump(int argc, char **argv);
int st_cmd_view(int argc, char **argv);
int st_cmd_run(int argc, char **argv);

struct st_traceset;
/* Prints the timelines of SET; returns an exit code. */
int st_show(struct st_traceset *set, const struct st_view_opts *vo);

/*
 * The same, a record at a time (attach follows files as they grow):
 * open, then feed records in st_merge order; a connection is printed
 * when it is finished.  Close prints what is still open and the
 * findings, frees everything and returns an exit code.
 */
struct st_show;
struct st_model;
struct st_show *st_show_open(struct st_traceset *set,
			     const struct st_view_opts *vo);
/* {"type":"process"} for FILE (JSON only). */
void st_show_process(struct st_show *s, int file);
void st_show_record(struct st_show *s, const struct st_rec *r, int file);
/* While quiet, records build connections but nothing is printed. */
void st_show_quiet(struct st_show *s, bool quiet);
struct st_model *st_show_model(struct st_show *s);
/* Writes what is buffered; -1 on a write error. */
int st_show_flush(struct st_show *s);
int st_show_close(struct st_show *s);
int st_cmd_attach(int argc, char **argv);
int st_cmd_detach(int argc, char **argv);
int st_cmd_live(int argc, char **argv);

#endif
