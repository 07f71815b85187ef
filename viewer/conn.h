/* SPDX-License-Identifier: MIT */
/* A connection end as the model holds it: kinds, roles, states, timeline. */
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

#include "socktrace/format.h"
#include "sockopt.h"

enum st_kind { ST_KIND_OTHER, ST_KIND_TCP, ST_KIND_UDP, ST_KIND_UNIX };
enum st_role {
	ST_ROLE_NONE,
	ST_ROLE_LISTENER,
	ST_ROLE_CLIENT,
	ST_ROLE_SERVER,
	ST_ROLE_PAIR, /* one end of a socketpair */
};

/* States a timeline shows, in the terms of DESIGN.md's TCP facts. */
#define ST_STATE_TABLE(X) \
	X(NONE)           \
	X(SYN_SENT)       \
	X(ESTABLISHED)    \
	X(LISTEN)         \
	X(FIN_WAIT)       \
	X(TIME_WAIT)      \
	X(CLOSE_WAIT)     \
	X(LAST_ACK)       \
	X(CLOSED)         \
	X(SYN_RECV)
enum st_state {
#define ST__S(n) ST_ST_##n,
	ST_STATE_TABLE(ST__S)
#undef ST__S
		ST_ST__N
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
	int file;	 /* which trace file (process) made it */
	uint32_t count;	 /* calls in the run */
	uint64_t bytes;	 /* bytes moved by the run */
	uint64_t end;	 /* when the run's last call returned */
	/* states this call moved the ends through: st[from..to) of each */
	uint16_t self_from, self_to, other_from, other_to;
};

/*
 * What showed a state, strongest first (DESIGN.md's Evidence): X(name),
 * the JSON "source".  call: the call's own result; kernel: TCP_INFO or
 * the close record's tcp_state; peer: the traced other end's records;
 * inferred: a rule's guess (an untraced peer, TIME_WAIT's 60 s).
 */
#define ST_SRC_TABLE(X) \
	X(call)         \
	X(kernel)       \
	X(peer)         \
	X(inferred)
enum st_src {
#define ST__E(n) ST_SRC_##n,
	ST_SRC_TABLE(ST__E)
#undef ST__E
};
extern const char *const st_src_name[];

struct st_stchange {
	uint8_t state;
	uint64_t ts;
	uint8_t src; /* enum st_src: what showed it (last: { state, ts }
		      * initialisers stay as they were) */
};

/* What ends a connection's life as far as the trace can tell. */
enum st_end {
	ST_END_OPEN,   /* still open when the trace ends, process running */
	ST_END_CLOSED, /* the last fd to it was closed */
	ST_END_EXIT,   /* still open when its process exited (a leak) */
	ST_END_DEATH,  /* still open when its process died (killed) */
};

/* Who sent the RST that ended a connection, seen from one end. */
enum st_rst_by { ST_RST_NONE, ST_RST_LOCAL, ST_RST_PEER };
/* Why it was sent: X(name), the JSON reset_reason. */
#define ST_RST_REASON_TABLE(X) \
	X(none)                \
	X(linger0)             \
	X(unread)              \
	X(data_after_close)    \
	X(peer)                \
	X(exit_unread)
enum st_rst_reason {
#define ST__R(n) ST_RST_##n,
	ST_RST_REASON_TABLE(ST__R)
#undef ST__R
};
extern const char *const st_rst_reason_name[];
/* What showed an end was in CLOSE_WAIT (bits of st_conn.cw_by). */
enum st_cw_by {
	ST_CW_BY_EOF = 1,    /* its read of 0 (the call's result) */
	ST_CW_BY_PEER = 2,   /* the traced peer's close or shutdown */
	ST_CW_BY_KERNEL = 4, /* the close record's tcp_state */
};
/* What the end that received an RST saw of it first. */
enum st_rst_saw { ST_SAW_NOTHING, ST_SAW_ECONNRESET, ST_SAW_EPIPE, ST_SAW_EOF };

/* What TCP_INFO said at an end's close (tcpinfo.c); set: ST_TCPK_* bits
 * for the parts that came (older traces and lost records lack some). */
enum {
	ST_TCPK_FIGS = 1,     /* rtt .. unacked (the close record) */
	ST_TCPK_COUNTERS = 2, /* bytes_* .. sndbuf_limited (tcpinfo record) */
	ST_TCPK_RTO = 4,      /* total_rto, total_rto_time (kernel 6.7+) */
	ST_TCPK_QUEUE = 8,    /* a listener's queue_len, queue_max */
};
struct st_tcpk {
	uint8_t set;
	uint32_t rtt_us, rttvar_us, min_rtt_us, snd_cwnd;
	uint32_t total_retrans, total_rto, total_rto_ms;
	uint32_t notsent_bytes, unacked;
	uint32_t queue_len, queue_max;
	uint64_t bytes_sent, bytes_acked, bytes_received, bytes_retrans;
	uint64_t delivery_rate; /* bytes/s */
	uint64_t busy_us, rwnd_limited_us, sndbuf_limited_us;
};

struct st_conn {
	uint64_t id; /* key: connection id from the trace */
	UT_hash_handle hh;
	/* the id an exec'd image gave the socket it inherited: its records
	 * name this connection by it (st_conntab_alias) */
	uint64_t alias_id;
	UT_hash_handle hh_alias;
	int file; /* the process that made it */
	int fd;
	uint8_t kind, role, state, end;
	bool before_trace;  /* opened before tracing ("seen") */
	bool start_lost;    /* its first records were lost (a ring wrapped) */
	bool before_attach; /* open when socktrace attach started */
	bool hidden;	    /* finished before attach: not to be shown */
	struct st_addr local, peer;
	uint64_t open_ts, close_ts;
	int refs;	      /* fds holding it, in traced processes */
	int end_file, end_fd; /* the last fd to it: who closed or left it */
	int32_t end_child;    /* or an untraced child it was forked to */
	/* closed by a call nobody saw: its fd came back from a new socket,
	 * accept or dup at unseen_ts; close_ts is then its last call's */
	bool closed_unseen;
	uint64_t unseen_ts;

	struct st_ev *ev;
	uint32_t nev, capev;
	uint64_t ev_dropped; /* timeline lines beyond the cap (counted) */
	struct st_stchange *st;
	uint32_t nst, capst;

	uint64_t calls, bytes_in, bytes_out;
	uint64_t last_ts;	     /* when its latest call returned */
	uint16_t last_call;	     /* which call that was (ST_CALL_*) */
	uint64_t connect_ts, est_ts; /* connect started; ESTABLISHED */
	int connect_err;	     /* errno of a failed connect */
	uint64_t connect_fail_ts;    /* when the failure was known */
	/* a SYN was tried (1: a source port was chosen), not (-1: the
	 * route lookup failed first), or unknown (0); connect_async: it
	 * went EINPROGRESS (the failure came later) */
	int8_t connect_syn;
	bool connect_async;
	uint32_t udp_refused;	/* UDP calls failed ECONNREFUSED (ICMP port
				 * unreachable) */
	bool connect_pending;	/* EINPROGRESS, not yet completed */
	bool connect_abandoned; /* closed in SYN_SENT (kernel said) */
	uint64_t accept_ts;	/* server end: accept returned */
	/* server end: accept began; it found the queue empty and waited
	 * (the connection arrived during the call) */
	uint64_t accept_start;
	bool accept_waited;
	uint64_t first_in_ts, first_out_ts;
	uint64_t eof_ts; /* a read returned 0 */
	uint64_t fin_ts; /* this end sent FIN (close or shutdown) */
	bool shut_rd;	 /* shutdown(SHUT_RD): a read of 0 is ours */
	uint8_t cw_by;	 /* CLOSE_WAIT's evidence: enum st_cw_by bits */
	uint32_t close_tcp_state;
	/* the kernel at the closing record: unread bytes, ST_CLOSE_* */
	uint32_t close_unread, close_flags;
	struct st_opts opts; /* options set (setsockopt, F_SETFL) */
	struct st_tcpk tcp;  /* TCP_INFO at its (latest) close */
	/* an RST ended it: who sent it, why, when, what this end saw */
	uint8_t reset_by, reset_reason, reset_saw;
	uint64_t reset_ts;
	int closed_first;      /* 1 this end, -1 the peer, 2 both, 0 unknown */
	bool closed_guess;     /* closed_first 1 rests on an exit time alone */
	uint64_t tw_reused_by; /* the connection whose 4-tuple ended its
				* TIME_WAIT early, or 0 */
	bool bound_port;       /* bind gave it a port of its own */

	/* listeners */
	int32_t backlog, effective_backlog, somaxconn;
	uint32_t max_queue_len, queue_max;
	uint32_t last_queue_len; /* left in the queue by the latest accept */
	uint64_t accepted;
	bool queue_full;
	/* clients whose SYN, or whose final ACK, the full queue dropped
	 * (st_overflow_note, from the clients' ends) */
	uint32_t syn_dropped, ack_dropped;
	uint64_t listener; /* server end: the listener that accepted it */
	bool registered;   /* listener: counted in st_model.lports */
	int32_t join_pid;  /* Unix: the client's pid, which joins the ends */

	struct st_conn *other; /* the joined other end */
	uint64_t accept_wait;  /* server end: time in the accept queue */
	bool awaiting_join;
	bool done, emitted;
	uint8_t live_seen; /* live: what its 10 s window has of it (bits) */
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

#endif
