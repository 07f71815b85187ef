/* SPDX-License-Identifier: MIT */
/* TCP_INFO at close: the kernel's figures kept per connection end. */
#ifndef ST_VIEWER_TCPINFO_H
#define ST_VIEWER_TCPINFO_H

#include "conn.h"

/* Keeps the TCP_INFO figures of close record R (close, fclose,
 * close_range, closefrom) in *K, as far as its close_flags has them. */
void st_tcpk_close(struct st_tcpk *k, const struct st_rec *r);
/* Keeps the counters of tcpinfo record R in *K. */
void st_tcpk_counters(struct st_tcpk *k, const struct st_rec *r);

/*
 * A trace of the ptrace mode, whose data calls were not traced: the
 * bytes of end C from TCP_INFO's counters, as close record R found
 * them.  Out: the data bytes sent once (bytes_sent less bytes_retrans).
 * In: bytes_received less the peer's FIN when R's state shows one came
 * (after an RST, CLOSE is taken as a FIN having come: one byte fewer
 * than arrived if none did).
 */
void st_tcpk_bytes(struct st_conn *c, const struct st_rec *r);

#endif
