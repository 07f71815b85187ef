/* SPDX-License-Identifier: MIT */
/* Findings: the problems a trace shows, as data (kind, scope, figures). */
#ifndef ST_VIEWER_FINDINGS_H
#define ST_VIEWER_FINDINGS_H

#include "conn.h"

/*
 * The finding kinds: X(name, scope).  The name is what the outputs show
 * and the JSON "kind"; the scope says what a finding is about.  Words
 * are the outputs' job (finding_text.c); a finding carries figures.
 */
#define ST_FINDING_TABLE(X)        \
	X(connect_failed, CONN)    \
	X(close_wait, CONN)        \
	X(server_time_wait, CONN)  \
	X(fd_leak, CONN)           \
	X(backlog_clipped, CONN)   \
	X(accept_queue_full, CONN) \
	X(lost_records, PROCESS)   \
	X(reset, CONN)             \
	X(udp_refused, CONN)       \
	X(retransmits, CONN)       \
	X(window_limited, CONN)

/* the table expands inside the braces: clang-format would indent it */
/* clang-format off */
enum st_finding_kind {
#define ST__F(name, scope) ST_F_##name,
	ST_FINDING_TABLE(ST__F)
#undef ST__F
	ST_F__N
};
/* clang-format on */
enum st_scope { ST_SCOPE_CONN, ST_SCOPE_PROCESS };
extern const char *const st_finding_name[];
extern const unsigned char st_finding_scope[];

/* Which of its three causes likely made a connect unreachable
 * (EHOSTUNREACH, ENETUNREACH): connect_failed's figure.  X(name), the
 * finding's JSON "cause". */
#define ST_UNREACH_TABLE(X) \
	X(none)             \
	X(route)            \
	X(neighbour)        \
	X(icmp)
enum st_unreach {
#define ST__U(n) ST_UNREACH_##n,
	ST_UNREACH_TABLE(ST__U)
#undef ST__U
};
extern const char *const st_unreach_name[];
/* An unreachable connect that failed after this long had no answer to
 * ARP/ND (3 solicitations 1 s apart by default); sooner, an ICMP. */
#define ST_NEIGH_FAIL_NS (2500000000ull)
/* Failed in the call this fast with no port recorded: the route. */
#define ST_ROUTE_FAIL_NS (1000000ull)

/* How a CLOSE_WAIT ended (close_wait's figure). */
enum st_cw {
	ST_CW_CLOSED_LATE, /* closed, NS after the EOF */
	ST_CW_OPEN,	   /* still open NS after the EOF */
	ST_CW_NEVER,	   /* its process ended without closing it */
};

struct st_finding {
	uint8_t kind;  /* enum st_finding_kind */
	uint8_t scope; /* enum st_scope */
	uint64_t conn; /* the connection (0 when about a process) */
	int file;      /* the process (trace file) it is about */
	/* figures; which ones a kind sets is said beside each */
	int err;	     /* connect_failed: the errno */
	struct st_addr peer; /* connect_failed: where it connected */
	uint8_t cw;	     /* close_wait: enum st_cw */
	uint64_t ns;	     /* close_wait: EOF to close, or to now;
			      * fd_leak: last use to the exit */
	uint8_t cw_by;	     /* close_wait: its evidence, enum st_cw_by */
	uint8_t role;	     /* server_time_wait: the end's role */
	/* server_time_wait: its TIME_WAIT is a guess (the client is not
	 * traced: an RST from it after the FINs would end it at once) */
	bool guess;
	int fd;		    /* fd_leak: the fd left open */
	int32_t backlog;    /* backlog_clipped: asked for */
	int32_t effective;  /* backlog_clipped: got */
	int32_t somaxconn;  /* backlog_clipped: the cap */
	uint32_t queue_max; /* accept_queue_full: the queue's limit */
	/* accept_queue_full: connections queued when the listener closed
	 * (the kernel's count then), when that is what showed it */
	uint32_t queue_len;
	bool at_close;
	/* accept_queue_full: traced clients whose SYN the full queue
	 * dropped (they sat in SYN_SENT and retried), and whose final ACK
	 * it dropped (they believed they were connected; their requests
	 * were sent again) */
	uint32_t syn_dropped, ack_dropped;
	/* reset: why (enum st_rst_reason), by this end (else its peer),
	 * what the other end saw (enum st_rst_saw), unread bytes */
	uint8_t reason, saw;
	bool by_local;
	uint32_t unread;
	/* connect_failed with err 0: abandoned in SYN_SENT after ns;
	 * with an error: its failure came ns after the connect began,
	 * and an unreachable one's likely cause (enum st_unreach) */
	uint8_t cause;
	uint32_t count; /* udp_refused: calls that failed so (err, peer) */
	/* retransmits: segments and bytes retransmitted of bytes sent;
	 * RTOs and their time (rto_known: the kernel counts them, 6.7+) */
	uint32_t retrans, rtos;
	uint64_t bytes_retrans, bytes_sent, rto_ns;
	bool rto_known;
	/* window_limited: by the peer's receive window (rwnd) or its own
	 * send buffer; limited_ns of busy_ns sending */
	bool rwnd;
	uint64_t limited_ns, busy_ns;
};

/* window_limited: a sender limited this share (%) of its busy time, */
#define ST_WINDOW_LIMITED_PCT 50
/* and at least this long (a short transfer is not worth tuning for). */
#define ST_WINDOW_LIMITED_NS (100000000ull)

/* An EOF not followed by close within this long is a CLOSE_WAIT finding. */
#define ST_CLOSE_WAIT_NS (1000000000ull)
/* A socket left unused this long before a clean exit that closed it is a
 * leak (fd_leak); closed by the exit sooner, it is fine. */
#define ST_LEAK_IDLE_NS (60000000000ull)
/* Findings one end can give at most (one per connection kind). */
#define ST_JUDGE_MAX 10

/*
 * The findings about end C, into OUT; returns how many.  A finished end
 * is judged for good; an OPEN one as it stands at NOW (a CLOSE_WAIT that
 * lasts, a clipped backlog), judged again when it finishes.
 */
int st_judge(const struct st_conn *c, uint64_t now, bool open,
	     struct st_finding out[ST_JUDGE_MAX]);
/* A connect's first SYN retransmission comes this long after it
 * (TCP_TIMEOUT_INIT): a connect that took longer had its SYN dropped. */
#define ST_SYN_RTO_NS (1000000000ull)
/* Client end CL, finished, connected to listener LIS (NULL: none
 * traced): counts it in LIS's syn_dropped when its SYN went unanswered
 * (abandoned in SYN_SENT, or connected only after a SYN retransmission)
 * or ack_dropped when it connected at once but the kernel retransmitted
 * its data (the final ACK and what followed found the queue full). */
void st_overflow_note(struct st_conn *lis, const struct st_conn *cl);
/* lost_records about trace file FILE. */
struct st_finding st_finding_lost(int file);

#endif
