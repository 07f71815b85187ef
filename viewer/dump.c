/* SPDX-License-Identifier: MIT */
/* socktrace dump: every record of the given traces, in time order. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "load.h"
#include "records.h"

struct item {
	struct st_rec r;
	int file;
	uint64_t n;
};

static int cmp_item(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	if (x->r.ts != y->r.ts)
		return x->r.ts < y->r.ts ? -1 : 1;
	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	return x->n < y->n ? -1 : x->n > y->n;
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
		if (r->ret >= 0)
			p = st_put_i64(p, r->ret);
		else
			p = ST_PUT_LIT(p, "null");
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
	} else if (st_call_dir[r->call] == ST_DIR_IN && r->ret == 0) {
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

static void usage(FILE *f)
{
	fprintf(f, "usage: socktrace dump [--json] [PATH...]\n"
		   "Prints every record of the trace files (or directories of "
		   "them) in time order.\n"
		   "PATH defaults to the trace directory ($SOCKTRACE_DIR, "
		   "$XDG_RUNTIME_DIR/socktrace\nor /tmp/socktrace-$UID).\n"
		   "  --json   one JSON object per line: process lines, then "
		   "call lines\n");
}

int st_cmd_dump(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, 0, 'j' },
					      { "help", no_argument, 0, 'h' },
					      { 0, 0, 0, 0 } };
	bool json = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}

	struct st_traceset s;
	char err[ST_ERR_LEN];
	if (st_traceset_open(&s, argv + optind, argc - optind, err)) {
		fprintf(stderr, "socktrace dump: %s\n", err);
		return 1;
	}

	/* dump sorts every record: its memory grows with the trace */
	size_t n = 0, cap = 0;
	struct item *items = NULL;
	for (int i = 0; i < s.n; i++) {
		struct st_trace *t = &s.t[i];
		for (uint64_t k = st_trace_skip(t, t->first); k < t->end;
		     k = st_trace_skip(t, k + 1)) {
			if (n == cap) {
				cap = cap ? cap * 2 : 4096;
				struct item *m = realloc(items, cap * sizeof(*m));
				if (!m) {
					fprintf(stderr,
						"socktrace dump: out of memory "
						"after %zu records\n",
						n);
					free(items);
					st_traceset_close(&s);
					return 1;
				}
				items = m;
			}
			if (st_trace_get(t, k, &items[n].r) == 1) {
				items[n].file = i;
				items[n].n = k;
				n++;
			}
		}
	}
	if (n) /* items is NULL when no file had a record */
		qsort(items, n, sizeof(*items), cmp_item);

	struct st_out *o = malloc(sizeof(*o));
	if (!o) {
		free(items);
		st_traceset_close(&s);
		return 1;
	}
	st_out_init(o, stdout);
	uint64_t t0 = n ? items[0].r.ts : 0;
	for (int i = 0; i < s.n; i++) {
		if (json)
			st_process_json(o, &s.t[i]);
		else
			st_out_fmt(o, "# process %s[%d] ppid %d exe %s: %llu "
				      "records, %llu lost (%s)\n",
				   s.t[i].hdr.comm, s.t[i].hdr.pid,
				   s.t[i].hdr.ppid, s.t[i].hdr.exe,
				   (unsigned long long)s.t[i].good,
				   (unsigned long long)(s.t[i].lost +
							s.t[i].missing),
				   s.t[i].path);
	}
	for (size_t i = 0; i < n; i++) {
		const struct st_trace *t = &s.t[items[i].file];
		if (json)
			st_call_json(o, &items[i].r, t->hdr.pid);
		else
			st_call_text(o, &items[i].r, t, t0);
	}
	int rc = st_out_flush(o) ? 1 : 0;
	int failed = s.failed + st_traceset_warn(&s);
	free(o);
	free(items);
	st_traceset_close(&s);
	if (rc)
		fprintf(stderr, "socktrace dump: write error on output\n");
	return rc || failed ? 1 : 0;
}
