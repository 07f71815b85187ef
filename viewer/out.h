/* SPDX-License-Identifier: MIT */
/* Buffered output for the viewer: plain text, numbers and JSON strings. */
#ifndef ST_VIEWER_OUT_H
#define ST_VIEWER_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct st_out {
	FILE *f;
	size_t len;
	bool failed; /* a write to f failed (EPIPE, disk full) */
	bool script_safe; /* JSON strings escape '<' (JSON inside HTML) */
	char buf[1 << 16];
};

void st_out_init(struct st_out *o, FILE *f);
/* Writes what is buffered; returns 0, or -1 if any write failed. */
int st_out_flush(struct st_out *o);
void st_out_mem(struct st_out *o, const char *s, size_t n);
void st_out_str(struct st_out *o, const char *s);
void st_out_chr(struct st_out *o, char c);
void st_out_u64(struct st_out *o, uint64_t v);
void st_out_i64(struct st_out *o, int64_t v);
void st_out_fmt(struct st_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A JSON string literal, quotes included; bytes that are not valid
 * UTF-8 become \u00XX escapes of their byte value. */
void st_out_json_str(struct st_out *o, const char *s, size_t n);
/* ,"key": ahead of a JSON value (inline: literal keys' length folds). */
static inline void st_out_key(struct st_out *o, const char *key)
{
	size_t n = __builtin_strlen(key);

	if (o->len + n + 4 <= sizeof(o->buf)) {
		char *p = o->buf + o->len;
		p[0] = ',';
		p[1] = '"';
		__builtin_memcpy(p + 2, key, n);
		p[n + 2] = '"';
		p[n + 3] = ':';
		o->len += n + 4;
		return;
	}
	st_out_mem(o, ",\"", 2);
	st_out_mem(o, key, n);
	st_out_mem(o, "\":", 2);
}
/* ,"key":value for a number, a string (null if S is NULL). */
void st_out_ku(struct st_out *o, const char *key, uint64_t v);
void st_out_ki(struct st_out *o, const char *key, int64_t v);
void st_out_ks(struct st_out *o, const char *key, const char *s);

#endif
