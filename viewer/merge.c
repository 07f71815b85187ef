/* SPDX-License-Identifier: MIT */
/* Merging the records of many trace files into one stream in time order. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "merge.h"

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

static bool less(const struct st_merge *m, int a, int b)
{
	uint64_t x = st_rec_end(&m->cur[a]), y = st_rec_end(&m->cur[b]);

	return x != y ? x < y : a < b;
}

static void sift_down(struct st_merge *m, int i)
{
	for (;;) {
		int l = 2 * i + 1, r = l + 1, min = i;
		if (l < m->n && less(m, m->heap[l], m->heap[min]))
			min = l;
		if (r < m->n && less(m, m->heap[r], m->heap[min]))
			min = r;
		if (min == i)
			return;
		int t = m->heap[i];
		m->heap[i] = m->heap[min];
		m->heap[min] = t;
		i = min;
	}
}

static void sift_up(struct st_merge *m, int i)
{
	while (i > 0) {
		int p = (i - 1) / 2;
		if (!less(m, m->heap[i], m->heap[p]))
			return;
		int t = m->heap[i];
		m->heap[i] = m->heap[p];
		m->heap[p] = t;
		i = p;
	}
}

/* The merge reads each file through a window of this many bytes of
 * slots: the pages behind it are given back, the ones ahead mapped. */
#define WINDOW (256 << 10)
/* Records ahead of the one read whose slot is prefetched: a slot's
 * first touch would otherwise wait on memory. */
#define AHEAD 16

/*
 * At the end of a window (record N its last): gives back the pages of
 * the window just read, and maps the pages of the window after the next
 * (MADV_POPULATE_READ, Linux 5.14; older kernels refuse it, harmlessly).
 * The mapping is only a window onto the file: without the first a large
 * trace would count whole in the viewer's memory; without the second
 * each run of 16 pages costs a page fault, the slowest part of reading.
 */
static void window(struct st_trace *t, uint64_t n)
{
	const uint64_t per = WINDOW / ST_SLOT_SIZE;

	if ((n + 1) % per || n + 1 < per)
		return;
	uint64_t first = st_trace_offset(t, n + 1 - per);
	uint64_t last = st_trace_offset(t, n);
	/* not across a ring's wrap, and never past the file: that memory
	 * is not ours to drop */
	if (first < last && last + ST_SLOT_SIZE <= t->size)
		madvise((void *)(t->map + first), last + ST_SLOT_SIZE - first,
			MADV_DONTNEED);
	uint64_t ahead = st_trace_offset(t, n + 1 + per);
	if (ahead % 4096 == 0 && ahead + WINDOW <= t->size)
		madvise((void *)(t->map + ahead), WINDOW, MADV_POPULATE_READ);
}

/* Loads file F's next readable record into cur[F]; false at its end. */
static bool load(struct st_merge *m, int f)
{
	struct st_trace *t = &m->set->t[f];

	if (m->pos[f] < t->first)
		m->pos[f] = t->first;
	/* followed live, a file that just got its exit time may still see
	 * another thread publish a record: the mapping shows it, a buffer
	 * read before would not */
	if (m->live)
		t->buffered = false;
	while ((m->pos[f] = st_trace_skip(t, m->pos[f])) < t->end) {
		if (m->live && !st_trace_ready(t, m->pos[f]) &&
		    m->stall[f]++ < ST_MERGE_PATIENCE)
			return false; /* still being written: next time */
		m->stall[f] = 0;
		uint64_t n = m->pos[f]++;
		if (!t->buffered) {
			uint64_t pre = st_trace_offset(t, n + AHEAD);
			if (pre + ST_SLOT_SIZE <= t->size)
				__builtin_prefetch(t->map + pre);
		}
		int got = st_trace_get(t, n, &m->cur[f]);
		if (!t->buffered)
			window(t, n);
		if (got == 1)
			return true;
	}
	if (t->buffered)
		st_trace_rest(t); /* read to its end: its buffer goes */
	return false;
}

/* Makes room for every file of the set; new ones start at record 0. */
static int fit(struct st_merge *m)
{
	int n = m->set->n;

	if (n <= m->cap)
		return 0;
	int *heap = realloc(m->heap, n * sizeof(int));
	if (heap)
		m->heap = heap;
	uint64_t *pos = realloc(m->pos, n * sizeof(uint64_t));
	if (pos)
		m->pos = pos;
	struct st_rec *cur = realloc(m->cur, n * sizeof(struct st_rec));
	if (cur)
		m->cur = cur;
	unsigned *stall = realloc(m->stall, n * sizeof(unsigned));
	if (stall)
		m->stall = stall;
	if (!heap || !pos || !cur || !stall)
		return -1;
	memset(m->pos + m->cap, 0, (n - m->cap) * sizeof(uint64_t));
	memset(m->stall + m->cap, 0, (n - m->cap) * sizeof(unsigned));
	m->cap = n;
	return 0;
}

int st_merge_init(struct st_merge *m, struct st_traceset *set)
{
	memset(m, 0, sizeof(*m));
	m->set = set;
	if (st_merge_resume(m)) {
		st_merge_free(m);
		return -1;
	}
	return 0;
}

void st_merge_seek(struct st_merge *m, int f, uint64_t n)
{
	if (!fit(m))
		m->pos[f] = n;
}

int st_merge_resume(struct st_merge *m)
{
	if (fit(m))
		return -1;
	bool in[m->set->n > 0 ? m->set->n : 1];

	memset(in, 0, sizeof(in));
	for (int i = 0; i < m->n; i++)
		in[m->heap[i]] = true;
	for (int f = 0; f < m->set->n; f++) {
		if (in[f] || !load(m, f))
			continue;
		m->heap[m->n++] = f;
		sift_up(m, m->n - 1);
	}
	return 0;
}

void st_merge_free(struct st_merge *m)
{
	free(m->heap);
	free(m->pos);
	free(m->cur);
	free(m->stall);
	memset(m, 0, sizeof(*m));
}

bool st_merge_next(struct st_merge *m, struct st_rec *r, int *file)
{
	if (m->n == 0)
		return false;
	int f = m->heap[0];
	*r = m->cur[f];
	*file = f;
	if (load(m, f)) {
		sift_down(m, 0);
	} else {
		m->heap[0] = m->heap[--m->n];
		sift_down(m, 0);
	}
	return true;
}
