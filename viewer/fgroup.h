/* SPDX-License-Identifier: MIT */
/* Findings grouped by kind and scope (listener, peer, process), counted. */
#ifndef ST_VIEWER_FGROUP_H
#define ST_VIEWER_FGROUP_H

#include <stddef.h>

#include "findings.h"
#include "load.h"
#include "out.h"

/* What a group's findings are about. */
enum st_fscope_type { ST_FS_LISTENER, ST_FS_PEER, ST_FS_PROCESS };
extern const char *const st_fscope_name[];

struct st_fscope_key {
	uint64_t id;	     /* listener: its id; process: its trace file */
	struct st_addr addr; /* peer: the client end's peer address */
	uint8_t type;	     /* enum st_fscope_type */
	uint8_t pad[7];	     /* zeroed: the key is hashed whole */
};

/* A scope, and how many connection ends were in it. */
struct st_fscope {
	struct st_fscope_key key;
	UT_hash_handle hh;
	uint64_t conns;
	char name[96]; /* "nginx[12] :8080", "127.0.0.1:80", "curl[7]" */
};

#define ST_FGROUP_EXAMPLES 3

/* One kind of finding in one scope. */
struct st_fgroup {
	struct {
		struct st_fscope_key scope;
		uint32_t kind;
		uint32_t pad;
	} key;
	UT_hash_handle hh;
	struct st_fscope *scope;
	uint64_t count;
	uint64_t ex[ST_FGROUP_EXAMPLES]; /* the first connection ids */
	unsigned nex;
	bool share;    /* about connections: a share of scope->conns */
	uint64_t seq;  /* the first instance's place among all */
	uint64_t last; /* the latest instance's */
	struct st_finding first; /* the first instance, for its words */
};

/* Findings and connections seen, grouped.  A zeroed struct is empty. */
struct st_fgroups {
	struct st_fscope *scopes;
	struct st_fgroup *groups;		  /* in the order first seen */
	struct st_finding pend[2 * ST_JUDGE_MAX]; /* wait for their conn */
	uint64_t pend_seq[2 * ST_JUDGE_MAX];
	size_t npend;
	bool sorted; /* groups put back in the order of their first finding */
	uint64_t findings;
	/* 0, or the most scopes of connection ends kept (live runs for
	 * days): past it, a new scope's findings go to their process's
	 * scope and its connections are not counted */
	unsigned max_scopes;
	unsigned nscopes;
	struct st_fscope *last[3]; /* found last, by enum st_fscope_type */
};

/* Finding F (those about a connection come just before it). */
void st_fgroups_finding(struct st_fgroups *g, const struct st_finding *f,
			const struct st_traceset *set);
/* Connection C and its other end C->other, as handed to a sink. */
void st_fgroups_conn(struct st_fgroups *g, const struct st_conn *c,
		     const struct st_traceset *set);
/* Open end E, judged alone (live): the findings about it just given go
 * to its scope, where it counts as one connection. */
void st_fgroups_open_end(struct st_fgroups *g, const struct st_conn *e,
			 const struct st_traceset *set);
/* "nginx[12] :8080" (or the socket's path) for listener end E, into
 * BUF of LEN; returns BUF. */
const char *st_listener_name(const struct st_conn *e,
			     const struct st_traceset *set, char *buf,
			     size_t len);
/* No more connections: findings still waiting go to their process, and
 * the groups are put in the order of their first findings. */
void st_fgroups_end(struct st_fgroups *g, const struct st_traceset *set);
/*
 * Group G in words, into BUF of LEN: one instance is its own sentence;
 * more are "xN (P% of SCOPE's connections; e.g. ID, ID, ID): gist".
 * The kind's name is not included.  Returns BUF.
 */
const char *st_fgroup_text(const struct st_fgroup *g,
			   const struct st_traceset *set, char *buf,
			   size_t len);
/* {"type":"finding_group",...} for each group, one line each. */
void st_fgroups_json(const struct st_fgroups *g, struct st_out *o,
		     const struct st_traceset *set);
void st_fgroups_free(struct st_fgroups *g);

#endif
