/* SPDX-License-Identifier: MIT */
/* Wrappers that release fds: close, fclose, close_range, closefrom. */
#define _GNU_SOURCE
#include <linux/close_range.h>
#include <string.h>

#include "wrap.h"

/* What the kernel said about a TCP socket just before it was closed:
 * the close record's payload. */
struct at_close {
	struct st_p_close p;
};

/* Fills *K for FD (of word W, closed from TS): all 0 when not TCP. */
static inline void ask_close(struct at_close *k, int fd, uint64_t ts,
			     uint64_t w)
{
	if (st__fd_is_tcp(w))
		st__tcp_close_info(fd, ts, w, &k->p);
	else
		memset(&k->p, 0, sizeof(k->p));
}

/*
 * Starts a traced close of FD, a socket we know, and reads into *K its
 * TCP state (the state just before closing tells an active close,
 * ESTABLISHED, from a passive one, CLOSE_WAIT), its unread bytes and
 * SO_LINGER (either makes close send RST).  Traced or not, the fd's
 * entry is cleared before the real call: once the number is free
 * another thread may get it from socket() and set a new entry.
 */
static inline bool enter_close(struct st__call *c, int fd, struct at_close *k)
{
	if (!st__enter_known(c, fd)) {
		if (st__fd_get(fd) != ST_FD_UNKNOWN)
			st__fd_set(fd, ST_FD_UNKNOWN);
		return false;
	}
	ask_close(k, fd, c->ts, c->word);
	st__fd_set(fd, ST_FD_UNKNOWN);
	return true;
}

static inline void rec_close(struct st__call *c, enum st_call call, int ret,
			     int e, const struct at_close *k)
{
	struct st_rec *r = st__rec(c, call, ret, e);

	if (!r)
		return;
	r->u.close = k->p;
	st__publish(c, r);
}

/* close(2), recorded with what the kernel said before it. */
ST_EXPORT(close) int close(int fd)
{
	struct at_close k;

	ST_WRAP(enter_close(&c, fd, &k), close, (fd),
		rec_close(&c, ST_CALL_close, ret, e, &k));
}

/* syscall(SYS_close, fd), recorded as close is. */
ST_SYSCALL(close)
{
	struct at_close k;

	ST_WRAP(enter_close(&c, (int)a[0], &k), syscall, ST_SC_ARGS,
		rec_close(&c, ST_CALL_close, ret, e, &k));
}

/* The fd of FP, or -1 when not tracing; errno kept. */
static inline int fd_of(FILE *fp)
{
	int fd = -1;

	if (fp && st__on()) {
		int e = errno;
		fd = fileno(fp);
		errno = e;
	}
	return fd;
}

/* fclose(3) on a socket's stream, recorded as close is. */
ST_EXPORT(fclose) int fclose(FILE *fp)
{
	int fd = fd_of(fp);
	struct at_close k;

	ST_WRAP(fd >= 0 && enter_close(&c, fd, &k), fclose, (fp),
		rec_close(&c, ST_CALL_fclose, ret, e, &k));
}

/*
 * Closing a range: one record per socket closed, each on its own
 * connection, so every timeline shows its end.  States are read before
 * the call; records are written after it, when the result is known.
 */
enum { SPAN_MAX = 256 }; /* sockets recorded per call */
struct span {
	unsigned first, last;
	int flags;
	int n, more; /* sockets listed, and those that did not fit */
	struct {
		int fd;
		uint64_t word;
		struct at_close k;
	} socks[SPAN_MAX];
};

/*
 * Starts a traced close of fds FIRST to LAST: lists the sockets among
 * them with their TCP state and clears every entry.  False (pass the
 * call through) when not tracing, for CLOSE_RANGE_CLOEXEC (nothing is
 * closed) and when the table has no entry in range.
 */
static bool enter_span(struct st__call *c, struct span *s, unsigned first,
		       unsigned last, int flags)
{
	int lim = st__fd_limit();

	if (!st__on() || (flags & CLOSE_RANGE_CLOEXEC) ||
	    first >= (unsigned)lim)
		return false;
	unsigned end = last >= (unsigned)lim ? (unsigned)lim - 1 : last;
	c->ts = st__now();
	s->first = first;
	s->last = last;
	s->flags = flags;
	s->n = s->more = 0;
	for (unsigned fd = first; fd <= end; fd++) {
		uint64_t w = st__fd_get((int)fd);
		if (st__fd_state(w) == ST_FD_SOCK && s->n < SPAN_MAX) {
			s->socks[s->n].fd = (int)fd;
			s->socks[s->n].word = w;
			ask_close(&s->socks[s->n].k, (int)fd, c->ts, w);
			s->n++;
		} else if (st__fd_state(w) == ST_FD_SOCK) {
			s->more++;
		}
		if (w != ST_FD_UNKNOWN)
			st__fd_set((int)fd, ST_FD_UNKNOWN);
	}
	return true;
}

/* Records each socket of S closed by CALL, which returned RET, errno E. */
static void rec_span(struct st__call *c, const struct span *s,
		     enum st_call call, int ret, int e)
{
	for (int i = 0; i < s->n; i++) {
		struct st__call k = { .ts = c->ts,
				      .word = s->socks[i].word,
				      .fd = s->socks[i].fd };
		struct st_rec *r = st__rec(&k, call, ret, e);
		if (!r)
			continue;
		r->u.range.first = s->first;
		r->u.range.last = s->last;
		r->u.range.flags = s->flags;
		const struct st_p_close *p = &s->socks[i].k.p;
#define CP(type, name) r->u.range.name = p->name;
		ST_SHAPE_close(CP)
#undef CP
			st__publish(&k, r);
	}
	if (s->more)
		st__debug("close_range: over 256 sockets in range, "
			  "not all recorded",
			  0);
}

/* close_range(2): one record per socket in the range. */
ST_EXPORT(close_range) int close_range(unsigned first, unsigned last, int flags)
{
	struct span s;

	ST_WRAP(enter_span(&c, &s, first, last, flags), close_range,
		(first, last, flags),
		rec_span(&c, &s, ST_CALL_close_range, ret, e));
}

/* closefrom(3), as close_range(LOWFD, ~0U, 0); it returns nothing, so
 * ST_WRAP's shape is written out. */
ST_EXPORT(closefrom) void closefrom(int lowfd)
{
	struct st__call c;
	struct span s;

	if (!enter_span(&c, &s, lowfd < 0 ? 0 : (unsigned)lowfd, ~0U, 0)) {
		REAL(closefrom)(lowfd);
		return;
	}
	REAL(closefrom)(lowfd);
	int e = errno;
	rec_span(&c, &s, ST_CALL_closefrom, 0, e);
	errno = e;
}

/* syscall(SYS_close_range, first, last, flags), as close_range. */
ST_SYSCALL(close_range)
{
	struct span s;

	ST_WRAP(enter_span(&c, &s, (unsigned)a[0], (unsigned)a[1], (int)a[2]),
		syscall, ST_SC_ARGS,
		rec_span(&c, &s, ST_CALL_close_range, ret, e));
}
