/* SPDX-License-Identifier: MIT */
/* The fd table (fdtab.c): one word per fd, read inline on every call. */
#ifndef ST_PRELOAD_FDTAB_H
#define ST_PRELOAD_FDTAB_H

#include "base.h"

/*
 * The fd table (fdtab.c): one 64-bit word per fd.  Bits 0-1 hold the state
 * (ST_FD_*), bits 2-3 the address family class, bits 4-5 the socket type
 * class, bits 8-63 the connection id.
 */
enum { ST_FD_UNKNOWN, ST_FD_NOTSOCK, ST_FD_SOCK };
enum { ST_FAM_OTHER, ST_FAM_INET, ST_FAM_INET6, ST_FAM_UNIX };
enum { ST_TYPE_OTHER, ST_TYPE_STREAM, ST_TYPE_DGRAM };
#define ST_FD_MAX (1 << 20)

/* Two levels of 1024 words each (fdtab.c); inline: every call asks. */
#define ST_FD_CHUNK_BITS 10
extern uint64_t *st__fdtop[ST_FD_MAX >> ST_FD_CHUNK_BITS];
/* FD's word: ST_FD_UNKNOWN until something set it. */
static inline uint64_t st__fd_get(int fd)
{
	if (unlikely((unsigned)fd >= ST_FD_MAX))
		return (uint64_t)ST_FD_NOTSOCK; /* beyond the table: untraced */
	uint64_t *c = __atomic_load_n(&st__fdtop[fd >> ST_FD_CHUNK_BITS],
				      __ATOMIC_ACQUIRE);
	if (!c)
		return ST_FD_UNKNOWN;
	return __atomic_load_n(&c[fd & ((1 << ST_FD_CHUNK_BITS) - 1)],
			       __ATOMIC_RELAXED);
}
/* Sets FD's word (nothing for an fd beyond the table, or in a vfork
 * child); maps the fd's chunk of the table on first use. */
void st__fd_set(int fd, uint64_t word);
/* Forgets every fd: after a detach they may all have changed. */
void st__fd_reset(void);
/* Highest fd + 1 the table may hold an entry for. */
int st__fd_limit(void);

static inline int st__fd_state(uint64_t w)
{
	return w & 3;
}
static inline uint64_t st__fd_conn(uint64_t w)
{
	return w >> 8;
}
static inline bool st__fd_is_tcp(uint64_t w)
{
	unsigned fam = (w >> 2) & 3;
	return ((w >> 4) & 3) == ST_TYPE_STREAM &&
	       (fam == ST_FAM_INET || fam == ST_FAM_INET6);
}
static inline bool st__fd_is_unix_stream(uint64_t w)
{
	return ((w >> 4) & 3) == ST_TYPE_STREAM &&
	       ((w >> 2) & 3) == ST_FAM_UNIX;
}
/* What a record says of the socket with word W (st_rec.sock): the
 * classes above are numbered as format.h's ST_SOCK_* values. */
static inline uint16_t st__fd_sock(uint64_t w)
{
	if (st__fd_state(w) != ST_FD_SOCK)
		return 0;
	return (uint16_t)(ST_SOCK_KNOWN | ((w >> 2) & 3) | ((w >> 4) & 3) << 4);
}
_Static_assert(ST_FAM_INET == ST_SOCK_INET && ST_FAM_INET6 == ST_SOCK_INET6 &&
		       ST_FAM_UNIX == ST_SOCK_UNIX &&
		       ST_TYPE_STREAM == ST_SOCK_STREAM &&
		       ST_TYPE_DGRAM == ST_SOCK_DGRAM,
	       "fd table classes are the record's");

/* The word of a socket of DOMAIN and TYPE on connection CONN. */
uint64_t st__fd_word(uint64_t conn, int domain, int type);

/* A new connection id for this process. */
uint64_t st__conn_new(void);

/* Marks FD as a new socket (domain, type); returns its connection id. */
uint64_t st__fd_new_socket(int fd, int domain, int type);

/* Classifies FD, an fd the table knows nothing about, by fstat(); a
 * socket gets a new connection id, and *DOMAIN and *TYPE are set (else
 * *DOMAIN is -1).  Returns the fd's new word; errno may change. */
uint64_t st__fd_classify(int fd, int *domain, int *type);

#endif
