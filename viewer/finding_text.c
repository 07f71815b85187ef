/* SPDX-License-Identifier: MIT */
/* Findings in words, for the outputs that show them as text. */
#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>

#include "finding_text.h"
#include "records.h"
#include "units.h"

/* What a failed connect's errno means on the wire. */
static const char *connect_why(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return "nothing listens there: the peer answered the SYN "
		       "with RST";
	case ETIMEDOUT:
		return "no answer to the SYN: a host or firewall drops it, "
		       "or the server's accept queue is full";
	case ENETUNREACH:
	case EHOSTUNREACH:
		return "no route to the peer";
	default:
		return "the handshake did not complete";
	}
}

/* What a failed connect's errno means for a Unix socket: a path, no
 * SYN and no handshake. */
static const char *unix_connect_why(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return "nothing listens there: the socket file exists but no "
		       "process listens on it (a stale file?)";
	case ENOENT:
		return "no socket file at that path";
	case EAGAIN:
		return "the listener's backlog was full (a non-blocking "
		       "connect to a Unix socket does not wait)";
	case EACCES:
	case EPERM:
		return "no permission to write the socket file or to search "
		       "its directory";
	case EPROTOTYPE:
		return "the socket there is of another type (stream or "
		       "datagram)";
	default:
		return "the listener did not take the connection";
	}
}

/* Why an unreachable connect failed, by its likely cause. */
static const char *unreach_why(const struct st_finding *f)
{
	switch (f->cause) {
	case ST_UNREACH_route:
		return "likely the local routing table: the route lookup "
		       "failed in the call, before any SYN was sent (an "
		       "unreachable or missing route; see ip route get)";
	case ST_UNREACH_neighbour:
		return "likely no answer to ARP/ND for the host: the kernel "
		       "gives up after 3 tries 1 s apart, here or at the last "
		       "router (which then sends ICMP host unreachable); is "
		       "the host up and on that subnet?";
	default:
		return "likely an ICMP unreachable: a router or a firewall "
		       "(a reject rule) answered the SYN; its duration is a "
		       "round trip or a SYN retransmission, not ARP's 3 s";
	}
}

/* ": a connect gives up after N SYN retransmissions, about T s here",
 * from the trace's net.ipv4.tcp_syn_retries (empty when not recorded):
 * the first retransmission after 1 s, each next one after twice the
 * wait (the kernel's exponential backoff from TCP_TIMEOUT_INIT). */
static void syn_limit(const struct st_trace *t, char *w, size_t len)
{
	int n = t->hdr.tcp_syn_retries;

	w[0] = 0;
	if (t->hdr.version < 4 || n < 0 || n > 30)
		return;
	snprintf(w, len,
		 "; SYN_SENT lasts at most %d SYN retransmission%s, about "
		 "%lu s here (tcp_syn_retries)",
		 n, st_plural((uint64_t)n), (2ul << n) - 1);
}

static void connect_failed(const struct st_finding *f, const struct st_trace *t,
			   const char *p, const char *id, char *buf, size_t len)
{
	char a[64], b[16], d[32], r[128];

	st_addr_str(&f->peer, a, sizeof(a));
	syn_limit(t, r, sizeof(r));
	if (!f->err) {
		snprintf(buf, len,
			 "%s connection %s: connect to %s abandoned after "
			 "%.1f s in SYN_SENT (no SYN+ACK came back; the "
			 "kernel's state at close says SYN_SENT)%s",
			 p, id, a[0] ? a : "?", f->ns / 1e9, r);
		return;
	}
	if (f->cause) {
		st_fmt_dur(d, sizeof(d), f->ns);
		snprintf(buf, len,
			 "%s connection %s: connect to %s failed with %s after "
			 "%s (%s)",
			 p, id, a[0] ? a : "?", st_errno_name(f->err, b), d,
			 unreach_why(f));
		return;
	}
	snprintf(buf, len,
		 "%s connection %s: connect to %s failed with %s (%s%s)", p, id,
		 a[0] ? a : "?", st_errno_name(f->err, b),
		 f->peer.family == AF_UNIX ? unix_connect_why(f->err)
					   : connect_why(f->err),
		 f->err == ETIMEDOUT ? r : "");
}

/* A connected UDP socket's call failed with ECONNREFUSED. */
static void udp_refused(const struct st_finding *f, const char *p,
			const char *id, char *buf, size_t len)
{
	char a[64];

	st_addr_str(&f->peer, a, sizeof(a));
	snprintf(buf, len,
		 "%s UDP connection %s: %u call%s failed with ECONNREFUSED: "
		 "%s answered an earlier datagram with ICMP port unreachable "
		 "(nothing listens on that UDP port, or a firewall rejects "
		 "it); the error comes on the socket's next send or recv",
		 p, id, f->count, st_plural(f->count), a[0] ? a : "the peer");
}

static void close_wait(const struct st_finding *f, const char *p,
		       const char *id, char *buf, size_t len)
{
	char how[64];

	if (f->cw == ST_CW_CLOSED_LATE)
		snprintf(how, sizeof(how), "closed it only %.1f s later",
			 f->ns / 1e9);
	else if (f->cw == ST_CW_OPEN)
		snprintf(how, sizeof(how), "has not closed it for %.1f s",
			 f->ns / 1e9);
	else
		snprintf(how, sizeof(how), "never closed it");
	if (!(f->cw_by & ST_CW_BY_EOF)) {
		snprintf(buf, len,
			 "%s connection %s was in CLOSE_WAIT (the peer closed; "
			 "shown by %s; it never read EOF) and %s: the socket "
			 "sits in CLOSE_WAIT until the program closes it",
			 p, id,
			 f->cw_by == ST_CW_BY_PEER ? "the traced peer's close"
			 : f->cw_by == ST_CW_BY_KERNEL
				 ? "the kernel's state at its close"
				 : "the traced peer's close and the kernel's "
				   "state at its close",
			 how);
		return;
	}
	snprintf(buf, len,
		 "%s connection %s read EOF (the peer closed) but %s: the "
		 "socket sits in CLOSE_WAIT until the program closes it; many "
		 "of these mean it forgets to close",
		 p, id, how);
}

/* Why an RST was sent, in words (into W). */
static void reset_why(const struct st_finding *f, char *w, size_t len)
{
	switch (f->reason) {
	case ST_RST_linger0:
		snprintf(w, len, "SO_LINGER {1,0} made its close abortive");
		break;
	case ST_RST_unread:
		snprintf(w, len,
			 "it closed with %u byte%s it never read in its "
			 "receive queue (the kernel's count at close)",
			 f->unread, st_plural(f->unread));
		break;
	case ST_RST_data_after_close:
		snprintf(w, len,
			 "data arrived after it had closed (the peer wrote "
			 "to a closed socket)");
		break;
	case ST_RST_exit_unread:
		snprintf(w, len,
			 "its process exited with bytes the traced peer "
			 "sent still unread");
		break;
	case ST_RST_peer:
		snprintf(w, len, "why is not known: the peer is not traced");
		break;
	default:
		snprintf(w, len, "why the trace does not show");
	}
}

static void reset_text(const struct st_finding *f, const char *p,
		       const char *id, char *buf, size_t len)
{
	static const char *const saw[] = {
		"no call of it noticed", "ECONNRESET",
		"EPIPE on a write (SIGPIPE unless ignored)",
		"a read of 0, which looks like EOF but was the RST"
	};
	char w[160];

	reset_why(f, w, sizeof(w));
	snprintf(buf, len,
		 "%s %s connection %s was reset (RST, no FIN exchange) by "
		 "%s: %s; the other side saw %s. No FIN_WAIT, CLOSE_WAIT or "
		 "TIME_WAIT follows an RST",
		 p, st_role_name[f->role], id,
		 f->by_local ? "this end" : "the peer", w,
		 f->saw < 4 ? saw[f->saw] : "?");
}

static void retransmits(const struct st_finding *f, const char *p,
			const char *id, char *buf, size_t len)
{
	char b[32], s[32], d[32], rto[128] = "";

	st_fmt_bytes(b, sizeof(b), f->bytes_retrans);
	st_fmt_bytes(s, sizeof(s), f->bytes_sent);
	if (f->rto_known && f->rtos) {
		st_fmt_dur(d, sizeof(d), f->rto_ns);
		snprintf(rto, sizeof(rto),
			 "; %u retransmission timeout%s stalled it for %s "
			 "in all",
			 f->rtos, st_plural(f->rtos), d);
	} else if (f->rto_known) {
		snprintf(rto, sizeof(rto),
			 "; no retransmission timeout: fast retransmit "
			 "recovered each loss");
	}
	snprintf(buf, len,
		 "%s %s connection %s retransmitted %u segment%s (%s of %s "
		 "sent, the kernel's count at close)%s: packets were lost or "
		 "delayed on the path",
		 p, st_role_name[f->role], id, f->retrans,
		 st_plural(f->retrans), b, s, rto);
}

static void window_limited(const struct st_finding *f, const char *p,
			   const char *id, char *buf, size_t len)
{
	char l[32], b[32];

	st_fmt_dur(l, sizeof(l), f->limited_ns);
	st_fmt_dur(b, sizeof(b), f->busy_ns);
	snprintf(buf, len,
		 "%s %s connection %s was limited by %s for %s of the %s it "
		 "had data to send (%.0f%%): %s",
		 p, st_role_name[f->role], id,
		 f->rwnd ? "the peer's receive window" : "its own send buffer",
		 l, b, f->busy_ns ? 100.0 * f->limited_ns / f->busy_ns : 0.0,
		 f->rwnd ? "the receiver reads too slowly or its receive "
			   "buffer is small; read faster, or raise its "
			   "SO_RCVBUF or net.ipv4.tcp_rmem"
			 : "the program writes more than the send buffer "
			   "holds; raise SO_SNDBUF or net.ipv4.tcp_wmem");
}

/* The words of accept_queue_full F, into BUF. */
static void queue_full_words(const struct st_finding *f,
			     const struct st_trace *t, const char *p,
			     const char *id, char *buf, size_t len)
{
	char r[96];

	syn_limit(t, r, sizeof(r));
	if (f->at_close) {
		snprintf(buf, len,
			 "%s listener %s closed with %u connection%s in its "
			 "accept queue (limit %u, the kernel's count at close) "
			 "that the program never accepted: their clients had "
			 "connected, and got an RST when it closed",
			 p, id, f->queue_len, st_plural(f->queue_len),
			 f->queue_max);
		return;
	}
	snprintf(buf, len,
		 "%s listener %s: its accept queue reached its limit "
		 "(%u): further handshakes are dropped and clients "
		 "wait (SYN retries%s) until the program calls accept",
		 p, id, f->queue_max, r);
}

/* What the full queue dropped, as its traced clients showed: added to
 * what BUF says. */
static void queue_dropped(const struct st_finding *f, char *buf, size_t len)
{
	size_t n = strnlen(buf, len);

	if (f->syn_dropped && n < len)
		n += (size_t)snprintf(
			buf + n, len - n,
			"; at SYN time: %u client%s sat in SYN_SENT and "
			"retransmitted the SYN",
			f->syn_dropped, st_plural(f->syn_dropped));
	if (f->ack_dropped && n < len)
		snprintf(buf + n, len - n,
			 "; at the final ACK: %u client%s believed %s "
			 "connected and %s requests were retransmitted",
			 f->ack_dropped, st_plural(f->ack_dropped),
			 f->ack_dropped == 1 ? "it was" : "they were",
			 f->ack_dropped == 1 ? "its" : "their");
}

/* accept_queue_full F in words, with what the queue dropped. */
static void queue_full(const struct st_finding *f, const struct st_trace *t,
		       const char *p, const char *id, char *buf, size_t len)
{
	queue_full_words(f, t, p, id, buf, len);
	queue_dropped(f, buf, len);
}

const char *st_finding_text(const struct st_finding *f,
			    const struct st_traceset *set, char *buf,
			    size_t len)
{
	const struct st_trace *t = &set->t[f->file];
	char p[48], id[24], loss[256];

	st_proc_name(t, p);
	st_conn_str(f->conn, id);
	switch (f->kind) {
	case ST_F_connect_failed:
		connect_failed(f, t, p, id, buf, len);
		break;
	case ST_F_close_wait:
		close_wait(f, p, id, buf, len);
		break;
	case ST_F_server_time_wait:
		snprintf(buf, len,
			 "%s server connection %s closed first: the active "
			 "closer gets TIME_WAIT (60 s), so it is %s on the "
			 "server%s; let clients close first, or use keep-alive",
			 p, id, f->guess ? "likely held" : "held",
			 f->guess ? " (a guess: the client is not traced, and "
				    "an RST from it would end the TIME_WAIT)"
				  : "");
		break;
	case ST_F_fd_leak:
		snprintf(buf, len,
			 "%s exited with connection %s (fd %d) still open "
			 "and unused for %.0f s: the program forgot it (the "
			 "kernel closed it at exit)",
			 p, id, f->fd, f->ns / 1e9);
		break;
	case ST_F_backlog_clipped:
		snprintf(buf, len,
			 "%s listener %s asked for backlog %d but got %d: the "
			 "accept queue is capped by net.core.somaxconn (%d)",
			 p, id, f->backlog, f->effective, f->somaxconn);
		break;
	case ST_F_accept_queue_full:
		queue_full(f, t, p, id, buf, len);
		break;
	case ST_F_retransmits:
		retransmits(f, p, id, buf, len);
		break;
	case ST_F_window_limited:
		window_limited(f, p, id, buf, len);
		break;
	case ST_F_reset:
		reset_text(f, p, id, buf, len);
		break;
	case ST_F_udp_refused:
		udp_refused(f, p, id, buf, len);
		break;
	case ST_F_lost_records:
		/* the loss as load.c says it, cut as it always was */
		if (!st_trace_loss(t, true, loss, sizeof(loss)))
			snprintf(loss, sizeof(loss), "%s lost records", p);
		snprintf(buf, len, "%s", loss);
		break;
	default:
		snprintf(buf, len, "%s: finding %u", p, f->kind);
	}
	return buf;
}

const char *st_finding_gist(unsigned kind)
{
	switch (kind) {
	case ST_F_connect_failed:
		return "connects failed (no connection was made; see each "
		       "connection for its errno and what it means)";
	case ST_F_close_wait:
		return "read EOF (the peer closed) but closed late or never: "
		       "the sockets sat in CLOSE_WAIT; many of these mean the "
		       "program forgets to close";
	case ST_F_server_time_wait:
		return "the server closes first: the active closer gets "
		       "TIME_WAIT (60 s), so it is held on the server; let "
		       "clients close first, or use keep-alive";
	case ST_F_fd_leak:
		return "unused long before the process exited, and still "
		       "open then: the program forgot them (the kernel "
		       "closed them at exit)";
	default:
		return NULL;
	}
}
