/* SPDX-License-Identifier: MIT */
/* Findings grouped by kind and scope (listener, peer, process), counted. */
#include <stdio.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>

#include "fgroup.h"
#include "units.h"
#include "finding_text.h"
#include "records.h"

const char *const st_fscope_name[] = { "listener", "peer", "process" };

static void *xcalloc(size_t n)
{
	void *p = calloc(1, n);

	if (!p) {
		fprintf(stderr, "socktrace: out of memory\n");
		exit(1);
	}
	return p;
}

/* The scope end E counts in: a server end its listener, a client end
 * its peer, a listener itself, anything else its process. */
static struct st_fscope_key scope_of(const struct st_conn *e)
{
	struct st_fscope_key k;

	memset(&k, 0, sizeof(k));
	if (e->role == ST_ROLE_SERVER && e->listener) {
		k.type = ST_FS_LISTENER;
		k.id = e->listener;
	} else if (e->role == ST_ROLE_LISTENER) {
		k.type = ST_FS_LISTENER;
		k.id = e->id;
	} else if (e->role == ST_ROLE_CLIENT) {
		k.type = ST_FS_PEER;
		k.addr = e->peer;
	} else {
		k.type = ST_FS_PROCESS;
		k.id = (uint64_t)e->file;
	}
	return k;
}

const char *st_listener_name(const struct st_conn *e,
			     const struct st_traceset *set, char *buf,
			     size_t len)
{
	char p[48], a[80];

	st_proc_name(&set->t[e->file], p);
	if (e->local.port || e->local.family == AF_INET ||
	    e->local.family == AF_INET6) {
		snprintf(buf, len, "%s :%u", p, e->local.port);
		return buf;
	}
	st_addr_str(&e->local, a, sizeof(a));
	if (a[0])
		snprintf(buf, len, "%s %s", p, a);
	else
		snprintf(buf, len, "%s listener", p);
	return buf;
}

/* A new scope with key K, named from end E or process FILE. */
static struct st_fscope *new_scope(struct st_fgroups *g,
				   const struct st_fscope_key *k,
				   const struct st_traceset *set,
				   const struct st_conn *e, int file)
{
	struct st_fscope *s = xcalloc(sizeof(*s));
	char p[48];

	s->key = *k;
	st_proc_name(&set->t[file], p);
	if (k->type == ST_FS_LISTENER)
		st_listener_name(e, set, s->name, sizeof(s->name));
	else if (k->type == ST_FS_PEER)
		st_addr_str(&k->addr, s->name, sizeof(s->name));
	else
		snprintf(s->name, sizeof(s->name), "%s", p);
	if (!s->name[0])
		snprintf(s->name, sizeof(s->name), "?");
	HASH_ADD(hh, g->scopes, key, sizeof(s->key), s);
	return s;
}

static struct st_fscope *get_scope(struct st_fgroups *g,
				   const struct st_fscope_key *k,
				   const struct st_traceset *set,
				   const struct st_conn *e, int file)
{
	struct st_fscope *s;

	HASH_FIND(hh, g->scopes, k, sizeof(*k), s);
	return s ? s : new_scope(g, k, set, e, file);
}

/* End E's scope; NULL when it is new and G holds max_scopes already.
 * Ends come in runs of one listener and one peer: the scope found last
 * for each type is compared before the key is hashed, and the key is
 * hashed once. */
static struct st_fscope *scope_of_end(struct st_fgroups *g,
				      const struct st_conn *e,
				      const struct st_traceset *set)
{
	struct st_fscope_key k = scope_of(e);
	struct st_fscope *s = g->last[k.type];

	if (s && !memcmp(&s->key, &k, sizeof(k)))
		return s;
	HASH_FIND(hh, g->scopes, &k, sizeof(k), s);
	if (!s) {
		if (g->max_scopes && g->nscopes >= g->max_scopes)
			return NULL;
		g->nscopes++;
		s = new_scope(g, &k, set, e, e->file);
	}
	g->last[k.type] = s;
	return s;
}

static struct st_fscope *scope_of_process(struct st_fgroups *g, int file,
					  const struct st_traceset *set)
{
	struct st_fscope_key k;

	memset(&k, 0, sizeof(k));
	k.type = ST_FS_PROCESS;
	k.id = (uint64_t)file;
	return get_scope(g, &k, set, NULL, file);
}

/* Counts finding F in scope S; SHARE: it is about one of S's conns. */
static void add(struct st_fgroups *g, const struct st_finding *f, uint64_t seq,
		struct st_fscope *s, bool share)
{
	struct st_fgroup *gr, k;

	memset(&k.key, 0, sizeof(k.key));
	k.key.scope = s->key;
	k.key.kind = f->kind;
	HASH_FIND(hh, g->groups, &k.key, sizeof(k.key), gr);
	if (!gr) {
		gr = xcalloc(sizeof(*gr));
		gr->key = k.key;
		gr->scope = s;
		gr->first = *f;
		gr->share = share;
		gr->seq = seq;
		HASH_ADD(hh, g->groups, key, sizeof(gr->key), gr);
	}
	gr->count++;
	gr->last = seq;
	if (gr->nex < ST_FGROUP_EXAMPLES && f->conn)
		gr->ex[gr->nex++] = f->conn;
}

/* Findings still waiting, whose connection was not shown: to their
 * process. */
static void flush(struct st_fgroups *g, const struct st_traceset *set)
{
	for (size_t j = 0; j < g->npend; j++)
		add(g, &g->pend[j], g->pend_seq[j],
		    scope_of_process(g, g->pend[j].file, set), false);
	g->npend = 0;
}

void st_fgroups_finding(struct st_fgroups *g, const struct st_finding *f,
			const struct st_traceset *set)
{
	uint64_t seq = g->findings++;

	if (f->scope != ST_SCOPE_CONN || !f->conn) {
		add(g, f, seq, scope_of_process(g, f->file, set), false);
		return;
	}
	if (g->npend == sizeof(g->pend) / sizeof(g->pend[0]))
		flush(g, set);
	g->pend_seq[g->npend] = seq;
	g->pend[g->npend++] = *f;
}

/* End E counts in its scope, and the findings waiting for it go there. */
static void end_in_scope(struct st_fgroups *g, const struct st_conn *e,
			 const struct st_traceset *set)
{
	struct st_fscope *s = scope_of_end(g, e, set);

	if (!s) /* full: its findings go to its process (flush) */
		return;
	if (e->role != ST_ROLE_LISTENER)
		s->conns++;
	else /* its own process's name, not a worker's */
		st_listener_name(e, set, s->name, sizeof(s->name));
	for (size_t j = 0; j < g->npend; j++) {
		if (g->pend[j].conn != e->id)
			continue;
		add(g, &g->pend[j], g->pend_seq[j], s,
		    e->role != ST_ROLE_LISTENER);
		g->npend--;
		g->pend_seq[j] = g->pend_seq[g->npend];
		g->pend[j--] = g->pend[g->npend];
	}
}

void st_fgroups_conn(struct st_fgroups *g, const struct st_conn *c,
		     const struct st_traceset *set)
{
	end_in_scope(g, c, set);
	if (c->other)
		end_in_scope(g, c->other, set);
	flush(g, set);
}

void st_fgroups_open_end(struct st_fgroups *g, const struct st_conn *e,
			 const struct st_traceset *set)
{
	end_in_scope(g, e, set);
	flush(g, set);
}

static int by_seq(struct st_fgroup *a, struct st_fgroup *b)
{
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void st_fgroups_end(struct st_fgroups *g, const struct st_traceset *set)
{
	flush(g, set);
	if (!g->sorted)
		HASH_SORT(g->groups, by_seq);
	g->sorted = true;
}

const char *st_fgroup_text(const struct st_fgroup *g,
			   const struct st_traceset *set, char *buf, size_t len)
{
	char n[32], share[160] = "", ex[96] = "", id[24], one[512];
	const char *gist = st_finding_gist(g->first.kind);

	if (g->count == 1)
		return st_finding_text(&g->first, set, buf, len);
	st_fmt_thousands(n, g->count);
	if (g->share && g->scope->conns)
		snprintf(share, sizeof(share),
			 g->scope->key.type == ST_FS_PEER
				 ? "%.0f%% of the connections to %s"
				 : "%.0f%% of %s's connections",
			 100.0 * (double)g->count / (double)g->scope->conns,
			 g->scope->name);
	else
		snprintf(share, sizeof(share), "%s", g->scope->name);
	for (unsigned i = 0; i < g->nex; i++) {
		st_conn_str(g->ex[i], id);
		size_t l = strlen(ex);
		snprintf(ex + l, sizeof(ex) - l, "%s%s", i ? ", " : "; e.g. ",
			 id);
	}
	if (!gist)
		gist = st_finding_text(&g->first, set, one, sizeof(one));
	snprintf(buf, len, "x%s (%s%s): %s", n, share, ex, gist);
	return buf;
}

void st_fgroups_json(const struct st_fgroups *g, struct st_out *o,
		     const struct st_traceset *set)
{
	char msg[768];

	for (const struct st_fgroup *gr = g->groups; gr; gr = gr->hh.next) {
		const struct st_fscope *s = gr->scope;
		st_out_str(o, "{\"type\":\"finding_group\"");
		st_out_ks(o, "kind", st_finding_name[gr->first.kind]);
		st_out_ks(o, "scope", st_fscope_name[s->key.type]);
		st_out_ks(o, "scope_name", s->name);
		st_out_ku(o, "count", gr->count);
		st_out_key(o, "conns");
		if (gr->share)
			st_out_u64(o, s->conns);
		else
			st_out_str(o, "null");
		st_out_str(o, ",\"examples\":[");
		for (unsigned i = 0; i < gr->nex; i++) {
			if (i)
				st_out_chr(o, ',');
			char *p = st_out_room(o, 64);
			st_out_end(o, st_put_conn_json(p, gr->ex[i]));
		}
		st_out_chr(o, ']');
		st_out_ks(o, "message",
			  st_fgroup_text(gr, set, msg, sizeof(msg)));
		st_out_str(o, "}\n");
	}
}

void st_fgroups_free(struct st_fgroups *g)
{
	struct st_fgroup *gr, *gt;
	struct st_fscope *s, *st;

	HASH_ITER(hh, g->groups, gr, gt) {
		HASH_DEL(g->groups, gr);
		free(gr);
	}
	HASH_ITER(hh, g->scopes, s, st) {
		HASH_DEL(g->scopes, s);
		free(s);
	}
	g->npend = 0;
	g->nscopes = 0;
	memset(g->last, 0, sizeof(g->last));
}
