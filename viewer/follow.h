/* SPDX-License-Identifier: MIT */
/* Following trace files as they grow: of processes, or of a directory. */
#ifndef ST_VIEWER_FOLLOW_H
#define ST_VIEWER_FOLLOW_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "load.h"
#include "merge.h"
#include "proc.h"

/* How often the files are polled. */
#define ST_FOLLOW_TICK_NS (50 * 1000000L)

/* What a follower tells the command using it (attach, live). */
struct st_follow_ops {
	/* File FILE of the set is followed from now on. */
	void (*file)(void *arg, int file);
	/* The set's files were refreshed or added to: records follow. */
	void (*refreshed)(void *arg);
	/* One record, in st_merge order. */
	void (*record)(void *arg, const struct st_rec *r, int file);
	/* What preloaded processes recorded before has been fed: from now
	 * on it is live (PID mode; DIR mode calls it after the files found
	 * at the start). */
	void (*history_done)(void *arg);
	/* A message for the user (attached, exited, a file refused...),
	 * without "socktrace: " or a newline. */
	void (*note)(void *arg, const char *msg);
};

struct st_follow_target;

/*
 * Zero it, set the fields above the line, then st_follow_add (PIDs) or
 * st_follow_dir, st_follow_prepare, st_follow_begin, st_follow_poll
 * every ST_FOLLOW_TICK_NS, st_follow_end, st_follow_free.
 */
struct st_follow {
	const char *cmd;    /* names error messages: "attach", "live" */
	bool children;	    /* also descendants, and children forked later */
	const char *outdir; /* where processes the library is loaded into
			     * write (NULL: their own default) */
	struct st_follow_ops ops;
	void *arg;
	bool verbose; /* a note for each process that exits, too */
	/* ---- */
	const char *dir; /* DIR mode: every trace file there, now or later */
	struct st_follow_target *tg;
	int ntg;
	struct st_traceset set;
	struct st_merge mg;
	uint64_t start; /* CLOCK_MONOTONIC ns when following started */
	uint64_t ticks;
	uint64_t records; /* fed so far */
	struct timespec dir_mtime;
	bool dir_retry; /* a file there was not ready: look again */
	bool begun;	/* history read: what comes now is live */
	char **refused; /* DIR mode: files that cannot be read, said once */
	int nrefused;
};

/* The processes followed that have not exited (after prepare). */
int st_follow_count(const struct st_follow *f);
/* Follows PID (and, with children, its descendants when prepared). */
void st_follow_add(struct st_follow *f, pid_t pid);
/* Follows every trace file in directory DIR; returns 0, or an exit code
 * after saying on stderr what is wrong. */
int st_follow_dir(struct st_follow *f, const char *dir);
/*
 * Gets the processes ready: finds how each is traced, loads the library
 * into those not recording.  Returns 0, or an exit code after saying
 * what went wrong on stderr (processes already woken stop recording).
 */
int st_follow_prepare(struct st_follow *f);
/* Reads what the files hold now (history, then history_done). */
void st_follow_begin(struct st_follow *f);
/*
 * One poll: feeds the records written since, notices processes that
 * exited and new files.  Returns the number of records fed, or -1 when
 * every process followed has exited (PID mode).
 */
long st_follow_poll(struct st_follow *f);
/* Stops following: recording stops in the processes the library was
 * loaded into; what they wrote until now is fed. */
void st_follow_end(struct st_follow *f);
void st_follow_free(struct st_follow *f);

#endif
