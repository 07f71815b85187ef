/* SPDX-License-Identifier: MIT */
/* Buffered output for the viewer: plain text, numbers and JSON strings. */
#include <stdarg.h>
#include <string.h>

#include "out.h"

void st_out_init(struct st_out *o, FILE *f)
{
	o->f = f;
	o->len = 0;
	o->failed = false;
	o->script_safe = false;
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

void st_out_mem(struct st_out *o, const char *s, size_t n)
{
	if (o->len + n > sizeof(o->buf)) {
		if (o->len && fwrite(o->buf, 1, o->len, o->f) != o->len)
			o->failed = true;
		o->len = 0;
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
	char tmp[24];
	int i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	st_out_mem(o, tmp + i, sizeof(tmp) - i);
}

void st_out_i64(struct st_out *o, int64_t v)
{
	if (v < 0) {
		st_out_chr(o, '-');
		st_out_u64(o, (uint64_t)0 - (uint64_t)v);
	} else {
		st_out_u64(o, (uint64_t)v);
	}
}

void st_out_fmt(struct st_out *o, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0)
		st_out_mem(o, tmp, (size_t)n < sizeof(tmp) ? (size_t)n
							    : sizeof(tmp) - 1);
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

void st_out_json_str(struct st_out *o, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	static const char hex[] = "0123456789abcdef";

	st_out_chr(o, '"');
	/* the usual case, nothing to escape: one copy */
	size_t plain = 0;
	while (plain < n && s[plain] >= 0x20 && s[plain] < 0x7f &&
	       s[plain] != '"' && s[plain] != '\\' && s[plain] != '<')
		plain++;
	st_out_mem(o, str, plain);
	for (size_t i = plain; i < n;) {
		unsigned char c = s[i];
		if (c == '"' || c == '\\') {
			st_out_chr(o, '\\');
			st_out_chr(o, (char)c);
		} else if (c == '<' && o->script_safe) {
			/* no "</script" or "<!--" inside an HTML script */
			st_out_mem(o, "\\u003c", 6);
		} else if (c >= 0x20 && c < 0x7f) {
			st_out_chr(o, (char)c);
		} else if (c >= 0x80 && utf8_len(s + i, n - i)) {
			size_t l = utf8_len(s + i, n - i);
			st_out_mem(o, (const char *)s + i, l);
			i += l;
			continue;
		} else {
			char e[6] = { '\\', 'u', '0', '0', hex[c >> 4],
				      hex[c & 15] };
			st_out_mem(o, e, sizeof(e));
		}
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
