/* SPDX-License-Identifier: MIT */
/* Wrappers for the calls that change the effective user id. */
#define _GNU_SOURCE
#include <unistd.h>

#include "wrap.h"

/*
 * A server started as root often drops to another user in its workers
 * (nginx: setuid to www-data after fork).  That user cannot create or
 * reopen files in root's 0700 trace directory, so the trace file is made,
 * and all of it allocated, just before the switch.  Nothing is recorded:
 * these are not socket calls.
 */
static void before(uid_t euid)
{
	if (euid == (uid_t)-1 || euid == geteuid() || !st__on())
		return;
	int e = errno;
	st__writer_before_uid_change();
	errno = e;
}

/* setuid(2), seteuid(3), setreuid(2), setresuid(2): the trace file is
 * made before the effective uid changes; nothing is recorded. */
ST_EXPORT(setuid) int setuid(uid_t u)
{
	before(u);
	return REAL(setuid)(u);
}

ST_EXPORT(seteuid) int seteuid(uid_t u)
{
	before(u);
	return REAL(seteuid)(u);
}

ST_EXPORT(setreuid) int setreuid(uid_t r, uid_t e)
{
	before(e);
	return REAL(setreuid)(r, e);
}

ST_EXPORT(setresuid) int setresuid(uid_t r, uid_t e, uid_t s)
{
	before(e);
	return REAL(setresuid)(r, e, s);
}
