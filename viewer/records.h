/* SPDX-License-Identifier: MIT */
/* Record names and printers, generated from the call table. */
#ifndef ST_VIEWER_RECORDS_H
#define ST_VIEWER_RECORDS_H

#include <stdbool.h>

#include "out.h"
#include "socktrace/format.h"

/* the table expands inside the braces: clang-format would indent it */
/* clang-format off */
enum st_shape {
#define ST__S(shape) ST_SHAPE_ID_##shape,
	ST_SHAPE_LIST(ST__S)
#undef ST__S
	ST_SHAPE_COUNT
};
/* clang-format on */

extern const char *const st_call_name[ST_CALL_COUNT];
extern const unsigned char st_call_name_len[ST_CALL_COUNT]; /* at most 16 */
extern const unsigned char st_call_shape[ST_CALL_COUNT];
extern const unsigned char st_call_dir[ST_CALL_COUNT];

/* "ECONNREFUSED" for 111; "E123" when unnamed. Returns a static or BUF. */
const char *st_errno_name(int err, char buf[16]);
/* A failure that is the normal course of non-blocking or interrupted I/O
 * (EINPROGRESS, EALREADY, EAGAIN, EINTR): drawn as a call, not an error. */
bool st_errno_soft(int err);
/* "ESTABLISHED" for TCP_ESTABLISHED, NULL for 0 or unknown. */
const char *st_tcp_state_name(unsigned state);
/* Formats A as "1.2.3.4:80", "[::1]:80", "/path", "@abstract"; "" if none. */
void st_addr_str(const struct st_addr *a, char *buf, size_t len);
/* Connection id as "PID:N". */
void st_conn_str(uint64_t conn, char buf[24]);

/* Bytes st_put_addr_json and st_put_conn_json write at most: an
 * address as text is at most 64 bytes ("[v6%scope]:port"). */
#define ST_ADDR_JSON_MAX ST_JSON_STR_MAX(64)
#define ST_CONN_JSON_MAX 24
/* "1.2.3.4:80" as a JSON string, or null when there is no address. */
char *st_put_addr_json(char *p, const struct st_addr *a);
/* "PID:N" as a JSON string, or null for connection id 0. */
char *st_put_conn_json(char *p, uint64_t conn);
/* Connection id as PID:N, unquoted. */
char *st_put_conn(char *p, uint64_t conn);

/* ,"key":"PID:N" (null for connection id 0). */
void st_json_conn(struct st_out *o, const char *key, uint64_t conn);

/* Bytes st_put_rec_json_fields writes at most (checked for every shape
 * at compile time). */
#define ST_FIELDS_JSON_MAX 1024
/* ,"key":value for every payload field of R (JSON). */
char *st_put_rec_json_fields(char *p, const struct st_rec *r, int32_t pid);
/* " key=value" for every payload field of R that is set (text), at
 * most ST_FIELDS_TEXT_MAX bytes. */
#define ST_FIELDS_TEXT_MAX 1024
char *st_put_rec_text_fields(char *p, const struct st_rec *r, int32_t pid);

/* Whole records, as dump prints them (view --json and Perfetto too). */
struct st_trace;
/* {"type":"call",...} for one record of process PID, newline-terminated. */
void st_call_json(struct st_out *o, const struct st_rec *r, int32_t pid);
/* One human-readable line for record R of file T; times from T0. */
void st_call_text(struct st_out *o, const struct st_rec *r,
		  const struct st_trace *t, uint64_t t0);

#endif
