/* SPDX-License-Identifier: MIT */
/* What live shows, kept in bounded rings as the followed files say it. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "finding_text.h"
#include "live_model.h"
#include "load.h"
#include "proc.h"
#include "records.h"

/* Who closed first, as the other column says it: a role, or "peer". */
static const char *first_str(const struct st_conn *c, const struct st_conn *o)
{
	if (c->closed_first > 0)
		return st_role_name[c->role];
	if (c->closed_first < 0)
		return o ? st_role_name[o->role] : "peer";
	return "-";
}

/* A finding of a connection the filters show: kept, grouped. */
static void shown_finding(const struct st_finding *f, void *arg)
{
	struct st_live *l = arg;

	st_fgroups_finding(&l->found, f, l->m.set);
}

/* What the window has of an end: its connection, its connect time, its
 * accept-queue wait. */
enum { SEEN_CONN = 1, SEEN_QUEUE = 2 };

void st__live_count(struct st_live *l, struct st_conn *c, uint64_t now)
{
	struct st_live_window *w = &l->win;
	const struct st_conn *o = c->other;
	bool other_seen = o && (o->live_seen & SEEN_CONN);

	if (c->role == ST_ROLE_CLIENT && c->est_ts &&
	    !(c->live_seen & SEEN_CONN)) {
		c->live_seen |= SEEN_CONN;
		if (!other_seen)
			st__live_win_conn(w, c->est_ts, now);
		if (c->connect_ts && c->est_ts >= c->connect_ts)
			st__live_win_lat(w, ST_LW_CONNECT, c->est_ts,
					 c->est_ts - c->connect_ts, now);
	}
	if (c->role != ST_ROLE_SERVER || !c->accept_ts)
		return;
	if (!(c->live_seen & SEEN_CONN)) {
		c->live_seen |= SEEN_CONN;
		if (!other_seen)
			st__live_win_conn(w, c->accept_ts, now);
	}
	/* the wait is known once the client's end is joined (tcpstate.c) */
	if (o && o->role == ST_ROLE_CLIENT && o->est_ts &&
	    !(c->live_seen & SEEN_QUEUE)) {
		c->live_seen |= SEEN_QUEUE;
		st__live_win_lat(w, ST_LW_QUEUE, c->accept_ts, c->accept_wait,
				 now);
	}
}

static void on_conn(struct st_model *m, struct st_conn *c, void *arg)
{
	struct st_live *l = arg;
	struct st_conn *o;

	st_conn_ends(&c, &o);
	if (st_filter_conn(&l->flt, c, o,
			   !l->quiet && !(c->hidden && (!o || o->hidden)),
			   shown_finding, l)) {
		uint64_t now = st_now_ns();
		st__live_count(l, c, now);
		if (o)
			st__live_count(l, o, now);
		st_fgroups_conn(&l->found, c, m->set);
		struct st_live_closed *k =
			&l->closes[l->nclose++ % ST_LIVE_RING];
		uint64_t end = c->close_ts, start = c->open_ts;
		if (o && o->close_ts > end)
			end = o->close_ts;
		if (o && o->open_ts < start)
			start = o->open_ts;
		memset(k, 0, sizeof(*k));
		st_addr_str(&c->local, k->local, sizeof(k->local));
		st_addr_str(&c->peer, k->peer, sizeof(k->peer));
		st_proc_name(&m->set->t[c->file], k->proc);
		k->file = c->file;
		snprintf(k->state, sizeof(k->state), "%s",
			 c->end == ST_END_EXIT	  ? "exit"
			 : c->end == ST_END_DEATH ? "killed"
						  : st_state_name[c->state]);
		snprintf(k->first, sizeof(k->first), "%s", first_str(c, o));
		k->dur = end > start ? end - start : 0;
		k->in = c->bytes_in;
		k->out = c->bytes_out;
		k->at = end;
	}
	st_conn_free(m, o);
	st_conn_free(m, c);
}

static void on_finding(struct st_model *m, const struct st_finding *f,
		       void *arg)
{
	struct st_live *l = arg;

	if (!l->quiet && st_filter_finding(&l->flt, f))
		st_fgroups_finding(&l->found, f, m->set);
}

static void on_ongoing(struct st_model *m, const struct st_finding *f,
		       void *arg)
{
	struct st_live *l = arg;
	uint32_t kinds = l->flt.x.findings;

	(void)m;
	if (kinds && !(kinds & 1u << f->kind))
		return;
	st_fgroups_finding(&l->now_found, f, l->m.set);
}

static void fw_refreshed(void *arg)
{
	struct st_live *l = arg;

	st_model_set_changed(&l->m);
}

static void fw_record(void *arg, const struct st_rec *r, int file)
{
	struct st_live *l = arg;

	st_filter_record(&l->flt, r, file);
	st_model_add(&l->m, r, file);
}

static void fw_history_done(void *arg)
{
	struct st_live *l = arg;

	l->quiet = false;
	if (!l->fw.dir && !l->history)
		st_model_mark_attach(&l->m);
}

static void fw_note(void *arg, const char *msg)
{
	struct st_live *l = arg;

	snprintf(l->note, sizeof(l->note), "%s", msg);
	l->note_ts = st_now_ns();
}

/*
 * The accept queue of listener C now, from the kernel: for a listening
 * socket, /proc/PID/net/tcp's rx_queue is the accept queue's length
 * (what ss -l shows as Recv-Q).  -1 when it cannot be read (another
 * host, the process gone, not TCP).
 */
static int kernel_queue(const struct st_live *l, const struct st_conn *c)
{
	const struct st_addr *a = &c->local;
	char path[64], line[512];
	int v6 = a->family == AF_INET6, found = -1;

	if (c->kind != ST_KIND_TCP || (a->family != AF_INET && !v6))
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/net/tcp%s",
		 l->m.set->t[c->file].hdr.pid, v6 ? "6" : "");
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	while (found < 0 && fgets(line, sizeof(line), f)) {
		char addr[40];
		unsigned port, st, tx, rx;
		if (sscanf(line,
			   " %*d: %39[0-9A-Fa-f]:%x %*[0-9A-Fa-f]:%*x "
			   "%x %x:%x",
			   addr, &port, &st, &tx, &rx) != 5 ||
		    st != 0x0a || port != a->port ||
		    strlen(addr) != (v6 ? 32u : 8u))
			continue;
		uint8_t b[16];
		for (int w = 0; w < (v6 ? 4 : 1); w++) {
			char h[9];
			memcpy(h, addr + 8 * w, 8);
			h[8] = 0;
			/* printed as the host-order value of each 32-bit word
			 * of the address */
			uint32_t x = (uint32_t)strtoul(h, NULL, 16);
			memcpy(b + 4 * w, &x, 4);
		}
		if (!memcmp(b, a->data, v6 ? 16 : 4))
			found = (int)rx;
	}
	fclose(f);
	return found;
}

const struct st_live_kq *st__live_kq(const struct st_live *l, uint64_t conn)
{
	for (int i = 0; i < l->nkq; i++)
		if (l->kq[i].conn == conn)
			return &l->kq[i];
	return NULL;
}

/* Reads the kernel's accept queues of the listeners open now. */
static void kq_refresh(struct st_live *l)
{
	struct st_live_kq keep[ST_LIVE_MAX_KQ];
	int n = 0;

	for (struct st_conn *c = st_model_open_next(&l->m, NULL); c;
	     c = st_model_open_next(&l->m, c)) {
		if (c->role != ST_ROLE_LISTENER || c->done ||
		    n == ST_LIVE_MAX_KQ)
			continue;
		const struct st_live_kq *old = st__live_kq(l, c->id);
		keep[n] = (struct st_live_kq){ .conn = c->id,
					       .max = old ? old->max : -1 };
		keep[n].now = kernel_queue(l, c);
		if (keep[n].now > keep[n].max)
			keep[n].max = keep[n].now;
		n++;
	}
	memcpy(l->kq, keep, n * sizeof(*keep));
	l->nkq = n;
}

void st__live_tick(struct st_live *l, uint64_t now)
{
	st_model_reap(&l->m, now);
	kq_refresh(l);
	if (l->rate_ts)
		l->rate = (double)(l->fw.records - l->rate_rec) * 1e9 /
			  (double)(now - l->rate_ts);
	l->rate_ts = now;
	l->rate_rec = l->fw.records;
}

void st__live_init(struct st_live *l)
{
	l->fw.cmd = "live";
	l->fw.ops = (struct st_follow_ops){ .refreshed = fw_refreshed,
					    .record = fw_record,
					    .history_done = fw_history_done,
					    .note = fw_note };
	/* the screen's note line shows the latest: exits are news there */
	l->fw.verbose = true;
	l->fw.arg = l;
	l->found.max_scopes = ST_LIVE_MAX_SCOPES;
}

void st__live_model_init(struct st_live *l)
{
	st_model_init(&l->m, &l->fw.set, on_conn, on_finding, l);
	st_model_liveness(&l->m, st_proc_alive, NULL);
	l->m.following = true;
	st_filter_init(&l->flt, &l->vo, &l->m);
	/* timelines are not drawn here: keep no lines of them */
	l->m.tab.ev_cap = 0;
}

void st__live_begin(struct st_live *l)
{
	l->quiet = !l->fw.dir && !l->history;
	st__live_win_begin(&l->win, st_now_ns());
	st_follow_begin(&l->fw);
}

bool st__live_poll(struct st_live *l)
{
	long n;

	if (l->all_gone)
		return false;
	n = st_follow_poll(&l->fw);
	if (n < 0) {
		l->all_gone = true;
		fw_note(l, "every process followed has exited; q to quit");
	}
	return n != 0;
}

void st__live_end(struct st_live *l)
{
	st_follow_end(&l->fw);
	st_fgroups_free(&l->found);
	st_fgroups_free(&l->now_found);
	st__live_win_free(&l->win);
}

void st__live_judge_begin(struct st_live *l)
{
	st_fgroups_free(&l->now_found);
	memset(&l->now_found, 0, sizeof(l->now_found));
}

/* An open end's finding: held for st_filter_conn's --finding. */
static void hold_open(struct st_model *m, const struct st_finding *f, void *arg)
{
	struct st_live *l = arg;

	(void)m;
	st_filter_finding(&l->flt, f);
}

static void drop_finding(const struct st_finding *f, void *arg)
{
	(void)f;
	(void)arg;
}

bool st__live_shown(struct st_live *l, struct st_conn *c, uint64_t now)
{
	if (!l->flt.any)
		return true;
	if (l->flt.x.findings)
		st_model_judge_open(&l->m, c, now, hold_open, l);
	return st_filter_conn(&l->flt, c, c->other, true, drop_finding, NULL);
}

void st__live_judge(struct st_live *l, struct st_conn *c, uint64_t now)
{
	st_model_judge_open(&l->m, c, now, on_ongoing, l);
	st_fgroups_open_end(&l->now_found, c, l->m.set);
}
