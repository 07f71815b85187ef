/* SPDX-License-Identifier: MIT */
/* Merging the records of many trace files into one stream in time order. */
#ifndef ST_VIEWER_MERGE_H
#define ST_VIEWER_MERGE_H

#include <stdbool.h>

#include "load.h"

/*
 * Records come out ordered by the time their call returned (ts + dur):
 * that is when a call takes effect (accept returns, a close sends FIN),
 * and it is the order in which one file holds its records, so the merge
 * needs no buffering beyond one record per file.
 */
struct st_merge {
	struct st_traceset *set;
	int *heap; /* file indexes, ordered by their next record's end */
	int n;
	uint64_t *pos;	    /* next record number per file */
	struct st_rec *cur; /* next record per file */
	/* live: wait for a record being written rather than skip it */
	bool live;
	unsigned *stall; /* live: resumes spent waiting, per file */
	int cap;	 /* files the arrays hold */
};

/* A record still unpublished after this many resumes is skipped (its
 * writer was killed while writing it): about 2 s of live polling. */
#define ST_MERGE_PATIENCE 40

int st_merge_init(struct st_merge *m, struct st_traceset *set);
void st_merge_free(struct st_merge *m);
/* The next record in time order and its file; false at the end. */
bool st_merge_next(struct st_merge *m, struct st_rec *r, int *file);
/* Picks up records written since (live view): files must be refreshed.
 * Files added to the set since are taken in from their first record;
 * returns -1 when out of memory. */
int st_merge_resume(struct st_merge *m);
/* Starts file F at record N (before it is read). */
void st_merge_seek(struct st_merge *m, int f, uint64_t n);

#endif
