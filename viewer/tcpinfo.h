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

#endif
