/* SPDX-License-Identifier: MIT */
/* socktrace dump: every record of the given traces, in time order. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "load.h"
#include "merge.h"
#include "out.h"
#include "records.h"
#include "units.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: socktrace dump [--json] [PATH...]\n"
		   "Prints every record of the trace files (or directories of "
		   "them) in the order\nthe calls returned.\n"
		   "PATH defaults to the trace directory ($SOCKTRACE_DIR, "
		   "$XDG_RUNTIME_DIR/socktrace\nor /tmp/socktrace-$UID).\n"
		   "  --json   one JSON object per line: process lines, then "
		   "call lines\n");
}

/* The start of S's earliest record, the zero of text's times. */
static uint64_t first_ts(struct st_traceset *s)
{
	uint64_t t0 = UINT64_MAX;

	for (int i = 0; i < s->n; i++) {
		struct st_trace *t = &s->t[i];
		struct st_rec r;
		uint64_t k = st_trace_skip(t, t->first);
		if (k < t->end && st_trace_get(t, k, &r) == 1 && r.ts < t0)
			t0 = r.ts;
	}
	return t0 == UINT64_MAX ? 0 : t0;
}

/*
 * A line per process, then one per record in the order the calls
 * returned (JSON lines with JSON), streamed: memory is bounded by the
 * files, not the records (they are read twice).  0, or -1 after saying
 * it ran out of memory.
 */
static int print(struct st_out *o, struct st_traceset *s, bool json)
{
	uint64_t t0 = first_ts(s);
	struct st_merge mg;
	struct st_rec r;
	int file;
	struct st_read_counts *rc;

	/* a pass that counts, so that the process lines say what the
	 * files hold before their records stream out */
	if (st_merge_init(&mg, s))
		goto oom;
	while (st_merge_next(&mg, &r, &file))
		;
	st_merge_free(&mg);
	if (!(rc = st_traceset_counts(s)))
		goto oom;

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
	if (st_merge_init(&mg, s)) {
		free(rc);
		goto oom;
	}
	while (st_merge_next(&mg, &r, &file)) {
		const struct st_trace *t = &s->t[file];
		if (json)
			st_call_json(o, &r, t->hdr.pid);
		else
			st_call_text(o, &r, t, t0);
	}
	st_merge_free(&mg);
	st_traceset_counts_restore(s, rc);
	return 0;
oom:
	fprintf(stderr, "socktrace dump: out of memory\n");
	return -1;
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
	struct st_out *o = malloc(sizeof(*o));
	if (!o) {
		st_traceset_close(&s);
		return 1;
	}
	st_out_init(o, stdout);
	if (print(o, &s, json)) {
		free(o);
		st_traceset_close(&s);
		return 1;
	}
	int rc = st_out_flush(o) ? 1 : 0;
	int failed = s.failed + st_traceset_warn(&s);
	free(o);
	st_traceset_close(&s);
	if (rc)
		fprintf(stderr, "socktrace dump: write error on output\n");
	return rc || failed ? 1 : 0;
}
