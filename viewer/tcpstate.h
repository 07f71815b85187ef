/* SPDX-License-Identifier: MIT */
/* The TCP state rules: what each call (and the peer's) moves an end to. */
#ifndef ST_VIEWER_TCPSTATE_H
#define ST_VIEWER_TCPSTATE_H

#include "conn.h"

/*
 * Each rule takes the end a record is about (and its joined other end,
 * c->other, when both were traced) and moves them through the states
 * of DESIGN.md's TCP facts, appending to their state lists.  The rules
 * only look at the connection ends: they are tested on hand-built ends
 * and records (tests/test_tcpstate.c).
 */

/* C is in state S from TS on (nothing if it already is), as SRC (enum
 * st_src) showed: every rule says which evidence it used. */
void st_tcp_set(struct st_conn *c, uint8_t s, uint64_t ts, uint8_t src);
/* The handshake completed for C at TS (connect or accept returned: the
 * call's own result). */
void st_tcp_established(struct st_conn *c, uint64_t ts);
/* Our state for a state the kernel reported (TCP_* of TCP_INFO). */
uint8_t st_tcp_from_kernel(uint32_t tcp_state);

/* Listener L's accept queue as accept R found it (the kernel's word). */
void st_tcp_accept_queue(struct st_conn *l, const struct st_rec *r);

/* connect R on TCP end C: SYN_SENT, then ESTABLISHED, pending or failed. */
void st_tcp_connect(struct st_conn *c, const struct st_rec *r);
/* getsockopt R on C: SO_ERROR completes a pending connect either way. */
void st_tcp_sockopt(struct st_conn *c, const struct st_rec *r);
/* A successful data call R on C that returned at END: a pending connect
 * completed; a read of 0 is the peer's FIN. */
void st_tcp_data(struct st_conn *c, const struct st_rec *r, uint64_t end);
/* A failed data call R on C that returned at END: ECONNRESET, and EPIPE
 * on a write this end had not shut down, are the peer's RST. */
void st_tcp_data_err(struct st_conn *c, const struct st_rec *r, uint64_t end);
/* An RST ended C and its traced other end at TS: sent by C's side when BY
 * is ST_RST_LOCAL, by the peer's when ST_RST_PEER, for REASON, as SRC
 * showed (the other end's CLOSED is the peer's word).  No FIN_WAIT,
 * CLOSE_WAIT, LAST_ACK or TIME_WAIT after it on either end. */
void st_tcp_reset(struct st_conn *c, uint8_t by, uint8_t reason, uint64_t ts,
		  uint8_t src);
/* How C's connection ended: "fin", "rst", or NULL when not known. */
const char *st_tcp_close_how(const struct st_conn *c);
/* shutdown R on C, returned at END: SHUT_WR sends our FIN. */
void st_tcp_shutdown(struct st_conn *c, const struct st_rec *r, uint64_t end);
/* The kernel's word in close record R (state, unread bytes, SO_LINGER)
 * as C's close-time evidence: only for the close of its last fd. */
void st_tcp_close_record(struct st_conn *c, const struct st_rec *r);
/* The last fd to C went at TS, as END (enum st_end) says: the FIN, who
 * closed first, FIN_WAIT/TIME_WAIT or LAST_ACK, on both ends. */
void st_tcp_closed(struct st_conn *c, uint64_t ts, uint8_t end);
/* Client end CL and server end SRV were just joined: the accept-queue
 * wait, and a FIN the client sent while it was queued. */
void st_tcp_joined(struct st_conn *cl, struct st_conn *srv);
/* C and its joined other end are finished: the states the peer's
 * segments caused (the server's SYN_RECV and ESTABLISHED, CLOSE_WAIT,
 * TIME_WAIT, LAST_ACK's CLOSED), which the peer's call showed when the
 * segment left, move to when it arrived, half the kernel's min_rtt
 * later, marked inferred (a read of 0 that came sooner: call).  The
 * accept-queue wait is then measured from the final ACK's arrival. */
void st_tcp_arrivals(struct st_conn *c);
/* C, in TIME_WAIT, saw connection BY take its 4-tuple at TS (shown as
 * SRC says): the kernel ended the TIME_WAIT then, not 60 s on. */
void st_tcp_tw_reused(struct st_conn *c, uint64_t ts, uint8_t src, uint64_t by);
/* C is finished and its peer was not traced: an active closer in
 * FIN_WAIT is assumed to get the peer's FIN and TIME_WAIT at its close,
 * a guess (inferred), shown as one. */
void st_tcp_untraced_peer(struct st_conn *c);
/* C was found open with TCP_INFO state TCP_STATE at TS (role known):
 * what it is now. */
void st_tcp_seen(struct st_conn *c, uint32_t tcp_state, uint64_t ts);

#endif
