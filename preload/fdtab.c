/* SPDX-License-Identifier: MIT */
/* The fd table: what each fd number is (socket or not) and its connection. */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "fdtab.h"
#include "real.h"
#include "state.h"

/*
 * Two levels so that a process with a few fds touches a few pages, and
 * one with a million still gets an entry each.  Chunks are mmap()ed, not
 * malloc()ed: the table is used inside signal handlers and before libc's
 * allocator may be usable.
 */
#define CHUNK_BITS ST_FD_CHUNK_BITS
#define CHUNK_LEN  (1 << CHUNK_BITS)
#define TOP_LEN	   (ST_FD_MAX >> CHUNK_BITS)

uint64_t *st__fdtop[TOP_LEN];
/* Fds below this may have an entry: the end of the highest chunk mapped. */
static int limit;
static uint32_t conn_count; /* connection ids given out so far */

/*
 * Maps the chunk for FD into *SLOT and returns it.  Two threads may race
 * here: one chunk wins, the other is unmapped.  NULL if mmap fails (the
 * fd then stays unknown).
 */
static uint64_t *chunk_new(uint64_t **slot, int fd)
{
	int e = errno;
	void *m =
		mmap(NULL, CHUNK_LEN * sizeof(uint64_t), PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	errno = e;
	if (m == MAP_FAILED)
		return NULL;
	uint64_t *expect = NULL;
	if (!__atomic_compare_exchange_n(slot, &expect, m, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		munmap(m, CHUNK_LEN * sizeof(uint64_t));
		return expect;
	}
	int end = ((fd >> CHUNK_BITS) + 1) * CHUNK_LEN;
	int cur = __atomic_load_n(&limit, __ATOMIC_RELAXED);
	while (cur < end &&
	       !__atomic_compare_exchange_n(&limit, &cur, end, true,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	return m;
}

void st__fd_set(int fd, uint64_t word)
{
	if ((unsigned)fd >= ST_FD_MAX || st__vforked)
		return;
	uint64_t **slot = &st__fdtop[fd >> CHUNK_BITS];
	uint64_t *c = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (!c) {
		if (word == ST_FD_UNKNOWN)
			return; /* an absent chunk already says unknown */
		c = chunk_new(slot, fd);
		if (!c)
			return;
	}
	__atomic_store_n(&c[fd & (CHUNK_LEN - 1)], word, __ATOMIC_RELAXED);
}

int st__fd_limit(void)
{
	return __atomic_load_n(&limit, __ATOMIC_RELAXED);
}

uint64_t st__conn_new(void)
{
	uint32_t n = __atomic_add_fetch(&conn_count, 1, __ATOMIC_RELAXED);
	return st_conn_id(st__pid, n);
}

uint64_t st__fd_word(uint64_t conn, int domain, int type)
{
	uint64_t fam = domain == AF_INET    ? ST_FAM_INET
		       : domain == AF_INET6 ? ST_FAM_INET6
		       : domain == AF_UNIX  ? ST_FAM_UNIX
					    : ST_FAM_OTHER;
	type &= ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	uint64_t ty = type == SOCK_STREAM  ? ST_TYPE_STREAM
		      : type == SOCK_DGRAM ? ST_TYPE_DGRAM
					   : ST_TYPE_OTHER;
	return conn << 8 | ty << 4 | fam << 2 | ST_FD_SOCK;
}

uint64_t st__fd_new_socket(int fd, int domain, int type)
{
	uint64_t conn = st__conn_new();
	st__fd_set(fd, st__fd_word(conn, domain, type));
	return conn;
}

/* Every entry back to unknown; the chunks stay mapped. */
void st__fd_reset(void)
{
	for (int i = 0; i < TOP_LEN; i++) {
		uint64_t *c = __atomic_load_n(&st__fdtop[i], __ATOMIC_ACQUIRE);
		for (int k = 0; c && k < CHUNK_LEN; k++)
			__atomic_store_n(&c[k], ST_FD_UNKNOWN,
					 __ATOMIC_RELAXED);
	}
}

/*
 * An fd we did not see being made: inherited across exec, made before we
 * were loaded, or by code we cannot interpose.  One fstat() tells; a
 * socket gets a connection id, and its domain and type are given back
 * for the caller's record (record.c).
 */
uint64_t st__fd_classify(int fd, int *domain, int *type)
{
	struct stat st;
	socklen_t l = sizeof(int);

	*domain = -1; /* not a socket */
	*type = 0;
	if ((unsigned)fd >= ST_FD_MAX ||
	    st__sys(SYS_fstat, fd, (long)&st, 0, 0, 0, 0) < 0)
		return ST_FD_UNKNOWN; /* not open: nothing to remember */
	if (!S_ISSOCK(st.st_mode)) {
		st__fd_set(fd, ST_FD_NOTSOCK);
		return ST_FD_NOTSOCK;
	}
	*domain = 0;
	REAL(getsockopt)(fd, SOL_SOCKET, SO_DOMAIN, domain, &l);
	l = sizeof(int);
	REAL(getsockopt)(fd, SOL_SOCKET, SO_TYPE, type, &l);
	st__fd_new_socket(fd, *domain, *type);
	return st__fd_get(fd);
}
