/* SPDX-License-Identifier: MIT */
/* Wrappers that release fds: close, fclose, close_range, closefrom. */
#define _GNU_SOURCE
#include <linux/close_range.h>

#include "internal.h"

/*
 * The fd's table entry is cleared before the real call: once the number
 * is free another thread may get it from socket() and set a new entry.
 * For TCP the state just before closing tells an active close
 * (ESTABLISHED) from a passive one (CLOSE_WAIT).
 */
ST_EXPORT int close(int fd)
{
	struct st__call c;

	if (!st__enter_known(&c, fd)) {
		if (st__fd_get(fd) != ST_FD_UNKNOWN)
			st__fd_set(fd, ST_FD_UNKNOWN);
		return REAL(close)(fd);
	}
	uint32_t state = st__fd_is_tcp(c.word) ? st__tcp_state(fd) : 0;
	st__fd_set(fd, ST_FD_UNKNOWN);
	int ret = REAL(close)(fd);
	int e = errno;
	struct st_rec *r = st__rec(&c, ST_CALL_close, ret, e);
	if (r) {
		r->u.close.tcp_state = state;
		st__publish(&c, r);
	}
	errno = e;
	return ret;
}

ST_EXPORT int fclose(FILE *fp)
{
	struct st__call c;
	int fd = -1;

	if (fp && st__on()) {
		int e = errno;
		fd = fileno(fp);
		errno = e;
	}
	if (fd < 0 || !st__enter_known(&c, fd)) {
		if (fd >= 0 && st__fd_get(fd) != ST_FD_UNKNOWN)
			st__fd_set(fd, ST_FD_UNKNOWN);
		return REAL(fclose)(fp);
	}
	uint32_t state = st__fd_is_tcp(c.word) ? st__tcp_state(fd) : 0;
	st__fd_set(fd, ST_FD_UNKNOWN);
	int ret = REAL(fclose)(fp);
	int e = errno;
	struct st_rec *r = st__rec(&c, ST_CALL_fclose, ret, e);
	if (r) {
		r->u.close.tcp_state = state;
		st__publish(&c, r);
	}
	errno = e;
	return ret;
}

/*
 * Closing a range: one record per socket closed, each on its own
 * connection, so every timeline shows its end.  States are read before
 * the call; records are written after it, when the result is known.
 */
static int close_span(enum st_call call, unsigned first, unsigned last,
		      int flags, bool is_closefrom, int lowfd)
{
	int lim = st__fd_limit();
	int ret, e;

	if (!st__on() || (flags & CLOSE_RANGE_CLOEXEC) || first >= (unsigned)lim) {
		if (is_closefrom) {
			REAL(closefrom)(lowfd);
			return 0;
		}
		return REAL(close_range)(first, last, flags);
	}
	unsigned end = last >= (unsigned)lim ? (unsigned)lim - 1 : last;
	uint64_t ts = st__now();
	/* a short list of the sockets in range, found before closing */
	enum { MAXS = 256 };
	struct {
		int fd;
		uint64_t word;
		uint32_t state;
	} socks[MAXS];
	int n = 0, more = 0;
	for (unsigned fd = first; fd <= end; fd++) {
		uint64_t w = st__fd_get((int)fd);
		if (st__fd_state(w) == ST_FD_SOCK) {
			if (n < MAXS) {
				socks[n].fd = (int)fd;
				socks[n].word = w;
				socks[n].state = st__fd_is_tcp(w)
							 ? st__tcp_state((int)fd)
							 : 0;
				n++;
			} else {
				more++;
			}
		}
		if (w != ST_FD_UNKNOWN)
			st__fd_set((int)fd, ST_FD_UNKNOWN);
	}
	if (is_closefrom) {
		REAL(closefrom)(lowfd);
		ret = 0;
		e = errno;
	} else {
		ret = REAL(close_range)(first, last, flags);
		e = errno;
	}
	for (int i = 0; i < n; i++) {
		struct st__call c = { .ts = ts, .word = socks[i].word,
				      .fd = socks[i].fd };
		struct st_rec *r = st__rec(&c, call, ret, e);
		if (!r)
			continue;
		r->u.range.first = first;
		r->u.range.last = last;
		r->u.range.flags = flags;
		r->u.range.tcp_state = socks[i].state;
		st__publish(&c, r);
	}
	if (more)
		st__debug("close_range: over 256 sockets in range, "
			  "not all recorded",
			  0);
	errno = e;
	return ret;
}

ST_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	return close_span(ST_CALL_close_range, first, last, flags, false, 0);
}

ST_EXPORT void closefrom(int lowfd)
{
	close_span(ST_CALL_closefrom, lowfd < 0 ? 0 : (unsigned)lowfd, ~0U, 0,
		   true, lowfd);
}
