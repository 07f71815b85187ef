/* SPDX-License-Identifier: MIT */
/* Opening a set of trace files and reporting on them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"
#include "socktrace/dir.h"
#include "units.h"

/* Is T's file one of those already open in S? */
static bool seen(const struct st_traceset *s, const struct st_trace *t)
{
	for (int i = 0; i < s->n; i++)
		if (s->t[i].dev == t->dev && s->t[i].ino == t->ino)
			return true;
	return false;
}

int st_traceset_open(struct st_traceset *s, char **paths, int npaths, char *err)
{
	char dir[PATH_MAX];
	char *def[1] = { dir };
	char **files;

	memset(s, 0, sizeof(*s));
	if (npaths == 0) {
		st_trace_dir(dir, sizeof(dir), getenv);
		paths = def;
		npaths = 1;
	}
	int n = st_trace_find(paths, npaths, &files, err);
	if (n < 0)
		return -1;
	if (n == 0) {
		snprintf(err, ST_ERR_LEN,
			 "no trace files (*.trace) in %s: run a program with "
			 "LD_PRELOAD=libsocktrace.so or 'socktrace run' first",
			 npaths == 1 ? paths[0] : "the given paths");
		free(files);
		return -1;
	}
	s->t = calloc(n, sizeof(*s->t));
	if (!s->t) {
		snprintf(err, ST_ERR_LEN, "out of memory");
		n = -n;
	}
	for (int i = 0; i < (n > 0 ? n : -n); i++) {
		char e[ST_ERR_LEN];
		if (n > 0 && st_trace_open(&s->t[s->n], files[i], e) == 0) {
			if (!seen(s, &s->t[s->n]))
				s->n++;
			else /* named twice (DIR and DIR/x.trace): once */
				st_trace_close(&s->t[s->n]);
		} else if (n > 0) {
			fprintf(stderr, "socktrace: %s\n", e);
			s->failed++;
		}
		free(files[i]);
	}
	free(files);
	if (n < 0)
		return -1;
	if (s->n == 0) {
		snprintf(err, ST_ERR_LEN,
			 "none of the %d trace files could be "
			 "read",
			 s->failed);
		st_traceset_close(s);
		return -1;
	}
	return 0;
}

int st_traceset_add(struct st_traceset *s, const char *path, char *err)
{
	struct st_trace *t = realloc(s->t, (s->n + 1) * sizeof(*t));

	if (!t) {
		snprintf(err, ST_ERR_LEN, "out of memory");
		return -1;
	}
	s->t = t;
	if (st_trace_open(&s->t[s->n], path, err))
		return -1;
	return s->n++;
}

void st_traceset_close(struct st_traceset *s)
{
	for (int i = 0; i < s->n; i++)
		st_trace_close(&s->t[i]);
	free(s->t);
	s->t = NULL;
	s->n = 0;
}

struct st_read_counts *st_traceset_counts(const struct st_traceset *s)
{
	struct st_read_counts *rc =
		calloc(s->n ? (size_t)s->n : 1, sizeof(*rc));

	for (int i = 0; rc && i < s->n; i++) {
		const struct st_trace *t = &s->t[i];
		rc[i].missing = t->missing;
		rc[i].corrupt = t->corrupt;
		rc[i].good = t->good;
		memcpy(rc[i].warn, t->warn, sizeof(t->warn));
	}
	return rc;
}

void st_traceset_counts_restore(struct st_traceset *s,
				struct st_read_counts *rc)
{
	for (int i = 0; rc && i < s->n; i++) {
		struct st_trace *t = &s->t[i];
		t->missing = rc[i].missing;
		t->corrupt = rc[i].corrupt;
		t->good = rc[i].good;
		memcpy(t->warn, rc[i].warn, sizeof(t->warn));
	}
	free(rc);
}

int st_traceset_warn(struct st_traceset *s)
{
	int damaged = 0, ptraced = 0;

	for (int i = 0; i < s->n; i++) {
		struct st_trace *t = &s->t[i];
		ptraced += t->hdr.source == ST_SOURCE_PTRACE;
		if (t->warn[0] || t->corrupt)
			damaged++;
		if (t->warn[0])
			fprintf(stderr, "socktrace: %s\n", t->warn);
		if (t->corrupt > 1)
			fprintf(stderr,
				"socktrace: %s: %llu corrupt records "
				"skipped\n",
				t->path, (unsigned long long)t->corrupt);
		char loss[256];
		if (st_trace_loss(t, false, loss, sizeof(loss)))
			fprintf(stderr, "socktrace: %s: %s\n", t->path, loss);
	}
	if (ptraced)
		fprintf(stderr,
			"socktrace: %d process%s traced with ptrace: data "
			"calls were not traced; bytes are TCP_INFO's at "
			"close\n",
			ptraced, ptraced == 1 ? "" : "es");
	return damaged;
}

/* Why trace T lost records, in words starting " (", or "". */
static const char *loss_why(const struct st_trace *t, bool with_cut)
{
	bool over = t->hdr.next > t->hdr.capacity;
	bool ring = t->hdr.policy == ST_POLICY_RING;
	uint32_t lim = t->hdr.limits;

	if (over && (lim & ST_LIMIT_FSIZE))
		return ring ? " (its ring was full: the program's own "
			      "RLIMIT_FSIZE kept it small)"
			    : " (its file was full: the program's own "
			      "RLIMIT_FSIZE kept it small)";
	if (over && (lim & ST_LIMIT_AS))
		return ring ? " (its ring was full: the program's own "
			      "RLIMIT_AS kept it small)"
			    : " (its file was full: the program's own "
			      "RLIMIT_AS kept it small)";
	if (over)
		return ring ? " (its ring was full: raise SOCKTRACE_MAX_SIZE)"
			    : " (its file was full: raise SOCKTRACE_MAX_SIZE)";
	if (t->hdr.dropped && (lim & ST_LIMIT_FSIZE))
		return " (its file could not grow past the program's "
		       "RLIMIT_FSIZE)";
	if (t->hdr.dropped && (lim & ST_LIMIT_AS))
		return " (its file stopped growing when the program set its "
		       "RLIMIT_AS)";
	if (t->hdr.dropped)
		return " (its file could not grow: the file system was "
		       "full or the directory unreachable)";
	return t->cut && with_cut ? " (the file is truncated)" : "";
}

bool st_trace_loss(const struct st_trace *t, bool with_cut, char *buf,
		   size_t len)
{
	uint64_t n = t->lost + t->missing - (with_cut ? 0 : t->cut);

	if (!n)
		return false;
	snprintf(buf, len,
		 "%.16s[%d] lost %llu record%s%s: its timelines may be "
		 "incomplete",
		 t->hdr.comm, t->hdr.pid, (unsigned long long)n, st_plural(n),
		 loss_why(t, with_cut));
	return true;
}

static void json_strn(struct st_out *o, const char *key, const char *s,
		      size_t max)
{
	st_out_key(o, key);
	st_out_json_str(o, s, strnlen(s, max));
}

void st_process_json(struct st_out *o, const struct st_trace *t)
{
	const struct st_header *h = &t->hdr;

	st_out_str(o, "{\"type\":\"process\"");
	st_out_ki(o, "pid", h->pid);
	st_out_ki(o, "ppid", h->ppid);
	st_out_ki(o, "uid", h->uid);
	json_strn(o, "comm", h->comm, sizeof(h->comm));
	json_strn(o, "exe", h->exe, sizeof(h->exe));
	json_strn(o, "host", h->host, sizeof(h->host));
	json_strn(o, "boot_id", h->boot_id, sizeof(h->boot_id));
	json_strn(o, "file", t->path, sizeof(t->path));
	st_out_str(o, h->source == ST_SOURCE_PTRACE ? ",\"source\":\"ptrace\""
		      : h->source == ST_SOURCE_PTRACE_DATA
			      ? ",\"source\":\"ptrace_data\""
			      : ",\"source\":\"preload\"");
	st_out_ku(o, "start_ts", h->mono_ns);
	st_out_ku(o, "start_wall_ns", h->real_ns);
	st_out_key(o, "exit_ts");
	if (h->exit_ts)
		st_out_u64(o, h->exit_ts);
	else
		st_out_str(o, "null");
	st_out_ki(o, "somaxconn", h->somaxconn);
	/* the TCP timers came with version 4: null before */
	static const char *const timer[] = { "tcp_fin_timeout",
					     "tcp_syn_retries",
					     "tcp_synack_retries",
					     "tcp_tw_reuse" };
	const int32_t tv[] = { h->tcp_fin_timeout, h->tcp_syn_retries,
			       h->tcp_synack_retries, h->tcp_tw_reuse };
	for (int i = 0; i < 4; i++) {
		st_out_key(o, timer[i]);
		if (h->version >= 4)
			st_out_i64(o, tv[i]);
		else
			st_out_str(o, "null");
	}
	/* what the file holds, less what reading found unusable so far:
	 * view prints this line before reading, dump after */
	st_out_ku(o, "records", t->end - t->first - t->missing - t->corrupt);
	st_out_ku(o, "lost", t->lost + t->missing);
	st_out_ku(o, "corrupt", t->corrupt);
	st_out_str(o, "}\n");
}

const char *st_proc_name(const struct st_trace *t, char buf[48])
{
	/* "%.16s[%d]", by hand: the text view asks for it every line */
	size_t n = strnlen(t->hdr.comm, 16);
	char *p = buf;

	memcpy(p, t->hdr.comm, n);
	p += n;
	*p++ = '[';
	p = st_put_i64(p, t->hdr.pid);
	*p++ = ']';
	*p = 0;
	return buf;
}
