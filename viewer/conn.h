/* SPDX-License-Identifier: MIT */
/* Connections: records grouped per socket, ends joined, TCP states inferred. */
#ifndef ST_VIEWER_CONN_H
#define ST_VIEWER_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/*
 * uthash's hash: keys here are ids, (file, fd) pairs and addresses, a few
 * 8-byte words each; a multiply-xorshift per word costs a fraction of the
 * default (Jenkins) hash, which was a tenth of the viewer's time.
 */
static inline unsigned st__hash(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = len * 0x9e3779b97f4a7c15ull, w;

	for (; len >= 8; len -= 8, p += 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
		h ^= h >> 31;
	}
	for (; len; len--, p++)
		h = (h ^ *p) * 0x94d049bb133111ebull;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return (unsigned)h;
}
#define HASH_FUNCTION(keyptr, keylen, hashv) \
	((hashv) = st__hash((keyptr), (keylen)))
#include <uthash.h>

#include "load.h"

enum st_kind { ST_KIND_OTHER, ST_KIND_TCP, ST_KIND_UDP, ST_KIND_UNIX };
enum st_role {
	ST_ROLE_NONE,
	ST_ROLE_LISTENER,
	ST_ROLE_CLIENT,
	ST_ROLE_SERVER,
	ST_ROLE_PAIR, /* one end of a socketpair */
};

/* States a timeline shows, in the terms of DESIGN.md's TCP facts. */
#define ST_STATE_TABLE(X)                                               \
	X(NONE) X(SYN_SENT) X(ESTABLISHED) X(LISTEN) X(FIN_WAIT)       \
	X(TIME_WAIT) X(CLOSE_WAIT) X(LAST_ACK) X(CLOSED)
enum st_state {
#define ST__S(n) ST_ST_##n,
	ST_STATE_TABLE(ST__S)
#undef ST__S
};
extern const char *const st_state_name[];
extern const unsigned char st_state_name_len[];
/* TIME_WAIT lasts 2*MSL: 60 s on Linux (TCP_TIMEWAIT_LEN). */
#define ST_TIME_WAIT_NS (60ull * 1000000000ull)
extern const char *const st_kind_name[];
extern const char *const st_role_name[];

/* One line of a timeline: a call, or a run of like data calls. */
struct st_ev {
	struct st_rec r; /* the (first) call */
	int file;        /* which trace file (process) made it */
	uint32_t count;  /* calls in the run */
	uint64_t bytes;  /* bytes moved by the run */
	uint64_t end;    /* when the run's last call returned */
	/* states this call moved the ends through: st[from..to) of each */
	uint16_t self_from, self_to, other_from, other_to;
};

struct st_stchange {
	uint8_t state;
	uint64_t ts;
};

/* What ends a connection's life as far as the trace can tell. */
enum st_end {
	ST_END_OPEN,   /* still open when the trace ends, process running */
	ST_END_CLOSED, /* the last fd to it was closed */
	ST_END_EXIT,   /* still open when its process exited (a leak) */
	ST_END_DEATH,  /* still open when its process died (killed) */
};

struct st_conn {
	uint64_t id; /* key: connection id from the trace */
	UT_hash_handle hh;
	int file; /* the process that made it */
	int fd;
	uint8_t kind, role, state, end;
	bool before_trace;  /* opened before tracing ("seen") */
	bool before_attach; /* open when socktrace attach started */
	bool hidden;        /* finished before attach: not to be shown */
	struct st_addr local, peer;
	uint64_t open_ts, close_ts;
	int refs; /* fds holding it, in traced processes */
	int end_file, end_fd; /* the last fd to it: who closed or left it */

	struct st_ev *ev;
	uint32_t nev, capev;
	uint64_t ev_dropped; /* timeline lines beyond the cap (counted) */
	struct st_stchange *st;
	uint32_t nst, capst;

	uint64_t calls, bytes_in, bytes_out;
	uint64_t last_ts;   /* when its latest call returned */
	uint16_t last_call; /* which call that was (ST_CALL_*) */
	uint64_t connect_ts, est_ts; /* connect started; ESTABLISHED */
	int connect_err;             /* errno of a failed connect */
	bool connect_pending;        /* EINPROGRESS, not yet completed */
	uint64_t accept_ts;          /* server end: accept returned */
	uint64_t first_in_ts, first_out_ts;
	uint64_t eof_ts;       /* a read returned 0 */
	uint64_t fin_ts;       /* this end sent FIN (close or shutdown) */
	uint32_t close_tcp_state;
	int closed_first; /* 1 this end, -1 the peer, 0 unknown */

	/* listeners */
	int32_t backlog, effective_backlog, somaxconn;
	uint32_t max_queue_len, queue_max;
	uint32_t last_queue_len; /* left in the queue by the latest accept */
	uint64_t accepted;
	bool queue_full;
	uint64_t listener; /* server end: the listener that accepted it */
	bool registered;   /* listener: counted in st_model.lports */
	int32_t join_pid;  /* Unix: the client's pid, which joins the ends */

	struct st_conn *other; /* the joined other end */
	uint64_t accept_wait;  /* server end: time in the accept queue */
	bool awaiting_join;
	bool done, emitted;
};

/* A finding: a problem the trace shows, explained. */
struct st_finding {
	const char *kind;
	uint64_t conn; /* 0 when about a process */
	int file;
	char message[512];
};

struct st_model;
typedef void (*st_emit_fn)(struct st_model *m, struct st_conn *c, void *arg);
typedef void (*st_finding_fn)(struct st_model *m, const struct st_finding *f,
			      void *arg);

struct st_model {
	struct st_traceset *set;
	struct st_conn *conns;   /* open or waiting: uthash by id */
	struct st_tuple *tuples; /* client ends by 4-tuple, for joining */
	struct st_fdref *fds;    /* (file, fd) -> connection */
	struct st_lport *lports; /* where listeners are: a join is due */
	st_emit_fn emit;
	st_finding_fn finding;
	void *arg;
	uint64_t t0;  /* first record's time */
	uint64_t now; /* latest record's end time */
	uint32_t ev_cap; /* timeline lines kept per connection */
	bool finishing;         /* st_model_finish: emit what fds hold */
	struct st_conn **ready; /* finished, to be emitted */
	uint32_t nready, capready;
	int *exits; /* files that exited, by exit time: ended in order */
	int nexits, next_exit;
	bool *ended; /* by file: its exit has been handled */
	int nfiles;  /* files ended[] and exits[] have room for */
	bool set_changed;
	/* freed objects kept for reuse, a list per kind: the model makes and
	 * drops several per connection, and malloc showed in profiles */
	void *spare_conn, *spare_fd, *spare_tuple, *spare_waiter;
};

/* A connection as shown: *C and its other end *O (or NULL), a joined
 * client and server read from the client's side. */
static inline void st_conn_ends(struct st_conn **c, struct st_conn **o)
{
	*o = (*c)->other;
	if (*o && (*c)->role == ST_ROLE_SERVER &&
	    (*o)->role == ST_ROLE_CLIENT) {
		struct st_conn *t = *c;
		*c = *o;
		*o = t;
	}
}

int st_model_init(struct st_model *m, struct st_traceset *set,
		  st_emit_fn emit, st_finding_fn finding, void *arg);
/* Feeds one record (in st_merge order) of file FILE. */
void st_model_add(struct st_model *m, const struct st_rec *r, int file);
/*
 * Attach starts here: what came before was history.  Open connections
 * are marked as opened before attach, keep their state and addresses
 * and start their timelines afresh; finished ones are hidden.
 */
void st_model_mark_attach(struct st_model *m);
/* The set's files were refreshed or added to (live following): exit
 * times are looked at again. */
void st_model_set_changed(struct st_model *m);
/*
 * Live following: ends the processes that are gone (exited, replaced by
 * exec, or died without a word, then at NOW, when that was noticed), so
 * their connections end too.  Call it after the records written so far
 * were fed.
 */
void st_model_reap(struct st_model *m, uint64_t now);
/*
 * The connections not emitted yet, in no order: open ones, and finished
 * ends waiting for their other end.  The first for C NULL, then the one
 * after C; NULL at the end.  Valid until the next st_model_* call that
 * feeds or ends anything.
 */
struct st_conn *st_model_open_next(const struct st_model *m,
				   const struct st_conn *c);
/*
 * Findings that already hold for C while it is open (a CLOSE_WAIT that
 * lasts until NOW, a clipped backlog, a full accept queue...), passed to
 * FN; a connection is judged again, for good, when it is emitted.
 */
void st_model_judge_open(struct st_model *m, struct st_conn *c, uint64_t now,
			 st_finding_fn fn, void *arg);
/* The trace is over: ends processes, emits what is left, reports loss. */
void st_model_finish(struct st_model *m);
/* Frees a connection after it was emitted (emit callbacks may keep it). */
void st_conn_free(struct st_model *m, struct st_conn *c);
void st_model_free(struct st_model *m);

#endif
