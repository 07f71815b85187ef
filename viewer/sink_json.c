/* SPDX-License-Identifier: MIT */
/* The JSON lines sink (--json), and the JSON lines other sinks embed. */
#include <stdlib.h>
#include <string.h>

#include "fgroup.h"
#include "finding_text.h"
#include "load.h"
#include "records.h"
#include "sink_json.h"
#include "tcpstate.h"

/* ,"key":V, or null when not SET. */
static char *put_ns(char *p, const char *key, size_t klen, bool set, uint64_t v)
{
	memcpy(p, key, klen);
	p += klen;
	if (set)
		return st_put_u64(p, v);
	return ST_PUT_LIT(p, "null");
}
#define PUT_NS(p, key, set, v) \
	put_ns(p, ",\"" key "\":", sizeof(key) + 3, set, v)

/* "name" of a name that needs no escaping (the viewer's own words,
 * at most 16 bytes). */
static char *put_name_n(char *p, const char *s, size_t n)
{
	*p++ = '"';
	p = st_put_short(p, s, n);
	*p++ = '"';
	return p;
}

static char *put_name(char *p, const char *s)
{
	return put_name_n(p, s, strlen(s));
}

/* The most bytes of a conn line before its states, and after them. */
#define CONN_HEAD_MAX  2048
#define CONN_STATE_MAX 80
#define CONN_TAIL_MAX  1536

/* {"type":"conn" up to "calls": who C is, where and what it carried. */
static char *conn_head(char *p, const struct st_render *rd,
		       const struct st_conn *c)
{
	const struct st_header *h = &rd->m->set->t[c->file].hdr;
	static const char *const ends[] = { "open", "closed", "exit", "death" };

	p = ST_PUT_LIT(p, "{\"type\":\"conn\",\"id\":");
	p = st_put_conn_json(p, c->id);
	p = ST_PUT_LIT(p, ",\"pid\":");
	p = st_put_i64(p, h->pid);
	p = ST_PUT_LIT(p, ",\"comm\":");
	p = st_put_json_str(p, h->comm, strnlen(h->comm, sizeof(h->comm)));
	p = ST_PUT_LIT(p, ",\"fd\":");
	p = st_put_i64(p, c->fd);
	p = ST_PUT_LIT(p, ",\"kind\":");
	p = put_name(p, st_kind_name[c->kind]);
	p = ST_PUT_LIT(p, ",\"role\":");
	p = put_name(p, st_role_name[c->role]);
	p = ST_PUT_LIT(p, ",\"local\":");
	p = st_put_addr_json(p, &c->local);
	p = ST_PUT_LIT(p, ",\"peer\":");
	p = st_put_addr_json(p, &c->peer);
	p = ST_PUT_LIT(p, ",\"peer_conn\":");
	p = st_put_conn_json(p, c->other ? c->other->id : 0);
	if (c->before_trace)
		p = ST_PUT_LIT(p, ",\"before_trace\":true");
	else
		p = ST_PUT_LIT(p, ",\"before_trace\":false");
	if (c->start_lost)
		p = ST_PUT_LIT(p, ",\"start_lost\":true");
	else
		p = ST_PUT_LIT(p, ",\"start_lost\":false");
	if (c->before_attach)
		p = ST_PUT_LIT(p, ",\"before_attach\":true");
	else
		p = ST_PUT_LIT(p, ",\"before_attach\":false");
	p = ST_PUT_LIT(p, ",\"open_ts\":");
	p = st_put_u64(p, c->open_ts);
	p = PUT_NS(p, "close_ts",
		   c->end == ST_END_CLOSED || c->end == ST_END_EXIT,
		   c->close_ts);
	p = ST_PUT_LIT(p, ",\"end\":");
	p = put_name(p, ends[c->end]);
	/* added after "end", whose values stay as they were */
	if (c->closed_unseen)
		p = ST_PUT_LIT(p, ",\"closed_unseen\":true");
	else
		p = ST_PUT_LIT(p, ",\"closed_unseen\":false");
	p = ST_PUT_LIT(p, ",\"closed_by\":");
	if (c->closed_first == 2)
		p = ST_PUT_LIT(p, "\"both\"");
	else if (c->closed_first > 0)
		p = ST_PUT_LIT(p, "\"local\"");
	else if (c->closed_first < 0)
		p = ST_PUT_LIT(p, "\"peer\"");
	else
		p = ST_PUT_LIT(p, "null");
	/* closed_by rests on an exit time alone: no close call, no kernel
	 * word at the exit */
	if (c->closed_guess || (c->other && c->other->closed_guess))
		p = ST_PUT_LIT(p, ",\"closed_by_guess\":true");
	else
		p = ST_PUT_LIT(p, ",\"closed_by_guess\":false");
	p = ST_PUT_LIT(p, ",\"bytes_in\":");
	p = st_put_u64(p, c->bytes_in);
	p = ST_PUT_LIT(p, ",\"bytes_out\":");
	p = st_put_u64(p, c->bytes_out);
	p = ST_PUT_LIT(p, ",\"calls\":");
	return st_put_u64(p, c->calls);
}

/* ,"states":[...]: any number of them, so each gets its own room; the
 * end of the list is in room for the tail (CONN_TAIL_MAX). */
static char *conn_states(struct st_out *o, char *p, const struct st_conn *c)
{
	p = ST_PUT_LIT(p, ",\"states\":[");
	for (uint32_t i = 0; i < c->nst; i++) {
		st_out_end(o, p);
		p = st_out_room(o, CONN_STATE_MAX);
		if (i)
			*p++ = ',';
		*p++ = '[';
		unsigned st = c->st[i].state;
		p = put_name_n(p, st_state_name[st], st_state_name_len[st]);
		*p++ = ',';
		p = st_put_u64(p, c->st[i].ts);
		/* added third: what showed it (DESIGN.md's Evidence) */
		*p++ = ',';
		p = put_name(p, st_src_name[c->st[i].src]);
		*p++ = ']';
	}
	st_out_end(o, p);
	p = st_out_room(o, CONN_TAIL_MAX);
	/* TIME_WAIT ends by itself, 60 s later: TCP's rule */
	if (c->state == ST_ST_TIME_WAIT) {
		p = ST_PUT_LIT(p, ",[\"CLOSED\",");
		p = st_put_u64(p, c->st[c->nst - 1].ts + ST_TIME_WAIT_NS);
		p = ST_PUT_LIT(p, ",\"inferred\"]");
	}
	*p++ = ']';
	/* a new connection on its 4-tuple ended its TIME_WAIT early */
	p = ST_PUT_LIT(p, ",\"time_wait_reused_by\":");
	return st_put_conn_json(p, c->tw_reused_by);
}

/* ,"options":{"SO_LINGER":[1,0],"TCP_NODELAY":1}: the options set. */
static char *conn_options(char *p, const struct st_conn *c)
{
	const struct st_opts *o = &c->opts;
	bool first = true;

	p = ST_PUT_LIT(p, ",\"options\":{");
	for (int i = 0; i < ST_OPT__N; i++) {
		if (!(o->set & (1u << i)))
			continue;
		if (!first)
			*p++ = ',';
		first = false;
		p = put_name(p, st_opt_name[i]);
		*p++ = ':';
		if (i == ST_OPT_SO_LINGER) {
			*p++ = '[';
			p = st_put_i64(p, o->val[i]);
			*p++ = ',';
			p = st_put_i64(p, o->linger);
			*p++ = ']';
		} else {
			p = st_put_i64(p, o->val[i]);
		}
	}
	*p++ = '}';
	p = PUT_NS(p, "unread_at_close", c->close_flags & ST_CLOSE_UNREAD,
		   c->close_unread);
	const char *how = st_tcp_close_how(c);
	p = ST_PUT_LIT(p, ",\"close_how\":");
	p = how ? put_name(p, how) : ST_PUT_LIT(p, "null");
	p = ST_PUT_LIT(p, ",\"reset_by\":");
	p = c->reset_by == ST_RST_LOCAL	 ? ST_PUT_LIT(p, "\"local\"")
	    : c->reset_by == ST_RST_PEER ? ST_PUT_LIT(p, "\"peer\"")
					 : ST_PUT_LIT(p, "null");
	p = ST_PUT_LIT(p, ",\"reset_reason\":");
	if (c->reset_reason)
		return put_name(p, st_rst_reason_name[c->reset_reason]);
	return ST_PUT_LIT(p, "null");
}

/* ,"tcp":{...}: TCP_INFO at close, in units its keys name, or null
 * when the trace has none (not TCP, never closed, older trace). */
static char *conn_tcp(char *p, const struct st_conn *c)
{
	const struct st_tcpk *k = &c->tcp;
	bool f = k->set & ST_TCPK_FIGS, n = k->set & ST_TCPK_COUNTERS;
	bool rto = k->set & ST_TCPK_RTO;

	if (!f && !n)
		return ST_PUT_LIT(p, ",\"tcp\":null");
	p = ST_PUT_LIT(p, ",\"tcp\":{\"rtt_us\":");
	p = f ? st_put_u64(p, k->rtt_us) : ST_PUT_LIT(p, "null");
	p = PUT_NS(p, "rttvar_us", f, k->rttvar_us);
	p = PUT_NS(p, "min_rtt_us", f, k->min_rtt_us);
	p = PUT_NS(p, "snd_cwnd", f, k->snd_cwnd);
	p = PUT_NS(p, "total_retrans", f, k->total_retrans);
	p = PUT_NS(p, "bytes_retrans", n, k->bytes_retrans);
	p = PUT_NS(p, "bytes_sent", n, k->bytes_sent);
	p = PUT_NS(p, "bytes_acked", n, k->bytes_acked);
	p = PUT_NS(p, "bytes_received", n, k->bytes_received);
	p = PUT_NS(p, "delivery_rate_bps", n, k->delivery_rate * 8);
	p = PUT_NS(p, "busy_us", n, k->busy_us);
	p = PUT_NS(p, "rwnd_limited_us", n, k->rwnd_limited_us);
	p = PUT_NS(p, "sndbuf_limited_us", n, k->sndbuf_limited_us);
	p = PUT_NS(p, "notsent_bytes", f, k->notsent_bytes);
	p = PUT_NS(p, "unacked", f, k->unacked);
	p = PUT_NS(p, "total_rto", rto, k->total_rto);
	p = PUT_NS(p, "total_rto_time_us", rto,
		   (uint64_t)k->total_rto_ms * 1000);
	*p++ = '}';
	return p;
}

/* The figures after the states, to the closing brace and newline. */
static char *conn_tail(char *p, const struct st_conn *c)
{
	p = PUT_NS(p, "accept_wait_ns", c->role == ST_ROLE_SERVER && c->other,
		   c->accept_wait);
	p = PUT_NS(p, "connect_ns",
		   c->role == ST_ROLE_CLIENT && c->est_ts && c->connect_ts,
		   c->est_ts - c->connect_ts);
	p = PUT_NS(p, "ttfb_ns",
		   c->role == ST_ROLE_CLIENT && c->first_in_ts && c->connect_ts,
		   c->first_in_ts - c->connect_ts);
	p = PUT_NS(p, "eof_ts", c->eof_ts, c->eof_ts);
	p = PUT_NS(p, "eof_close_ns", c->eof_ts && c->fin_ts >= c->eof_ts,
		   c->fin_ts - c->eof_ts);
	p = ST_PUT_LIT(p, ",\"connect_errno\":");
	if (c->connect_err) {
		char b[16];
		const char *e = st_errno_name(c->connect_err, b);
		p = st_put_json_str(p, e, strnlen(e, 32));
	} else {
		p = ST_PUT_LIT(p, "null");
	}
	p = ST_PUT_LIT(p, ",\"listener\":");
	p = st_put_conn_json(p, c->listener);
	if (c->role == ST_ROLE_LISTENER) {
		p = ST_PUT_LIT(p, ",\"backlog\":");
		p = st_put_i64(p, c->backlog);
		p = ST_PUT_LIT(p, ",\"effective_backlog\":");
		p = st_put_i64(p, c->effective_backlog);
		p = ST_PUT_LIT(p, ",\"somaxconn\":");
		p = st_put_i64(p, c->somaxconn);
		p = ST_PUT_LIT(p, ",\"max_queue_len\":");
		p = st_put_u64(p, c->max_queue_len);
		p = ST_PUT_LIT(p, ",\"queue_max\":");
		p = st_put_u64(p, c->queue_max);
		p = ST_PUT_LIT(p, ",\"accepted\":");
		p = st_put_u64(p, c->accepted);
		p = PUT_NS(p, "queue_len_at_close", c->tcp.set & ST_TCPK_QUEUE,
			   c->tcp.queue_len);
	}
	p = conn_tcp(p, c);
	p = conn_options(p, c);
	return ST_PUT_LIT(p, "}\n");
}

void st_render_json(struct st_render *rd, const struct st_conn *c)
{
	struct st_out *o = rd->o;
	char *p = conn_head(st_out_room(o, CONN_HEAD_MAX), rd, c);

	p = conn_states(o, p, c);
	st_out_end(o, conn_tail(p, c));
}

/* close_wait's "evidence": what showed the CLOSE_WAIT, strongest first. */
static void put_cw_by(struct st_out *o, uint8_t by)
{
	static const char *const name[] = { "\"eof\"", "\"kernel\"",
					    "\"peer\"" };
	static const uint8_t bit[] = { ST_CW_BY_EOF, ST_CW_BY_KERNEL,
				       ST_CW_BY_PEER };
	const char *sep = "";

	st_out_str(o, ",\"evidence\":[");
	for (int i = 0; i < 3; i++) {
		if (!(by & bit[i]))
			continue;
		st_out_str(o, sep);
		st_out_str(o, name[i]);
		sep = ",";
	}
	st_out_str(o, "]");
}

/* accept_queue_full: where the full queue dropped its traced clients'
 * handshakes ("syn", "ack", "both", or null: none shown), how many. */
static void put_dropped(struct st_out *o, const struct st_finding *f)
{
	const char *at = f->syn_dropped && f->ack_dropped ? "both"
			 : f->syn_dropped		  ? "syn"
			 : f->ack_dropped		  ? "ack"
							  : NULL;

	if (at)
		st_out_ks(o, "dropped_at", at);
	else
		st_out_str(o, ",\"dropped_at\":null");
	st_out_ku(o, "syn_dropped", f->syn_dropped);
	st_out_ku(o, "ack_dropped", f->ack_dropped);
}

void st_render_finding_json(struct st_render *rd, const struct st_finding *f)
{
	struct st_out *o = rd->o;
	char msg[768];

	st_out_str(o, "{\"type\":\"finding\"");
	st_out_ks(o, "kind", st_finding_name[f->kind]);
	st_json_conn(o, "conn", f->conn);
	st_out_ki(o, "pid", rd->m->set->t[f->file].hdr.pid);
	st_out_ks(o, "message",
		  st_finding_text(f, rd->m->set, msg, sizeof(msg)));
	if (f->kind == ST_F_close_wait)
		put_cw_by(o, f->cw_by);
	if (f->kind == ST_F_connect_failed && f->cause)
		st_out_ks(o, "cause", st_unreach_name[f->cause]);
	if (f->kind == ST_F_accept_queue_full)
		put_dropped(o, f);
	if (f->kind == ST_F_server_time_wait)
		st_out_str(o,
			   f->guess ? ",\"guess\":true" : ",\"guess\":false");
	st_out_str(o, "}\n");
}

/* The JSON sink (--json): one object per line on stdout. */
struct json {
	struct st_render rd;
	struct st_fgroups fg; /* for a finding_group line per group */
};

static int json_begin(void **state, const struct st_sink_env *env,
		      const struct st_view_opts *vo)
{
	struct json *j;

	if (!vo->json)
		return 0;
	j = calloc(1, sizeof(*j));
	if (!j) {
		fprintf(stderr, "socktrace: out of memory\n");
		return -1;
	}
	j->rd = env->rd;
	*state = j;
	return 0;
}

static void json_process(void *state, int file)
{
	struct json *j = state;

	st_process_json(j->rd.o, &j->rd.m->set->t[file]);
}

static void json_call(void *state, const struct st_rec *r, int file)
{
	struct json *j = state;

	st_call_json(j->rd.o, r, j->rd.m->set->t[file].hdr.pid);
}

/* Both ends, each its own line: the client's first. */
static void json_conn(void *state, const struct st_conn *c)
{
	struct json *j = state;

	st_fgroups_conn(&j->fg, c, j->rd.m->set);
	st_render_json(&j->rd, c);
	if (c->other)
		st_render_json(&j->rd, c->other);
}

static void json_finding(void *state, const struct st_finding *f)
{
	struct json *j = state;

	st_fgroups_finding(&j->fg, f, j->rd.m->set);
	st_render_finding_json(&j->rd, f);
}

static int json_end(void *state)
{
	struct json *j = state;

	st_fgroups_end(&j->fg, j->rd.m->set);
	st_fgroups_json(&j->fg, j->rd.o, j->rd.m->set);
	int rc = st_sink_stdout_end(j->rd.o);

	st_fgroups_free(&j->fg);
	free(j);
	return rc;
}

static void json_drop(void *state)
{
	struct json *j = state;

	st_fgroups_free(&j->fg);
	free(j);
}

const struct st_sink_ops st_sink_json = {
	.begin = json_begin,
	.process = json_process,
	.call = json_call,
	.conn = json_conn,
	.finding = json_finding,
	.end = json_end,
	.drop = json_drop,
};
