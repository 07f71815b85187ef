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

const char *const st_call_name[ST_CALL_COUNT] = {
#define ST__N(name, shape, dir) #name,
	ST_CALL_TABLE(ST__N)
#undef ST__N
};

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
		[TCP_ESTABLISHED] = "ESTABLISHED", [TCP_SYN_SENT] = "SYN_SENT",
		[TCP_SYN_RECV] = "SYN_RECV",	   [TCP_FIN_WAIT1] = "FIN_WAIT1",
		[TCP_FIN_WAIT2] = "FIN_WAIT2",	   [TCP_TIME_WAIT] = "TIME_WAIT",
		[TCP_CLOSE] = "CLOSE",		   [TCP_CLOSE_WAIT] = "CLOSE_WAIT",
		[TCP_LAST_ACK] = "LAST_ACK",	   [TCP_LISTEN] = "LISTEN",
		[TCP_CLOSING] = "CLOSING",
	};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : NULL;
}

/* Writes V in decimal at P; returns the end.  (printf is the viewer's
 * hot spot on large traces.) */
static char *dec(char *p, unsigned v)
{
	char t[12];
	int i = 0;

	do {
		t[i++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (i)
		*p++ = t[--i];
	return p;
}

void st_addr_str(const struct st_addr *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];
	unsigned fam = a->family & ~ST_ADDR_TRUNC;

	buf[0] = 0;
	switch (fam) {
	case AF_INET: {
		char t[24], *p = t;
		for (int i = 0; i < 4; i++) {
			p = dec(p, a->data[i]);
			*p++ = i < 3 ? '.' : ':';
		}
		*dec(p, a->port) = 0;
		snprintf(buf, len, "%s", t);
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

void st_conn_str(uint64_t conn, char buf[24])
{
	char *p = dec(buf, (unsigned)(conn >> 32));

	*p++ = ':';
	*dec(p, (unsigned)conn) = 0;
}

/* JSON field printers, one per field type of the call table. */
static void json_i32(struct st_out *o, const char *k,
		     const int32_t *v, int32_t pid)
{
	(void)pid;
	st_out_ki(o, k, *v);
}

static void json_u32(struct st_out *o, const char *k,
		     const uint32_t *v, int32_t pid)
{
	(void)pid;
	st_out_ku(o, k, *v);
}

static void json_u64(struct st_out *o, const char *k,
		     const uint64_t *v, int32_t pid)
{
	(void)pid;
	/* u64 fields that name connections are connection ids */
	if (strstr(k, "conn"))
		st_json_conn(o, k, *v);
	else
		st_out_ku(o, k, *v);
}

void st_json_addr(struct st_out *o, const char *k, const struct st_addr *a)
{
	char s[128];

	st_addr_str(a, s, sizeof(s));
	st_out_ks(o, k, s[0] ? s : NULL);
}

void st_json_conn(struct st_out *o, const char *k, uint64_t conn)
{
	char c[24];

	if (conn)
		st_conn_str(conn, c);
	st_out_ks(o, k, conn ? c : NULL);
}

static void json_addr(struct st_out *o, const char *k,
		      const struct st_addr *a, int32_t pid)
{
	(void)pid;
	st_json_addr(o, k, a);
}

static void json_cnum(struct st_out *o, const char *k, const uint32_t *v,
		      int32_t pid)
{
	st_json_conn(o, k, st_cnum_conn(pid, *v));
}

static void json_tcpstate(struct st_out *o, const char *k,
		          const uint32_t *v, int32_t pid)
{
	(void)pid;
	st_out_ks(o, k, st_tcp_state_name(*v));
}

/*
 * One case per payload shape, calling PRINTER(type) on each field:
 * st_rec_json_fields and st_rec_text_fields differ only in the printers.
 */
#define ST__F(type, name) ST__PRINTER(type)(o, #name, &p->name, pid);
#define ST__S(shape)                                        \
	case ST_SHAPE_ID_##shape: {                         \
		const struct st_p_##shape *p = &r->u.shape; \
		(void)p;                                    \
		ST_SHAPE_##shape(ST__F) break;              \
	}

void st_rec_json_fields(struct st_out *o, const struct st_rec *r, int32_t pid)
{
#define ST__PRINTER(type) json_##type
	switch (st_call_shape[r->call]) {
		ST_SHAPE_LIST(ST__S)
	}
#undef ST__PRINTER
}

/* Text printers print only what is set: zero fields are noise there. */
static void text_i32(struct st_out *o, const char *k,
		     const int32_t *v, int32_t pid)
{
	(void)pid;
	if (*v)
		st_out_fmt(o, " %s=%d", k, *v);
}

static void text_u32(struct st_out *o, const char *k,
		     const uint32_t *v, int32_t pid)
{
	(void)pid;
	if (*v)
		st_out_fmt(o, " %s=%u", k, *v);
}

static void text_u64(struct st_out *o, const char *k,
		     const uint64_t *v, int32_t pid)
{
	char c[24];

	(void)pid;
	if (!*v)
		return;
	if (strstr(k, "conn")) {
		st_conn_str(*v, c);
		st_out_fmt(o, " %s=%s", k, c);
	} else {
		st_out_fmt(o, " %s=%llu", k, (unsigned long long)*v);
	}
}

static void text_addr(struct st_out *o, const char *k,
		      const struct st_addr *a, int32_t pid)
{
	char s[128];

	(void)pid;
	st_addr_str(a, s, sizeof(s));
	if (s[0])
		st_out_fmt(o, " %s=%s", k, s);
}

static void text_cnum(struct st_out *o, const char *k, const uint32_t *v,
		      int32_t pid)
{
	uint64_t c = st_cnum_conn(pid, *v);

	text_u64(o, k, &c, pid);
}

static void text_tcpstate(struct st_out *o, const char *k,
		          const uint32_t *v, int32_t pid)
{
	const char *n = st_tcp_state_name(*v);

	(void)pid;
	if (n)
		st_out_fmt(o, " %s=%s", k, n);
}

void st_rec_text_fields(struct st_out *o, const struct st_rec *r, int32_t pid)
{
#define ST__PRINTER(type) text_##type
	switch (st_call_shape[r->call]) {
		ST_SHAPE_LIST(ST__S)
	}
#undef ST__PRINTER
}
