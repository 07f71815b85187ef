/* SPDX-License-Identifier: MIT */
/* A timeline line's call in words: name, fd, arguments, result. */
#include <string.h>

#include "records.h"
#include "sink_text.h"
#include "sockopt.h"
#include "units.h"

#define C_RESET "\033[0m"
#define C_RED	"\033[31m"

static const char *col(const struct st_render *rd, const char *c)
{
	return rd->color ? c : "";
}

/*
 * A string built in a fixed buffer, piece by piece: like a chain of
 * snprintf() calls it keeps what fits and stays NUL-terminated, without
 * printf's cost on the viewer's per-line path.
 */
struct sbuf {
	char *p, *end; /* end: the last byte, kept for the NUL */
};

static struct sbuf sb_init(char *buf, size_t len)
{
	buf[0] = 0;
	return (struct sbuf){ buf, buf + len - 1 };
}

static void sb_mem(struct sbuf *b, const char *s, size_t n)
{
	size_t room = (size_t)(b->end - b->p);

	if (n > room)
		n = room;
	memcpy(b->p, s, n);
	b->p += n;
	*b->p = 0;
}

static void sb_str(struct sbuf *b, const char *s)
{
	if (!s) /* a name table's gap: a damaged record's value */
		s = "?";
	sb_mem(b, s, strlen(s));
}

static void sb_i64(struct sbuf *b, int64_t v)
{
	char t[24];

	sb_mem(b, t, (size_t)(st_put_i64(t, v) - t));
}

/* What the kernel said before a close that decides FIN or RST: unread
 * bytes (when any) and SO_LINGER {1,0}. */
static void close_describe(struct sbuf *sa, uint32_t unread, uint32_t flags)
{
	if ((flags & ST_CLOSE_UNREAD) && unread) {
		sb_str(sa, "unread ");
		sb_i64(sa, unread);
		sb_str(sa, " B");
	}
	if (flags & ST_CLOSE_LINGER0)
		sb_str(sa, (flags & ST_CLOSE_UNREAD) && unread
				   ? ", SO_LINGER {1,0}"
				   : "SO_LINGER {1,0}");
}

/* The arguments of record R as its timeline line shows them, into A
 * (empty when none are shown). */
static void call_args(const struct st_rec *r, char *a, size_t alen)
{
	char b[16];
	struct sbuf sa = { a, a + alen - 1 };

	memset(a, 0, alen);
	switch (r->call) {
	case ST_CALL_connect:
	case ST_CALL_bind:
		st_addr_str(&r->u.connect.addr, a, alen);
		break;
	case ST_CALL_accept:
	case ST_CALL_accept4:
		st_addr_str(&r->u.accept.peer, a, alen);
		if (r->ret >= 0) {
			sa.p = a + strlen(a);
			sb_str(&sa, " (queue ");
			sb_i64(&sa, r->u.accept.queue_len);
			sb_str(&sa, "/");
			sb_i64(&sa, r->u.accept.queue_max);
			sb_str(&sa, ")");
		}
		break;
	case ST_CALL_listen:
		sb_str(&sa, "backlog ");
		sb_i64(&sa, r->u.listen.backlog);
		break;
	case ST_CALL_shutdown:
		sb_str(&sa, r->u.how.how == 0	? "SHUT_RD"
			    : r->u.how.how == 1 ? "SHUT_WR"
						: "SHUT_RDWR");
		break;
	case ST_CALL_setsockopt:
	case ST_CALL_fcntl:
		st_opt_describe(r, a, alen);
		break;
	case ST_CALL_exit_close: {
		/* not a call: the library's word as the process exited */
		char k[64];
		struct sbuf sk = sb_init(k, sizeof(k));
		close_describe(&sk, r->u.close.unread, r->u.close.close_flags);
		sb_str(&sa, "held at exit, ");
		sb_str(&sa, st_tcp_state_name(r->u.close.tcp_state));
		if (k[0]) {
			sb_str(&sa, ", ");
			sb_str(&sa, k);
		}
		break;
	}
	case ST_CALL_close:
	case ST_CALL_fclose:
		close_describe(&sa, r->u.close.unread, r->u.close.close_flags);
		if (r->u.close.close_flags & ST_CLOSE_QUEUE) {
			/* a listener: what its close resets */
			sb_str(&sa, "queue ");
			sb_i64(&sa, r->u.close.queue_len);
			sb_str(&sa, "/");
			sb_i64(&sa, r->u.close.queue_max);
		}
		break;
	case ST_CALL_close_range:
	case ST_CALL_closefrom:
		close_describe(&sa, r->u.range.unread, r->u.range.close_flags);
		break;
	case ST_CALL_getsockopt:
		sb_str(&sa, "SO_ERROR -> ");
		sb_str(&sa, r->u.sockopt.value
				    ? st_errno_name(r->u.sockopt.value, b)
				    : "0");
		break;
	default:
		break;
	}
}

void st_render_describe(const struct st_render *rd, const struct st_ev *e,
			char *buf, size_t len)
{
	const struct st_rec *r = &e->r;
	char a[96], b[16];
	struct sbuf s = sb_init(buf, len);

	call_args(r, a, sizeof(a));
	sb_str(&s, st_call_name[r->call]);
	if (e->count > 1) {
		sb_str(&s, " x");
		sb_i64(&s, e->count);
	}
	sb_str(&s, "(");
	sb_i64(&s, r->fd);
	sb_str(&s, ")");
	if (a[0]) {
		sb_str(&s, " ");
		sb_str(&s, a);
	}
	if (r->flags & ST_REC_ERR) {
		sb_str(&s, " = -1 ");
		sb_str(&s, col(rd, C_RED));
		sb_str(&s, st_errno_name(r->err, b));
		sb_str(&s, col(rd, C_RESET));
	} else if (st_call_dir[r->call] != ST_DIR_NONE) {
		char by[24];
		if (st_rec_eof(r) && st_call_dir[r->call] == ST_DIR_IN) {
			sb_str(&s, " = 0 (EOF)");
		} else if (st_rec_peek(r)) {
			/* seen, still queued: not counted as received */
			st_fmt_bytes(by, sizeof(by),
				     (uint64_t)st_rec_returned(r));
			sb_str(&s, " peeked ");
			sb_str(&s, by);
		} else {
			st_fmt_bytes(by, sizeof(by), e->bytes);
			sb_str(&s, " ");
			sb_str(&s, by);
		}
	} else if (r->call != ST_CALL_close && r->call != ST_CALL_fclose &&
		   r->call != ST_CALL_exit_close) {
		sb_str(&s, " = ");
		sb_i64(&s, r->ret);
	}
}
