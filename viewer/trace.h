/* SPDX-License-Identifier: MIT */
/* Reading trace files: validation, record access, loss accounting. */
#ifndef ST_VIEWER_TRACE_H
#define ST_VIEWER_TRACE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "socktrace/format.h"

#define ST_ERR_LEN (PATH_MAX + 256)

/* One trace file, mapped read-only.  Records are numbered as the writer
 * numbered them; [first, end) is the range that may still be read. */
struct st_trace {
	char path[PATH_MAX];
	dev_t dev; /* which file: the same one named twice is read once */
	ino_t ino;
	const uint8_t *map;
	size_t size;
	struct st_header hdr; /* copy, live counters as of the last refresh */
	uint64_t slots;	      /* slots present in the file */
	uint64_t first, end;
	uint64_t lost;	  /* overwritten, dropped or cut off by truncation */
	uint64_t cut;	  /* of those, cut off by truncation */
	uint64_t missing; /* reserved but never completed (killed, in flight) */
	uint64_t corrupt; /* slots whose contents make no sense */
	uint64_t good;	  /* records read successfully */
	char warn[ST_ERR_LEN]; /* first problem found in the records */
	/* a finished file (its process exited) is read with pread through
	 * buf, not through the mapping: see st_trace_get; the merge clears
	 * it for the files it follows live */
	bool buffered;
	int fd; /* for pread; -1 until the first buffered read, -2: failed */
	uint8_t *buf; /* slots [buf_slot, buf_slot + buf_n) */
	uint64_t buf_slot, buf_n;
	uint64_t buf_cap; /* slots buf has room for */
};

/*
 * Opens and validates PATH.  Returns 0, or -1 with a message naming the
 * file (and offset) in err.  A file with a valid header but a short or
 * damaged body opens, with the problem in t->warn.
 */
int st_trace_open(struct st_trace *t, const char *path, char *err);
void st_trace_close(struct st_trace *t);

/* Re-reads the live counters (records written since open). */
void st_trace_refresh(struct st_trace *t);

/*
 * Copies record N into R.  Records of a finished file are read a run
 * of slots at a time (pread), those of a file still written through the
 * mapping.  Returns 1 when it is there; 0 when it is not
 * (never completed: counted in missing; or cut off with the file's end:
 * already counted in lost); -1 when it is corrupt (counted in corrupt,
 * described in warn).  good, missing and corrupt count calls, not
 * records: read each record once.
 */
int st_trace_get(struct st_trace *t, uint64_t n, struct st_rec *r);

/* Gives back T's read buffer and its descriptor (the file is read to
 * its end; a later st_trace_get makes them again). */
void st_trace_rest(struct st_trace *t);

/* True when record N is published (its writer finished it). */
bool st_trace_ready(const struct st_trace *t, uint64_t n);

/*
 * The first record number from N on whose slot the file holds (N itself,
 * or the start of the ring's next lap); UINT64_MAX past the last.  A
 * truncated file, or one whose header claims a huge capacity, has long
 * runs of records with no slot: walking [first, end) through this visits
 * only the slots present, so the work is bounded by the file's size.
 */
uint64_t st_trace_skip(const struct st_trace *t, uint64_t n);

/* Byte offset of record N's slot in the file. */
uint64_t st_trace_offset(const struct st_trace *t, uint64_t n);

/*
 * Expands PATHS (files or directories of *.trace files) into a list of
 * file paths, sorted; returns the count or -1 with err set.  The caller
 * frees each path and the array.
 */
int st_trace_find(char **paths, int npaths, char ***out, char *err);

/* The header of file PATH into H, as it is now (a file being made may
 * not have its magic yet); false if it cannot be read whole. */
bool st_header_read(const char *path, struct st_header *h);
/* attach_until of the trace file PATH, and its next record in *NEXT;
 * false if it cannot be read. */
bool st_peek_header(const char *path, uint64_t *until, uint64_t *next);

/* CLOCK_MONOTONIC in ns: the clock of the records. */
uint64_t st_now_ns(void);

#endif
