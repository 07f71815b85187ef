/* SPDX-License-Identifier: MIT */
/* A streaming log-linear histogram: percentiles within 1%, bounded memory. */
#ifndef ST_VIEWER_HISTO_H
#define ST_VIEWER_HISTO_H

#include <stdbool.h>
#include <stdint.h>

/*
 * HdrHistogram-style: values below 128 each have a bucket of their own;
 * above, each power of two [2^k, 2^(k+1)) is cut into 64 equal buckets,
 * so a bucket is at most 1/64 of its lowest value wide and its middle is
 * within 1/128 (0.8%) of every value in it.  The buckets are kept for
 * the range of indexes seen so far: at most ST_HISTO_NBUCKETS (3776)
 * counters, whatever the number of values.  A zeroed struct is empty.
 */
#define ST_HISTO_SUB	  64
#define ST_HISTO_NBUCKETS (128 + 57 * ST_HISTO_SUB)

struct st_histo {
	uint64_t *b;	   /* counts of buckets [lo, lo + n) */
	uint32_t lo, n;	   /* index range held */
	uint64_t count;	   /* values added */
	uint64_t min, max; /* exact, when count > 0 */
	uint64_t sum;	   /* of all values (wraps past 2^64) */
};

/* Adds value V; out of memory exits with a message. */
void st_histo_add(struct st_histo *h, uint64_t v);
/* Adds every value of FROM to H. */
void st_histo_merge(struct st_histo *h, const struct st_histo *from);
/*
 * The P-th percentile (0 < P <= 100) by nearest rank (the smallest value
 * with at least P% of the values at or below it), within 1%: the middle
 * of its bucket, held within [min, max].  0 when empty.
 */
uint64_t st_histo_pct(const struct st_histo *h, double p);
/* How many values lie in [LO, HI) (exact when LO and HI are powers of
 * two, or below 128). */
uint64_t st_histo_count_range(const struct st_histo *h, uint64_t lo,
			      uint64_t hi);
/* Frees what H holds and empties it. */
void st_histo_free(struct st_histo *h);

#endif
