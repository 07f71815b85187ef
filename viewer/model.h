/* SPDX-License-Identifier: MIT */
/* The model core: records in, finished connections and findings out. */
#ifndef ST_VIEWER_MODEL_H
#define ST_VIEWER_MODEL_H

#include "conntab.h"
#include "findings.h"
#include "forks.h"
#include "load.h"
#include "stitch.h"
#include "twhold.h"

struct st_model;
typedef void (*st_emit_fn)(struct st_model *m, struct st_conn *c, void *arg);
typedef void (*st_finding_fn)(struct st_model *m, const struct st_finding *f,
			      void *arg);
/* Is the process behind trace file T still running?  The model asks
 * only this of the world outside the records (proc.c answers it). */
typedef bool (*st_alive_fn)(const struct st_trace *t, void *arg);

/*
 * The model is a pure function of the records (and of the answers of
 * its alive callback): records go in through st_model_add in st_merge
 * order; each connection comes out through EMIT once it is finished
 * (both ends, when joined), and the findings about it through FINDING
 * just before.  The stages: conntab.c (connections and fds), stitch.c
 * (joining ends), tcpstate.c (states), findings.c (problems).
 */
struct st_model {
	struct st_traceset *set;
	struct st_conntab tab;
	struct st_stitch stitch;
	st_emit_fn emit;
	st_finding_fn finding;
	void *arg;
	st_alive_fn alive; /* NULL: every process ended is taken as gone */
	void *alive_arg;
	uint64_t t0;		/* first record's time */
	uint64_t now;		/* latest record's end time */
	bool finishing;		/* st_model_finish: emit what fds hold */
	struct st_conn **ready; /* finished, to be emitted */
	uint32_t nready, capready;
	int *exits; /* files that exited, by exit time: ended in order */
	int nexits, next_exit;
	bool *ended; /* by file: its exit has been handled */
	int nfiles;  /* files ended[] and exits[] have room for */
	bool set_changed;
	/* files may appear later (live, attach): a fork's child not seen
	 * yet holds its parent's fds until its file appears or it is gone
	 * (forks.c), and processes end at st_model_reap, not at a later
	 * record of another (a new file's records are read late) */
	bool following;
	struct st_forks forks; /* children whose file is not seen yet */
	/* TIME_WAIT ends wait for their 60 s or a reuse of their 4-tuple
	 * (a trace read after the fact: live output would lag) */
	bool hold_tw;
	struct st_twhold tw;
};

/* Internal to the model (model_exits.c): (re)builds m->exits, the
 * exits not yet handled, by exit time. */
void st__model_exits_scan(struct st_model *m);
/* Internal (model_exits.c): FILE forked CHILD; a traced child gets a copy
 * of its fds (while following, held until its file appears). */
void st__model_fork(struct st_model *m, int file, pid_t child);
/* Internal (model_exits.c): the connection an exec'd image's `seen`
 * record R (of FILE) names, when the image it replaced held it on the
 * same fd: the same socket, named by both ids from now on; else NULL. */
struct st_conn *st__model_exec_inherited(struct st_model *m,
					 const struct st_rec *r, int file);

int st_model_init(struct st_model *m, struct st_traceset *set, st_emit_fn emit,
		  st_finding_fn finding, void *arg);
/* How the model learns whether a process without an exit record still
 * runs (live following; a trace read after the fact). */
void st_model_liveness(struct st_model *m, st_alive_fn fn, void *arg);
/* Feeds one record (in st_merge order) of file FILE. */
void st_model_add(struct st_model *m, const struct st_rec *r, int file);
/*
 * Attach starts here: what came before was history.  Open connections
 * are marked as opened before attach, keep their state and addresses
 * and start their timelines afresh; finished ones are hidden.
 */
void st_model_mark_attach(struct st_model *m);
/* The set's files were refreshed or added to (live following): exit
 * times are looked at again. */
void st_model_set_changed(struct st_model *m);
/*
 * Live following: ends the processes that are gone (exited, replaced by
 * exec, or died without a word, then at NOW, when that was noticed), so
 * their connections end too.  Call it after the records written so far
 * were fed.
 */
void st_model_reap(struct st_model *m, uint64_t now);
/*
 * The connections not emitted yet, in no order: open ones, and finished
 * ends waiting for their other end.  The first for C NULL, then the one
 * after C; NULL at the end.  Valid until the next st_model_* call that
 * feeds or ends anything.
 */
struct st_conn *st_model_open_next(const struct st_model *m,
				   const struct st_conn *c);
/*
 * Findings that already hold for C while it is open (a CLOSE_WAIT that
 * lasts until NOW, a clipped backlog, a full accept queue...), passed to
 * FN; a connection is judged again, for good, when it is emitted.
 */
void st_model_judge_open(struct st_model *m, struct st_conn *c, uint64_t now,
			 st_finding_fn fn, void *arg);
/* The trace is over: ends processes, emits what is left, reports loss. */
void st_model_finish(struct st_model *m);
/* Frees a connection after it was emitted (emit callbacks may keep it). */
void st_conn_free(struct st_model *m, struct st_conn *c);
void st_model_free(struct st_model *m);

#endif
