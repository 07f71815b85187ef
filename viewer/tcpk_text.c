/* SPDX-License-Identifier: MIT */
/* TCP_INFO at close in words, for the outputs that show text. */
#include <stdio.h>

#include "tcpk_text.h"
#include "units.h"

/* Appends to BUF (*N bytes used of LEN) what FMT makes of A and B. */
static void cat(char *buf, size_t len, size_t *n, const char *fmt,
		const char *a, const char *b)
{
	if (*n < len)
		*n += (size_t)snprintf(buf + *n, len - *n, fmt, a, b);
}

/* "busy 4 ms (rwnd-limited 100%, sndbuf-limited 0%)", of K's counters. */
static void busy(const struct st_tcpk *k, char *buf, size_t len, size_t *n)
{
	char b[32], r[16], s[16];

	st_fmt_dur(b, sizeof(b), k->busy_us * 1000);
	snprintf(r, sizeof(r), "%.0f%%",
		 k->busy_us ? 100.0 * k->rwnd_limited_us / k->busy_us : 0.0);
	snprintf(s, sizeof(s), "%.0f%%",
		 k->busy_us ? 100.0 * k->sndbuf_limited_us / k->busy_us : 0.0);
	cat(buf, len, n, ", busy sending %s", b, "");
	cat(buf, len, n, " (rwnd-limited %s, sndbuf-limited %s)", r, s);
}

const char *st_tcpk_text(const struct st_tcpk *k, char *buf, size_t len)
{
	char a[32], b[32];
	size_t n = 0;

	buf[0] = 0;
	if (k->set & ST_TCPK_FIGS) {
		st_fmt_dur(a, sizeof(a), (uint64_t)k->rtt_us * 1000);
		st_fmt_dur(b, sizeof(b), (uint64_t)k->min_rtt_us * 1000);
		cat(buf, len, &n, "rtt %s (min %s)", a, b);
		snprintf(a, sizeof(a), "%u", k->snd_cwnd);
		snprintf(b, sizeof(b), "%u", k->total_retrans);
		cat(buf, len, &n, ", cwnd %s, retransmitted %s", a, b);
	}
	if (k->set & ST_TCPK_COUNTERS) {
		st_fmt_bytes(a, sizeof(a), k->bytes_retrans);
		cat(buf, len, &n, n ? " (%s)" : "retransmitted %s", a, "");
		st_fmt_bytes(a, sizeof(a), k->bytes_acked);
		st_fmt_bytes(b, sizeof(b), k->bytes_received);
		cat(buf, len, &n, ", acked %s, received %s", a, b);
		if (k->busy_us)
			busy(k, buf, len, &n);
	}
	if ((k->set & ST_TCPK_RTO) && k->total_rto) {
		snprintf(a, sizeof(a), "%u", k->total_rto);
		st_fmt_dur(b, sizeof(b), (uint64_t)k->total_rto_ms * 1000000);
		cat(buf, len, &n, ", %s RTOs (%s)", a, b);
	}
	if ((k->set & ST_TCPK_FIGS) && (k->unacked || k->notsent_bytes)) {
		snprintf(a, sizeof(a), "%u", k->unacked);
		st_fmt_bytes(b, sizeof(b), k->notsent_bytes);
		cat(buf, len, &n, ", %s segments unacked, %s unsent", a, b);
	}
	return buf;
}
