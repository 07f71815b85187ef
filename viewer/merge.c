/* SPDX-License-Identifier: MIT */
/* Merging the records of many trace files into one stream in time order. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "merge.h"

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

/*
 * Gives back the pages of the MiB of slots that ends at record N, once
 * read: the mapping is only a window onto the file, and without this a
 * large trace would count whole in the viewer's memory.
 */
static void release(struct st_trace *t, uint64_t n)
{
	const uint64_t per = (1 << 20) / ST_SLOT_SIZE;

	if ((n + 1) % per || n + 1 < per)
		return;
	uint64_t first = st_trace_offset(t, n + 1 - per);
	uint64_t last = st_trace_offset(t, n);
	if (first < last) /* not across a ring's wrap */
		madvise((void *)(t->map + first), last + ST_SLOT_SIZE - first,
			MADV_DONTNEED);
}

/* Loads file F's next readable record into cur[F]; false at its end. */
static bool load(struct st_merge *m, int f)
{
	struct st_trace *t = &m->set->t[f];

	if (m->pos[f] < t->first)
		m->pos[f] = t->first;
	while (m->pos[f] < t->end) {
		uint64_t n = m->pos[f]++;
		int got = st_trace_get(t, n, &m->cur[f]);
		release(t, n);
		if (got == 1)
			return true;
	}
	return false;
}

int st_merge_init(struct st_merge *m, struct st_traceset *set)
{
	memset(m, 0, sizeof(*m));
	m->set = set;
	m->taken = -1;
	m->heap = calloc(set->n, sizeof(int));
	m->pos = calloc(set->n, sizeof(uint64_t));
	m->cur = calloc(set->n, sizeof(struct st_rec));
	if (!m->heap || !m->pos || !m->cur) {
		st_merge_free(m);
		return -1;
	}
	st_merge_resume(m);
	return 0;
}

/* The record handed out last is done with: its file moves on. */
static void settle(struct st_merge *m)
{
	if (m->taken < 0)
		return;
	if (load(m, m->taken)) {
		sift_down(m, 0);
	} else {
		m->heap[0] = m->heap[--m->n];
		sift_down(m, 0);
	}
	m->taken = -1;
}

void st_merge_resume(struct st_merge *m)
{
	bool in[m->set->n > 0 ? m->set->n : 1];

	settle(m);
	memset(in, 0, sizeof(in));
	for (int i = 0; i < m->n; i++)
		in[m->heap[i]] = true;
	for (int f = 0; f < m->set->n; f++) {
		if (in[f] || !load(m, f))
			continue;
		m->heap[m->n++] = f;
		sift_up(m, m->n - 1);
	}
}

void st_merge_free(struct st_merge *m)
{
	free(m->heap);
	free(m->pos);
	free(m->cur);
	memset(m, 0, sizeof(*m));
}

const struct st_rec *st_merge_next(struct st_merge *m, int *file)
{
	settle(m);
	if (m->n == 0)
		return NULL;
	int f = m->heap[0];
	*file = f;
	m->taken = f;
	return &m->cur[f];
}
