/* SPDX-License-Identifier: MIT */
/* Output sinks: the one interface text, JSON, HTML and Perfetto implement. */
#ifndef ST_VIEWER_SINK_H
#define ST_VIEWER_SINK_H

#include <stdbool.h>
#include <stdio.h>

#include "model.h"
#include "opts.h"
#include "out.h"

/* Where and how a renderer writes: an output buffer, the model it
 * reads the traces and times from, and view's --color and --wall. */
struct st_render {
	struct st_out *o;
	struct st_model *m;
	bool color;
	bool wall; /* wall-clock times instead of relative */
};

/* What the show engine hands every sink when it begins. */
struct st_sink_env {
	/* stdout, buffered: shared by the sinks that print there, who
	 * flush it at their end (st_sink_stdout_end) */
	struct st_render rd;
	/* The filters (--pid, --conn): whether file T's process is shown,
	 * and whether call R of FILE was handed to the sinks. */
	bool (*proc_shown)(const struct st_trace *t, void *arg);
	bool (*call_shown)(const struct st_rec *r, int file, void *arg);
	void *arg;
};

/*
 * An output format.  The engine (show.c) calls begin for every format in
 * its table (a fallback only when none began); those that begin get, in
 * this order: process for each file whose process passes the filters,
 * then call for each record that passes them (in time order),
 * interleaved with conn as the model finishes each connection shown and
 * finding for each finding about what is shown; then end, once.  While
 * attach reads history quietly, nothing is handed on.  Begin, end and
 * drop are needed; the others may be NULL.  STATE is what begin set.
 */
struct st_sink_ops {
	/*
	 * Starts the format if VO asks for it, setting *STATE (left NULL
	 * when VO does not ask for it).  Returns 0, or -1 after saying on
	 * stderr what failed (nothing stays open then).
	 */
	int (*begin)(void **state, const struct st_sink_env *env,
		     const struct st_view_opts *vo);
	/* Trace file FILE is read (attach: also files found later). */
	void (*process)(void *state, int file);
	/* One call record of file FILE. */
	void (*call)(void *state, const struct st_rec *r, int file);
	/* A finished connection C (the client's end of a joined pair) and
	 * its other end, C->other, if any. */
	void (*conn)(void *state, const struct st_conn *c);
	/* A finding; those about a connection come just before it. */
	void (*finding)(void *state, const struct st_finding *f);
	/* Writes what comes last, finishes the output and frees STATE;
	 * returns 0, or -1 after saying on stderr what failed. */
	int (*end)(void *state);
	/* Frees STATE without finishing (a later format failed to begin). */
	void (*drop)(void *state);
	/* Begun only when no other format began: the text view, which any
	 * other output replaces (it comes last in the table). */
	bool fallback;
};

/* The formats, one file each (sink_<name>.c), in show.c's table. */
extern const struct st_sink_ops st_sink_json;
extern const struct st_sink_ops st_sink_text;
extern const struct st_sink_ops st_sink_perfetto;
extern const struct st_sink_ops st_sink_html;
extern const struct st_sink_ops st_sink_stats;

/* What sinks share (sink.c). */
/* Opens output file PATH for writing; NULL after saying why. */
FILE *st_sink_file_open(const char *path);
/* Closes F, the file PATH a sink wrote CONNS connections to (RC its
 * writer's result); says it was written, or reports a failed write or
 * close and returns -1. */
int st_sink_file_close(FILE *f, const char *path, int rc, uint64_t conns);
/* Flushes stdout's buffer O at a sink's end; -1 after saying it failed. */
int st_sink_stdout_end(struct st_out *o);

#endif
