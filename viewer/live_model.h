/* SPDX-License-Identifier: MIT */
/* What live shows, kept in bounded rings as the followed files say it. */
#ifndef ST_VIEWER_LIVE_MODEL_H
#define ST_VIEWER_LIVE_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "fgroup.h"
#include "follow.h"
#include "live_window.h"
#include "model.h"
#include "show.h"

/* Recent closes kept: a fixed ring, so memory stays bounded however
 * long it runs (findings are grouped: bounded by kinds and scopes). */
#define ST_LIVE_RING   256
#define ST_LIVE_MAX_KQ 64
/* Scopes (listeners, peers) the ended connections' findings are grouped
 * by, at most: past it, by process. */
#define ST_LIVE_MAX_SCOPES 1024

/* A finished connection, as the closes pane shows it. */
struct st_live_closed {
	char local[64], peer[64], proc[48], state[16], first[8];
	int file; /* its process's trace file */
	uint64_t dur, in, out, at;
};

/* The accept queue of a listener as the kernel tells it now. */
struct st_live_kq {
	uint64_t conn;
	int now, max; /* -1: not known */
};

/*
 * Zero it, st__live_init, set up fw (st_follow_add or st_follow_dir,
 * st_follow_prepare), st__live_model_init, st__live_begin, then
 * st__live_poll every ST_FOLLOW_TICK_NS and st__live_tick every second;
 * st__live_end, st_model_free(&m), st_follow_free(&fw).
 */
struct st_live {
	struct st_follow fw;
	struct st_model m;
	bool history;  /* with --attach: what was recorded before is shown */
	bool quiet;    /* the history is read: nothing of it is kept */
	bool all_gone; /* every process followed has exited */
	struct st_live_closed closes[ST_LIVE_RING];
	uint64_t nclose; /* ever pushed: the newest is (nclose-1) % RING */
	/* findings grouped by kind and scope (fgroup.c): those of ended
	 * connections, and those that hold now for open ones (judged
	 * again at each redraw) */
	struct st_fgroups found, now_found;
	/* connections opened and their latencies, the last 10 s */
	struct st_live_window win;
	struct st_live_kq kq[ST_LIVE_MAX_KQ];
	int nkq;
	char note[256];
	uint64_t note_ts;
	uint64_t rate_ts, rate_rec;
	double rate;
	const char *source; /* what is followed, for the header */
	/* the filters (--state, --finding...): set vo before
	 * st__live_model_init; flt filters what is kept and shown */
	struct st_view_opts vo;
	struct st_filter flt;
};

/* Points L's follower at L: its records go to L's model. */
void st__live_init(struct st_live *l);
/* Builds L's model over the files found; no timelines are kept. */
void st__live_model_init(struct st_live *l);
/* Reads what the files hold now; closes and findings of the history are
 * kept only when asked for (DIR mode, or --history). */
void st__live_begin(struct st_live *l);
/* Feeds the records written since; true when something changed (records
 * came, or every process followed has just exited). */
bool st__live_poll(struct st_live *l);
/* Every second: ages move on, dead processes end, the kernel's accept
 * queues are read again and the record rate is counted at NOW. */
void st__live_tick(struct st_live *l, uint64_t now);
/* Stops following (recording stops in processes the library was loaded
 * into). */
void st__live_end(struct st_live *l);
/* The findings that hold now are judged again from scratch: forgets them
 * before the open connections are judged one by one. */
void st__live_judge_begin(struct st_live *l);
/* Does open end C pass the filters at NOW? */
bool st__live_shown(struct st_live *l, struct st_conn *c, uint64_t now);
/* Keeps the findings that hold for open connection C at NOW. */
void st__live_judge(struct st_live *l, struct st_conn *c, uint64_t now);
/*
 * Counts end C, shown, at NOW in the window: once a client's connect
 * completed (a connection, and its connect time) or a server end was
 * accepted (a connection, unless its joined client was counted), and
 * once its accept-queue wait is known (joined with its client).
 */
void st__live_count(struct st_live *l, struct st_conn *c, uint64_t now);
/* The kernel's accept queue of listener CONN, or NULL if not read. */
const struct st_live_kq *st__live_kq(const struct st_live *l, uint64_t conn);

#endif
