/* SPDX-License-Identifier: MIT */
/* Round trip of every call kind through a trace file and the JSON printer. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "records.h"
#include "trace.h"

#define PID	   4242
#define MAX_FIELDS 24

/* What one payload field must look like in the JSON line. */
struct want_field {
	char key[40];	/* "name": */
	char value[96]; /* rendered value, as JSON */
};

struct want {
	struct want_field f[MAX_FIELDS];
	int n;
};

static char tmp_dir[PATH_MAX];
static char trace_path[PATH_MAX];

static struct want_field *want_add(struct want *w, const char *name)
{
	assert_true(w->n < MAX_FIELDS);
	struct want_field *f = &w->f[w->n++];
	snprintf(f->key, sizeof(f->key), "\"%s\":", name);
	return f;
}

/*
 * Field fillers, one per field type of the call table.  Values depend on
 * the call kind and the field's position, so a field read from the wrong
 * offset or printed under the wrong key cannot match by accident.  The
 * expected text is built here, not by the printers under test.
 */
static void fill_t_i32(int32_t *v, const char *name, unsigned call, unsigned k,
		       struct want *w)
{
	/* odd positions are negative: the sign must survive the printer */
	*v = (int32_t)(call * 100 + k + 1) * (k % 2 ? -1 : 1);
	snprintf(want_add(w, name)->value, sizeof(w->f[0].value), "%d", *v);
}

static void fill_t_u32(uint32_t *v, const char *name, unsigned call, unsigned k,
		       struct want *w)
{
	/* above INT32_MAX: an unsigned field printed as signed shows */
	*v = 3000000000u + call * 100 + k;
	snprintf(want_add(w, name)->value, sizeof(w->f[0].value), "%u", *v);
}

static void fill_t_u64(uint64_t *v, const char *name, unsigned call, unsigned k,
		       struct want *w)
{
	struct want_field *f = want_add(w, name);

	if (strstr(name, "conn")) {
		/* connection ids print as "PID:N" */
		*v = st_conn_id((int32_t)(70000 + call), 10 * k + 1);
		snprintf(f->value, sizeof(f->value), "\"%u:%u\"", 70000 + call,
			 10 * k + 1);
	} else {
		/* above 2^32: a truncation to 32 bits shows */
		*v = ((uint64_t)(k + 1) << 32) + call;
		snprintf(f->value, sizeof(f->value), "%llu",
			 (unsigned long long)*v);
	}
}

static void fill_t_cnum(uint32_t *v, const char *name, unsigned call,
			unsigned k, struct want *w)
{
	/* a connection number of the file's process prints as "PID:N" */
	*v = 10 * k + call + 1;
	snprintf(want_add(w, name)->value, sizeof(w->f[0].value), "\"%u:%u\"",
		 PID, *v);
}

static void fill_t_addr(struct st_addr *v, const char *name, unsigned call,
			unsigned k, struct want *w)
{
	struct want_field *f = want_add(w, name);
	char ip[INET6_ADDRSTRLEN];

	memset(v, 0, sizeof(*v));
	v->port = (uint16_t)(20000 + call * 10 + k);
	/* alternate families so every shape sees both */
	if ((call + k) % 2 == 0) {
		v->family = AF_INET;
		snprintf(ip, sizeof(ip), "10.%u.%u.1", call, k);
		assert_int_equal(inet_pton(AF_INET, ip, v->data), 1);
		snprintf(f->value, sizeof(f->value), "\"%s:%u\"", ip, v->port);
	} else {
		v->family = AF_INET6;
		/* canonical text: what inet_ntop gives back */
		snprintf(ip, sizeof(ip), "2001:db8::%x:%x", call + 1, k + 1);
		assert_int_equal(inet_pton(AF_INET6, ip, v->data), 1);
		snprintf(f->value, sizeof(f->value), "\"[%s]:%u\"", ip,
			 v->port);
	}
}

static void fill_t_tcpstate(uint32_t *v, const char *name, unsigned call,
			    unsigned k, struct want *w)
{
	(void)k;
	*v = call % 2 ? TCP_CLOSE_WAIT : TCP_ESTABLISHED;
	snprintf(want_add(w, name)->value, sizeof(w->f[0].value), "\"%s\"",
		 call % 2 ? "CLOSE_WAIT" : "ESTABLISHED");
}

/* Field comparers, one per field type. */
static void cmp_t_i32(const int32_t *a, const int32_t *b, const char *name)
{
	if (*a != *b)
		fail_msg("%s: wrote %d, read %d", name, *a, *b);
}

static void cmp_t_u32(const uint32_t *a, const uint32_t *b, const char *name)
{
	if (*a != *b)
		fail_msg("%s: wrote %u, read %u", name, *a, *b);
}

static void cmp_t_u64(const uint64_t *a, const uint64_t *b, const char *name)
{
	if (*a != *b)
		fail_msg("%s: wrote %llu, read %llu", name,
			 (unsigned long long)*a, (unsigned long long)*b);
}

static void cmp_t_cnum(const uint32_t *a, const uint32_t *b, const char *name)
{
	cmp_t_u32(a, b, name);
}

static void cmp_t_addr(const struct st_addr *a, const struct st_addr *b,
		       const char *name)
{
	if (memcmp(a, b, sizeof(*a)))
		fail_msg("%s: address differs after the round trip", name);
}

static void cmp_t_tcpstate(const uint32_t *a, const uint32_t *b,
			   const char *name)
{
	cmp_t_u32(a, b, name);
}

/* Per shape: fill every payload field, and compare every payload field. */
#define FILL_FIELD(type, name) fill_t_##type(&p->name, #name, call, k++, w);
#define CMP_FIELD(type, name)  cmp_t_##type(&a->name, &b->name, #name);
#define SHAPE_FUNCS(shape)                                                    \
	static void fill_s_##shape(struct st_rec *r, unsigned call,           \
				   struct want *w)                            \
	{                                                                     \
		struct st_p_##shape *p = &r->u.shape;                         \
		unsigned k = 0;                                               \
		(void)p;                                                      \
		(void)k;                                                      \
		(void)call;                                                   \
		(void)w;                                                      \
		ST_SHAPE_##shape(FILL_FIELD)                                  \
	}                                                                     \
	static void cmp_s_##shape(const struct st_rec *x,                     \
				  const struct st_rec *y)                     \
	{                                                                     \
		const struct st_p_##shape *a = &x->u.shape, *b = &y->u.shape; \
		(void)a;                                                      \
		(void)b;                                                      \
		ST_SHAPE_##shape(CMP_FIELD)                                   \
	}
ST_SHAPE_LIST(SHAPE_FUNCS)
#undef SHAPE_FUNCS
#undef CMP_FIELD
#undef FILL_FIELD

/* One case per row of the call table. */
struct call_case {
	const char *name;
	enum st_call call;
	enum st_dir dir;
	void (*fill)(struct st_rec *r, unsigned call, struct want *w);
	void (*cmp)(const struct st_rec *a, const struct st_rec *b);
};

static struct call_case cases[ST_CALL_COUNT] = {
#define CASE(call, shape, dir)                                           \
	[ST_CALL_##call] = { #call, ST_CALL_##call, dir, fill_s_##shape, \
			     cmp_s_##shape },
	ST_CALL_TABLE(CASE)
#undef CASE
};

/*
 * Record number CALL of the test trace: call kind CALL with distinct
 * non-zero values in every header and payload field.  W gets the JSON
 * each payload field must print as.
 */
static void make_rec(struct st_rec *r, unsigned call, struct want *w)
{
	memset(r, 0, sizeof(*r));
	memset(w, 0, sizeof(*w));
	r->seq = call + 1;
	r->ts = 1000000000000ull * (call + 1) + 7;
	r->dur = 1234 + call;
	r->conn = st_conn_id(PID, 500 + call);
	/* above 2^32 so a 32-bit "bytes" shows; positive so bytes is set */
	r->ret = 5000000000ll + call;
	r->tid = PID + 1 + (int32_t)call;
	r->fd = 10 + (int32_t)call;
	r->call = (uint16_t)call;
	r->err = ECONNREFUSED;
	r->flags = ST_REC_ERR;
	r->sock = ST_SOCK_KNOWN | ST_SOCK_INET | ST_SOCK_STREAM << 4;
	cases[call].fill(r, call, w);
}

/* Writes the test trace: one record per call kind, record n = kind n. */
static int setup_trace(void **state)
{
	struct st_header h;
	struct want w;
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(tmp_dir, sizeof(tmp_dir), "%s/st-test-records-XXXXXX",
		 base && *base ? base : "/tmp");
	if (!mkdtemp(tmp_dir))
		return -1;
	if (snprintf(trace_path, sizeof(trace_path), "%s/records-%d.trace",
		     tmp_dir, PID) >= (int)sizeof(trace_path))
		return -1;
	FILE *f = fopen(trace_path, "wb");
	if (!f)
		return -1;

	memset(&h, 0, sizeof(h));
	st_header_layout(&h, ST_CALL_COUNT, ST_POLICY_RING);
	h.pid = PID;
	snprintf(h.comm, sizeof(h.comm), "records");
	h.next = ST_CALL_COUNT;
	h.mapped = ST_CALL_COUNT;
	int bad = fwrite(&h, sizeof(h), 1, f) != 1;
	for (unsigned c = 0; c < ST_CALL_COUNT; c++) {
		struct st_rec r;
		make_rec(&r, c, &w);
		bad |= fwrite(&r, sizeof(r), 1, f) != 1;
	}
	bad |= fclose(f) != 0;
	return bad ? -1 : 0;
}

static int teardown_trace(void **state)
{
	(void)state;
	unlink(trace_path);
	return rmdir(tmp_dir);
}

/* Whether JSON has KEY followed by exactly VALUE (then ',' or '}'). */
static int has_field(const char *json, const char *key, const char *value)
{
	size_t vl = strlen(value);

	for (const char *p = json; (p = strstr(p, key)); p++) {
		const char *v = p + strlen(key);
		if (!strncmp(v, value, vl) && (v[vl] == ',' || v[vl] == '}'))
			return 1;
	}
	return 0;
}

static int count_keys(const char *json)
{
	int n = 0;

	/* no value of ours holds a quote followed by a colon */
	for (const char *p = json; (p = strstr(p, "\":")); p++)
		n++;
	return n;
}

static void expect_field(const char *json, const char *key, const char *value)
{
	if (!has_field(json, key, value))
		fail_msg("expected %s%s in %s", key, value, json);
}

/* The record of one call kind: read back intact, printed with every field. */
static void round_trip(void **state)
{
	const struct call_case *c = *state;
	struct st_trace t;
	struct st_rec want_rec, got;
	struct want w;
	char err[ST_ERR_LEN] = "";
	char v[64];

	make_rec(&want_rec, c->call, &w);
	if (st_trace_open(&t, trace_path, err))
		fail_msg("%s", err);
	assert_string_equal(t.warn, "");
	assert_int_equal(st_trace_get(&t, c->call, &got), 1);
	st_trace_close(&t);

	assert_int_equal(got.seq, want_rec.seq);
	assert_int_equal(got.ts, want_rec.ts);
	assert_int_equal(got.dur, want_rec.dur);
	assert_int_equal(got.conn, want_rec.conn);
	assert_true(got.ret == want_rec.ret);
	assert_int_equal(got.tid, want_rec.tid);
	assert_int_equal(got.fd, want_rec.fd);
	assert_int_equal(got.call, want_rec.call);
	assert_int_equal(got.err, want_rec.err);
	assert_int_equal(got.flags, want_rec.flags);
	c->cmp(&want_rec, &got);
	/* and nothing the generated comparisons missed */
	assert_memory_equal(&got, &want_rec, sizeof(got));

	char *json = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&json, &len);
	assert_non_null(f);
	struct st_out *o = malloc(sizeof(*o));
	assert_non_null(o);
	st_out_init(o, f);
	st_call_json(o, &got, PID);
	assert_int_equal(st_out_flush(o), 0);
	free(o);
	assert_int_equal(fclose(f), 0);

	/* one line, one object */
	assert_true(len > 2);
	assert_int_equal(json[0], '{');
	assert_string_equal(json + len - 2, "}\n");
	assert_ptr_equal(strchr(json, '\n'), json + len - 1);

	snprintf(v, sizeof(v), "\"%s\"", c->name);
	expect_field(json, "\"call\":", v);
	expect_field(json, "\"type\":", "\"call\"");
	snprintf(v, sizeof(v), "%d", PID);
	expect_field(json, "\"pid\":", v);
	snprintf(v, sizeof(v), "%d", want_rec.tid);
	expect_field(json, "\"tid\":", v);
	snprintf(v, sizeof(v), "%llu", (unsigned long long)want_rec.ts);
	expect_field(json, "\"ts\":", v);
	snprintf(v, sizeof(v), "%llu", (unsigned long long)want_rec.dur);
	expect_field(json, "\"dur\":", v);
	snprintf(v, sizeof(v), "%d", want_rec.fd);
	expect_field(json, "\"fd\":", v);
	snprintf(v, sizeof(v), "%lld", (long long)want_rec.ret);
	expect_field(json, "\"ret\":", v);
	expect_field(json, "\"errno\":", "\"ECONNREFUSED\"");
	snprintf(v, sizeof(v), "\"%d:%u\"", PID, 500 + c->call);
	expect_field(json, "\"conn\":", v);

	int keys = 10 + w.n;
	if (c->dir == ST_DIR_NONE) {
		assert_null(strstr(json, "\"dir\":"));
		assert_null(strstr(json, "\"bytes\":"));
	} else {
		expect_field(json, "\"dir\":",
			     c->dir == ST_DIR_IN ? "\"in\"" : "\"out\"");
		/* ret, but for the mmsg calls (a count of messages) and
		 * peeks (nothing received) */
		snprintf(v, sizeof(v), "%lld",
			 (long long)st_rec_bytes(&want_rec));
		expect_field(json, "\"bytes\":", v);
		keys += 2;
		/* a MSG_PEEK receive: what it saw, apart from bytes */
		if (st_rec_peek(&want_rec) && st_rec_returned(&want_rec) >= 0) {
			snprintf(v, sizeof(v), "%lld",
				 (long long)st_rec_returned(&want_rec));
			expect_field(json, "\"peeked\":", v);
			keys++;
		}
	}
	for (int i = 0; i < w.n; i++)
		expect_field(json, w.f[i].key, w.f[i].value);
	/* a field printed twice or under an extra key shows here */
	if (count_keys(json) != keys)
		fail_msg("expected %d keys in %s", keys, json);
	free(json);
}

static void addr_str(const struct st_addr *a, char *buf, size_t len)
{
	/* poison: st_addr_str must write a terminated string */
	memset(buf, 'X', len);
	st_addr_str(a, buf, len);
}

static void addr_unix(struct st_addr *a, unsigned family, const void *data,
		      size_t n)
{
	memset(a, 0, sizeof(*a));
	a->family = (uint16_t)family;
	assert_true(n <= sizeof(a->data));
	memcpy(a->data, data, n);
}

static void unix_path(void **state)
{
	struct st_addr a;
	char buf[128];

	(void)state;
	addr_unix(&a, AF_UNIX, "/run/app.sock", 13);
	addr_str(&a, buf, sizeof(buf));
	assert_string_equal(buf, "/run/app.sock");

	/* a path that fills the field has no NUL of its own */
	addr_unix(&a, AF_UNIX, "/var/run/daemon/ctl.sock", 24);
	addr_str(&a, buf, sizeof(buf));
	assert_string_equal(buf, "/var/run/daemon/ctl.sock");

	/* an unbound Unix socket has no name at all */
	addr_unix(&a, AF_UNIX, "", 0);
	addr_str(&a, buf, sizeof(buf));
	assert_string_equal(buf, "(unnamed)");
}

static void unix_abstract(void **state)
{
	static const char name[] = "\0sock-abc";
	static const char inner[] = "\0a\0b";
	static const char full[] = "\0gnome-keyring-control23";
	struct st_addr a;
	char buf[128];

	(void)state;
	/* the leading NUL of an abstract name shows as '@'; the NUL
	 * padding after a short name is not part of it */
	addr_unix(&a, AF_UNIX, name, sizeof(name) - 1);
	addr_str(&a, buf, sizeof(buf));
	assert_string_equal(buf, "@sock-abc");

	/* NULs inside the name show as '@' too */
	addr_unix(&a, AF_UNIX, inner, sizeof(inner) - 1);
	addr_str(&a, buf, sizeof(buf));
	assert_string_equal(buf, "@a@b");

	/* a leading NUL and nothing else is no name, not "@" */
	memset(&a, 0, sizeof(a));
	a.family = AF_UNIX;
	addr_str(&a, buf, sizeof(buf));
	assert_string_equal(buf, "(unnamed)");

	/* a name that fills the field has no padding */
	addr_unix(&a, AF_UNIX, full, sizeof(full) - 1);
	addr_str(&a, buf, sizeof(buf));
	assert_string_equal(buf, "@gnome-keyring-control23");
}

static void unix_truncated(void **state)
{
	/* the last 24 bytes of a longer path, as the preload keeps them */
	static const char tail[] = "ong/directory/app.socket";
	struct st_addr a;
	char buf[128];

	(void)state;
	addr_unix(&a, AF_UNIX | ST_ADDR_TRUNC, tail, sizeof(tail) - 1);
	addr_str(&a, buf, sizeof(buf));
	assert_string_equal(buf, "...ong/directory/app.socket");
}

static void inet(void **state)
{
	struct st_addr a;
	uint32_t scope = 3;
	char buf[128];

	(void)state;
	memset(&a, 0, sizeof(a));
	a.family = AF_INET;
	a.port = 8080;
	assert_int_equal(inet_pton(AF_INET, "192.0.2.7", a.data), 1);
	addr_str(&a, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.7:8080");

	/* a link-local address is ambiguous without its scope */
	memset(&a, 0, sizeof(a));
	a.family = AF_INET6;
	a.port = 22;
	assert_int_equal(inet_pton(AF_INET6, "fe80::1", a.data), 1);
	memcpy(a.data + 16, &scope, sizeof(scope));
	addr_str(&a, buf, sizeof(buf));
	assert_string_equal(buf, "[fe80::1%3]:22");

	/* no address recorded */
	memset(&a, 0, sizeof(a));
	addr_str(&a, buf, sizeof(buf));
	assert_string_equal(buf, "");
}

int main(void)
{
	struct CMUnitTest rows[] = {
#define ROW(call, shape, dir)              \
	{ .name = "round_trip(" #call ")", \
	  .test_func = round_trip,         \
	  .initial_state = &cases[ST_CALL_##call] },
		ST_CALL_TABLE(ROW)
#undef ROW
	};
	const struct CMUnitTest addrs[] = {
		cmocka_unit_test(unix_path),
		cmocka_unit_test(unix_abstract),
		cmocka_unit_test(unix_truncated),
		cmocka_unit_test(inet),
	};
	int failed;

	failed = cmocka_run_group_tests_name("records round trip", rows,
					     setup_trace, teardown_trace);
	failed += cmocka_run_group_tests_name("st_addr_str", addrs, NULL, NULL);
	return failed ? 1 : 0;
}
