/* SPDX-License-Identifier: MIT */
/* The program's own resource limits, as they bound the trace file. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "limits.h"

/*
 * The library's file and mapping count against the program's limits: a
 * trace file past RLIMIT_FSIZE raises SIGXFSZ (held by our signal mask,
 * then delivered: the program dies), and reserved address space counts
 * against RLIMIT_AS.  The program must see what it sees untraced, so the
 * trace keeps within what the limits leave, or is not made.
 */

/* The soft limit RES, or RLIM_INFINITY when it cannot be read. */
static uint64_t soft_limit(int res)
{
	struct rlimit rl;

	if (st__sys(SYS_prlimit64, 0, res, 0, (long)&rl, 0, 0) < 0)
		return RLIM_INFINITY;
	return rl.rlim_cur;
}

uint64_t st__fsize_max(void)
{
	uint64_t l = soft_limit(RLIMIT_FSIZE);

	return l == RLIM_INFINITY ? UINT64_MAX : l;
}

/* Bytes of address space mapped now (/proc/self/statm's first field);
 * UINT64_MAX when it cannot be read. */
static uint64_t mapped_now(void)
{
	char buf[64];
	long fd = st__sys(SYS_openat, AT_FDCWD, (long)"/proc/self/statm",
			  O_RDONLY | O_CLOEXEC, 0, 0, 0);
	long n = fd < 0 ? -1
			: st__sys(SYS_read, fd, (long)buf, sizeof(buf) - 1, 0,
				  0, 0);

	if (fd >= 0)
		st__sys(SYS_close, fd, 0, 0, 0, 0, 0);
	if (n <= 0)
		return UINT64_MAX;
	buf[n] = 0;
	return strtoull(buf, NULL, 10) * (uint64_t)getpagesize();
}

uint64_t st__as_budget(uint64_t mine)
{
	uint64_t l = soft_limit(RLIMIT_AS);

	if (l == RLIM_INFINITY)
		return UINT64_MAX;
	uint64_t now = mapped_now();
	now = now != UINT64_MAX && now > mine ? now - mine : now;
	if (now >= l)
		return 0;
	uint64_t b = (l - now) / ST_AS_SHARE;
	return b < ST_AS_MAX ? b : ST_AS_MAX;
}

void st__xfsz_forget(uint64_t old)
{
	uint64_t set = 1ull << (SIGXFSZ - 1);
	struct timespec now = { 0, 0 };

	if (old & set)
		return;
	/* blocked meanwhile, so it waits in this thread's pending set */
	st__sys(SYS_rt_sigtimedwait, (long)&set, 0, (long)&now, sizeof(set), 0,
		0);
}
