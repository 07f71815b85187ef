/* SPDX-License-Identifier: MIT */
/* The text sink: per-connection timelines on stdout, then the findings. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fgroup.h"
#include "finding_text.h"
#include "load.h"
#include "records.h"
#include "sink_text.h"
#include "tcpk_text.h"
#include "units.h"

#define C_RESET	 "\033[0m"
#define C_DIM	 "\033[2m"
#define C_BOLD	 "\033[1m"
#define C_RED	 "\033[31m"
#define C_GREEN	 "\033[32m"
#define C_YELLOW "\033[33m"
#define C_CYAN	 "\033[36m"

static const char *col(const struct st_render *rd, const char *c)
{
	return rd->color ? c : "";
}

static const char *state_col(const struct st_render *rd, unsigned s)
{
	switch (s) {
	case ST_ST_ESTABLISHED:
	case ST_ST_LISTEN:
		return col(rd, C_GREEN);
	case ST_ST_CLOSE_WAIT:
	case ST_ST_TIME_WAIT:
	case ST_ST_FIN_WAIT:
	case ST_ST_LAST_ACK:
		return col(rd, C_YELLOW);
	case ST_ST_SYN_SENT:
	case ST_ST_SYN_RECV:
		return col(rd, C_CYAN);
	default:
		return col(rd, C_DIM);
	}
}

/* A time as the viewer shows it: +seconds since the first record, or
 * the wall clock (from the first file's clock anchors) with -t. */
static void fmt_time(const struct st_render *rd, char *buf, size_t len,
		     uint64_t ts)
{
	if (rd->wall) {
		const struct st_header *h = &rd->m->set->t[0].hdr;
		uint64_t w = h->real_ns + (ts - h->mono_ns);
		time_t s = (time_t)(w / 1000000000u);
		struct tm tm;
		localtime_r(&s, &tm);
		size_t n = strftime(buf, len, "%H:%M:%S", &tm);
		snprintf(buf + n, len - n, ".%06u",
			 (unsigned)(w % 1000000000u / 1000));
	} else {
		/* +S.UUUUUU, as "%s%lld.%06lld" would print it */
		int64_t rel = (int64_t)(ts - rd->m->t0);
		uint64_t a = (uint64_t)llabs(rel);
		char t[48], *p = t;
		uint32_t us = (uint32_t)(a % 1000000000 / 1000);
		*p++ = rel < 0 ? '-' : '+';
		p = st_put_u64(p, a / 1000000000);
		*p++ = '.';
		for (int i = 5; i >= 0; i--, us /= 10)
			p[i] = (char)('0' + us % 10);
		p += 6;
		size_t n = (size_t)(p - t) < len ? (size_t)(p - t) : len - 1;
		memcpy(buf, t, n);
		buf[n] = 0;
	}
}

static const char *proc(const struct st_render *rd, int file, char buf[48])
{
	return st_proc_name(&rd->m->set->t[file], buf);
}

static const char *who(const struct st_conn *c)
{
	return st_role_name[c->role];
}

static void header(struct st_render *rd, const struct st_conn *c)
{
	char l[96], p[96], pn[48], id[24];

	st_addr_str(&c->local, l, sizeof(l));
	st_addr_str(&c->peer, p, sizeof(p));
	st_conn_str(c->id, id);
	char fd[24];
	ST_OUT_CAT(rd->o, col(rd, C_BOLD), st_kind_name[c->kind], " ", who(c),
		   " ", l[0] ? l : "(unbound)", p[0] ? " -> " : "", p,
		   col(rd, C_RESET), "  ", proc(rd, c->file, pn), " fd ",
		   st_dec(fd, c->fd), "  conn ", id,
		   c->before_attach  ? " (opened before attach)"
		   : c->start_lost   ? " (its start was lost: the trace kept "
				       "only its newest records)"
		   : c->before_trace ? " (opened before tracing)"
				     : "");
	if (c->other) {
		const struct st_conn *o = c->other;
		st_conn_str(o->id, id);
		ST_OUT_CAT(rd->o, "\n  joined with ", who(o), " ",
			   proc(rd, o->file, pn), " fd ", st_dec(fd, o->fd),
			   "  conn ", id);
	}
	st_out_chr(rd->o, '\n');
}

/* ", server closed first (its close found ESTABLISHED)" and the like:
 * who closed first, and on what word. */
static void closed_first_words(struct st_render *rd, const struct st_conn *c)
{
	const struct st_conn *first = c->closed_first > 0 ? c
				      : c->other && c->other->closed_first > 0
					      ? c->other
					      : NULL;
	/* the kernel's own word: ESTABLISHED at close means nothing had
	 * come from the peer yet */
	const char *ks =
		first ? st_tcp_state_name(first->close_tcp_state) : NULL;

	if (c->closed_first == 2)
		st_out_str(rd->o, ", both closed at once (their FINs "
				  "crossed: both get TIME_WAIT)");
	else if (first && first->closed_guess)
		ST_OUT_CAT(rd->o, ", ", who(first),
			   " closed first? (a guess: it exited holding the "
			   "socket",
			   ks ? "; the kernel said " : "", ks ? ks : "",
			   ks ? " then, and closed it later" : "", ")");
	else if (first && ks)
		ST_OUT_CAT(rd->o, ", ", who(first),
			   " closed first (its close found ", ks, ")");
	else if (first)
		ST_OUT_CAT(rd->o, ", ", who(first), " closed first");
	else if (c->closed_first < 0)
		st_out_str(rd->o, ", the peer closed first");
}

/* ", reset by client (RST: linger0)": an RST ended the connection. */
static void reset_note(struct st_render *rd, const struct st_conn *c)
{
	const struct st_conn *s = c->reset_by == ST_RST_LOCAL ? c : c->other;

	if (!c->reset_by)
		return;
	if (c->reset_by == ST_RST_PEER && (!s || s->reset_by != ST_RST_LOCAL))
		ST_OUT_CAT(rd->o, ", reset by the peer (RST, ",
			   st_rst_reason_name[c->reset_reason], ")");
	else
		ST_OUT_CAT(rd->o, ", reset by ", who(s), " (RST, ",
			   st_rst_reason_name[s->reset_reason], ")");
}

void st_render_summary(struct st_render *rd, const struct st_conn *c)
{
	char b[32];
	const struct st_conn *s = c->role == ST_ROLE_SERVER ? c : c->other;
	const struct st_conn *cl = c->role == ST_ROLE_CLIENT ? c : c->other;

	st_out_str(rd->o, " ");
	if (c->role == ST_ROLE_LISTENER && !c->backlog && c->before_trace) {
		/* its listen() came before tracing: no backlog known */
		st_out_fmt(rd->o,
			   " backlog unknown, accepted %llu, accept "
			   "queue max %u/%u",
			   (unsigned long long)c->accepted, c->max_queue_len,
			   c->queue_max);
	} else if (c->role == ST_ROLE_LISTENER) {
		st_out_fmt(rd->o,
			   " backlog %d (effective %d, somaxconn %d),"
			   " accepted %llu, accept queue max %u/%u",
			   c->backlog, c->effective_backlog, c->somaxconn,
			   (unsigned long long)c->accepted, c->max_queue_len,
			   c->queue_max);
	} else {
		uint64_t end = c->close_ts ? c->close_ts : rd->m->now;
		st_fmt_dur(b, sizeof(b), end - c->open_ts);
		ST_OUT_CAT(rd->o, " lasted ", b);
		if (cl && cl->role == ST_ROLE_CLIENT && cl->est_ts &&
		    cl->connect_ts) {
			st_fmt_dur(b, sizeof(b), cl->est_ts - cl->connect_ts);
			ST_OUT_CAT(rd->o, ", connect ", b);
		}
		if (s && s->role == ST_ROLE_SERVER && s->other) {
			st_fmt_dur(b, sizeof(b), s->accept_wait);
			ST_OUT_CAT(rd->o, ", accept queue ", b);
		}
		if (cl && cl->role == ST_ROLE_CLIENT && cl->first_in_ts &&
		    cl->connect_ts) {
			st_fmt_dur(b, sizeof(b),
				   cl->first_in_ts - cl->connect_ts);
			ST_OUT_CAT(rd->o, ", first byte ", b);
		}
		char in[24], out[24];
		st_fmt_bytes(in, sizeof(in), c->bytes_in);
		st_fmt_bytes(out, sizeof(out), c->bytes_out);
		ST_OUT_CAT(rd->o, ", ", who(c), " ", out, " out, ", in, " in");
		closed_first_words(rd, c);
		reset_note(rd, c);
		if (c->eof_ts && c->fin_ts && c->closed_first < 0) {
			st_fmt_dur(b, sizeof(b), c->fin_ts - c->eof_ts);
			ST_OUT_CAT(rd->o, ", EOF->close ", b);
		}
	}
	st_out_chr(rd->o, '\n');
}

struct line {
	const struct st_ev *e;
	const struct st_conn *c;
};

static int by_ts(const void *a, const void *b)
{
	const struct line *x = a, *y = b;

	uint64_t a1 = st_rec_end(&x->e->r), b1 = st_rec_end(&y->e->r);

	return a1 < b1 ? -1 : a1 > b1;
}

static bool in_order(const struct st_conn *c)
{
	for (uint32_t i = 1; i < c->nev; i++)
		if (st_rec_end(&c->ev[i].r) < st_rec_end(&c->ev[i - 1].r))
			return false;
	return true;
}

/*
 * The lines of C and its other end O in time order.  Each end's lines
 * are already in the order their calls returned (the order records come
 * in), so the two are merged; ties go to C first, as the stable sort
 * this replaces had it.  Out of order (threads racing to their slots):
 * that sort.
 */
static void lines_of(struct line *ls, const struct st_conn *c,
		     const struct st_conn *o)
{
	uint32_t i = 0, j = 0, n = 0, no = o ? o->nev : 0;

	if (!in_order(c) || (o && !in_order(o))) {
		for (i = 0; i < c->nev; i++)
			ls[i] = (struct line){ &c->ev[i], c };
		for (j = 0; j < no; j++)
			ls[c->nev + j] = (struct line){ &o->ev[j], o };
		qsort(ls, c->nev + no, sizeof(*ls), by_ts);
		return;
	}
	while (i < c->nev || j < no) {
		if (j == no || (i < c->nev && st_rec_end(&c->ev[i].r) <=
						      st_rec_end(&o->ev[j].r)))
			ls[n++] = (struct line){ &c->ev[i++], c };
		else
			ls[n++] = (struct line){ &o->ev[j++], o };
	}
}

/* "client in TIME_WAIT until +60.0", or ended early by a reuse. */
static void tw_note(struct st_render *rd, const struct st_conn *c)
{
	const struct st_stchange *l = c->nst ? &c->st[c->nst - 1] : NULL;
	char t[40], id[24];

	if (c->tw_reused_by) {
		st_conn_str(c->tw_reused_by, id);
		fmt_time(rd, t, sizeof(t), l->ts);
		ST_OUT_CAT(rd->o, "  ", who(c), " TIME_WAIT ended at ", t,
			   ": 4-tuple reused by conn ", id, "\n");
	} else if (c->state == ST_ST_TIME_WAIT) {
		fmt_time(rd, t, sizeof(t), l->ts + ST_TIME_WAIT_NS);
		ST_OUT_CAT(rd->o, "  ", who(c), " in TIME_WAIT",
			   l->src == ST_SRC_inferred ? "?" : "", " until ", t,
			   "\n");
	}
}

void st_render_end_note(struct st_render *rd, const struct st_conn *c)
{
	char t[40], pn[48];

	switch (c->end) {
	case ST_END_OPEN:
		st_out_fmt(rd->o, "  %s still open (%s): %s\n", who(c),
			   proc(rd, c->file, pn), st_state_name[c->state]);
		break;
	case ST_END_EXIT:
		if (c->end_child) {
			st_out_fmt(rd->o,
				   "  %s closed by exit: held last by the "
				   "untraced child [%d] %s forked\n",
				   who(c), c->end_child,
				   proc(rd, c->end_file, pn));
			break;
		}
		st_out_fmt(rd->o,
			   "  %s closed by exit: open when %s exited (the "
			   "kernel closed it)\n",
			   who(c), proc(rd, c->end_file, pn));
		break;
	case ST_END_DEATH:
		st_out_fmt(rd->o, "  %s%s open at death: %s was killed%s\n",
			   col(rd, C_RED), who(c), proc(rd, c->end_file, pn),
			   col(rd, C_RESET));
		break;
	default:
		if (c->closed_unseen) {
			fmt_time(rd, t, sizeof(t), c->unseen_ts);
			st_out_fmt(rd->o,
				   "  %s%s closed unseen: its fd %d was "
				   "reused at %s, the close not recorded%s\n",
				   col(rd, C_YELLOW), who(c), c->end_fd, t,
				   col(rd, C_RESET));
		}
		tw_note(rd, c);
	}
	if (c->ev_dropped)
		st_out_fmt(rd->o, "  (%llu more lines of %s not shown)\n",
			   (unsigned long long)c->ev_dropped, who(c));
}

/* " -> A -> B" for states [from, to) of C; "(who -> A)" for the other. */
static void states(struct st_render *rd, const struct st_conn *c, uint32_t from,
		   uint32_t to, const char *other)
{
	if (from >= to || to > c->nst)
		return;
	st_out_str(rd->o, other ? "  (" : " ");
	if (other)
		st_out_str(rd->o, other);
	for (uint32_t i = from; i < to; i++) {
		unsigned s = c->st[i].state;
		char *p = st_out_room(rd->o, 64);
		p = ST_PUT_LIT(p, " -> ");
		p = stpcpy(p, state_col(rd, s));
		p = st_put_short(p, st_state_name[s], st_state_name_len[s]);
		/* a guess is shown as one (see guess_note) */
		if (c->st[i].src == ST_SRC_inferred)
			*p++ = '?';
		p = stpcpy(p, col(rd, C_RESET));
		st_out_end(rd->o, p);
	}
	if (other)
		st_out_chr(rd->o, ')');
}

/* "  client options: SO_LINGER {1,0}, TCP_NODELAY 1", when C set any. */
static void options_line(struct st_render *rd, const struct st_conn *c)
{
	const struct st_opts *o = &c->opts;
	const char *sep = ": ";

	if (!o->set)
		return;
	ST_OUT_CAT(rd->o, "  ", who(c), " options");
	for (int i = 0; i < ST_OPT__N; i++) {
		if (!(o->set & (1u << i)))
			continue;
		if (i == ST_OPT_SO_LINGER)
			st_out_fmt(rd->o, "%sSO_LINGER {%d,%d}", sep, o->val[i],
				   o->linger);
		else
			st_out_fmt(rd->o, "%s%s %d", sep, st_opt_name[i],
				   o->val[i]);
		sep = ", ";
	}
	st_out_chr(rd->o, '\n');
}

/* Who made a timeline line of end X, into BUF (72 bytes): the process
 * (JOINED: the end's role, and the process where it is not the one that
 * made the end, e.g. a forked child serving what its parent accepted). */
static const char *line_who(const struct st_render *rd, const struct st_conn *x,
			    bool joined, int file, char *buf)
{
	char pn[48];

	if (!joined)
		return strcpy(buf, proc(rd, file, pn));
	if (file == x->file)
		return who(x);
	snprintf(buf, 72, "%s %s", who(x), proc(rd, file, pn));
	return buf;
}

/* "  client TCP at close: rtt 55 us (min 2 us), ...", when known; and
 * how long the kernel keeps an end left in FIN_WAIT. */
static void tcp_line(struct st_render *rd, const struct st_conn *c)
{
	const struct st_header *h = &rd->m->set->t[c->file].hdr;
	char b[320];

	if (st_tcpk_text(&c->tcp, b, sizeof(b))[0])
		ST_OUT_CAT(rd->o, "  ", who(c), " TCP at close: ", b, "\n");
	if (c->state == ST_ST_FIN_WAIT && h->version >= 4 &&
	    h->tcp_fin_timeout > 0)
		st_out_fmt(rd->o,
			   "  %s in FIN_WAIT: once closed, FIN_WAIT_2 lasts "
			   "at most %d s here (tcp_fin_timeout)\n",
			   who(c), h->tcp_fin_timeout);
}

/* A connection (and its joined other end) as a text timeline. */
static void timeline(struct st_render *rd, const struct st_conn *c)
{
	const struct st_conn *o = c->other;
	size_t n = c->nev + (o ? o->nev : 0);
	struct line *ls = calloc(n ? n : 1, sizeof(*ls));
	char t[40], d[160];

	header(rd, c);
	st_render_summary(rd, c);
	options_line(rd, c);
	if (o)
		options_line(rd, o);
	lines_of(ls, c, o);
	for (size_t i = 0; i < n; i++) {
		const struct st_ev *e = ls[i].e;
		const struct st_conn *x = ls[i].c;
		/* a line is when its call returned: that is when it acted */
		fmt_time(rd, t, sizeof(t), st_rec_end(&e->r));
		st_render_describe(rd, e, d, sizeof(d));
		if (e->r.dur >= 1000000 && e->count == 1) {
			char w[24];
			size_t k = strlen(d);
			st_fmt_dur(w, sizeof(w), e->r.dur);
			snprintf(d + k, sizeof(d) - k, " [%s]", w);
		}
		/* "  %s  %-7s %-44s" */
		char wb[72];
		const char *w = line_who(rd, x, o != NULL, e->file, wb);
		size_t wl = strlen(w), dl = strlen(d);
		char *p = st_out_room(rd->o, 64 + wl + dl + 44);
		p = ST_PUT_LIT(p, "  ");
		p = stpcpy(p, t);
		p = ST_PUT_LIT(p, "  ");
		memcpy(p, w, wl);
		p += wl;
		for (; wl < 7; wl++)
			*p++ = ' ';
		*p++ = ' ';
		memcpy(p, d, dl);
		p += dl;
		for (; dl < 44; dl++)
			*p++ = ' ';
		st_out_end(rd->o, p);
		states(rd, x, e->self_from, e->self_to, NULL);
		if (x->other)
			states(rd, x->other, e->other_from, e->other_to,
			       who(x->other));
		st_out_chr(rd->o, '\n');
	}
	st_render_end_note(rd, c);
	tcp_line(rd, c);
	if (o) {
		st_render_end_note(rd, o);
		tcp_line(rd, o);
	}
	st_out_chr(rd->o, '\n');
	free(ls);
}

/* Whether C or its other end shows a guessed state. */
static bool has_guess(const struct st_conn *c)
{
	for (int k = 0; c && k < 2; k++, c = c->other)
		for (uint32_t i = 0; i < c->nst; i++)
			if (c->st[i].src == ST_SRC_inferred)
				return true;
	return false;
}

static void finding_line(struct st_render *rd, const struct st_finding *f)
{
	char msg[512];

	st_out_fmt(rd->o, "  %s%s%s: %s\n", col(rd, C_YELLOW),
		   st_finding_name[f->kind], col(rd, C_RESET),
		   st_finding_text(f, rd->m->set, msg, sizeof(msg)));
}

/* Findings of one kind in one scope: one line (fgroup.c). */
static void group_line(struct st_render *rd, const struct st_fgroup *g)
{
	char msg[768];

	st_out_fmt(rd->o, "  %s%s%s: %s\n", col(rd, C_YELLOW),
		   st_finding_name[g->first.kind], col(rd, C_RESET),
		   st_fgroup_text(g, rd->m->set, msg, sizeof(msg)));
}

/* The text sink: the default, when no other output is asked for. */
struct text {
	struct st_render rd;
	uint64_t shown;
	bool guessed; /* a timeline showed a guessed state */
	/* findings wait for the end, after the timelines; kept up to a cap */
	struct st_finding *found;
	size_t nfound, capfound, more_found;
	bool all;	      /* --findings all: each one, not grouped */
	struct st_fgroups fg; /* or grouped by kind and scope */
};

#define MAX_FOUND 10000

static int text_begin(void **state, const struct st_sink_env *env,
		      const struct st_view_opts *vo)
{
	struct text *t;

	/* begun when no other format is (see .fallback) */
	t = calloc(1, sizeof(*t));
	if (!t) {
		fprintf(stderr, "socktrace: out of memory\n");
		return -1;
	}
	t->rd = env->rd;
	t->all = vo->findings_all;
	*state = t;
	return 0;
}

static void text_conn(void *state, const struct st_conn *c)
{
	struct text *t = state;

	if (!t->all)
		st_fgroups_conn(&t->fg, c, t->rd.m->set);
	t->shown++;
	t->guessed |= has_guess(c);
	timeline(&t->rd, c);
}

static void text_finding(void *state, const struct st_finding *f)
{
	struct text *t = state;

	if (!t->all) {
		st_fgroups_finding(&t->fg, f, t->rd.m->set);
		return;
	}
	if (t->nfound >= MAX_FOUND) {
		t->more_found++;
		return;
	}
	if (t->nfound == t->capfound) {
		size_t n = t->capfound ? t->capfound * 2 : 16;
		struct st_finding *p = realloc(t->found, n * sizeof(*p));
		if (!p) {
			t->more_found++;
			return;
		}
		t->found = p;
		t->capfound = n;
	}
	t->found[t->nfound++] = *f;
}

static void text_drop(void *state)
{
	struct text *t = state;

	free(t->found);
	st_fgroups_free(&t->fg);
	free(t);
}

static int text_end(void *state)
{
	struct text *t = state;
	struct st_out *o = t->rd.o;

	if (t->shown == 0)
		st_out_str(o, "no connections match\n");
	if (t->guessed) /* what "STATE?" means, said once */
		st_out_str(o, "STATE? is a guess: no call, kernel query or "
			      "traced peer showed it, a rule of TCP did (the "
			      "peer is not traced, or the peer's segment "
			      "arrives half a round trip after its call; "
			      "--json: each state's source)\n\n");
	st_out_fmt(o, "%sFindings%s\n", col(&t->rd, C_BOLD),
		   col(&t->rd, C_RESET));
	st_fgroups_end(&t->fg, t->rd.m->set);
	for (const struct st_fgroup *g = t->fg.groups; g; g = g->hh.next)
		group_line(&t->rd, g);
	for (size_t i = 0; i < t->nfound; i++)
		finding_line(&t->rd, &t->found[i]);
	if (t->more_found)
		st_out_fmt(o, "  (%zu more findings not shown)\n",
			   t->more_found);
	if (!t->nfound && !t->fg.groups)
		st_out_str(o, "  none\n");
	int rc = st_sink_stdout_end(o);
	text_drop(t);
	return rc;
}

const struct st_sink_ops st_sink_text = {
	.begin = text_begin,
	.conn = text_conn,
	.finding = text_finding,
	.end = text_end,
	.drop = text_drop,
	.fallback = true,
};
