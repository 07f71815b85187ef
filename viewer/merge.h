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
	uint64_t *pos;      /* next record number per file */
	struct st_rec *cur; /* next record per file */
	int taken;          /* the file whose cur was handed out, or -1 */
};

int st_merge_init(struct st_merge *m, struct st_traceset *set);
void st_merge_free(struct st_merge *m);
/* The next record in time order and its file; NULL at the end.  The
 * record stays valid until the next call (it is not copied). */
const struct st_rec *st_merge_next(struct st_merge *m, int *file);
/* Picks up records written since (live view): files must be refreshed. */
void st_merge_resume(struct st_merge *m);

static inline uint64_t st_rec_end(const struct st_rec *r)
{
	return r->ts + r->dur;
}

#endif
