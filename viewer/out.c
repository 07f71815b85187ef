/* SPDX-License-Identifier: MIT */
/* Buffered output for the viewer: plain text, numbers and JSON strings. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "out.h"

void st_out_init(struct st_out *o, FILE *f)
{
	o->f = f;
	o->len = 0;
	o->failed = false;
}

int st_out_flush(struct st_out *o)
{
	if (o->len && fwrite(o->buf, 1, o->len, o->f) != o->len)
		o->failed = true;
	o->len = 0;
	if (fflush(o->f))
		o->failed = true;
	return o->failed ? -1 : 0;
}

void st_out_drain(struct st_out *o)
{
	if (o->len && fwrite(o->buf, 1, o->len, o->f) != o->len)
		o->failed = true;
	o->len = 0;
}

void st_out_mem(struct st_out *o, const char *s, size_t n)
{
	if (o->len + n > sizeof(o->buf)) {
		st_out_drain(o);
		if (n > sizeof(o->buf)) {
			if (fwrite(s, 1, n, o->f) != n)
				o->failed = true;
			return;
		}
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

void st_out_str(struct st_out *o, const char *s)
{
	st_out_mem(o, s, strlen(s));
}

void st_out_chr(struct st_out *o, char c)
{
	if (o->len == sizeof(o->buf))
		st_out_mem(o, &c, 1);
	else
		o->buf[o->len++] = c;
}

void st_out_u64(struct st_out *o, uint64_t v)
{
	st_out_end(o, st_put_u64(st_out_room(o, ST_PUT_NUM_MAX), v));
}

void st_out_i64(struct st_out *o, int64_t v)
{
	st_out_end(o, st_put_i64(st_out_room(o, ST_PUT_NUM_MAX + 1), v));
}

void st_out_fmt(struct st_out *o, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		st_out_mem(o, tmp,
			   (size_t)n < sizeof(tmp) ? (size_t)n
						   : sizeof(tmp) - 1);
}

char *st_put_milli1(char *p, uint64_t v)
{
	double d = (double)v / 1000.0;

	if (v >= (1ull << 40)) /* the double is too coarse for the rule */
		return p + sprintf(p, "%.1f", d);
	/* tenths: V / 100 rounded.  Half-way (V % 100 == 50), printf
	 * rounds the double, which lies just above or below the half (or
	 * on it: then to even); fma() tells which, exactly. */
	uint64_t q = v / 100, r = v % 100;
	if (r > 50) {
		q++;
	} else if (r == 50) {
		double err = fma(d, 1000.0, -(double)v);
		if (err > 0 || (err == 0 && (q & 1)))
			q++;
	}
	p = st_put_u64(p, q / 10);
	*p++ = '.';
	*p++ = (char)('0' + q % 10);
	return p;
}

void st_out_cat(struct st_out *o, const char *const *parts)
{
	for (; *parts; parts++)
		st_out_str(o, *parts);
}

const char *st_dec(char buf[24], int64_t v)
{
	*st_put_i64(buf, v) = 0;
	return buf;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;

	if (s[0] >= 0xf5 || len == 0 || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

char *st_put_json_str(char *p, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	static const char hex[] = "0123456789abcdef";

	*p++ = '"';
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\' &&
		    c != '<') {
			*p++ = (char)c; /* the usual case */
		} else if (c == '"' || c == '\\') {
			*p++ = '\\';
			*p++ = (char)c;
		} else if (c == '<') {
			/* valid JSON either way; escaped, the JSON can sit in
			 * an HTML script (no "</script" or "<!--" in it) */
			p = ST_PUT_LIT(p, "\\u003c");
		} else if (c >= 0x80 && utf8_len(s + i, n - i)) {
			size_t l = utf8_len(s + i, n - i);
			memcpy(p, s + i, l);
			p += l;
			i += l;
			continue;
		} else {
			p = ST_PUT_LIT(p, "\\u00");
			*p++ = hex[c >> 4];
			*p++ = hex[c & 15];
		}
		i++;
	}
	*p++ = '"';
	return p;
}

void st_out_json_str(struct st_out *o, const char *str, size_t n)
{
	if (ST_JSON_STR_MAX(n) <= ST_OUT_ROOM_MAX) {
		char *p = st_out_room(o, ST_JSON_STR_MAX(n));
		st_out_end(o, st_put_json_str(p, str, n));
		return;
	}
	/* longer than the buffer could take escaped: a byte at a time */
	const unsigned char *s = (const unsigned char *)str;

	st_out_chr(o, '"');
	for (size_t i = 0; i < n;) {
		size_t l = s[i] >= 0x80 ? utf8_len(s + i, n - i) : 1;
		char e[8];
		if (l > 1) {
			st_out_mem(o, str + i, l);
			i += l;
			continue;
		}
		/* one byte on its own: escaped as the fast path does */
		char *x = st_put_json_str(e, str + i, 1);
		st_out_mem(o, e + 1, (size_t)(x - e - 2));
		i++;
	}
	st_out_chr(o, '"');
}

void st_out_ku(struct st_out *o, const char *key, uint64_t v)
{
	st_out_key(o, key);
	st_out_u64(o, v);
}

void st_out_ki(struct st_out *o, const char *key, int64_t v)
{
	st_out_key(o, key);
	st_out_i64(o, v);
}

void st_out_ks(struct st_out *o, const char *key, const char *s)
{
	st_out_key(o, key);
	if (s)
		st_out_json_str(o, s, strlen(s));
	else
		st_out_str(o, "null");
}
