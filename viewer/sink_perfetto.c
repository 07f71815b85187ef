/* SPDX-License-Identifier: MIT */
/* The Perfetto sink (view --perfetto): Chrome Trace Event JSON. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "finding_text.h"
#include "load.h"
#include "records.h"
#include "sink_json.h" /* conn.h: uthash, with the model's hash */

/*
 * The Trace Event Format (JSON object form): each call is a complete
 * ("X") slice on its thread; each connection end is a nestable async
 * track ("b"/"e", cat "conn", id = its connection id) holding the states
 * the model inferred (each state's args: its "source", what showed it),
 * nested in one slice for the whole connection; a
 * flow ("s" -> "f") joins a client's connect to the accept that returned
 * its other end.  Times are microseconds with three decimals: the
 * nanoseconds of the trace, exactly.
 */

struct seen_tid {
	uint64_t key; /* pid << 32 | tid; a process: 1 << 63 | pid */
	UT_hash_handle hh;
};

/*
 * It streams: calls come in time order and connections as the model
 * finishes them, so memory stays bounded.
 */
struct st_perfetto {
	struct st_out o;
	FILE *f;
	const char *path;
	struct st_model *m;
	/* whether a call was written as a slice (a flow may point at it) */
	bool (*shown)(const struct st_rec *r, int file, void *arg);
	void *arg;
	uint64_t conns; /* connections written */
	struct seen_tid *tids;
	bool any; /* an event was written: the next needs a comma */
	struct st_finding *pend; /* findings waiting for their connection */
	size_t npend, cappend;
	bool failed; /* out of memory: findings were dropped */
	/* past budget bytes of file, calls and connections are counted,
	 * not written (from over_ts on) */
	uint64_t budget, over_ts, left_calls, left_conns;
	bool over;
	/* connections opened per second of the trace, for all of them: a
	 * counter track that stays whatever the budget */
	uint32_t *per_s;
	uint32_t nper_s;
};

/* Default --budget: a file Perfetto's UI still opens in a browser. */
#define ST_PERFETTO_BUDGET (256ull << 20)

/* Opens the next event with its phase: the other fields follow it. */
static void ev_start(struct st_perfetto *p, char ph)
{
	char b[] = ",\n{\"ph\":\"X\"";

	b[9] = ph;
	st_out_str(&p->o, p->any ? b : b + 1);
	p->any = true;
}

/* ,"key":us.nnn */
static void put_us(struct st_out *o, const char *key, uint64_t ns)
{
	char b[8];

	st_out_key(o, key);
	st_out_u64(o, ns / 1000);
	snprintf(b, sizeof(b), ".%03u", (unsigned)(ns % 1000));
	st_out_str(o, b);
}

static void put_id(struct st_out *o, uint64_t id)
{
	char b[32];

	/* a string: ids above 2^53 would lose bits as JSON numbers */
	snprintf(b, sizeof(b), "0x%llx", (unsigned long long)id);
	st_out_ks(o, "id", b);
}

static int32_t pid_of(const struct st_perfetto *p, int file)
{
	return p->m->set->t[file].hdr.pid;
}

static void meta(struct st_perfetto *p, const char *what, int32_t pid,
		 int32_t tid, const char *name)
{
	ev_start(p, 'M');
	st_out_ks(&p->o, "name", what);
	st_out_ki(&p->o, "pid", pid);
	st_out_ki(&p->o, "tid", tid);
	st_out_str(&p->o, ",\"args\":{\"name\":");
	st_out_json_str(&p->o, name, strlen(name));
	st_out_str(&p->o, "}}");
}

/* Names process PID (and thread TID, unless < 0) the first time an event
 * uses them: every track a viewer shows then has a name. */
static void name_once(struct st_perfetto *p, int file, int32_t tid)
{
	const struct st_trace *t = &p->m->set->t[file];
	int32_t pid = t->hdr.pid;
	uint64_t key = tid < 0 ? 1ull << 63 | (uint32_t)pid
			       : (uint64_t)(uint32_t)pid << 32 | (uint32_t)tid;
	struct seen_tid *s;
	char name[48];

	HASH_FIND(hh, p->tids, &key, sizeof(key), s);
	if (s)
		return;
	s = calloc(1, sizeof(*s));
	if (!s)
		return; /* named again next time, if memory allows */
	s->key = key;
	HASH_ADD(hh, p->tids, key, sizeof(key), s);
	if (tid < 0) {
		meta(p, "process_name", pid, pid, st_proc_name(t, name));
		return;
	}
	name_once(p, file, -1);
	snprintf(name, sizeof(name), "%.16s %d", t->hdr.comm, tid);
	meta(p, "thread_name", pid, tid, name);
}

static int perfetto_begin(void **state, const struct st_sink_env *env,
			  const struct st_view_opts *vo)
{
	struct st_perfetto *p;
	FILE *f;

	if (!vo->perfetto)
		return 0;
	f = st_sink_file_open(vo->perfetto);
	if (!f)
		return -1;
	p = calloc(1, sizeof(*p));
	if (!p) {
		fprintf(stderr, "socktrace: out of memory\n");
		fclose(f);
		return -1;
	}
	st_out_init(&p->o, f);
	p->f = f;
	p->path = vo->perfetto;
	p->m = env->rd.m;
	p->shown = env->call_shown;
	p->arg = env->arg;
	p->budget = vo->budget ? vo->budget : ST_PERFETTO_BUDGET;
	st_out_str(&p->o, "{\"displayTimeUnit\":\"ns\",\"otherData\":"
			  "{\"generator\":\"socktrace\"},\"traceEvents\":[");
	*state = p;
	return 0;
}

/* Is the file past its budget (from now, TS on)? */
static bool over(struct st_perfetto *p, uint64_t ts)
{
	if (!p->over) {
		off_t at = ftello(p->f);
		if ((at > 0 ? (uint64_t)at : 0) + p->o.len >= p->budget) {
			p->over = true;
			p->over_ts = ts;
		}
	}
	return p->over;
}

/* A call: a complete slice on its thread. */
static void perfetto_call(void *state, const struct st_rec *r, int file)
{
	struct st_perfetto *p = state;
	int32_t pid = pid_of(p, file);

	if (over(p, r->ts)) {
		p->left_calls++;
		return;
	}
	name_once(p, file, r->tid);
	ev_start(p, 'X');
	st_out_ks(&p->o, "name", st_call_name[r->call]);
	st_out_str(&p->o, ",\"cat\":\"call\"");
	put_us(&p->o, "ts", r->ts);
	put_us(&p->o, "dur", r->dur);
	st_out_ki(&p->o, "pid", pid);
	st_out_ki(&p->o, "tid", r->tid);
	if ((r->flags & ST_REC_ERR) && !st_errno_soft(r->err))
		st_out_str(&p->o, ",\"cname\":\"terrible\"");
	/* the call's JSON line, as view --json prints it */
	st_out_str(&p->o, ",\"args\":");
	st_call_json(&p->o, r, pid);
	st_out_chr(&p->o, '}');
}

/* An event on connection C's async track. */
static void track_ev(struct st_perfetto *p, const struct st_conn *c, char ph,
		     const char *name, uint64_t ts)
{
	name_once(p, c->file, -1);
	ev_start(p, ph);
	st_out_ks(&p->o, "name", name);
	st_out_str(&p->o, ",\"cat\":\"conn\"");
	put_id(&p->o, c->id);
	put_us(&p->o, "ts", ts);
	st_out_ki(&p->o, "pid", pid_of(p, c->file));
	st_out_ki(&p->o, "tid", pid_of(p, c->file));
}

/* When C's track ends: its close, the end of TIME_WAIT, or the trace's
 * end for an end still open. */
static uint64_t track_end(const struct st_perfetto *p, const struct st_conn *c)
{
	uint64_t end =
		c->end == ST_END_OPEN || !c->close_ts ? p->m->now : c->close_ts;

	for (uint32_t i = 0; i < c->nst; i++)
		if (c->st[i].ts > end)
			end = c->st[i].ts;
	if (c->state == ST_ST_TIME_WAIT && c->nst)
		end = c->st[c->nst - 1].ts + ST_TIME_WAIT_NS;
	return end;
}

static uint64_t track_start(const struct st_conn *c)
{
	/* a server end is ESTABLISHED from its client's connect, before
	 * the accept that opened it */
	return c->nst && c->st[0].ts < c->open_ts ? c->st[0].ts : c->open_ts;
}

static void finding_ev(struct st_perfetto *p, const struct st_conn *c,
		       const struct st_finding *f)
{
	char name[64], msg[512];
	uint64_t ts =
		c->end == ST_END_OPEN || !c->close_ts ? p->m->now : c->close_ts;

	if (f->kind == ST_F_close_wait && c->eof_ts)
		ts = c->eof_ts; /* where CLOSE_WAIT began */
	snprintf(name, sizeof(name), "finding: %s", st_finding_name[f->kind]);
	track_ev(p, c, 'n', name, ts);
	st_out_str(&p->o, ",\"args\":{\"message\":");
	st_finding_text(f, p->m->set, msg, sizeof(msg));
	st_out_json_str(&p->o, msg, strlen(msg));
	st_out_str(&p->o, "}}");
}

/* The findings about C, which the model judged just before emitting it:
 * instants inside its track. */
static void findings_of(struct st_perfetto *p, const struct st_conn *c)
{
	for (size_t i = 0; i < p->npend;) {
		if (p->pend[i].conn != c->id) {
			i++;
			continue;
		}
		finding_ev(p, c, &p->pend[i]);
		p->pend[i] = p->pend[--p->npend];
	}
}

/* The findings about connection ID, which is not written. */
static void drop_findings(struct st_perfetto *p, uint64_t id)
{
	for (size_t i = 0; i < p->npend;) {
		if (p->pend[i].conn == id)
			p->pend[i] = p->pend[--p->npend];
		else
			i++;
	}
}

/* A state event's args, closing it: what showed the state. */
static void state_src(struct st_perfetto *p, uint8_t src)
{
	st_out_str(&p->o, ",\"args\":{\"source\":\"");
	st_out_str(&p->o, st_src_name[src]);
	st_out_str(&p->o, "\"}}");
}

static void track(struct st_perfetto *p, const struct st_conn *c)
{
	struct st_render rd = { .o = &p->o, .m = p->m };
	char name[256], l[96], r[96];
	uint64_t end = track_end(p, c);

	st_addr_str(&c->local, l, sizeof(l));
	st_addr_str(&c->peer, r, sizeof(r));
	snprintf(name, sizeof(name), "%s %s %s%s%s", st_kind_name[c->kind],
		 st_role_name[c->role], l[0] ? l : "(unbound)",
		 r[0] ? " -> " : "", r);
	track_ev(p, c, 'b', name, track_start(c));
	/* the connection's JSON line, as view --json prints it */
	st_out_str(&p->o, ",\"args\":");
	st_render_json(&rd, c);
	st_out_chr(&p->o, '}');
	for (uint32_t i = 0; i < c->nst; i++) {
		unsigned s = c->st[i].state;
		uint64_t from = c->st[i].ts;
		uint64_t to = i + 1 < c->nst ? c->st[i + 1].ts : end;
		const char *sn = st_state_name[s];

		if (s == ST_ST_NONE || s == ST_ST_CLOSED)
			continue;
		if (to <= from) {
			/* passed through at once (LAST_ACK -> CLOSED): an
			 * instant, so no begin and end share a timestamp */
			track_ev(p, c, 'n', sn, from);
			state_src(p, c->st[i].src);
			continue;
		}
		track_ev(p, c, 'b', sn, from);
		state_src(p, c->st[i].src);
		/* the client's final ACK made it ESTABLISHED (after SYN_RECV);
		 * the connection then waited in the listener's accept queue
		 * until accept returned it */
		if ((i == 0 || (i == 1 && c->st[0].state == ST_ST_SYN_RECV)) &&
		    s == ST_ST_ESTABLISHED && c->role == ST_ROLE_SERVER &&
		    c->other && c->accept_wait && c->accept_ts > from &&
		    c->accept_ts <= to) {
			track_ev(p, c, 'b', "accept queue", from);
			st_out_chr(&p->o, '}');
			track_ev(p, c, 'e', "accept queue", c->accept_ts);
			st_out_chr(&p->o, '}');
		}
		track_ev(p, c, 'e', sn, to);
		st_out_chr(&p->o, '}');
	}
	findings_of(p, c);
	track_ev(p, c, 'e', name, end);
	st_out_chr(&p->o, '}');
}

static void flow_ev(struct st_perfetto *p, char ph, uint64_t id,
		    const struct st_ev *e, uint64_t ts)
{
	int32_t pid = pid_of(p, e->file);

	ev_start(p, ph);
	st_out_str(&p->o, ",\"name\":\"connect->accept\",\"cat\":\"flow\"");
	if (ph == 'f')
		st_out_str(&p->o, ",\"bp\":\"e\""); /* bind to the enclosing
						       slice: the accept */
	put_id(&p->o, id);
	put_us(&p->o, "ts", ts);
	st_out_ki(&p->o, "pid", pid);
	st_out_ki(&p->o, "tid", e->r.tid);
	st_out_chr(&p->o, '}');
}

/* The client's connect and the server's accept, joined by an arrow. */
static void flow(struct st_perfetto *p, const struct st_conn *cl)
{
	const struct st_conn *sv = cl->other;
	const struct st_ev *conn = NULL, *acc = NULL;

	for (uint32_t i = 0; i < cl->nev && !conn; i++) {
		const struct st_rec *r = &cl->ev[i].r;
		if (r->call == ST_CALL_connect &&
		    (!(r->flags & ST_REC_ERR) || r->err == EINPROGRESS))
			conn = &cl->ev[i];
	}
	if (sv->nev && (sv->ev[0].r.call == ST_CALL_accept ||
			sv->ev[0].r.call == ST_CALL_accept4))
		acc = &sv->ev[0];
	if (!conn || !acc || !p->shown(&conn->r, conn->file, p->arg) ||
	    !p->shown(&acc->r, acc->file, p->arg))
		return;
	/*
	 * Each end binds to the slice around it, so it must lie inside the
	 * call; and a viewer reads the start before the end.  Just after
	 * connect began and just before accept returned does both: accept
	 * cannot return before the client's SYN was sent.
	 */
	uint64_t from = conn->r.ts + 1, to = st_rec_end(&acc->r) - 1;
	if (conn->r.dur < 2 || acc->r.dur < 2 || to < from)
		return;
	flow_ev(p, 's', cl->id, conn, from);
	flow_ev(p, 'f', cl->id, acc, to);
}

/* A connection: an async track per end with its states, and a flow
 * from a client's connect to the server's accept. */
static void perfetto_conn(void *state, const struct st_conn *c)
{
	struct st_perfetto *p = state;
	const struct st_conn *o = c->other;
	uint64_t s = (track_start(c) - p->m->t0) / 1000000000u;

	if (s < (1u << 24)) { /* a counter per second: 194 days at most */
		if (s >= p->nper_s) {
			uint32_t n = (uint32_t)s + 64;
			uint32_t *q = realloc(p->per_s, n * sizeof(*q));
			if (q) {
				memset(q + p->nper_s, 0,
				       (n - p->nper_s) * sizeof(*q));
				p->per_s = q;
				p->nper_s = n;
			}
		}
		if (s < p->nper_s)
			p->per_s[s]++;
	}
	if (over(p, track_start(c))) {
		p->left_conns++;
		drop_findings(p, c->id);
		if (o)
			drop_findings(p, o->id);
		return;
	}
	p->conns++;
	track(p, c);
	if (o)
		track(p, o);
	if (o && c->role == ST_ROLE_CLIENT && o->role == ST_ROLE_SERVER)
		flow(p, c);
	else if (o && o->role == ST_ROLE_CLIENT && c->role == ST_ROLE_SERVER)
		flow(p, o);
}

/* A finding about a process, or one whose connection was not shown. */
static void process_finding(struct st_perfetto *p, const struct st_finding *f,
			    uint64_t ts)
{
	char msg[512];

	name_once(p, f->file, -1);
	ev_start(p, 'i');
	st_out_ks(&p->o, "name", st_finding_name[f->kind]);
	st_out_str(&p->o, ",\"cat\":\"finding\",\"s\":\"p\"");
	put_us(&p->o, "ts", ts);
	st_out_ki(&p->o, "pid", pid_of(p, f->file));
	st_out_ki(&p->o, "tid", pid_of(p, f->file));
	st_out_str(&p->o, ",\"args\":{\"message\":");
	st_finding_text(f, p->m->set, msg, sizeof(msg));
	st_out_json_str(&p->o, msg, strlen(msg));
	st_out_str(&p->o, "}}");
}

/* A finding: an instant in its connection's track (kept until the
 * connection comes), or in its process. */
static void perfetto_finding(void *state, const struct st_finding *f)
{
	struct st_perfetto *p = state;

	if (!f->conn) {
		process_finding(p, f, p->m->t0);
		return;
	}
	if (p->npend == p->cappend) {
		size_t n = p->cappend ? p->cappend * 2 : 8;
		struct st_finding *q = realloc(p->pend, n * sizeof(*q));
		if (!q) {
			p->failed = true;
			return;
		}
		p->pend = q;
		p->cappend = n;
	}
	p->pend[p->npend++] = *f;
}

/* What stays past the budget: connections opened per second, as a
 * counter track of the first process, and, past it, a note in the file
 * and on stderr of what was left out. */
static void aggregates(struct st_perfetto *p)
{
	char msg[320];

	for (uint32_t i = 0; i < p->nper_s && p->m->set->n; i++) {
		if (!p->per_s[i] && (!i || !p->per_s[i - 1]))
			continue; /* a run of zeros: its first one is drawn */
		name_once(p, 0, -1);
		ev_start(p, 'C');
		st_out_str(&p->o, ",\"name\":\"connections opened /s\"");
		put_us(&p->o, "ts", p->m->t0 + (uint64_t)i * 1000000000u);
		st_out_ki(&p->o, "pid", pid_of(p, 0));
		st_out_str(&p->o, ",\"args\":{\"connections\":");
		st_out_u64(&p->o, p->per_s[i]);
		st_out_str(&p->o, "}}");
	}
	if (!p->over)
		return;
	snprintf(msg, sizeof(msg),
		 "past the size budget (%llu MiB, --budget): %llu "
		 "connections and %llu calls from here on are not drawn, only "
		 "counted in 'connections opened /s'; narrow it with --since/"
		 "--until or the filters",
		 (unsigned long long)(p->budget >> 20),
		 (unsigned long long)p->left_conns,
		 (unsigned long long)p->left_calls);
	ev_start(p, 'i');
	st_out_str(&p->o, ",\"name\":\"socktrace: detail ends here\"");
	st_out_str(&p->o, ",\"s\":\"g\"");
	put_us(&p->o, "ts", p->over_ts);
	st_out_ki(&p->o, "pid", pid_of(p, 0));
	st_out_ki(&p->o, "tid", pid_of(p, 0));
	st_out_str(&p->o, ",\"args\":{\"message\":");
	st_out_json_str(&p->o, msg, strlen(msg));
	st_out_str(&p->o, "}}");
	fprintf(stderr, "socktrace: %s: %s\n", p->path, msg);
}

static void perfetto_drop(void *state)
{
	struct st_perfetto *p = state;
	struct seen_tid *s, *tmp;

	HASH_ITER(hh, p->tids, s, tmp) {
		HASH_DEL(p->tids, s);
		free(s);
	}
	if (p->f)
		fclose(p->f);
	free(p->pend);
	free(p->per_s);
	free(p);
}

static int perfetto_end(void *state)
{
	struct st_perfetto *p = state;

	for (size_t i = 0; i < p->npend; i++)
		process_finding(p, &p->pend[i], p->m->now);
	aggregates(p);
	st_out_str(&p->o, "\n]}\n");
	int rc = st_out_flush(&p->o);
	if (p->failed) {
		fprintf(stderr, "socktrace: out of memory: findings are "
				"missing from the Perfetto file\n");
		rc = -1;
	}
	rc = st_sink_file_close(p->f, p->path, rc, p->conns);
	p->f = NULL;
	perfetto_drop(p);
	return rc;
}

const struct st_sink_ops st_sink_perfetto = {
	.begin = perfetto_begin,
	.call = perfetto_call,
	.conn = perfetto_conn,
	.finding = perfetto_finding,
	.end = perfetto_end,
	.drop = perfetto_drop,
};
