/* SPDX-License-Identifier: MIT */
/* What one redraw of live shows: the rows that match, sorted, and the
 * lines each pane gets. */
#ifndef ST_VIEWER_LIVE_LAYOUT_H
#define ST_VIEWER_LIVE_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "live_model.h"

/* Lines a finding is wrapped on, at most. */
#define ST_LIVE_FIND_LINES 3

enum st_live_sort {
	ST_LIVE_SORT_AGE,
	ST_LIVE_SORT_BYTES,
	ST_LIVE_SORT_STATE,
	ST_LIVE_SORT_PROCESS,
	ST_LIVE_SORT_N
};
/* The sort keys' names, as --sort takes them and the header shows them. */
extern const char *const st__live_sort_name[ST_LIVE_SORT_N];

/* The screen: what it shows of LIVE and how. */
struct st_live_view {
	struct st_live *live;
	bool paused, help, editing, color;
	int sort; /* an enum st_live_sort */
	char filter[64], saved[64];
};

/* What one redraw shows: the sockets open now that match, sorted; the
 * closes that match; the rows each pane gets. */
struct st_live_frame {
	uint64_t now;
	int lines, width; /* the screen's size */
	struct st_conn **lis, **cs;
	int nl, nc, cap;
	int cidx[ST_LIVE_RING], ncm; /* closes, newest first */
	/* finding groups: those that hold now (most first), then those of
	 * ended connections (latest first) */
	const struct st_fgroup **grp;
	int nfind, nnow, capgrp, flines;
	int got[4];
	char rates[2][256]; /* the last 10 s, under the first line */
	int nrates;
};

/*
 * Fills FR (zeroed, with now, lines and width set) from V's model: the
 * findings that hold now are judged first.  False when out of memory;
 * st__live_frame_free FR either way.
 */
bool st__live_collect(struct st_live_view *v, struct st_live_frame *fr);
void st__live_frame_free(struct st_live_frame *fr);
/*
 * "[now ]kind: message" of finding group I of FR (one finding's words,
 * or "xN (scope; e.g. ids): gist"), wrapped to FR's width into TEXT (N
 * bytes): the lines' starts ST and lengths LEN; returns how many (at
 * most ST_LIVE_FIND_LINES).
 */
int st__live_finding_text(const struct st_live *l,
			  const struct st_live_frame *fr, int i, char *text,
			  size_t n, int st[], int len[]);

#endif
