/* SPDX-License-Identifier: MIT */
/* Buffered output for the viewer: plain text, numbers and JSON strings. */
#ifndef ST_VIEWER_OUT_H
#define ST_VIEWER_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct st_out {
	FILE *f;
	size_t len;
	bool failed; /* a write to f failed (EPIPE, disk full) */
	char buf[1 << 16];
};

void st_out_init(struct st_out *o, FILE *f);
/* Writes what is buffered; returns 0, or -1 if any write failed. */
int st_out_flush(struct st_out *o);
/* Writes what is buffered to f, without fflush. */
void st_out_drain(struct st_out *o);
void st_out_mem(struct st_out *o, const char *s, size_t n);
void st_out_str(struct st_out *o, const char *s);
void st_out_chr(struct st_out *o, char c);
void st_out_u64(struct st_out *o, uint64_t v);
void st_out_i64(struct st_out *o, int64_t v);
void st_out_fmt(struct st_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The strings of a NULL-terminated list, one after the other: what
 * st_out_fmt("%s%s...") prints, without parsing a format. */
void st_out_cat(struct st_out *o, const char *const *parts);
#define ST_OUT_CAT(o, ...) \
	st_out_cat((o), (const char *const[]){ __VA_ARGS__, NULL })
/* V in decimal in BUF, for ST_OUT_CAT. */
const char *st_dec(char buf[24], int64_t v);
/* A JSON string literal, quotes included; bytes that are not valid
 * UTF-8 become \u00XX escapes of their byte value. */
void st_out_json_str(struct st_out *o, const char *s, size_t n);

/*
 * Writing in place, the viewer's fast path (its output is most of its
 * work on large traces): st_out_room makes room for N bytes (N at most
 * ST_OUT_ROOM_MAX) and returns where they go; the st_put_* helpers write
 * there and return the new end; st_out_end records it.
 */
#define ST_OUT_ROOM_MAX (sizeof(((struct st_out *)0)->buf))

static inline char *st_out_room(struct st_out *o, size_t n)
{
	if (__builtin_expect(o->len + n > sizeof(o->buf), 0))
		st_out_drain(o);
	return o->buf + o->len;
}

static inline void st_out_end(struct st_out *o, char *p)
{
	o->len = (size_t)(p - o->buf);
}

/* A string literal, its length known at compile time. */
#define ST_PUT_LIT(p, lit) \
	(memcpy((p), "" lit, sizeof(lit) - 1), (p) + sizeof(lit) - 1)

/* Bytes a st_put_u64 / st_put_i64 writes at most. */
#define ST_PUT_NUM_MAX 20

/* Digits of V in decimal (1 for 0). */
static inline int st_dec_len(uint64_t v)
{
	static const uint64_t pow10[20] = {
		1ull,
		10ull,
		100ull,
		1000ull,
		10000ull,
		100000ull,
		1000000ull,
		10000000ull,
		100000000ull,
		1000000000ull,
		10000000000ull,
		100000000000ull,
		1000000000000ull,
		10000000000000ull,
		100000000000000ull,
		1000000000000000ull,
		10000000000000000ull,
		100000000000000000ull,
		1000000000000000000ull,
		10000000000000000000ull,
	};
	/* log10 from log2: 1233/4096 is just above log10(2) */
	int t = ((64 - __builtin_clzll(v | 1)) * 1233) >> 12;

	return t + 1 - ((v | 1) < pow10[t]);
}

/* V in decimal (the same digits as printf's %llu). */
static inline char *st_put_u64(char *p, uint64_t v)
{
	static const char pairs[201] =
		"00010203040506070809101112131415161718192021222324"
		"25262728293031323334353637383940414243444546474849"
		"50515253545556575859606162636465666768697071727374"
		"75767778798081828384858687888990919293949596979899";
	int n = st_dec_len(v);
	char *e = p + n;

	/* two digits a step, in 32-bit arithmetic where it fits */
	while (v > UINT32_MAX) {
		uint32_t lo = (uint32_t)(v % 100000000);
		v /= 100000000;
		for (int i = 0; i < 4; i++) {
			e -= 2;
			memcpy(e, pairs + lo % 100 * 2, 2);
			lo /= 100;
		}
	}
	uint32_t w = (uint32_t)v;
	while (w >= 100) {
		e -= 2;
		memcpy(e, pairs + w % 100 * 2, 2);
		w /= 100;
	}
	if (w >= 10)
		memcpy(e - 2, pairs + w * 2, 2);
	else
		e[-1] = (char)('0' + w);
	return p + n;
}

static inline char *st_put_i64(char *p, int64_t v)
{
	if (v < 0) {
		*p++ = '-';
		return st_put_u64(p, (uint64_t)0 - (uint64_t)v);
	}
	return st_put_u64(p, (uint64_t)v);
}

/* N bytes of S (N at most 16: names, short words) without a call. */
static inline char *st_put_short(char *p, const char *s, size_t n)
{
	uint64_t a, b;
	uint32_t x, y;

	if (n >= 8) {
		/* two 8-byte moves that overlap in the middle */
		memcpy(&a, s, 8);
		memcpy(&b, s + n - 8, 8);
		memcpy(p, &a, 8);
		memcpy(p + n - 8, &b, 8);
	} else if (n >= 4) {
		memcpy(&x, s, 4);
		memcpy(&y, s + n - 4, 4);
		memcpy(p, &x, 4);
		memcpy(p + n - 4, &y, 4);
	} else {
		for (size_t i = 0; i < n; i++)
			p[i] = s[i];
	}
	return p + n;
}

/* V / 10^3 with one decimal, exactly as printf("%.1f", V / 1000.0)
 * prints it (rounding of the double included); out.c. */
char *st_put_milli1(char *p, uint64_t v);

/* Bytes a JSON string of N bytes takes at most, quotes included. */
#define ST_JSON_STR_MAX(n) (6 * (n) + 2)

/* S as a JSON string literal (see st_out_json_str). */
char *st_put_json_str(char *p, const char *s, size_t n);

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
