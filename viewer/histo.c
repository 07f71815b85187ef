/* SPDX-License-Identifier: MIT */
/* A streaming log-linear histogram: percentiles within 1%, bounded memory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "histo.h"

/* Which bucket holds V. */
static uint32_t index_of(uint64_t v)
{
	if (v < 128)
		return (uint32_t)v;
	unsigned k = 63 - (unsigned)__builtin_clzll(v); /* k >= 7 */
	unsigned shift = k - 6;
	uint32_t sub = (uint32_t)(v >> shift) - ST_HISTO_SUB;

	return 128 + (k - 7) * ST_HISTO_SUB + sub;
}

/* The lowest value of bucket I, and its width in *W. */
static uint64_t bucket_lo(uint32_t i, uint64_t *w)
{
	if (i < 128) {
		*w = 1;
		return i;
	}
	unsigned k = 7 + (i - 128) / ST_HISTO_SUB;
	uint64_t sub = (i - 128) % ST_HISTO_SUB + ST_HISTO_SUB;

	*w = 1ull << (k - 6);
	return sub << (k - 6);
}

/* Makes H hold index I: grows its range to take it in. */
static void cover(struct st_histo *h, uint32_t i)
{
	uint32_t lo = h->n ? h->lo : i, hi = h->n ? h->lo + h->n : i + 1;

	if (h->n && i >= lo && i < hi)
		return;
	if (i < lo)
		lo = i;
	if (i >= hi)
		hi = i + 1;
	/* grow by a quarter more than asked: few reallocations */
	uint32_t n = hi - lo, extra = n / 4;
	if (lo == i && h->n) /* growing down */
		lo = lo > extra ? lo - extra : 0;
	else
		hi = hi + extra > ST_HISTO_NBUCKETS ? ST_HISTO_NBUCKETS
						    : hi + extra;
	n = hi - lo;
	uint64_t *b = calloc(n, sizeof(*b));
	if (!b) {
		fprintf(stderr, "socktrace: out of memory\n");
		exit(1);
	}
	if (h->n)
		memcpy(b + (h->lo - lo), h->b, h->n * sizeof(*b));
	free(h->b);
	h->b = b;
	h->lo = lo;
	h->n = n;
}

static void add_n(struct st_histo *h, uint32_t i, uint64_t n)
{
	cover(h, i);
	h->b[i - h->lo] += n;
}

void st_histo_add(struct st_histo *h, uint64_t v)
{
	add_n(h, index_of(v), 1);
	if (!h->count || v < h->min)
		h->min = v;
	if (!h->count || v > h->max)
		h->max = v;
	h->count++;
	h->sum += v;
}

void st_histo_merge(struct st_histo *h, const struct st_histo *from)
{
	if (!from->count)
		return;
	for (uint32_t i = 0; i < from->n; i++)
		if (from->b[i])
			add_n(h, from->lo + i, from->b[i]);
	if (!h->count || from->min < h->min)
		h->min = from->min;
	if (!h->count || from->max > h->max)
		h->max = from->max;
	h->count += from->count;
	h->sum += from->sum;
}

uint64_t st_histo_pct(const struct st_histo *h, double p)
{
	if (!h->count)
		return 0;
	/* nearest rank: the ceil(p/100 * count)-th value, at least the 1st */
	double want = p / 100.0 * (double)h->count;
	uint64_t rank = (uint64_t)want;
	if ((double)rank < want)
		rank++;
	if (rank < 1)
		rank = 1;
	if (rank >= h->count)
		return h->max;
	uint64_t seen = 0, w, v = h->max;
	for (uint32_t i = 0; i < h->n; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			v = bucket_lo(h->lo + i, &w);
			v += w / 2;
			break;
		}
	}
	return v < h->min ? h->min : v > h->max ? h->max : v;
}

uint64_t st_histo_count_range(const struct st_histo *h, uint64_t lo,
			      uint64_t hi)
{
	uint64_t n = 0, w;

	for (uint32_t i = 0; i < h->n; i++) {
		uint64_t b = bucket_lo(h->lo + i, &w);
		if (h->b[i] && b >= lo && b < hi)
			n += h->b[i];
	}
	return n;
}

void st_histo_free(struct st_histo *h)
{
	free(h->b);
	memset(h, 0, sizeof(*h));
}
