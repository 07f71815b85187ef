/* SPDX-License-Identifier: MIT */
/* TCP_INFO at close in words, for the outputs that show text. */
#ifndef ST_VIEWER_TCPK_TEXT_H
#define ST_VIEWER_TCPK_TEXT_H

#include <stddef.h>

#include "conn.h"

/* The key figures of K ("rtt 55 us (min 2 us), cwnd 12, ...") into BUF;
 * returns BUF, empty when K holds none. */
const char *st_tcpk_text(const struct st_tcpk *k, char *buf, size_t len);

#endif
