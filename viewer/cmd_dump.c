/* SPDX-License-Identifier: MIT */
/* socktrace dump: every record of the given traces, in time order. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "load.h"
#include "out.h"
#include "records.h"
#include "units.h"

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

/*
 * Every record of S in time order, into *ITEMS (NULL when there is none)
 * and *N.  dump sorts every record: its memory grows with the trace.
 * Returns 0, or -1 after saying it ran out of memory.
 */
static int read_all(struct st_traceset *s, struct item **items, size_t *n)
{
	size_t cap = 0;

	*items = NULL;
	*n = 0;
	for (int i = 0; i < s->n; i++) {
		struct st_trace *t = &s->t[i];
		for (uint64_t k = st_trace_skip(t, t->first); k < t->end;
		     k = st_trace_skip(t, k + 1)) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 4096;
				struct item *m =
					realloc(*items, cap * sizeof(*m));
				if (!m) {
					fprintf(stderr,
						"socktrace dump: out of memory "
						"after %zu records\n",
						*n);
					free(*items);
					*items = NULL;
					return -1;
				}
				*items = m;
			}
			struct item *it = &(*items)[*n];
			if (st_trace_get(t, k, &it->r) == 1) {
				it->file = i;
				it->n = k;
				(*n)++;
			}
		}
	}
	if (*n) /* items is NULL when no file had a record */
		qsort(*items, *n, sizeof(**items), cmp_item);
	return 0;
}

/* A line per process, then one per record (JSON lines with JSON). */
static void print(struct st_out *o, const struct st_traceset *s,
		  const struct item *items, size_t n, bool json)
{
	uint64_t t0 = n ? items[0].r.ts : 0;

	for (int i = 0; i < s->n; i++) {
		const struct st_trace *t = &s->t[i];
		if (json)
			st_process_json(o, t);
		else
			st_out_fmt(o,
				   "# process %s[%d] ppid %d exe %s: "
				   "%llu record%s, %llu lost (%s)\n",
				   t->hdr.comm, t->hdr.pid, t->hdr.ppid,
				   t->hdr.exe, (unsigned long long)t->good,
				   st_plural(t->good),
				   (unsigned long long)(t->lost + t->missing),
				   t->path);
	}
	for (size_t i = 0; i < n; i++) {
		const struct st_trace *t = &s->t[items[i].file];
		if (json)
			st_call_json(o, &items[i].r, t->hdr.pid);
		else
			st_call_text(o, &items[i].r, t, t0);
	}
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
	size_t n;
	struct item *items;
	struct st_out *o = NULL;
	if (read_all(&s, &items, &n) || !(o = malloc(sizeof(*o)))) {
		free(items);
		st_traceset_close(&s);
		return 1;
	}
	st_out_init(o, stdout);
	print(o, &s, items, n, json);
	int rc = st_out_flush(o) ? 1 : 0;
	int failed = s.failed + st_traceset_warn(&s);
	free(o);
	free(items);
	st_traceset_close(&s);
	if (rc)
		fprintf(stderr, "socktrace dump: write error on output\n");
	return rc || failed ? 1 : 0;
}
