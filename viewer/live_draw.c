/* SPDX-License-Identifier: MIT */
/* live's screen: the curses panes, the keys, and the loop that follows
 * the files and redraws. */
#define _GNU_SOURCE
#include <curses.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live_draw.h"
#include "load.h"
#include "records.h"
#include "units.h"

/* Ages, the record rate, dead processes and kernel queues are looked at
 * again this often even when no record comes. */
#define SLOW_NS (1000000000ull)
#define NOTE_NS (8ull * 1000000000ull)
/* Columns drawn: the terminal's, up to what the line buffers hold. */
#define WIDTH (COLS < 1000 ? COLS : 1000)

enum { PAIR_HEAD = 1, PAIR_GOOD, PAIR_WARN, PAIR_BAD, PAIR_DIM };

static int state_pair(const char *s)
{
	if (!strcmp(s, "ESTABLISHED") || !strcmp(s, "LISTEN"))
		return PAIR_GOOD;
	if (!strcmp(s, "CLOSE_WAIT") || !strcmp(s, "killed") ||
	    !strcmp(s, "exit"))
		return PAIR_BAD;
	if (!strcmp(s, "CLOSED"))
		return PAIR_DIM;
	return PAIR_WARN;
}

/* Column widths: the minimum that fits 80 columns, and how much more
 * each takes when the terminal is wider. */
struct cols {
	int n;
	int w[10];
	int more[10];
};

static void fit_cols(struct cols *c)
{
	int used = c->n - 1;

	for (int i = 0; i < c->n; i++)
		used += c->w[i];
	for (int extra = WIDTH - used; extra > 0;) {
		int gave = 0;
		for (int i = 0; i < c->n && extra > 0; i++)
			if (c->more[i] > 0) {
				c->w[i]++;
				c->more[i]--;
				extra--;
				gave = 1;
			}
		if (!gave)
			break;
	}
}

/* Appends S into LINE at *X in a column of width W: cut to fit (an
 * address keeps its end: the port), right-aligned when RIGHT. */
static void put(char *line, int *x, int w, const char *s, bool right,
		bool keep_end)
{
	int len = (int)strlen(s), max = WIDTH;

	if (*x + w > max)
		w = max - *x;
	if (w <= 0)
		return;
	if (len > w) {
		if (keep_end) {
			s += len - w;
			memcpy(line + *x, s, w);
			line[*x] = '~';
		} else {
			memcpy(line + *x, s, w);
			line[*x + w - 1] = '~';
		}
	} else {
		int pad = right ? w - len : 0;
		memset(line + *x, ' ', w);
		memcpy(line + *x + pad, s, len);
	}
	*x += w;
	if (*x < max)
		line[(*x)++] = ' ';
}

/* "comm[pid]" cut to W, keeping the pid. */
static void proc_col(char *out, size_t n, const struct st_trace *t, int w)
{
	char pid[16];
	int pl = snprintf(pid, sizeof(pid), "[%d]", t->hdr.pid);
	int cl = (int)strnlen(t->hdr.comm, sizeof(t->hdr.comm));

	if (cl + pl > w && w - pl >= 1)
		cl = w - pl;
	snprintf(out, n, "%.*s%s", cl, t->hdr.comm, pid);
}

static void line_out(int y, const char *line, int attr)
{
	if (y >= LINES)
		return;
	attron(attr);
	mvaddnstr(y, 0, line, WIDTH);
	clrtoeol();
	attroff(attr);
}

static void colour(struct st_live_view *v, int y, int x, int w, int pair)
{
	if (v->color && y < LINES && x < COLS)
		mvchgat(y, x, w, pair == PAIR_DIM ? A_DIM : A_NORMAL, pair,
			NULL);
}

/* A pane's heading: its name and count over the blank first column,
 * then the column headings HEADS. */
static void title(int y, const char *name, int n, const char *heads)
{
	char line[1024], t[64];
	int tl = snprintf(t, sizeof(t), "%s %d", name, n);

	snprintf(line, sizeof(line), "%s", heads);
	int hl = (int)strlen(line);
	if (hl < tl) {
		memset(line + hl, ' ', tl - hl);
		line[tl] = 0;
	}
	memcpy(line, t, tl);
	line_out(y, line, A_BOLD | A_UNDERLINE);
}

static void draw_help(void)
{
	static const char *const text[] = {
		"socktrace live: keys",
		"",
		"  q        quit (the terminal is given back as it was)",
		"  s        next sort: age, bytes, state, process",
		"  /        filter: rows whose address, port, process or",
		"           state has the text; Enter keeps it, Esc drops",
		"  p        pause the screen (records are still read)",
		"  ?        this help; any key closes it",
		"",
		"Under the first line: connections opened in the last 10 s,",
		"their rate, connect time and accept-queue wait (p50, p99).",
		"Panes: listeners (backlog asked/given, accept queue now",
		"from the kernel / most seen, accepted), open connections",
		"(age since opened or, with >, since first seen; last call",
		"and how long ago), recent closes (who closed first, how",
		"long it lived), findings grouped by kind and scope, xN",
		"(latest first; 'now' ones hold while connections are open).",
	};
	int n = (int)(sizeof(text) / sizeof(text[0]));
	int w = 62, h = n + 2;
	int y0 = LINES > h ? (LINES - h) / 2 : 0;
	int x0 = COLS > w ? (COLS - w) / 2 : 0;

	for (int i = 0; i < h && y0 + i < LINES; i++) {
		char line[128];
		const char *s = i > 0 && i <= n ? text[i - 1] : "";
		snprintf(line, sizeof(line), " %-*.*s ", w - 2, w - 2, s);
		attron(A_REVERSE);
		mvaddnstr(y0 + i, x0, line, COLS - x0);
		attroff(A_REVERSE);
	}
}

/* The first line: the sort and filter (what keys change) first, as a
 * long directory name cuts the end; the processes' names as many as
 * fit. */
static void draw_header(struct st_live_view *v)
{
	struct st_live *l = v->live;
	char line[1024], p[48];
	int procs = 0;
	uint64_t lost = 0;

	for (int i = 0; i < l->m.set->n; i++) {
		const struct st_trace *t = &l->m.set->t[i];
		lost += t->lost + t->missing;
		if (!(i < l->m.nfiles && l->m.ended[i]))
			procs++;
	}
	int hl = snprintf(line, sizeof(line),
			  " socktrace live  sort:%s%s%s%s  %.0f rec/s  lost "
			  "%llu  %s  %d process%s",
			  st__live_sort_name[v->sort],
			  v->filter[0] ? "  filter:" : "", v->filter,
			  v->paused ? "  PAUSED" : "", l->rate,
			  (unsigned long long)lost, l->source, procs,
			  procs == 1 ? "" : "es");
	for (int i = 0, k = 0; i < l->m.set->n && hl < WIDTH; i++) {
		if (i < l->m.nfiles && l->m.ended[i])
			continue;
		hl += snprintf(line + hl, sizeof(line) - hl, "%s%s",
			       k++ ? " " : ": ",
			       st_proc_name(&l->m.set->t[i], p));
		if (hl >= (int)sizeof(line))
			hl = (int)sizeof(line) - 1;
	}
	if (hl < WIDTH) {
		memset(line + hl, ' ', WIDTH - hl);
		line[WIDTH] = 0;
	}
	line_out(0, line, A_REVERSE | A_BOLD);
}

static void none(int y, const struct st_live_view *v, const char *what)
{
	line_out(y, v->filter[0] ? "  (none match)" : what, A_DIM);
}

static int draw_listeners(struct st_live_view *v,
			  const struct st_live_frame *fr, int y)
{
	struct st_live *l = v->live;
	char line[1024], a[64], p[48], s1[32], s2[32], s3[32];
	struct cols lc = { 5, { 21, 18, 11, 13, 8 }, { 24, 12, 4, 4, 2 } };
	int x = 0;

	fit_cols(&lc);
	memset(line, 0, sizeof(line));
	put(line, &x, lc.w[0], "", false, false);
	put(line, &x, lc.w[1], "PROCESS", false, false);
	put(line, &x, lc.w[2], "BACKLOG", true, false);
	put(line, &x, lc.w[3], "QUEUE NOW/MAX", true, false);
	put(line, &x, lc.w[4], "ACCEPTED", true, false);
	title(y++, "LISTENERS", fr->nl, line);
	if (!fr->nl)
		none(y, v, "  (none)");
	for (int i = 0; i < fr->got[0]; i++, y++) {
		if (i >= fr->nl)
			continue;
		const struct st_conn *c = fr->lis[i];
		const struct st_live_kq *q = st__live_kq(l, c->id);
		int qmax = (int)c->max_queue_len;
		if (q && q->max > qmax)
			qmax = q->max;
		st_addr_str(&c->local, a, sizeof(a));
		proc_col(p, sizeof(p), &l->m.set->t[c->file], lc.w[1]);
		if (c->backlog)
			snprintf(s1, sizeof(s1), "%d/%d", c->backlog,
				 c->effective_backlog);
		else /* found open: its listen call was not seen */
			snprintf(s1, sizeof(s1), "?");
		if (q && q->now >= 0)
			snprintf(s2, sizeof(s2), "%d/%d", q->now, qmax);
		else
			snprintf(s2, sizeof(s2), "?/%d", qmax);
		snprintf(s3, sizeof(s3), "%llu",
			 (unsigned long long)c->accepted);
		x = 0;
		memset(line, 0, sizeof(line));
		put(line, &x, lc.w[0], a, false, true);
		put(line, &x, lc.w[1], p, false, false);
		put(line, &x, lc.w[2], s1, true, false);
		put(line, &x, lc.w[3], s2, true, false);
		put(line, &x, lc.w[4], s3, true, false);
		line_out(y, line,
			 c->backlog > c->effective_backlog || c->queue_full
				 ? A_BOLD
				 : A_NORMAL);
	}
	return y;
}

/* The connections' and the closes' columns: 80 columns at least. */
static void conn_cols(struct cols *c)
{
	*c = (struct cols){ 8,
			    { 15, 15, 12, 11, 4, 4, 4, 8 },
			    { 10, 30, 10, 0, 1, 2, 2, 8 } };
	fit_cols(c);
}

static void conn_heads(char *line, const struct cols *cc, const char *st,
		       const char *age, const char *last)
{
	int x = 0;

	put(line, &x, cc->w[0], "", false, false);
	put(line, &x, cc->w[1], "PEER", false, false);
	put(line, &x, cc->w[2], "PROCESS", false, false);
	put(line, &x, cc->w[3], st, false, false);
	put(line, &x, cc->w[4], age, true, false);
	put(line, &x, cc->w[5], "IN", true, false);
	put(line, &x, cc->w[6], "OUT", true, false);
	put(line, &x, cc->w[7], last, false, false);
}

/* One row of the connections or closes: the formatted columns. */
static void conn_row(struct st_live_view *v, int y, const struct cols *cc,
		     const char *const val[8], const char *state)
{
	char line[1024];
	int x = 0;

	memset(line, 0, sizeof(line));
	for (int i = 0; i < 8; i++)
		put(line, &x, cc->w[i], val[i], i >= 4 && i <= 6, i < 2);
	line_out(y, line, A_NORMAL);
	colour(v, y, cc->w[0] + cc->w[1] + cc->w[2] + 3, cc->w[3],
	       state_pair(state));
}

static int draw_conns(struct st_live_view *v, const struct st_live_frame *fr,
		      int y)
{
	struct st_live *l = v->live;
	char line[1024], a[64], b[64], p[48], age[32], in[16], out[16];
	char last[48];
	struct cols cc;

	conn_cols(&cc);
	memset(line, 0, sizeof(line));
	conn_heads(line, &cc, "STATE", "AGE", "LAST");
	title(y++, "CONNECTIONS", fr->nc, line);
	if (!fr->nc)
		none(y, v, "  (none open)");
	for (int i = 0; i < fr->got[1] && i < fr->nc; i++, y++) {
		const struct st_conn *c = fr->cs[i];
		uint64_t now = fr->now;
		st_addr_str(&c->local, a, sizeof(a));
		st_addr_str(&c->peer, b, sizeof(b));
		proc_col(p, sizeof(p), &l->m.set->t[c->file], cc.w[2]);
		/* open before tracing or attach: its age is since then */
		bool before = c->before_trace || c->before_attach;
		age[0] = '>';
		st_fmt_dur_col(age + 1, sizeof(age) - 1,
			       now > c->open_ts ? now - c->open_ts : 0);
		st_fmt_bytes_col(in, sizeof(in), c->bytes_in);
		st_fmt_bytes_col(out, sizeof(out), c->bytes_out);
		snprintf(last, sizeof(last), "-");
		if (c->last_ts) {
			char ago[16];
			st_fmt_dur_col(ago, sizeof(ago),
				       now > c->last_ts ? now - c->last_ts : 0);
			/* the call's name is cut to leave room for when */
			int room = cc.w[7] - (int)strlen(ago) - 1;
			snprintf(last, sizeof(last), "%.*s %s",
				 room > 1 ? room : 1,
				 st_call_name[c->last_call], ago);
		}
		const char *st = c->kind != ST_KIND_TCP ? st_kind_name[c->kind]
				 : c->state ? st_state_name[c->state]
					    : "-";
		const char *val[8] = { a[0] ? a : "-",
				       b[0] ? b : "-",
				       p,
				       st,
				       before ? age : age + 1,
				       in,
				       out,
				       last };
		conn_row(v, y, &cc, val, st);
	}
	return y + (fr->got[1] > fr->nc ? fr->got[1] - fr->nc : 0);
}

static int draw_closes(struct st_live_view *v, const struct st_live_frame *fr,
		       int y)
{
	struct st_live *l = v->live;
	char line[1024], p[48], life[16], in[16], out[16];
	struct cols cc;

	conn_cols(&cc);
	memset(line, 0, sizeof(line));
	conn_heads(line, &cc, "END", "LIFE", "CLOSER");
	title(y++, "CLOSES", fr->ncm, line);
	if (!fr->ncm)
		line_out(y, "  (none yet)", A_DIM);
	for (int i = 0; i < fr->got[2] && i < fr->ncm; i++, y++) {
		const struct st_live_closed *k = &l->closes[fr->cidx[i]];
		proc_col(p, sizeof(p), &l->m.set->t[k->file], cc.w[2]);
		st_fmt_dur_col(life, sizeof(life), k->dur);
		st_fmt_bytes_col(in, sizeof(in), k->in);
		st_fmt_bytes_col(out, sizeof(out), k->out);
		const char *val[8] = { k->local[0] ? k->local : "-",
				       k->peer[0] ? k->peer : "-",
				       p,
				       k->state,
				       life,
				       in,
				       out,
				       k->first };
		conn_row(v, y, &cc, val, k->state);
	}
	return y + (fr->got[2] > fr->ncm ? fr->got[2] - fr->ncm : 0);
}

/* Findings grouped by kind and scope: those that hold now (most first),
 * then the others (latest first); each wrapped on up to
 * ST_LIVE_FIND_LINES lines. */
static void draw_findings(struct st_live_view *v,
			  const struct st_live_frame *fr, int y)
{
	struct st_live *l = v->live;
	char line[1024];
	int row = 0;

	title(y++, "FINDINGS", fr->nfind, "");
	if (!fr->nfind)
		line_out(y, "  (none)", A_DIM);
	for (int i = 0; i < fr->nfind && row < fr->got[3]; i++) {
		char text[1024];
		int st[ST_LIVE_FIND_LINES], len[ST_LIVE_FIND_LINES], y0 = y;
		int n = st__live_finding_text(l, fr, i, text, sizeof(text), st,
					      len);
		for (int k = 0; k < n && row < fr->got[3]; k++, row++, y++) {
			snprintf(line, sizeof(line), "%s%.*s", k ? "  " : "",
				 len[k], text + st[k]);
			line_out(y, line, i < fr->nnow ? A_BOLD : A_NORMAL);
		}
		if (v->color && y0 < LINES)
			mvchgat(y0, 0, (int)(strchr(text, ':') - text) + 1,
				A_BOLD, PAIR_BAD, NULL);
	}
}

/* The last line: the keys and a note, or the filter being typed. */
static void draw_footer(struct st_live_view *v, uint64_t now)
{
	struct st_live *l = v->live;
	char line[1024];

	if (v->editing)
		snprintf(line, sizeof(line),
			 "filter: %s_  (Enter keeps, Esc drops)", v->filter);
	else if (l->note[0] && now - l->note_ts < NOTE_NS)
		snprintf(line, sizeof(line),
			 "q quit  s sort  / filter  p pause  ? help | %s",
			 l->note);
	else
		snprintf(line, sizeof(line),
			 "q quit  s sort  / filter  p pause  ? help");
	line_out(LINES - 1, line, A_REVERSE);
}

static void draw(struct st_live_view *v)
{
	struct st_live_frame *fr = calloc(1, sizeof(*fr));

	erase();
	if (fr) { /* the layout needs no curses: it is told the size */
		fr->lines = LINES;
		fr->width = WIDTH;
	}
	if (!fr || !(fr->now = st_now_ns()) || !st__live_collect(v, fr)) {
		mvaddstr(0, 0, "socktrace live: out of memory");
	} else {
		draw_header(v);
		for (int i = 0; i < fr->nrates; i++)
			line_out(1 + i, fr->rates[i], A_BOLD);
		int y = draw_listeners(v, fr, 1 + fr->nrates);
		y = draw_conns(v, fr, y);
		y = draw_closes(v, fr, y);
		draw_findings(v, fr, y);
		draw_footer(v, fr->now);
		if (v->help)
			draw_help();
	}
	if (fr)
		st__live_frame_free(fr);
	free(fr);
	refresh();
}

/* Handles key CH; false to quit. */
static bool key(struct st_live_view *v, int ch)
{
	if (ch == KEY_RESIZE)
		return true;
	if (v->help) {
		v->help = false;
		return true;
	}
	if (v->editing) {
		size_t n = strlen(v->filter);
		if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
			v->editing = false;
		} else if (ch == 27) { /* Esc: back to what it was */
			v->editing = false;
			snprintf(v->filter, sizeof(v->filter), "%s", v->saved);
		} else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
			if (n)
				v->filter[n - 1] = 0;
		} else if (ch >= 32 && ch < 127 && n + 1 < sizeof(v->filter)) {
			v->filter[n] = (char)ch;
			v->filter[n + 1] = 0;
		}
		return true;
	}
	switch (ch) {
	case 'q':
	case 'Q':
		return false;
	case 's':
		v->sort = (v->sort + 1) % ST_LIVE_SORT_N;
		break;
	case 'S':
		v->sort = (v->sort + ST_LIVE_SORT_N - 1) % ST_LIVE_SORT_N;
		break;
	case '/':
		snprintf(v->saved, sizeof(v->saved), "%s", v->filter);
		v->editing = true;
		break;
	case 'p':
		v->paused = !v->paused;
		break;
	case '?':
	case 'h':
		v->help = true;
		break;
	}
	return true;
}

static volatile sig_atomic_t stop;
static bool curses_on;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Exit paths (q, signals, errors that exit) all give the terminal back. */
static void restore_terminal(void)
{
	if (curses_on) {
		curses_on = false;
		endwin();
	}
}

static int start_curses(struct st_live_view *v)
{
	const char *term = getenv("TERM");

	if (!newterm(NULL, stdout, stdin)) {
		fprintf(stderr,
			"socktrace live: cannot use terminal type '%s': set "
			"TERM to one this system knows (xterm-256color, "
			"screen, linux...)\n",
			term ? term : "");
		return 1;
	}
	curses_on = true;
	atexit(restore_terminal);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	if (v->color && has_colors()) {
		start_color();
		use_default_colors();
		init_pair(PAIR_HEAD, -1, -1);
		init_pair(PAIR_GOOD, COLOR_GREEN, -1);
		init_pair(PAIR_WARN, COLOR_YELLOW, -1);
		init_pair(PAIR_BAD, COLOR_RED, -1);
		init_pair(PAIR_DIM, -1, -1);
	} else {
		v->color = false;
	}
	return 0;
}

int st__live_run(struct st_live_view *v)
{
	struct st_live *l = v->live;
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t slow = 0;
	bool dirty = true, keyed = true;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	if (start_curses(v))
		return 1;
	mvaddstr(0, 0, "socktrace live: reading the trace files...");
	refresh();
	st__live_begin(l);
	while (!stop) {
		struct pollfd pf = { .fd = 0, .events = POLLIN };
		int ch;
		/* a key wakes us at once; else records are polled */
		poll(&pf, 1, ST_FOLLOW_TICK_NS / 1000000);
		while ((ch = getch()) != ERR) {
			if (!key(v, ch))
				stop = 1;
			keyed = true;
		}
		if (stop)
			break;
		dirty |= st__live_poll(l);
		uint64_t now = st_now_ns();
		if (now - slow >= SLOW_NS) {
			st__live_tick(l, now);
			slow = now;
			dirty = true;
		}
		/* paused, only keys redraw (the mark, the help, a sort) */
		if (keyed || (dirty && !v->paused)) {
			draw(v);
			dirty = keyed = false;
		}
	}
	restore_terminal();
	st__live_end(l);
	return 0;
}
