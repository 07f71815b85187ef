/* SPDX-License-Identifier: MIT */
/* What one redraw of live shows: the rows that match, sorted, and the
 * lines each pane gets. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "findings.h"
#include "live_layout.h"
#include "load.h"
#include "records.h"

const char *const st__live_sort_name[] = { "age", "bytes", "state", "process" };

/* Whether V shows a row of these columns: one has the filter text. */
static bool match(const struct st_live_view *v, const char *a, const char *b,
		  const char *c, const char *d)
{
	if (!v->filter[0])
		return true;
	return strcasestr(a, v->filter) || strcasestr(b, v->filter) ||
	       strcasestr(c, v->filter) || strcasestr(d, v->filter);
}

/* qsort passes no argument to its comparison: the view being sorted. */
static const struct st_live_view *sort_view;

static uint64_t bytes_of(const struct st_conn *c)
{
	return c->bytes_in + c->bytes_out;
}

static int by_sort(const void *pa, const void *pb)
{
	const struct st_conn *a = *(struct st_conn *const *)pa;
	const struct st_conn *b = *(struct st_conn *const *)pb;
	const struct st_traceset *set = sort_view->live->m.set;
	int r = 0;

	switch (sort_view->sort) {
	case ST_LIVE_SORT_BYTES:
		r = bytes_of(a) > bytes_of(b) ? -1 : bytes_of(a) < bytes_of(b);
		break;
	case ST_LIVE_SORT_STATE:
		r = strcmp(st_state_name[a->state], st_state_name[b->state]);
		break;
	case ST_LIVE_SORT_PROCESS:
		r = strncmp(set->t[a->file].hdr.comm, set->t[b->file].hdr.comm,
			    sizeof(set->t[a->file].hdr.comm));
		if (!r)
			r = set->t[a->file].hdr.pid - set->t[b->file].hdr.pid;
		break;
	}
	if (!r) /* newest first */
		r = a->open_ts > b->open_ts ? -1 : a->open_ts < b->open_ts;
	if (!r)
		r = a->id < b->id ? -1 : a->id > b->id;
	return r;
}

/*
 * Rows each pane gets out of H: listeners, closes and findings what they
 * have up to a share each, the connections the rest; what the
 * connections leave goes to the others.
 */
static void share(int h, const int want[4], int got[4])
{
	static const int part[4] = { 4, 0, 4, 4 };
	static const int order[3] = { 2, 3, 0 };
	int left = h;

	for (int i = 0; i < 4; i++) {
		int w = want[i] > 1 ? want[i] : 1;
		int cap = part[i] && h / part[i] > 1 ? h / part[i] : 1;
		got[i] = i == 1 ? 0 : w < cap ? w : cap;
		left -= got[i];
	}
	got[1] = want[1] > 1 ? want[1] : 1;
	if (got[1] > left)
		got[1] = left > 1 ? left : 1;
	left -= got[1];
	for (int k = 0; k < 3 && left > 0; k++) {
		int i = order[k];
		int more = want[i] > got[i] ? want[i] - got[i] : 0;
		more = more < left ? more : left;
		got[i] += more;
		left -= more;
	}
}

/*
 * Cuts TEXT into at most ST_LIVE_FIND_LINES lines of width W (the ones after
 * the first are indented by 2), at spaces when it can: their starts and
 * lengths; returns how many.  The last one is cut short if need be.
 */
static int wrap(const char *text, int w, int st[], int len[])
{
	int n = 0, pos = 0, total = (int)strlen(text);

	while (pos < total && n < ST_LIVE_FIND_LINES) {
		int room = n ? w - 2 : w;
		if (room < 8)
			room = 8;
		int l = total - pos;
		if (l > room) {
			l = room;
			for (int k = room; k > room / 2; k--)
				if (text[pos + k] == ' ') {
					l = k;
					break;
				}
		}
		st[n] = pos;
		len[n++] = l;
		pos += l;
		while (text[pos] == ' ')
			pos++;
	}
	if (!n) {
		st[0] = len[0] = 0;
		n = 1;
	}
	return n;
}

int st__live_finding_text(const struct st_live *l,
			  const struct st_live_frame *fr, int i, char *text,
			  size_t n, int st[], int len[])
{
	const struct st_fgroup *g = fr->grp[i];
	char msg[768];

	snprintf(text, n, "%s%s: %s", i < fr->nnow ? "now " : "",
		 st_finding_name[g->first.kind],
		 st_fgroup_text(g, l->m.set, msg, sizeof(msg)));
	return wrap(text, fr->width, st, len);
}

static int by_count(const void *pa, const void *pb)
{
	const struct st_fgroup *a = *(const struct st_fgroup *const *)pa;
	const struct st_fgroup *b = *(const struct st_fgroup *const *)pb;

	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int by_latest(const void *pa, const void *pb)
{
	const struct st_fgroup *a = *(const struct st_fgroup *const *)pa;
	const struct st_fgroup *b = *(const struct st_fgroup *const *)pb;

	return a->last > b->last ? -1 : a->last < b->last;
}

/* The groups of G after FR's, sorted by CMP; false when out of memory. */
static bool add_groups(struct st_live_frame *fr, const struct st_fgroups *g,
		       int (*cmp)(const void *, const void *))
{
	int from = fr->nfind;

	for (const struct st_fgroup *gr = g->groups; gr; gr = gr->hh.next) {
		if (fr->nfind == fr->capgrp) {
			int cap = fr->capgrp ? 2 * fr->capgrp : 64;
			const struct st_fgroup **x =
				realloc(fr->grp, cap * sizeof(*x));
			if (!x)
				return false;
			fr->grp = x;
			fr->capgrp = cap;
		}
		fr->grp[fr->nfind++] = gr;
	}
	if (fr->nfind - from > 1)
		qsort(fr->grp + from, fr->nfind - from, sizeof(*fr->grp), cmp);
	return true;
}

static bool frame_add(struct st_live_frame *fr, struct st_conn *c)
{
	bool listener = c->role == ST_ROLE_LISTENER;
	int *n = listener ? &fr->nl : &fr->nc;

	if (*n == fr->cap) {
		/* both arrays grow together */
		int cap = fr->cap ? 2 * fr->cap : 256;
		struct st_conn **x = realloc(fr->lis, cap * sizeof(*x));
		if (x)
			fr->lis = x;
		struct st_conn **z = realloc(fr->cs, cap * sizeof(*z));
		if (z)
			fr->cs = z;
		if (!x || !z)
			return false;
		fr->cap = cap;
	}
	(listener ? fr->lis : fr->cs)[(*n)++] = c;
	return true;
}

bool st__live_collect(struct st_live_view *v, struct st_live_frame *fr)
{
	struct st_live *l = v->live;
	char a[64], b[64], p[48];

	st__live_judge_begin(l);
	for (struct st_conn *c = st_model_open_next(&l->m, NULL); c;
	     c = st_model_open_next(&l->m, c)) {
		if (c->hidden || !st__live_shown(l, c, fr->now))
			continue;
		st__live_count(l, c, fr->now);
		st__live_judge(l, c, fr->now);
		st_addr_str(&c->local, a, sizeof(a));
		st_addr_str(&c->peer, b, sizeof(b));
		st_proc_name(&l->m.set->t[c->file], p);
		if (match(v, a, b, p, st_state_name[c->state]) &&
		    !frame_add(fr, c))
			return false;
	}
	sort_view = v;
	if (fr->nc > 1) /* qsort's array may not be NULL, even empty */
		qsort(fr->cs, fr->nc, sizeof(*fr->cs), by_sort);
	if (fr->nl > 1)
		qsort(fr->lis, fr->nl, sizeof(*fr->lis), by_sort);

	int nclose = (int)(l->nclose < ST_LIVE_RING ? l->nclose : ST_LIVE_RING);
	for (int i = 0; i < nclose; i++) {
		int k = (int)((l->nclose - 1 - i) % ST_LIVE_RING);
		const struct st_live_closed *cl = &l->closes[k];
		if (match(v, cl->local, cl->peer, cl->proc, cl->state))
			fr->cidx[fr->ncm++] = k;
	}
	if (!add_groups(fr, &l->now_found, by_count))
		return false;
	fr->nnow = fr->nfind;
	if (!add_groups(fr, &l->found, by_latest))
		return false;
	for (int i = 0; i < fr->nfind; i++) {
		char text[1024];
		int st[ST_LIVE_FIND_LINES], len[ST_LIVE_FIND_LINES];
		fr->flines += st__live_finding_text(l, fr, i, text,
						    sizeof(text), st, len);
	}
	struct st_live_rates r;
	st__live_win_sum(&l->win, fr->now, &r);
	fr->nrates = st__live_rates_text(&r, fr->width, fr->rates, 2);
	st__live_rates_free(&r);
	int want[4] = { fr->nl, fr->nc, fr->ncm, fr->flines };
	/* the first and last lines, the rates, the panes' headings */
	share(fr->lines - 2 - fr->nrates - 4, want, fr->got);
	return true;
}

void st__live_frame_free(struct st_live_frame *fr)
{
	free(fr->lis);
	free(fr->cs);
	free(fr->grp);
}
