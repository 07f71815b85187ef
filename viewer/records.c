/* SPDX-License-Identifier: MIT */
/* Record names and printers, generated from the call table. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "records.h"
#include "trace.h"

const char *const st_call_name[ST_CALL_COUNT] = {
#define ST__N(name, shape, dir) #name,
	ST_CALL_TABLE(ST__N)
#undef ST__N
};

const unsigned char st_call_name_len[ST_CALL_COUNT] = {
#define ST__N(name, shape, dir) sizeof(#name) - 1,
	ST_CALL_TABLE(ST__N)
#undef ST__N
};

/* at most 16 characters (sizeof counts the NUL) */
#define ST__N(name, shape, dir) \
	_Static_assert(sizeof(#name) <= 17, "call name " #name " too long");
ST_CALL_TABLE(ST__N)
#undef ST__N

const unsigned char st_call_shape[ST_CALL_COUNT] = {
#define ST__N(name, shape, dir) ST_SHAPE_ID_##shape,
	ST_CALL_TABLE(ST__N)
#undef ST__N
};

const unsigned char st_call_dir[ST_CALL_COUNT] = {
#define ST__N(name, shape, dir) dir,
	ST_CALL_TABLE(ST__N)
#undef ST__N
};

bool st_errno_soft(int err)
{
	return err == EINPROGRESS || err == EALREADY || err == EAGAIN ||
	       err == EINTR;
}

const char *st_errno_name(int err, char buf[16])
{
	const char *n = strerrorname_np(err);

	if (n)
		return n;
	snprintf(buf, 16, "E%d", err);
	return buf;
}

const char *st_tcp_state_name(unsigned state)
{
	static const char *const names[] = {
		[TCP_ESTABLISHED] = "ESTABLISHED",
		[TCP_SYN_SENT] = "SYN_SENT",
		[TCP_SYN_RECV] = "SYN_RECV",
		[TCP_FIN_WAIT1] = "FIN_WAIT1",
		[TCP_FIN_WAIT2] = "FIN_WAIT2",
		[TCP_TIME_WAIT] = "TIME_WAIT",
		[TCP_CLOSE] = "CLOSE",
		[TCP_CLOSE_WAIT] = "CLOSE_WAIT",
		[TCP_LAST_ACK] = "LAST_ACK",
		[TCP_LISTEN] = "LISTEN",
		[TCP_CLOSING] = "CLOSING",
	};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : NULL;
}

/* "1.2.3.4:80" of an AF_INET address (unterminated): at most 21 bytes. */
static char *put_inet(char *p, const struct st_addr *a)
{
	/* "0." to "255.": an octet and its dot, as 4 bytes and a length */
	static char octet[256][4];
	static unsigned char len[256];

	if (!len[0]) {
		for (int i = 255; i >= 0; i--) {
			char t[ST_PUT_NUM_MAX];
			char *e = st_put_u64(t, (uint64_t)i);
			*e++ = '.';
			memcpy(octet[i], t, 4);
			len[i] = (unsigned char)(e - t);
		}
	}
	for (int i = 0; i < 4; i++) {
		memcpy(p, octet[a->data[i]], 4);
		p += len[a->data[i]];
	}
	p[-1] = ':';
	return st_put_u64(p, a->port);
}

void st_addr_str(const struct st_addr *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];
	unsigned fam = a->family & ~ST_ADDR_TRUNC;

	buf[0] = 0;
	switch (fam) {
	case AF_INET: {
		char t[24];
		size_t n = (size_t)(put_inet(t, a) - t);
		if (n >= len)
			n = len - 1;
		memcpy(buf, t, n);
		buf[n] = 0;
		break;
	}
	case AF_INET6: {
		uint32_t scope;
		memcpy(&scope, a->data + 16, 4);
		inet_ntop(AF_INET6, a->data, ip, sizeof(ip));
		if (scope)
			snprintf(buf, len, "[%s%%%u]:%u", ip, scope, a->port);
		else
			snprintf(buf, len, "[%s]:%u", ip, a->port);
		break;
	}
	case AF_UNIX: {
		char path[sizeof(a->data) + 1];
		size_t n = sizeof(a->data);
		memcpy(path, a->data, n);
		if (a->data[0] == 0) {
			/* abstract: NUL-padded, inner NULs shown as @ */
			while (n > 1 && path[n - 1] == 0)
				n--;
			for (size_t i = 0; i < n; i++)
				if (path[i] == 0)
					path[i] = '@';
			if (n == 1)
				n = 0; /* just the NUL: no name at all */
		} else {
			n = strnlen(path, n);
		}
		path[n] = 0;
		if (n == 0)
			snprintf(buf, len, "(unnamed)");
		else
			snprintf(buf, len, "%s%s",
				 (a->family & ST_ADDR_TRUNC) ? "..." : "",
				 path);
		break;
	}
	case 0:
		break;
	default:
		snprintf(buf, len, "(family %u)", fam);
	}
}

char *st_put_conn(char *p, uint64_t conn)
{
	/* the pid part repeats line after line: keep the last few */
	static struct {
		uint32_t pid;
		uint8_t len;
		char s[15]; /* "4294967295:" */
	} cache[16];
	uint32_t pid = (uint32_t)(conn >> 32);
	unsigned h = pid % 16;

	if (cache[h].pid != pid || !cache[h].len) {
		char *e = st_put_u64(cache[h].s, pid);
		*e = ':';
		cache[h].len = (uint8_t)(e - cache[h].s + 1);
		cache[h].pid = pid;
	}
	memcpy(p, cache[h].s, 12);
	p += cache[h].len;
	return st_put_u64(p, (uint32_t)conn);
}

void st_conn_str(uint64_t conn, char buf[24])
{
	*st_put_conn(buf, conn) = 0;
}

char *st_put_conn_json(char *p, uint64_t conn)
{
	if (!conn)
		return ST_PUT_LIT(p, "null");
	*p++ = '"';
	p = st_put_conn(p, conn);
	*p++ = '"';
	return p;
}

char *st_put_addr_json(char *p, const struct st_addr *a)
{
	char s[128];

	if (a->family == AF_INET) {
		/* the usual case, nothing to escape */
		*p++ = '"';
		p = put_inet(p, a);
		*p++ = '"';
		return p;
	}
	st_addr_str(a, s, sizeof(s));
	if (!s[0])
		return ST_PUT_LIT(p, "null");
	return st_put_json_str(p, s, strlen(s));
}

/*
 * JSON field writers, one per field type of the call table, and the most
 * bytes each writes.  u64 fields that name connections ("conn" in the
 * name, known at compile time) are connection ids.
 */
#define JSON_MAX_i32	  (ST_PUT_NUM_MAX + 1)
#define JSON_MAX_u32	  ST_PUT_NUM_MAX
#define JSON_MAX_u64	  ST_PUT_NUM_MAX + ST_CONN_JSON_MAX
#define JSON_MAX_addr	  ST_ADDR_JSON_MAX
#define JSON_MAX_tcpstate ST_JSON_STR_MAX(16)
#define JSON_MAX_cnum	  ST_CONN_JSON_MAX

static inline char *json_i32(char *p, const char *k, const int32_t *v,
			     int32_t pid)
{
	(void)k, (void)pid;
	return st_put_i64(p, *v);
}

static inline char *json_u32(char *p, const char *k, const uint32_t *v,
			     int32_t pid)
{
	(void)k, (void)pid;
	return st_put_u64(p, *v);
}

static inline char *json_u64(char *p, const char *k, const uint64_t *v,
			     int32_t pid)
{
	(void)pid;
	if (__builtin_strstr(k, "conn"))
		return st_put_conn_json(p, *v);
	return st_put_u64(p, *v);
}

static inline char *json_addr(char *p, const char *k, const struct st_addr *a,
			      int32_t pid)
{
	(void)k, (void)pid;
	return st_put_addr_json(p, a);
}

static inline char *json_cnum(char *p, const char *k, const uint32_t *v,
			      int32_t pid)
{
	(void)k;
	return st_put_conn_json(p, st_cnum_conn(pid, *v));
}

static inline char *json_tcpstate(char *p, const char *k, const uint32_t *v,
				  int32_t pid)
{
	const char *n = st_tcp_state_name(*v);

	(void)k, (void)pid;
	if (!n)
		return ST_PUT_LIT(p, "null");
	*p++ = '"';
	size_t l = strlen(n);
	memcpy(p, n, l);
	p[l] = '"';
	return p + l + 1;
}

/* Every shape's fields fit in ST_FIELDS_JSON_MAX bytes. */
#define ST__MAX(type, name) +sizeof(#name) + 3 + JSON_MAX_##type
#define ST__FITS(shape)                                                   \
	_Static_assert(0 ST_SHAPE_##shape(ST__MAX) <= ST_FIELDS_JSON_MAX, \
		       "JSON of shape " #shape " may not fit");
ST_SHAPE_LIST(ST__FITS)
#undef ST__FITS
#undef ST__MAX

char *st_put_rec_json_fields(char *p, const struct st_rec *r, int32_t pid)
{
#define ST__F(type, name)                     \
	p = ST_PUT_LIT(p, ",\"" #name "\":"); \
	p = json_##type(p, #name, &f->name, pid);
#define ST__S(shape)                                        \
	case ST_SHAPE_ID_##shape: {                         \
		const struct st_p_##shape *f = &r->u.shape; \
		(void)f;                                    \
		ST_SHAPE_##shape(ST__F) break;              \
	}
	switch (st_call_shape[r->call]) {
		ST_SHAPE_LIST(ST__S)
	}
#undef ST__S
#undef ST__F
	return p;
}

void st_json_conn(struct st_out *o, const char *k, uint64_t conn)
{
	st_out_key(o, k);
	st_out_end(o, st_put_conn_json(st_out_room(o, ST_CONN_JSON_MAX), conn));
}

/* Text printers print only what is set: zero fields are noise there. */
#define TEXT_MAX_i32	  (ST_PUT_NUM_MAX + 2)
#define TEXT_MAX_u32	  (ST_PUT_NUM_MAX + 2)
#define TEXT_MAX_u64	  (ST_PUT_NUM_MAX + ST_CONN_JSON_MAX)
#define TEXT_MAX_addr	  128
#define TEXT_MAX_tcpstate 16
#define TEXT_MAX_cnum	  ST_CONN_JSON_MAX

static inline char *text_i32(char *p, const char *k, size_t kl,
			     const int32_t *v, int32_t pid)
{
	(void)pid;
	if (!*v)
		return p;
	memcpy(p, k, kl);
	return st_put_i64(p + kl, *v);
}

static inline char *text_u32(char *p, const char *k, size_t kl,
			     const uint32_t *v, int32_t pid)
{
	(void)pid;
	if (!*v)
		return p;
	memcpy(p, k, kl);
	return st_put_u64(p + kl, *v);
}

static inline char *text_u64(char *p, const char *k, size_t kl,
			     const uint64_t *v, int32_t pid)
{
	(void)pid;
	if (!*v)
		return p;
	memcpy(p, k, kl);
	if (__builtin_strstr(k, "conn"))
		return st_put_conn(p + kl, *v);
	return st_put_u64(p + kl, *v);
}

static inline char *text_addr(char *p, const char *k, size_t kl,
			      const struct st_addr *a, int32_t pid)
{
	char s[128];

	(void)pid;
	st_addr_str(a, s, sizeof(s));
	if (!s[0])
		return p;
	memcpy(p, k, kl);
	return stpcpy(p + kl, s);
}

static inline char *text_cnum(char *p, const char *k, size_t kl,
			      const uint32_t *v, int32_t pid)
{
	uint64_t c = st_cnum_conn(pid, *v);

	if (!c)
		return p;
	memcpy(p, k, kl);
	return st_put_conn(p + kl, c);
}

static inline char *text_tcpstate(char *p, const char *k, size_t kl,
				  const uint32_t *v, int32_t pid)
{
	const char *n = st_tcp_state_name(*v);

	(void)pid;
	if (!n)
		return p;
	memcpy(p, k, kl);
	return stpcpy(p + kl, n);
}

#define ST__MAX(type, name) +sizeof(#name) + 2 + TEXT_MAX_##type
#define ST__FITS(shape)                                                   \
	_Static_assert(0 ST_SHAPE_##shape(ST__MAX) <= ST_FIELDS_TEXT_MAX, \
		       "text of shape " #shape " may not fit");
ST_SHAPE_LIST(ST__FITS)
#undef ST__FITS
#undef ST__MAX

char *st_put_rec_text_fields(char *p, const struct st_rec *r, int32_t pid)
{
#define ST__F(type, name) \
	p = text_##type(p, " " #name "=", sizeof(#name) + 1, &f->name, pid);
#define ST__S(shape)                                        \
	case ST_SHAPE_ID_##shape: {                         \
		const struct st_p_##shape *f = &r->u.shape; \
		(void)f;                                    \
		ST_SHAPE_##shape(ST__F) break;              \
	}
	switch (st_call_shape[r->call]) {
		ST_SHAPE_LIST(ST__S)
	}
#undef ST__S
#undef ST__F
	return p;
}

/* The most bytes a call line takes: its fixed part with the longest
 * values, then the payload fields. */
#define CALL_JSON_MAX (512 + ST_FIELDS_JSON_MAX)

/* {"type":"call",...} for one record of process PID. */
void st_call_json(struct st_out *o, const struct st_rec *r, int32_t pid)
{
	char *p = st_out_room(o, CALL_JSON_MAX);
	char b[24];

	/* the line's start repeats for every call of a thread: keep it */
	static struct {
		int32_t pid, tid;
		uint8_t len;
		char s[71];
	} start[16];
	unsigned h = (unsigned)r->tid % 16;
	if (start[h].pid != pid || start[h].tid != r->tid || !start[h].len) {
		char *q = ST_PUT_LIT(start[h].s, "{\"type\":\"call\",\"pid\":");
		q = st_put_i64(q, pid);
		q = ST_PUT_LIT(q, ",\"tid\":");
		q = st_put_i64(q, r->tid);
		q = ST_PUT_LIT(q, ",\"ts\":");
		start[h].len = (uint8_t)(q - start[h].s);
		start[h].pid = pid;
		start[h].tid = r->tid;
	}
	memcpy(p, start[h].s, sizeof(start[h].s));
	p += start[h].len;
	p = st_put_u64(p, r->ts);
	p = ST_PUT_LIT(p, ",\"dur\":");
	p = st_put_u64(p, r->dur);
	/* call names are C identifiers: nothing to escape */
	p = ST_PUT_LIT(p, ",\"call\":\"");
	p = st_put_short(p, st_call_name[r->call], st_call_name_len[r->call]);
	p = ST_PUT_LIT(p, "\",\"fd\":");
	p = st_put_i64(p, r->fd);
	p = ST_PUT_LIT(p, ",\"ret\":");
	p = st_put_i64(p, r->ret);
	p = ST_PUT_LIT(p, ",\"errno\":");
	if (r->flags & ST_REC_ERR) {
		/* errno names are identifiers too ("E123" if unnamed) */
		const char *e = st_errno_name(r->err, b);
		size_t k = strnlen(e, 32);
		*p++ = '"';
		memcpy(p, e, k);
		p += k;
		*p++ = '"';
	} else {
		p = ST_PUT_LIT(p, "null");
	}
	p = ST_PUT_LIT(p, ",\"conn\":");
	p = st_put_conn_json(p, r->conn);
	if (st_call_dir[r->call] != ST_DIR_NONE) {
		if (st_call_dir[r->call] == ST_DIR_IN)
			p = ST_PUT_LIT(p, ",\"dir\":\"in\",\"bytes\":");
		else
			p = ST_PUT_LIT(p, ",\"dir\":\"out\",\"bytes\":");
		if (st_rec_bytes(r) >= 0)
			p = st_put_i64(p, st_rec_bytes(r));
		else
			p = ST_PUT_LIT(p, "null");
		if (st_rec_peek(r) && st_rec_returned(r) >= 0) {
			/* MSG_PEEK: seen, left queued, not in bytes */
			p = ST_PUT_LIT(p, ",\"peeked\":");
			p = st_put_i64(p, st_rec_returned(r));
		}
	}
	p = st_put_rec_json_fields(p, r, pid);
	p = ST_PUT_LIT(p, "}\n");
	st_out_end(o, p);
}

/* One human-readable line for record R of file T; times from T0. */
void st_call_text(struct st_out *o, const struct st_rec *r,
		  const struct st_trace *t, uint64_t t0)
{
	char b[24];
	int64_t rel = (int64_t)(r->ts - t0);

	if (rel < 0) {
		/* not from dump (it starts at the first record): printf */
		st_out_fmt(o, "%4lld.%06lld", (long long)(rel / 1000000000),
			   (long long)(rel % 1000000000 / 1000));
	}
	/* comm (NUL-terminated by the writer), exe... as %s reads them */
	size_t cl = strlen(t->hdr.comm);
	char *p = st_out_room(o, 512 + cl + ST_FIELDS_TEXT_MAX);
	if (rel >= 0) {
		/* "%4lld.%06lld" */
		uint64_t s = (uint64_t)rel / 1000000000;
		uint32_t us = (uint32_t)((uint64_t)rel % 1000000000 / 1000);
		for (int pad = 4 - st_dec_len(s); pad > 0; pad--)
			*p++ = ' ';
		p = st_put_u64(p, s);
		*p++ = '.';
		for (int i = 5; i >= 0; i--, us /= 10)
			p[i] = (char)('0' + us % 10);
		p += 6;
	}
	*p++ = ' ';
	memcpy(p, t->hdr.comm, cl);
	p += cl;
	*p++ = '[';
	p = st_put_i64(p, t->hdr.pid);
	if (r->tid != t->hdr.pid) {
		*p++ = '/';
		p = st_put_i64(p, r->tid);
	}
	p = ST_PUT_LIT(p, "] ");
	p = st_put_short(p, st_call_name[r->call], st_call_name_len[r->call]);
	*p++ = '(';
	p = st_put_i64(p, r->fd);
	p = ST_PUT_LIT(p, ") = ");
	p = st_put_i64(p, r->ret);
	if (r->flags & ST_REC_ERR) {
		const char *e = st_errno_name(r->err, b);
		size_t k = strnlen(e, 32);
		*p++ = ' ';
		memcpy(p, e, k);
		p += k;
	} else if (st_call_dir[r->call] == ST_DIR_IN && st_rec_eof(r)) {
		p = ST_PUT_LIT(p, " EOF");
	}
	p = st_put_rec_text_fields(p, r, t->hdr.pid);
	if (r->conn) {
		p = ST_PUT_LIT(p, " conn=");
		p = st_put_conn(p, r->conn);
	}
	p = ST_PUT_LIT(p, " (");
	p = st_put_milli1(p, r->dur);
	p = ST_PUT_LIT(p, "us)\n");
	st_out_end(o, p);
}
