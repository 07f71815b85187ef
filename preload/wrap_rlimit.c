/* SPDX-License-Identifier: MIT */
/* Wrappers for the calls that set resource limits (not recorded). */
#define _GNU_SOURCE
#include <sys/resource.h>

#include "wrap.h"

#ifndef __GLIBC__ /* musl declares these as macros for the plain names */
int setrlimit64(int r, const struct rlimit64 *l);
int prlimit64(pid_t p, int r, const struct rlimit64 *l, struct rlimit64 *o);
#endif

_Static_assert(sizeof(struct rlimit) == sizeof(struct rlimit64),
	       "rlimit64 is rlimit on this ABI");

/*
 * The trace's address space, reserved up to SOCKTRACE_MAX_SIZE when its
 * file was made, counts against RLIMIT_AS: a program that sets a limit
 * sized for its own needs would find its later mmap failing only when
 * traced.  So once the program sets a finite RLIMIT_AS on itself, the
 * trace keeps only what it has mapped.  Nothing is recorded.
 */
static void after(pid_t pid, int res, const struct rlimit *l, int ret)
{
	if (ret || !l || res != RLIMIT_AS || l->rlim_cur == RLIM_INFINITY ||
	    (pid && pid != (pid_t)st__sys(SYS_getpid, 0, 0, 0, 0, 0, 0)))
		return;
	int e = errno;
	st__writer_limit_as();
	errno = e;
}

/* setrlimit(2), setrlimit64: the real call, then the trace's share. */
ST_EXPORT(setrlimit)
int setrlimit(ST_RLIMIT_RESOURCE r, const struct rlimit *l)
{
	int ret = REAL(setrlimit)((int)r, l);

	after(0, (int)r, l, ret);
	return ret;
}

ST_EXPORT(setrlimit64)
int setrlimit64(ST_RLIMIT_RESOURCE r, const struct rlimit64 *l)
{
	return setrlimit(r, (const struct rlimit *)l);
}

/* prlimit(2), prlimit64: as setrlimit when it sets this process's. */
ST_EXPORT(prlimit)
int prlimit(pid_t p, ST_RLIMIT_RESOURCE r, const struct rlimit *l,
	    struct rlimit *o)
{
	int ret = REAL(prlimit)(p, (int)r, l, o);

	after(p, (int)r, l, ret);
	return ret;
}

ST_EXPORT(prlimit64)
int prlimit64(pid_t p, ST_RLIMIT_RESOURCE r, const struct rlimit64 *l,
	      struct rlimit64 *o)
{
	return prlimit(p, r, (const struct rlimit *)l, (struct rlimit *)o);
}
