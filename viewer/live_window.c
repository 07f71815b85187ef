/* SPDX-License-Identifier: MIT */
/* live's last 10 s: connections and latencies in a ring of 1 s slots. */
#include <stdio.h>
#include <string.h>

#include "live_window.h"
#include "units.h"

#define SEC 1000000000ull

void st__live_win_begin(struct st_live_window *w, uint64_t now)
{
	if (!w->start || now < w->start)
		w->start = now;
}

/* The slot of second TS / SEC, emptied if it held an older second;
 * NULL when TS is too old for the window at NOW. */
static struct st_live_slot *slot_of(struct st_live_window *w, uint64_t ts,
				    uint64_t now)
{
	uint64_t sec = ts / SEC + 1;
	struct st_live_slot *s = &w->slot[sec % ST_LIVE_WIN_S];

	if (sec + ST_LIVE_WIN_S <= now / SEC + 1 || sec < s->sec)
		return NULL;
	if (s->sec != sec) {
		for (int i = 0; i < ST_LW__N; i++)
			st_histo_free(&s->h[i]);
		s->sec = sec;
		s->conns = 0;
	}
	if (!w->start || ts < w->start)
		w->start = ts;
	return s;
}

void st__live_win_conn(struct st_live_window *w, uint64_t ts, uint64_t now)
{
	struct st_live_slot *s = slot_of(w, ts, now);

	if (s)
		s->conns++;
}

void st__live_win_lat(struct st_live_window *w, int lat, uint64_t ts,
		      uint64_t v, uint64_t now)
{
	struct st_live_slot *s = slot_of(w, ts, now);

	if (s)
		st_histo_add(&s->h[lat], v);
}

void st__live_win_sum(const struct st_live_window *w, uint64_t now,
		      struct st_live_rates *r)
{
	uint64_t cur = now / SEC + 1, from;

	memset(r, 0, sizeof(*r));
	for (int i = 0; i < ST_LIVE_WIN_S; i++) {
		const struct st_live_slot *s = &w->slot[i];
		if (!s->sec || s->sec + ST_LIVE_WIN_S <= cur || s->sec > cur)
			continue;
		r->conns += s->conns;
		for (int k = 0; k < ST_LW__N; k++)
			st_histo_merge(&r->h[k], &s->h[k]);
	}
	/* from the start of the oldest second held, or of counting */
	from = (now / SEC + 1 - ST_LIVE_WIN_S) * SEC;
	if (now / SEC + 1 < ST_LIVE_WIN_S)
		from = 0;
	if (w->start > from)
		from = w->start;
	r->span = now > from ? now - from : 0;
	/* under a tenth of a second, a rate would say more than is known */
	if (r->span >= SEC / 10)
		r->per_s = (double)r->conns * (double)SEC / (double)r->span;
}

void st__live_rates_free(struct st_live_rates *r)
{
	for (int k = 0; k < ST_LW__N; k++)
		st_histo_free(&r->h[k]);
}

/* "NAME p50 X p99 Y", or "NAME -" when nothing was measured. */
static void lat_text(char *buf, size_t len, const char *name,
		     const struct st_histo *h)
{
	char a[32], b[32];

	if (!h->count) {
		snprintf(buf, len, "%s -", name);
		return;
	}
	st_fmt_dur(a, sizeof(a), st_histo_pct(h, 50));
	st_fmt_dur(b, sizeof(b), st_histo_pct(h, 99));
	snprintf(buf, len, "%s p50 %s p99 %s", name, a, b);
}

int st__live_rates_text(const struct st_live_rates *r, int width,
			char lines[][256], int max)
{
	char part[3][128], n[32];
	int nl = 0;

	st_fmt_thousands(n, r->conns);
	snprintf(part[0], sizeof(part[0]), "last %ds: %s conn%s, %.1f/s",
		 ST_LIVE_WIN_S, n, r->conns == 1 ? "" : "s", r->per_s);
	lat_text(part[1], sizeof(part[1]), "connect", &r->h[ST_LW_CONNECT]);
	lat_text(part[2], sizeof(part[2]), "accept wait", &r->h[ST_LW_QUEUE]);
	for (int i = 0; i < 3 && max > 0; i++) {
		size_t have = nl ? strlen(lines[nl - 1]) : 0;
		if (nl && (int)(have + 3 + strlen(part[i])) <= width &&
		    have + 3 + strlen(part[i]) < 256) {
			memcpy(lines[nl - 1] + have, "   ", 3);
			strcpy(lines[nl - 1] + have + 3, part[i]);
			continue;
		}
		if (nl == max)
			break;
		snprintf(lines[nl++], 256, " %.127s", part[i]);
	}
	return nl;
}

void st__live_win_free(struct st_live_window *w)
{
	for (int i = 0; i < ST_LIVE_WIN_S; i++)
		for (int k = 0; k < ST_LW__N; k++)
			st_histo_free(&w->slot[i].h[k]);
	memset(w, 0, sizeof(*w));
}
