/* SPDX-License-Identifier: MIT */
/* The show engine: records in, connections and findings out to the sinks. */
#ifndef ST_VIEWER_SHOW_H
#define ST_VIEWER_SHOW_H

#include <stdbool.h>
#include "conn.h" /* uthash, with the hash the viewer uses */

#include "load.h"
#include "opts.h"

struct st_model;
struct st_conn;
struct st_finding;

/*
 * The filters of view's options (--pid, --conn, --port, and those of
 * struct st_filter_opts), over model M: the one filter every output
 * goes through (the show engine's sinks, and live).  A connection's
 * findings come before it: st_filter_finding holds them, and
 * st_filter_conn shows them (through FN) only when it shows the
 * connection.
 */
struct st_filter {
	const struct st_model *m;
	int32_t pid;   /* 0: any */
	uint64_t conn; /* 0: any */
	int port;      /* -1: any */
	struct st_filter_opts x;
	bool any;		 /* x asks for something */
	bool resolved;		 /* since and until are known */
	uint64_t since, until;	 /* x's window in the trace's clock */
	struct st_finding *held; /* about the connection that comes next */
	uint32_t nheld, capheld;
	struct st_filter_lis *lis; /* listeners shown, for --listener */
	uint32_t nlis, caplis;
	/* --pid: connections made elsewhere that the process used (a
	 * forked child serves what its parent accepted), until shown */
	struct st_filter_used *used;
};
/* A connection a call of the --pid process was about. */
struct st_filter_used {
	uint64_t id;
	UT_hash_handle hh;
};
/* A listener shown: its address, for the server ends that come later. */
struct st_filter_lis {
	uint64_t id;
	struct st_addr local;
};

void st_filter_init(struct st_filter *f, const struct st_view_opts *vo,
		    const struct st_model *m);
void st_filter_free(struct st_filter *f);
/* Record R of FILE is about to be fed to the model: --pid notes the
 * connections its process uses though another made them. */
void st_filter_record(struct st_filter *f, const struct st_rec *r, int file);
/* Is trace T's process shown (--pid)? */
bool st_filter_proc(const struct st_filter *f, const struct st_trace *t);
/* Is call R of FILE shown beside the connections (--pid, --conn, the
 * accept that made --conn's, --since/--until)? */
bool st_filter_call(struct st_filter *f, const struct st_rec *r, int file);
/* Is finding FD to be shown now?  False also when it is held for its
 * connection. */
bool st_filter_finding(struct st_filter *f, const struct st_finding *fd);
/*
 * Is the connection of ends C and O (or NULL) shown?  SHOWN false: no,
 * whatever the filters say (the caller's own reasons).  The findings
 * held for it go to FN(finding, ARG) when it is shown (only the kinds
 * --finding asks for), and are dropped.
 */
bool st_filter_conn(struct st_filter *f, const struct st_conn *c,
		    const struct st_conn *o, bool shown,
		    void (*fn)(const struct st_finding *, void *), void *arg);

/* Connections shown above which the text view starts with the stats
 * summary and says how to narrow them down. */
#define ST_VIEW_SUMMARY_MIN 300

/* Shows the timelines of SET as VO asks (text, --json, --html,
 * --perfetto, filtered); returns an exit code: 0, or 1 when an output
 * failed.  A text view of more than ST_VIEW_SUMMARY_MIN connections
 * starts with the stats summary (the trace is read twice). */
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
