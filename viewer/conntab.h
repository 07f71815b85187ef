/* SPDX-License-Identifier: MIT */
/* The connection table: ends by id, fds that name them, timeline lines. */
#ifndef ST_VIEWER_CONNTAB_H
#define ST_VIEWER_CONNTAB_H

#include "conn.h"

/* Which connection an fd of a traced process refers to. */
struct st_fdkey {
	int32_t file;
	int32_t fd;
};
struct st_fdref {
	struct st_fdkey key;
	UT_hash_handle hh;
	struct st_conn *conn;
};

/* Connections closed unseen that a late close record is matched to. */
#define ST_UNSEEN_KEEP 64

struct st_conntab {
	struct st_conn *conns;	 /* open or waiting: uthash by id */
	struct st_conn *aliases; /* those known by a second id: by alias_id */
	struct st_fdref *fds;	 /* (file, fd) -> connection */
	uint32_t ev_cap;	 /* timeline lines kept per connection */
	/* the latest connections closed unseen (st_conntab_unseen_note) */
	uint64_t unseen[ST_UNSEEN_KEEP];
	unsigned nunseen;
	/* freed objects kept for reuse: the model makes and drops several
	 * per connection, and malloc showed in profiles */
	struct st_conn *spare_conn;
	void *spare_fd;
};

/* The kind (enum st_kind) of a socket of DOMAIN and TYPE (SOCK_* flags
 * ignored). */
uint8_t st_conn_kind(int domain, int type);

/* The kind of the socket record R is about, from its st_rec.sock;
 * ST_KIND_OTHER when the record does not say. */
uint8_t st_rec_kind(const struct st_rec *r);

/* Connection C is also named ID from now on (an exec'd image's id for
 * the socket it inherited); st_conntab_find finds it by either. */
void st_conntab_alias(struct st_conntab *t, struct st_conn *c, uint64_t id);

/* An empty table keeping up to EV_CAP timeline lines per connection. */
void st_conntab_init(struct st_conntab *t, uint32_t ev_cap);
/* Frees every connection, fd and spare object. */
void st_conntab_free(struct st_conntab *t);

/* Connection ID, or NULL. */
struct st_conn *st_conntab_find(const struct st_conntab *t, uint64_t id);
/* Connection ID, made (zeroed, opened by FILE's FD at TS) if new. */
struct st_conn *st_conntab_get(struct st_conntab *t, uint64_t id, int file,
			       int fd, uint64_t ts);
/* Takes C out of the table (it is being emitted). */
void st_conntab_remove(struct st_conntab *t, struct st_conn *c);
/* Frees C after it was emitted, keeping it for the next connection. */
void st_conntab_release(struct st_conntab *t, struct st_conn *c);

/* FD of FILE now names C.  An fd number reused behind our back drops its
 * old connection's reference: returns that connection if it was its last
 * (end_file and end_fd set), else NULL. */
struct st_conn *st_conntab_fd_add(struct st_conntab *t, int file, int fd,
				  struct st_conn *c);
/* The connection FD of FILE names, or NULL. */
struct st_conn *st_conntab_fd_get(const struct st_conntab *t, int file, int fd);
/*
 * Drops FD of FILE.  Returns its connection when that was the last fd
 * holding it (the socket is closed: the caller says how), else NULL.
 * The connection's end_file and end_fd name the last holder.
 */
struct st_conn *st_conntab_fd_drop(struct st_conntab *t, int file, int fd);

/* Connection ID was closed unseen (its fd number came back). */
void st_conntab_unseen_note(struct st_conntab *t, uint64_t id);
/* Was ID closed unseen lately?  Then a record about it (a close that
 * lost the race with the call that got its fd number back) is late. */
bool st_conntab_unseen_lately(const struct st_conntab *t, uint64_t id);
/* The lowest fd of FILE that names a connection MATCH takes (with ARG),
 * or -1. */
int st_conntab_fd_find(const struct st_conntab *t, int file,
		       bool (*match)(const struct st_conn *, const void *),
		       const void *arg);
/* The fds of file FROM name the same connections in file TO too (fork). */
void st_conntab_fd_copy(struct st_conntab *t, int from, int to);
/* Attach starts here (st_model_mark_attach): open connections start
 * their timelines afresh at NOW; finished ones are hidden. */
void st_conntab_mark_attach(struct st_conntab *t, uint64_t now);

/* Adds record R of FILE to C's timeline; like data calls in a row make
 * one line.  Returns the line, or NULL beyond the cap (counted). */
struct st_ev *st_conntab_add_ev(struct st_conntab *t, struct st_conn *c,
				const struct st_rec *r, int file);

/* Object reuse, shared with the other stages: a zeroed object of SIZE
 * from LIST (or new), back to LIST, and LIST freed. */
void *st__spare_get(void **list, size_t size);
void st__spare_put(void **list, void *x);
void st__spare_free(void **list);
/* realloc to twice *CAP elements of SIZE (8 at first); exits when out
 * of memory, as the viewer does everywhere. */
void st__grow(void **p, uint32_t *cap, size_t size);
void *st__xcalloc(size_t n, size_t size);

#endif
